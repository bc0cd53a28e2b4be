"""Schemathesis against the served GraphQL schema: no 5xx, no unmasked error, no stack trace.

Every query and mutation field is fuzzed with documents Schemathesis generates from the
schema the app serves (introspected over HTTP), as a seeded workspace's admin agent,
without a token, and (``createWorkspace``) with the platform admin key. Generated ids
and strings are drawn partly from what the seeded workspace holds (its ids, phones,
emails, custom-field keys and options), so mutations reach past "not found" into real
code, and partly at random.

The app runs in-process on the suite's event loop (httpx ``ASGITransport``), so the
same database engine serves it as every other test; Hypothesis runs in a worker thread
and hands each request to that loop. Before every example the database is put back to
the seeded state, so examples do not depend on one another and a failure shrinks and
replays. Examples per operation: ``CONTACTGRAPH_FUZZ_EXAMPLES`` (default 6, a run of
about 20 s); a longer run by hand::

    CONTACTGRAPH_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/test_fuzz_schema.py
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import graphql
import httpx
import hypothesis
import pytest
import schemathesis
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, Phase, given, note, seed
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.documents import DOCUMENTS
from contactgraph.ids import decode_any
from contactgraph.models import ErrorCode
from contactgraph.schema import build_schema
from contactgraph.settings import Settings

from .api import Api, Workspace, make_contact, make_custom_field, make_library, phone
from .checks import phantom
from .conftest import ADMIN_KEY

EXAMPLES = int(os.environ.get("CONTACTGRAPH_FUZZ_EXAMPLES", "6"))
SEED = int(os.environ.get("CONTACTGRAPH_FUZZ_SEED", "20260131"))

# What an error may carry as extensions.code: the domain's codes and the API's own.
CODES = {code.value for code in ErrorCode} | {"UNAUTHENTICATED", "FORBIDDEN", "LIMIT_EXCEEDED"}
STACK_TRACE_MARKS = ("Traceback", 'File "')

_SERVED = build_schema(Settings(admin_key=None)).introspect()["__schema"]
OPERATIONS = [
    f"{root['name']}.{field['name']}"
    for root in _SERVED["types"]
    if root["name"] in (_SERVED["queryType"]["name"], (_SERVED["mutationType"] or {}).get("name"))
    for field in root["fields"]
]

SET_SETTINGS = """
mutation($input: WorkspaceSettingsInput!) { updateWorkspaceSettings(input: $input) { userErrors { code } } }"""
CREATE_WEBHOOK = """
mutation($input: WebhookInput!) { createWebhook(input: $input) { webhook { id } userErrors { code } } }"""
RECORD = """
mutation($input: InteractionInput!) { recordInteraction(input: $input) { interaction { id } userErrors { code } } }"""
IDS = """{
  agents { id } statuses { id } sources { id } groups { id } customFields(includeDeleted: true) { id }
  webhooks { id } contacts(first: 500) { edges { node { id timeline { edges { node { id } } } } } }
}"""

FIELD_TYPES = {
    "note": ("TEXT", {}),
    "story": ("TEXTAREA", {}),
    "seats": ("NUMBER", {}),
    "birthday": ("DATE", {}),
    "call_at": ("DATETIME", {}),
    "size": ("DROPDOWN", {"options": ["S", "M", "XL"]}),
    "vip": ("CHECKBOX", {}),
    "homepage": ("URL", {}),
}


@dataclass
class Seeded:
    """The fuzzed workspace, the values generation draws from, and the state to restore."""

    workspace: Workspace
    pools: dict[str, list[str]]
    state: dict[str, list[dict[str, Any]]]


async def _seed(api: Api) -> tuple[Workspace, list[str]]:
    """A workspace with a library, a field of every type, contacts, an interaction and a webhook."""
    workspace = await api.create_workspace()
    library = await make_library(api, workspace)
    for key, (kind, extra) in FIELD_TYPES.items():
        await make_custom_field(api, workspace, key, kind, **extra)
    inbound = {"inboundStatusId": library.statuses[0], "inboundSourceId": library.sources[0]}
    await api.data(SET_SETTINGS, {"input": inbound}, workspace.token)
    viewer, _ = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"], email="viewer@example.com")
    contacts = [
        await make_contact(
            api,
            workspace,
            library,
            phone=phone(1),
            email="ada@example.com",
            groupIds=library.groups,
            customFields=[{"key": "seats", "value": 3}, {"key": "size", "value": "M"}],
        ),
        await make_contact(
            api,
            workspace,
            library,
            firstname="Augusta",
            phone=phone(2),
            statusId=library.statuses[1],
            assignedAgentId=viewer,
            customFields=[{"key": "vip", "value": True}, {"key": "birthday", "value": "1815-12-10"}],
        ),
        await make_contact(api, workspace, library, firstname="Charles", lastname="Babbage", phone=phone(3)),
    ]
    interaction = {
        "contactId": contacts[0]["id"],
        "channel": "whatsapp",
        "direction": "inbound",
        "open": True,
    }
    await api.data(RECORD, {"input": interaction}, workspace.token)
    webhook = {"url": "http://127.0.0.1:9/hook", "events": ["CONTACT_CREATED"]}
    await api.data(CREATE_WEBHOOK, {"input": webhook}, workspace.token)
    other = await api.create_workspace("Other")
    foreign = await make_contact(api, other, await make_library(api, other), phone=phone(4))

    found = await api.data(IDS, token=workspace.token)
    ids = [item["id"] for key, items in found.items() if key != "contacts" for item in items]
    for edge in found["contacts"]["edges"]:
        ids.append(edge["node"]["id"])
        ids.extend(e["node"]["id"] for e in edge["node"]["timeline"]["edges"])
    ids += [foreign["id"], other.id, workspace.id, phantom(contacts[0]["id"])]
    return workspace, ids


# Strings that mean something to the API, valid and not, by what an argument's name says it holds.
STRINGS = {
    "phone": [
        *(phone(n) for n in (1, 2, 4, 5)),
        *("14152000001", "0014152000001", "(+1) 415 200 0001", "+1 415-200.0001", "+49 30 901820"),
        *("+447911123456", "+1", "0", "(415) 200 0009", "+1" * 30),
    ],
    "email": ["ada@example.com", "NEW@example.com", "new@example.com", "not-an-email", "a@b", ""],
    "key": [*FIELD_TYPES, "new_key", "Bad Key", "a.b", "$gt", "x" * 100],
    "field": [
        *(f"customFields.{key}" for key in FIELD_TYPES),
        *("customFields.nope", "phone", "firstname", "email", "statusId", "assignedAgentId", "type"),
    ],
    "value": [
        *("12", "3.5", "-0", "1e999", "NaN", "yes", "FALSE", "xl", "S", "2024-02-29", "2023-02-29"),
        *("2024-01-01T10:00:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00", "https://a.io"),
    ],
    "url": ["https://example.com/a", "http://127.0.0.1:9/hook", "javascript:alert(1)", "https://", "//x"],
    "color": ["#1e90ff", "#FFF", "red", "#12345g", ""],
    "channel": ["whatsapp", "sms", "WhatsApp", "", "x" * 100],
    "direction": ["inbound", "outbound", "sideways"],
    "name": ["Ada", "VIP", "New", "WhatsApp", "", " ", "x" * 300, "\u0000", "\U0001d518", "\ufeff"],
    "odd": ["$where", '{"$gt": ""}', "a.b", "\t", "x" * 1100],
}


def _pools(ids: list[str], token: str) -> dict[str, list[str]]:
    """What generation draws from: ids by kind, strings by what they name, and both at large."""
    pools = {**STRINGS, "token": [token, "cg_" + "x" * 43, ""]}
    for global_id in ids:
        if (decoded := decode_any(global_id)) is not None:
            pools.setdefault(decoded[0], []).append(global_id)
    pools["ID"] = [*ids, "", "not-an-id", "Q29udGFjdDo", "Q29udGFjdDp4eHg"]
    pools["String"] = [
        value for name in ("phone", "email", "key", "value", "url", "name", "odd") for value in STRINGS[name]
    ]
    return pools


def _register_scalars(pools: dict[str, list[str]]) -> None:
    """Ids and strings come from the pools as often as at random; the other scalars from short lists."""
    text = st.text(max_size=30)
    schemathesis.graphql.scalar("ID", st.one_of(st.sampled_from(pools["ID"]), text).map(nodes.String))
    schemathesis.graphql.scalar("String", st.one_of(st.sampled_from(pools["String"]), text).map(nodes.String))
    moments = [
        "2024-01-01T10:00:00Z",
        "2030-06-30T23:59:59.999999+14:00",
        "2024-01-01",
        "9999-12-31T23:59:59-12:00",
    ]
    schemathesis.graphql.scalar("DateTime", st.sampled_from(moments).map(nodes.String))
    dates = ["2024-02-29", "2023-02-29", "02/03/2024"]
    schemathesis.graphql.scalar("Date", st.sampled_from(dates).map(nodes.String))
    schemathesis.graphql.scalar("Upload", st.sampled_from(["file", ""]).map(nodes.String))
    schemathesis.graphql.scalar("JSON", _json_values())


def _json_values() -> st.SearchStrategy[graphql.ValueNode]:
    leaves = st.one_of(
        st.just(nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers().map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.sampled_from(["12", "yes", "xl", "2024-02-29", "2024-01-01T10:00:00", "https://example.com"]).map(
            nodes.String
        ),
        st.text(max_size=20).map(nodes.String),
    )

    def containers(inner: st.SearchStrategy[graphql.ValueNode]) -> st.SearchStrategy[graphql.ValueNode]:
        field = st.builds(
            lambda name, value: graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value),
            st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
            inner,
        )
        return st.one_of(
            st.lists(inner, max_size=3).map(nodes.List), st.lists(field, max_size=3).map(nodes.Object)
        )

    return st.recursive(leaves, containers, max_leaves=5)


async def _state() -> dict[str, list[dict[str, Any]]]:
    return {
        model.get_collection_name(): [doc async for doc in model.get_pymongo_collection().find({})]
        for model in DOCUMENTS
    }


async def _restore(state: dict[str, list[dict[str, Any]]]) -> None:
    for model in DOCUMENTS:
        collection = model.get_pymongo_collection()
        await collection.delete_many({})
        if docs := state[model.get_collection_name()]:
            await collection.insert_many([dict(doc) for doc in docs])


@pytest.fixture(scope="module")
async def fuzz_client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The app, as the suite's, but with webhook URLs to any host: fuzzing must not query DNS."""
    app = create_app(settings.model_copy(update={"webhook_allow_private": True}), engine=engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)  # a 500 is an answer
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="module")
async def schema(fuzz_client: httpx.AsyncClient) -> Any:
    """The schema as the app serves it, by introspection."""
    response = await fuzz_client.post("/graphql", json={"query": graphql.get_introspection_query()})
    return schemathesis.graphql.from_dict(response.json()["data"])


@pytest.fixture(scope="module")
async def seeded(fuzz_client: httpx.AsyncClient, engine: Engine) -> Seeded:
    for model in DOCUMENTS:
        await model.get_pymongo_collection().delete_many({})
    workspace, ids = await _seed(Api(fuzz_client, ADMIN_KEY))
    pools = _pools(ids, workspace.token)
    _register_scalars(pools)
    return Seeded(workspace, pools, await _state())


def assert_sound(response: httpx.Response) -> None:
    """No 5xx, no stack trace, and every error either ours (coded) or a refused document."""
    assert response.status_code < 500, response.text
    assert not any(mark in response.text for mark in STACK_TRACE_MARKS), response.text
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    body = response.json()
    assert isinstance(body, dict), body
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None:  # graphql-core refused the document (parse, validation): nothing ran
            assert "path" not in error and body.get("data") is None, error
        else:
            assert code in CODES, error


# An argument or input field takes, most of the time, a value of the pool its name (or,
# for a bare ``id``, its field's name) points to: statusId a status's id, updateGroup(id:)
# a group's, phone a phone number, key a custom field's key.
ID_KINDS = {
    "customfield": "CustomField",
    "interaction": "Interaction",
    "webhook": "Webhook",
    "status": "ContactStatus",
    "source": "ContactSource",
    "group": "Group",
    "agent": "Agent",
    "contact": "Contact",
    "primary": "Contact",
    "secondary": "Contact",
}
STRING_POOLS = {
    "phone": "phone",
    "email": "email",
    "url": "url",
    "website": "url",
    "color": "color",
    "channel": "channel",
    "direction": "direction",
    "key": "key",
    "field": "field",
    "value": "value",
    "token": "token",
    "name": "name",
    "label": "name",
}


MOSTLY = (True, True, True, False)


def pool_for(argument: str, field: str) -> str | None:
    name = argument.lower()
    if name in ("id", "ids", "movecontactsto"):
        name = field.lower()
    elif not name.endswith(("id", "ids")):
        return next((pool for part, pool in STRING_POOLS.items() if part in name), None)
    return next((kind for part, kind in ID_KINDS.items() if part in name), None)


class _Targeted(graphql.Visitor):
    def __init__(self, pools: dict[str, list[str]], data: st.DataObject) -> None:
        super().__init__()
        self.pools = pools
        self.data = data
        self.fields: list[str] = []

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, node: graphql.FieldNode, *_: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
        return self._targeted(node)

    def enter_object_field(self, node: graphql.ObjectFieldNode, *_: Any) -> graphql.ObjectFieldNode | None:
        return self._targeted(node)

    def _targeted(self, node: Any) -> Any:
        pool = self.pools.get(pool_for(node.name.value, self.fields[-1]) or "")
        if not pool:
            return None
        return type(node)(name=node.name, value=self._value(node.value, pool))

    def _value(self, value: graphql.ValueNode, pool: list[str]) -> graphql.ValueNode:
        if isinstance(value, graphql.ListValueNode):
            return graphql.ListValueNode(values=tuple(self._value(item, pool) for item in value.values))
        if isinstance(value, graphql.StringValueNode) and self.data.draw(st.sampled_from(MOSTLY)):
            return graphql.StringValueNode(value=self.data.draw(st.sampled_from(pool)))
        return value


def targeted(document: str, pools: dict[str, list[str]], data: st.DataObject) -> str:
    """``document`` with some of its arguments' values drawn from the pools their names point to."""
    return graphql.print_ast(graphql.visit(graphql.parse(document), _Targeted(pools, data)))


def run_fuzz(
    operation: Any,
    examples: int,
    pools: dict[str, list[str]],
    send: Callable[[dict[str, Any]], httpx.Response],
) -> None:
    """Hypothesis over ``operation``'s cases, in this (worker) thread."""

    @seed(SEED)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(), data=st.data())
    def fuzz(case: Any, data: st.DataObject) -> None:
        body = case.as_transport_kwargs(base_url="http://testserver")["json"]
        body["query"] = targeted(body["query"], pools, data)
        note(body["query"])
        assert_sound(send(body))

    fuzz()


CALLERS = {"agent": EXAMPLES, "anonymous": max(2, EXAMPLES // 3)}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("label", OPERATIONS)
async def test_every_operation_answers_soundly(
    fuzz_client: httpx.AsyncClient, schema: Any, seeded: Seeded, label: str, caller: str
) -> None:
    # given
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not served"
    token = {"agent": seeded.workspace.token, "anonymous": None}[caller]
    if label == "Mutation.createWorkspace" and caller == "agent":
        token = ADMIN_KEY  # the one operation the admin key is for
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    loop = asyncio.get_running_loop()

    async def post(body: dict[str, Any]) -> httpx.Response:
        await _restore(seeded.state)
        return await fuzz_client.post("/graphql", json=body, headers=headers)

    def send(body: dict[str, Any]) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(post(body), loop).result()

    # when / then
    await asyncio.to_thread(run_fuzz, operation, CALLERS[caller], seeded.pools, send)


async def test_every_served_operation_is_fuzzed(schema: Any) -> None:
    served = {result.ok().label for result in schema.get_all_operations()}
    assert served == set(OPERATIONS)


# ---------------------------------------------------------------- what the fuzzing found, kept as regressions

CONTACTS_AFTER = "query($after: DateTime) { contacts(filter: {createdAfter: $after}) { totalCount } }"
IMPORT = """
mutation($file: Upload!) { importContacts(file: $file) { job { id } userErrors { field code message } } }"""


@pytest.fixture
async def raw_api(fuzz_client: httpx.AsyncClient) -> Api:
    """An Api whose requests reach the app even when it fails (a 500 comes back as a response)."""
    return Api(fuzz_client, ADMIN_KEY)


@pytest.mark.parametrize("moment", ["2026-01-31", "2026-01-31T09:00:00", "9999-12-31T23:00:00-05:00", "soon"])
async def test_a_datetime_that_cannot_be_read_is_refused_like_any_ill_typed_value(
    raw_api: Api, moment: str
) -> None:
    # given
    workspace = await raw_api.create_workspace()
    literal = "{ contacts(filter: {createdAfter: MOMENT}) { totalCount } }".replace(
        "MOMENT", json.dumps(moment)
    )
    # when
    answers = [
        await raw_api.gql(literal, token=workspace.token),
        await raw_api.gql(CONTACTS_AFTER, {"after": moment}, workspace.token),
    ]
    # then
    for body in answers:
        [error] = body["errors"]
        assert "DateTime takes ISO-8601 with an offset" in error["message"], error
        assert "path" not in error and "extensions" not in error and body.get("data") is None


async def test_an_upload_sent_as_json_is_invalid_and_starts_nothing(raw_api: Api) -> None:
    # given
    workspace = await raw_api.create_workspace()
    state = await _state()
    # when
    answers = [
        await raw_api.data(IMPORT, {"file": "contacts.csv"}, workspace.token),
        await raw_api.data(
            'mutation { importContacts(file: "x") { userErrors { field code } } }', token=workspace.token
        ),
    ]
    # then
    for data in answers:
        [error] = data["importContacts"]["userErrors"]
        assert (error["field"], error["code"]) == (["file"], "INVALID")
    assert await _state() == state

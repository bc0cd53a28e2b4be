"""Hostile input gets a clear user error, never an internal one (issue 9, item 8).

JSON nested hundreds of levels deep (a custom-field value, a filter, the filter of a
download), webhook URLs that the IDNA codec, the resolver or httpx refuse, a subscription
sent over HTTP, and what else an attacker might send: each is refused with a code,
nothing is written, and nothing is logged as an unexpected error.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from asgi_lifespan import LifespanManager

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.events import EventType
from contactgraph.events.delivery import DeliveryWorker
from contactgraph.events.webhooks import Webhook, WebhookDelivery
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, make_custom_field, make_library
from .checks import assert_rejected, oid, snapshot, top_level_code
from .conftest import ADMIN_KEY

DEEP = 700  # past what code that recurses over a value survives (Python's limit is 1,000 frames)
JSON_MAX_DEPTH = 8

CREATE_CONTACT = """
mutation($input: ContactInput!) {
  createContact(input: $input) { contact { id } userErrors { field code message } }
}"""
UPDATE_CONTACT = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""
SET_CUSTOM_FIELDS = """
mutation($id: ID, $values: [CustomFieldValueInput!]!) {
  setContactCustomFields(contactId: $id, values: $values) { contact { id } userErrors { field code message } }
}"""
UPSERT_BY_PHONE = """
mutation($input: UpsertContactByPhoneInput!) {
  upsertContactByPhone(input: $input) { contact { id } userErrors { field code message } }
}"""
CONTACTS = "query($filter: ContactFilter) { contacts(filter: $filter) { totalCount } }"
CREATE_WEBHOOK = """
mutation($input: WebhookInput!) {
  createWebhook(input: $input) { webhook { id url } userErrors { field code message } }
}"""
STATUS_CHANGED = "subscription { contactStatusChanged { contact { id } } }"


def nested_list(depth: int) -> Any:
    """``[[[...]]]``, ``depth`` lists deep, built without recursion."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_object(depth: int) -> Any:
    """``{"a": {"a": ...}}``, ``depth`` objects deep."""
    value: Any = {"a": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


DEEP_VALUES = [
    pytest.param(nested_list(DEEP), id="lists"),
    pytest.param(nested_object(DEEP), id="objects"),
]


@pytest.fixture(scope="module")
async def raw_client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The app, whose failures come back as responses (a 500) instead of being raised in the test."""
    app = create_app(settings, engine=engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def raw_api(raw_client: httpx.AsyncClient) -> Api:
    return Api(raw_client, ADMIN_KEY)


@pytest.fixture(scope="module")
async def private_api(settings: Settings, engine: Engine) -> AsyncIterator[Api]:
    """The app where webhook URLs may point at private addresses, so no URL is resolved."""
    app = create_app(settings.model_copy(update={"webhook_allow_private": True}), engine=engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, ADMIN_KEY)


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The warnings and errors logged while the test runs."""
    with caplog.at_level(logging.WARNING):
        yield caplog.records


def serious(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.ERROR]


async def setup(api: Api) -> tuple[Workspace, Library, dict[str, Any]]:
    """A workspace with a TEXT, a NUMBER and a URL custom field, and one contact."""
    workspace = await api.create_workspace()
    library = await make_library(api, workspace)
    for key, type in (("note", "TEXT"), ("score", "NUMBER"), ("site", "URL")):
        await make_custom_field(api, workspace, key, type)
    contact = await make_contact(api, workspace, library)
    return workspace, library, contact


def assert_too_deep(body: dict[str, Any], at: str) -> None:
    """One top-level INVALID naming the depth limit and where the value sits."""
    assert top_level_code(body) == "INVALID", body
    message = body["errors"][0]["message"]
    assert f"at most {JSON_MAX_DEPTH} levels deep" in message, message
    assert at in message, message
    assert body["data"] is None


# ---------------------------------------------------------------- JSON nested too deeply


@pytest.mark.parametrize("deep", DEEP_VALUES)
@pytest.mark.parametrize(
    ("mutation", "at"),
    [
        pytest.param("createContact", ".customFields[0].value", id="createContact"),
        pytest.param("updateContact", ".customFields[0].value", id="updateContact"),
        pytest.param("setContactCustomFields", "[0].value", id="setContactCustomFields"),
        pytest.param("upsertContactByPhone", ".customFields[0].value", id="upsertContactByPhone"),
    ],
)
async def test_a_custom_field_value_nested_too_deeply_is_invalid_and_writes_nothing(
    raw_api: Api, errors_logged: list[logging.LogRecord], deep: Any, mutation: str, at: str
) -> None:
    # given
    workspace, library, contact = await setup(raw_api)
    values = [{"key": "note", "value": deep}]
    document, variables = {
        "createContact": (
            CREATE_CONTACT,
            {
                "input": {
                    "firstname": "Grace",
                    "lastname": "Hopper",
                    "phone": "+14155550199",
                    "statusId": library.statuses[0],
                    "sourceId": library.sources[0],
                    "customFields": values,
                }
            },
        ),
        "updateContact": (UPDATE_CONTACT, {"id": contact["id"], "input": {"customFields": values}}),
        "setContactCustomFields": (SET_CUSTOM_FIELDS, {"id": contact["id"], "values": values}),
        "upsertContactByPhone": (
            UPSERT_BY_PHONE,
            {"input": {"phone": "+14155550199", "customFields": values}},
        ),
    }[mutation]
    before = await snapshot()
    # when
    body = await raw_api.gql(document, variables, workspace.token)
    # then
    assert_too_deep(body, at)
    assert await snapshot() == before
    assert serious(errors_logged) == []


async def test_json_may_nest_eight_levels_and_no_more(raw_api: Api) -> None:
    # given
    workspace, _, contact = await setup(raw_api)
    before = await snapshot()
    # when: eight levels reach the field's own check, nine do not get past the scalar
    eight = await raw_api.gql(
        SET_CUSTOM_FIELDS,
        {"id": contact["id"], "values": [{"key": "note", "value": nested_list(8)}]},
        workspace.token,
    )
    nine = await raw_api.gql(
        SET_CUSTOM_FIELDS,
        {"id": contact["id"], "values": [{"key": "note", "value": nested_object(9)}]},
        workspace.token,
    )
    # then
    assert_rejected(eight["data"], "INVALID", ["values", "0", "value"])
    assert_too_deep(nine, "[0].value")
    assert await snapshot() == before


@pytest.mark.parametrize(
    "literal",
    [pytest.param("[" * 9 + "]" * 9, id="lists"), pytest.param("{a: " * 9 + "1" + "}" * 9, id="objects")],
)
async def test_a_literal_nested_too_deeply_is_invalid_where_it_is_written(
    raw_api: Api, errors_logged: list[logging.LogRecord], literal: str
) -> None:
    # given
    workspace, _, contact = await setup(raw_api)
    document = (
        f'mutation {{ setContactCustomFields(contactId: "{contact["id"]}", '
        f'values: [{{key: "note", value: {literal}}}]) {{ userErrors {{ code }} }} }}'
    )
    before = await snapshot()
    # when
    body = await raw_api.gql(document, token=workspace.token)
    # then
    assert_too_deep(body, "JSON values")
    assert body["errors"][0]["locations"] == [{"line": 1, "column": document.index(literal) + 1}]
    assert await snapshot() == before
    assert serious(errors_logged) == []


@pytest.mark.parametrize("deep", DEEP_VALUES)
@pytest.mark.parametrize("operator", ["eq", "gte", "in"])
async def test_a_contact_filter_nested_too_deeply_is_invalid(
    raw_api: Api, errors_logged: list[logging.LogRecord], deep: Any, operator: str
) -> None:
    # given
    workspace, _, _ = await setup(raw_api)
    condition = {"key": "score", operator: [deep] if operator == "in" else deep}
    # when
    body = await raw_api.gql(CONTACTS, {"filter": {"customFields": [condition]}}, workspace.token)
    # then
    assert_too_deep(body, f".customFields[0].{operator}")
    assert serious(errors_logged) == []


def export_url(filter: str) -> str:
    return "/export/contacts.csv?filter=" + quote(filter)


@pytest.mark.parametrize("deep", DEEP_VALUES)
async def test_the_export_filter_nested_too_deeply_is_a_bad_request(
    raw_api: Api, errors_logged: list[logging.LogRecord], deep: Any
) -> None:
    # given
    workspace, _, _ = await setup(raw_api)
    filter = json.dumps({"customFields": [{"key": "note", "eq": deep}]})
    # when
    response = await raw_api.client.get(
        export_url(filter), headers={"Authorization": f"Bearer {workspace.token}"}
    )
    # then
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INVALID", "field": ["filter"]}
    assert "at .customFields[0].eq" in error["message"]
    assert f"at most {JSON_MAX_DEPTH} levels deep" in error["message"]
    assert serious(errors_logged) == []


@pytest.mark.parametrize(
    ("filter", "reason"),
    [
        pytest.param("[" * 5000 + "]" * 5000, "nested too deeply", id="past-the-json-decoder"),
        pytest.param('{"search": "\\ud800"}', "lone surrogate", id="lone-surrogate"),
        pytest.param('{"search": ' + "9" * 5000 + "}", "too many digits", id="huge-integer"),
    ],
)
async def test_an_export_filter_json_cannot_hold_is_a_bad_request(
    raw_api: Api, errors_logged: list[logging.LogRecord], filter: str, reason: str
) -> None:
    # given
    workspace, _, _ = await setup(raw_api)
    # when
    response = await raw_api.client.get(
        export_url(filter), headers={"Authorization": f"Bearer {workspace.token}"}
    )
    # then
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INVALID", "field": ["filter"]}
    assert reason in error["message"]
    assert serious(errors_logged) == []


async def test_an_export_filter_of_null_exports_every_contact(raw_api: Api) -> None:
    # given
    workspace, _, contact = await setup(raw_api)
    # when
    response = await raw_api.client.get(
        export_url("null"), headers={"Authorization": f"Bearer {workspace.token}"}
    )
    # then
    assert response.status_code == 200, response.text
    assert response.text.count("\n") == 2  # the header and the one contact
    assert contact["phone"] in response.text


async def test_a_body_with_an_integer_of_thousands_of_digits_is_malformed_json(raw_api: Api) -> None:
    # given
    workspace = await raw_api.create_workspace()
    body = b'{"query": "{ me { id } }", "variables": {"a": ' + b"9" * 5000 + b"}}"
    # when
    response = await raw_api.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {workspace.token}", "Content-Type": "application/json"},
    )
    # then
    assert (response.status_code, response.text) == (400, "Unable to parse request body as JSON")


# ---------------------------------------------------------------- webhook URLs

IDNA_REFUSED = [
    pytest.param("https://a..example.com/hook", id="empty-label"),
    pytest.param("https://" + "a" * 64 + ".com/hook", id="label-of-64"),
    pytest.param("https://.example.com/hook", id="leading-dot"),
    pytest.param("https://" + "ü" * 70 + ".com/hook", id="unicode-label-too-long"),
    pytest.param("https://" + ("a" * 60 + ".") * 4 + "example.com/hook", id="host-over-253"),
    pytest.param("https://xn--zz.com/hook", id="bad-punycode"),
    pytest.param("https://\u2603.net/hook", id="idna-2003-only"),
]


@pytest.mark.parametrize("url", IDNA_REFUSED)
async def test_a_webhook_host_the_idna_codec_refuses_is_invalid(
    raw_api: Api, errors_logged: list[logging.LogRecord], url: str
) -> None:
    # given: private addresses refused, so the host would be resolved
    workspace = await raw_api.create_workspace()
    before = await snapshot()
    # when
    data = await raw_api.data(
        CREATE_WEBHOOK, {"input": {"url": url, "events": ["CONTACT_CREATED"]}}, workspace.token
    )
    # then
    payload = assert_rejected(data, "INVALID", ["input", "url"])
    assert "not a valid host name" in payload["userErrors"][0]["message"]
    assert await snapshot() == before
    assert serious(errors_logged) == []


@pytest.mark.parametrize(
    "url",
    [
        *IDNA_REFUSED,
        pytest.param("https://user:secret@93.184.216.34/hook", id="userinfo"),
        pytest.param("https://127.0.0.1\\@93.184.216.34/hook", id="backslash"),
        pytest.param("https://93.184.216.34:0/hook", id="port-0"),
        pytest.param("http://[::1/hook", id="ipv6-unclosed"),
        pytest.param("http://[zz]/hook", id="ipv6-not-an-address"),
        pytest.param("http://[::1]x/hook", id="ipv6-then-junk"),
        pytest.param("https://exa\x00mple.com/hook", id="nul-in-host"),
        pytest.param("https://93.184.216.34/ho\x00ok", id="nul-in-path"),
        pytest.param("https://exa\u200bmple.com/hook", id="zero-width-space"),
        pytest.param("https://ex%00ample.com/hook", id="escape-in-host"),
    ],
)
async def test_a_hostile_webhook_url_is_invalid_even_where_private_addresses_are_allowed(
    private_api: Api, errors_logged: list[logging.LogRecord], url: str
) -> None:
    # given: no resolution, so the URL alone must be judged
    workspace = await private_api.create_workspace()
    before = await snapshot()
    # when
    data = await private_api.data(
        CREATE_WEBHOOK, {"input": {"url": url, "events": ["CONTACT_CREATED"]}}, workspace.token
    )
    # then
    assert_rejected(data, "INVALID", ["input", "url"])
    assert await snapshot() == before
    assert serious(errors_logged) == []


async def test_a_stored_webhook_whose_host_is_broken_is_refused_at_delivery(
    settings: Settings, api: Api, errors_logged: list[logging.LogRecord]
) -> None:
    # given: a webhook stored before its URL would have been refused
    workspace = await api.create_workspace()
    library = await make_library(api, workspace)
    await Webhook(
        workspace_id=oid(workspace.id),
        url="https://a..example.com/hook",
        events=[EventType.CREATED],
        secret=Webhook.new_secret(),
    ).insert()
    await make_contact(api, workspace, library)
    # when
    deliveries = DeliveryWorker(settings.model_copy(update={"webhook_backoff_seconds": 60}))
    try:
        claimed = await deliveries.run_once()
    finally:
        await deliveries.close()
    # then
    [delivery] = await WebhookDelivery.find_all().to_list()
    assert claimed == 1
    assert delivery.state == "pending"
    assert delivery.last_error is not None and delivery.last_error.startswith("refused: ")
    assert "not a valid host name" in delivery.last_error
    assert serious(errors_logged) == []


# ---------------------------------------------------------------- subscriptions over HTTP


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_subscription_over_http_is_a_bad_request(
    raw_api: Api, errors_logged: list[logging.LogRecord], method: str
) -> None:
    # given
    workspace = await raw_api.create_workspace()
    headers = {"Authorization": f"Bearer {workspace.token}"}
    # when
    if method == "POST":
        response = await raw_api.client.post("/graphql", json={"query": STATUS_CHANGED}, headers=headers)
    else:
        response = await raw_api.client.get("/graphql", params={"query": STATUS_CHANGED}, headers=headers)
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert top_level_code(body) == "BAD_REQUEST"
    assert "WebSocket" in body["errors"][0]["message"]
    assert body["data"] is None
    assert errors_logged == []


# ---------------------------------------------------------------- other values an attacker sends


@pytest.mark.parametrize("url", ["https://[::1/", "https://[zz]/"])
async def test_a_custom_field_url_with_a_broken_ipv6_host_is_invalid(
    raw_api: Api, errors_logged: list[logging.LogRecord], url: str
) -> None:
    # given
    workspace, _, contact = await setup(raw_api)
    before = await snapshot()
    # when
    written = await raw_api.data(
        SET_CUSTOM_FIELDS, {"id": contact["id"], "values": [{"key": "site", "value": url}]}, workspace.token
    )
    filtered = await raw_api.gql(
        CONTACTS, {"filter": {"customFields": [{"key": "site", "eq": url}]}}, workspace.token
    )
    # then
    assert_rejected(written, "INVALID", ["values", "0", "value"])
    assert top_level_code(filtered) == "INVALID"
    assert filtered["errors"][0]["extensions"]["field"] == ["filter", "customFields", "0", "eq"]
    assert await snapshot() == before
    assert serious(errors_logged) == []


async def test_a_contact_website_with_a_broken_ipv6_host_is_invalid(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_CONTACT,
        {
            "input": {
                "firstname": "Ada",
                "lastname": "Lovelace",
                "phone": "+14155550100",
                "statusId": library.statuses[0],
                "sourceId": library.sources[0],
                "website": "https://[::1/",
            }
        },
        workspace.token,
    )
    # then
    assert_rejected(data, "INVALID", ["input", "website"])
    assert await snapshot() == before


async def test_a_forged_cursor_beyond_64_bits_is_invalid(api: Api, workspace: Workspace) -> None:
    # given a cursor of the default sort whose value no BSON integer can hold
    payload = {"s": "CREATED_AT", "d": True, "v": 10**30, "i": "6b0ff8fd32370c5b5495a067"}
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    # when
    body = await api.gql(
        "query($after: String) { contacts(after: $after) { totalCount } }", {"after": cursor}, workspace.token
    )
    # then
    assert body["errors"][0]["extensions"]["code"] == "INVALID"

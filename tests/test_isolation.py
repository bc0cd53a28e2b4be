"""Workspace isolation: from workspace A, every id of workspace B behaves like an id that names nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contactgraph.models import Permission

from .api import CREATE_CUSTOM_FIELD, Api, Library, Workspace, make_contact, make_library, phone
from .checks import assert_rejected, phantom, snapshot

ALL_PERMISSIONS = sorted(p.value for p in Permission)


@dataclass
class World:
    """A workspace with a library, a custom field, a second agent and contacts."""

    workspace: Workspace
    library: Library
    field_id: str
    agent_id: str
    agent_token: str
    contacts: list[dict[str, Any]]

    @property
    def token(self) -> str:
        return self.workspace.token


async def make_world(api: Api, name: str, first_phone: int, size: int) -> World:
    workspace = await api.create_workspace(name)
    library = await make_library(api, workspace)
    field = await api.ok(
        CREATE_CUSTOM_FIELD, {"input": {"key": "size", "label": "Size", "type": "TEXT"}}, workspace.token
    )
    agent_id, agent_token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    contacts = [
        await make_contact(
            api,
            workspace,
            library,
            phone=phone(first_phone + i),
            groupIds=[library.groups[0]],
            assignedAgentId=agent_id,
            customFields=[{"key": "size", "value": "XL"}],
        )
        for i in range(size)
    ]
    return World(workspace, library, field["customField"]["id"], agent_id, agent_token, contacts)


@pytest.fixture
async def a(api: Api) -> World:
    return await make_world(api, "A", first_phone=1, size=2)


@pytest.fixture
async def b(api: Api, a: World) -> World:
    return await make_world(api, "B", first_phone=101, size=3)


# ---------------------------------------------------------------- the table

Expect = Callable[[World, dict[str, Any]], None]


def not_found(*path: str) -> Expect:
    def check(a: World, data: dict[str, Any]) -> None:
        assert_rejected(data, "NOT_FOUND", list(path))

    return check


def gives(expected: Any) -> Expect:
    def check(a: World, data: dict[str, Any]) -> None:
        assert data == (expected(a) if callable(expected) else expected)

    return check


NO_CONTACTS = {"contacts": {"totalCount": 0, "edges": []}}


@dataclass
class Case:
    document: str
    variables: Callable[[World, str], dict[str, Any]]
    foreign: Callable[[World], str]
    expect: Expect
    missing: Callable[[World], str] | None = None


def status(w: World) -> str:
    return w.library.statuses[0]


def source(w: World) -> str:
    return w.library.sources[0]


def group(w: World) -> str:
    return w.library.groups[0]


def contact(w: World) -> str:
    return w.contacts[0]["id"]  # type: ignore[no-any-return]


def field(w: World) -> str:
    return w.field_id


def agent(w: World) -> str:
    return w.agent_id


def workspace_id(w: World) -> str:
    return w.workspace.id


ERRORS = "userErrors { field code message }"

NODE = "query($id: ID!) { node(id: $id) { id } }"
CONTACT = "query($id: ID!) { contact(id: $id) { id firstname } }"
CONTACT_BY_PHONE = "query($phone: String!) { contact(phone: $phone) { id } }"
CONTACTS = "query($filter: ContactFilter) { contacts(filter: $filter) { totalCount edges { node { id } } } }"
AUDIENCE = (
    "query($groupIds: [ID!]) { campaignAudience(groupIds: $groupIds) { totalCount edges { node { id } } } }"
)

UPDATE_STATUS = f"mutation($id: ID!, $input: StatusPatch!) {{ updateStatus(id: $id, input: $input) {{ status {{ id }} {ERRORS} }} }}"
DELETE_STATUS = (
    f"mutation($id: ID!, $to: ID) {{ deleteStatus(id: $id, moveContactsTo: $to) {{ deletedIds {ERRORS} }} }}"
)
UPDATE_SOURCE = f"mutation($id: ID!, $input: SourceInput!) {{ updateSource(id: $id, input: $input) {{ source {{ id }} {ERRORS} }} }}"
DELETE_SOURCE = (
    f"mutation($id: ID!, $to: ID) {{ deleteSource(id: $id, moveContactsTo: $to) {{ deletedIds {ERRORS} }} }}"
)
UPDATE_GROUP = f"mutation($id: ID!, $input: GroupInput!) {{ updateGroup(id: $id, input: $input) {{ group {{ id }} {ERRORS} }} }}"
DELETE_GROUP = f"mutation($id: ID!) {{ deleteGroup(id: $id) {{ deletedIds {ERRORS} }} }}"
UPDATE_FIELD = (
    f"mutation($id: ID!, $input: CustomFieldPatch!) {{ updateCustomField(id: $id, input: $input) "
    f"{{ customField {{ id }} {ERRORS} }} }}"
)
DELETE_FIELD = f"mutation($id: ID!) {{ deleteCustomField(id: $id) {{ customField {{ id }} {ERRORS} }} }}"
RESTORE_FIELD = f"mutation($id: ID!) {{ restoreCustomField(id: $id) {{ customField {{ id }} {ERRORS} }} }}"
PURGE_FIELD = f"mutation($id: ID!) {{ purgeCustomField(id: $id) {{ deletedIds {ERRORS} }} }}"
UPDATE_CONTACT = f"mutation($id: ID!, $input: ContactPatch!) {{ updateContact(id: $id, input: $input) {{ contact {{ id }} {ERRORS} }} }}"
CREATE_CONTACT = (
    f"mutation($input: ContactInput!) {{ createContact(input: $input) {{ contact {{ id }} {ERRORS} }} }}"
)
DELETE_CONTACTS = f"mutation($ids: [ID!]!) {{ deleteContacts(ids: $ids) {{ deletedIds {ERRORS} }} }}"
ADD_TO_GROUP = (
    f"mutation($groupId: ID!, $contactIds: [ID!]!) {{ addContactsToGroup(groupId: $groupId, contactIds: $contactIds) "
    f"{{ count {ERRORS} }} }}"
)
REMOVE_FROM_GROUP = (
    f"mutation($groupId: ID!, $contactIds: [ID!]!) {{ removeContactsFromGroup(groupId: $groupId, contactIds: $contactIds) "
    f"{{ count {ERRORS} }} }}"
)
ASSIGN = (
    f"mutation($contactIds: [ID!]!, $agentId: ID) {{ assignContacts(contactIds: $contactIds, agentId: $agentId) "
    f"{{ count {ERRORS} }} }}"
)
OPT_OUT = (
    f"mutation($id: ID!) {{ setContactOptOut(id: $id, optedOut: true) {{ contact {{ id }} {ERRORS} }} }}"
)
UPDATE_PERMISSIONS = (
    f"mutation($id: ID!, $permissions: [Permission!]!) {{ updateAgentPermissions(id: $id, permissions: $permissions) "
    f"{{ agent {{ id }} {ERRORS} }} }}"
)
CREATE_TOKEN = (
    f'mutation($agentId: ID!) {{ createApiToken(agentId: $agentId, name: "x") {{ token {ERRORS} }} }}'
)
REVOKE_TOKEN = f"mutation($token: String!) {{ revokeApiToken(token: $token) {{ deletedIds {ERRORS} }} }}"
UPDATE_SETTINGS = (
    f"mutation($input: WorkspaceSettingsInput!) {{ updateWorkspaceSettings(input: $input) "
    f"{{ workspace {{ id }} {ERRORS} }} }}"
)


def new_contact(a: World, **overrides: Any) -> dict[str, Any]:
    return {
        "input": {
            "firstname": "Eve",
            "lastname": "Intruder",
            "phone": phone(900),
            "statusId": status(a),
            "sourceId": source(a),
            **overrides,
        }
    }


def a_contacts(*indexes: int) -> Callable[[World], dict[str, Any]]:
    """The contacts list holding these contacts of A, newest first."""

    def expected(a: World) -> dict[str, Any]:
        ids = [a.contacts[i]["id"] for i in sorted(indexes, reverse=True)]
        return {"contacts": {"totalCount": len(ids), "edges": [{"node": {"id": i}} for i in ids]}}

    return expected


CASES = [
    # ------------------------------------------------------------ queries
    *[
        pytest.param(
            Case(NODE, lambda a, ref: {"id": ref}, pick, gives({"node": None})), id=f"node-{pick.__name__}"
        )
        for pick in (status, source, group, field, agent, contact, workspace_id)
    ],
    pytest.param(
        Case(CONTACT, lambda a, ref: {"id": ref}, contact, gives({"contact": None})), id="contact-id"
    ),
    pytest.param(
        Case(
            CONTACT_BY_PHONE,
            lambda a, ref: {"phone": ref},
            lambda b: b.contacts[0]["phone"],
            gives({"contact": None}),
            missing=lambda b: phone(999),
        ),
        id="contact-phone",
    ),
    pytest.param(
        Case(CONTACTS, lambda a, ref: {"filter": {"ids": [ref]}}, contact, gives(NO_CONTACTS)),
        id="contacts-ids",
    ),
    pytest.param(
        Case(CONTACTS, lambda a, ref: {"filter": {"ids": [contact(a), ref]}}, contact, gives(a_contacts(0))),
        id="contacts-ids-mixed",
    ),
    pytest.param(
        Case(CONTACTS, lambda a, ref: {"filter": {"statusIds": [ref]}}, status, gives(NO_CONTACTS)),
        id="contacts-statusIds",
    ),
    pytest.param(
        Case(
            CONTACTS,
            lambda a, ref: {"filter": {"statusIds": [status(a), ref]}},
            status,
            gives(a_contacts(0, 1)),
        ),
        id="contacts-statusIds-mixed",
    ),
    pytest.param(
        Case(CONTACTS, lambda a, ref: {"filter": {"sourceIds": [ref]}}, source, gives(NO_CONTACTS)),
        id="contacts-sourceIds",
    ),
    pytest.param(
        Case(CONTACTS, lambda a, ref: {"filter": {"groupIds": [ref]}}, group, gives(NO_CONTACTS)),
        id="contacts-groupIds",
    ),
    pytest.param(
        Case(CONTACTS, lambda a, ref: {"filter": {"assignedAgentIds": [ref]}}, agent, gives(NO_CONTACTS)),
        id="contacts-assignedAgentIds",
    ),
    pytest.param(
        Case(
            AUDIENCE,
            lambda a, ref: {"groupIds": [ref]},
            group,
            gives({"campaignAudience": {"totalCount": 0, "edges": []}}),
        ),
        id="campaignAudience-groupIds",
    ),
    # ------------------------------------------------------------ library
    pytest.param(
        Case(UPDATE_STATUS, lambda a, ref: {"id": ref, "input": {"name": "Hacked"}}, status, not_found("id")),
        id="updateStatus",
    ),
    pytest.param(Case(DELETE_STATUS, lambda a, ref: {"id": ref}, status, not_found("id")), id="deleteStatus"),
    pytest.param(
        Case(DELETE_STATUS, lambda a, ref: {"id": status(a), "to": ref}, status, not_found("moveContactsTo")),
        id="deleteStatus-moveContactsTo",
    ),
    pytest.param(
        Case(UPDATE_SOURCE, lambda a, ref: {"id": ref, "input": {"name": "Hacked"}}, source, not_found("id")),
        id="updateSource",
    ),
    pytest.param(Case(DELETE_SOURCE, lambda a, ref: {"id": ref}, source, not_found("id")), id="deleteSource"),
    pytest.param(
        Case(DELETE_SOURCE, lambda a, ref: {"id": source(a), "to": ref}, source, not_found("moveContactsTo")),
        id="deleteSource-moveContactsTo",
    ),
    pytest.param(
        Case(UPDATE_GROUP, lambda a, ref: {"id": ref, "input": {"name": "Hacked"}}, group, not_found("id")),
        id="updateGroup",
    ),
    pytest.param(Case(DELETE_GROUP, lambda a, ref: {"id": ref}, group, not_found("id")), id="deleteGroup"),
    pytest.param(
        Case(UPDATE_FIELD, lambda a, ref: {"id": ref, "input": {"label": "Hacked"}}, field, not_found("id")),
        id="updateCustomField",
    ),
    pytest.param(
        Case(DELETE_FIELD, lambda a, ref: {"id": ref}, field, not_found("id")), id="deleteCustomField"
    ),
    pytest.param(
        Case(RESTORE_FIELD, lambda a, ref: {"id": ref}, field, not_found("id")), id="restoreCustomField"
    ),
    pytest.param(
        Case(PURGE_FIELD, lambda a, ref: {"id": ref}, field, not_found("id")), id="purgeCustomField"
    ),
    # ------------------------------------------------------------ contacts
    pytest.param(
        Case(
            UPDATE_CONTACT,
            lambda a, ref: {"id": ref, "input": {"firstname": "Hacked"}},
            contact,
            not_found("id"),
        ),
        id="updateContact",
    ),
    pytest.param(
        Case(
            UPDATE_CONTACT,
            lambda a, ref: {"id": contact(a), "input": {"statusId": ref}},
            status,
            not_found("input", "statusId"),
        ),
        id="updateContact-statusId",
    ),
    pytest.param(
        Case(
            UPDATE_CONTACT,
            lambda a, ref: {"id": contact(a), "input": {"sourceId": ref}},
            source,
            not_found("input", "sourceId"),
        ),
        id="updateContact-sourceId",
    ),
    pytest.param(
        Case(
            UPDATE_CONTACT,
            lambda a, ref: {"id": contact(a), "input": {"groupIds": [ref]}},
            group,
            not_found("input", "groupIds", "0"),
        ),
        id="updateContact-groupIds",
    ),
    pytest.param(
        Case(
            UPDATE_CONTACT,
            lambda a, ref: {"id": contact(a), "input": {"assignedAgentId": ref}},
            agent,
            not_found("input", "assignedAgentId"),
        ),
        id="updateContact-assignedAgentId",
    ),
    pytest.param(
        Case(DELETE_CONTACTS, lambda a, ref: {"ids": [ref]}, contact, not_found("ids", "0")),
        id="deleteContacts",
    ),
    pytest.param(
        Case(
            ADD_TO_GROUP,
            lambda a, ref: {"groupId": ref, "contactIds": [contact(a)]},
            group,
            not_found("groupId"),
        ),
        id="addContactsToGroup-groupId",
    ),
    pytest.param(
        Case(
            ADD_TO_GROUP,
            lambda a, ref: {"groupId": a.library.groups[1], "contactIds": [ref]},
            contact,
            not_found("contactIds", "0"),
        ),
        id="addContactsToGroup-contactIds",
    ),
    pytest.param(
        Case(
            REMOVE_FROM_GROUP,
            lambda a, ref: {"groupId": ref, "contactIds": [contact(a)]},
            group,
            not_found("groupId"),
        ),
        id="removeContactsFromGroup-groupId",
    ),
    pytest.param(
        Case(
            REMOVE_FROM_GROUP,
            lambda a, ref: {"groupId": group(a), "contactIds": [ref]},
            contact,
            not_found("contactIds", "0"),
        ),
        id="removeContactsFromGroup-contactIds",
    ),
    pytest.param(
        Case(
            ASSIGN,
            lambda a, ref: {"contactIds": [ref], "agentId": a.agent_id},
            contact,
            not_found("contactIds", "0"),
        ),
        id="assignContacts-contactIds",
    ),
    pytest.param(
        Case(
            ASSIGN, lambda a, ref: {"contactIds": [contact(a)], "agentId": ref}, agent, not_found("agentId")
        ),
        id="assignContacts-agentId",
    ),
    pytest.param(Case(OPT_OUT, lambda a, ref: {"id": ref}, contact, not_found("id")), id="setContactOptOut"),
    pytest.param(
        Case(
            CREATE_CONTACT,
            lambda a, ref: new_contact(a, statusId=ref),
            status,
            not_found("input", "statusId"),
        ),
        id="createContact-statusId",
    ),
    pytest.param(
        Case(
            CREATE_CONTACT,
            lambda a, ref: new_contact(a, sourceId=ref),
            source,
            not_found("input", "sourceId"),
        ),
        id="createContact-sourceId",
    ),
    pytest.param(
        Case(
            CREATE_CONTACT,
            lambda a, ref: new_contact(a, groupIds=[ref]),
            group,
            not_found("input", "groupIds", "0"),
        ),
        id="createContact-groupIds",
    ),
    pytest.param(
        Case(
            CREATE_CONTACT,
            lambda a, ref: new_contact(a, assignedAgentId=ref),
            agent,
            not_found("input", "assignedAgentId"),
        ),
        id="createContact-assignedAgentId",
    ),
    # ------------------------------------------------------------ agents, tokens, settings
    pytest.param(
        Case(
            UPDATE_PERMISSIONS,
            lambda a, ref: {"id": ref, "permissions": ALL_PERMISSIONS},
            agent,
            not_found("id"),
        ),
        id="updateAgentPermissions",
    ),
    pytest.param(
        Case(CREATE_TOKEN, lambda a, ref: {"agentId": ref}, agent, not_found("agentId")), id="createApiToken"
    ),
    pytest.param(
        Case(
            REVOKE_TOKEN,
            lambda a, ref: {"token": ref},
            lambda b: b.agent_token,
            not_found("token"),
            missing=lambda b: "cg_" + secrets.token_urlsafe(32),
        ),
        id="revokeApiToken",
    ),
    pytest.param(
        Case(
            UPDATE_SETTINGS,
            lambda a, ref: {"input": {"inboundStatusId": ref}},
            status,
            not_found("input", "inboundStatusId"),
        ),
        id="updateWorkspaceSettings-inboundStatusId",
    ),
    pytest.param(
        Case(
            UPDATE_SETTINGS,
            lambda a, ref: {"input": {"inboundSourceId": ref}},
            source,
            not_found("input", "inboundSourceId"),
        ),
        id="updateWorkspaceSettings-inboundSourceId",
    ),
]


@pytest.mark.parametrize("case", CASES)
async def test_an_id_of_another_workspace_behaves_like_a_missing_one(
    api: Api, a: World, b: World, case: Case
) -> None:
    # given B's record, and an id of the same kind that names nothing at all
    foreign = case.foreign(b)
    missing = case.missing(b) if case.missing else phantom(foreign)
    before = await snapshot()
    # when A uses each of them
    with_foreign = await api.gql(case.document, case.variables(a, foreign), a.token)
    with_missing = await api.gql(case.document, case.variables(a, missing), a.token)
    # then A cannot tell them apart
    assert with_foreign == with_missing
    assert "errors" not in with_foreign, with_foreign["errors"]
    case.expect(a, with_foreign["data"])
    # and nothing was written, in B or anywhere
    assert await snapshot() == before


# ---------------------------------------------------------------- lists

LISTS = """
{
  statuses { id name contactCount }
  sources { id name contactCount }
  groups { id name contactCount }
  customFields(includeDeleted: true) { id key }
  agents { id }
  contacts { totalCount edges { node { id status { id } source { id } groups { id } assignedAgent { id } customFields { field { id } value } } } }
  campaignAudience { totalCount edges { node { id } } }
}"""


def expected_lists(w: World) -> dict[str, Any]:
    n = len(w.contacts)
    lib = w.library
    contacts = [
        {
            "id": c["id"],
            "status": {"id": lib.statuses[0]},
            "source": {"id": lib.sources[0]},
            "groups": [{"id": lib.groups[0]}],
            "assignedAgent": {"id": w.agent_id},
            "customFields": [{"field": {"id": w.field_id}, "value": "XL"}],
        }
        for c in reversed(w.contacts)
    ]
    return {
        "statuses": [
            {"id": lib.statuses[0], "name": "New", "contactCount": n},
            {"id": lib.statuses[1], "name": "Won", "contactCount": 0},
        ],
        "sources": [
            {"id": lib.sources[1], "name": "Website", "contactCount": 0},
            {"id": lib.sources[0], "name": "WhatsApp", "contactCount": n},
        ],
        "groups": [
            {"id": lib.groups[1], "name": "Newsletter", "contactCount": 0},
            {"id": lib.groups[0], "name": "VIP", "contactCount": n},
        ],
        "customFields": [{"id": w.field_id, "key": "size"}],
        "agents": [{"id": w.workspace.agent_id}, {"id": w.agent_id}],
        "contacts": {"totalCount": n, "edges": [{"node": c} for c in contacts]},
        "campaignAudience": {"totalCount": n, "edges": [{"node": {"id": c["id"]}} for c in w.contacts]},
    }


async def test_each_workspace_lists_only_its_own_records(api: Api, a: World, b: World) -> None:
    # given two workspaces whose libraries have the same names, keys and emails
    assert a.library != b.library
    # when
    seen_by_a = await api.data(LISTS, token=a.token)
    seen_by_b = await api.data(LISTS, token=b.token)
    # then
    assert seen_by_a == expected_lists(a)
    assert seen_by_b == expected_lists(b)


async def test_search_and_agents_of_another_workspace_stay_hidden(api: Api, a: World, b: World) -> None:
    # when A searches for B's phone, and a view-own agent of A lists what is theirs
    by_phone = await api.data(CONTACTS, {"filter": {"search": b.contacts[0]["phone"]}}, a.token)
    own = await api.data(CONTACTS, token=a.agent_token)
    # then
    assert by_phone == NO_CONTACTS
    assert own["contacts"]["totalCount"] == len(a.contacts)
    assert {e["node"]["id"] for e in own["contacts"]["edges"]} == {c["id"] for c in a.contacts}


async def test_a_foreign_token_cannot_be_revoked_and_keeps_working(api: Api, a: World, b: World) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(REVOKE_TOKEN, {"token": b.token}, a.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["token"])
    assert await snapshot() == before
    me = await api.data("{ me { id } }", token=b.token)
    assert me == {"me": {"id": b.workspace.agent_id}}


async def test_contact_in_another_workspace_may_share_a_phone(api: Api, a: World, b: World) -> None:
    # given B holds a contact with A's phone
    twin = await make_contact(api, b.workspace, b.library, phone=a.contacts[0]["phone"])
    # when each looks the phone up
    from_a = await api.data(CONTACT_BY_PHONE, {"phone": a.contacts[0]["phone"]}, a.token)
    from_b = await api.data(CONTACT_BY_PHONE, {"phone": a.contacts[0]["phone"]}, b.token)
    # then each finds its own
    assert from_a == {"contact": {"id": a.contacts[0]["id"]}}
    assert from_b == {"contact": {"id": twin["id"]}}


NODE_TYPED = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on ContactStatus { name }
    ... on ContactSource { name }
    ... on Group { name }
    ... on CustomField { key }
    ... on Agent { email }
    ... on Contact { phone }
    ... on Workspace { name }
  }
}"""


@pytest.mark.parametrize(
    ("pick", "typename", "value"),
    [
        (status, "ContactStatus", {"name": "New"}),
        (source, "ContactSource", {"name": "WhatsApp"}),
        (group, "Group", {"name": "VIP"}),
        (field, "CustomField", {"key": "size"}),
        (agent, "Agent", {"email": "agent@example.com"}),
        (contact, "Contact", {"phone": phone(1)}),
        (workspace_id, "Workspace", {"name": "A"}),
    ],
)
async def test_node_resolves_every_kind_of_own_id(
    api: Api, a: World, b: World, pick: Callable[[World], str], typename: str, value: dict[str, str]
) -> None:
    # when
    data = await api.data(NODE_TYPED, {"id": pick(a)}, a.token)
    # then
    assert data == {"node": {"__typename": typename, "id": pick(a), **value}}

"""Workspaces, agents, API tokens, permissions and authentication, through GraphQL over HTTP."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from contactgraph.models import Agent, ApiToken, Contact, Permission, Status
from contactgraph.models import Workspace as WorkspaceDoc

from .api import (
    CREATE_AGENT,
    CREATE_API_TOKEN,
    CREATE_STATUS,
    CREATE_WORKSPACE,
    Api,
    Library,
    Workspace,
    make_contact,
)
from .checks import assert_rejected, oid, operation_id, snapshot, top_level_code

ALL_PERMISSIONS = sorted(p.value for p in Permission)

ME = "{ me { id name email permissions } }"
AGENTS = "{ agents { id name email permissions } }"

UPDATE_AGENT_PERMISSIONS = """
mutation($id: ID!, $permissions: [Permission!]!) {
  updateAgentPermissions(id: $id, permissions: $permissions) {
    agent { id permissions } userErrors { field code message }
  }
}"""

REVOKE_API_TOKEN = """
mutation($token: String!) { revokeApiToken(token: $token) { deletedIds userErrors { field code message } } }"""

UPDATE_SETTINGS = """
mutation($input: WorkspaceSettingsInput!) {
  updateWorkspaceSettings(input: $input) { workspace { id name } adminToken userErrors { field code message } }
}"""

CONTACTS = "{ contacts { totalCount edges { node { id } } } }"


def agent_input(email: str, permissions: list[str] | None = None, name: str = "Grace") -> dict[str, Any]:
    return {"input": {"name": name, "email": email, "permissions": permissions or []}}


async def raw(
    api: Api, document: str, variables: dict[str, Any] | None, authorization: str | None
) -> dict[str, Any]:
    """The response body for a request with exactly this Authorization header (or none)."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await api.client.post(
        "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- workspaces


async def test_create_workspace_returns_it_with_an_all_powerful_token(api: Api) -> None:
    # when
    payload = await api.ok(CREATE_WORKSPACE, {"name": " Acme "}, token=api.admin_key)
    # then
    assert payload["workspace"]["name"] == "Acme"
    assert payload["adminToken"]
    me = (await api.data(ME, token=payload["adminToken"]))["me"]
    assert sorted(me["permissions"]) == ALL_PERMISSIONS
    stored = await WorkspaceDoc.get(oid(payload["workspace"]["id"]))
    assert stored is not None and stored.name == "Acme"
    agent = await Agent.get(oid(me["id"]))
    assert agent is not None and agent.workspace_id == stored.id
    assert await ApiToken.find({"workspace_id": stored.id}).count() == 1


async def test_create_workspace_with_an_empty_name_is_required(api: Api) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(CREATE_WORKSPACE, {"name": "  "}, token=api.admin_key)
    # then
    assert_rejected(data, "REQUIRED", ["name"])
    assert await snapshot() == before


@pytest.mark.parametrize("credential", ["none", "workspace token", "wrong key", "admin key as basic"])
async def test_create_workspace_needs_the_admin_key(api: Api, workspace: Workspace, credential: str) -> None:
    # given
    authorization = {
        "none": None,
        "workspace token": f"Bearer {workspace.token}",
        "wrong key": f"Bearer {api.admin_key}x",
        "admin key as basic": f"Basic {api.admin_key}",
    }[credential]
    before = await snapshot()
    # when
    body = await raw(api, CREATE_WORKSPACE, {"name": "Intruder"}, authorization)
    # then
    assert top_level_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None
    assert await snapshot() == before
    assert await WorkspaceDoc.find({}).count() == 1


async def test_the_admin_key_is_no_workspace_token(api: Api) -> None:
    # when
    me = await api.gql(ME, token=api.admin_key)
    body = await api.gql(CONTACTS, token=api.admin_key)
    # then
    assert top_level_code(me) == "UNAUTHENTICATED"
    assert top_level_code(body) == "UNAUTHENTICATED"


# ---------------------------------------------------------------- agents


async def test_create_agent(api: Api, workspace: Workspace) -> None:
    # when
    payload = await api.ok(
        CREATE_AGENT,
        agent_input(" Grace@Example.COM ", ["CONTACT_VIEW", "CONTACT_EDIT", "CONTACT_VIEW"]),
        workspace.token,
    )
    # then
    agent = payload["agent"]
    assert agent == {
        "id": agent["id"],
        "name": "Grace",
        "email": "grace@example.com",
        "permissions": ["CONTACT_EDIT", "CONTACT_VIEW"],
    }
    stored = await Agent.get(oid(agent["id"]))
    assert stored is not None
    assert (stored.workspace_id, stored.email, stored.permissions) == (
        oid(workspace.id),
        "grace@example.com",
        [Permission.CONTACT_EDIT, Permission.CONTACT_VIEW],
    )


@pytest.mark.parametrize("email", ["grace@example.com", "GRACE@example.com", " Grace@Example.Com "])
async def test_create_agent_with_a_taken_email_is_email_taken(
    api: Api, workspace: Workspace, email: str
) -> None:
    # given
    await api.ok(CREATE_AGENT, agent_input("Grace@example.com"), workspace.token)
    before = await snapshot()
    # when
    data = await api.data(CREATE_AGENT, agent_input(email, name="Other"), workspace.token)
    # then
    assert_rejected(data, "EMAIL_TAKEN", ["input", "email"])
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("name", "email", "code", "field"),
    [
        ("Grace", "not-an-email", "INVALID", "email"),
        ("Grace", "grace@", "INVALID", "email"),
        ("Grace", "a b@example.com", "INVALID", "email"),
        ("Grace", "", "REQUIRED", "email"),
        ("", "grace@example.com", "REQUIRED", "name"),
        ("x" * 192, "grace@example.com", "INVALID", "name"),
    ],
)
async def test_create_agent_with_bad_input(
    api: Api, workspace: Workspace, name: str, email: str, code: str, field: str
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(CREATE_AGENT, agent_input(email, name=name), workspace.token)
    # then
    assert_rejected(data, code, ["input", field])
    assert await snapshot() == before


async def test_agents_lists_the_workspace_agents(api: Api, workspace: Workspace) -> None:
    # given
    grace = (await api.ok(CREATE_AGENT, agent_input("grace@example.com", ["CONTACT_VIEW"]), workspace.token))[
        "agent"
    ]
    # when
    data = await api.data(AGENTS, token=workspace.token)
    # then
    assert [a["id"] for a in data["agents"]] == [workspace.agent_id, grace["id"]]
    assert data["agents"][1] == grace


async def test_me(api: Api, workspace: Workspace) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"], email="own@example.com")
    # when
    me = await api.data(ME, token=token)
    anonymous = await api.gql(ME)
    # then
    assert me == {
        "me": {
            "id": agent_id,
            "name": "Agent",
            "email": "own@example.com",
            "permissions": ["CONTACT_VIEW_OWN"],
        }
    }
    assert top_level_code(anonymous) == "UNAUTHENTICATED"


async def test_update_agent_permissions(api: Api, workspace: Workspace) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    # when
    payload = await api.ok(
        UPDATE_AGENT_PERMISSIONS,
        {"id": agent_id, "permissions": ["LIBRARY_MANAGE", "CONTACT_VIEW_OWN"]},
        workspace.token,
    )
    # then
    assert payload["agent"] == {"id": agent_id, "permissions": ["CONTACT_VIEW_OWN", "LIBRARY_MANAGE"]}
    stored = await Agent.get(oid(agent_id))
    assert stored is not None and stored.permissions == [
        Permission.CONTACT_VIEW_OWN,
        Permission.LIBRARY_MANAGE,
    ]
    # and the agent's next request carries the new permissions
    me = await api.data(ME, token=token)
    assert me["me"]["permissions"] == ["CONTACT_VIEW_OWN", "LIBRARY_MANAGE"]


async def test_removing_agent_manage_from_the_last_manager_is_blocked(api: Api, workspace: Workspace) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_AGENT_PERMISSIONS, {"id": workspace.agent_id, "permissions": ["CONTACT_VIEW"]}, workspace.token
    )
    # then
    assert_rejected(data, "BLOCKED", ["permissions"])
    assert await snapshot() == before


async def test_removing_agent_manage_while_another_manager_remains(api: Api, workspace: Workspace) -> None:
    # given
    await api.agent_token(workspace, ["AGENT_MANAGE"], email="second@example.com")
    # when
    payload = await api.ok(
        UPDATE_AGENT_PERMISSIONS, {"id": workspace.agent_id, "permissions": ["CONTACT_VIEW"]}, workspace.token
    )
    # then
    assert payload["agent"]["permissions"] == ["CONTACT_VIEW"]
    assert await Agent.find({"permissions": "AGENT_MANAGE"}).count() == 1


async def test_unknown_agent_is_not_found(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_AGENT_PERMISSIONS, {"id": library.statuses[0], "permissions": []}, workspace.token
    )
    # then
    assert_rejected(data, "NOT_FOUND", ["id"])
    assert await snapshot() == before


# ---------------------------------------------------------------- API tokens


async def test_create_api_token_returns_the_secret_once_and_stores_only_its_hash(
    api: Api, workspace: Workspace
) -> None:
    # given
    agent_id, _ = await api.agent_token(workspace, ["CONTACT_VIEW"])
    # when
    payload = await api.ok(CREATE_API_TOKEN, {"agentId": agent_id, "name": "laptop"}, workspace.token)
    # then the secret works
    secret = payload["token"]
    me = await api.data(ME, token=secret)
    assert me["me"]["id"] == agent_id
    # and only its SHA-256 is stored, nowhere the secret itself
    stored = await ApiToken.find_one({"name": "laptop"})
    assert stored is not None
    assert stored.agent_id == oid(agent_id)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    for collection in (await snapshot()).values():
        for document in collection:
            assert secret not in repr(document)


async def test_each_token_is_a_new_secret(api: Api, workspace: Workspace) -> None:
    # when
    first = await api.ok(CREATE_API_TOKEN, {"agentId": workspace.agent_id, "name": "one"}, workspace.token)
    second = await api.ok(CREATE_API_TOKEN, {"agentId": workspace.agent_id, "name": "two"}, workspace.token)
    # then
    assert first["token"] != second["token"]
    assert await ApiToken.find({"agent_id": oid(workspace.agent_id)}).count() == 3


async def test_an_agent_may_make_its_own_token_without_agent_manage(api: Api, workspace: Workspace) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    # when
    payload = await api.ok(CREATE_API_TOKEN, {"agentId": agent_id, "name": "phone"}, token)
    # then
    assert (await api.data(ME, token=payload["token"]))["me"]["id"] == agent_id
    assert await ApiToken.find({"agent_id": oid(agent_id)}).count() == 2


async def test_a_token_for_another_agent_needs_agent_manage(api: Api, workspace: Workspace) -> None:
    # given
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "LIBRARY_MANAGE"])
    before = await snapshot()
    # when
    data = await api.data(CREATE_API_TOKEN, {"agentId": workspace.agent_id, "name": "stolen"}, token)
    # then
    assert_rejected(data, "FORBIDDEN", ["agentId"])
    assert await snapshot() == before


async def test_create_api_token_for_an_unknown_agent_is_not_found(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(CREATE_API_TOKEN, {"agentId": library.groups[0], "name": "x"}, workspace.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["agentId"])
    assert await snapshot() == before


async def test_revoked_token_is_unauthenticated(api: Api, workspace: Workspace) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    assert (await api.data(ME, token=token))["me"]["id"] == agent_id
    # when
    payload = await api.ok(REVOKE_API_TOKEN, {"token": token}, workspace.token)
    # then
    assert len(payload["deletedIds"]) == 1
    assert await ApiToken.find({"agent_id": oid(agent_id)}).count() == 0
    assert top_level_code(await api.gql(CONTACTS, token=token)) == "UNAUTHENTICATED"
    assert top_level_code(await api.gql(ME, token=token)) == "UNAUTHENTICATED"
    # and the agent itself stays
    assert await Agent.get(oid(agent_id)) is not None


async def test_an_agent_may_revoke_its_own_token(api: Api, workspace: Workspace) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    # when
    await api.ok(REVOKE_API_TOKEN, {"token": token}, token)
    # then
    assert await ApiToken.find({"agent_id": oid(agent_id)}).count() == 0
    assert top_level_code(await api.gql(ME, token=token)) == "UNAUTHENTICATED"


async def test_revoking_another_agents_token_needs_agent_manage(api: Api, workspace: Workspace) -> None:
    # given
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    before = await snapshot()
    # when
    data = await api.data(REVOKE_API_TOKEN, {"token": workspace.token}, token)
    # then
    assert_rejected(data, "FORBIDDEN", ["token"])
    assert await snapshot() == before
    assert (await api.data(ME, token=workspace.token))["me"]["id"] == workspace.agent_id


@pytest.mark.parametrize("secret", ["cg_unknown", "garbage", ""])
async def test_revoking_an_unknown_token_is_not_found(api: Api, workspace: Workspace, secret: str) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(REVOKE_API_TOKEN, {"token": secret}, workspace.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["token"])
    assert await snapshot() == before


# ---------------------------------------------------------------- workspace settings


async def test_update_workspace_settings(api: Api, workspace: Workspace, library: Library) -> None:
    # when
    payload = await api.ok(
        UPDATE_SETTINGS,
        {
            "input": {
                "inboundStatusId": library.statuses[1],
                "inboundSourceId": library.sources[0],
                "inboundType": "LEAD",
            }
        },
        workspace.token,
    )
    # then
    assert payload["workspace"] == {"id": workspace.id, "name": "Acme"}
    stored = await WorkspaceDoc.get(oid(workspace.id))
    assert stored is not None
    assert (stored.inbound.status_id, stored.inbound.source_id, stored.inbound.type) == (
        oid(library.statuses[1]),
        oid(library.sources[0]),
        "LEAD",
    )


async def test_update_workspace_settings_changes_only_given_values(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await api.ok(
        UPDATE_SETTINGS,
        {"input": {"inboundStatusId": library.statuses[1], "inboundSourceId": library.sources[0]}},
        workspace.token,
    )
    # when
    await api.ok(UPDATE_SETTINGS, {"input": {"inboundSourceId": None}}, workspace.token)
    # then
    stored = await WorkspaceDoc.get(oid(workspace.id))
    assert stored is not None
    assert (stored.inbound.status_id, stored.inbound.source_id, stored.inbound.type) == (
        oid(library.statuses[1]),
        None,
        "GUEST",
    )


@pytest.mark.parametrize("setting", ["inboundStatusId", "inboundSourceId"])
async def test_update_workspace_settings_with_an_unknown_entry_is_not_found(
    api: Api, workspace: Workspace, library: Library, setting: str
) -> None:
    # given an id of another kind, which names no status or source
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_SETTINGS, {"input": {setting: library.groups[0], "inboundType": "LEAD"}}, workspace.token
    )
    # then
    assert_rejected(data, "NOT_FOUND", ["input", setting])
    assert await snapshot() == before


async def test_update_workspace_settings_with_a_deleted_status_is_not_found(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await api.ok(
        "mutation($id: ID!) { deleteStatus(id: $id) { deletedIds userErrors { code } } }",
        {"id": library.statuses[1]},
        workspace.token,
    )
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_SETTINGS, {"input": {"inboundStatusId": library.statuses[1]}}, workspace.token
    )
    # then
    assert_rejected(data, "NOT_FOUND", ["input", "inboundStatusId"])
    assert await snapshot() == before


# ---------------------------------------------------------------- authentication

ANONYMOUS_QUERIES = [
    CONTACTS,
    "{ statuses { id } }",
    "{ sources { id } }",
    "{ groups { id } }",
    "{ customFields { id } }",
    AGENTS,
    '{ node(id: "x") { id } }',
    '{ contact(phone: "+14155550100") { id } }',
]


@pytest.mark.parametrize("document", ANONYMOUS_QUERIES, ids=operation_id)
async def test_queries_without_a_token_are_unauthenticated(
    api: Api, workspace: Workspace, document: str
) -> None:
    # when
    body = await api.gql(document)
    # then
    assert top_level_code(body) == "UNAUTHENTICATED"
    assert body["errors"][0]["message"]


ANONYMOUS_MUTATIONS: list[tuple[str, dict[str, Any]]] = [
    (CREATE_STATUS, {"input": {"name": "X", "color": "#000000"}}),
    (CREATE_AGENT, agent_input("x@example.com")),
    (CREATE_API_TOKEN, {"agentId": "x", "name": "x"}),
    (REVOKE_API_TOKEN, {"token": "x"}),
    (UPDATE_SETTINGS, {"input": {"inboundType": "LEAD"}}),
]


@pytest.mark.parametrize(("document", "variables"), ANONYMOUS_MUTATIONS, ids=operation_id)
async def test_mutations_without_a_token_are_unauthenticated(
    api: Api, workspace: Workspace, document: str, variables: dict[str, Any]
) -> None:
    # given
    before = await snapshot()
    # when
    body = await api.gql(document, variables)
    # then
    assert top_level_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("header", "works"),
    [
        ("Bearer {token}", True),
        ("bearer {token}", True),
        ("BEARER {token}", True),
        ("  Bearer   {token}  ", True),
        ("Basic {token}", False),
        ("Token {token}", False),
        ("{token}", False),
        ("Bearer", False),
        ("Bearer ", False),
        ("Bearer cg_garbage", False),
        ("Bearer not-even-prefixed", False),
        ("Bearer " + "x" * 500, False),
        ("Bearer {token}x", False),
    ],
)
async def test_authorization_header_variants(
    api: Api, workspace: Workspace, header: str, works: bool
) -> None:
    # when
    body = await raw(api, CONTACTS, None, header.format(token=workspace.token))
    # then
    if works:
        assert body["data"] == {"contacts": {"totalCount": 0, "edges": []}} and "errors" not in body
    else:
        assert top_level_code(body) == "UNAUTHENTICATED"


# ---------------------------------------------------------------- permissions

# (document, variables from the library, the permission it needs)
GUARDED_MUTATIONS: list[tuple[str, Any, str]] = [
    (CREATE_STATUS, lambda lib: {"input": {"name": "Lost", "color": "#000000"}}, "LIBRARY_MANAGE"),
    (
        "mutation($id: ID!) { deleteStatus(id: $id) { deletedIds userErrors { field code message } } }",
        lambda lib: {"id": lib.statuses[1]},
        "LIBRARY_MANAGE",
    ),
    (UPDATE_SETTINGS, lambda lib: {"input": {"inboundStatusId": lib.statuses[0]}}, "LIBRARY_MANAGE"),
    (CREATE_AGENT, lambda lib: agent_input("new@example.com"), "AGENT_MANAGE"),
    (
        UPDATE_AGENT_PERMISSIONS,
        lambda lib: {"id": lib.agent_id, "permissions": ALL_PERMISSIONS},
        "AGENT_MANAGE",
    ),
    (
        """mutation($input: ContactInput!) { createContact(input: $input) { contact { id } userErrors { field code message } } }""",
        lambda lib: {
            "input": {
                "firstname": "A",
                "lastname": "B",
                "phone": "+14155550199",
                "statusId": lib.statuses[0],
                "sourceId": lib.sources[0],
            }
        },
        "CONTACT_CREATE",
    ),
    (
        """mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { field code message } } }""",
        lambda lib: {"ids": [lib.contact_id]},
        "CONTACT_DELETE",
    ),
    (
        """mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { id } userErrors { field code message } } }""",
        lambda lib: {"id": lib.contact_id},
        "CONTACT_EDIT",
    ),
]


class _Refs:
    def __init__(self, library: Library, agent_id: str, contact_id: str) -> None:
        self.statuses = library.statuses
        self.sources = library.sources
        self.groups = library.groups
        self.agent_id = agent_id
        self.contact_id = contact_id


@pytest.mark.parametrize(("document", "variables", "permission"), GUARDED_MUTATIONS, ids=operation_id)
async def test_mutations_without_their_permission_are_forbidden(
    api: Api, workspace: Workspace, library: Library, document: str, variables: Any, permission: str
) -> None:
    # given an agent holding every permission but the one needed
    others = [p for p in ALL_PERMISSIONS if p != permission]
    agent_id, token = await api.agent_token(workspace, others)
    contact = await make_contact(api, workspace, library, assignedAgentId=agent_id)
    before = await snapshot()
    # when
    data = await api.data(document, variables(_Refs(library, agent_id, contact["id"])), token)
    # then
    assert_rejected(data, "FORBIDDEN", None)
    assert await snapshot() == before


VIEW_QUERIES = [
    (CONTACTS, None),
    ("query($id: ID!) { contact(id: $id) { id } }", "contact"),
    ('{ contact(phone: "+14155550100") { id } }', None),
    ("{ campaignAudience { totalCount } }", None),
]


@pytest.mark.parametrize(("document", "argument"), VIEW_QUERIES, ids=operation_id)
async def test_contact_queries_without_a_view_permission_are_forbidden(
    api: Api, workspace: Workspace, library: Library, document: str, argument: str | None
) -> None:
    # given an agent who may do everything with contacts but see them
    _, token = await api.agent_token(workspace, ["CONTACT_CREATE", "CONTACT_EDIT", "LIBRARY_MANAGE"])
    contact = await make_contact(api, workspace, library)
    # when
    body = await api.gql(document, {"id": contact["id"]} if argument else None, token)
    # then
    assert top_level_code(body) == "FORBIDDEN"
    assert body["data"] is None or all(v is None for v in body["data"].values())


async def test_node_of_a_contact_without_a_view_permission_is_null(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    _, token = await api.agent_token(workspace, ["LIBRARY_MANAGE"])
    contact = await make_contact(api, workspace, library)
    # when
    data = await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": contact["id"]}, token)
    # then
    assert data == {"node": None}
    assert await Contact.find({}).count() == 1


async def test_view_own_agent_sees_only_assigned_contacts(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    own = await make_contact(api, workspace, library, phone="+14155550101", assignedAgentId=agent_id)
    other = await make_contact(api, workspace, library, phone="+14155550102")
    # when
    listed = await api.data(CONTACTS, token=token)
    hidden = await api.data("query($id: ID!) { contact(id: $id) { id } }", {"id": other["id"]}, token)
    # then
    assert listed == {"contacts": {"totalCount": 1, "edges": [{"node": {"id": own["id"]}}]}}
    assert hidden == {"contact": None}


async def test_forbidden_leaves_library_readable(api: Api, workspace: Workspace, library: Library) -> None:
    # given an agent with no permission at all
    _, token = await api.agent_token(workspace, [])
    # when
    data = await api.data("{ statuses { name } me { permissions } }", token=token)
    # then
    assert data == {"statuses": [{"name": "New"}, {"name": "Won"}], "me": {"permissions": []}}
    assert await Status.find({}).count() == 2


async def test_create_api_token_without_a_name_is_required(api: Api, workspace: Workspace) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(CREATE_API_TOKEN, {"agentId": workspace.agent_id, "name": " "}, workspace.token)
    # then
    assert_rejected(data, "REQUIRED", ["name"])
    assert await snapshot() == before

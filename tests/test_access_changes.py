"""Access as it is now, on every path: open subscriptions, webhooks, agents and their tokens.

Each test replays an attack of issue 9 and shows it refused. "Not heard" is shown without
waiting, as in ``test_subscriptions``: a later change that is heard arrives first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from contactgraph.db import Engine
from contactgraph.models import Agent, ApiToken
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, phone
from .checks import assert_rejected, oid, snapshot
from .conftest import ADMIN_KEY
from .test_subscriptions import MOVE, SUBSCRIBE_BRIEF, heard, ready
from .ws import PROTOCOLS, TRANSPORT_WS, Served, Socket, serve

REVOKE = (
    "mutation($token: String!) { revokeApiToken(token: $token) { deletedIds userErrors { code message } } }"
)

SET_PERMISSIONS = """
mutation($id: ID!, $permissions: [Permission!]!) {
  updateAgentPermissions(id: $id, permissions: $permissions) { agent { permissions } userErrors { field code message } }
}"""

CREATE_AGENT = """
mutation($input: AgentInput!) {
  createAgent(input: $input) { agent { id permissions } userErrors { field code message } }
}"""

CREATE_TOKEN = """
mutation($agentId: ID!) { createApiToken(agentId: $agentId, name: "minted") { token userErrors { field code message } } }"""

CREATE_WEBHOOK = """
mutation($input: WebhookInput!) { createWebhook(input: $input) { webhook { id } userErrors { field code message } } }"""


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"event_poll_seconds": 0.01})


@asynccontextmanager
async def watching(
    settings: Settings, engine: Engine, protocol: str, token: str
) -> AsyncIterator[tuple[Served, Socket]]:
    """An app instance and a socket on which ``token``'s agent watches every status change it may see."""
    async with serve(settings, engine) as served, served.connect(protocol) as socket:
        await ready(socket, token)
        await socket.subscribe(SUBSCRIBE_BRIEF)
        await served.subscribed()
        yield served, socket


async def closing_error(socket: Socket, id: str = "1") -> str:
    """The code of the error that ends subscription ``id``, in either protocol (its ``complete`` read too)."""
    message = await socket.receive()
    while message["type"] == "complete" and message["id"] != id:
        message = await socket.receive()  # the end of an earlier subscription
    assert message["id"] == id, message
    if message["type"] in (
        "data",
        "next",
    ):  # graphql-core reports an error raised while iterating as a result
        payload = message["payload"]
        assert isinstance(payload, dict) and payload["data"] is None, message
        return str(payload["errors"][0]["extensions"]["code"])
    assert message["type"] == "error", message
    payload = message["payload"]
    error = payload if socket.legacy else payload[0]  # type: ignore[index]
    return str(error["extensions"]["code"])  # type: ignore[index]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_revoked_token_closes_its_open_subscription_before_the_next_change(
    protocol: str, fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given an agent watching every status change
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    contact = await make_contact(api, workspace, library)
    async with watching(fast, engine, protocol, token) as (served, socket):
        here = Api(served.client, ADMIN_KEY)
        # when the token is revoked, then a contact moves
        await here.ok(REVOKE, {"token": token}, workspace.token)
        await here.ok(MOVE, {"id": contact["id"], "statusId": library.statuses[1]}, workspace.token)
        # then the subscription ends instead of telling of the move
        assert await closing_error(socket) == "UNAUTHENTICATED"
        await served.subscribed(0)
        # and the socket cannot start another one with the revoked token
        await socket.subscribe(SUBSCRIBE_BRIEF, id="2")
        assert await closing_error(socket, "2") == "UNAUTHENTICATED"
    assert await ApiToken.find({"agent_id": oid(agent_id)}).count() == 0


async def test_a_downgrade_to_view_own_rescopes_an_open_subscription(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given an agent watching everything, one contact assigned to them and one not
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    theirs = await make_contact(api, workspace, library, phone=phone(1), assignedAgentId=agent_id)
    others = await make_contact(api, workspace, library, phone=phone(2))
    won = library.statuses[1]
    async with watching(fast, engine, TRANSPORT_WS, token) as (served, socket):
        here = Api(served.client, ADMIN_KEY)
        # when the agent is cut down to its own contacts, then both contacts move
        await here.ok(SET_PERMISSIONS, {"id": agent_id, "permissions": ["CONTACT_VIEW_OWN"]}, workspace.token)
        await here.ok(MOVE, {"id": others["id"], "statusId": won}, workspace.token)
        await here.ok(MOVE, {"id": theirs["id"], "statusId": won}, workspace.token)
        # then only its own contact's move is heard
        assert await heard(socket) == (theirs["id"], won)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_losing_every_view_permission_closes_an_open_subscription(
    protocol: str, fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"])
    contact = await make_contact(api, workspace, library)
    async with watching(fast, engine, protocol, token) as (served, socket):
        here = Api(served.client, ADMIN_KEY)
        # when
        await here.ok(SET_PERMISSIONS, {"id": agent_id, "permissions": ["CONTACT_EDIT"]}, workspace.token)
        await here.ok(MOVE, {"id": contact["id"], "statusId": library.statuses[1]}, workspace.token)
        # then
        assert await closing_error(socket) == "FORBIDDEN"
        await served.subscribed(0)


async def test_an_upgrade_widens_an_open_subscription(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given a view-own agent watching, and a contact not assigned to it
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    contact = await make_contact(api, workspace, library)
    async with watching(fast, engine, TRANSPORT_WS, token) as (served, socket):
        here = Api(served.client, ADMIN_KEY)
        # when
        await here.ok(SET_PERMISSIONS, {"id": agent_id, "permissions": ["CONTACT_VIEW"]}, workspace.token)
        await here.ok(MOVE, {"id": contact["id"], "statusId": library.statuses[1]}, workspace.token)
        # then
        assert await heard(socket) == (contact["id"], library.statuses[1])


async def test_a_webhook_needs_contact_view_as_it_feeds_every_contact(api: Api, workspace: Workspace) -> None:
    # given an agent that may manage webhooks but not see contacts
    _, token = await api.agent_token(workspace, ["WEBHOOK_MANAGE"])
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_WEBHOOK,
        {"input": {"url": "https://hooks.example.com/in", "events": ["CONTACT_CREATED"]}},
        token,
    )
    # then
    assert_rejected(data, "FORBIDDEN", None)
    assert await snapshot() == before


async def test_agent_manage_cannot_grant_itself_what_it_lacks(api: Api, workspace: Workspace) -> None:
    # given an agent manager without contact permissions
    manager_id, token = await api.agent_token(workspace, ["AGENT_MANAGE"])
    before = await snapshot()
    # when it gives itself CONTACT_VIEW, and makes an agent with CONTACT_EXPORT
    raised = await api.data(
        SET_PERMISSIONS, {"id": manager_id, "permissions": ["AGENT_MANAGE", "CONTACT_VIEW"]}, token
    )
    created = await api.data(
        CREATE_AGENT,
        {"input": {"name": "Exporter", "email": "x@example.com", "permissions": ["CONTACT_EXPORT"]}},
        token,
    )
    # then
    assert_rejected(raised, "FORBIDDEN", ["permissions"])
    assert_rejected(created, "FORBIDDEN", ["input", "permissions"])
    assert await snapshot() == before


async def test_agent_manage_cannot_mint_a_token_for_or_change_a_stronger_agent(
    api: Api, workspace: Workspace
) -> None:
    # given an agent manager and the workspace's administrator, who holds everything
    _, token = await api.agent_token(workspace, ["AGENT_MANAGE", "CONTACT_VIEW"])
    before = await snapshot()
    # when
    minted = await api.data(CREATE_TOKEN, {"agentId": workspace.agent_id}, token)
    demoted = await api.data(
        SET_PERMISSIONS, {"id": workspace.agent_id, "permissions": ["CONTACT_VIEW"]}, token
    )
    # then
    assert_rejected(minted, "FORBIDDEN", ["agentId"])
    assert_rejected(demoted, "FORBIDDEN", ["id"])
    assert await snapshot() == before


async def test_agent_manage_may_grant_what_it_holds(api: Api, workspace: Workspace) -> None:
    # given
    _, token = await api.agent_token(workspace, ["AGENT_MANAGE", "CONTACT_VIEW"])
    # when
    created = await api.ok(
        CREATE_AGENT,
        {"input": {"name": "Viewer", "email": "v@example.com", "permissions": ["CONTACT_VIEW"]}},
        token,
    )
    minted = await api.ok(CREATE_TOKEN, {"agentId": created["agent"]["id"]}, token)
    # then
    assert created["agent"]["permissions"] == ["CONTACT_VIEW"]
    assert minted["token"].startswith("cg_")
    stored = await Agent.get(oid(created["agent"]["id"]))
    assert stored is not None and stored.permissions == ["CONTACT_VIEW"]

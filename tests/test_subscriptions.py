"""contactStatusChanged over real WebSocket connections, in both subprotocols.

Each test runs its own app instance (``serve``) over the test database, subscribes,
and makes changes through that instance over HTTP. "Not heard" is shown without
waiting: a later change that is heard must arrive first, since a subscriber hears
changes in the order they were made.
"""

from __future__ import annotations

from typing import Any

import pytest
from httpx_ws import WebSocketDisconnect

from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.models import Contact
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, make_library, phone
from .checks import oid
from .conftest import ADMIN_KEY
from .ws import LEGACY_WS, PROTOCOLS, TRANSPORT_WS, Socket, backpressured_client, serve

SUBSCRIBE = """
subscription($statusIds: [ID!], $groupIds: [ID!], $contactIds: [ID!]) {
  contactStatusChanged(statusIds: $statusIds, groupIds: $groupIds, contactIds: $contactIds) {
    contact { id firstname status { id } }
    fromStatus { id name }
    toStatus { id name }
    changedAt
    changedBy { id }
  }
}"""

SUBSCRIBE_BRIEF = """
subscription($statusIds: [ID!], $groupIds: [ID!], $contactIds: [ID!]) {
  contactStatusChanged(statusIds: $statusIds, groupIds: $groupIds, contactIds: $contactIds) {
    contact { id } toStatus { id }
  }
}"""

MOVE = """
mutation($id: ID!, $statusId: ID!) {
  updateContact(id: $id, input: {statusId: $statusId}) { contact { id statusChangedAt } userErrors { code } }
}"""

RENAME = """
mutation($id: ID!, $firstname: String!) {
  updateContact(id: $id, input: {firstname: $firstname}) { contact { id } userErrors { code } }
}"""

DELETE = "mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { code } } }"

ASSIGN = """
mutation($ids: [ID!]!, $agentId: ID) {
  assignContacts(contactIds: $ids, agentId: $agentId) { count userErrors { code } }
}"""

MOVE_CONTACT_STATUS = """
mutation($id: ID!, $statusId: ID!, $expected: ID) {
  moveContactStatus(contactId: $id, statusId: $statusId, expectedStatusId: $expected) {
    contact { id statusChangedAt } userErrors { code }
  }
}"""


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"event_poll_seconds": 0.01})


async def move(api: Api, token: str, contact_id: str, status_id: str) -> dict[str, Any]:
    """Move a contact to a status through the API; the contact as the mutation answers it."""
    return (await api.ok(MOVE, {"id": contact_id, "statusId": status_id}, token))["contact"]  # type: ignore[no-any-return]


async def heard(socket: Socket, id: str = "1") -> tuple[str, str]:
    """The contact and new status of the next change a SUBSCRIBE_BRIEF subscription hears."""
    change = (await socket.data(id))["contactStatusChanged"]
    return change["contact"]["id"], change["toStatus"]["id"]


async def ready(socket: Socket, token: str) -> None:
    assert (await socket.init(token))["type"] == "connection_ack"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscriber_hears_each_status_change_with_the_contact_as_it_is(
    protocol: str, fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    contact = await make_contact(api, workspace, library)
    async with serve(fast, engine) as served, served.connect(protocol) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, workspace.token)
        await socket.subscribe(SUBSCRIBE)
        await served.subscribed()
        # when
        moved = await move(here, workspace.token, contact["id"], won)
        first = (await socket.data())["contactStatusChanged"]
        await here.ok(
            RENAME, {"id": contact["id"], "firstname": "Grace"}, workspace.token
        )  # no status change
        back = await move(here, workspace.token, contact["id"], new)
        second = (await socket.data())["contactStatusChanged"]
        await socket.stop()
        await served.subscribed(0)
    # then
    assert first == {
        "contact": {"id": contact["id"], "firstname": "Ada", "status": {"id": won}},
        "fromStatus": {"id": new, "name": "New"},
        "toStatus": {"id": won, "name": "Won"},
        "changedAt": moved["statusChangedAt"],
        "changedBy": {"id": workspace.agent_id},
    }
    assert (second["fromStatus"]["id"], second["toStatus"]["id"]) == (won, new)
    assert second["contact"] == {
        "id": contact["id"],
        "firstname": "Grace",
        "status": {"id": new},
    }  # not cached
    assert second["changedAt"] == back["statusChangedAt"]
    recorded = (
        await Event.find({"contact_id": oid(contact["id"]), "type": EventType.STATUS_CHANGED.value})
        .sort("occurred_at")
        .to_list()
    )
    assert [(e.from_status_id, e.to_status_id) for e in recorded] == [
        (oid(new), oid(won)),
        (oid(won), oid(new)),
    ]


@pytest.mark.parametrize("token", [None, "cg_no-such-token", "not-a-cg-token", ADMIN_KEY])
async def test_graphql_transport_ws_closes_4403_without_an_agent_token(
    token: str | None, fast: Settings, engine: Engine
) -> None:
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        # when
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.init(token)
        # then
        assert (closed.value.code, closed.value.reason) == (4403, "Forbidden")
        assert served.app.state.broker.subscriber_count == 0


async def test_graphql_ws_answers_connection_error_without_an_agent_token(
    fast: Settings, engine: Engine
) -> None:
    async with serve(fast, engine) as served, served.connect(LEGACY_WS) as socket:
        # when
        answer = await socket.init("cg_no-such-token")
        # then
        assert answer == {
            "type": "connection_error",
            "payload": {"message": "connection_init carries no valid token", "code": "UNAUTHENTICATED"},
        }
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive()
        assert closed.value.code == 1011


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscribing_before_connection_init_closes_4401(
    protocol: str, fast: Settings, engine: Engine
) -> None:
    async with serve(fast, engine) as served, served.connect(protocol) as socket:
        # when
        await socket.subscribe(SUBSCRIBE)
        # then
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive()
        assert (closed.value.code, closed.value.reason) == (4401, "Unauthorized")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscriber_needs_contact_view_or_view_own(
    protocol: str, fast: Settings, engine: Engine, api: Api, workspace: Workspace
) -> None:
    # given
    _, token = await api.agent_token(workspace, ["CONTACT_EDIT"])
    async with serve(fast, engine) as served, served.connect(protocol) as socket:
        await ready(socket, token)
        # when
        await socket.subscribe(SUBSCRIBE)
        answer = await socket.receive()
        # then
        assert (answer["type"], answer["id"]) == ("error", "1")
        error = answer["payload"] if protocol == LEGACY_WS else answer["payload"][0]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert served.app.state.broker.subscriber_count == 0


async def test_too_many_ids_in_a_filter_is_refused(
    fast: Settings, engine: Engine, workspace: Workspace, library: Library
) -> None:
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        await ready(socket, workspace.token)
        # when
        await socket.subscribe(SUBSCRIBE, {"contactIds": [library.statuses[0]] * 501})
        answer = await socket.receive()
        # then
        assert answer["type"] == "error"
        assert answer["payload"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "field": ["contactIds"]}


async def test_a_subscriber_hears_only_its_workspace(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    other = await api.create_workspace("Other")
    theirs = await make_library(api, other)
    their_contact = await make_contact(api, other, theirs)
    our_contact = await make_contact(api, workspace, library)
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, workspace.token)
        # their status's id behaves like one that does not exist
        await socket.subscribe(SUBSCRIBE_BRIEF, {"statusIds": [theirs.statuses[1], library.statuses[1]]})
        await served.subscribed()
        # when
        await move(here, other.token, their_contact["id"], theirs.statuses[1])
        await move(here, workspace.token, our_contact["id"], library.statuses[1])
        # then
        assert await heard(socket) == (our_contact["id"], library.statuses[1])


async def test_a_view_own_agent_hears_of_contacts_assigned_to_them_when_they_changed(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    mine = await make_contact(api, workspace, library, phone=phone(1), assignedAgentId=agent_id)
    others = await make_contact(api, workspace, library, phone=phone(2))
    new, won = library.statuses
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, token)
        await socket.subscribe(SUBSCRIBE_BRIEF)
        await served.subscribed()
        # when
        await move(here, workspace.token, others["id"], won)
        await move(here, workspace.token, mine["id"], won)
        first = await heard(socket)
        await here.ok(ASSIGN, {"ids": [mine["id"]], "agentId": None}, workspace.token)
        await here.ok(ASSIGN, {"ids": [others["id"]], "agentId": agent_id}, workspace.token)
        await move(here, workspace.token, mine["id"], new)
        await move(here, workspace.token, others["id"], new)
        second = await heard(socket)
    # then
    assert first == (mine["id"], won)
    assert second == (others["id"], new)


async def test_status_ids_narrow_to_changes_into_those_statuses(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    first = await make_contact(api, workspace, library, phone=phone(1))
    second = await make_contact(api, workspace, library, phone=phone(2))
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, workspace.token)
        await socket.subscribe(SUBSCRIBE_BRIEF, {"statusIds": [won]})
        await served.subscribed()
        # when
        await move(here, workspace.token, first["id"], won)
        await move(here, workspace.token, first["id"], new)
        await move(here, workspace.token, second["id"], won)
        # then
        assert [await heard(socket), await heard(socket)] == [(first["id"], won), (second["id"], won)]


async def test_group_ids_narrow_to_contacts_in_those_groups(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    vip = library.groups[0]
    member = await make_contact(api, workspace, library, phone=phone(1), groupIds=[vip])
    outsider = await make_contact(api, workspace, library, phone=phone(2), groupIds=[library.groups[1]])
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, workspace.token)
        await socket.subscribe(SUBSCRIBE_BRIEF, {"groupIds": [vip]})
        await served.subscribed()
        # when
        await move(here, workspace.token, outsider["id"], library.statuses[1])
        await move(here, workspace.token, member["id"], library.statuses[1])
        # then
        assert await heard(socket) == (member["id"], library.statuses[1])


async def test_contact_ids_narrow_to_those_contacts(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    watched = await make_contact(api, workspace, library, phone=phone(1))
    other = await make_contact(api, workspace, library, phone=phone(2))
    async with serve(fast, engine) as served, served.connect(LEGACY_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, workspace.token)
        await socket.subscribe(SUBSCRIBE_BRIEF, {"contactIds": [watched["id"]]})
        await served.subscribed()
        # when
        await move(here, workspace.token, other["id"], library.statuses[1])
        await move(here, workspace.token, watched["id"], library.statuses[1])
        # then
        assert await heard(socket) == (watched["id"], library.statuses[1])


async def test_a_stalled_subscriber_is_closed_while_others_keep_hearing(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    tiny = settings.model_copy(update={"event_poll_seconds": 0.01, "subscriber_queue_size": 2})
    contact = await make_contact(api, workspace, library)
    moves = [library.statuses[(n + 1) % 2] for n in range(12)]
    async with (
        serve(tiny, engine) as served,
        backpressured_client(served) as slow_client,
        served.connect(TRANSPORT_WS) as reader,
        served.connect(TRANSPORT_WS, slow_client) as staller,
    ):
        here = Api(served.client, ADMIN_KEY)
        for socket in (reader, staller):
            await ready(socket, workspace.token)
            await socket.subscribe(SUBSCRIBE_BRIEF)
        await served.subscribed(2)
        # when: the staller reads nothing while the reader keeps up
        read = []
        for status in moves:
            await move(here, workspace.token, contact["id"], status)
            read.append(await heard(reader))
        await served.subscribed(1)  # the broker let go of the staller
        # then
        assert read == [(contact["id"], status) for status in moves]
        stalled = [await staller.receive()]
        while stalled[-1]["type"] == "next" and "errors" not in stalled[-1]["payload"]:
            stalled.append(await staller.receive())
        *delivered, closing = stalled
        assert 0 < len(delivered) < len(moves)
        assert [(m["payload"]["data"]["contactStatusChanged"]["toStatus"]["id"]) for m in delivered] == moves[
            : len(delivered)
        ]
        assert closing["payload"]["data"] is None
        assert [e["extensions"]["code"] for e in closing["payload"]["errors"]] == ["LIMIT_EXCEEDED"]
        assert await staller.receive() == {"id": "1", "type": "complete"}
        # and the reader still hears what follows
        await move(here, workspace.token, contact["id"], library.statuses[1])
        assert await heard(reader) == (contact["id"], library.statuses[1])


async def test_a_contact_deleted_before_its_change_is_delivered_shows_as_it_was(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    busy = await make_contact(api, workspace, library, phone=phone(1))
    gone = await make_contact(api, workspace, library, phone=phone(2), firstname="Grace")
    ahead = [won, new, won, new, won]  # more than the connection holds unread, so `gone` waits its turn
    async with (
        serve(fast, engine) as served,
        backpressured_client(served) as slow_client,
        served.connect(TRANSPORT_WS, slow_client) as socket,
    ):
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, workspace.token)
        await socket.subscribe(SUBSCRIBE)
        await served.subscribed()
        for status in ahead:
            await move(here, workspace.token, busy["id"], status)
        await move(here, workspace.token, gone["id"], won)
        # when
        await here.ok(DELETE, {"ids": [gone["id"]]}, workspace.token)
        # then
        changes = [(await socket.data())["contactStatusChanged"] for _ in [*ahead, gone]]
    assert [c["contact"]["id"] for c in changes] == [busy["id"]] * len(ahead) + [gone["id"]]
    assert changes[-1]["contact"] == {"id": gone["id"], "firstname": "Grace", "status": {"id": won}}
    assert await Contact.find_one({"_id": oid(gone["id"])}) is None


async def test_move_contact_status_is_heard_once_and_a_move_to_the_same_status_not_at_all(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    card = await make_contact(api, workspace, library)
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, workspace.token)
        await socket.subscribe(SUBSCRIBE_BRIEF)
        await served.subscribed()
        # when
        for status, expected in ((won, new), (won, won), (new, won)):
            await here.ok(
                MOVE_CONTACT_STATUS,
                {"id": card["id"], "statusId": status, "expected": expected},
                workspace.token,
            )
        # then
        assert [await heard(socket), await heard(socket)] == [(card["id"], won), (card["id"], new)]

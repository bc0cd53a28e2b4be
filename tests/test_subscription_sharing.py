"""Subscribers of one status change share the work of it, and still each get only what is theirs.

Those who may see the same contacts read the event's data once; those who also sent the
same document, variables and permissions get the result of one execution. Round trips
are counted by the engine. The feeder is given an interval longer than any test, so
that on the in-memory engine it reads nothing while a change is being delivered.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.models import Contact
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, phone
from .checks import oid
from .conftest import ADMIN_KEY
from .test_subscriptions import ASSIGN, RENAME, move, ready
from .ws import LEGACY_WS, PROTOCOLS, TRANSPORT_WS, Served, Socket, backpressured_client, serve

SUBSCRIBE = """
subscription {
  contactStatusChanged {
    contact { id firstname assignedAgent { id } status { id name } }
    fromStatus { id name }
    toStatus { id name }
    changedBy { id }
  }
}"""

SUBSCRIBE_NAMED = """
subscription($withName: Boolean!) {
  contactStatusChanged { contact { id firstname @include(if: $withName) } toStatus { id } }
}"""


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    return settings.model_copy(update={"event_poll_seconds": 3600.0})


def feeder_reads(engine: Engine) -> int:
    """Round trips a change stream may add to a change's count at a moment of its own (none in memory)."""
    return 2 if engine.transactions else 0


async def change(socket: Socket) -> dict[str, Any]:
    return (await socket.data())["contactStatusChanged"]  # type: ignore[no-any-return]


async def round_trips_of_a_move(
    engine: Engine, served: Served, workspace: Workspace, sockets: list[Socket], contact_id: str, status: str
) -> tuple[int, list[dict[str, Any]]]:
    """Round trips from a move through its delivery to every socket, and what each socket heard."""
    before = engine.round_trips.count
    await move(Api(served.client, ADMIN_KEY), workspace.token, contact_id, status)
    heard = [await change(socket) for socket in sockets]
    return engine.round_trips.count - before, heard


async def subscribe_all(served: Served, sockets: list[Socket], token: str, document: str = SUBSCRIBE) -> None:
    for socket in sockets:
        await ready(socket, token)
        await socket.subscribe(document)
    await served.subscribed(len(sockets))


async def test_a_change_costs_the_same_round_trips_for_twenty_identical_subscribers_as_for_one(
    quiet: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    contact = await make_contact(api, workspace, library)
    async with serve(quiet, engine) as served:
        async with served.connect(TRANSPORT_WS) as alone:
            await subscribe_all(served, [alone], workspace.token)
            await round_trips_of_a_move(engine, served, workspace, [alone], contact["id"], won)  # warm-up
            # when
            for_one, [heard_alone] = await round_trips_of_a_move(
                engine, served, workspace, [alone], contact["id"], new
            )
        await served.subscribed(0)
        async with AsyncExitStack() as stack:
            crowd = [await stack.enter_async_context(served.connect(PROTOCOLS[n % 2])) for n in range(20)]
            await subscribe_all(served, crowd, workspace.token)
            await round_trips_of_a_move(engine, served, workspace, crowd, contact["id"], won)  # warm-up
            for_twenty, heard_by_crowd = await round_trips_of_a_move(
                engine, served, workspace, crowd, contact["id"], new
            )
    # then
    assert abs(for_twenty - for_one) <= feeder_reads(engine), (for_one, for_twenty)
    assert heard_alone == {
        "contact": {
            "id": contact["id"],
            "firstname": "Ada",
            "assignedAgent": None,
            "status": {"id": new, "name": "New"},
        },
        "fromStatus": {"id": won, "name": "Won"},
        "toStatus": {"id": new, "name": "New"},
        "changedBy": {"id": workspace.agent_id},
    }
    assert heard_by_crowd == [heard_alone] * 20
    stored = await Contact.find_one({"_id": oid(contact["id"])})
    assert stored is not None and stored.status_id == oid(new)


async def test_identical_subscribers_hear_one_reading_of_a_change_however_late_they_read(
    quiet: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: one subscriber reads at once, one through a connection that holds two messages unread
    new, won = library.statuses
    card = await make_contact(api, workspace, library)
    moves = [won, new, won, new, won]
    async with (
        serve(quiet, engine) as served,
        backpressured_client(served) as slow_client,
        served.connect(TRANSPORT_WS) as prompt,
        served.connect(TRANSPORT_WS, slow_client) as slow,
    ):
        await subscribe_all(served, [prompt, slow], workspace.token)
        here = Api(served.client, ADMIN_KEY)
        for status in moves:
            await move(here, workspace.token, card["id"], status)
        read_at_once = [await change(prompt) for _ in moves]
        # when: the contact is renamed before the slow subscriber reads the last changes
        await here.ok(RENAME, {"id": card["id"], "firstname": "Grace"}, workspace.token)
        read_late = [await change(slow) for _ in moves]
    # then: what was read for the first is what the second hears
    assert read_late == read_at_once
    assert [c["contact"]["firstname"] for c in read_late] == ["Ada"] * len(moves)
    assert [c["toStatus"]["id"] for c in read_late] == moves
    stored = await Contact.find_one({"_id": oid(card["id"])})
    assert stored is not None and stored.firstname == "Grace"


async def test_subscribers_who_may_see_different_contacts_are_not_served_each_others_results(
    quiet: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a view-own agent and two viewers hear the moves of a contact assigned to that agent
    new, won = library.statuses
    own_id, own_token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"], email="own@example.com")
    _, viewer_token = await api.agent_token(workspace, ["CONTACT_VIEW"], email="viewer@example.com")
    card = await make_contact(api, workspace, library, assignedAgentId=own_id)
    moves = [won, new, won, new, won]  # more than a connection holds unread: the last waits its turn
    async with (
        serve(quiet, engine) as served,
        backpressured_client(served) as slow,
        served.connect(TRANSPORT_WS, slow) as own,
        served.connect(TRANSPORT_WS, slow) as viewer,
        served.connect(LEGACY_WS, slow) as admin,
    ):
        here = Api(served.client, ADMIN_KEY)
        for socket, token in ((own, own_token), (viewer, viewer_token), (admin, workspace.token)):
            await ready(socket, token)
            await socket.subscribe(SUBSCRIBE)
        await served.subscribed(3)
        for status in moves:
            await move(here, workspace.token, card["id"], status)
        # when: the contact leaves the agent, and is renamed, before the last move is delivered
        await here.ok(ASSIGN, {"ids": [card["id"]], "agentId": None}, workspace.token)
        await here.ok(RENAME, {"id": card["id"], "firstname": "Grace"}, workspace.token)
        # then
        heard = {
            name: [await change(socket) for _ in moves]
            for name, socket in (("own", own), ("viewer", viewer), ("admin", admin))
        }
    assert all([c["toStatus"]["id"] for c in changes] == moves for changes in heard.values())
    # the agent no longer sees the contact: as it was when it changed, still theirs
    assert heard["own"][-1]["contact"] == {
        "id": card["id"],
        "firstname": "Ada",
        "assignedAgent": {"id": own_id},
        "status": {"id": won, "name": "Won"},
    }
    # those who see every contact see it as it is now
    now = {
        "id": card["id"],
        "firstname": "Grace",
        "assignedAgent": None,
        "status": {"id": won, "name": "Won"},
    }
    assert heard["viewer"][-1]["contact"] == heard["admin"][-1]["contact"] == now
    stored = await Contact.find_one({"_id": oid(card["id"])})
    assert stored is not None and (stored.firstname, stored.assigned_agent_id) == ("Grace", None)


async def test_a_view_own_agent_sharing_a_document_with_viewers_still_hears_only_their_contacts(
    quiet: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    _, won = library.statuses
    own_id, own_token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"], email="own@example.com")
    theirs = await make_contact(api, workspace, library, phone=phone(1), assignedAgentId=own_id)
    others = await make_contact(api, workspace, library, phone=phone(2), firstname="Grace")
    async with (
        serve(quiet, engine) as served,
        served.connect(TRANSPORT_WS) as own,
        served.connect(TRANSPORT_WS) as viewer,
        served.connect(LEGACY_WS) as other_viewer,
    ):
        here = Api(served.client, ADMIN_KEY)
        for socket, token in ((own, own_token), (viewer, workspace.token), (other_viewer, workspace.token)):
            await ready(socket, token)
            await socket.subscribe(SUBSCRIBE)
        await served.subscribed(3)
        # when
        await move(here, workspace.token, others["id"], won)
        await move(here, workspace.token, theirs["id"], won)
        # then
        assert [(await change(own))["contact"]["id"]] == [theirs["id"]]
        for socket in (viewer, other_viewer):
            assert [(await change(socket))["contact"]["firstname"] for _ in range(2)] == ["Grace", "Ada"]


async def test_variables_are_part_of_what_subscribers_share(
    quiet: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: the same document, with and without the name
    contact = await make_contact(api, workspace, library)
    async with (
        serve(quiet, engine) as served,
        served.connect(TRANSPORT_WS) as with_name,
        served.connect(TRANSPORT_WS) as without,
    ):
        for socket, flag in ((with_name, True), (without, False)):
            await ready(socket, workspace.token)
            await socket.subscribe(SUBSCRIBE_NAMED, {"withName": flag})
        await served.subscribed(2)
        # when
        await move(Api(served.client, ADMIN_KEY), workspace.token, contact["id"], library.statuses[1])
        # then
        assert (await change(with_name))["contact"] == {"id": contact["id"], "firstname": "Ada"}
        assert (await change(without))["contact"] == {"id": contact["id"]}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscriber_who_leaves_with_changes_unread_leaves_the_others_hearing(
    protocol: str, quiet: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    contact = await make_contact(api, workspace, library)
    async with (
        serve(quiet, engine) as served,
        served.connect(protocol) as first,
        served.connect(protocol) as second,
    ):
        here = Api(served.client, ADMIN_KEY)
        async with served.connect(protocol) as leaver:
            await subscribe_all(served, [leaver, first, second], workspace.token)
            await move(here, workspace.token, contact["id"], won)
            await move(here, workspace.token, contact["id"], new)
            # when: it goes without reading either
        await served.subscribed(2)
        await move(here, workspace.token, contact["id"], won)
        # then
        for socket in (first, second):
            assert [(await change(socket))["toStatus"]["id"] for _ in range(3)] == [won, new, won]

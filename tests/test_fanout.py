"""Several API instances over one database: a change made through one reaches subscribers on all.

Each instance is its own app (``serve``) with its own broker and feeder over the shared
test database, as separate processes would be. On the in-memory engine the feeder
reads new events at an interval; on a replica set it follows a change stream.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from beanie import PydanticObjectId

from contactgraph.db import Engine
from contactgraph.events import Event, EventType, contact_events, record
from contactgraph.events.broker import Broker
from contactgraph.events.bus import publish, publishing_to
from contactgraph.models import Contact
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, phone
from .checks import oid
from .conftest import ADMIN_KEY
from .test_subscriptions import SUBSCRIBE_BRIEF, heard, move, ready
from .ws import PROTOCOLS, TRANSPORT_WS, serve


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"event_poll_seconds": 0.01})


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_moves_through_one_instance_reach_subscribers_of_both_once_in_order(
    protocol: str, fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    card = await make_contact(api, workspace, library, phone=phone(1))
    last = await make_contact(api, workspace, library, phone=phone(2))
    moves = [(card["id"], s) for s in (won, new, won, new, won)] + [(last["id"], won)]  # `last` ends it
    async with (
        serve(fast, engine) as a,
        serve(fast, engine) as b,
        a.connect(protocol) as on_a,
        b.connect(protocol) as on_b,
    ):
        through_a = Api(a.client, ADMIN_KEY)
        for socket, served in ((on_a, a), (on_b, b)):
            await ready(socket, workspace.token)
            await socket.subscribe(SUBSCRIBE_BRIEF)
            await served.subscribed()
        # when
        for contact_id, status in moves:
            await move(through_a, workspace.token, contact_id, status)
        # then: each hears every move once, in order, up to the last one
        assert [await heard(on_b) for _ in moves] == moves
        assert [await heard(on_a) for _ in moves] == moves
    changes = await Event.find({"type": EventType.STATUS_CHANGED.value}).sort("occurred_at", "_id").to_list()
    assert [(e.contact_id, e.to_status_id) for e in changes] == [(oid(c), oid(s)) for c, s in moves]


async def test_an_event_committed_late_by_another_process_still_reaches_subscribers(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    new, won = library.statuses
    card = await make_contact(api, workspace, library, phone=phone(1))
    late = await make_contact(api, workspace, library, phone=phone(2))
    async with serve(fast, engine) as a, serve(fast, engine) as b, b.connect(TRANSPORT_WS) as on_b:
        through_a = Api(a.client, ADMIN_KEY)
        await ready(on_b, workspace.token)
        await on_b.subscribe(SUBSCRIBE_BRIEF)
        await b.subscribed()
        await move(through_a, workspace.token, card["id"], won)
        second = await move(through_a, workspace.token, card["id"], new)
        assert [await heard(on_b), await heard(on_b)] == [(card["id"], won), (card["id"], new)]
        # when: a change stamped before the last one heard commits only now
        before = await Contact.get(oid(late["id"]))
        assert before is not None
        events = contact_events(before, before.model_copy(update={"status_id": oid(won)}), None)
        for event in events:
            event.occurred_at = datetime.fromisoformat(second["statusChangedAt"]) - timedelta(milliseconds=1)
        await record(events)
        await move(through_a, workspace.token, card["id"], won)
        # then
        assert [await heard(on_b), await heard(on_b)] == [(late["id"], won), (card["id"], won)]


async def test_publishing_reaches_at_once_only_the_broker_of_the_app_that_made_the_change(
    engine: Engine,
) -> None:
    # given
    mine, theirs = Broker(10), Broker(10)
    event = Event(
        id=PydanticObjectId(),
        type=EventType.STATUS_CHANGED,
        workspace_id=PydanticObjectId(),
        contact_id=PydanticObjectId(),
    )
    async with mine.subscribe(lambda e: True) as here, theirs.subscribe(lambda e: True) as there:
        # when
        with publishing_to(mine):
            publish([event])
        publish([event])  # outside any request: no broker
        with publishing_to(mine):
            publish([event])  # again, as the feeder would hand it on: de-duplicated
        # then
        assert (here.pending, there.pending) == (1, 0)

"""Restarts: what survives a process that stops half-way, and what the next one makes of it.

A restart is simulated by a new app instance (``serve``) over the same database: the
instance that "dies" is stopped (its lifespan ends) and, for a hard kill, made unable
to record anything on its way out first. After the restart nothing is lost and nothing
is done twice. The catalogue, with the guarantee each scenario shows:

- **mid-import.** A job whose process is killed stays RUNNING only until its lease runs
  out; the next instance to start (or to read it) fails it with the counts of its last
  finished batch. Rows are written whole (contact, phone claim, created event): those
  counted, and maybe those of the batch under way, never part of one. A graceful stop
  fails the job at once. (A lease still running is not taken for dead:
  ``test_import_jobs.py::test_a_live_job_is_not_taken_for_dead``.)
- **mid-merge.** A merge cut short at any step is completed by running it again through
  another instance: one contact holding both numbers, the history and the interactions,
  and one event (and one webhook delivery) of each kind. (Cut short and resumed in one
  instance: ``test_merge.py::test_running_an_interrupted_merge_again_completes_it``.)
- **webhook deliveries pending.** Whatever state a stopped instance left its deliveries
  in (delivered, refused and waiting to retry, never tried), the next instance's worker
  sends each undelivered one, and a receiver acknowledges each event once. (Changes
  recorded and never sent: ``test_webhooks.py::test_deliveries_survive_a_restart_between_the_change_and_the_delivery``;
  a sender killed mid-send, resent once its lease runs out:
  ``test_webhooks.py::test_a_delivery_whose_sender_died_is_claimed_again_once_its_lease_expires``.)
- **events not yet fanned out.** Live subscribers get no backlog by design: a subscriber
  hears the changes committed after it subscribed. Those it hears, it hears exactly once
  and in order, whichever instance made them and even if that instance stopped right
  after, however late its own instance's feeder reads them: stopped and started again,
  or failing and retrying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.events.feeder import PollWindow
from contactgraph.models import Contact, utcnow
from contactgraph.models.import_job import ImportJob
from contactgraph.models.interaction import Interaction
from contactgraph.models.merge import MergeRecord
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.resolvers import imports, merge
from contactgraph.services import contact_writes
from contactgraph.services.import_runner import ImportRunner
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, make_library, phone
from .checks import oid, top_level_code
from .conftest import ADMIN_KEY
from .csv_api import IMPORT_JOB, csv_bytes, start_import
from .test_subscriptions import SUBSCRIBE_BRIEF, heard, move, ready
from .test_webhooks import PUBLIC_URL, Receiver, create_webhook, deliveries, receiver, running
from .ws import TRANSPORT_WS, serve

__all__ = ["receiver"]  # the fixture, shared with test_webhooks

HEADER = ["firstname", "lastname", "phone", "status", "source"]
BATCH = 100


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"event_poll_seconds": 0.01})


# ---------------------------------------------------------------- mid-import


class StuckWrites:
    """Bulk inserts that go through ``passing`` times, then hang (before or after writing) until cancelled."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, passing: int, after_writing: bool) -> None:
        self.real = contact_writes.insert_many
        self.passing = passing
        self.after_writing = after_writing
        self.calls = 0
        self.stuck = asyncio.Event()
        monkeypatch.setattr(contact_writes, "insert_many", self.insert_many)

    async def insert_many(self, *args: Any) -> Any:
        self.calls += 1
        if self.calls <= self.passing:
            return await self.real(*args)
        result = await self.real(*args) if self.after_writing else None
        self.stuck.set()
        await asyncio.Event().wait()  # never set: the batch hangs until its process goes
        return result


async def _records_nothing(*args: Any, **kwargs: Any) -> None:
    """An import runner's end, in a process that was killed: nothing is recorded."""


def rows(count: int) -> list[list[str]]:
    return [["Ada", f"Person{n}", phone(n), "New", "WhatsApp"] for n in range(count)]


async def assert_whole(contacts: int) -> None:
    """``contacts`` contacts, each with its phone claim and its created event: no row half-applied."""
    stored = await Contact.find_all().to_list()
    assert len(stored) == contacts
    claims = {(c.phone, c.contact_id) for c in await PhoneClaim.find_all().to_list()}
    assert claims == {(c.phone, c.id) for c in stored}
    created = await Event.find({"type": EventType.CREATED.value}).to_list()
    assert sorted(str(e.contact_id) for e in created) == sorted(str(c.id) for c in stored)


@pytest.mark.parametrize(("after_writing", "written"), [(False, 2 * BATCH), (True, 3 * BATCH)])
async def test_an_import_whose_process_is_killed_is_failed_with_its_counts_by_the_next_instance(
    after_writing: bool,
    written: int,
    settings: Settings,
    engine: Engine,
    workspace: Workspace,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: an import through A, its third batch under way (before or after its rows are written)
    batches = settings.model_copy(update={"import_batch_size": BATCH})
    stuck = StuckWrites(monkeypatch, passing=2, after_writing=after_writing)
    with monkeypatch.context() as dead:
        async with serve(batches, engine) as a:
            payload = await start_import(
                Api(a.client, ""), workspace.token, csv_bytes([HEADER, *rows(1_000)])
            )
            await asyncio.wait_for(stuck.stuck.wait(), 10)
            # when: A is killed there, so its import records nothing more
            dead.setattr(ImportRunner, "_finish", _records_nothing)
    job = await ImportJob.get(oid(payload["job"]["id"]))
    assert job is not None and job.state == "RUNNING" and job.processed_rows == 2 * BATCH
    # ... and B starts once A's lease has run out
    later = utcnow() + timedelta(seconds=batches.import_lease_seconds + 1)
    monkeypatch.setattr(imports, "utcnow", lambda: later)
    async with serve(settings, engine) as b:
        seen = (await Api(b.client, "").data(IMPORT_JOB, {"id": payload["job"]["id"]}, workspace.token))[
            "importJob"
        ]
    # then
    assert (seen["state"], seen["processedRows"], seen["created"], seen["failed"]) == ("FAILED", 200, 200, 0)
    assert seen["finishedAt"] and "stopped" in seen["failure"]
    await assert_whole(written)


async def test_an_import_under_way_when_its_instance_shuts_down_is_failed_with_its_counts_at_once(
    settings: Settings,
    engine: Engine,
    workspace: Workspace,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    stuck = StuckWrites(monkeypatch, passing=2, after_writing=False)
    async with serve(settings.model_copy(update={"import_batch_size": BATCH}), engine) as a:
        payload = await start_import(Api(a.client, ""), workspace.token, csv_bytes([HEADER, *rows(1_000)]))
        await asyncio.wait_for(stuck.stuck.wait(), 10)
    # when: A stopped gracefully; B starts at once
    async with serve(settings, engine) as b:
        seen = (await Api(b.client, "").data(IMPORT_JOB, {"id": payload["job"]["id"]}, workspace.token))[
            "importJob"
        ]
    # then
    assert (seen["state"], seen["processedRows"], seen["created"]) == ("FAILED", 200, 200)
    assert "stopped" in seen["failure"]
    await assert_whole(200)


# ---------------------------------------------------------------- mid-merge

MERGE = """
mutation($p: ID!, $s: ID!) {
  mergeContacts(primaryId: $p, secondaryId: $s) { contact { id phone otherPhones email } userErrors { code } }
}"""
UPDATE = """
mutation($id: ID!, $input: ContactPatch!) { updateContact(id: $id, input: $input) { contact { id } userErrors { code } } }"""
RECORD = """
mutation($input: InteractionInput!) { recordInteraction(input: $input) { interaction { id } userErrors { code } } }"""

Step = Callable[..., Awaitable[Any]]


def dies_at(monkeypatch: pytest.MonkeyPatch, step: str, after: bool) -> None:
    """The process stops just before (or just after) the merge step ``step``."""
    real: Step = getattr(merge, step)

    async def dying(*args: Any) -> Any:
        if after:
            await real(*args)
        raise RuntimeError(f"the process stopped {'after' if after else 'before'} {step}")

    monkeypatch.setattr(merge, step, dying)


@pytest.mark.parametrize(
    ("step", "after"),
    [
        ("hand_over_numbers", False),  # the journal alone is written
        ("hand_over_numbers", True),
        ("merge_into_primary", True),
        ("move_journey", True),
        ("remove_secondary", True),  # all but the journal's end
    ],
)
async def test_a_merge_cut_short_is_completed_once_through_another_instance(
    step: str,
    after: bool,
    settings: Settings,
    engine: Engine,
    api: Api,
    workspace: Workspace,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: two contacts, the secondary with a status change and an interaction; every event is queued for a webhook
    await create_webhook(
        api, workspace.token, PUBLIC_URL, ["CONTACT_UPDATED", "CONTACT_DELETED", "CONTACT_MERGED"]
    )
    primary = await make_contact(api, workspace, library, phone=phone(1))
    secondary = await make_contact(api, workspace, library, phone=phone(2), email="ada@example.com")
    await api.ok(UPDATE, {"id": secondary["id"], "input": {"statusId": library.statuses[1]}}, workspace.token)
    talk = {"contactId": secondary["id"], "channel": "whatsapp", "direction": "inbound"}
    await api.ok(RECORD, {"input": talk}, workspace.token)
    ids = {"p": primary["id"], "s": secondary["id"]}
    started = utcnow()
    with monkeypatch.context() as dying:
        dies_at(dying, step, after)
        async with serve(settings, engine) as a:
            body = await Api(a.client, ADMIN_KEY).gql(MERGE, ids, workspace.token)
    assert top_level_code(body) == "INTERNAL_SERVER_ERROR"
    # when: the same merge through B
    async with serve(settings, engine) as b:
        merged = await Api(b.client, ADMIN_KEY).ok(MERGE, ids, workspace.token)
    # then nothing is lost
    assert merged["contact"] == {
        "id": primary["id"],
        "phone": phone(1),
        "otherPhones": [phone(2)],
        "email": "ada@example.com",
    }
    [stored] = await Contact.find_all().to_list()
    assert stored.id == oid(primary["id"]) and stored.merged_ids == [oid(secondary["id"])]
    claims = {c.phone: c.contact_id for c in await PhoneClaim.find_all().to_list()}
    assert claims == {phone(1): stored.id, phone(2): stored.id}
    history = await Event.find({"type": EventType.STATUS_CHANGED.value}).to_list()
    assert [e.contact_id for e in history] == [stored.id]
    assert [i.contact_id for i in await Interaction.find_all().to_list()] == [stored.id]
    [record] = await MergeRecord.find_all().to_list()
    assert record.finished_at is not None
    # ... and nothing is done twice
    since = await Event.find({"occurred_at": {"$gte": started}}).sort("occurred_at", "_id").to_list()
    assert sorted((e.type.value, e.contact_id) for e in since) == [
        ("contact.deleted", oid(secondary["id"])),
        ("contact.merged", stored.id),
        ("contact.updated", stored.id),
    ]
    queued = [d for d in await deliveries() if d.event_id in {e.id for e in since}]
    assert sorted(d.event_type.value for d in queued) == [
        "contact.deleted",
        "contact.merged",
        "contact.updated",
    ]


# ---------------------------------------------------------------- webhook deliveries pending


async def test_deliveries_a_stopped_instance_left_in_any_state_are_each_acknowledged_once_after_the_restart(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    # given: A delivered the first change, was refused the second, never tried the third, and stopped
    async with running(settings, engine, webhook_allow_private=True, webhook_batch=1) as a:
        workspace = await a.api.create_workspace()
        library = await make_library(a.api, workspace)
        await create_webhook(a.api, workspace.token, receiver.url, ["CONTACT_CREATED"])
        made = [await make_contact(a.api, workspace, library, phone=phone(n)) for n in range(3)]
        receiver.answers = [200, 503]
        assert (await a.worker.run_once(), await a.worker.run_once()) == (1, 1)
    left = await deliveries()
    assert [(d.state, d.attempts) for d in left] == [("delivered", 1), ("pending", 1), ("pending", 0)]
    retry_at = left[1].next_attempt_at
    # when: B's worker runs until nothing is due, then again once the retry is due
    async with running(settings, engine, webhook_allow_private=True) as b:
        now = await b.worker.drain()
        at_retry = await b.worker.drain(now=retry_at)
        again = await b.worker.drain(now=retry_at + timedelta(hours=1))
    # then: each event acknowledged once; the refused one sent again when due
    assert (now, at_retry, again) == (1, 1, 0)
    sent = [r.json["data"]["contact"]["id"] for r in receiver.received]
    refused = sent[1]
    assert sorted(sent) == sorted([*(c["id"] for c in made), refused]) and sent[3] == refused
    stored = await deliveries()
    assert {d.state for d in stored} == {"delivered"}
    assert sorted(d.attempts for d in stored) == [1, 1, 2]


# ---------------------------------------------------------------- events not yet fanned out


async def test_a_change_committed_while_the_feeder_was_stopped_is_heard_once_it_runs_again(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a subscriber on B, whose feeder is stopped
    new, won = library.statuses
    card = await make_contact(api, workspace, library, phone=phone(1))
    async with serve(fast, engine) as b, b.connect(TRANSPORT_WS) as on_b:
        await b.app.state.feeder.stop()
        await ready(on_b, workspace.token)
        await on_b.subscribe(SUBSCRIBE_BRIEF)
        await b.subscribed()
        # when: the change is made through A, which stops right after
        async with serve(fast, engine) as a:
            await move(Api(a.client, ADMIN_KEY), workspace.token, card["id"], won)
        b.app.state.feeder.start()
        await move(api, workspace.token, card["id"], new)  # through a third instance
        # then: heard once, in order
        assert [await heard(on_b), await heard(on_b)] == [(card["id"], won), (card["id"], new)]


async def test_a_feeder_whose_read_fails_goes_on_without_repeating_or_losing_a_change(
    fast: Settings,
    engine: Engine,
    api: Api,
    workspace: Workspace,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a subscriber on B, which has heard three changes made through A
    new, won = library.statuses
    card = await make_contact(api, workspace, library, phone=phone(1))
    async with serve(fast, engine) as a, serve(fast, engine) as b, b.connect(TRANSPORT_WS) as on_b:
        through_a = Api(a.client, ADMIN_KEY)
        # B remembers the ids of few events, as after more than it can remember (RECENT_IDS)
        b.app.state.broker.remember = 2
        await ready(on_b, workspace.token)
        await on_b.subscribe(SUBSCRIBE_BRIEF)
        await b.subscribed()
        for status in (won, new, won):
            await move(through_a, workspace.token, card["id"], status)
        assert [await heard(on_b) for _ in range(3)] == [(card["id"], s) for s in (won, new, won)]
        # when: B's next read of the database fails, and a change is made meanwhile
        failing = asyncio.Event()
        real = PollWindow.read

        async def fails_once(self: PollWindow) -> list[Event]:
            if not failing.is_set():
                failing.set()
                raise ConnectionError("the database did not answer")
            return await real(self)

        monkeypatch.setattr(PollWindow, "read", fails_once)
        await asyncio.wait_for(failing.wait(), 5)
        await move(through_a, workspace.token, card["id"], new)
        await move(through_a, workspace.token, card["id"], won)
        # then: B goes on from where it was
        assert [await heard(on_b), await heard(on_b)] == [(card["id"], new), (card["id"], won)]


async def test_a_new_subscriber_hears_the_changes_made_after_it_subscribed_and_no_backlog(
    fast: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a change made through A while nobody listened, A stopped
    new, won = library.statuses
    card = await make_contact(api, workspace, library, phone=phone(1))
    async with serve(fast, engine) as a:
        await move(Api(a.client, ADMIN_KEY), workspace.token, card["id"], won)
    # when: a subscriber connects to B, started afterwards, and a change follows
    async with serve(fast, engine) as b, b.connect(TRANSPORT_WS) as on_b:
        await ready(on_b, workspace.token)
        await on_b.subscribe(SUBSCRIBE_BRIEF)
        await b.subscribed()
        await move(api, workspace.token, card["id"], new)
        # then: the first change it hears is the one made after it subscribed
        assert await heard(on_b) == (card["id"], new)

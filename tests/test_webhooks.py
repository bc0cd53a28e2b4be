"""Webhooks: managed over GraphQL, delivered signed to a real HTTP receiver on 127.0.0.1.

The delivery worker is driven by hand (``run_once``/``drain``, with ``now`` to reach a
retry time) except in the one test of the background loop, so nothing waits on a clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import queue
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.events.delivery import DeliveryWorker
from contactgraph.events.webhooks import Webhook, WebhookDelivery
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, make_custom_field, make_library, phone
from .checks import assert_rejected, oid, snapshot, top_level_code
from .conftest import ADMIN_KEY

CREATE_WEBHOOK = """
mutation($input: WebhookInput!) {
  createWebhook(input: $input) {
    webhook { id url events active secret createdAt }
    userErrors { field code message }
  }
}"""
WEBHOOKS = "{ webhooks { id url events active secret } }"
DELETE_WEBHOOK = """
mutation($id: ID!) { deleteWebhook(id: $id) { deletedIds userErrors { field code message } } }"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Webhook { url events secret } } }"
UPDATE_CONTACT = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""
DELETE_CONTACTS = "mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { code } } }"
CREATE_CONTACT = """
mutation($input: ContactInput!) { createContact(input: $input) { contact { id } userErrors { code } } }"""

PUBLIC_URL = "https://93.184.216.34/hooks/contacts"


# ---------------------------------------------------------------- a receiver on 127.0.0.1


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class Receiver:
    """An HTTP server on a free port of 127.0.0.1, in a thread: records each POST and answers
    the statuses queued in ``answers`` (200 once they run out); ``hold`` makes it not answer."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[Received] = []
        self.hold = False
        self._released = threading.Event()
        self._arrivals: queue.Queue[Received] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got = Received({k.lower(): v for k, v in self.headers.items()}, body)
                receiver.received.append(got)
                receiver._arrivals.put(got)
                if receiver.hold:
                    receiver._released.wait(5)
                    return
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (timeout test) is expected

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    async def next(self) -> Received:
        """The next request to arrive (at most 5 s away)."""
        return await asyncio.to_thread(self._arrivals.get, timeout=5)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The signature check README.md shows a receiver (its freshness window aside)."""
    timestamp = headers["x-contactgraph-timestamp"]
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-contactgraph-signature"])


# ---------------------------------------------------------------- app instances and workers


@dataclass
class Instance:
    """One API process: its GraphQL client and its delivery worker."""

    api: Api
    worker: DeliveryWorker
    app: Starlette


@asynccontextmanager
async def running(settings: Settings, engine: Engine, **overrides: Any) -> AsyncIterator[Instance]:
    """An app instance over the shared test database, from start-up to shutdown."""
    app = create_app(settings.model_copy(update=overrides), engine=engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Instance(Api(client, ADMIN_KEY), app.state.webhook_deliveries, app)


@asynccontextmanager
async def worker(settings: Settings, **overrides: Any) -> AsyncIterator[DeliveryWorker]:
    """A delivery worker of another process, with its own settings."""
    defaults = {"webhook_allow_private": True, "webhook_backoff_seconds": 0}
    deliveries = DeliveryWorker(settings.model_copy(update={**defaults, **overrides}))
    try:
        yield deliveries
    finally:
        await deliveries.close()


@pytest.fixture(scope="module")
async def hooks(settings: Settings, engine: Engine) -> AsyncIterator[Instance]:
    """An instance whose webhooks may point at 127.0.0.1 and whose retries are due at once."""
    async with running(settings, engine, webhook_allow_private=True, webhook_backoff_seconds=0) as instance:
        yield instance


@dataclass
class Setup:
    workspace: Workspace
    library: Library


@pytest.fixture
async def setup(hooks: Instance) -> Setup:
    workspace = await hooks.api.create_workspace()
    return Setup(workspace, await make_library(hooks.api, workspace))


async def create_webhook(api: Api, token: str, url: str, events: list[str], **more: Any) -> dict[str, Any]:
    payload = await api.ok(CREATE_WEBHOOK, {"input": {"url": url, "events": events, **more}}, token)
    return payload["webhook"]  # type: ignore[no-any-return]


async def deliveries() -> list[WebhookDelivery]:
    return await WebhookDelivery.find_all().sort("created_at", "_id").to_list()


# ---------------------------------------------------------------- managing webhooks


async def test_the_secret_is_shown_once_at_creation_and_kept_to_sign(api: Api, workspace: Workspace) -> None:
    # when
    created = await create_webhook(api, workspace.token, PUBLIC_URL, ["CONTACT_STATUS_CHANGED"])
    listed = await api.data(WEBHOOKS, token=workspace.token)
    node = await api.data(NODE, {"id": created["id"]}, workspace.token)
    # then
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert (created["url"], created["events"], created["active"]) == (
        PUBLIC_URL,
        ["CONTACT_STATUS_CHANGED"],
        True,
    )
    assert listed["webhooks"] == [
        {
            "id": created["id"],
            "url": PUBLIC_URL,
            "events": ["CONTACT_STATUS_CHANGED"],
            "active": True,
            "secret": None,
        }
    ]
    assert node["node"] == {
        "id": created["id"],
        "url": PUBLIC_URL,
        "events": ["CONTACT_STATUS_CHANGED"],
        "secret": None,
    }
    [stored] = await Webhook.find_all().to_list()
    assert stored.secret == created["secret"]
    assert stored.events == [EventType.STATUS_CHANGED]
    assert stored.workspace_id == oid(workspace.id)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://2130706433/hook",  # 127.0.0.1 spelled as one number
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
async def test_urls_at_loopback_link_local_or_private_addresses_are_refused(
    api: Api, workspace: Workspace, url: str
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_WEBHOOK, {"input": {"url": url, "events": ["CONTACT_CREATED"]}}, workspace.token
    )
    # then
    payload = assert_rejected(data, "INVALID", ["input", "url"])
    assert "loopback, link-local or private" in payload["userErrors"][0]["message"]
    assert await snapshot() == before


async def test_private_urls_are_accepted_where_the_setting_allows_them(hooks: Instance, setup: Setup) -> None:
    created = await create_webhook(
        hooks.api, setup.workspace.token, "http://127.0.0.1:9/hook", ["CONTACT_CREATED"]
    )
    assert created["url"] == "http://127.0.0.1:9/hook"
    assert await Webhook.find({"url": "http://127.0.0.1:9/hook"}).count() == 1


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("ftp://example.com/hook", "INVALID", "http:// or https://"),
        ("https:///hook", "INVALID", "needs a host"),
        ("https://example.com:99999/hook", "INVALID", "port"),
        ("   ", "REQUIRED", "needs a URL"),
        ("https://example.com/" + "x" * 2100, "INVALID", "2048"),
        ("https://no-such-host.invalid/hook", "INVALID", "could not be resolved"),
    ],
)
async def test_create_webhook_validates_the_url(
    api: Api, workspace: Workspace, url: str, code: str, message: str
) -> None:
    before = await snapshot()
    data = await api.data(
        CREATE_WEBHOOK, {"input": {"url": url, "events": ["CONTACT_CREATED"]}}, workspace.token
    )
    payload = assert_rejected(data, code, ["input", "url"])
    assert message in payload["userErrors"][0]["message"]
    assert await snapshot() == before


async def test_every_problem_of_the_input_is_reported_at_once(api: Api, workspace: Workspace) -> None:
    before = await snapshot()
    data = await api.data(
        CREATE_WEBHOOK, {"input": {"url": "mailto:x@example.com", "events": []}}, workspace.token
    )
    errors = [(e["code"], e["field"]) for e in data["createWebhook"]["userErrors"]]
    assert errors == [("INVALID", ["input", "url"]), ("REQUIRED", ["input", "events"])]
    assert data["createWebhook"]["webhook"] is None
    assert await snapshot() == before


async def test_a_workspace_has_at_most_twenty_webhooks(api: Api, workspace: Workspace) -> None:
    # given
    for _ in range(20):
        await create_webhook(api, workspace.token, PUBLIC_URL, ["CONTACT_CREATED"])
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_WEBHOOK, {"input": {"url": PUBLIC_URL, "events": ["CONTACT_CREATED"]}}, workspace.token
    )
    # then
    assert_rejected(data, "LIMIT_EXCEEDED", None)
    assert await snapshot() == before


async def test_webhooks_need_webhook_manage(api: Api, workspace: Workspace) -> None:
    # given
    created = await create_webhook(api, workspace.token, PUBLIC_URL, ["CONTACT_CREATED"])
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT", "LIBRARY_MANAGE"])
    before = await snapshot()
    # when
    create = await api.data(
        CREATE_WEBHOOK, {"input": {"url": PUBLIC_URL, "events": ["CONTACT_CREATED"]}}, token
    )
    delete = await api.data(DELETE_WEBHOOK, {"id": created["id"]}, token)
    listed = await api.gql(WEBHOOKS, token=token)
    node = await api.data(NODE, {"id": created["id"]}, token)
    # then
    assert_rejected(create, "FORBIDDEN", None)
    assert_rejected(delete, "FORBIDDEN", None)
    assert top_level_code(listed) == "FORBIDDEN"
    assert node["node"] is None
    assert await snapshot() == before


async def test_delete_webhook_drops_its_pending_deliveries(
    hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given
    token = setup.workspace.token
    created = await create_webhook(hooks.api, token, receiver.url, ["CONTACT_CREATED"])
    kept = await create_webhook(hooks.api, token, receiver.url, ["CONTACT_CREATED"])
    await make_contact(hooks.api, setup.workspace, setup.library)
    assert len(await deliveries()) == 2
    # when
    deleted = await hooks.api.ok(DELETE_WEBHOOK, {"id": created["id"]}, token)
    again = await hooks.api.data(DELETE_WEBHOOK, {"id": created["id"]}, token)
    sent = await hooks.worker.drain()
    # then
    assert deleted["deletedIds"] == [created["id"]]
    assert_rejected(again, "NOT_FOUND", ["id"])
    assert sent == 1
    assert [d.webhook_id for d in await deliveries()] == [oid(kept["id"])]
    assert len(receiver.received) == 1
    assert [w["id"] for w in (await hooks.api.data(WEBHOOKS, token=token))["webhooks"]] == [kept["id"]]


# ---------------------------------------------------------------- what is delivered


async def test_a_status_change_is_delivered_signed_with_the_contact_and_both_statuses(
    hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given
    token, library = setup.workspace.token, setup.library
    hook = await create_webhook(hooks.api, token, receiver.url, ["CONTACT_STATUS_CHANGED"])
    await make_custom_field(hooks.api, setup.workspace, "size", "TEXT")
    contact = await make_contact(
        hooks.api,
        setup.workspace,
        library,
        phone="+44 7911 123456",
        groupIds=[library.groups[0]],
        customFields=[{"key": "size", "value": "XL"}],
    )
    # when
    await hooks.api.ok(
        UPDATE_CONTACT, {"id": contact["id"], "input": {"statusId": library.statuses[1]}}, token
    )
    [pending] = await deliveries()
    sent = await hooks.worker.drain()
    # then
    assert pending.state == "pending" and pending.attempts == 0
    assert sent == 1
    [got] = receiver.received
    assert verify(hook["secret"], got.headers, got.body)
    assert not verify(hook["secret"] + "x", got.headers, got.body)
    assert got.headers["content-type"] == "application/json"
    event = await Event.find_one({"type": EventType.STATUS_CHANGED.value})
    assert event is not None
    body = got.json
    assert got.headers["x-contactgraph-event-id"] == body["id"]
    assert oid(body["id"]) == event.id
    assert (body["type"], body["workspaceId"]) == ("contact.status_changed", setup.workspace.id)
    assert body["occurredAt"].endswith("+00:00")
    data = body["data"]
    assert data["fromStatus"] == {"id": library.statuses[0], "name": "New", "color": "#1e90ff"}
    assert data["toStatus"] == {"id": library.statuses[1], "name": "Won", "color": "#2ecc71"}
    assert data["agentId"] == setup.workspace.agent_id
    shown = data["contact"]
    assert {k: shown[k] for k in ("id", "firstname", "lastname", "fullName", "phone", "waId", "type")} == {
        "id": contact["id"],
        "firstname": "Ada",
        "lastname": "Lovelace",
        "fullName": "Ada Lovelace",
        "phone": "+447911123456",
        "waId": "447911123456",
        "type": "LEAD",
    }
    assert (shown["statusId"], shown["sourceId"], shown["groupIds"]) == (
        library.statuses[1],
        library.sources[0],
        [library.groups[0]],
    )
    assert shown["customFields"] == {"size": "XL"}
    assert shown["optedOut"] is False
    [done] = await deliveries()
    assert (done.state, done.attempts, done.last_status, done.last_error) == ("delivered", 1, 200, None)
    assert [(a.status, a.error) for a in done.history] == [(200, None)]
    assert done.delivered_at is not None and done.lease_until is None


async def test_only_the_subscribed_events_of_active_webhooks_are_delivered(
    hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given
    token = setup.workspace.token
    await create_webhook(
        hooks.api, token, receiver.url, ["CONTACT_CREATED", "CONTACT_DELETED", "CONTACT_UPDATED"]
    )
    await create_webhook(hooks.api, token, receiver.url, ["CONTACT_UPDATED"], active=False)
    contact = await make_contact(hooks.api, setup.workspace, setup.library)
    # when
    await hooks.api.ok(
        UPDATE_CONTACT,
        {"id": contact["id"], "input": {"statusId": setup.library.statuses[1], "city": "Porto"}},
        token,
    )
    await hooks.api.ok(DELETE_CONTACTS, {"ids": [contact["id"]]}, token)
    await hooks.worker.drain()
    # then
    by_type = {r.json["type"]: r.json["data"] for r in receiver.received}
    assert len(receiver.received) == 3
    assert sorted(by_type) == ["contact.created", "contact.deleted", "contact.updated"]
    assert by_type["contact.updated"]["changed"] == ["city", "statusId"]
    assert "fromStatus" not in by_type["contact.updated"]
    assert by_type["contact.deleted"]["contact"]["city"] == "Porto"
    assert sorted(d.event_type.value for d in await deliveries()) == sorted(by_type)


async def test_another_workspace_never_receives_this_workspaces_events(
    hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given
    other = await hooks.api.create_workspace("Other")
    theirs = await create_webhook(hooks.api, other.token, receiver.url, ["CONTACT_CREATED"])
    before = await snapshot()
    # when
    await make_contact(hooks.api, setup.workspace, setup.library)
    deleted = await hooks.api.data(DELETE_WEBHOOK, {"id": theirs["id"]}, setup.workspace.token)
    listed = await hooks.api.data(WEBHOOKS, token=setup.workspace.token)
    node = await hooks.api.data(NODE, {"id": theirs["id"]}, setup.workspace.token)
    sent = await hooks.worker.drain()
    # then
    assert_rejected(deleted, "NOT_FOUND", ["id"])
    assert listed["webhooks"] == []
    assert node["node"] is None
    assert sent == 0 and receiver.received == []
    assert await deliveries() == []
    assert (await snapshot())["webhooks"] == before["webhooks"]


async def test_one_write_queues_its_deliveries_in_a_constant_number_of_round_trips(
    hooks: Instance, setup: Setup, engine: Engine
) -> None:
    # given
    token, trips = setup.workspace.token, []
    for count, n in ((1, 1), (4, 2)):
        while await Webhook.find({"workspace_id": oid(setup.workspace.id)}).count() < count:
            await create_webhook(
                hooks.api, token, "http://127.0.0.1:9/hook", ["CONTACT_CREATED", "CONTACT_UPDATED"]
            )
        variables = {
            "input": {
                "firstname": "Ada",
                "lastname": "Lovelace",
                "phone": phone(n),
                "statusId": setup.library.statuses[0],
                "sourceId": setup.library.sources[0],
            }
        }
        # when
        start = engine.round_trips.count
        await hooks.api.ok(CREATE_CONTACT, variables, token)
        trips.append(engine.round_trips.count - start)
    # then
    assert trips[0] == trips[1]
    assert await WebhookDelivery.find({"event_type": EventType.CREATED.value}).count() == 1 + 4


# ---------------------------------------------------------------- retries, restarts, races


async def test_a_failing_receiver_is_retried_with_backoff_and_its_attempts_kept(
    settings: Settings, hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given
    hook = await create_webhook(hooks.api, setup.workspace.token, receiver.url, ["CONTACT_CREATED"])
    await make_contact(hooks.api, setup.workspace, setup.library)
    receiver.answers = [500, 503]
    async with worker(settings, webhook_backoff_seconds=30) as deliveries_worker:
        # when
        first = await deliveries_worker.run_once()
        [failed] = await deliveries()
        not_yet = await deliveries_worker.run_once()
        second = await deliveries_worker.run_once(now=failed.next_attempt_at)
        [failed_twice] = await deliveries()
        third = await deliveries_worker.run_once(now=failed_twice.next_attempt_at)
    # then
    assert (first, not_yet, second, third) == (1, 0, 1, 1)
    assert (failed.state, failed.attempts, failed.last_status, failed.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert failed.next_attempt_at - failed.history[0].at == timedelta(seconds=30)
    assert failed_twice.next_attempt_at - failed_twice.history[1].at == timedelta(seconds=60)
    [done] = await deliveries()
    assert (done.state, done.attempts) == ("delivered", 3)
    assert [a.status for a in done.history] == [500, 503, 200]
    assert len({r.headers["x-contactgraph-event-id"] for r in receiver.received}) == 1
    assert all(verify(hook["secret"], r.headers, r.body) for r in receiver.received)


async def test_after_the_last_failed_attempt_a_delivery_is_failed(
    settings: Settings, hooks: Instance, setup: Setup
) -> None:
    # given: a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    await create_webhook(
        hooks.api, setup.workspace.token, f"http://127.0.0.1:{closed_port}/", ["CONTACT_CREATED"]
    )
    await make_contact(hooks.api, setup.workspace, setup.library)
    # when
    async with worker(settings, webhook_max_attempts=3) as deliveries_worker:
        claims = await deliveries_worker.drain()
    # then
    [failed] = await deliveries()
    assert claims == 3
    assert (failed.state, failed.attempts, failed.last_status) == ("failed", 3, None)
    assert all(a.status is None and a.error and "ConnectError" in a.error for a in failed.history)
    assert len(failed.history) == 3


async def test_a_receiver_that_does_not_answer_in_time_counts_as_a_failed_attempt(
    settings: Settings, hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given
    await create_webhook(hooks.api, setup.workspace.token, receiver.url, ["CONTACT_CREATED"])
    await make_contact(hooks.api, setup.workspace, setup.library)
    receiver.hold = True
    # when
    async with worker(settings, webhook_timeout_seconds=0.2, webhook_backoff_seconds=60) as deliveries_worker:
        await deliveries_worker.run_once()
    # then
    [pending] = await deliveries()
    assert (pending.state, pending.attempts, pending.last_status) == ("pending", 1, None)
    assert pending.last_error == "no answer within 0.2s"
    assert len(receiver.received) == 1


async def test_an_address_that_became_private_is_refused_at_delivery_time(
    settings: Settings, hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given: created where private addresses were allowed
    await create_webhook(hooks.api, setup.workspace.token, receiver.url, ["CONTACT_CREATED"])
    await make_contact(hooks.api, setup.workspace, setup.library)
    # when
    async with worker(settings, webhook_allow_private=False, webhook_backoff_seconds=60) as deliveries_worker:
        await deliveries_worker.run_once()
    # then
    [refused] = await deliveries()
    assert refused.state == "pending"
    assert refused.last_error is not None and refused.last_error.startswith("refused: ")
    assert "loopback" in refused.last_error
    assert receiver.received == []


async def test_deliveries_survive_a_restart_between_the_change_and_the_delivery(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    # given: a first process records changes, then stops before delivering them
    async with running(settings, engine, webhook_allow_private=True) as first:
        workspace = await first.api.create_workspace()
        library = await make_library(first.api, workspace)
        await create_webhook(
            first.api, workspace.token, receiver.url, ["CONTACT_CREATED", "CONTACT_STATUS_CHANGED"]
        )
        contact = await make_contact(first.api, workspace, library)
        await first.api.ok(
            UPDATE_CONTACT, {"id": contact["id"], "input": {"statusId": library.statuses[1]}}, workspace.token
        )
    assert [d.state for d in await deliveries()] == ["pending", "pending"]
    assert receiver.received == []
    # when: a second process starts and its worker runs
    async with running(settings, engine, webhook_allow_private=True) as second:
        sent = await second.worker.drain()
        again = await second.worker.drain()
    # then: each delivered once
    assert (sent, again) == (2, 0)
    assert sorted(r.json["type"] for r in receiver.received) == ["contact.created", "contact.status_changed"]
    assert len({r.headers["x-contactgraph-event-id"] for r in receiver.received}) == 2
    assert [(d.state, d.attempts) for d in await deliveries()] == [("delivered", 1), ("delivered", 1)]


async def test_a_delivery_whose_sender_died_is_claimed_again_once_its_lease_expires(
    settings: Settings, hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given: a sender claims the delivery, then dies without an outcome
    await create_webhook(hooks.api, setup.workspace.token, receiver.url, ["CONTACT_CREATED"])
    await make_contact(hooks.api, setup.workspace, setup.library)
    async with worker(settings) as dead, worker(settings) as alive:
        claim = await dead.claim()
        assert claim is not None
        lease_until = claim.delivery.lease_until
        assert lease_until is not None
        # when
        during_lease = await alive.run_once()
        after_lease = await alive.run_once(now=lease_until)
    # then
    assert (during_lease, after_lease) == (0, 1)
    [done] = await deliveries()
    assert (done.state, done.attempts) == ("delivered", 2)
    assert [(a.status, a.error is not None) for a in done.history] == [(None, True), (200, False)]
    assert "sender stopped" in (done.history[0].error or "")
    assert len(receiver.received) == 1


async def test_two_workers_racing_send_each_delivery_once(
    settings: Settings, hooks: Instance, setup: Setup, receiver: Receiver
) -> None:
    # given
    await create_webhook(hooks.api, setup.workspace.token, receiver.url, ["CONTACT_CREATED"])
    for n in range(12):
        await make_contact(hooks.api, setup.workspace, setup.library, phone=phone(n))
    # when
    async with worker(settings, webhook_batch=3) as one, worker(settings, webhook_batch=3) as two:
        claims = await asyncio.gather(one.drain(), two.drain())
    # then
    assert sum(claims) == 12
    ids = [r.headers["x-contactgraph-event-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 12
    assert {(d.state, d.attempts) for d in await deliveries()} == {("delivered", 1)}


async def test_the_background_worker_delivers_and_stops_with_the_app(
    settings: Settings, engine: Engine, receiver: Receiver
) -> None:
    # given
    async with running(
        settings, engine, webhook_allow_private=True, webhook_delivery=True, webhook_poll_seconds=0.01
    ) as instance:
        workspace = await instance.api.create_workspace()
        library = await make_library(instance.api, workspace)
        hook = await create_webhook(instance.api, workspace.token, receiver.url, ["CONTACT_CREATED"])
        # when
        contact = await make_contact(instance.api, workspace, library)
        got = await receiver.next()
        assert instance.worker.running
    # then
    assert not instance.worker.running
    assert verify(hook["secret"], got.headers, got.body)
    assert got.json["data"]["contact"]["id"] == contact["id"]
    assert [(d.state, d.attempts) for d in await deliveries()] == [("delivered", 1)]

"""Subscription fan-out benchmark: status changes to many subscribers on real WebSocket connections.

A uvicorn server (a child process running this script with ``--serve``) listens on
127.0.0.1 on a free port, over the engine ``CONTACTGRAPH_MONGODB_URL`` names (the
in-memory engine by default) with a seeded workspace. This process opens N WebSocket
connections to it (the ``websockets`` client, ``graphql-transport-ws``), each
subscribing to ``contactStatusChanged`` with the same document and token, then moves
contacts with ``moveContactStatus`` over HTTP and times, for N = 100 and 1,000:

- ``one_move``: from sending the move's request to the last subscriber's delivery
  (the median of ``--repeat`` moves, each awaited to its last delivery);
- ``moves_in_a_row``: ``--moves`` moves sent one after another without waiting for
  deliveries, from the first request to the last delivery of the last move.

For each it prints one JSON line, with deliveries per second, and what the server spent
on each event beyond the move itself: database round trips (the engine's counter) and
CPU time (the server process's). Every subscriber must hear every move, in order.
Everything is bounded (``--timeout`` per wait); the server stops when this process does.

    python bench/fanout.py [--subscribers 100,1000] [--repeat 3] [--moves 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from harness import mutation_payload
from websockets.asyncio.client import ClientConnection, connect

HOST = "127.0.0.1"
PROTOCOL = "graphql-transport-ws"
STATS_PATH = "/bench/stats"
CONNECTING_AT_ONCE = 50
SCRIPT = os.path.abspath(__file__)

SUBSCRIBE = """
subscription {
  contactStatusChanged {
    contact { id firstname lastname phone status { id name color } }
    fromStatus { id name }
    toStatus { id name }
    changedAt
    changedBy { id name }
  }
}"""

WORKSPACE = """
mutation($name: String!) { createWorkspace(name: $name) { adminToken userErrors { message } } }"""
STATUS = """
mutation($name: String!, $color: String!) {
  createStatus(input: {name: $name, color: $color}) { status { id } userErrors { message } }
}"""
SOURCE = """
mutation($name: String!) { createSource(input: {name: $name}) { source { id } userErrors { message } } }"""
CONTACT = """
mutation($input: ContactInput!) { createContact(input: $input) { contact { id } userErrors { message } } }"""
MOVE = """
mutation($id: ID!, $statusId: ID!) {
  moveContactStatus(contactId: $id, statusId: $statusId) { contact { id } userErrors { message } }
}"""


# ---------------------------------------------------------------- the server (child process)


def serve(admin_key: str, deadline: float) -> None:
    """Run the app under uvicorn on a free loopback port; print the port; stop on stdin's end."""
    import uvicorn
    from pydantic import SecretStr
    from starlette.responses import JSONResponse

    from contactgraph.app import create_app
    from contactgraph.db import connect as connect_engine
    from contactgraph.documents import DOCUMENTS
    from contactgraph.settings import Settings

    settings = Settings().model_copy(
        update={
            "database": f"contactgraph_bench_{secrets.token_hex(4)}",
            "admin_key": SecretStr(admin_key),
            "webhook_delivery": False,
            "graphiql": False,
            # The process making the moves hands their events to its subscribers at once; a
            # long interval keeps the feeder's reads out of the per-event round trips.
            "event_poll_seconds": 60.0,
        }
    )

    async def main() -> None:
        engine = await connect_engine(settings.mongodb_url, settings.database, list(DOCUMENTS))
        app = create_app(settings, engine=engine)

        async def wrapped(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["path"] == STATS_PATH:
                stats = {
                    "round_trips": engine.round_trips.count,
                    "documents": engine.round_trips.documents,
                    "cpu": time.process_time(),
                    "subscribers": app.state.broker.subscriber_count,
                    "engine": "memory" if engine.in_memory else "mongodb",
                }
                await JSONResponse(stats)(scope, receive, send)
            else:
                await app(scope, receive, send)

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        config = uvicorn.Config(wrapped, log_level="warning", backlog=4096, lifespan="on")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn offers no event)
            await asyncio.sleep(0.01)
        print(json.dumps({"port": listener.getsockname()[1]}), flush=True)

        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline):
                await asyncio.wait(
                    [serving, asyncio.create_task(reader.read())], return_when=asyncio.FIRST_COMPLETED
                )
        server.should_exit = True
        await serving
        if not engine.in_memory:
            await engine.client.drop_database(settings.database)
        await engine.close()

    asyncio.run(main())


@dataclass
class Server:
    process: asyncio.subprocess.Process
    url: str
    client: httpx.AsyncClient

    async def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = (await self.client.get(STATS_PATH)).json()
        return stats

    async def gql(self, document: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        return await mutation_payload(self.client, document, variables, token)


@contextlib.asynccontextmanager
async def server_process(wait: float, deadline: float) -> AsyncIterator[tuple[Server, str]]:
    """The server in a child process, and its admin key; it stops when the block ends."""
    admin_key = secrets.token_urlsafe(24)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        SCRIPT,
        "--serve",
        "--admin-key",
        admin_key,
        "--deadline",
        str(deadline),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        async with asyncio.timeout(wait):
            line = await process.stdout.readline()
        if not line:
            raise RuntimeError("the server did not start")
        url = f"http://{HOST}:{json.loads(line)['port']}"
        async with httpx.AsyncClient(base_url=url, timeout=wait) as client:
            yield Server(process, url, client), admin_key
    finally:
        process.stdin.close()  # the server's signal to stop
        try:
            async with asyncio.timeout(wait):
                await process.wait()
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
            await process.wait()


@dataclass
class Seeded:
    token: str
    statuses: list[str]
    contacts: list[str]


async def seed(server: Server, admin_key: str, contacts: int) -> Seeded:
    """A workspace with three statuses, a source and ``contacts`` contacts, all in the first status."""
    token = (await server.gql(WORKSPACE, {"name": "fan-out"}, admin_key))["adminToken"]
    statuses = [
        (await server.gql(STATUS, {"name": name, "color": color}, token))["status"]["id"]
        for name, color in (("New", "#1e90ff"), ("Qualified", "#f1c40f"), ("Won", "#2ecc71"))
    ]
    source = (await server.gql(SOURCE, {"name": "WhatsApp"}, token))["source"]["id"]
    ids = []
    for n in range(contacts):
        contact = {
            "firstname": "Ada",
            "lastname": f"Lovelace {n}",
            "phone": f"+1415{2_000_000 + n:07d}",
            "statusId": statuses[0],
            "sourceId": source,
        }
        ids.append((await server.gql(CONTACT, {"input": contact}, token))["contact"]["id"])
    return Seeded(token, statuses, ids)


# ---------------------------------------------------------------- the subscribers (this process)


@dataclass
class Subscriber:
    """One connection and what it heard: (arrival time, contact id, new status id) per change."""

    connection: ClientConnection
    heard: list[tuple[float, str, str]] = field(default_factory=list)
    failure: str | None = None


class Audience:
    """N subscribers, and a way to wait until each has heard a given number of changes."""

    def __init__(self) -> None:
        self.subscribers: list[Subscriber] = []
        self._changed = asyncio.Condition()
        self._readers: list[asyncio.Task[None]] = []

    async def add(self, url: str, token: str) -> None:
        connection = await connect(url, subprotocols=[PROTOCOL], open_timeout=30, ping_interval=None)  # type: ignore[list-item]
        await connection.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await connection.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"connection_init answered {ack}")
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        subscriber = Subscriber(connection)
        self.subscribers.append(subscriber)
        self._readers.append(asyncio.create_task(self._read(subscriber)))

    async def _read(self, subscriber: Subscriber) -> None:
        async for raw in subscriber.connection:
            arrived = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") != "next" or "errors" in message["payload"]:
                subscriber.failure = json.dumps(message)
            else:
                change = message["payload"]["data"]["contactStatusChanged"]
                subscriber.heard.append((arrived, change["contact"]["id"], change["toStatus"]["id"]))
            async with self._changed:
                self._changed.notify_all()

    async def heard_all(self, count: int, wait: float) -> None:
        """Wait until every subscriber has heard ``count`` changes (or one of them failed)."""
        async with asyncio.timeout(wait), self._changed:
            await self._changed.wait_for(
                lambda: all(len(s.heard) >= count or s.failure for s in self.subscribers)
            )
        failed = [s.failure for s in self.subscribers if s.failure]
        if failed:
            raise RuntimeError(f"{len(failed)} subscribers failed, e.g. {failed[0]}")

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        await asyncio.gather(*(s.connection.close() for s in self.subscribers), return_exceptions=True)


@contextlib.asynccontextmanager
async def audience(server: Server, token: str, count: int, wait: float) -> AsyncIterator[Audience]:
    """``count`` subscribers, connected and registered with the server's broker."""
    crowd = Audience()
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    ws_url = server.url.replace("http://", "ws://") + "/graphql"

    async def join() -> None:
        async with gate:
            await crowd.add(ws_url, token)

    try:
        async with asyncio.timeout(wait):
            await asyncio.gather(*(join() for _ in range(count)))
            while (await server.stats())["subscribers"] < count:  # noqa: ASYNC110 (another process)
                await asyncio.sleep(0.05)
        yield crowd
    finally:
        await crowd.close()


# ---------------------------------------------------------------- measuring


@dataclass
class Cost:
    """What the server spent between two readings of its counters."""

    round_trips: int
    documents: int
    cpu: float

    @classmethod
    def between(cls, before: dict[str, Any], after: dict[str, Any]) -> Cost:
        return cls(*(after[k] - before[k] for k in ("round_trips", "documents", "cpu")))

    def less(self, other: Cost, times: int) -> Cost:
        """This cost less ``times`` the ``other``."""
        return Cost(
            self.round_trips - other.round_trips * times,
            self.documents - other.documents * times,
            self.cpu - other.cpu * times,
        )


class Mover:
    """Moves the seeded contacts round the statuses, each move to a status it is not in."""

    def __init__(self, server: Server, seeded: Seeded) -> None:
        self.server = server
        self.seeded = seeded
        self.at = {contact: 0 for contact in seeded.contacts}
        self.turn = 0
        self.made: list[tuple[str, str]] = []

    async def move(self) -> tuple[str, str]:
        contact = self.seeded.contacts[self.turn % len(self.seeded.contacts)]
        self.turn += 1
        self.at[contact] = (self.at[contact] + 1) % len(self.seeded.statuses)
        status = self.seeded.statuses[self.at[contact]]
        await self.server.gql(MOVE, {"id": contact, "statusId": status}, self.seeded.token)
        self.made.append((contact, status))
        return contact, status


async def move_cost(server: Server, mover: Mover, repeat: int) -> Cost:
    """The median cost of a move that nobody hears (no subscribers yet)."""
    costs = []
    for _ in range(repeat):
        before = await server.stats()
        await mover.move()
        costs.append(Cost.between(before, await server.stats()))
    return Cost(
        round(statistics.median(c.round_trips for c in costs)),
        round(statistics.median(c.documents for c in costs)),
        statistics.median(c.cpu for c in costs),
    )


def check_order(crowd: Audience, made: list[tuple[str, str]]) -> None:
    expected = made[-len(crowd.subscribers[0].heard) :] if crowd.subscribers else []
    for subscriber in crowd.subscribers:
        if [(c, s) for _, c, s in subscriber.heard] != expected:
            raise RuntimeError("a subscriber heard the moves out of order, or missed one")


def figure(
    name: str, engine: str, subscribers: int, moves: int, seconds: float, cost: Cost, events: int, move: Cost
) -> dict[str, Any]:
    """One result line: ``moves`` moves all heard in ``seconds``; ``cost``: what ``events`` moves took."""
    fan_out = cost.less(move, events)
    return {
        "benchmark": "fanout",
        "figure": name,
        "engine": engine,
        "subscribers": subscribers,
        "moves": moves,
        "seconds_to_last_delivery": round(seconds, 4),
        "deliveries_per_second": round(subscribers * moves / seconds),
        "server_round_trips_per_event": round(fan_out.round_trips / events, 2),
        "server_round_trips_per_delivery": round(fan_out.round_trips / (events * subscribers), 3),
        "server_documents_per_event": round(fan_out.documents / events, 2),
        "server_cpu_ms_per_event": round(fan_out.cpu * 1000 / events, 2),
        "server_cpu_us_per_delivery": round(fan_out.cpu * 1e6 / (events * subscribers), 1),
        "move_round_trips": move.round_trips,
    }


async def one_move(
    server: Server, crowd: Audience, mover: Mover, repeat: int, wait: float
) -> tuple[float, Cost]:
    """The median time from a move's request to its last delivery, and the summed cost of the moves."""
    times = []
    before = await server.stats()
    for _ in range(repeat):
        heard = len(crowd.subscribers[0].heard)
        started = time.perf_counter()
        await mover.move()
        await crowd.heard_all(heard + 1, wait)
        times.append(max(s.heard[heard][0] for s in crowd.subscribers) - started)
    cost = Cost.between(before, await server.stats())
    check_order(crowd, mover.made)
    return statistics.median(times), cost


async def moves_in_a_row(
    server: Server, crowd: Audience, mover: Mover, moves: int, wait: float
) -> tuple[float, Cost]:
    heard = len(crowd.subscribers[0].heard)
    before = await server.stats()
    started = time.perf_counter()
    for _ in range(moves):
        await mover.move()
    await crowd.heard_all(heard + moves, wait)
    seconds = max(s.heard[-1][0] for s in crowd.subscribers) - started
    cost = Cost.between(before, await server.stats())
    check_order(crowd, mover.made)
    return seconds, cost


def allow_descriptors(subscribers: int) -> None:
    """Raise the soft limit on open files to what the connections need (both ends, in two processes)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = subscribers + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            raise SystemExit(f"{subscribers} subscribers need {wanted} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def run(sizes: list[int], repeat: int, moves: int, wait: float) -> None:
    allow_descriptors(max(sizes))  # before the server starts: it inherits the limit
    deadline = wait * (len(sizes) * (repeat + 3) + 2)
    async with server_process(wait, deadline) as (server, admin_key):
        seeded = await seed(server, admin_key, contacts=max(moves, 3))
        mover = Mover(server, seeded)
        move = await move_cost(server, mover, repeat)
        engine = (await server.stats())["engine"]
        for size in sizes:
            async with audience(server, seeded.token, size, wait) as crowd:
                mover.made.clear()
                seconds, cost = await one_move(server, crowd, mover, repeat, wait)
                print(
                    json.dumps(figure("one_move", engine, size, 1, seconds, cost, repeat, move)), flush=True
                )
                seconds, cost = await moves_in_a_row(server, crowd, mover, moves, wait)
                print(
                    json.dumps(figure("moves_in_a_row", engine, size, moves, seconds, cost, moves, move)),
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", default="100,1000", help="comma-separated numbers of subscribers")
    parser.add_argument("--repeat", type=int, default=3, help="single moves timed (the median is shown)")
    parser.add_argument("--moves", type=int, default=5, help="moves made in a row")
    parser.add_argument("--timeout", type=float, default=60.0, help="longest wait for any one step, seconds")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--admin-key", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=600.0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.admin_key, arguments.deadline)
        return
    sizes = [int(n) for n in arguments.subscribers.split(",")]
    asyncio.run(run(sizes, arguments.repeat, arguments.moves, arguments.timeout))


if __name__ == "__main__":
    main()

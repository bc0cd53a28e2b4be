"""The load test: CLIENTS concurrent clients for SECONDS against uvicorn on 127.0.0.1, then invariants.

The server runs in a process of its own (``loadtest/server.py``) on the in-memory
engine unless ``--mongodb-url`` names a MongoDB, with webhooks allowed to reach the
receiver this process runs on 127.0.0.1. Clients mix list and board queries, creates,
updates, moves, upserts of a small set of numbers (so they race), merges, deletes and
assignments, while four agents (two of them CONTACT_VIEW_OWN) listen over WebSocket.
Every request loop stops at the deadline or after ``--max-requests`` per client.

Prints one JSON line per operation (latency p50/p95/p99 in ms), one per invariant,
and a summary; exits 1 if any invariant breaks.

    python -m loadtest.load [--seconds 60] [--clients 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from .client import Client, Outcomes
from .invariants import Invariants
from .receiver import receiving
from .server import running
from .subscribers import Subscriber
from .workload import MOVE, Ledger, Traffic, Workspace, phone, run_clients, set_up

SEED_CONTACTS = 150
BARRIER_ROUNDS = 10  # the first barrier moves again until every subscription is registered
BARRIER_WAIT_SECONDS = 1.0
LAST_BARRIER_WAIT_SECONDS = 10.0
WEBHOOK_QUIET_SECONDS = 1.0
MAX_ATTEMPTS = 8


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients run")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause of a client between operations")
    parser.add_argument("--max-requests", type=int, default=100_000, help="most operations per client")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice")
    parser.add_argument(
        "--mongodb-url", default="memory://", help="the server's database (default in memory)"
    )
    parser.add_argument("--profile", type=Path, help="write the server's cProfile statistics here")
    parser.add_argument("--webhook-fail-ratio", type=float, default=0.05, help="share of deliveries refused")
    return parser.parse_args(argv)


def server_environment(args: argparse.Namespace, admin_key: str) -> dict[str, str]:
    return {
        "CONTACTGRAPH_MONGODB_URL": args.mongodb_url,
        "CONTACTGRAPH_DATABASE": f"contactgraph_load_{secrets.token_hex(4)}",
        "CONTACTGRAPH_ADMIN_KEY": admin_key,
        "CONTACTGRAPH_GRAPHIQL": "false",
        "CONTACTGRAPH_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on 127.0.0.1
        "CONTACTGRAPH_WEBHOOK_POLL_SECONDS": "0.2",
        "CONTACTGRAPH_WEBHOOK_BACKOFF_SECONDS": "0.5",  # refused deliveries are retried within the run
        "CONTACTGRAPH_WEBHOOK_BACKOFF_MAX_SECONDS": "4",
        "CONTACTGRAPH_WEBHOOK_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "CONTACTGRAPH_EVENT_POLL_SECONDS": "0.5",
    }


async def barrier(
    client: Client,
    workspace: Workspace,
    ledger: Ledger,
    subscribers: list[Subscriber],
    round_: int,
    wait: float = BARRIER_WAIT_SECONDS,
    rounds: int = BARRIER_ROUNDS,
) -> bool:
    """Move every sentinel; wait until each subscriber hears the moves it may see.

    At the start this tells that every subscription is registered (a subscriber hears
    nothing before); at the end, that everything before it was delivered.
    """
    statuses = workspace.statuses
    for attempt in range(rounds):
        target = statuses[(round_ + attempt + 1) % len(statuses)]
        moves = []
        for agent_id, contact_id in workspace.sentinels.items():
            payload = await client.mutate(
                "barrier", MOVE, {"id": contact_id, "statusId": target}, workspace.admin.token
            )
            if payload is None:
                raise RuntimeError(f"a barrier move failed: {client.outcomes.failures[-1:]}")
            ledger.status_set(payload["contact"])
            moves.append((agent_id, contact_id, ledger.statuses_set[-1].changed_at))
        heard = await asyncio.gather(
            *(
                subscriber.hears(contact_id, at, wait)
                for subscriber in subscribers
                for agent_id, contact_id, at in moves
                if subscriber.own_agent_id in (None, agent_id)
            )
        )
        if all(heard):
            return True
    return False


async def load(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    admin_key = secrets.token_urlsafe(24)
    outcomes = Outcomes()
    ledger = Ledger()
    started = time.monotonic()
    async with (
        tempdir() as workdir,
        receiving(args.webhook_fail_ratio, args.seed) as receiver,
        running(server_environment(args, admin_key), workdir, args.profile) as server,
    ):
        limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=args.clients + 10)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, trust_env=False) as http:
            client = Client(http, outcomes)
            workspace = await set_up(client, admin_key, receiver.url)
            receiver.secret = workspace.webhook_secret
            setup = Traffic(client, workspace, ledger, random.Random(rng.random()))
            await setup.seed(SEED_CONTACTS, first_number=10_000)
            for n, agent in enumerate(workspace.own):
                workspace.sentinels[agent.id] = await setup.sentinel(agent, phone(20_000 + n))
            subscribers = [
                Subscriber("admin", workspace.admin.token),
                Subscriber("viewer", workspace.viewer.token),
                *(Subscriber(f"own{n}", a.token, a.id) for n, a in enumerate(workspace.own)),
            ]
            for subscriber in subscribers:
                await subscriber.start(server.ws_url)
            if not await barrier(client, workspace, ledger, subscribers, 0):
                raise RuntimeError("the subscribers did not hear the first barrier's moves")
            # a tenth of the clients are CONTACT_VIEW_OWN agents: they read and move only their own
            tokens = [
                (workspace.own[n % len(workspace.own)].token, True)
                if n % 10 == 9
                else (workspace.admin.token, False)
                for n in range(args.clients)
            ]
            traffic = [Traffic(client, workspace, ledger, random.Random(rng.random())) for _ in tokens]
            load_started = time.monotonic()
            operations = await run_clients(traffic, args.seconds, args.max_requests, args.think, tokens)
            elapsed = time.monotonic() - load_started
            # the subscribers may be behind: wait for them longer (the invariants tell what is missing)
            if not await barrier(client, workspace, ledger, subscribers, 1, LAST_BARRIER_WAIT_SECONDS, 3):
                outcomes.fail("the subscribers did not hear the last barrier's moves")
            for subscriber in subscribers:
                await subscriber.stop()
            await receiver.quiet(WEBHOOK_QUIET_SECONDS, at_most=10.0)
        collections = await server.stop()
    checks = Invariants(
        collections, workspace, ledger, outcomes, subscribers, receiver.receipts, MAX_ATTEMPTS
    ).all()
    for line in outcomes.latencies.lines():
        print(json.dumps(line))
    for check in checks:
        print(json.dumps(check.line(), default=str))
    ok = all(check.ok for check in checks)
    summary: dict[str, Any] = {
        "clients": args.clients,
        "think_seconds": args.think,
        "seconds": round(elapsed, 1),
        "operations": operations,
        "requests": outcomes.latencies.total,
        "requests_per_second": round(outcomes.latencies.total / max(elapsed, 1e-9), 1),
        "user_errors": {f"{op}:{code}": n for (op, code), n in sorted(outcomes.user_errors.items())},
        "wall_seconds": round(time.monotonic() - started, 1),
        "ok": ok,
    }
    print(json.dumps({"load": summary}))
    return 0 if ok else 1


@asynccontextmanager
async def tempdir() -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory(prefix="contactgraph-load-") as name:
        yield Path(name)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    return asyncio.run(asyncio.wait_for(load(args), args.seconds + 180))


if __name__ == "__main__":
    sys.exit(main())

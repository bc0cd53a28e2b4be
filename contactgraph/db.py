"""Connect to MongoDB (``mongodb://…``) or the in-memory engine (``memory://``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from beanie import Document, init_beanie
from pymongo import AsyncMongoClient, monitoring

from .memory import MemoryClient, RoundTrips
from .models.base import Session

T = TypeVar("T")


class _CountingListener(monitoring.CommandListener):
    """Counts commands, the documents their replies carry, and the time they are under way."""

    def __init__(self, round_trips: RoundTrips) -> None:
        self.round_trips = round_trips

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.round_trips.count += 1
        self.round_trips.began()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.round_trips.documents += documents_in(event.reply)
        self.round_trips.ended()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self.round_trips.ended()


def documents_in(reply: Mapping[str, Any]) -> int:
    """The documents a reply returns: a cursor's batch (find, aggregate, getMore), or findAndModify's."""
    cursor = reply.get("cursor")
    if isinstance(cursor, Mapping):
        return len(cursor.get("firstBatch") or cursor.get("nextBatch") or [])
    return 1 if reply.get("value") is not None else 0


@dataclass
class Engine:
    """The connected database, and how many round trips it has served."""

    url: str
    client: Any
    database: Any
    round_trips: RoundTrips
    transactions: bool = False

    @property
    def in_memory(self) -> bool:
        return isinstance(self.client, MemoryClient)

    async def ping(self) -> bool:
        try:
            await self.database.command("ping")
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()

    async def atomically(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``work`` in a transaction where the server has them (a replica set).

        The in-memory engine has none, but it runs each command to completion without
        yielding, so a change and its event are never seen half-written there either;
        a standalone ``mongod`` writes them one after the other.
        """
        if not self.transactions:
            return await work(None)
        async with self.client.start_session() as session:
            return await session.with_transaction(work)  # type: ignore[no-any-return]


_current: Engine | None = None


def current_engine() -> Engine:
    """The engine the documents are bound to (Beanie binds them process-wide)."""
    if _current is None:
        raise RuntimeError("contactgraph.db.connect() has not been called")
    return _current


async def connect(url: str, database: str, documents: Sequence[type[Document]]) -> Engine:
    """Open ``url`` and bind ``documents`` to ``database`` in it, creating their indexes."""
    if url.startswith("memory://"):
        client: Any = MemoryClient()
        round_trips = client.round_trips
    elif url.startswith(("mongodb://", "mongodb+srv://")):
        round_trips = RoundTrips()
        client = AsyncMongoClient(url, tz_aware=True, event_listeners=[_CountingListener(round_trips)])
    else:
        raise ValueError(f"unsupported database URL {url!r}: use mongodb://… or memory://")
    db = client[database]
    await init_beanie(database=db, document_models=list(documents))
    transactions = False
    if not isinstance(client, MemoryClient):
        hello = await client.admin.command("hello")
        transactions = "setName" in hello
    global _current
    _current = Engine(url=url, client=client, database=db, round_trips=round_trips, transactions=transactions)
    return _current

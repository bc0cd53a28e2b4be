"""Connect to MongoDB (``mongodb://…``) or the in-memory engine (``memory://``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beanie import init_beanie
from pymongo import AsyncMongoClient, monitoring

from .memory import MemoryClient, RoundTrips
from .models import DOCUMENTS


class _CountingListener(monitoring.CommandListener):
    def __init__(self, round_trips: RoundTrips) -> None:
        self.round_trips = round_trips

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.round_trips.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@dataclass
class Engine:
    """The connected database, and how many round trips it has served."""

    url: str
    client: Any
    database: Any
    round_trips: RoundTrips

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


async def connect(url: str, database: str) -> Engine:
    """Open ``url`` and bind every document to ``database`` in it, creating indexes."""
    if url.startswith("memory://"):
        client: Any = MemoryClient()
        round_trips = client.round_trips
    elif url.startswith(("mongodb://", "mongodb+srv://")):
        round_trips = RoundTrips()
        client = AsyncMongoClient(url, tz_aware=True, event_listeners=[_CountingListener(round_trips)])
    else:
        raise ValueError(f"unsupported database URL {url!r}: use mongodb://… or memory://")
    db = client[database]
    await init_beanie(database=db, document_models=DOCUMENTS)
    return Engine(url=url, client=client, database=db, round_trips=round_trips)

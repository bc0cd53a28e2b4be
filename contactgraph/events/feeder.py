"""Feeds a broker the events every process writes, so a change made anywhere reaches every subscriber.

On a replica set it follows the ``events`` collection with a change stream (inserts
only). Where there are no change streams (the in-memory engine, a standalone
``mongod``) it reads new events at a short interval. It reads only while the broker
has subscribers, from the moment the first of them subscribed: subscribers hear of
changes made after they subscribed, never of a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from ..models.base import as_utc
from .broker import Broker
from .outbox import Event

logger = logging.getLogger("contactgraph.events")

_INSERTS = [{"$match": {"operationType": "insert"}}]


class PollWindow:
    """Which events a poller has read, so each read returns every event not read before, once.

    Events from different processes do not commit in ``occurred_at`` order (clocks
    differ; a write takes time between stamping its event and committing it), so each
    read goes back ``overlap`` before the newest event read so far and skips the ids it
    already returned. An event committed more than ``overlap`` late would be missed.
    Events stamped before ``since`` (before anyone subscribed) are never returned.
    """

    def __init__(self, since: datetime, overlap: timedelta) -> None:
        self.since = as_utc(since)
        self.overlap = overlap
        self.newest = self.since
        self._read: dict[ObjectId, datetime] = {}

    async def read(self) -> list[Event]:
        """The events committed since the last read, by ``occurred_at`` then ``_id``."""
        query = {"occurred_at": {"$gte": self.newest - self.overlap}}
        return self.take(await Event.find(query).sort("+occurred_at", "+_id").to_list())

    def take(self, events: list[Event]) -> list[Event]:
        """Of ``events`` (in order), those not read before and stamped since ``since``."""
        fresh = []
        for event in events:
            moment = as_utc(event.occurred_at)
            if event.id is None or event.id in self._read:
                continue
            self._read[event.id] = moment
            self.newest = max(self.newest, moment)
            if moment >= self.since:
                fresh.append(event)
        horizon = self.newest - self.overlap
        self._read = {k: v for k, v in self._read.items() if v >= horizon}
        return fresh


class Feeder:
    """Runs in the background of one application, from its start to its shutdown."""

    def __init__(
        self, broker: Broker, *, change_streams: bool, poll_seconds: float, overlap_seconds: float
    ) -> None:
        self.broker = broker
        self.change_streams = change_streams
        self.poll_seconds = poll_seconds
        self.overlap = timedelta(seconds=overlap_seconds)
        self._task: asyncio.Task[None] | None = None
        self._resume_token: Any = None
        self._window: PollWindow | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="contactgraph-event-feeder")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            await self.broker.wait_listened()
            try:
                await (self._follow() if self.change_streams else self._poll())
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("reading events for subscribers failed; retrying")
                await asyncio.sleep(self.poll_seconds)

    async def _poll(self) -> None:
        """Read new events at each interval until the broker has no subscribers.

        After a failed read the same window reads on from where it was, never again from
        the first subscription: the broker remembers only so many ids to skip.
        """
        since = as_utc(self.broker.listened_since)
        if self._window is None or self._window.since != since:
            self._window = PollWindow(since, self.overlap)
        window = self._window
        while self.broker.listened:
            self.broker.deliver(await window.read())
            await asyncio.sleep(self.poll_seconds)
        self._window = None  # nobody listens: the next subscriber starts from then

    async def _follow(self) -> None:
        """Follow inserts into ``events`` until the broker has no subscribers."""
        collection = Event.get_pymongo_collection()
        wait_ms = max(1, int(self.poll_seconds * 1000))
        watch = collection.watch(_INSERTS, max_await_time_ms=wait_ms, resume_after=self._resume_token)
        async with await watch as stream:
            if self._resume_token is None:
                # What was committed between the first subscription and the stream's opening.
                self.broker.deliver(await PollWindow(self.broker.listened_since, self.overlap).read())
            while self.broker.listened:
                change = await stream.try_next()
                self._resume_token = stream.resume_token  # resume here if the stream fails
                if change is not None:
                    self.broker.deliver([Event.model_validate(change["fullDocument"])])
        self._resume_token = None  # nobody listens: the next subscriber starts from then

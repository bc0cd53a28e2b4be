"""The in-process broker: hands each event once to every subscriber whose filter accepts it.

Publishing never waits: each subscriber has a bounded queue of its own, and one that
falls so far behind that its queue overflows is dropped there and then (its queue
emptied, its reader told with ``SubscriberOverflow``), so a stalled reader neither
holds up the others nor grows memory. Every subscriber of an event gets the same
``Delivery``, through which those that would compute the same thing from it share it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from bson import ObjectId

from ..models import utcnow
from .outbox import Event

Accepts = Callable[[Event], bool]
T = TypeVar("T")

logger = logging.getLogger("contactgraph.events")

# Events reach a broker twice (published at once by the process that made the change,
# then read back by the feeder); remembering this many ids covers the gap between them.
RECENT_IDS = 10_000


class SubscriberOverflow(Exception):
    """The subscriber fell more than its queue's size behind and was closed."""

    def __init__(self, size: int) -> None:
        super().__init__(f"more than {size} events waited unread")
        self.size = size


class Delivery:
    """One event as handed to every subscriber that accepts it, and what they make of it together.

    Subscribers that would make the same thing of the event (loaders for the same scope,
    a result for the same document and permissions) ask ``shared`` under the same key:
    the first one makes it, the others get that. It goes when the last of them has read
    the event, so nothing outlives it.
    """

    __slots__ = ("_shared", "event")

    def __init__(self, event: Event) -> None:
        self.event = event
        self._shared: dict[Hashable, Any] = {}

    def shared(self, key: Hashable, make: Callable[[], T]) -> T:
        if key not in self._shared:
            self._shared[key] = make()
        return cast(T, self._shared[key])


class Subscriber:
    """One listener: iterate it for the deliveries of the events its filter accepts, in order."""

    def __init__(self, accepts: Accepts, size: int) -> None:
        self.accepts = accepts
        self.size = size
        self.overflowed = False
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue(size)

    @property
    def pending(self) -> int:
        """Events queued and not yet read."""
        return 0 if self.overflowed else self._queue.qsize()

    def offer(self, delivery: Delivery) -> bool:
        """Queue ``delivery``; False (and closed) if the queue was full."""
        if self.overflowed:
            return False
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self._close()
            return False
        return True

    def _close(self) -> None:
        self.overflowed = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)  # wakes a reader waiting on the empty queue

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self) -> Delivery:
        delivery = await self._queue.get()
        if delivery is None:
            raise SubscriberOverflow(self.size)
        return delivery


class Broker:
    """The subscribers of one application, and the ids of the events lately delivered."""

    def __init__(self, queue_size: int, remember: int = RECENT_IDS) -> None:
        self.queue_size = queue_size
        self.remember = remember
        self._subscribers: set[Subscriber] = set()
        self._recent: OrderedDict[ObjectId, None] = OrderedDict()
        self._listened = asyncio.Event()
        self.listened_since = utcnow()

    @property
    def listened(self) -> bool:
        """Whether anyone is subscribed (the feeder reads the database only then)."""
        return bool(self._subscribers)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def wait_listened(self) -> None:
        await self._listened.wait()

    @asynccontextmanager
    async def subscribe(self, accepts: Accepts) -> AsyncIterator[Subscriber]:
        """A subscriber for the events ``accepts`` takes, registered while the block runs."""
        subscriber = Subscriber(accepts, self.queue_size)
        if not self._subscribers:
            self.listened_since = utcnow()  # the feeder hands on events from then on
        self._subscribers.add(subscriber)
        self._listened.set()
        try:
            yield subscriber
        finally:
            self._drop(subscriber)

    def deliver(self, events: Iterable[Event]) -> None:
        """Offer each event not delivered before to every subscriber that accepts it; never waits.

        Called after a change is committed, so it never raises: a failing filter is logged.
        """
        if not self._subscribers:
            return  # nobody to tell; the feeder starts after the first subscription anyway
        for event in events:
            if event.id is None or self._seen(event.id):
                continue
            delivery = Delivery(event)
            for subscriber in list(self._subscribers):
                try:
                    accepted = subscriber.accepts(event)
                except Exception:
                    logger.exception("a subscriber's filter failed on event %s", event.id)
                    continue
                if accepted and not subscriber.offer(delivery):
                    self._drop(subscriber)

    def _seen(self, event_id: ObjectId) -> bool:
        if event_id in self._recent:
            return True
        self._recent[event_id] = None
        if len(self._recent) > self.remember:
            self._recent.popitem(last=False)
        return False

    def _drop(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers:
            self._listened.clear()

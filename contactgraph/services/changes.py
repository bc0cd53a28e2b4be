"""Writing a change together with its events, then telling this process's listeners."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..db import current_engine
from ..events import Event, record
from ..events.bus import publish
from ..models.base import Session

Write = Callable[[Session], Awaitable[bool]]


async def apply(write: Write, events: list[Event]) -> bool:
    """Run ``write``; if it applied, record ``events`` in the same transaction and publish them.

    ``write`` answers whether it changed anything (a guarded update may match nothing),
    so a change that did not happen leaves no event behind; a write that changes only
    some of what it meant to (a bulk write, some of whose guards miss) fills ``events``
    in place with the events of what it changed.
    """

    async def unit(session: Session) -> bool:
        if not await write(session):
            return False
        await record(events, session)
        return True

    applied = await current_engine().atomically(unit)
    if applied:
        publish(events)
    return applied

"""The outbox: one event document per domain event, written in the same step as its change.

Status history and reports read it; subscriptions and webhooks are fed from it.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from ..models import Agent, Contact, WorkspaceDocument, utcnow
from ..models.base import Session
from ..models.contact import Flag, flagged


class EventType(StrEnum):
    CREATED = "contact.created"
    UPDATED = "contact.updated"
    DELETED = "contact.deleted"
    STATUS_CHANGED = "contact.status_changed"
    MERGED = "contact.merged"
    OPTED_OUT = "contact.opted_out"
    # An agent's permissions changed or a token of theirs was revoked: open subscriptions
    # re-check their caller before any later event. Never sent to webhooks.
    ACCESS_CHANGED = "agent.access_changed"


# What a contact.updated event does not report as a change of its own.
_DERIVED = {f.attribute for f in flagged(Flag.DERIVED)}

# The job whose task records events now (an import, a bulk edit): each event names it as ``data.via``.
ORIGIN: ContextVar[dict[str, Any] | None] = ContextVar("event_origin", default=None)


class Event(WorkspaceDocument):
    type: EventType
    contact_id: PydanticObjectId  # the record the event is about: a contact, or the agent of ACCESS_CHANGED
    agent_id: PydanticObjectId | None = None
    occurred_at: datetime = Field(default_factory=utcnow)
    from_status_id: PydanticObjectId | None = None
    to_status_id: PydanticObjectId | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "events"
        indexes = [
            IndexModel(
                [
                    ("workspace_id", ASCENDING),
                    ("contact_id", ASCENDING),
                    ("type", ASCENDING),
                    ("occurred_at", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            IndexModel([("workspace_id", ASCENDING), ("type", ASCENDING), ("occurred_at", DESCENDING)]),
            IndexModel([("occurred_at", ASCENDING), ("_id", ASCENDING)]),
        ]


# Stored on a contact but never in an event: bookkeeping, and search terms (a hundred keys).
NOT_IN_SNAPSHOTS = frozenset({"revision_id", "search_terms", "write_id"})


def snapshot(contact: Contact) -> dict[str, Any]:
    """The contact as the event remembers it (BSON-ready)."""
    return contact.model_dump(mode="python", by_alias=True, exclude=set(NOT_IN_SNAPSHOTS))


def contact_events(before: Contact | None, after: Contact | None, agent: Agent | None) -> list[Event]:
    """The events a change from ``before`` to ``after`` makes (None: not there), one per kind."""
    subject = after or before
    if subject is None:
        return []
    base: dict[str, Any] = {
        "workspace_id": subject.workspace_id,
        "contact_id": subject.id,
        "agent_id": agent.id if agent else None,
        "occurred_at": after.updated_at if after else utcnow(),
    }
    if before is None:
        return [Event(type=EventType.CREATED, data={"contact": snapshot(after)}, **base)]  # type: ignore[arg-type]
    if after is None:
        return [Event(type=EventType.DELETED, data={"contact": snapshot(before)}, **base)]
    old, new = snapshot(before), snapshot(after)
    changed = sorted(k for k in new if k not in _DERIVED and old.get(k) != new[k])
    if not changed:
        return []
    # ``before``: the changed fields' old values, which a contact's activity shows
    data = {"contact": new, "changed": changed, "before": {k: old.get(k) for k in changed}}
    events = [Event(type=EventType.UPDATED, data=data, **base)]
    if before.status_id != after.status_id:
        events.append(
            Event(
                type=EventType.STATUS_CHANGED,
                from_status_id=before.status_id,
                to_status_id=after.status_id,
                data={"contact": new},
                **base,
            )
        )
    if after.opted_out and not before.opted_out:
        events.append(Event(type=EventType.OPTED_OUT, data={"contact": new}, **base))
    return events


def access_changed(agent: Agent, by: Agent | None) -> Event:
    """The event that makes open subscriptions of ``agent`` re-check what it may see."""
    return Event(
        type=EventType.ACCESS_CHANGED,
        workspace_id=agent.workspace_id,
        contact_id=agent.id,  # type: ignore[arg-type]
        agent_id=by.id if by else None,
    )


async def record(events: list[Event], session: Session = None) -> None:
    """Write events to the outbox, inside the caller's transaction when there is one.

    The webhook deliveries they owe are queued in the same step (see ``webhooks``).
    """
    from .webhooks import enqueue_deliveries  # webhooks builds on this module's Event

    if events:
        origin = ORIGIN.get()
        for event in events:
            event.id = event.id or PydanticObjectId()  # the deliveries name their event
            if origin is not None:
                event.data.setdefault("via", origin)
        await Event.insert_many(events, session=session)
        await enqueue_deliveries(events, session)

"""Webhooks, and the deliveries queued for them in the same step as the events they carry.

A delivery is written with its event (inside the change's transaction), so an event
can never be recorded without the deliveries it owes, whatever happens to the process
afterwards; the delivery worker (``delivery.py``) sends them.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from ..models import WorkspaceDocument, utcnow
from ..models.base import Session
from .outbox import Event, EventType

SECRET_PREFIX = "whsec_"


class Webhook(WorkspaceDocument):
    url: str
    events: list[EventType]
    active: bool = True
    # Kept in clear: signing each delivery needs the secret itself, not a hash of it.
    secret: str
    agent_id: PydanticObjectId | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "webhooks"
        indexes = [IndexModel([("workspace_id", ASCENDING), ("active", ASCENDING), ("events", ASCENDING)])]

    @staticmethod
    def new_secret() -> str:
        return SECRET_PREFIX + secrets.token_urlsafe(32)


class DeliveryState(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a worker until lease_until
    DELIVERED = "delivered"
    FAILED = "failed"  # the last attempt failed too


class Attempt(BaseModel):
    at: datetime
    status: int | None = None  # the HTTP status answered, None when no answer came
    error: str | None = None


class WebhookDelivery(WorkspaceDocument):
    event_id: PydanticObjectId
    webhook_id: PydanticObjectId
    event_type: EventType
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    claim: str | None = None  # who holds the lease: only they may record its outcome
    last_status: int | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    history: list[Attempt] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None

    class Settings:
        name = "webhook_deliveries"
        # The queue is shared by every workspace: workers claim by state and time.
        indexes = [
            IndexModel([("state", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("state", ASCENDING), ("lease_until", ASCENDING)]),
            IndexModel([("workspace_id", ASCENDING), ("webhook_id", ASCENDING), ("state", ASCENDING)]),
            IndexModel([("workspace_id", ASCENDING), ("event_id", ASCENDING)]),
        ]


async def enqueue_deliveries(events: list[Event], session: Session = None) -> None:
    """One pending delivery per recorded event and active webhook of its workspace subscribed to it.

    Two round trips at most, whatever the number of events and webhooks: one query for
    the webhooks, one insert for the deliveries. The events must have their ids.
    """
    if not events:
        return
    hooks = await Webhook.find(
        {
            "workspace_id": {"$in": sorted({e.workspace_id for e in events})},
            "active": True,
            "events": {"$in": sorted({e.type.value for e in events})},
        },
        session=session,
    ).to_list()
    deliveries = [
        WebhookDelivery(
            workspace_id=event.workspace_id,
            event_id=event.id,  # type: ignore[arg-type]
            webhook_id=hook.id,  # type: ignore[arg-type]
            event_type=event.type,
        )
        for event in events
        for hook in hooks
        if hook.workspace_id == event.workspace_id and event.type in hook.events
    ]
    if deliveries:
        await WebhookDelivery.insert_many(deliveries, session=session)

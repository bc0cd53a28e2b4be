"""Live status changes over WebSocket (graphql-transport-ws and graphql-ws)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import datetime
from typing import Self

import strawberry
from strawberry import Private

from ..events import Event
from ..loaders.context import Info
from ..models import Contact as ContactDoc
from ..models import Permission
from ..resolvers.subscriptions import StatusChangeFilter, status_changes
from .admin import Agent
from .contact_type import Contact
from .fields import subscription
from .library import ContactStatus


@strawberry.type
class StatusChangeEvent:
    event: Private[Event]
    changed_at: datetime

    @classmethod
    def from_event(cls, event: Event) -> Self:
        return cls(event=event, changed_at=event.occurred_at)

    @strawberry.field(description="the contact as it is now; as it was then if since deleted or out of sight")
    async def contact(self, info: Info) -> Contact:
        found = await info.context.loaders.contact.load(self.event.contact_id)
        return Contact.from_doc(found or ContactDoc.model_validate(self.event.data["contact"]))

    @strawberry.field(description="null for a status since deleted")
    async def from_status(self, info: Info) -> ContactStatus | None:
        if self.event.from_status_id is None:
            return None
        found = await info.context.loaders.status.load(self.event.from_status_id)
        return ContactStatus.from_doc(found) if found else None

    @strawberry.field
    async def to_status(self, info: Info) -> ContactStatus:
        found = await info.context.loaders.status.load(self.event.to_status_id)  # type: ignore[arg-type]
        if found is None:
            raise LookupError("a status change to a status that does not exist was delivered")
        return ContactStatus.from_doc(found)

    @strawberry.field(description="the agent whose token made the change; null for an inbound message")
    async def changed_by(self, info: Info) -> Agent | None:
        if self.event.agent_id is None:
            return None
        found = await info.context.loaders.agent.load(self.event.agent_id)
        return Agent.from_doc(found) if found else None


@strawberry.type
class ContactSubscription:
    @subscription(
        Permission.CONTACT_VIEW,
        Permission.CONTACT_VIEW_OWN,
        description=(
            "Every status change the caller may see (CONTACT_VIEW_OWN: only of contacts assigned"
            " to them when it happened), optionally narrowed to changes into these statuses, of"
            " contacts in these groups, or of these contacts. A subscriber more than"
            " CONTACTGRAPH_SUBSCRIBER_QUEUE_SIZE changes behind is closed with LIMIT_EXCEEDED."
        ),
    )
    async def contact_status_changed(
        self,
        info: Info,
        status_ids: list[strawberry.ID] | None = None,
        group_ids: list[strawberry.ID] | None = None,
        contact_ids: list[strawberry.ID] | None = None,
    ) -> AsyncIterator[StatusChangeEvent]:
        # A coroutine returning the stream (rather than a generator) so that the guard
        # and the filter's checks run when the client subscribes.
        watch = StatusChangeFilter.of(info.context.caller, status_ids, group_ids, contact_ids)
        return _deliveries(info, watch)


async def _deliveries(info: Info, watch: StatusChangeFilter) -> AsyncIterator[StatusChangeEvent]:
    async with aclosing(status_changes(watch)) as changes:
        async for event in changes:
            info.context.renew_loaders()  # current data for each event, and no cache that grows
            if await info.context.loaders.status.load(event.to_status_id) is None:  # type: ignore[arg-type]
                continue  # the status was deleted meanwhile: nothing left to show
            yield StatusChangeEvent.from_event(event)

"""A contact's status history: StatusChange and its connection."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import Private

from ..events import Event
from ..ids import encode_id
from ..loaders.context import Info
from ..models import Contact as ContactDoc
from ..resolvers.history import History, status_history
from .admin import Agent
from .common import Node, PageInfo
from .library import ContactStatus

if TYPE_CHECKING:
    from .contact_type import Contact

LazyContact = Annotated["Contact", strawberry.lazy("contactgraph.schema.contact_type")]


@strawberry.type(description="a change of a contact's status, as the outbox recorded it")
class StatusChange(Node):
    event: Private[Event]
    subject: Private[ContactDoc]
    changed_at: datetime

    @classmethod
    def from_event(cls, event: Event, contact: ContactDoc) -> Self:
        return cls(
            event=event,
            subject=contact,
            id=strawberry.ID(encode_id("StatusChange", event.id)),  # type: ignore[arg-type]
            changed_at=event.occurred_at,
        )

    @strawberry.field
    def contact(self) -> LazyContact:
        from .contact_type import Contact  # contact_type imports this module for statusHistory

        return Contact.from_doc(self.subject)

    @strawberry.field(description="null when the status it left has been deleted since")
    async def from_status(self, info: Info) -> ContactStatus | None:
        if self.event.from_status_id is None:
            return None
        status = await info.context.loaders.status.load(self.event.from_status_id)
        return ContactStatus.from_doc(status) if status else None

    @strawberry.field
    async def to_status(self, info: Info) -> ContactStatus:
        status = await info.context.loaders.status.load(self.event.to_status_id)  # type: ignore[arg-type]
        if status is None:  # the history names live statuses only; deleted this very moment
            raise LookupError("a status change names a status that no longer exists")
        return ContactStatus.from_doc(status)

    @strawberry.field(description="null when no agent made the change")
    async def changed_by(self, info: Info) -> Agent | None:
        if self.event.agent_id is None:
            return None
        agent = await info.context.loaders.agent.load(self.event.agent_id)
        return Agent.from_doc(agent) if agent else None


@strawberry.type
class StatusChangeEdge:
    cursor: str
    node: StatusChange


@strawberry.type
class StatusChangeConnection:
    history: Private[History]
    edges: list[StatusChangeEdge]
    page_info: PageInfo

    @classmethod
    def from_history(cls, history: History, contact: ContactDoc) -> Self:
        page = history.page
        return cls(
            history=history,
            edges=[
                StatusChangeEdge(cursor=cursor, node=StatusChange.from_event(event, contact))
                for event, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )

    @strawberry.field
    async def total_count(self) -> int:
        return await self.history.page.total_count()


async def history_of(
    info: Info, contact: ContactDoc, first: int | None, after: str | None
) -> StatusChangeConnection:
    """``Contact.statusHistory``: the statuses read for the page serve its status fields too."""
    loaders = info.context.loaders
    statuses = await loaders.status.every()
    history = await status_history(contact, first, after, statuses=statuses, slices=loaders.slices)
    loaders.status.prime_many({s.id: s for s in history.statuses})  # type: ignore[misc]
    return StatusChangeConnection.from_history(history, contact)

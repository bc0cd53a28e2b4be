"""The customer journey: interactions, their connection, and recording and closing them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import Private
from strawberry.scalars import JSON

from ..ids import encode_id
from ..loaders.context import Info
from ..models import Contact as ContactDoc
from ..models.interaction import Interaction as InteractionDoc
from ..resolvers import interactions
from ..resolvers.pagination import Page
from .admin import Agent
from .common import Node, PageInfo, UserError
from .fields import mutation
from .inputs import given
from .lists import Disposition

if TYPE_CHECKING:
    from .contact_type import Contact

LazyContact = Annotated["Contact", strawberry.lazy("contactgraph.schema.contact_type")]


@strawberry.type
class Interaction(Node):
    doc: Private[InteractionDoc]
    subject: Private[ContactDoc]
    channel: str = strawberry.field(description='"whatsapp", "voice", "email", "chat", ...')
    direction: str = strawberry.field(description='"inbound" | "outbound"')
    summary: str | None
    open: bool = strawberry.field(description="an open conversation blocks deletion of its contact")
    occurred_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_doc(cls, doc: InteractionDoc, contact: ContactDoc) -> Self:
        return cls(
            doc=doc,
            subject=contact,
            id=strawberry.ID(encode_id("Interaction", doc.id)),  # type: ignore[arg-type]
            channel=doc.channel,
            direction=doc.direction.value,
            summary=doc.summary,
            open=doc.open,
            occurred_at=doc.occurred_at,
            closed_at=doc.closed_at,
        )

    @strawberry.field
    def contact(self) -> LazyContact:
        from .contact_type import Contact  # contact_type imports this module for timeline

        return Contact.from_doc(self.subject)

    @strawberry.field(description="who handled it")
    async def agent(self, info: Info) -> Agent | None:
        if self.doc.agent_id is None:
            return None
        agent = await info.context.loaders.agent.load(self.doc.agent_id)
        return Agent.from_doc(agent) if agent else None

    @strawberry.field(description="set when it closed; a disposition deleted since still shows")
    async def disposition(self, info: Info) -> Disposition | None:
        if self.doc.disposition_id is None:
            return None
        disposition = await info.context.loaders.disposition.load(self.doc.disposition_id)
        return Disposition.from_doc(disposition) if disposition else None

    @strawberry.field(
        description='free-form metadata shown by "show details" (an object of strings, numbers, booleans)'
    )
    def details(self) -> JSON | None:
        return self.doc.details  # type: ignore[return-value]  # JSON is the scalar of a plain object


@strawberry.type
class InteractionEdge:
    cursor: str
    node: Interaction


@strawberry.type
class InteractionConnection:
    page: Private[Page[InteractionDoc]]
    edges: list[InteractionEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[InteractionDoc], contact: ContactDoc) -> Self:
        return cls(
            page=page,
            edges=[
                InteractionEdge(cursor=cursor, node=Interaction.from_doc(doc, contact))
                for doc, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )

    @strawberry.field
    async def total_count(self) -> int:
        return await self.page.total_count()


async def timeline_of(
    info: Info,
    contact: ContactDoc,
    channels: list[str] | None,
    start: datetime | None,
    end: datetime | None,
    first: int | None,
    after: str | None,
) -> InteractionConnection:
    """``Contact.timeline``."""
    slices = info.context.loaders.slices
    page = await interactions.timeline(contact, channels, start, end, first, after, slices)
    return InteractionConnection.from_page(page, contact)


@strawberry.input
class InteractionInput:
    channel: str
    direction: str = strawberry.field(description='"inbound" | "outbound"')
    contact_id: strawberry.ID | None = strawberry.UNSET
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="alternative to contactId; creates the contact like upsertContactByPhone when absent",
    )
    summary: str | None = strawberry.UNSET
    open: bool | None = False
    occurred_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="default: now")
    agent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="the agent who handled it; default: the caller"
    )
    details: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="an object of at most 50 keys (1 to 64 characters) whose values are strings "
        "(at most 1,000 characters), numbers or booleans",
    )


@strawberry.type
class InteractionPayload:
    interaction: Interaction | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class JourneyMutation:
    @mutation(
        description="by contactId, or by phone (creating the contact then needs CONTACT_CREATE as well)"
    )
    async def record_interaction(self, info: Info, input: InteractionInput) -> InteractionPayload:
        doc, contact = await interactions.record_interaction(info.context.caller, given(input))
        return InteractionPayload(interaction=Interaction.from_doc(doc, contact))

    @mutation(
        description="dispositionId: of a list the contact is in; closing a closed interaction changes "
        "nothing but its disposition"
    )
    async def close_interaction(
        self, info: Info, id: strawberry.ID, disposition_id: strawberry.ID | None = None
    ) -> InteractionPayload:
        doc, contact = await interactions.close_interaction(info.context.caller, id, disposition_id)
        return InteractionPayload(interaction=Interaction.from_doc(doc, contact))

"""Segments: saved contact filters, for the list, the board, stats, exports and campaign audiences."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import Private
from strawberry.scalars import JSON

from ..ids import encode_id
from ..loaders.context import Info
from ..models import Contact as ContactDoc
from ..models import DomainError
from ..models.base import format_datetime
from ..models.segment import Segment as SegmentDoc
from ..resolvers import segments
from .common import DeletePayload, Node, UserError
from .contacts import ContactFilter, filter_given
from .fields import mutation, query
from .guards import camel


def filter_json(value: Any) -> Any:
    """A stored filter as the client gave it: API names, DateTime as ISO-8601."""
    if isinstance(value, dict):
        return {camel(k): filter_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [filter_json(v) for v in value]
    if isinstance(value, datetime):
        return format_datetime(value)
    return value


@strawberry.type(description="a saved contact filter; ContactFilter.segmentId and campaignAudience use it")
class Segment(Node):
    doc: Private[SegmentDoc]
    name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: SegmentDoc) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("Segment", doc.id)),
            name=doc.name,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )

    @strawberry.field(description="the saved ContactFilter, as given")
    def filter(self) -> JSON:
        return filter_json(self.doc.filter)

    @strawberry.field(
        description=(
            "its contacts the caller may see (0 without a view permission, or while filterError is set);"
            " the counts of every segment asked for are read together"
        )
    )
    async def contact_count(self, info: Info) -> int:
        query = await segments.count_query(info.context.policy, self.doc)
        if query is None:
            return 0
        return await info.context.loaders.slices.counts(ContactDoc).load(query)

    @strawberry.field(
        description=(
            "why the saved filter no longer selects (e.g. a custom field it names was deleted): using the"
            " segment is then refused until updateSegment fixes it; null when it works"
        )
    )
    async def filter_error(self) -> str | None:
        return await segments.filter_problem(self.doc)


@strawberry.input
class SegmentInput:
    name: str = strawberry.field(description="unique in the workspace, whatever its case")
    filter: ContactFilter = strawberry.field(
        description="checked as the contacts query checks it; it cannot name another segment (segmentId)"
    )


@strawberry.type
class SegmentPayload:
    segment: Segment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _input(input: SegmentInput) -> dict[str, Any]:
    return {"name": input.name, "filter": filter_given(input.filter) or {}}


@strawberry.type
class SegmentQuery:
    @query(description="the workspace's segments, by name")
    async def segments(self, info: Info) -> list[Segment]:
        return [Segment.from_doc(doc) for doc in await segments.list_segments(info.context.caller)]


@strawberry.type
class SegmentMutation:
    @mutation()
    async def create_segment(self, info: Info, input: SegmentInput) -> SegmentPayload:
        doc = await segments.create_segment(info.context.caller, _input(input))
        return SegmentPayload(segment=Segment.from_doc(doc))

    @mutation(description="what uses the segment selects by its new filter from then on")
    async def update_segment(self, info: Info, id: strawberry.ID, input: SegmentInput) -> SegmentPayload:
        doc = await segments.update_segment(info.context.caller, id, _input(input))
        return SegmentPayload(segment=Segment.from_doc(doc))

    @mutation(description="filters and audiences that name it answer NOT_FOUND from then on")
    async def delete_segment(self, info: Info, id: strawberry.ID) -> DeletePayload:
        doc = await segments.delete_segment(info.context.caller, id)
        return DeletePayload(deleted_ids=[strawberry.ID(encode_id("Segment", doc.id))])


async def segment_node(info: Info, global_id: str) -> Segment | None:
    """``node(id:)`` for a segment of the caller's workspace."""
    try:
        doc = await segments.find_segment(info.context.caller, global_id)
    except DomainError:
        return None
    return Segment.from_doc(doc)

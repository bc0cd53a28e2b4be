"""A contact's activity: Activity, FieldChange and their connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import Private
from strawberry.scalars import JSON

from ..events import Event
from ..ids import encode_id
from ..loaders.context import Info
from ..models import Contact as ContactDoc
from ..resolvers import activity
from ..resolvers.activity import ActivityKind
from .admin import Agent
from .common import Node, PageInfo

strawberry.enum(ActivityKind, name="ActivityKind")


@strawberry.type
class FieldChange:
    field: str = strawberry.field(description='a contact field name or "customFields.<key>"')
    from_: JSON | None = strawberry.field(name="from", description="null: it had no value")
    to: JSON | None = strawberry.field(description="null: it has no value since")


@strawberry.type(
    description="a change of a contact, from its events: who, when, and each field's old and new value"
)
class Activity(Node):
    event: Private[Event]
    previous: Private[dict[str, Any] | None]
    kind: ActivityKind = strawberry.field(
        description=(
            "the most telling of its changes: IMPORTED (an import's), MERGED, STATUS_CHANGED, OPTED_OUT or"
            " OPTED_IN, ASSIGNED, GROUPS_CHANGED, in this order; CREATED; else UPDATED"
        )
    )
    occurred_at: datetime

    @classmethod
    def from_event(cls, event: Event, previous: dict[str, Any] | None) -> Self:
        return cls(
            event=event,
            previous=previous,
            id=strawberry.ID(encode_id("Activity", event.id)),
            kind=activity.kind_of(event),
            occurred_at=event.occurred_at,
        )

    @strawberry.field(description="null when no agent made the change (or it was deleted since)")
    async def agent(self, info: Info) -> Agent | None:
        if self.event.agent_id is None:
            return None
        agent = await info.context.loaders.agent.load(self.event.agent_id)
        return Agent.from_doc(agent) if agent else None

    @strawberry.field(
        description=(
            "every field it changed (a new contact: every field it was given), custom fields one by one"
            " (live ones, while they apply to the contact)"
        )
    )
    async def changes(self, info: Info) -> list[FieldChange]:
        ids = activity.field_ids(self.event, self.previous)
        found = await info.context.loaders.custom_field.load_many(list(ids))
        fields = {f.id: f for f in found if f is not None}
        return [
            FieldChange(field=name, from_=old, to=new)
            for name, old, new in activity.changes(self.event, self.previous, fields)
        ]


@strawberry.type
class ActivityEdge:
    cursor: str
    node: Activity


@strawberry.type
class ActivityConnection:
    activities: Private[activity.Activities]
    edges: list[ActivityEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, found: activity.Activities) -> Self:
        page = found.page
        return cls(
            activities=found,
            edges=[
                ActivityEdge(cursor=cursor, node=Activity.from_event(event, found.previous.get(event.id)))  # type: ignore[arg-type]
                for event, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )

    @strawberry.field
    async def total_count(self) -> int:
        return await self.activities.page.total_count()


async def activity_of(
    info: Info, contact: ContactDoc, kinds: list[ActivityKind] | None, first: int | None, after: str | None
) -> ActivityConnection:
    """``Contact.activity``: batched with the other contacts' of the request."""
    found = await activity.activity(contact, kinds, first, after, info.context.loaders.slices)
    return ActivityConnection.of(found)


async def activity_node(info: Info, oid: Any) -> Activity | None:
    """``node(id:)`` for an activity of a contact the caller may see."""
    seen = await activity.visible_activity(info.context.caller, oid)
    return Activity.from_event(*seen) if seen else None

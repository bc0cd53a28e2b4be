"""Lists (groups) beyond their members: assigned agents and dispositions."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import Private

from ..ids import encode_id
from ..loaders.context import Info
from ..models import Group
from ..models.disposition import Disposition as DispositionDoc
from ..models.library import name_key
from ..resolvers import lists
from .common import Node, UserError
from .fields import mutation
from .inputs import given
from .library import GroupPayload, GroupType


@strawberry.type
class Disposition(Node):
    doc: Private[DispositionDoc]
    name: str
    color: str | None = strawberry.field(description='"#rrggbb"')
    position: int
    deleted_at: datetime | None = strawberry.field(
        description="soft-deleted: no longer offered, still shown on the interactions closed with it"
    )

    @classmethod
    def from_doc(cls, doc: DispositionDoc) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("Disposition", doc.id)),
            name=doc.name,
            color=doc.color,
            position=doc.position,
            deleted_at=doc.deleted_at,
        )

    @strawberry.field(description="a deleted list shows with the name it had, and no members")
    async def group(self, info: Info) -> GroupType:
        group = await info.context.loaders.group.load(self.doc.group_id)
        if group is None:
            name = self.doc.group_name or ""
            group = Group(
                id=self.doc.group_id, workspace_id=self.doc.workspace_id, name=name, name_key=name_key(name)
            )
        return GroupType.from_doc(group)


@strawberry.input
class DispositionInput:
    group_id: strawberry.ID
    name: str
    color: str | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


@strawberry.input
class DispositionPatch:
    name: str | None = strawberry.UNSET
    color: str | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


@strawberry.type
class DispositionPayload:
    disposition: Disposition | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ListsMutation:
    @mutation(description="agents with CONTACT_VIEW_TEAM see the list's members from now on")
    async def assign_agents_to_group(
        self, info: Info, group_id: strawberry.ID, agent_ids: list[strawberry.ID]
    ) -> GroupPayload:
        group = await lists.assign_agents(info.context.caller, group_id, agent_ids)  # type: ignore[arg-type]
        return GroupPayload(group=GroupType.from_doc(group))

    @mutation()
    async def remove_agents_from_group(
        self, info: Info, group_id: strawberry.ID, agent_ids: list[strawberry.ID]
    ) -> GroupPayload:
        group = await lists.remove_agents(info.context.caller, group_id, agent_ids)  # type: ignore[arg-type]
        return GroupPayload(group=GroupType.from_doc(group))

    @mutation()
    async def create_disposition(self, info: Info, input: DispositionInput) -> DispositionPayload:
        disposition = await lists.create_disposition(info.context.caller, given(input))
        return DispositionPayload(disposition=Disposition.from_doc(disposition))

    @mutation()
    async def update_disposition(
        self, info: Info, id: strawberry.ID, input: DispositionPatch
    ) -> DispositionPayload:
        disposition = await lists.update_disposition(info.context.caller, id, given(input))
        return DispositionPayload(disposition=Disposition.from_doc(disposition))

    @mutation(description="soft delete; interactions keep it")
    async def delete_disposition(self, info: Info, id: strawberry.ID) -> DispositionPayload:
        disposition = await lists.delete_disposition(info.context.caller, id)
        return DispositionPayload(disposition=Disposition.from_doc(disposition))

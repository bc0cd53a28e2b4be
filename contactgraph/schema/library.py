"""The library: statuses, sources, groups and custom fields."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import Private

from ..ids import decode_id, encode_id
from ..loaders.context import Info
from ..loaders.lists import ListKey
from ..models import CustomField as CustomFieldDoc
from ..models import CustomFieldType, Group, Permission, Source, Status
from ..resolvers import library
from .admin import Agent
from .common import DeletePayload, Node, UserError
from .fields import mutation, query
from .inputs import given

if TYPE_CHECKING:
    from .lists import Disposition

LazyDisposition = Annotated["Disposition", strawberry.lazy("contactgraph.schema.lists")]


@strawberry.type
class ContactStatus(Node):
    doc: Private[Status]
    name: str
    color: str = strawberry.field(description='"#rrggbb"')
    position: int = strawberry.field(description="order of board columns")

    @classmethod
    def from_doc(cls, doc: Status) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("ContactStatus", doc.id)),
            name=doc.name,
            color=doc.color,
            position=doc.position,
        )

    @strawberry.field
    async def contact_count(self, info: Info) -> int:
        return await info.context.loaders.contacts_by_status.load(self.doc.id)  # type: ignore[arg-type]  # stored, so it has an id


@strawberry.type
class ContactSource(Node):
    doc: Private[Source]
    name: str

    @classmethod
    def from_doc(cls, doc: Source) -> Self:
        return cls(doc=doc, id=strawberry.ID(encode_id("ContactSource", doc.id)), name=doc.name)

    @strawberry.field
    async def contact_count(self, info: Info) -> int:
        return await info.context.loaders.contacts_by_source.load(self.doc.id)  # type: ignore[arg-type]  # stored, so it has an id


@strawberry.type(name="Group")
class GroupType(Node):
    doc: Private[Group]
    name: str
    description: str | None

    @classmethod
    def from_doc(cls, doc: Group) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("Group", doc.id)),
            name=doc.name,
            description=doc.description,
        )

    @strawberry.field
    async def contact_count(self, info: Info) -> int:
        return await info.context.loaders.contacts_by_group.load(self.doc.id)  # type: ignore[arg-type]  # stored, so it has an id

    @strawberry.field(description="agents assigned to the list (CONTACT_VIEW_TEAM sees its members)")
    async def agents(self, info: Info) -> list[Agent]:
        found = await info.context.loaders.agents_by_group.load(self.doc.id)  # type: ignore[arg-type]
        return [Agent.from_doc(a) for a in found]

    @strawberry.field(description="fields scoped to this list")
    async def custom_fields(self, info: Info, include_deleted: bool | None = False) -> list[CustomField]:
        found = await info.context.loaders.custom_fields_by_group.load(self._key(include_deleted))
        return [CustomField.from_doc(f) for f in found]

    @strawberry.field
    async def dispositions(self, info: Info, include_deleted: bool | None = False) -> list[LazyDisposition]:
        from .lists import Disposition  # lists imports this module for Disposition.group

        found = await info.context.loaders.dispositions_by_group.load(self._key(include_deleted))
        return [Disposition.from_doc(d) for d in found]

    def _key(self, include_deleted: bool | None) -> ListKey:
        assert self.doc.id is not None  # a stored group
        return self.doc.id, bool(include_deleted)


@strawberry.type
class CustomField(Node):
    doc: Private[CustomFieldDoc]
    key: str = strawberry.field(description="stable machine name, [a-z][a-z0-9_]{0,63}, unique per workspace")
    label: str
    type: CustomFieldType
    options: list[str] = strawberry.field(description="DROPDOWN choices; empty for other types")
    required: bool
    position: int
    deleted_at: datetime | None = strawberry.field(
        description="soft-deleted fields keep their values until purged"
    )
    click_to_action: bool = strawberry.field(
        description="the value is actionable in an agent's view (dial, message, open)"
    )

    @classmethod
    def from_doc(cls, doc: CustomFieldDoc) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("CustomField", doc.id)),
            key=doc.key,
            label=doc.label,
            type=doc.type,
            options=doc.options,
            required=doc.required,
            position=doc.position,
            deleted_at=doc.deleted_at,
            click_to_action=doc.click_to_action,
        )

    @strawberry.field(
        description="null: a global field; else the field belongs to that list and applies to its members"
    )
    async def group(self, info: Info) -> GroupType | None:
        if self.doc.group_id is None:
            return None
        group = await info.context.loaders.group.load(self.doc.group_id)
        return GroupType.from_doc(group) if group else None


# ---------------------------------------------------------------- inputs and payloads


@strawberry.input
class StatusInput:
    name: str
    color: str
    position: int | None = strawberry.UNSET


@strawberry.input
class StatusPatch:
    name: str | None = strawberry.UNSET
    color: str | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


@strawberry.input
class SourceInput:
    name: str


@strawberry.input
class GroupInput:
    name: str
    description: str | None = strawberry.UNSET


@strawberry.input
class CustomFieldInput:
    key: str
    label: str
    type: CustomFieldType
    options: list[str] | None = strawberry.UNSET
    required: bool | None = False
    position: int | None = strawberry.UNSET
    group_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="the list the field belongs to; none: a global field"
    )
    click_to_action: bool | None = False


@strawberry.input
class CustomFieldPatch:
    label: str | None = strawberry.UNSET
    options: list[str] | None = strawberry.UNSET
    required: bool | None = strawberry.UNSET
    position: int | None = strawberry.UNSET
    click_to_action: bool | None = strawberry.UNSET


@strawberry.type
class StatusPayload:
    status: ContactStatus | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SourcePayload:
    source: ContactSource | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class GroupPayload:
    group: GroupType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomFieldPayload:
    custom_field: CustomField | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _deleted(kind: str, oid: object) -> DeletePayload:
    return DeletePayload(deleted_ids=[strawberry.ID(encode_id(kind, oid))])  # type: ignore[arg-type]


@strawberry.type
class LibraryQuery:
    @query()
    async def statuses(self, info: Info) -> list[ContactStatus]:
        return [
            ContactStatus.from_doc(s) for s in await Status.in_workspace(info.context.caller.workspace_id)
        ]

    @query()
    async def sources(self, info: Info) -> list[ContactSource]:
        return [
            ContactSource.from_doc(s) for s in await Source.in_workspace(info.context.caller.workspace_id)
        ]

    @query()
    async def groups(self, info: Info) -> list[GroupType]:
        return [GroupType.from_doc(g) for g in await Group.in_workspace(info.context.caller.workspace_id)]

    @query(description="groupId: that list's fields; none: global fields")
    async def custom_fields(
        self,
        info: Info,
        include_deleted: bool | None = False,
        only_deleted: bool | None = False,
        group_id: strawberry.ID | None = None,
    ) -> list[CustomField]:
        group = None
        if group_id is not None:
            group = decode_id(group_id, "Group")
            if group is None:
                return []
        found = await CustomFieldDoc.listed(
            info.context.caller.workspace_id,
            group,  # type: ignore[arg-type]
            include_deleted=bool(include_deleted),
            only_deleted=bool(only_deleted),
        )
        return [CustomField.from_doc(f) for f in found]


MANAGE = Permission.LIBRARY_MANAGE


@strawberry.type
class LibraryMutation:
    @mutation()
    async def create_status(self, info: Info, input: StatusInput) -> StatusPayload:
        status = await library.create_entry(Status, info.context.caller, given(input))
        return StatusPayload(status=ContactStatus.from_doc(status))

    @mutation()
    async def update_status(self, info: Info, id: strawberry.ID, input: StatusPatch) -> StatusPayload:
        status = await library.update_entry(Status, info.context.caller, id, given(input))
        return StatusPayload(status=ContactStatus.from_doc(status))

    @mutation(description="IN_USE unless unused or moveContactsTo given")
    async def delete_status(
        self, info: Info, id: strawberry.ID, move_contacts_to: strawberry.ID | None = None
    ) -> DeletePayload:
        oid = await library.delete_referenced(Status, info.context.caller, id, move_contacts_to)
        return _deleted("ContactStatus", oid)

    @mutation()
    async def create_source(self, info: Info, input: SourceInput) -> SourcePayload:
        source = await library.create_entry(Source, info.context.caller, given(input))
        return SourcePayload(source=ContactSource.from_doc(source))

    @mutation()
    async def update_source(self, info: Info, id: strawberry.ID, input: SourceInput) -> SourcePayload:
        source = await library.update_entry(Source, info.context.caller, id, given(input))
        return SourcePayload(source=ContactSource.from_doc(source))

    @mutation()
    async def delete_source(
        self, info: Info, id: strawberry.ID, move_contacts_to: strawberry.ID | None = None
    ) -> DeletePayload:
        oid = await library.delete_referenced(Source, info.context.caller, id, move_contacts_to)
        return _deleted("ContactSource", oid)

    @mutation()
    async def create_group(self, info: Info, input: GroupInput) -> GroupPayload:
        group = await library.create_entry(Group, info.context.caller, given(input))
        return GroupPayload(group=GroupType.from_doc(group))

    @mutation()
    async def update_group(self, info: Info, id: strawberry.ID, input: GroupInput) -> GroupPayload:
        group = await library.update_entry(Group, info.context.caller, id, given(input))
        return GroupPayload(group=GroupType.from_doc(group))

    @mutation(description="members stay, lose the group")
    async def delete_group(self, info: Info, id: strawberry.ID) -> DeletePayload:
        return _deleted("Group", await library.delete_group(info.context.caller, id))

    @mutation()
    async def delete_groups(self, info: Info, ids: list[strawberry.ID]) -> DeletePayload:
        deleted = await library.delete_groups(info.context.caller, ids)  # type: ignore[arg-type]
        return DeletePayload(deleted_ids=[strawberry.ID(encode_id("Group", oid)) for oid in deleted])

    @mutation()
    async def create_custom_field(self, info: Info, input: CustomFieldInput) -> CustomFieldPayload:
        field = await library.create_custom_field(info.context.caller, given(input))
        return CustomFieldPayload(custom_field=CustomField.from_doc(field))

    @mutation()
    async def update_custom_field(
        self, info: Info, id: strawberry.ID, input: CustomFieldPatch
    ) -> CustomFieldPayload:
        field = await library.update_custom_field(info.context.caller, id, given(input))
        return CustomFieldPayload(custom_field=CustomField.from_doc(field))

    @mutation(description="soft delete")
    async def delete_custom_field(self, info: Info, id: strawberry.ID) -> CustomFieldPayload:
        field = await library.set_custom_field_deleted(info.context.caller, id, deleted=True)
        return CustomFieldPayload(custom_field=CustomField.from_doc(field))

    @mutation()
    async def restore_custom_field(self, info: Info, id: strawberry.ID) -> CustomFieldPayload:
        field = await library.set_custom_field_deleted(info.context.caller, id, deleted=False)
        return CustomFieldPayload(custom_field=CustomField.from_doc(field))

    @mutation(description="soft delete of several")
    async def delete_custom_fields(self, info: Info, ids: list[strawberry.ID]) -> DeletePayload:
        deleted = await library.delete_custom_fields(info.context.caller, ids)  # type: ignore[arg-type]
        return DeletePayload(deleted_ids=[strawberry.ID(encode_id("CustomField", oid)) for oid in deleted])

    @mutation(description="erases the field and every stored value")
    async def purge_custom_field(self, info: Info, id: strawberry.ID) -> DeletePayload:
        return _deleted("CustomField", await library.purge_custom_field(info.context.caller, id))

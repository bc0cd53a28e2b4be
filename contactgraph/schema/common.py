"""Types every area shares: Node, PageInfo, UserError and the enums of the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from ..models import ContactType, CustomFieldType, ErrorCode, Permission
from ..resolvers.pagination import Page

if TYPE_CHECKING:
    from .imports import ImportJob

LazyImportJob = Annotated["ImportJob", strawberry.lazy("contactgraph.schema.imports")]

PermissionEnum = strawberry.enum(Permission, name="Permission")
UserErrorCode = strawberry.enum(ErrorCode, name="UserErrorCode")
ContactTypeEnum = strawberry.enum(ContactType, name="ContactType")
CustomFieldTypeEnum = strawberry.enum(CustomFieldType, name="CustomFieldType")


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(
        description='path into the mutation\'s arguments, e.g. ["input", "phone"]'
    )
    code: ErrorCode
    message: str


@strawberry.type
class DeletePayload:
    deleted_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CountPayload:
    count: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    job: LazyImportJob | None = strawberry.field(
        default=None,
        description="updateContacts: the job changing a large selection (follow it as an import); else null",
    )

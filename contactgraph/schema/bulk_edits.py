"""Bulk edits: one patch for many contacts (``updateContacts``)."""

from __future__ import annotations

import strawberry

from ..loaders.context import Info
from ..models import ContactType
from ..resolvers import bulk_edits
from .common import CountPayload
from .contacts import ContactFilter, CustomFieldValueInput, filter_given
from .fields import mutation
from .imports import ImportJob
from .inputs import given


@strawberry.input(
    description=(
        "Bulk edit: every listed change applies to every selected contact the caller may edit;"
        " a null or absent field is not changed"
    )
)
class ContactBulkPatch:
    status_id: strawberry.ID | None = strawberry.UNSET
    source_id: strawberry.ID | None = strawberry.UNSET
    type: ContactType | None = strawberry.UNSET
    assigned_agent_id: strawberry.ID | None = strawberry.UNSET
    unassign: bool | None = strawberry.field(default=strawberry.UNSET, description="true: assigned to nobody")
    opted_out: bool | None = strawberry.UNSET
    add_group_ids: list[strawberry.ID] | None = strawberry.UNSET
    remove_group_ids: list[strawberry.ID] | None = strawberry.UNSET
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="merged into each contact's values; a null value clears one"
    )


@strawberry.type
class BulkEditMutation:
    @mutation(
        description=(
            "ids or filter (one of them). All or nothing: the patch and every selected contact are checked"
            " (references, values, list rules) before any is written. count: the contacts changed; past"
            " CONTACTGRAPH_BULK_EDIT_INLINE_MAX contacts (500) a job changes them (job: follow it with"
            " importJob or importProgress) and count is 0. At most CONTACTGRAPH_BULK_EDIT_MAX (10,000)"
            " contacts: LIMIT_EXCEEDED"
        )
    )
    async def update_contacts(
        self,
        info: Info,
        patch: ContactBulkPatch,
        ids: list[strawberry.ID] | None = None,
        filter: ContactFilter | None = None,
    ) -> CountPayload:
        context = info.context
        count, job = await bulk_edits.update_contacts(
            context.caller,
            context.settings,
            context.request.app.state.import_tasks,  # the application's: it stops them with itself
            ids,
            filter_given(filter),
            given(patch),
        )
        return CountPayload(count=count, job=ImportJob.from_doc(job) if job else None)

"""Merging two contacts into one, and copying one into a second record."""

from __future__ import annotations

import strawberry

from ..loaders.context import Info
from ..models.merge import MergeSide
from ..resolvers import duplicate, merge
from .contact_type import Contact
from .contacts import ContactPayload
from .fields import mutation
from .inputs import given

strawberry.enum(MergeSide, name="MergeSide")


@strawberry.input(description='e.g. { field: "email", take: SECONDARY }, or "customFields.<key>"')
class MergeFieldChoice:
    field: str
    take: MergeSide


@strawberry.input
class DuplicateContactInput:
    phone: str = strawberry.field(
        description="a contact's phone is unique in its workspace, so the copy needs its own"
    )
    email: str | None = strawberry.UNSET
    group_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="replaces the copied groups when given"
    )


@strawberry.type
class MergeMutation:
    @mutation(
        description=(
            "primary keeps its values; its empty fields are filled from the secondary; groups and"
            " custom values are united (primary wins); the secondary's phone joins otherPhones;"
            " opted-out if either was; history and interactions move to the primary; the secondary"
            " is deleted and its id resolves to the primary. dryRun returns the merged contact as it"
            " would be, and writes nothing. Running a merge that was cut short again completes it."
            " Needs CONTACT_EDIT and CONTACT_DELETE."
        ),
    )
    async def merge_contacts(
        self,
        info: Info,
        primary_id: strawberry.ID,
        secondary_id: strawberry.ID,
        choices: list[MergeFieldChoice] | None = None,
        dry_run: bool | None = False,
    ) -> ContactPayload:
        doc = await merge.merge_contacts(
            info.context.caller, primary_id, secondary_id, given(choices or []), bool(dry_run)
        )
        return ContactPayload(contact=Contact.from_doc(doc))

    @mutation(
        description=(
            "a new contact with the original's names, type, status, source, agent, company, address,"
            " custom values, opt-out and groups (or the groups given); no history, no interactions"
        )
    )
    async def duplicate_contact(
        self, info: Info, id: strawberry.ID, input: DuplicateContactInput
    ) -> ContactPayload:
        doc = await duplicate.duplicate_contact(info.context.caller, id, given(input))
        return ContactPayload(contact=Contact.from_doc(doc))

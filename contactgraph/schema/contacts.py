"""Contacts: the list, the card, and their writes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from ..ids import encode_id
from ..loaders.context import Info
from ..models import ContactType, Permission
from ..resolvers import contacts
from ..resolvers.contact_filter import ContactSortField
from .common import CountPayload, DeletePayload, UserError
from .contact_type import Contact, ContactConnection
from .fields import mutation, query
from .guards import user_errors
from .inputs import given

VIEW = (Permission.CONTACT_VIEW, Permission.CONTACT_VIEW_OWN)

strawberry.enum(ContactSortField, name="ContactSortField")


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input
class CustomFieldValueInput:
    key: str
    value: JSON | None = strawberry.field(description="null clears the value")


@strawberry.input
class SocialProfileInput:
    network: str = strawberry.field(
        description='"facebook", "instagram", "linkedin", "x" (or "twitter"), "telegram", ... or another slug'
    )
    handle: str
    url: str | None = strawberry.field(default=strawberry.UNSET, description="https only")


@strawberry.input
class CustomFieldFilter:
    key: str
    eq: JSON | None = strawberry.UNSET
    in_: list[JSON] | None = strawberry.field(name="in", default=strawberry.UNSET)
    contains: str | None = strawberry.field(
        default=strawberry.UNSET, description="case-insensitive, TEXT/TEXTAREA/URL"
    )
    gte: JSON | None = strawberry.field(default=strawberry.UNSET, description="NUMBER, DATE, DATETIME")
    lte: JSON | None = strawberry.UNSET
    exists: bool | None = strawberry.UNSET


@strawberry.input
class ContactFilter:
    search: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "words in any order, each the start of a word of the first or last name, company, email"
            " (local part or domain, split at . _ - +) or city, all required; case and accents ignored"
            " (Zoë, zoe; Weiß, weiss); in names written without spaces (Chinese, Japanese, Korean, Thai)"
            " any character starts a word; a number (digits with spaces, dashes, brackets, a leading +)"
            " matches any run of 3 or more digits of phone or otherPhones; at most 100 characters."
            " Without a sort, exact names come first (each word a whole word of the name), then the"
            " other matches, each newest first, and its cursors page only a search's list"
        ),
    )
    ids: list[strawberry.ID] | None = strawberry.UNSET
    status_ids: list[strawberry.ID] | None = strawberry.UNSET
    source_ids: list[strawberry.ID] | None = strawberry.UNSET
    group_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="member of any of these"
    )
    types: list[ContactType] | None = strawberry.UNSET
    assigned_agent_ids: list[strawberry.ID] | None = strawberry.UNSET
    unassigned: bool | None = strawberry.UNSET
    opted_out: bool | None = strawberry.UNSET
    custom_fields: list[CustomFieldFilter] | None = strawberry.field(
        default=strawberry.UNSET, description="all must hold"
    )
    created_after: datetime | None = strawberry.UNSET
    created_before: datetime | None = strawberry.UNSET
    segment_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="every condition of that saved segment holds too"
    )


@strawberry.input
class ContactSort:
    field: ContactSortField
    direction: SortDirection = SortDirection.ASC


@strawberry.input
class ContactInput:
    firstname: str
    lastname: str
    phone: str
    status_id: strawberry.ID
    source_id: strawberry.ID
    email: str | None = strawberry.UNSET
    type: ContactType = ContactType.LEAD
    group_ids: list[strawberry.ID] | None = strawberry.UNSET
    assigned_agent_id: strawberry.ID | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    state: str | None = strawberry.UNSET
    zip: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    custom_fields: list[CustomFieldValueInput] | None = strawberry.UNSET
    other_phones: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="further numbers, each unique in the workspace like phone"
    )
    social_profiles: list[SocialProfileInput] | None = strawberry.field(
        default=strawberry.UNSET, description="at most one per network"
    )


@strawberry.input(
    description="Every field optional: only the given ones change; null clears an optional field."
)
class ContactPatch:
    firstname: str | None = strawberry.UNSET
    lastname: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    type: ContactType | None = strawberry.UNSET
    status_id: strawberry.ID | None = strawberry.UNSET
    source_id: strawberry.ID | None = strawberry.UNSET
    group_ids: list[strawberry.ID] | None = strawberry.UNSET
    assigned_agent_id: strawberry.ID | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    state: str | None = strawberry.UNSET
    zip: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="merged into the existing values"
    )
    other_phones: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="replaces the list"
    )
    social_profiles: list[SocialProfileInput] | None = strawberry.field(
        default=strawberry.UNSET, description="replaces the list"
    )


@strawberry.type
class ContactPayload:
    contact: Contact | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _rename_in(data: dict | None) -> dict | None:
    """``in`` is a Python keyword, so the input field is ``in_``; resolvers see ``in``."""
    for item in (data or {}).get("custom_fields") or []:
        if "in_" in item:
            item["in"] = item.pop("in_")
    return data


def filter_given(filter: ContactFilter | None) -> dict | None:
    """A ``ContactFilter`` as the dict ``contact_query`` takes: the board and reports filter like the list."""
    return _rename_in(given(filter))


@strawberry.type
class ContactQuery:
    @query(description="phone in any accepted format; matches phone or otherPhones")
    async def contact(
        self, info: Info, id: strawberry.ID | None = None, phone: str | None = None
    ) -> Contact | None:
        found = await contacts.find_contact(info.context.caller, id, phone)
        return Contact.from_doc(found) if found else None

    @query(description="first defaults to 50 and is capped at 500; newest first unless sorted")
    async def contacts(
        self,
        info: Info,
        filter: ContactFilter | None = None,
        sort: ContactSort | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ContactConnection:
        sort_spec = {"field": sort.field, "direction": sort.direction.value} if sort else None
        page = await contacts.list_contacts(
            info.context.caller,
            _rename_in(given(filter)),
            sort_spec,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return ContactConnection.from_page(page)

    @query(
        description=(
            "the contacts of groupIds (any of them), segmentId and filter, all of which must hold;"
            " all contacts when none is given; never opted-out ones"
        )
    )
    async def campaign_audience(
        self,
        info: Info,
        group_ids: list[strawberry.ID] | None = None,
        segment_id: strawberry.ID | None = None,
        filter: ContactFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ContactConnection:
        page = await contacts.campaign_audience(
            info.context.caller, group_ids, first, after, segment_id=segment_id, filter=filter_given(filter)
        )
        return ContactConnection.from_page(page)


def _contact(doc: object) -> ContactPayload:
    return ContactPayload(contact=Contact.from_doc(doc))  # type: ignore[arg-type]


@strawberry.type
class ContactMutation:
    @mutation()
    async def create_contact(self, info: Info, input: ContactInput) -> ContactPayload:
        return _contact(await contacts.create_contact(info.context.caller, given(input)))

    @mutation()
    async def update_contact(
        self, info: Info, id: strawberry.ID, input: ContactPatch, expected_updated_at: datetime | None = None
    ) -> ContactPayload:
        doc = await contacts.update_contact(info.context.caller, id, given(input), expected_updated_at)
        return _contact(doc)

    @mutation(description="contacts that cannot be deleted are reported one by one")
    async def delete_contacts(self, info: Info, ids: list[strawberry.ID]) -> DeletePayload:
        deleted, errors = await contacts.delete_contacts(info.context.caller, ids)
        return DeletePayload(
            deleted_ids=[strawberry.ID(encode_id("Contact", oid)) for oid in deleted],
            user_errors=[e for error in errors for e in user_errors(error)],
        )

    @mutation()
    async def add_contacts_to_group(
        self, info: Info, group_id: strawberry.ID, contact_ids: list[strawberry.ID]
    ) -> CountPayload:
        return CountPayload(
            count=await contacts.set_group_membership(info.context.caller, group_id, contact_ids, True)
        )

    @mutation()
    async def remove_contacts_from_group(
        self, info: Info, group_id: strawberry.ID, contact_ids: list[strawberry.ID]
    ) -> CountPayload:
        count = await contacts.set_group_membership(info.context.caller, group_id, contact_ids, False)
        return CountPayload(count=count)

    @mutation(description="null agentId unassigns")
    async def assign_contacts(
        self, info: Info, contact_ids: list[strawberry.ID], agent_id: strawberry.ID | None = None
    ) -> CountPayload:
        return CountPayload(count=await contacts.assign_contacts(info.context.caller, contact_ids, agent_id))

    @mutation()
    async def set_contact_opt_out(self, info: Info, id: strawberry.ID, opted_out: bool) -> ContactPayload:
        return _contact(await contacts.set_opt_out(info.context.caller, id, opted_out))

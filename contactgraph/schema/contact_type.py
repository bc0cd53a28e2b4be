"""The Contact type and its connection; nested fields resolve through loaders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self, TypeVar

import strawberry
from strawberry import Private
from strawberry.scalars import JSON

from ..ids import encode_id
from ..loaders.context import Info
from ..models import Contact as ContactDoc
from ..models import ContactType
from ..models.custom_values import value_to_json
from ..models.lists import applies
from ..models.phones import wa_id
from ..resolvers.activity import ActivityKind
from ..resolvers.pagination import Page
from .activity import ActivityConnection, activity_of
from .admin import Agent
from .common import Node, PageInfo
from .history import StatusChangeConnection, history_of
from .journey import InteractionConnection, timeline_of
from .library import ContactSource, ContactStatus, CustomField, GroupType

T = TypeVar("T")


def _referenced(entry: T | None) -> T:
    """A status or source a contact uses; the library refuses to delete one in use."""
    if entry is None:
        raise LookupError("a contact refers to a status or source that does not exist")
    return entry


@strawberry.type
class CustomFieldValue:
    field: CustomField
    value: JSON | None


@strawberry.type
class SocialProfile:
    network: str = strawberry.field(description='"facebook", "instagram", "linkedin", "x", "telegram", ...')
    handle: str
    url: str | None


@strawberry.type
class Contact(Node):
    doc: Private[ContactDoc]
    firstname: str
    lastname: str
    phone: str = strawberry.field(description='E.164, e.g. "+14155551234"')
    other_phones: list[str] = strawberry.field(
        description=(
            "further E.164 numbers (entered, imported or kept from merges);"
            " unique in the workspace like phone"
        )
    )
    email: str | None = strawberry.field(description="stored lower-case")
    type: ContactType
    company: str | None
    website: str | None
    description: str | None
    country: str | None
    city: str | None
    state: str | None
    zip: str | None
    address: str | None
    social_profiles: list[SocialProfile]
    opted_out: bool
    opted_out_at: datetime | None
    status_changed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: ContactDoc) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("Contact", doc.id)),  # type: ignore[arg-type]
            firstname=doc.firstname,
            lastname=doc.lastname,
            phone=doc.phone,
            other_phones=doc.other_phones,
            email=doc.email,
            type=doc.type,
            company=doc.company,
            website=doc.website,
            description=doc.description,
            country=doc.country,
            city=doc.city,
            state=doc.state,
            zip=doc.zip,
            address=doc.address,
            social_profiles=[
                SocialProfile(network=p.network, handle=p.handle, url=p.url) for p in doc.social_profiles
            ],
            opted_out=doc.opted_out,
            opted_out_at=doc.opted_out_at,
            status_changed_at=doc.status_changed_at,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
        )

    @strawberry.field
    def full_name(self) -> str:
        return " ".join(name for name in (self.firstname, self.lastname) if name)  # a name may be empty

    @strawberry.field(description='the phone\'s digits without "+", as WhatsApp addresses it')
    def wa_id(self) -> str:
        return wa_id(self.phone)

    @strawberry.field
    async def status(self, info: Info) -> ContactStatus:
        return ContactStatus.from_doc(_referenced(await info.context.loaders.status.load(self.doc.status_id)))

    @strawberry.field
    async def source(self, info: Info) -> ContactSource:
        return ContactSource.from_doc(_referenced(await info.context.loaders.source.load(self.doc.source_id)))

    @strawberry.field
    async def groups(self, info: Info) -> list[GroupType]:
        found = await info.context.loaders.group.load_many(self.doc.group_ids)
        return [GroupType.from_doc(g) for g in found if g is not None]

    @strawberry.field
    async def assigned_agent(self, info: Info) -> Agent | None:
        if self.doc.assigned_agent_id is None:
            return None
        agent = await info.context.loaders.agent.load(self.doc.assigned_agent_id)
        return Agent.from_doc(agent) if agent else None

    @strawberry.field(
        description=(
            "live (not soft-deleted) fields that have a value;"
            " a list's fields only while the contact is in that list"
        )
    )
    async def custom_fields(self, info: Info) -> list[CustomFieldValue]:
        values = self.doc.custom_values
        fields = await info.context.loaders.custom_field.load_many([v.field_id for v in values])
        groups = set(self.doc.group_ids)
        pairs = [
            (f, v)
            for f, v in zip(fields, values, strict=True)
            if f is not None and f.live and applies(f, groups)
        ]
        pairs.sort(key=lambda pair: (pair[0].position, str(pair[0].id)))
        return [
            CustomFieldValue(field=CustomField.from_doc(f), value=value_to_json(v.value)) for f, v in pairs
        ]

    @strawberry.field
    async def custom_field(self, info: Info, key: str) -> JSON | None:
        field = await info.context.loaders.custom_field_by_key.load(key)
        if field is None or not applies(field, self.doc.group_ids):
            return None
        return value_to_json(self.doc.value_of(field.id))  # type: ignore[arg-type]

    @strawberry.field(
        description=(
            "the contact's status changes, newest first; changes into a status deleted since are left out"
        )
    )
    async def status_history(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> StatusChangeConnection:
        return await history_of(info, self.doc, first, after)

    @strawberry.field(
        description=(
            "the customer journey, newest first. Without from/to: from the first day of the month"
            " three months before the current one, to the end of the current month"
        )
    )
    async def timeline(
        self,
        info: Info,
        channels: list[str] | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> InteractionConnection:
        return await timeline_of(info, self.doc, channels, from_, to, first, after)

    @strawberry.field(
        description=(
            "every change of the contact, newest first, from its events: who, when, and each field's old"
            " and new value; kinds narrows it to activities of those kinds"
        )
    )
    async def activity(
        self,
        info: Info,
        kinds: list[ActivityKind] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ActivityConnection:
        return await activity_of(info, self.doc, kinds, first, after)


@strawberry.type
class ContactEdge:
    cursor: str
    node: Contact


@strawberry.type
class ContactConnection:
    page: Private[Page[ContactDoc]]
    edges: list[ContactEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[ContactDoc]) -> Self:
        return cls(
            page=page,
            edges=[
                ContactEdge(cursor=cursor, node=Contact.from_doc(doc))
                for doc, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )

    @strawberry.field
    async def total_count(self) -> int:
        return await self.page.total_count()

"""Live chat and bots: contacts upserted by phone, and bot answers into custom fields."""

from __future__ import annotations

import strawberry

from ..loaders.context import Info
from ..models import ContactType
from ..resolvers import bot, upsert
from .contact_type import Contact
from .contacts import ContactPayload, CustomFieldValueInput
from .fields import mutation
from .inputs import given


@strawberry.input
class UpsertContactByPhoneInput:
    phone: str
    firstname: str | None = strawberry.field(
        default=strawberry.UNSET, description="used when creating; fills an empty name when updating"
    )
    lastname: str | None = strawberry.UNSET
    type: ContactType | None = strawberry.field(
        default=strawberry.UNSET,
        description="used when creating; defaults to the workspace's inbound default (GUEST unless set)",
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="merged into the existing values; text is read as the field's type, as for bots",
    )


@strawberry.type
class ChatMutation:
    @mutation(
        description=(
            "the contact whose phone or otherPhones is this number, updated, or a new contact with the"
            " workspace's inbound defaults; creating needs CONTACT_CREATE, changing CONTACT_EDIT"
        )
    )
    async def upsert_contact_by_phone(self, info: Info, input: UpsertContactByPhoneInput) -> ContactPayload:
        agent = info.context.caller
        inbound = await upsert.read_inbound(agent, given(input))
        return ContactPayload(
            contact=Contact.from_doc(await upsert.upsert(agent, inbound, ["input", "phone"]))
        )

    @mutation(
        description=(
            "a bot's answers, by contactId or phone: text is read as the field's type (NUMBER, CHECKBOX"
            " true/false/yes/no/1/0, ISO DATE and DATETIME, DROPDOWN in any case); null clears a value;"
            " one value that cannot be read rejects them all"
        )
    )
    async def set_contact_custom_fields(
        self,
        info: Info,
        values: list[CustomFieldValueInput],
        contact_id: strawberry.ID | None = None,
        phone: str | None = None,
    ) -> ContactPayload:
        doc = await bot.set_custom_fields(info.context.caller, contact_id, phone, given(values))
        return ContactPayload(contact=Contact.from_doc(doc))

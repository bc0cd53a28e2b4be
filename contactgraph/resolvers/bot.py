"""setContactCustomFields: a chatbot's answers written into a contact's custom fields.

Bots send text, so each value is read as its field's type (``coerce_value``) before
it is checked; one value that cannot be read rejects them all.
"""

from __future__ import annotations

from typing import Any

from ..access import contact_scope
from ..models import Agent, Contact, DomainError, ErrorCode, Errors
from ..models.custom_values import coerce_value
from ..services import contact_writes
from .contact_input import ContactChanges
from .contacts import UPDATE_ATTEMPTS, contact_by_phone, visible_contact
from .refs import not_found


async def set_custom_fields(
    agent: Agent, contact_gid: str | None, phone: str | None, values: list[dict[str, Any]]
) -> Contact:
    errors = Errors()
    contact = await errors.check_async([], _target, agent, contact_gid, phone)
    answers = await ContactChanges(agent, contact, prefix="values", convert=coerce_value).read_custom_values(
        values
    )
    errors.items.extend(answers.errors.items)
    if contact is not None:
        errors.items.extend(await answers.list_problems(contact.group_ids, contact))
    errors.raise_any()
    assert contact is not None
    for _ in range(UPDATE_ATTEMPTS):
        merged = Contact.merge_values(contact.custom_values, answers.custom_changes)
        if merged == contact.custom_values:
            return contact
        updated = await contact_writes.patch(agent, contact, {"custom_values": merged})
        if updated is not None:
            return updated
        contact = await _reread(agent, contact)
    raise DomainError(ErrorCode.CONFLICT, "The contact kept changing while it was written; try again.")


async def _target(agent: Agent, contact_gid: str | None, phone: str | None) -> Contact:
    """The contact named by id or by phone (exactly one of them)."""
    if (contact_gid is None) == (phone is None):
        raise DomainError(ErrorCode.INVALID, "Give either contactId or phone.", ["contactId"])
    if contact_gid is not None:
        return await visible_contact(agent, contact_gid, "contactId")
    try:
        found = await contact_by_phone(agent, phone)  # type: ignore[arg-type]
    except DomainError as error:
        raise error.at("phone") from None
    if found is None:
        raise not_found("contact").at("phone")
    return found


async def _reread(agent: Agent, contact: Contact) -> Contact:
    found = await Contact.find_one({**contact_scope(agent), "_id": contact.id})
    if found is None:
        raise not_found("contact").at("contactId")
    return found

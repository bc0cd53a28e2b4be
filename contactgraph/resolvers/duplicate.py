"""duplicateContact: a second record copied from a contact, with a phone of its own."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from ..models import (
    Agent,
    Contact,
    CustomField,
    CustomValue,
    DomainError,
    DomainErrors,
    ErrorCode,
    Errors,
    Group,
)
from ..models.contact import Flag, flagged
from ..models.lists import GroupRule, applies, lacking, required_message
from ..models.phone_claims import holding
from ..models.phones import normalize_phone
from ..models.text import normalize_email
from ..services import contact_writes
from ..services.unique import duplicates_as, email_taken, phone_taken
from .contact_input import GROUPS_MAX
from .contacts import visible_contact
from .refs import fetch_many

# What the copy takes from the original; its phone, email and groups come from the input. Never
# its other phones (a number is held by one contact) nor its social profiles (a person's own).
COPIED = [f.attribute for f in flagged(Flag.COPY)]


async def duplicate_contact(agent: Agent, global_id: str, given: dict[str, Any]) -> Contact:
    """A new contact like the original, without its history or interactions."""
    errors = Errors()
    original = await errors.check_async([], visible_contact, agent, global_id, "id")
    values = await errors.check_async(["input"], _own_values, agent, given)
    errors.raise_any()
    assert original is not None and values is not None
    copied = {name: getattr(original, name) for name in COPIED}
    values["group_ids"], values["custom_values"] = await _in_its_lists(
        agent, original, values.get("group_ids", original.group_ids)
    )
    copy = Contact.new(agent.workspace_id, **{**copied, **values})
    with duplicates_as(
        {
            "phone": phone_taken(copy.phone, ["input", "phone"]),
            "email": email_taken(copy.email, ["input", "email"]),
        }
    ):
        await contact_writes.insert(agent, copy)
    return copy


async def _in_its_lists(
    agent: Agent, original: Contact, group_ids: list[PydanticObjectId]
) -> tuple[list[PydanticObjectId], list[CustomValue]]:
    """The copy's groups (``GroupRule.for_new``) and the original's values of the fields that apply
    in them (``applies``); REQUIRED for a required field of those lists the copy would lack."""
    try:
        groups = (await GroupRule.load(agent.workspace_id)).for_new(group_ids)
    except DomainError as error:
        raise error.at("input", "groupIds") from None
    held = [v.field_id for v in original.custom_values]
    query = {"$or": [{"_id": {"$in": held}}, {"required": True, "deleted_at": None}]}
    fields = await CustomField.find({"workspace_id": agent.workspace_id, **query}).to_list()
    by_id = {f.id: f for f in fields}
    kept = [v for v in original.custom_values if (f := by_id.get(v.field_id)) is None or applies(f, groups)]
    missing = lacking(fields, groups, {v.field_id: v.value for v in kept})
    if missing:
        raise DomainErrors(
            [DomainError(ErrorCode.REQUIRED, required_message(f), ["input", "groupIds"]) for f in missing]
        )
    return groups, kept


async def _own_values(agent: Agent, given: dict[str, Any]) -> dict[str, Any]:
    """The copy's phone, email and groups, checked (unique phone and email) and stored as such."""
    errors = Errors()
    values: dict[str, Any] = {}
    values["phone"] = errors.check(["phone"], normalize_phone, given["phone"])
    if given.get("email") is not None:
        values["email"] = errors.check(["email"], normalize_email, given["email"])
    if given.get("group_ids") is not None:
        if len(given["group_ids"]) > GROUPS_MAX:
            errors.add(ErrorCode.LIMIT_EXCEEDED, f"At most {GROUPS_MAX} groups.", "group_ids")
        else:
            groups = await errors.check_async(
                [], fetch_many, Group, agent.workspace_id, given["group_ids"], "group_ids"
            )
            values["group_ids"] = list(dict.fromkeys(g.id for g in groups or []))
    phone, email = values["phone"], values.get("email")
    if phone and await Contact.find_one(holding(agent.workspace_id, phone)):
        errors.items.append(phone_taken(phone, ["phone"]))
    if email and await Contact.find_one({"workspace_id": agent.workspace_id, "email": email}):
        errors.items.append(email_taken(email, ["email"]))
    errors.raise_any()
    return values

"""upsertContactByPhone: the contact an inbound message comes from, found by phone or created.

Two first messages from one number may arrive at once. Each request looks the number
up, finds nothing and creates; the phone claim's unique index lets exactly one create
win, and each loser looks again and updates the winner's contact instead.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from beanie import PydanticObjectId

from ..access import policy_of
from ..models import (
    Agent,
    Contact,
    ContactType,
    DomainError,
    DomainErrors,
    ErrorCode,
    Errors,
    Permission,
    Source,
    Status,
    Workspace,
)
from ..models.contact import derive
from ..models.custom_values import StoredValue, coerce_value
from ..models.lists import GroupRule
from ..models.phone_claims import PhoneTaken, holding
from ..models.phones import normalize_phone
from ..models.text import NAME_MAX, clean_text
from ..services import contact_writes
from ..services.unique import phone_taken
from .contact_input import ContactChanges
from .contacts import contact_by_phone

ATTEMPTS = 8
PAUSE_SECONDS = 0.005


@dataclass
class Inbound:
    """What an inbound message says about its contact, validated."""

    phone: str
    firstname: str | None = None
    lastname: str | None = None
    type: ContactType | None = None
    custom_changes: dict[PydanticObjectId, StoredValue] = field(default_factory=dict)
    custom: ContactChanges | None = None  # the values as read, checked against the contact's lists once found


def require(agent: Agent, permission: Permission, doing: str) -> None:
    """FORBIDDEN unless the agent holds ``permission``: for an action the data decides on
    (an upsert creates or updates), which a field's declared permissions cannot tell apart.
    """
    if not agent.can(permission):
        raise DomainError(ErrorCode.FORBIDDEN, f"{doing} needs the {permission.value} permission.")


async def read_inbound(agent: Agent, given: dict[str, Any]) -> Inbound:
    """The upsert's input checked whole: every problem reported, nothing written."""
    errors = Errors()
    phone = errors.check(["input", "phone"], normalize_phone, given["phone"])
    names = {
        name: errors.check(["input", name], _name, given[name])
        for name in ("firstname", "lastname")
        if given.get(name) is not None
    }
    values = ContactChanges(agent, None, convert=coerce_value)
    if given.get("custom_fields"):
        await values.read_custom_values(given["custom_fields"], "custom_fields")
    errors.items.extend(values.errors.items)
    errors.raise_any()
    assert phone is not None
    return Inbound(
        phone=phone, type=given.get("type"), custom_changes=values.custom_changes, custom=values, **names
    )


def _name(value: str) -> str | None:
    return clean_text(value, max_length=NAME_MAX)


async def upsert(agent: Agent, inbound: Inbound, path: list[str]) -> Contact:
    """The contact holding ``inbound.phone``, updated with what is new; or a new contact."""
    for attempt in range(ATTEMPTS):
        found = await _holder(agent, inbound.phone, path)
        if found is not None:
            updated = await _update(agent, found, inbound)
            if updated is not None:
                return updated
        else:
            try:
                return await _create(agent, inbound)
            except PhoneTaken:
                pass  # another request created it: update that contact on the next round
        await backoff(attempt)
    raise DomainError(ErrorCode.CONFLICT, "The contact kept changing while it was written; try again.", path)


async def backoff(attempt: int) -> None:
    """A random pause, longer each attempt, so requests that collided do not collide again."""
    await asyncio.sleep(random.uniform(0, PAUSE_SECONDS * 2**attempt))


async def _holder(agent: Agent, phone: str, path: list[str]) -> Contact | None:
    """The contact the agent may see that holds ``phone``; PHONE_TAKEN if only others may see it."""
    found = await contact_by_phone(agent, phone)
    out_of_sight = found is None and not policy_of(agent).sees_all
    if out_of_sight and await Contact.find_one(holding(agent.workspace_id, phone)):
        raise phone_taken(phone, path)
    return found


async def _update(agent: Agent, contact: Contact, inbound: Inbound) -> Contact | None:
    """Names fill only empty names; custom values are merged. None: the contact changed meanwhile."""
    changes: dict[str, Any] = {
        name: getattr(inbound, name)
        for name in ("firstname", "lastname")
        if getattr(inbound, name) and not getattr(contact, name)
    }
    changes["custom_values"] = Contact.merge_values(contact.custom_values, inbound.custom_changes)
    await _lists_allow(agent, inbound, contact.group_ids, contact)
    changes = derive(contact, changes)
    if not changes:
        return contact
    require(agent, Permission.CONTACT_EDIT, "Updating a contact")
    return await contact_writes.patch(agent, contact, changes)


async def _create(agent: Agent, inbound: Inbound) -> Contact:
    require(agent, Permission.CONTACT_CREATE, "Creating a contact")
    workspace = await Workspace.get(agent.workspace_id)
    assert workspace is not None
    defaults = workspace.inbound
    errors = Errors()
    status = await Status.get_in(agent.workspace_id, defaults.status_id)
    source = await Source.get_in(agent.workspace_id, defaults.source_id)
    for entry, setting in ((status, "inboundStatusId"), (source, "inboundSourceId")):
        if entry is None:
            message = f"New contacts need the workspace's {setting}: set it with updateWorkspaceSettings."
            errors.items.append(DomainError(ErrorCode.REQUIRED, message))
    group_ids: list[PydanticObjectId] = []
    try:
        group_ids = GroupRule.of(workspace).for_new([])
    except DomainError as error:
        errors.items.append(error)
    errors.raise_any()
    assert status is not None and source is not None
    await _lists_allow(agent, inbound, group_ids, None)
    contact = Contact.new(
        agent.workspace_id,
        firstname=inbound.firstname or "",
        lastname=inbound.lastname or "",
        phone=inbound.phone,
        type=inbound.type or defaults.type,
        status_id=status.id,
        source_id=source.id,
        group_ids=group_ids,
        custom_values=Contact.merge_values([], inbound.custom_changes),
    )
    await contact_writes.insert(agent, contact)
    return contact


async def _lists_allow(
    agent: Agent, inbound: Inbound, group_ids: list[PydanticObjectId], before: Contact | None
) -> None:
    """The inbound values, and the contact's required fields, as its lists have them (``list_problems``)."""
    custom = inbound.custom or ContactChanges(agent, None)
    problems = await custom.list_problems(group_ids, before)
    if problems:
        raise DomainErrors(problems)

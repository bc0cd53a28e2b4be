"""Contacts: the reads and writes of the contact list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from ..access import contact_scope
from ..ids import decode_id
from ..models import Agent, Contact, DomainError, DomainErrors, ErrorCode, Errors, Group
from ..models.interaction import Interaction
from ..models.lists import GroupRule, lacking, required_fields, required_message, without_group
from ..models.phones import normalize_phone
from ..services import contact_writes
from ..services.unique import duplicates_as, email_taken, phone_taken
from .contact_filter import contact_query, contact_sort, search_text, segment_query
from .contact_input import ContactChanges
from .contact_search import Ranked
from .pagination import Page, paginate
from .refs import fetch, not_found

BULK_MAX = 1_000
UPDATE_ATTEMPTS = 3


def _unique_errors(values: dict[str, Any], prefix: str = "input") -> dict[str, DomainError]:
    others = {
        f"phone {number}": phone_taken(number, [prefix, "otherPhones", str(index)])
        for index, number in enumerate(values.get("other_phones") or [])
    }
    return {
        **others,
        "phone": phone_taken(values.get("phone"), [prefix, "phone"]),
        "email": email_taken(values.get("email"), [prefix, "email"]),
    }


# ---------------------------------------------------------------- reads


async def visible_contact(agent: Agent, global_id: str, path: str = "id") -> Contact:
    """A contact the agent may see, by id (a merged-away id resolves to the survivor)."""
    oid = decode_id(global_id, "Contact")
    found = None
    if oid is not None:
        scope = contact_scope(agent)
        found = await Contact.find_one({**scope, "$or": [{"_id": oid}, {"merged_ids": oid}]})
    if found is None:
        raise not_found("contact").at(path)
    return found


async def contact_by_phone(agent: Agent, phone: str) -> Contact | None:
    e164 = normalize_phone(phone)
    query = {**contact_scope(agent), "$or": [{"phone": e164}, {"other_phones": e164}]}
    return await Contact.find_one(query)


async def find_contact(agent: Agent, global_id: str | None, phone: str | None) -> Contact | None:
    if (global_id is None) == (phone is None):
        raise DomainError(ErrorCode.INVALID, "Give either id or phone.", ["id"])
    if phone is not None:
        try:
            return await contact_by_phone(agent, phone)
        except DomainError as error:
            raise error.at("phone") from None
    try:
        return await visible_contact(agent, global_id)  # type: ignore[arg-type]
    except DomainError:
        return None


async def list_contacts(
    agent: Agent,
    filter: dict[str, Any] | None,
    sort: dict[str, Any] | None,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[Contact]:
    query = await contact_query(contact_scope(agent), filter)
    order = contact_sort(sort["field"], sort.get("direction") == "DESC") if sort else contact_sort(None, True)
    if not sort and filter and (searched := search_text(filter.get("search"))) is not None:
        ranked = Ranked.of(query, searched, order)  # exact names first (``contact_search``)
        return await ranked.page(first=first, after=after, last=last, before=before)
    return await paginate(Contact, query, order, first=first, after=after, last=last, before=before)


async def campaign_audience(
    agent: Agent,
    group_ids: Sequence[str] | None,
    first: int | None,
    after: str | None,
    *,
    segment_id: str | None = None,
    filter: dict[str, Any] | None = None,
) -> Page[Contact]:
    """Everyone who may receive a campaign: never opted-out contacts, of the groups, segment and filter."""
    given: dict[str, Any] = {"opted_out": False}
    if group_ids is not None:
        given["group_ids"] = group_ids
    query = await contact_query(contact_scope(agent), given)
    if segment_id is not None:
        query = {"$and": [query, await segment_query(agent.workspace_id, segment_id, "segmentId")]}
    if filter:
        query = {"$and": [query, await contact_query({"workspace_id": agent.workspace_id}, filter)]}
    return await paginate(Contact, query, contact_sort(None, False).reversed(), first=first, after=after)


# ---------------------------------------------------------------- writes


async def create_contact(agent: Agent, given: dict[str, Any]) -> Contact:
    changes = (await ContactChanges(agent, None).read(given)).updates()
    contact = Contact.new(agent.workspace_id, **changes)
    with duplicates_as(_unique_errors(changes)):
        await contact_writes.insert(agent, contact)
    return contact


async def update_contact(
    agent: Agent, global_id: str, given: dict[str, Any], expected_updated_at: Any = None
) -> Contact:
    """Apply a patch; a concurrent change is retried, or a CONFLICT when the caller expects a version."""
    for _ in range(UPDATE_ATTEMPTS):
        current = await visible_contact(agent, global_id)
        if expected_updated_at is not None and current.updated_at != expected_updated_at:
            raise _conflict()
        changes = (await ContactChanges(agent, current).read(given)).updates()
        if not changes:
            return current
        with duplicates_as(_unique_errors(changes)):
            updated = await contact_writes.patch(agent, current, changes)
        if updated is not None:
            return updated
        if expected_updated_at is not None:
            raise _conflict()
    raise _conflict()


def _conflict() -> DomainError:
    return DomainError(
        ErrorCode.CONFLICT, "The contact changed since it was read; read it again.", ["expectedUpdatedAt"]
    )


async def delete_contacts(
    agent: Agent, global_ids: Sequence[str]
) -> tuple[list[PydanticObjectId], list[DomainError]]:
    """Delete what can be; report each id that cannot be, by its position.

    A contact with an open interaction (a conversation under way) is BLOCKED.
    """
    if len(global_ids) > BULK_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {BULK_MAX} ids at once.", ["ids"])
    oids = [decode_id(g, "Contact") for g in global_ids]
    found = await _visible(agent, oids)
    blocked = await Interaction.open_for(agent.workspace_id, list(found))
    errors = []
    for i, oid in enumerate(oids):
        if oid is None or oid not in found:
            errors.append(not_found("contact").at("ids", i))
        elif oid in blocked:
            errors.append(_open_interaction().at("ids", i))
    deletable = {k: v for k, v in found.items() if k not in blocked}
    return await contact_writes.remove(agent, _in_order(deletable, oids)), errors


def _open_interaction() -> DomainError:
    return DomainError(ErrorCode.BLOCKED, "The contact has an open interaction; close it first.")


async def _visible(agent: Agent, oids: Sequence[ObjectId | None]) -> dict[PydanticObjectId, Contact]:
    """The contacts among ``oids`` the agent may see, by id, in one query."""
    wanted = list({PydanticObjectId(o) for o in oids if o is not None})
    found = await Contact.find({**contact_scope(agent), "_id": {"$in": wanted}}).to_list()
    return {c.id: c for c in found}  # type: ignore[misc]


async def _visible_contacts(agent: Agent, global_ids: Sequence[str]) -> list[Contact]:
    """The contacts named, which the agent may see; NOT_FOUND for each that is not one."""
    if len(global_ids) > BULK_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {BULK_MAX} ids at once.", ["contactIds"])
    oids = [decode_id(g, "Contact") for g in global_ids]
    found = await _visible(agent, oids)
    missing = [
        not_found("contact").at("contactIds", i) for i, o in enumerate(oids) if o is None or o not in found
    ]
    if missing:
        raise DomainErrors(missing)
    return _in_order(found, oids)


def _in_order(found: dict[PydanticObjectId, Contact], oids: Sequence[ObjectId | None]) -> list[Contact]:
    return [found[o] for o in dict.fromkeys(oids) if o in found]  # type: ignore[index]


async def set_group_membership(
    agent: Agent, group_gid: str, contact_gids: Sequence[str], member: bool
) -> int:
    """Add contacts to a group, or remove them; the count is of those that changed.

    A contact written by someone else meanwhile is read again and changed anew.
    """
    errors = Errors()
    group = await errors.check_async([], fetch, Group, agent.workspace_id, group_gid, "groupId")
    contacts = await errors.check_async([], _visible_contacts, agent, contact_gids)
    errors.raise_any()
    assert group is not None and contacts is not None
    rule = await GroupRule.load(agent.workspace_id) if not member else GroupRule()
    await _membership_allowed(agent, group, contacts, member, rule)

    def change_for(contact: Contact) -> dict[str, Any]:
        if (group.id in contact.group_ids) == member:
            return {}
        ids = [*contact.group_ids, group.id] if member else [g for g in contact.group_ids if g != group.id]
        if rule.required and not ids:
            return {}  # it lost its other groups since it was checked
        return {"group_ids": ids}

    return await contact_writes.patch_each(agent, contacts, change_for)


async def _membership_allowed(
    agent: Agent, group: Group, contacts: Sequence[Contact], member: bool, rule: GroupRule
) -> None:
    """Joining: every contact has the group's required fields (``lacking``). Leaving: none is left
    without a group when the workspace requires one. Each contact refused is named at its index."""
    problems: list[DomainError] = []
    assert group.id is not None  # a stored group
    if member:
        required = await required_fields(agent.workspace_id)
        for i, contact in enumerate(contacts):
            if group.id in contact.group_ids:
                continue
            values = {v.field_id: v.value for v in contact.custom_values}
            for field in lacking(required, [*contact.group_ids, group.id], values, contact):
                message = required_message(field, contact)
                problems.append(DomainError(ErrorCode.REQUIRED, message, ["contactIds", i]))
    else:
        for i, contact in enumerate(contacts):
            if rule.required and contact.group_ids == [group.id]:
                problems.append(DomainError(ErrorCode.REQUIRED, without_group([contact]), ["contactIds", i]))
    if problems:
        raise DomainErrors(problems)


async def assign_contacts(agent: Agent, contact_gids: Sequence[str], agent_gid: str | None) -> int:
    errors = Errors()
    assignee = None
    if agent_gid is not None:
        assignee = await errors.check_async([], fetch, Agent, agent.workspace_id, agent_gid, "agentId")
    contacts = await errors.check_async([], _visible_contacts, agent, contact_gids)
    errors.raise_any()
    assert contacts is not None
    target = assignee.id if assignee else None
    return await contact_writes.patch_each(agent, contacts, lambda c: {"assigned_agent_id": target})


async def set_opt_out(agent: Agent, global_id: str, opted_out: bool) -> Contact:
    """Opt a contact out of (or back into) messaging; a concurrent change is retried."""
    for _ in range(UPDATE_ATTEMPTS):
        contact = await visible_contact(agent, global_id)
        if contact.opted_out == opted_out:
            return contact
        updated = await contact_writes.patch(agent, contact, {"opted_out": opted_out})
        if updated is not None:
            return updated
    raise _conflict()

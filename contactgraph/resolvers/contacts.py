"""Contacts: the reads and writes of the contact list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from ..ids import decode_id
from ..models import Agent, Contact, DomainError, DomainErrors, ErrorCode, Group, utcnow
from ..models.access import contact_scope
from ..models.base import as_utc
from ..models.phones import normalize_phone
from .contact_filter import contact_query, contact_sort
from .contact_input import ContactChanges, email_taken, phone_taken
from .pagination import Page, paginate
from .refs import duplicates_as, fetch, not_found

BULK_MAX = 1_000
UPDATE_ATTEMPTS = 3


def _unique_errors(values: dict[str, Any], prefix: str = "input") -> dict[str, DomainError]:
    return {
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
    return await paginate(Contact, query, order, first=first, after=after, last=last, before=before)


async def campaign_audience(
    agent: Agent, group_ids: Sequence[str] | None, first: int | None, after: str | None
) -> Page[Contact]:
    """Everyone who may receive a campaign: never opted-out contacts."""
    given: dict[str, Any] = {"opted_out": False}
    if group_ids is not None:
        given["group_ids"] = group_ids
    query = await contact_query(contact_scope(agent), given)
    return await paginate(Contact, query, contact_sort(None, False).reversed(), first=first, after=after)


# ---------------------------------------------------------------- writes


async def create_contact(agent: Agent, given: dict[str, Any]) -> Contact:
    changes = (await ContactChanges(agent, None).read(given)).updates()
    contact = Contact(
        workspace_id=agent.workspace_id,
        keys=changes.pop("keys"),
        **changes,
    )
    with duplicates_as(_unique_errors(changes)):
        await contact.insert()
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
        changes["updated_at"] = _later_than(current.updated_at)
        if "status_id" in changes:
            changes["status_changed_at"] = changes["updated_at"]
        guard = {"_id": current.id, "workspace_id": agent.workspace_id, "updated_at": current.updated_at}
        with duplicates_as(_unique_errors(changes)):
            result = await Contact.get_pymongo_collection().update_one(guard, {"$set": changes})
        if result.matched_count:
            return await _reload(agent, current)
        if expected_updated_at is not None:
            raise _conflict()
    raise _conflict()


def _later_than(previous: datetime) -> datetime:
    """Now, yet always after ``previous``: ``updatedAt`` is the version ``expectedUpdatedAt`` checks."""
    return max(utcnow(), as_utc(previous) + timedelta(milliseconds=1))


async def _reload(agent: Agent, contact: Contact) -> Contact:
    """The contact as written, even when the change took it out of a view-own agent's sight."""
    found = await Contact.find_one({"_id": contact.id, "workspace_id": agent.workspace_id})
    if found is None:
        raise not_found("contact").at("id")
    return found


def _conflict() -> DomainError:
    return DomainError(
        ErrorCode.CONFLICT, "The contact changed since it was read; read it again.", ["expectedUpdatedAt"]
    )


async def delete_contacts(
    agent: Agent, global_ids: Sequence[str]
) -> tuple[list[PydanticObjectId], list[DomainError]]:
    """Delete what can be; report each id that cannot be, by its position."""
    if len(global_ids) > BULK_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {BULK_MAX} ids at once.", ["ids"])
    oids = [decode_id(g, "Contact") for g in global_ids]
    wanted = [PydanticObjectId(o) for o in oids if o is not None]
    scope = contact_scope(agent)
    found = {c.id for c in await Contact.find({**scope, "_id": {"$in": wanted}}).to_list()}
    errors = [
        not_found("contact").at("ids", i) for i, oid in enumerate(oids) if oid is None or oid not in found
    ]
    deleted = [oid for oid in dict.fromkeys(wanted) if oid in found]
    if deleted:
        await Contact.get_pymongo_collection().delete_many({**scope, "_id": {"$in": deleted}})
    return deleted, errors


async def _visible_ids(agent: Agent, global_ids: Sequence[str]) -> list[PydanticObjectId]:
    """The ids of contacts the agent may see; NOT_FOUND for each that is not one."""
    if len(global_ids) > BULK_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {BULK_MAX} ids at once.", ["contactIds"])
    oids = [decode_id(g, "Contact") for g in global_ids]
    wanted = [PydanticObjectId(o) for o in oids if o is not None]
    found = {c.id for c in await Contact.find({**contact_scope(agent), "_id": {"$in": wanted}}).to_list()}
    missing = [
        not_found("contact").at("contactIds", i) for i, o in enumerate(oids) if o is None or o not in found
    ]
    if missing:
        raise DomainErrors(missing)
    return list(dict.fromkeys(wanted))


async def set_group_membership(
    agent: Agent, group_gid: str, contact_gids: Sequence[str], member: bool
) -> int:
    """Add contacts to a group, or remove them; the count is of those that changed."""
    errors: list[DomainError] = []
    try:
        group = await fetch(Group, agent.workspace_id, group_gid, "groupId")
    except DomainError as error:
        errors.append(error)
    try:
        ids = await _visible_ids(agent, contact_gids)
    except DomainErrors as many:
        errors.extend(many.errors)
    if errors:
        raise DomainErrors(errors)
    query: dict[str, Any] = {"_id": {"$in": ids}, "workspace_id": agent.workspace_id}
    query["group_ids"] = {"$ne": group.id} if member else group.id
    change = {"$addToSet" if member else "$pull": {"group_ids": group.id}, "$set": {"updated_at": utcnow()}}
    result = await Contact.get_pymongo_collection().update_many(query, change)
    return result.modified_count


async def assign_contacts(agent: Agent, contact_gids: Sequence[str], agent_gid: str | None) -> int:
    errors: list[DomainError] = []
    assignee = None
    if agent_gid is not None:
        try:
            assignee = await fetch(Agent, agent.workspace_id, agent_gid, "agentId")
        except DomainError as error:
            errors.append(error)
    try:
        ids = await _visible_ids(agent, contact_gids)
    except DomainErrors as many:
        errors.extend(many.errors)
    if errors:
        raise DomainErrors(errors)
    target = assignee.id if assignee else None
    result = await Contact.get_pymongo_collection().update_many(
        {"_id": {"$in": ids}, "workspace_id": agent.workspace_id, "assigned_agent_id": {"$ne": target}},
        {"$set": {"assigned_agent_id": target, "updated_at": utcnow()}},
    )
    return result.modified_count


async def set_opt_out(agent: Agent, global_id: str, opted_out: bool) -> Contact:
    contact = await visible_contact(agent, global_id)
    if contact.opted_out != opted_out:
        now = utcnow()
        await contact.set(
            {"opted_out": opted_out, "opted_out_at": now if opted_out else None, "updated_at": now}
        )
    return contact

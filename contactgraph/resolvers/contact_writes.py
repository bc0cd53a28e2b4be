"""Every write to contacts, each with the events it makes, in one step.

Resolvers never write a contact any other way, so every change (a status change above
all) is recorded in the outbox and published exactly once, however it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import UpdateOne

from ..events import contact_events
from ..models import Agent, Contact, utcnow
from ..models.base import Session, as_utc
from .changes import apply

PATCH_BATCH = 500


def later_than(previous: datetime) -> datetime:
    """Now, yet always after ``previous``: ``updatedAt`` is the version ``expectedUpdatedAt`` checks."""
    return max(utcnow(), as_utc(previous) + timedelta(milliseconds=1))


def changed(before: Contact, changes: dict[str, Any]) -> Contact:
    """``before`` with ``changes`` (field values as stored) applied, validated."""
    return Contact.model_validate({**before.model_dump(), **changes})


def stamped(before: Contact, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` with the times they imply: a new version, and when the status changed."""
    stamped = {**changes, "updated_at": later_than(before.updated_at)}
    if "status_id" in changes and changes["status_id"] != before.status_id:
        stamped.setdefault("status_changed_at", stamped["updated_at"])
    return stamped


async def insert(agent: Agent | None, contact: Contact) -> None:
    if contact.id is None:
        contact.id = PydanticObjectId()  # the event names the contact before it is written

    async def write(session: Session) -> bool:
        await contact.insert(session=session)
        return True

    await apply(write, contact_events(None, contact, agent))


async def patch(agent: Agent | None, before: Contact, changes: dict[str, Any]) -> Contact | None:
    """Apply ``changes`` unless the contact changed since ``before`` was read (then None)."""
    changes = stamped(before, changes)
    after = changed(before, changes)

    async def write(session: Session) -> bool:
        result = await Contact.get_pymongo_collection().update_one(
            _guard(before), {"$set": changes}, session=session
        )
        return result.matched_count == 1

    applied = await apply(write, contact_events(before, after, agent))
    return after if applied else None


async def patch_many(agent: Agent | None, changes: Sequence[tuple[Contact, dict[str, Any]]]) -> int:
    """Apply each contact's changes in one bulk write; how many contacts changed.

    A contact that changed since it was read keeps that newer state; its event is
    still written, describing the change this call meant to make.
    """
    work = [(before, stamped(before, change)) for before, change in changes if change]
    if not work:
        return 0
    events = [e for before, change in work for e in contact_events(before, changed(before, change), agent)]
    matched = 0

    async def write(session: Session) -> bool:
        nonlocal matched
        result = await Contact.get_pymongo_collection().bulk_write(
            [UpdateOne(_guard(before), {"$set": change}) for before, change in work],
            ordered=False,
            session=session,
        )
        matched = result.matched_count
        return matched > 0

    await apply(write, events)
    return matched


async def patch_where(
    agent: Agent | None,
    query: dict[str, Any],
    change_for: Callable[[Contact], dict[str, Any]],
    batch: int = PATCH_BATCH,
) -> int:
    """Apply ``change_for(contact)`` to every contact ``query`` selects, a batch at a time.

    Loops until the query selects nothing that still needs the change, so contacts
    written meanwhile are caught too; ``change_for`` must return ``{}`` once applied.
    """
    total = 0
    while True:
        found = await Contact.find(query).limit(batch).to_list()
        changes = [(c, change) for c in found if (change := change_for(c))]
        if not changes:
            return total
        total += await patch_many(agent, changes)


async def remove(agent: Agent | None, contacts: Sequence[Contact]) -> list[PydanticObjectId]:
    """Delete these contacts; the ids deleted."""
    if not contacts:
        return []
    ids = [c.id for c in contacts]

    async def write(session: Session) -> bool:
        await Contact.get_pymongo_collection().delete_many(
            {"workspace_id": contacts[0].workspace_id, "_id": {"$in": ids}}, session=session
        )
        return True

    await apply(write, [e for c in contacts for e in contact_events(c, None, agent)])
    return ids  # type: ignore[return-value]


def _guard(before: Contact) -> dict[str, Any]:
    return {"_id": before.id, "workspace_id": before.workspace_id, "updated_at": before.updated_at}

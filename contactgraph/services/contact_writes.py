"""Every write to contacts, each with the events it makes, in one step.

Resolvers never write a contact any other way, so every change (a status change above
all) is recorded in the outbox and published exactly once, however it was made, and
every number a contact holds is claimed for it (``models/phone_claims``): one contact
per number in a workspace, over ``phone`` and ``other_phones``. A number is claimed
before the contact is written and released after; on an engine without transactions
a failed write releases what it claimed. The values a change implies (search keys,
``opted_out_at``, a new version) are derived here, by ``models.contact.derive``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from ..events import Event, contact_events
from ..models import Agent, Contact, DomainError, utcnow
from ..models.base import Session, as_utc
from ..models.contact import derive
from ..models.phone_claims import PhoneClaim, PhoneTaken, numbers_of
from .changes import apply
from .unique import duplicates_as, email_taken

PATCH_BATCH = 500
PATCH_ATTEMPTS = 3


def later_than(previous: datetime) -> datetime:
    """Now, yet always after ``previous``: ``updatedAt`` is the version ``expectedUpdatedAt`` checks."""
    return max(utcnow(), as_utc(previous) + timedelta(milliseconds=1))


def changed(before: Contact, changes: dict[str, Any]) -> Contact:
    """``before`` with ``changes`` (field values as stored) applied, validated."""
    return Contact.model_validate({**before.model_dump(), **changes})


def _derived(before: Contact, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` as written: with the values they imply, and a new version (``derive``)."""
    return derive(before, changes, at=later_than(before.updated_at))


async def insert(agent: Agent | None, contact: Contact) -> None:
    """Insert a new contact, claiming its numbers (``PhoneTaken`` when one is held)."""
    if contact.id is None:
        contact.id = PydanticObjectId()  # the event names the contact before it is written
    workspace_id, oid = contact.workspace_id, contact.id

    async def write(session: Session) -> bool:
        claimed = await PhoneClaim.claim(workspace_id, oid, numbers_of(contact), session)
        try:
            await contact.insert(session=session)
        except Exception:
            if session is None:  # a transaction is rolled back whole
                await PhoneClaim.release(workspace_id, oid, claimed)
            raise
        return True

    await apply(write, contact_events(None, contact, agent))


async def insert_many(agent: Agent | None, contacts: Sequence[Contact]) -> list[tuple[Contact, DomainError]]:
    """Insert new contacts in one bulk step, with their claims and created events; those refused, and why.

    A constant number of round trips however many contacts (an import writes its rows
    so). A contact is refused (``PHONE_TAKEN``, ``EMAIL_TAKEN``) when another write
    took one of its numbers or its email meanwhile; the others are written. A contact
    whose number is claimed already (maybe an abandoned claim), and every contact
    where a refusal aborts the transaction, goes through ``insert`` on its own.
    """
    if not contacts:
        return []
    for contact in contacts:
        contact.id = contact.id or PydanticObjectId()
    workspace_id = contacts[0].workspace_id
    refused: dict[PydanticObjectId, DomainError] = {}
    alone: list[Contact] = []
    events: list[Event] = []  # apply records this very list: write fills it with what it wrote

    async def write(session: Session) -> bool:
        refused.clear()
        numbers = [n for c in contacts for n in numbers_of(c)]
        claims = PhoneClaim.find({"workspace_id": workspace_id, "phone": {"$in": numbers}}, session=session)
        held = {claim.phone for claim in await claims.to_list()}
        alone[:] = [c for c in contacts if held.intersection(numbers_of(c))]
        batch = [c for c in contacts if not held.intersection(numbers_of(c))]
        fresh: list[dict[str, Any]] = [
            {"workspace_id": workspace_id, "phone": n, "contact_id": c.id, "claimed_at": utcnow()}
            for c in batch
            for n in numbers_of(c)
        ]
        for index, _ in await _bulk_refusals(PhoneClaim, fresh, session):
            refused.setdefault(fresh[index]["contact_id"], PhoneTaken(fresh[index]["phone"]))
        batch = [c for c in batch if c.id not in refused]
        for index, pattern in await _bulk_refusals(Contact, batch, session):
            contact = batch[index]
            refused[contact.id] = (  # type: ignore[index]
                email_taken(contact.email) if "email" in pattern else PhoneTaken(contact.phone)
            )
        if refused:
            await PhoneClaim.release_all(workspace_id, list(refused), session)
        written = [c for c in batch if c.id not in refused]
        events[:] = [e for c in written for e in contact_events(None, c, agent)]
        return bool(written)

    try:
        await apply(write, events)
    except BulkWriteError:  # in a transaction, which is rolled back whole
        refused.clear()
        alone[:] = contacts
    for contact in alone:
        try:
            with duplicates_as({"email": email_taken(contact.email)}):
                await insert(agent, contact)
        except DomainError as error:
            refused[contact.id] = error  # type: ignore[index]
    return [(c, refused[c.id]) for c in contacts if c.id in refused]


async def _bulk_refusals(
    model: type[Contact] | type[PhoneClaim], items: Sequence[Any], session: Session
) -> list[tuple[int, dict[str, Any]]]:
    """Insert ``items`` unordered: the position and key pattern of each a unique index refused.

    In a transaction a refusal aborts it, so it is raised for the caller to start over.
    """
    if not items:
        return []
    try:
        if model is Contact:
            await Contact.insert_many(items, session=session, ordered=False)
        else:
            await model.get_pymongo_collection().insert_many(items, ordered=False, session=session)
    except BulkWriteError as error:
        problems = error.details.get("writeErrors", [])
        if session is not None or any(p.get("code") != 11000 for p in problems):
            raise
        return [(p["index"], p.get("keyPattern") or _key_pattern(p)) for p in problems]
    return []


def _key_pattern(problem: dict[str, Any]) -> dict[str, Any]:
    """The fields of the refusing index, for engines that name it only in the message."""
    return {"email": 1} if "email" in str(problem.get("errmsg", "")) else {"phone": 1}


async def patch(
    agent: Agent | None,
    before: Contact,
    changes: dict[str, Any],
    *,
    also: Callable[[Contact], list[Event]] | None = None,
) -> Contact | None:
    """Apply ``changes`` unless the contact changed since ``before`` was read (then None).

    Changes ``before`` holds already write nothing: ``before`` is returned. Numbers the
    change gives the contact are claimed (``PhoneTaken`` when one is held), those it
    takes away released. ``also`` adds events the change makes besides the contact's
    own (a merge's), given the contact after it.
    """
    changes = _derived(before, changes)
    if not changes:
        return before
    after = changed(before, changes)
    workspace_id, oid = before.workspace_id, before.id
    assert oid is not None
    added = [n for n in numbers_of(after) if n not in numbers_of(before)]
    dropped = [n for n in numbers_of(before) if n not in numbers_of(after)]

    async def write(session: Session) -> bool:
        claimed = await PhoneClaim.claim(workspace_id, oid, added, session)
        try:
            result = await Contact.get_pymongo_collection().update_one(
                _guard(before), {"$set": changes}, session=session
            )
        except Exception:
            if session is None:
                await PhoneClaim.release_unheld(workspace_id, oid, claimed)
            raise
        if result.matched_count != 1:
            await PhoneClaim.release_unheld(workspace_id, oid, claimed, session)
            return False
        await PhoneClaim.release(workspace_id, oid, dropped, session)
        return True

    events = contact_events(before, after, agent) + (also(after) if also else [])
    applied = await apply(write, events)
    return after if applied else None


@dataclass
class Patched:
    """What a bulk patch did: how many contacts it changed, and those it ``missed``.

    A contact is missed when it changed since it was read: nothing is written to it, and
    nothing recorded.
    """

    written: int = 0
    missed: list[Contact] = field(default_factory=list)


async def patch_bulk(agent: Agent | None, changes: Sequence[tuple[Contact, dict[str, Any]]]) -> Patched:
    """Apply each contact's changes in one guarded bulk write, with events for those it changed.

    Each update also stamps the call's own ``write_id``; when only some guards match, one
    read of the contacts bearing it tells which, so a contact changed since it was read
    keeps that newer state and gets no event. A constant number of round trips. (In a
    transaction that read is exact; without one, another bulk patch of the same contact
    landing between this write and that read makes this write look missed: no event.)
    """
    work = [(before, derived) for before, change in changes if (derived := _derived(before, change))]
    if not work:
        return Patched()
    if any(_NUMBERS & change.keys() for _, change in work):
        raise ValueError("a change of numbers goes through patch, which claims them")
    mark = PydanticObjectId()
    workspace_id = work[0][0].workspace_id
    done = Patched()
    events: list[Event] = []  # apply records this very list: write fills it with what it wrote

    async def write(session: Session) -> bool:
        collection = Contact.get_pymongo_collection()
        result = await collection.bulk_write(
            [UpdateOne(_guard(before), {"$set": {**change, "write_id": mark}}) for before, change in work],
            ordered=False,
            session=session,
        )
        written = {before.id for before, _ in work}
        if 0 < result.matched_count < len(work):
            query = {"workspace_id": workspace_id, "_id": {"$in": list(written)}, "write_id": mark}
            written = {doc["_id"] async for doc in collection.find(query, {"_id": 1}, session=session)}
        elif result.matched_count == 0:
            written = set()
        done.written = len(written)
        done.missed = [before for before, _ in work if before.id not in written]
        events[:] = [
            e
            for before, change in work
            if before.id in written
            for e in contact_events(before, changed(before, change), agent)
        ]
        return bool(written)

    await apply(write, events)
    return done


async def patch_many(agent: Agent | None, changes: Sequence[tuple[Contact, dict[str, Any]]]) -> int:
    """Apply each contact's changes in one bulk write (``patch_bulk``); how many contacts changed."""
    return (await patch_bulk(agent, changes)).written


async def patch_each(
    agent: Agent | None,
    contacts: Sequence[Contact],
    change_for: Callable[[Contact], dict[str, Any]],
    attempts: int = PATCH_ATTEMPTS,
) -> int:
    """Apply ``change_for(contact)`` to each contact in bulk; how many changed.

    A contact that changed since it was read is read again and its change made anew, up
    to ``attempts`` times in all; ``change_for`` returns ``{}`` where nothing is to change.
    """
    total = 0
    for _ in range(attempts):
        done = await patch_bulk(agent, [(c, change_for(c)) for c in contacts])
        total += done.written
        if not done.missed:
            break
        ids = [c.id for c in done.missed]
        contacts = await Contact.find(
            {"workspace_id": done.missed[0].workspace_id, "_id": {"$in": ids}}
        ).to_list()
    return total


async def patch_where(
    agent: Agent | None,
    query: dict[str, Any],
    change_for: Callable[[Contact], dict[str, Any]],
    batch: int = PATCH_BATCH,
) -> int:
    """Apply ``change_for(contact)`` to every contact ``query`` selects, a batch at a time.

    Loops until the query selects nothing that still needs the change, so contacts
    written meanwhile, and those a batch missed as they changed, are caught too;
    ``change_for`` must return ``{}`` (or what the contact holds) once applied.
    """
    total = 0
    while True:
        found = await Contact.find(query).limit(batch).to_list()
        changes = [(c, change) for c in found if (change := change_for(c)) and derive(c, change)]
        if not changes:
            return total
        total += await patch_many(agent, changes)


async def remove(agent: Agent | None, contacts: Sequence[Contact]) -> list[PydanticObjectId]:
    """Delete these contacts; the ids deleted."""
    if not contacts:
        return []
    ids = [c.id for c in contacts]

    workspace_id = contacts[0].workspace_id

    async def write(session: Session) -> bool:
        result = await Contact.get_pymongo_collection().delete_many(
            {"workspace_id": workspace_id, "_id": {"$in": ids}}, session=session
        )
        await PhoneClaim.release_all(workspace_id, ids, session)  # type: ignore[arg-type]
        return result.deleted_count > 0  # deleted meanwhile: no second event

    await apply(write, [e for c in contacts for e in contact_events(c, None, agent)])
    return ids  # type: ignore[return-value]


async def vacate_email(contact: Contact) -> None:
    """Take its email off a contact a merge is about to delete, so the survivor may hold it.

    No event: the merge's events record the contact as it was before the merge.
    """
    await Contact.get_pymongo_collection().update_one(
        {"_id": contact.id, "workspace_id": contact.workspace_id, "email": contact.email},
        {"$set": {"email": None}},
    )


_NUMBERS = {"phone", "other_phones"}


def _guard(before: Contact) -> dict[str, Any]:
    return {"_id": before.id, "workspace_id": before.workspace_id, "updated_at": before.updated_at}

"""The phone identity: one claim per number a contact holds, unique per workspace.

A contact's numbers are its ``phone`` and its ``other_phones``. A unique index on an
array field is not enforced by every engine (the in-memory one ignores it), and none
compares ``phone`` with ``other_phones``; so each number a contact holds has a claim
document ``{workspace_id, phone, contact_id}``, whose scalar unique index decides who
holds a number. ``services/contact_writes`` writes the claims in the same step as
the contact: claim first, then write the contact, then release what it gave up.

A claim whose contact does not hold its number is *loose*: a write in flight (claimed,
not yet written) or one that failed half-way on an engine without transactions. A
loose claim is taken over once it is older than ``LOOSE_AFTER`` and no contact holds
the number, so a crash never blocks a number for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .base import Session, WorkspaceDocument, as_utc, utcnow
from .contact import Contact
from .errors import DomainError, ErrorCode

LOOSE_AFTER = timedelta(seconds=60)


class PhoneTaken(DomainError):
    """Another contact holds (or is being written with) this number."""

    def __init__(self, phone: str) -> None:
        super().__init__(ErrorCode.PHONE_TAKEN, f"Another contact has the phone {phone}.")
        self.phone = phone


class PhoneClaim(WorkspaceDocument):
    phone: str
    contact_id: PydanticObjectId
    claimed_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "phone_claims"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("phone", ASCENDING)], unique=True),
            IndexModel([("workspace_id", ASCENDING), ("contact_id", ASCENDING)]),
        ]

    @classmethod
    async def claim(
        cls,
        workspace_id: PydanticObjectId,
        contact_id: PydanticObjectId,
        numbers: Sequence[str],
        session: Session = None,
    ) -> list[str]:
        """Claim ``numbers`` for the contact; the numbers this call claimed (release them if the write fails).

        Reads before it inserts, because a duplicate-key error aborts a MongoDB
        transaction; the unique index still decides a race, as ``PhoneTaken``.
        """
        wanted = list(dict.fromkeys(numbers))
        if not wanted:
            return []
        query = {"workspace_id": workspace_id, "phone": {"$in": wanted}}
        existing = {c.phone: c for c in await cls.find(query, session=session).to_list()}
        claimed = []
        for phone, held in existing.items():
            if held.contact_id == contact_id:
                continue
            if not await held._is_abandoned(session):
                raise PhoneTaken(phone)
            result = await cls.get_pymongo_collection().update_one(
                {"_id": held.id, "contact_id": held.contact_id},
                {"$set": {"contact_id": contact_id, "claimed_at": utcnow()}},
                session=session,
            )
            if result.matched_count != 1:
                raise PhoneTaken(phone)
            claimed.append(phone)
        fresh = [phone for phone in wanted if phone not in existing]
        if fresh:
            documents = [_claim(workspace_id, contact_id, phone) for phone in fresh]
            try:
                await cls.get_pymongo_collection().insert_many(documents, ordered=True, session=session)
            except (DuplicateKeyError, BulkWriteError) as error:
                if not _duplicate_key(error):
                    raise  # e.g. a transaction's write conflict, which the transaction retries
                if session is None:
                    await cls.release(workspace_id, contact_id, fresh)
                raise PhoneTaken(" or ".join(fresh)) from None
        return [*claimed, *fresh]

    async def _is_abandoned(self, session: Session) -> bool:
        """A loose claim old enough not to be a write in flight, of a number no contact holds."""
        if as_utc(self.claimed_at) > utcnow() - LOOSE_AFTER:
            return False
        holder = await Contact.find_one(holding(self.workspace_id, self.phone), session=session)
        return holder is None

    @classmethod
    async def release(
        cls,
        workspace_id: PydanticObjectId,
        contact_id: PydanticObjectId,
        numbers: Sequence[str],
        session: Session = None,
    ) -> None:
        """Give up the contact's claims on ``numbers``."""
        if numbers:
            await cls.get_pymongo_collection().delete_many(
                {"workspace_id": workspace_id, "contact_id": contact_id, "phone": {"$in": list(numbers)}},
                session=session,
            )

    @classmethod
    async def release_unheld(
        cls,
        workspace_id: PydanticObjectId,
        contact_id: PydanticObjectId,
        numbers: Sequence[str],
        session: Session = None,
    ) -> None:
        """Give up the claims on those of ``numbers`` the contact, as stored now, does not hold.

        What a write that failed after claiming calls: a concurrent write of the same
        contact may have given it one of those numbers meanwhile.
        """
        if not numbers:
            return
        contact = await Contact.find_one({"_id": contact_id, "workspace_id": workspace_id}, session=session)
        held = set(numbers_of(contact)) if contact else set()
        await cls.release(workspace_id, contact_id, [n for n in numbers if n not in held], session)

    @classmethod
    async def release_all(
        cls, workspace_id: PydanticObjectId, contact_ids: Sequence[PydanticObjectId], session: Session = None
    ) -> None:
        """Give up every claim of these (deleted) contacts."""
        await cls.get_pymongo_collection().delete_many(
            {"workspace_id": workspace_id, "contact_id": {"$in": list(contact_ids)}}, session=session
        )

    @classmethod
    async def transfer(
        cls,
        workspace_id: PydanticObjectId,
        from_id: PydanticObjectId,
        to_id: PydanticObjectId,
        session: Session = None,
    ) -> None:
        """Hand every claim of one contact to another (a merge's secondary to its primary)."""
        await cls.get_pymongo_collection().update_many(
            {"workspace_id": workspace_id, "contact_id": from_id},
            {"$set": {"contact_id": to_id, "claimed_at": utcnow()}},
            session=session,
        )


def numbers_of(contact: Contact) -> list[str]:
    """Every number a contact holds: its phone, then its other phones."""
    return list(dict.fromkeys([contact.phone, *contact.other_phones]))


def holding(workspace_id: PydanticObjectId, phone: str) -> dict[str, Any]:
    """The query for the contact of the workspace that holds ``phone``, as phone or other phone."""
    return {"workspace_id": workspace_id, "$or": [{"phone": phone}, {"other_phones": phone}]}


def _claim(workspace_id: PydanticObjectId, contact_id: PydanticObjectId, phone: str) -> dict[str, Any]:
    return {"workspace_id": workspace_id, "phone": phone, "contact_id": contact_id, "claimed_at": utcnow()}


def _duplicate_key(error: DuplicateKeyError | BulkWriteError) -> bool:
    if isinstance(error, DuplicateKeyError):
        return True
    codes = {e.get("code") for e in (error.details or {}).get("writeErrors", [])}
    return codes == {11000}

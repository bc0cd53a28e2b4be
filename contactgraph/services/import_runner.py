"""An import job at work in the background: rows read in batches, checked, de-duplicated, written.

Memory holds one batch of rows and the numbers and emails seen so far (``csvio/seen``),
never the file. Reading and checking a batch (decoding, ``RowReader.parse``, the contact
a row would create) runs in a worker thread, so the event loop stays free for requests.
A batch costs a constant number of round trips: the importer's permissions as they are
now, one look-up of the contacts its rows may duplicate (and, for an importer who sees
only some contacts, of the numbers and emails held out of its sight), the bulk writes
(``contact_writes``, so every contact gets its events and phone claims), the batch's
failed rows, and one update of the job, which also renews the job's lease and tells
whether it was cancelled.

Rows obey the importer's access policy: duplicates are matched only among the contacts
it may see; creating needs CONTACT_CREATE, updating CONTACT_EDIT. A contact out of its
sight is absent for matching, and its number or email refuses a row as ``createContact``
would (``PHONE_TAKEN``, ``EMAIL_TAKEN``), telling nothing more of it.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from ..access import CREATE, EDIT, Policy, policy_of
from ..csvio import progress
from ..csvio.decoding import Row, batches, count_rows
from ..csvio.mapping import OTHER_PHONES
from ..csvio.rows import Library, ParsedRow, RowProblem, RowReader
from ..csvio.seen import SeenKeys, email_key, phone_key
from ..csvio.storage import discard
from ..models import Agent, Contact, DomainError, ErrorCode, Permission, utcnow
from ..models.contact import TEXT_LIMITS
from ..models.import_job import (
    DuplicateKey,
    ImportFailedRow,
    ImportJob,
    ImportProblem,
    ImportState,
    OnDuplicate,
)
from ..models.phones import OTHER_PHONES_MAX
from . import contact_writes
from .unique import duplicates_as, email_taken, phone_taken

logger = logging.getLogger("contactgraph.imports")

STOPPED = "The server stopped while the import ran; the rows counted were written."
CRASHED = "The import stopped on an unexpected error (id {}); the rows counted were written."
REVOKED = "The importer may no longer import contacts; the rows counted were written."
_UNIQUE = {"phone": ErrorCode.PHONE_TAKEN, "email": ErrorCode.EMAIL_TAKEN}
_TAKEN = {"phone": phone_taken, "email": email_taken}
_CLAIMED = {"phone", "other_phones", "email"}  # changes that go through ``patch``, which claims them
# What the job document counts: rows by outcome, and of the failed or skipped, the problems
# and rows stored and the rows past the cap.
COUNTS = (
    "created",
    "updated",
    "skipped_duplicates",
    "failed",
    "error_count",
    "reported_rows",
    "unreported_rows",
    "warned_rows",
)

# What a row would create, or what it lacks for that; CHECKED in a dry run, which keeps no contact.
Made = Contact | list[RowProblem] | bool | None
CHECKED = True
Update = tuple[Contact, dict[str, Any], ParsedRow]


def _numbers(row: ParsedRow) -> list[str]:
    """The row's phone and other phones."""
    return [n for n in dict.fromkeys([row.phone, *row.values.get("other_phones", [])]) if n]


@dataclass
class Owners:
    """Who holds a batch's numbers and emails: contacts in the importer's sight, and keys held out of it."""

    by_phone: dict[str, Contact] = field(default_factory=dict)
    by_email: dict[str, Contact] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)  # numbers and emails of contacts the importer cannot see

    def visible(self, label: str, value: str | None) -> Contact | None:
        if value is None:
            return None
        return (self.by_phone if label == "phone" else self.by_email).get(value)

    def held(self, label: str, value: str | None) -> bool:
        return value is not None and (value in self.hidden or self.visible(label, value) is not None)


def read_batch(
    rows: Iterator[list[Row]], reader: RowReader, workspace_id: PydanticObjectId, creates: bool, keeps: bool
) -> list[tuple[ParsedRow, Made]] | None:
    """The next batch read and checked, with the contact each row would create; None at the end.

    Runs in a worker thread: the decoding, the checks and the contacts' validation are
    the CPU-heavy part of an import, and touch no shared state.
    """
    batch = next(rows, None)
    if batch is None:
        return None
    checked: list[tuple[ParsedRow, Made]] = []
    for number, cells in batch:
        row = reader.parse(number, cells)
        made: Made = reader.new_contact(row, workspace_id) if creates and not row.problems else None
        checked.append((row, CHECKED if isinstance(made, Contact) and not keeps else made))
    return checked


class ImportRunner:
    """Runs one job to its end, in the process that received its file."""

    def __init__(
        self, job: ImportJob, agent: Agent, batch_size: int, lease: timedelta, max_row_errors: int
    ) -> None:
        self.job = job
        self.agent = agent
        self.policy: Policy = policy_of(agent)
        self.batch_size = batch_size
        self.lease = lease
        self.max_row_errors = max_row_errors
        self.plan = job.plan
        self.seen = {"phone": SeenKeys(), "email": SeenKeys()}
        self.counts = dict.fromkeys(COUNTS, 0)
        self.pending: list[tuple[int, list[str], list[RowProblem]]] = []

    async def run(self) -> None:
        upload = self.job.upload
        assert upload is not None  # an import's job
        try:
            if not await self._claim():
                return
            total = await asyncio.to_thread(count_rows, upload.path, upload.encoding, upload.delimiter)
            if not await self._save(total_rows=total):
                return
            reader = RowReader(
                upload.header, self.plan, await Library.load(self.job.workspace_id), TEXT_LIMITS
            )
            rows = batches(upload.path, upload.encoding, upload.delimiter, self.batch_size)
            workspace_id = self.job.workspace_id
            while await self._still_allowed():
                creates = self.policy.holds(CREATE)
                checked = await asyncio.to_thread(
                    read_batch, rows, reader, workspace_id, creates, not self.plan.dry_run
                )
                if checked is None:
                    await self._finish(ImportState.DONE)
                    return
                await self._batch(reader, checked)
                del checked  # before the next batch is read: memory holds one batch at a time
                if not await self._save():
                    return  # failed meanwhile by another process that took this one for dead
                if self.job.cancel_requested:
                    await self._finish(ImportState.CANCELLED)
                    return
            await self._finish(ImportState.FAILED, REVOKED)
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(ImportState.FAILED, STOPPED))
            raise
        except csv.Error as error:  # e.g. a quote never closed, which swallows the rest of the file
            await self._finish(
                ImportState.FAILED, f"The file is not valid CSV ({error}); the rows counted were written."
            )
        except Exception:
            error_id = uuid.uuid4().hex[:16]
            logger.exception("import %s failed (error id %s)", self.job.id, error_id)
            await self._finish(ImportState.FAILED, CRASHED.format(error_id))
        finally:
            discard(upload.path)

    async def _still_allowed(self) -> bool:
        """The importer's policy as its agent is now: a batch obeys permissions changed since the last."""
        agent = await Agent.find_one({"_id": self.agent.id, "workspace_id": self.job.workspace_id})
        if agent is None:
            return False
        self.agent, self.policy = agent, policy_of(agent)
        return self.policy.allows("importContacts")

    # ------------------------------------------------------------ one batch

    async def _batch(self, reader: RowReader, checked: list[tuple[ParsedRow, Made]]) -> None:
        ready: list[tuple[ParsedRow, Made]] = []
        for row, made in checked:
            if row.problems:
                self._report(row, row.problems)
            elif (seen := self._seen_in_file(reader, row)) is not None:
                self._report(row, [seen[0]], skipped=seen[1])
            else:
                ready.append((row, made))
        owners = await self._owners([row for row, _ in ready])
        inserts: list[tuple[Contact, ParsedRow]] = []
        updates: list[Update] = []
        for row, made in ready:
            self._decide(reader, row, made, owners, inserts, updates)
        await self._insert(reader, inserts)
        await self._update(reader, updates)
        reported = {number for number, _, _ in self.pending}
        for row, _ in checked:  # imported with a cell left out: reported for its warnings
            if row.warnings and row.number not in reported:
                self.counts["warned_rows"] += 1
                self.pending.append((row.number, row.cells, row.warnings))
        await self._flush_errors()

    def _seen_in_file(self, reader: RowReader, row: ParsedRow) -> tuple[RowProblem, bool] | None:
        """Trouble when an earlier row of the file has this phone or email, and whether it is a duplicate."""
        keys = {
            "phone": phone_key(row.phone) if row.phone else None,
            "email": email_key(row.email) if row.email else None,
        }
        for label, key in keys.items():
            first = self.seen[label].row_of(key) if key is not None else None
            if first is None:
                continue
            column = reader.column_name(label)
            if DuplicateKey(label.upper()) in self.plan.duplicate_keys:
                return RowProblem(column, _UNIQUE[label], f"Skipped: row {first} has the same {label}."), True
            value = row.phone if label == "phone" else row.email
            return RowProblem(
                column, _UNIQUE[label], f"Row {first} of this file has the {label} {value}."
            ), False
        for label, key in keys.items():
            if key is not None:
                self.seen[label].add(key, row.number)
        return None

    async def _owners(self, rows: list[ParsedRow]) -> Owners:
        """The contacts in the importer's sight holding the rows' numbers and emails, in one query.

        An importer who sees only some contacts also learns which of the keys are held out of
        its sight (one more query, of the keys alone), as a write would find them taken.
        """
        phones = [n for r in rows for n in _numbers(r)]
        emails = [r.email for r in rows if r.email]
        conditions: list[dict[str, Any]] = []
        if phones:
            conditions += [{"phone": {"$in": phones}}, {"other_phones": {"$in": phones}}]
        if emails:
            conditions.append({"email": {"$in": emails}})
        if not conditions:
            return Owners()
        found = await Contact.find({**self.policy.contact_filter(), "$or": conditions}).to_list()
        owners = Owners(
            by_phone={number: c for c in found for number in (c.phone, *c.other_phones)},
            by_email={c.email: c for c in found if c.email},
        )
        if not self.policy.sees_all:
            seen = {c.id for c in found}
            keys = {"phone": 1, "other_phones": 1, "email": 1}
            query = {"workspace_id": self.job.workspace_id, "$or": conditions}
            async for held in Contact.get_pymongo_collection().find(query, keys):
                if held["_id"] not in seen:
                    owners.hidden.update([held["phone"], *held.get("other_phones", [])])
                    owners.hidden.update([held["email"]] if held.get("email") else [])
        return owners

    def _refused(self, permission: Permission, doing: str) -> RowProblem | None:
        try:
            self.policy.require_permission(permission, doing)
        except DomainError as error:
            return RowProblem(None, error.code, error.message)
        return None

    def _decide(
        self,
        reader: RowReader,
        row: ParsedRow,
        made: Made,
        owners: Owners,
        inserts: list[tuple[Contact, ParsedRow]],
        updates: list[Update],
    ) -> None:
        keys = {"phone": row.phone, "email": row.email}
        matches: dict[Any, tuple[Contact, str]] = {}
        for label, value in keys.items():
            owner = owners.visible(label, value)
            if owner is not None and DuplicateKey(label.upper()) in self.plan.duplicate_keys:
                matches.setdefault(owner.id, (owner, label))
        held = [("phone", n, "phone" if n == row.phone else OTHER_PHONES) for n in _numbers(row)]
        taken = [
            RowProblem(reader.column_name(column), _UNIQUE[label], _TAKEN[label](value).message)
            for label, value, column in [*held, ("email", row.email, "email")]
            if owners.held(label, value) and getattr(owners.visible(label, value), "id", None) not in matches
        ]
        if not matches:
            refused = self._refused(CREATE, "Creating a contact")
            if refused is not None:  # before anything is said of the contacts that hold its keys
                self._report(row, [refused])
            elif taken or isinstance(made, list):
                self._report(row, taken or made)  # type: ignore[arg-type]
            elif self.plan.dry_run:
                self.counts["created"] += 1  # checked and counted: a dry run keeps no batch of contacts
            else:
                assert isinstance(made, Contact)
                inserts.append((made, row))
            return
        target, label = next(iter(matches.values()))
        if self.plan.on_duplicate is OnDuplicate.SKIP:
            message = f"Skipped: a contact with this {label} exists."
            self._report(row, [RowProblem(reader.column_name(label), _UNIQUE[label], message)], skipped=True)
        elif (refused := self._refused(EDIT, "Updating a contact")) is not None:
            self._report(row, [refused])
        elif len(matches) > 1:
            message = "The phone and the email belong to two different contacts."
            self._report(row, [RowProblem(None, ErrorCode.CONFLICT, message)])
        elif any(target.id == before.id for before, _, _ in updates):
            message = "Skipped: an earlier row of this file updates the same contact."
            self._report(row, [RowProblem(None, _UNIQUE[label], message)], skipped=True)
        elif taken:
            self._report(row, taken)
        else:
            # Never the contact's main phone (its WhatsApp identity): the row's numbers join its others.
            changes = reader.changes(target, row)
            others = changes.get("other_phones", target.other_phones)
            if problems := reader.list_problems(row, changes.get("group_ids", target.group_ids), target):
                self._report(row, problems)
            elif len(others) > max(OTHER_PHONES_MAX, len(target.other_phones)):
                message = f"The contact would hold more than {OTHER_PHONES_MAX} other phones."
                self._report(
                    row, [RowProblem(reader.column_name("phone"), ErrorCode.LIMIT_EXCEEDED, message)]
                )
            else:
                updates.append((target, changes, row))

    # ------------------------------------------------------------ writes

    async def _insert(self, reader: RowReader, inserts: list[tuple[Contact, ParsedRow]]) -> None:
        if not inserts:
            return
        refused = {
            c.id: error for c, error in await contact_writes.insert_many(self.agent, [c for c, _ in inserts])
        }
        for contact, row in inserts:
            if contact.id in refused:
                self._report(row, [self._problem(reader, refused[contact.id])])
            else:
                self.counts["created"] += 1

    async def _update(self, reader: RowReader, updates: list[Update]) -> None:
        """Changes in bulk; a change of numbers or email alone, as its claim or unique index may refuse it."""
        if self.plan.dry_run:
            self.counts["updated"] += len(updates)
            return
        bulk = [(before, changes) for before, changes, _ in updates if not _CLAIMED & changes.keys()]
        await contact_writes.patch_many(self.agent, bulk)
        self.counts["updated"] += len(bulk)
        for before, changes, row in updates:
            if not _CLAIMED & changes.keys():
                continue
            try:
                with duplicates_as({"email": email_taken(row.email)}):  # a number's claim names it
                    after = await contact_writes.patch(self.agent, before, changes)
            except DomainError as error:
                self._report(row, [self._problem(reader, error)])
                continue
            if after is None:
                message = "The contact changed while the import ran; import this row again."
                self._report(row, [RowProblem(None, ErrorCode.CONFLICT, message)])
            else:
                self.counts["updated"] += 1

    @staticmethod
    def _problem(reader: RowReader, error: DomainError) -> RowProblem:
        label = "email" if error.code is ErrorCode.EMAIL_TAKEN else "phone"
        return RowProblem(reader.column_name(label), error.code, error.message)

    def _report(self, row: ParsedRow, problems: list[RowProblem], skipped: bool = False) -> None:
        self.counts["skipped_duplicates" if skipped else "failed"] += 1
        self.pending.append((row.number, row.cells, [*problems, *row.warnings]))

    async def _flush_errors(self) -> None:
        """The batch's failed and skipped rows, in file order (rows are decided in two passes).

        One document per row holds its cells once and its problems; past ``max_row_errors``
        rows a job only counts them.
        """
        if not self.pending:
            return
        pending, self.pending = sorted(self.pending, key=lambda item: item[0]), []
        room = max(self.max_row_errors - self.counts["reported_rows"], 0)
        kept = pending[:room]
        self.counts["unreported_rows"] += len(pending) - len(kept)
        documents = []
        for number, cells, problems in kept:
            self.counts["error_count"] += len(problems)
            documents.append(
                ImportFailedRow(
                    workspace_id=self.job.workspace_id,
                    job_id=self.job.id,  # type: ignore[arg-type]
                    row=number,
                    end=self.counts["error_count"],
                    values=cells,
                    problems=[
                        ImportProblem(column=p.column, code=p.code, message=p.message, warning=p.warning)
                        for p in problems
                    ],
                )
            )
        self.counts["reported_rows"] += len(kept)
        if documents:
            await ImportFailedRow.insert_many(documents)

    # ------------------------------------------------------------ the job document

    @property
    def _progress(self) -> dict[str, Any]:
        processed = sum(self.counts[k] for k in ("created", "updated", "skipped_duplicates", "failed"))
        return {**self.counts, "processed_rows": processed}

    async def _update_job(self, state: ImportState, changes: dict[str, Any]) -> bool:
        """Write ``changes`` while the job is in ``state``; False if it is not (any more)."""
        found = await ImportJob.get_pymongo_collection().find_one_and_update(
            {"_id": self.job.id, "workspace_id": self.job.workspace_id, "state": state.value},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        if found is None:
            return False
        self.job = ImportJob.model_validate(found)
        progress.publish(self.job)
        return True

    async def _claim(self) -> bool:
        now = utcnow()
        changes = {"state": ImportState.RUNNING.value, "started_at": now, "lease_until": now + self.lease}
        return await self._update_job(ImportState.QUEUED, changes)

    async def _save(self, **extra: Any) -> bool:
        return await self._update_job(
            ImportState.RUNNING, {**self._progress, "lease_until": utcnow() + self.lease, **extra}
        )

    async def _finish(self, state: ImportState, failure: str | None = None) -> None:
        changes = {**self._progress, "state": state.value, "finished_at": utcnow(), "failure": failure}
        try:
            await self._update_job(ImportState.RUNNING, changes)
        except Exception:
            logger.exception("import %s: its end (%s) could not be recorded", self.job.id, state)

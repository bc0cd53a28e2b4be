"""An import job at work in the background: rows read in batches, checked, de-duplicated, written.

Memory holds one batch of rows and the numbers and emails seen so far (``csvio/seen``),
never the file. A batch costs a constant number of round trips: one look-up of the contacts its rows
may duplicate, the bulk writes (``contact_writes``, so every contact gets its events
and phone claims), the batch's row errors, and one update of the job, which also
renews the job's lease and tells whether it was cancelled.
"""

from __future__ import annotations

import asyncio
import csv
import logging
import uuid
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument

from ..csvio import progress
from ..csvio.decoding import Row, batches, count_rows
from ..csvio.rows import Library, ParsedRow, RowProblem, RowReader
from ..csvio.seen import SeenKeys, email_key, phone_key
from ..csvio.storage import discard
from ..models import Agent, Contact, DomainError, ErrorCode, utcnow
from ..models.contact import TEXT_LIMITS
from ..models.import_job import DuplicateKey, ImportJob, ImportRowError, ImportState, OnDuplicate
from . import contact_writes
from .unique import duplicates_as, email_taken, phone_taken

logger = logging.getLogger("contactgraph.imports")

STOPPED = "The server stopped while the import ran; the rows counted were written."
CRASHED = "The import stopped on an unexpected error (id {}); the rows counted were written."
_UNIQUE = {"phone": ErrorCode.PHONE_TAKEN, "email": ErrorCode.EMAIL_TAKEN}


class ImportRunner:
    """Runs one job to its end, in the process that received its file."""

    def __init__(self, job: ImportJob, agent: Agent, batch_size: int, lease: timedelta) -> None:
        self.job = job
        self.agent = agent
        self.batch_size = batch_size
        self.lease = lease
        self.plan = job.plan
        self.seen = {"phone": SeenKeys(), "email": SeenKeys()}
        self.counts = {"created": 0, "updated": 0, "skipped_duplicates": 0, "failed": 0, "error_count": 0}
        self.pending: list[tuple[ParsedRow, list[RowProblem]]] = []

    async def run(self) -> None:
        upload = self.job.upload
        try:
            if not await self._claim():
                return
            total = await asyncio.to_thread(count_rows, upload.path, upload.encoding, upload.delimiter)
            if not await self._save(total_rows=total):
                return
            reader = RowReader(
                upload.header, self.plan, await Library.load(self.job.workspace_id), TEXT_LIMITS
            )
            for rows in batches(upload.path, upload.encoding, upload.delimiter, self.batch_size):
                await self._batch(reader, rows)
                if not await self._save():
                    return  # failed meanwhile by another process that took this one for dead
                if self.job.cancel_requested:
                    await self._finish(ImportState.CANCELLED)
                    return
                await asyncio.sleep(0)  # let requests in between batches, whatever the engine
            await self._finish(ImportState.DONE)
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

    # ------------------------------------------------------------ one batch

    async def _batch(self, reader: RowReader, rows: list[Row]) -> None:
        ready = []
        for number, cells in rows:
            row = reader.parse(number, cells)
            if row.problems:
                self._report(row, row.problems)
            elif (seen := self._seen_in_file(reader, row)) is not None:
                self._report(row, [seen[0]], skipped=seen[1])
            else:
                ready.append(row)
        by_phone, by_email = await self._owners(ready)
        inserts: list[tuple[Contact, ParsedRow]] = []
        updates: list[tuple[Contact, dict[str, Any], ParsedRow]] = []
        for row in ready:
            self._decide(reader, row, by_phone, by_email, inserts, updates)
        await self._insert(reader, inserts)
        await self._update(reader, updates)
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

    async def _owners(self, rows: list[ParsedRow]) -> tuple[dict[str, Contact], dict[str, Contact]]:
        """The workspace's contacts holding the rows' numbers and emails, in one query."""
        phones = [r.phone for r in rows if r.phone]
        emails = [r.email for r in rows if r.email]
        conditions: list[dict[str, Any]] = []
        if phones:
            conditions += [{"phone": {"$in": phones}}, {"other_phones": {"$in": phones}}]
        if emails:
            conditions.append({"email": {"$in": emails}})
        if not conditions:
            return {}, {}
        found = await Contact.find({"workspace_id": self.job.workspace_id, "$or": conditions}).to_list()
        by_phone = {number: c for c in found for number in (c.phone, *c.other_phones)}
        return by_phone, {c.email: c for c in found if c.email}

    def _decide(
        self,
        reader: RowReader,
        row: ParsedRow,
        by_phone: dict[str, Contact],
        by_email: dict[str, Contact],
        inserts: list[tuple[Contact, ParsedRow]],
        updates: list[tuple[Contact, dict[str, Any], ParsedRow]],
    ) -> None:
        owners = {
            "phone": by_phone.get(row.phone) if row.phone else None,
            "email": by_email.get(row.email) if row.email else None,
        }
        matches: dict[Any, tuple[Contact, str]] = {}
        for label, owner in owners.items():
            if owner is not None and DuplicateKey(label.upper()) in self.plan.duplicate_keys:
                matches.setdefault(owner.id, (owner, label))
        taken = [
            RowProblem(reader.column_name(label), _UNIQUE[label], f"Another contact has the {label} {value}.")
            for label, value in (("phone", row.phone), ("email", row.email))
            if owners[label] is not None and owners[label].id not in matches  # type: ignore[union-attr]
        ]
        if not matches:
            made = reader.new_contact(row, self.job.workspace_id)
            if taken or isinstance(made, list):
                self._report(row, taken or made)  # type: ignore[arg-type]
            elif self.plan.dry_run:
                self.counts["created"] += 1  # checked and counted: a dry run keeps no batch of contacts
            else:
                inserts.append((made, row))
            return
        target, label = next(iter(matches.values()))
        if self.plan.on_duplicate is OnDuplicate.SKIP:
            message = f"Skipped: a contact with this {label} exists."
            self._report(row, [RowProblem(reader.column_name(label), _UNIQUE[label], message)], skipped=True)
        elif len(matches) > 1:
            message = "The phone and the email belong to two different contacts."
            self._report(row, [RowProblem(None, ErrorCode.CONFLICT, message)])
        elif any(target is before for before, _, _ in updates):
            message = "Skipped: an earlier row of this file updates the same contact."
            self._report(row, [RowProblem(None, _UNIQUE[label], message)], skipped=True)
        elif taken:
            self._report(row, taken)
        else:
            changes = reader.changes(target, row)
            if changes.get("phone") in target.other_phones:
                del changes["phone"]  # matched on a number it holds besides its phone: that stays
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

    async def _update(
        self, reader: RowReader, updates: list[tuple[Contact, dict[str, Any], ParsedRow]]
    ) -> None:
        """Changes in bulk; a change of phone or email alone, as its claim or unique index may refuse it."""
        if self.plan.dry_run:
            self.counts["updated"] += len(updates)
            return
        bulk = [
            (before, changes) for before, changes, _ in updates if not {"phone", "email"} & changes.keys()
        ]
        await contact_writes.patch_many(self.agent, bulk)
        self.counts["updated"] += len(bulk)
        for before, changes, row in updates:
            if not {"phone", "email"} & changes.keys():
                continue
            try:
                with duplicates_as(
                    {"phone": phone_taken(changes.get("phone")), "email": email_taken(changes.get("email"))}
                ):
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
        self.pending.append((row, problems))

    async def _flush_errors(self) -> None:
        """The batch's row errors, in file order (rows are decided in two passes)."""
        if not self.pending:
            return
        documents = []
        for row, problems in sorted(self.pending, key=lambda item: item[0].number):
            for problem in problems:
                documents.append(
                    ImportRowError(
                        workspace_id=self.job.workspace_id,
                        job_id=self.job.id,  # type: ignore[arg-type]
                        seq=self.counts["error_count"],
                        row=row.number,
                        column=problem.column,
                        code=problem.code,
                        message=problem.message,
                        values=row.cells,
                    )
                )
                self.counts["error_count"] += 1
        self.pending = []
        await ImportRowError.insert_many(documents)

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

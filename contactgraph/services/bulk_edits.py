"""Writing a bulk edit: at once for a few contacts, else as a job the caller follows like an import.

Either way every contact is written by ``contact_writes`` (guarded bulk patches, events
for the contacts actually changed: a status change is heard by subscribers, kept in the
history and sent to webhooks as a single move is), and the list rules are asked again of
a contact that changed since it was checked. A job goes through its contacts a batch at a
time, as its agent may now see and edit them, reusing the import runner's job document
(lease, progress, cancellation, failed rows): ``updated`` counts the contacts changed,
``skippedDuplicates`` those that held the values already or are out of the agent's sight
by now, ``failed`` those a list rule refuses by the time their batch runs.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId

from ..access import policy_of
from ..csvio.rows import RowProblem
from ..ids import encode_id
from ..models import Agent, Contact, utcnow
from ..models.bulk_edit import BulkEdit, BulkPatch, ListRules
from ..models.import_job import ImportJob, ImportState, JobKind
from ..models.lists import named
from . import contact_writes
from .import_runner import ImportRunner

logger = logging.getLogger("contactgraph.bulk_edits")

STOPPED = "The server stopped while the bulk edit ran; the contacts counted were changed."
CRASHED = "The bulk edit stopped on an unexpected error (id {}); the contacts counted were changed."
REVOKED = "The agent may no longer edit contacts; the contacts counted were changed."


def _change_for(rules: ListRules) -> Callable[[Contact], dict[str, Any]]:
    """A contact's changes, or none where the list rules refuse them now (it changed since it was checked)."""
    return lambda contact: rules.patch.changes_for(contact) if rules.allows(contact) else {}


async def edit_now(agent: Agent, contacts: Sequence[Contact], rules: ListRules) -> int:
    """Apply the patch to ``contacts`` in one bulk write (those changed meanwhile again); how many changed."""
    return await contact_writes.patch_each(agent, contacts, _change_for(rules))


def new_job(agent: Agent, contacts: Sequence[Contact], patch: BulkPatch, lease: timedelta) -> ImportJob:
    now = utcnow()
    return ImportJob(
        workspace_id=agent.workspace_id,
        agent_id=agent.id,  # type: ignore[arg-type]
        kind=JobKind.BULK_EDIT,
        edit=BulkEdit(contact_ids=[c.id for c in contacts], patch=patch),  # type: ignore[misc]
        total_rows=len(contacts),
        lease_until=now + lease,
        created_at=now,
    )


class BulkEditRunner(ImportRunner):
    """Runs one bulk edit job to its end, in the process that started it."""

    async def run(self) -> None:
        edit = self.job.edit
        assert edit is not None  # a bulk edit's job
        try:
            if not await self._claim():
                return
            rules = await ListRules.load(self.job.workspace_id, edit.patch)
            for start in range(0, len(edit.contact_ids), self.batch_size):
                if not await self._still_allowed():
                    await self._finish(ImportState.FAILED, REVOKED)
                    return
                await self._edit(rules, edit.contact_ids[start : start + self.batch_size], start)
                if not await self._save():
                    return  # failed meanwhile by another process that took this one for dead
                if self.job.cancel_requested:
                    await self._finish(ImportState.CANCELLED)
                    return
            await self._finish(ImportState.DONE)
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(ImportState.FAILED, STOPPED))
            raise
        except Exception:
            error_id = uuid.uuid4().hex[:16]
            logger.exception("bulk edit %s failed (error id %s)", self.job.id, error_id)
            await self._finish(ImportState.FAILED, CRASHED.format(error_id))

    async def _still_allowed(self) -> bool:
        """The agent as it is now: each batch obeys permissions and sight changed since the last."""
        agent = await Agent.find_one({"_id": self.agent.id, "workspace_id": self.job.workspace_id})
        if agent is None:
            return False
        self.agent, self.policy = agent, policy_of(agent)
        return self.policy.allows("updateContacts")

    async def _edit(self, rules: ListRules, ids: list[PydanticObjectId], start: int) -> None:
        """One batch: its contacts the agent still sees, refused ones reported, the others written."""
        found = await Contact.find({**self.policy.contact_filter(), "_id": {"$in": ids}}).to_list()
        position = {oid: start + i + 1 for i, oid in enumerate(ids)}
        allowed = []
        for contact in found:
            problems = rules.problems(contact)
            if not problems:
                allowed.append(contact)
                continue
            self.counts["failed"] += 1
            cells = [encode_id("Contact", contact.id), contact.phone, named([contact])]
            refused = [RowProblem(None, code, f"{cause}.") for code, _, cause in problems]
            self.pending.append((position[contact.id], cells, refused))  # type: ignore[index]
        changed = await contact_writes.patch_each(self.agent, allowed, _change_for(rules))
        self.counts["updated"] += changed
        self.counts["skipped_duplicates"] += len(ids) - len(found) + len(allowed) - changed
        await self._flush_errors()

"""``updateContacts``: one patch for the contacts named or filtered, checked whole before any is written.

The patch is checked first (every reference, every custom value), then the selection
(only contacts the caller may see; at most ``bulk_edit_max``), then the list rules on
every selected contact. One problem anywhere refuses the whole call with every problem
found, and nothing is written. Up to ``bulk_edit_inline_max`` contacts are written in the
request; more go to a job (``services.bulk_edits``) the caller follows as an import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId

from ..access import contact_scope
from ..ids import decode_id
from ..models import Agent, Contact, DomainError, DomainErrors, ErrorCode, Errors, Group, Source, Status
from ..models.bulk_edit import BulkPatch, CustomChange, ListRules, refusals
from ..models.import_job import ImportJob
from ..services import bulk_edits
from ..services.import_tasks import ImportTasks
from ..settings import Settings
from .contact_filter import contact_query
from .contact_input import GROUPS_MAX, ContactChanges
from .refs import fetch, fetch_many, not_found


async def update_contacts(
    agent: Agent,
    settings: Settings,
    tasks: ImportTasks,
    ids: Sequence[str] | None,
    filter: dict[str, Any] | None,
    given: dict[str, Any],
) -> tuple[int, ImportJob | None]:
    """How many contacts changed, or the job that changes them when they are many."""
    errors = Errors()
    patch = await errors.check_async([], read_patch, agent, given)
    contacts = await errors.check_async([], selected, agent, ids, filter, settings.bulk_edit_max)
    errors.raise_any()
    assert patch is not None and contacts is not None
    rules = await ListRules.load(agent.workspace_id, patch)
    if problems := refusals(rules, contacts):
        raise DomainErrors(problems)
    if len(contacts) <= settings.bulk_edit_inline_max:
        return await bulk_edits.edit_now(agent, contacts, rules), None
    lease = timedelta(seconds=settings.import_lease_seconds)
    job = bulk_edits.new_job(agent, contacts, patch, lease)
    await job.insert()
    runner = bulk_edits.BulkEditRunner(
        job, agent, settings.import_batch_size, lease, settings.import_max_row_errors
    )
    tasks.start(runner)
    return 0, job


async def read_patch(agent: Agent, given: dict[str, Any]) -> BulkPatch:
    """A ``ContactBulkPatch`` checked whole: every problem under ``patch``. A null is a change not asked
    for, except a custom value's, which clears it."""
    errors = Errors()
    workspace_id = agent.workspace_id
    values: dict[str, Any] = {}
    for name, model in (("status_id", Status), ("source_id", Source)):
        if given.get(name) is not None:
            entry = await errors.check_async(["patch"], fetch, model, workspace_id, given[name], name)
            values[name] = entry.id if entry else None
    for name in ("type", "opted_out"):
        if given.get(name) is not None:
            values[name] = given[name]
    if given.get("assigned_agent_id") is not None:
        if given.get("unassign"):
            errors.add(ErrorCode.INVALID, "Give assignedAgentId or unassign, not both.", "patch", "unassign")
        found = await errors.check_async(
            ["patch"], fetch, Agent, workspace_id, given["assigned_agent_id"], "assigned_agent_id"
        )
        values.update(assign=True, assigned_agent_id=found.id if found else None)
    elif given.get("unassign"):
        values.update(assign=True, assigned_agent_id=None)
    for name in ("add_group_ids", "remove_group_ids"):
        values[name] = await _groups(errors, workspace_id, given.get(name) or [], name)
    if set(values["add_group_ids"]) & set(values["remove_group_ids"]):
        message = "A group cannot be both added and removed."
        errors.add(ErrorCode.INVALID, message, "patch", "remove_group_ids")
    if given.get("custom_fields"):
        values["custom_values"] = await _custom_values(agent, errors, given["custom_fields"])
    errors.raise_any()
    patch = BulkPatch(**values)
    if patch.empty:
        raise DomainError(
            ErrorCode.INVALID, "The patch changes nothing: give at least one change.", ["patch"]
        )
    return patch


async def _groups(
    errors: Errors, workspace_id: PydanticObjectId, global_ids: list[str], name: str
) -> list[PydanticObjectId]:
    if len(global_ids) > GROUPS_MAX:
        errors.add(ErrorCode.LIMIT_EXCEEDED, f"At most {GROUPS_MAX} groups.", "patch", name)
        return []
    found = await errors.check_async(["patch"], fetch_many, Group, workspace_id, global_ids, name)
    return list(dict.fromkeys(g.id for g in found or [] if g.id is not None))


async def _custom_values(agent: Agent, errors: Errors, items: list[dict[str, Any]]) -> list[CustomChange]:
    """Each ``{key, value}`` checked as a contact's input checks it; a required field is never cleared."""
    read = await ContactChanges(agent, None, prefix="patch").read_custom_values(items, "custom_fields")
    errors.items.extend(read.errors.items)
    for field, at in read.custom_given.values():
        if field.required and read.custom_changes.get(field.id) is None:  # type: ignore[arg-type]
            message = f"{field.key!r} is required and cannot be cleared."
            errors.items.append(DomainError(ErrorCode.REQUIRED, message, [*at, "value"]))
    return [CustomChange(field_id=k, value=v) for k, v in read.custom_changes.items()]


async def selected(
    agent: Agent, ids: Sequence[str] | None, filter: dict[str, Any] | None, most: int
) -> list[Contact]:
    """The contacts named (each one the caller may see, else ``NOT_FOUND``) or filtered, at most ``most``."""
    if (ids is None) == (filter is None):
        raise DomainError(ErrorCode.INVALID, "Give either ids or filter.", ["ids"])
    scope = contact_scope(agent)
    if ids is not None:
        if len(ids) > most:
            raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {most:,} contacts at once.", ["ids"])
        oids = [decode_id(g, "Contact") for g in ids]
        wanted = list({PydanticObjectId(o) for o in oids if o is not None})
        found = {c.id: c for c in await Contact.find({**scope, "_id": {"$in": wanted}}).to_list()}
        missing = [
            not_found("contact").at("ids", i) for i, o in enumerate(oids) if o is None or o not in found
        ]
        if missing:
            raise DomainErrors(missing)
        return [found[o] for o in dict.fromkeys(oids)]  # type: ignore[index]
    query = await contact_query(scope, filter)
    count = await Contact.find(query).count()
    if count > most:
        message = f"The filter selects {count:,} contacts; one edit changes at most {most:,}: narrow it."
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, message, ["filter"])
    return await Contact.find(query).sort("_id").to_list()

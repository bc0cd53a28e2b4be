"""CSV imports: starting a job, reading it, cancelling it, following it, and noticing dead ones.

A job runs in an asyncio task of the process that received its file (the file waits on
that machine's disk). While it runs it renews a lease on its document after every
batch; a job whose lease ran out belongs to a process that died, and is marked FAILED
with the counts it had reached, by whichever process next looks (at start-up, or when
the job is read).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers
from beanie import PydanticObjectId

from ..access import policy_of
from ..csvio import progress, storage
from ..csvio.decoding import read_header
from ..csvio.mapping import Mapper
from ..ids import decode_any, decode_id, encode_id
from ..models import (
    Agent,
    CustomField,
    DomainError,
    DomainErrors,
    ErrorCode,
    Errors,
    Group,
    LibraryEntry,
    Source,
    Status,
    utcnow,
)
from ..models.base import as_utc
from ..models.import_job import (
    ACTIVE_STATES,
    ColumnTarget,
    DuplicateKey,
    ImportFailedRow,
    ImportJob,
    ImportPlan,
    ImportProblem,
    ImportState,
    OnDuplicate,
    StoredUpload,
)
from ..models.library import name_key
from ..models.lists import GroupRule
from ..services.import_runner import ImportRunner
from ..services.import_tasks import ImportTasks
from ..settings import Settings
from .pagination import page_size
from .refs import fetch, fetch_many, not_found

E = TypeVar("E", bound=LibraryEntry)
DIED = "The server running the import stopped; the rows counted were written."


def upload_directory(settings: Settings) -> Path:
    return Path(settings.import_dir or Path(tempfile.gettempdir()) / "contactgraph-imports")


# ---------------------------------------------------------------- start


async def start_import(
    agent: Agent, settings: Settings, tasks: ImportTasks, upload: Any, options: dict[str, Any] | None
) -> ImportJob:
    """Store the upload, check the options against its header, and start the job; nothing is kept on error."""
    if not callable(getattr(upload, "read", None)):  # Upload takes any value outside a multipart request
        raise DomainError(ErrorCode.INVALID, "Send the file as a GraphQL multipart request.", ["file"])
    try:
        path, size, encoding = await storage.store(
            upload, upload_directory(settings), settings.import_max_bytes
        )
    finally:
        await upload.close()  # the server's spooled copy: the job reads its own
    try:
        if size == 0:
            raise DomainError(ErrorCode.INVALID, "The file is empty.", ["file"])
        delimiter, header = await asyncio.to_thread(read_header, path, encoding)
        if not any(header):
            raise DomainError(ErrorCode.INVALID, "The file's first row names no column.", ["file"])
        plan = await _plan(agent, header, options or {}, delimiter)
        now = utcnow()
        job = ImportJob(
            workspace_id=agent.workspace_id,
            agent_id=agent.id,  # type: ignore[arg-type]
            plan=plan,
            upload=StoredUpload(
                path=str(path),
                size=size,
                encoding=encoding,
                delimiter=delimiter,
                header=header,
                filename=getattr(upload, "filename", None),
            ),
            lease_until=now + timedelta(seconds=settings.import_lease_seconds),
            created_at=now,
        )
        await job.insert()
    except BaseException:
        storage.discard(path)
        raise
    runner = ImportRunner(
        job,
        agent,
        settings.import_batch_size,
        timedelta(seconds=settings.import_lease_seconds),
        settings.import_max_row_errors,
    )
    tasks.start(runner)
    return job


async def _by_name_or_id(model: type[E], workspace_id: PydanticObjectId, value: str, path: str) -> E:
    """A status, source or group named by its id or its name (any case and spacing)."""
    if decode_any(value) is not None:
        return await fetch(model, workspace_id, value, path)
    found = await model.find_one({"workspace_id": workspace_id, "name_key": name_key(value)})
    if found is None:
        names = ", ".join(repr(e.name) for e in await model.in_workspace(workspace_id)) or "none yet"
        message = f"No {model.kind} named {value!r} in this workspace (it has {names})."
        raise DomainError(ErrorCode.NOT_FOUND, message, [path])
    return found


async def _named_groups(errors: Errors, workspace_id: PydanticObjectId, given: dict[str, Any]) -> list[Group]:
    groups = await errors.check_async(
        ["options"], fetch_many, Group, workspace_id, given.get("group_ids") or [], "group_ids"
    )
    for i, value in enumerate(given.get("groups") or []):
        path = ["options", "groups"]
        group = await errors.check_async(path, _by_name_or_id, Group, workspace_id, value, str(i))
        if group is not None:
            groups = [*(groups or []), group]
    return groups or []


async def _columns(
    agent: Agent, header: list[str], mapping: list[dict[str, Any]] | None, errors: Errors
) -> tuple[Mapper, list[ColumnTarget]]:
    """What each column fills: the header's names, with an explicit mapping over them."""
    mapper = Mapper(header, await CustomField.in_workspace(agent.workspace_id))
    return mapper, mapper.combined(mapping, errors) if mapping is not None else mapper.by_header()


async def preview_plan(
    agent: Agent, header: list[str], given: dict[str, Any], delimiter: str = ","
) -> tuple[list[tuple[str, str | None]], list[DomainError]]:
    """Each column and the field it would fill (None: ignored), and what would refuse the import."""
    _, columns = await _columns(agent, header, given.get("mapping"), Errors())
    filled = {c.column: c.field for c in columns}
    try:
        await _plan(agent, header, given, delimiter)
    except DomainErrors as many:
        return [(name, filled.get(i)) for i, name in enumerate(header)], many.errors
    return [(name, filled.get(i)) for i, name in enumerate(header)], []


async def _plan(agent: Agent, header: list[str], given: dict[str, Any], delimiter: str = ",") -> ImportPlan:
    """The options checked: every problem reported at once, as ``options.<field>``."""
    errors = Errors()
    workspace_id = agent.workspace_id
    mapper, columns = await _columns(agent, header, given.get("mapping"), errors)
    keys = given.get("duplicate_check")
    on_duplicate = OnDuplicate(given.get("on_duplicate") or OnDuplicate.SKIP)
    status = source = None
    for name in ("default_status_id", "default_status", "default_source_id", "default_source"):
        if given.get(name) is None:
            continue
        model = Status if "status" in name else Source
        found = await errors.check_async(["options"], _by_name_or_id, model, workspace_id, given[name], name)
        if model is Status:
            status = status or found
        else:
            source = source or found
    groups = await _named_groups(errors, workspace_id, given)
    separator = given.get("decimal_separator") or ("," if delimiter == ";" else ".")
    if separator not in (",", "."):
        errors.add(ErrorCode.INVALID, 'The decimal separator is "," or ".".', "options", "decimal_separator")
    region = given.get("default_region")
    if region is not None and region.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
        errors.add(
            ErrorCode.INVALID,
            f"{region!r} is not an ISO country code such as PT or US.",
            "options",
            "default_region",
        )
    # a default given but not found is reported as such, not as missing
    has_status = status is not None or given.get("default_status") is not None
    has_source = source is not None or given.get("default_source") is not None
    _required_columns(errors, columns, on_duplicate, has_status, has_source, mapper)
    if not groups and "groups" not in {c.field for c in columns}:
        if (await GroupRule.load(workspace_id)).required:
            message = (
                "This workspace requires every contact to be in a group:"
                " map a groups column, or give groupIds."
            )
            errors.add(ErrorCode.REQUIRED, message, "options", "group_ids")
    errors.raise_any()
    return ImportPlan(
        columns=columns,
        duplicate_keys=[DuplicateKey.PHONE] if keys is None else list(dict.fromkeys(keys)),
        on_duplicate=on_duplicate,
        default_status_id=status.id if status else None,
        default_source_id=source.id if source else None,
        group_ids=[g.id for g in groups or []],  # type: ignore[misc]
        default_region=region.strip().upper() if region else None,
        dry_run=bool(given.get("dry_run")),
        skip_invalid_cells=bool(given.get("skip_invalid_cells")),
        decimal_separator=separator,
    )


def _required_columns(
    errors: Errors,
    columns: Sequence[ColumnTarget],
    on_duplicate: OnDuplicate,
    default_status: bool,
    default_source: bool,
    mapper: Mapper,
) -> None:
    """What the file must give; without it no row could be imported.

    Updating existing contacts needs only a way to find them (a phone or an email);
    creating them needs names, a phone, and a status and source (a column or a default).
    """
    mapped = {c.field for c in columns}
    missing = [] if {"phone", "email"} & mapped else ["phone"]
    if on_duplicate is not OnDuplicate.UPDATE:
        missing += [f for f in ("firstname", "lastname", "phone") if f not in mapped and f not in missing]
    if missing:  # one message, every column of the file and what it fills
        message = f"No column gives {' or '.join(missing)}. The file's columns: {mapper.described(columns)}."
        errors.add(ErrorCode.REQUIRED, message, "options", "mapping")
    if on_duplicate is OnDuplicate.UPDATE:
        return
    if "status" not in mapped and not default_status:
        message = "No status column: give a default status (its name or id)."
        errors.add(ErrorCode.REQUIRED, message, "options", "default_status_id")
    if "source" not in mapped and not default_source:
        message = "No source column: give a default source (its name or id)."
        errors.add(ErrorCode.REQUIRED, message, "options", "default_source_id")


# ---------------------------------------------------------------- read, cancel, follow


async def visible_job(agent: Agent, global_id: str, path: str = "id") -> ImportJob:
    """A job the agent may read (``Policy.import_job_filter``), marked FAILED first if its process died."""
    oid = decode_id(global_id, "ImportJob")
    job = await ImportJob.find_one({**policy_of(agent).import_job_filter(), "_id": oid}) if oid else None
    if job is None:
        raise not_found("import").at(path)
    return await _unless_dead(job)


async def find_job(agent: Agent, global_id: str) -> ImportJob | None:
    try:
        return await visible_job(agent, global_id)
    except DomainError:
        return None


async def cancel_import(agent: Agent, global_id: str) -> ImportJob:
    """A queued job ends at once; a running one once the batch it is writing is written."""
    job = await visible_job(agent, global_id)
    if job.state.finished and job.state is not ImportState.CANCELLED:
        raise DomainError(ErrorCode.BLOCKED, f"The import is {job.state.value} already.", ["id"])
    collection = ImportJob.get_pymongo_collection()
    mine = {"_id": job.id, "workspace_id": job.workspace_id}
    cancelled = await collection.update_one(
        {**mine, "state": ImportState.QUEUED.value},
        {"$set": {"state": ImportState.CANCELLED.value, "finished_at": utcnow()}},
    )
    if not cancelled.matched_count:
        await collection.update_one(
            {**mine, "state": ImportState.RUNNING.value}, {"$set": {"cancel_requested": True}}
        )
    return await visible_job(agent, global_id)


async def job_errors(job: ImportJob, first: int | None, after: str | None) -> list[tuple[int, ImportProblem]]:
    """The job's row problems in file order, each with its row; ``after`` is how many were read already."""
    size, _ = page_size(first, None)
    start = 0
    if after is not None:
        if not after.isdigit() or len(after) > 12:
            raise DomainError(
                ErrorCode.INVALID, 'after is the number of errors already read, e.g. "50".', ["after"]
            )
        start = int(after)
    # Every stored row has a problem at least, so ``size`` rows hold the page.
    query = {"workspace_id": job.workspace_id, "job_id": job.id, "end": {"$gt": start}}
    rows = await ImportFailedRow.find(query).sort("end").limit(size).to_list()
    problems = [
        (row.row, problem)
        for row in rows
        for index, problem in enumerate(row.problems, start=row.end - len(row.problems))
        if index >= start
    ]
    return problems[:size]


async def job_progress(agent: Agent, job: ImportJob, poll_seconds: float) -> AsyncIterator[ImportJob]:
    """The job now, then each new state: every batch this process runs, else read every ``poll_seconds``."""
    global_id = encode_id("ImportJob", job.id)  # type: ignore[arg-type]
    with progress.watch(job.id) as updates:  # type: ignore[arg-type]
        job = await visible_job(agent, global_id, "jobId")  # anything written before the watch began
        yield job
        while not job.state.finished:
            try:
                latest = await asyncio.wait_for(updates.get(), poll_seconds)
            except TimeoutError:
                latest = await visible_job(agent, global_id, "jobId")
            if _moved(job, latest):
                job = latest
                yield job


def _moved(before: ImportJob, after: ImportJob) -> bool:
    return (after.state, after.processed_rows, after.total_rows) != (
        before.state,
        before.processed_rows,
        before.total_rows,
    )


# ---------------------------------------------------------------- dead processes


async def _unless_dead(job: ImportJob) -> ImportJob:
    if job.state.finished or as_utc(job.lease_until) >= utcnow():
        return job
    await _mark_dead(job)
    return await ImportJob.get(job.id) or job


async def _mark_dead(job: ImportJob) -> bool:
    """Fail a job whose lease ran out, unless its runner renewed the lease meanwhile."""
    result = await ImportJob.get_pymongo_collection().update_one(
        {"_id": job.id, "state": {"$in": ACTIVE_STATES}, "lease_until": job.lease_until},
        {"$set": {"state": ImportState.FAILED.value, "finished_at": utcnow(), "failure": DIED}},
    )
    if result.modified_count and job.upload is not None:
        storage.discard(job.upload.path)
    return bool(result.modified_count)


async def fail_dead_jobs() -> int:
    """Mark FAILED every job whose process died (its lease ran out): what start-up runs."""
    stale = await ImportJob.find(
        {"state": {"$in": ACTIVE_STATES}, "lease_until": {"$lt": utcnow()}}
    ).to_list()
    return sum([await _mark_dead(job) for job in stale])

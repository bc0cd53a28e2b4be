"""The error report of an import: the rows that failed or were skipped, as they were, with a reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ..models.import_job import ImportJob, ImportRowError
from .export import BATCH, CsvChunks


def reason_column(header: list[str]) -> str:
    name = "reason"
    while name in header:
        name = f"import {name}"
    return name


def _reason(errors: list[ImportRowError]) -> str:
    return "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errors)


async def _errors(job: ImportJob) -> AsyncIterator[list[ImportRowError]]:
    last = -1
    while True:
        query: dict[str, Any] = {"workspace_id": job.workspace_id, "job_id": job.id, "seq": {"$gt": last}}
        found = await ImportRowError.find(query).sort("seq").limit(BATCH).to_list()
        if not found:
            return
        yield found
        last = found[-1].seq


async def error_report_csv(job: ImportJob) -> AsyncIterator[bytes]:
    """A CSV to fix and import again: the file's header and delimiter, one line per reported row."""
    header = job.upload.header
    out = CsvChunks(job.upload.delimiter)
    yield out.write([[*header, reason_column(header)]])
    pending: list[ImportRowError] = []
    async for batch in _errors(job):
        lines = []
        for error in batch:
            if pending and pending[0].row != error.row:
                lines.append(_line(header, pending))
                pending = []
            pending.append(error)
        yield out.write(lines)
    if pending:
        yield out.write([_line(header, pending)])


def _line(header: list[str], errors: list[ImportRowError]) -> list[str]:
    cells = list(errors[0].values)
    cells += [""] * (len(header) - len(cells))
    return [*cells, _reason(errors)]

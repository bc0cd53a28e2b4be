"""The error report of an import: the rows that failed or were skipped, as they were, with a reason.

Every cell a spreadsheet would run as a formula is made inert as the export does it
(``export.neutralised``), numbers and phone numbers excepted as there; importing the
report again reads such cells without the quote.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from ..models.import_job import ImportFailedRow, ImportJob
from .export import BATCH, CsvChunks, neutralised

BULK_EDIT_COLUMNS = ["id", "phone", "name"]


def reason_column(header: list[str]) -> str:
    name = "reason"
    while name in header:
        name = f"import {name}"
    return name


def _reason(row: ImportFailedRow) -> str:
    return "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in row.problems)


async def _rows(job: ImportJob) -> AsyncIterator[list[ImportFailedRow]]:
    last = 0
    while True:
        query = {"workspace_id": job.workspace_id, "job_id": job.id, "end": {"$gt": last}}
        found = await ImportFailedRow.find(query).sort("end").limit(BATCH).to_list()
        if not found:
            return
        yield found
        last = found[-1].end


# A number or a phone number as people write them: a sign, digits, spaces and ( ) . , / -, no letter.
_NUMERIC = re.compile(r"[+-]?[\d (),./-]*\d[\d (),./-]*")


def inert(cell: str) -> str:
    """A cell of the file, safe to open in a spreadsheet: a number as it is, a formula quoted."""
    return cell if _NUMERIC.fullmatch(cell) else neutralised(cell)


def _line(header: list[str], row: ImportFailedRow) -> list[str]:
    cells = [*row.values, *[""] * (len(header) - len(row.values))]
    return [inert(cell) for cell in (*cells, _reason(row))]


def unreported_note(job: ImportJob, width: int) -> list[str]:
    """The last line of a report that could not list every row: how many more there were."""
    note = (
        f"{job.unreported_rows:,} more rows failed or were skipped; this report lists the first"
        f" {job.reported_rows:,}, as many as the server keeps (CONTACTGRAPH_IMPORT_MAX_ROW_ERRORS)."
    )
    return [*[""] * width, note]


async def error_report_csv(job: ImportJob) -> AsyncIterator[bytes]:
    """A CSV to fix and import again: the file's header and delimiter, one line per reported row."""
    header = job.upload.header if job.upload else BULK_EDIT_COLUMNS  # a bulk edit's: the contacts it refused
    out = CsvChunks(job.upload.delimiter if job.upload else ",")
    yield out.write([[inert(name) for name in (*header, reason_column(header))]])
    async for batch in _rows(job):
        yield out.write([_line(header, row) for row in batch])
    if job.unreported_rows:
        yield out.write([unreported_note(job, len(header))])

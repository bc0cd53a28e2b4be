"""CSV import: the job, its options, its row errors, and following it live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Self

import strawberry
from strawberry import Private
from strawberry.file_uploads import Upload

from ..access import forbidden, policy_of, rule_of
from ..auth import renewed
from ..ids import encode_id
from ..loaders.context import Info
from ..models import Agent as AgentDoc
from ..models import DomainErrors, ErrorCode, Permission
from ..models.import_job import DuplicateKey, ImportProblem, ImportState, JobKind, OnDuplicate
from ..models.import_job import ImportJob as ImportJobDoc
from ..resolvers import imports
from .common import Node, UserError
from .fields import mutation, query, subscription
from .guards import api_error, user_errors
from .inputs import given

IMPORT = Permission.CONTACT_IMPORT

strawberry.enum(ImportState, name="ImportState")
strawberry.enum(DuplicateKey, name="DuplicateKey")
strawberry.enum(OnDuplicate, name="OnDuplicate")
strawberry.enum(JobKind, name="ImportJobKind")


@strawberry.input
class ColumnMapping:
    column: str = strawberry.field(description="a column of the file's header row")
    field: str = strawberry.field(
        description='a contact field name (firstname, phone, status, groups, …) or "customFields.<key>"'
    )


@strawberry.input
class ImportOptions:
    mapping: list[ColumnMapping] | None = strawberry.field(
        default=None,
        description=(
            "default: columns named like contact fields (any case and spacing, or a common alias such as"
            ' "First Name", "Mobile", "E-mail") or custom fields (key, label or customFields.<key>)'
        ),
    )
    duplicate_check: list[DuplicateKey] | None = strawberry.field(
        default_factory=lambda: [DuplicateKey.PHONE],
        description="a row is a duplicate when one of these matches a contact or an earlier row of the file",
    )
    on_duplicate: OnDuplicate | None = strawberry.field(
        default=OnDuplicate.SKIP,
        description="SKIP counts duplicates; UPDATE writes the row's non-empty values into the contact",
    )
    default_status_id: strawberry.ID | None = strawberry.field(
        default=None, description="for rows without a status, or with a name the workspace lacks"
    )
    default_source_id: strawberry.ID | None = strawberry.field(
        default=None, description="for rows without a source, or with a name the workspace lacks"
    )
    group_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="every imported contact joins these groups"
    )
    default_region: str | None = strawberry.field(
        default=None,
        description="ISO country for numbers written without a country code; none: such rows fail",
    )
    dry_run: bool | None = strawberry.field(
        default=False,
        description="run the whole job (checks, duplicates, counts, errors) and write no contact",
    )
    default_status: str | None = strawberry.field(
        default=None, description="as defaultStatusId, by the status's name (any case) or id"
    )
    default_source: str | None = strawberry.field(
        default=None, description="as defaultSourceId, by the source's name (any case) or id"
    )
    groups: list[str] | None = strawberry.field(
        default=None, description="as groupIds, by the groups' names (any case) or ids"
    )
    skip_invalid_cells: bool | None = strawberry.field(
        default=False,
        description=(
            "an invalid optional cell (not the names, phone, status or source) is left out and the row"
            " imported; the cell is reported as a warning"
        ),
    )
    decimal_separator: str | None = strawberry.field(
        default=None,
        description=(
            'of numbers in the file: "," (1.234,50) or "." (1,234.50); default: "," in a file whose'
            ' delimiter is ";", else "."'
        ),
    )


@strawberry.type
class ImportRowError:
    row: int = strawberry.field(description="the row's number in the file, the header being row 1")
    column: str | None = strawberry.field(description="the header of the column at fault, if one is")
    code: ErrorCode
    message: str
    warning: bool = strawberry.field(
        default=False, description="a cell left out of a row that was imported (skipInvalidCells)"
    )

    @classmethod
    def of(cls, row: int, problem: ImportProblem) -> Self:
        column, warning = problem.column, problem.warning
        return cls(row=row, column=column, code=problem.code, message=problem.message, warning=warning)


def _report_url(info: Info, job: ImportJobDoc) -> str | None:
    request = info.context.request
    if not (job.error_count or job.unreported_rows) or request is None:
        return None
    base = str(request.base_url)
    base = base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    return f"{base.rstrip('/')}/imports/{encode_id('ImportJob', job.id)}/errors.csv"  # type: ignore[arg-type]


@strawberry.type
class ImportJob(Node):
    doc: Private[ImportJobDoc]
    state: ImportState
    total_rows: int | None = strawberry.field(description="known once the file has been counted")
    processed_rows: int
    created: int
    updated: int
    skipped_duplicates: int
    failed: int
    started_at: datetime | None
    finished_at: datetime | None
    failure: str | None = strawberry.field(description="why a FAILED job stopped")
    unreported_rows: int = strawberry.field(
        description=(
            "failed or skipped rows past the limit a job keeps (CONTACTGRAPH_IMPORT_MAX_ROW_ERRORS):"
            " counted in failed and skippedDuplicates, left out of errors and the error report"
        )
    )

    @classmethod
    def from_doc(cls, doc: ImportJobDoc) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("ImportJob", doc.id)),  # type: ignore[arg-type]
            state=doc.state,
            total_rows=doc.total_rows,
            processed_rows=doc.processed_rows,
            created=doc.created,
            updated=doc.updated,
            skipped_duplicates=doc.skipped_duplicates,
            failed=doc.failed,
            started_at=doc.started_at,
            finished_at=doc.finished_at,
            failure=doc.failure,
            unreported_rows=doc.unreported_rows,
        )

    @strawberry.field(
        description=(
            "every reported row's problems, in file order; first defaults to 50 (at most 500),"
            ' after is how many were read already, e.g. "50"'
        )
    )
    async def errors(self, first: int | None = None, after: str | None = None) -> list[ImportRowError]:
        return [ImportRowError.of(row, p) for row, p in await imports.job_errors(self.doc, first, after)]

    @strawberry.field(description="rows imported with a cell left out (skipInvalidCells): warnings in errors")
    def warned_rows(self) -> int:
        return self.doc.warned_rows

    @strawberry.field(
        description="IMPORT, or BULK_EDIT: a large updateContacts, whose rows are its contacts in order"
    )
    def kind(self) -> JobKind:
        return self.doc.kind

    @strawberry.field(
        description="CSV of the failed and duplicate rows as they were, with a reason column (bearer token)"
    )
    def error_report_url(self, info: Info) -> str | None:
        return _report_url(info, self.doc)


async def import_job_node(agent: AgentDoc, global_id: str) -> ImportJob | None:
    """``node(id:)`` for an import job: one of the caller's workspace, with CONTACT_IMPORT."""
    found = await imports.find_job(agent, global_id) if policy_of(agent).allows("importJob") else None
    return ImportJob.from_doc(found) if found else None


@strawberry.type
class ImportJobPayload:
    job: ImportJob | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportColumn:
    column: str = strawberry.field(description="a column of the header, as given")
    field: str | None = strawberry.field(description="the field it fills; null: the column is ignored")


@strawberry.type
class ImportMappingPayload:
    columns: list[ImportColumn] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="what importContacts would refuse with these options"
    )


@strawberry.type
class ImportQuery:
    @query()
    async def import_job(self, info: Info, id: strawberry.ID) -> ImportJob | None:
        found = await imports.find_job(info.context.caller, id)
        return ImportJob.from_doc(found) if found else None

    @query(
        name="importMapping",
        description=(
            "what importContacts would make of a file with this header row and these options, without"
            " importing: each column and the field it fills, and what would refuse the import"
        ),
    )
    async def import_mapping(
        self, info: Info, header: list[str], options: ImportOptions | None = None, delimiter: str = ","
    ) -> ImportMappingPayload:
        caller = info.context.caller
        columns, problems = await imports.preview_plan(caller, header, given(options) or {}, delimiter)
        return ImportMappingPayload(
            columns=[ImportColumn(column=c, field=f) for c, f in columns],
            user_errors=user_errors(DomainErrors(problems)) if problems else [],
        )


@strawberry.type
class ImportMutation:
    @mutation(
        description=(
            "a CSV (GraphQL multipart request) imported in the background: the job comes back at once"
        )
    )
    async def import_contacts(
        self, info: Info, file: Upload, options: ImportOptions | None = None
    ) -> ImportJobPayload:
        context = info.context
        tasks = context.request.app.state.import_tasks  # the application's: it stops them with itself
        job = await imports.start_import(context.caller, context.settings, tasks, file, given(options))
        return ImportJobPayload(job=ImportJob.from_doc(job))

    @mutation(description="stops within one batch; what was written stays, and is counted")
    async def cancel_import(self, info: Info, id: strawberry.ID) -> ImportJobPayload:
        return ImportJobPayload(job=ImportJob.from_doc(await imports.cancel_import(info.context.caller, id)))


@strawberry.type
class ImportSubscription:
    @subscription(description="the job now, its progress after every batch, and its final state")
    async def import_progress(self, info: Info, job_id: strawberry.ID) -> AsyncIterator[ImportJob]:
        # A coroutine returning the stream, so that the guard runs when the client subscribes.
        caller, poll = info.context.caller, info.context.settings.import_poll_seconds
        job = await imports.visible_job(caller, job_id, "jobId")
        return _progress(info, imports.job_progress(caller, job, poll))


async def _progress(info: Info, jobs: AsyncIterator[ImportJobDoc]) -> AsyncIterator[ImportJob]:
    """The job's states, each told only while the subscriber's token may still read it."""
    async for job in jobs:
        agent = await renewed(info.context)
        if agent is None:
            raise api_error("UNAUTHENTICATED", "The token of this subscription was revoked.")
        rule = rule_of("importProgress")
        if not rule.allows(agent.permissions) or not policy_of(agent).may_read_import_job(job):
            raise forbidden(rule)
        yield ImportJob.from_doc(job)

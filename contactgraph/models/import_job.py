"""CSV import jobs: their options, their stored upload, their progress, and the rows they reported."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
from .bulk_edit import BulkEdit
from .errors import ErrorCode


class ImportState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (ImportState.DONE, ImportState.FAILED, ImportState.CANCELLED)


ACTIVE_STATES = [ImportState.QUEUED.value, ImportState.RUNNING.value]


class JobKind(StrEnum):
    """What a job does: import a file, or apply a large bulk edit (``updateContacts``)."""

    IMPORT = "IMPORT"
    BULK_EDIT = "BULK_EDIT"


class DuplicateKey(StrEnum):
    PHONE = "PHONE"
    EMAIL = "EMAIL"


class OnDuplicate(StrEnum):
    SKIP = "SKIP"
    UPDATE = "UPDATE"


class ColumnTarget(BaseModel):
    """One column of the file and the contact field it fills (``customFields.<key>`` for a custom field)."""

    column: int
    field: str


class ImportPlan(BaseModel):
    """The validated options of a job: what each column means and what to do with duplicates."""

    columns: list[ColumnTarget]
    duplicate_keys: list[DuplicateKey] = Field(default_factory=lambda: [DuplicateKey.PHONE])
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    default_status_id: PydanticObjectId | None = None
    default_source_id: PydanticObjectId | None = None
    group_ids: list[PydanticObjectId] = Field(default_factory=list)
    default_region: str | None = None
    dry_run: bool = False
    skip_invalid_cells: bool = False  # an invalid optional cell is left out (a warning), the row kept
    decimal_separator: str = "."  # of the file's numbers: "," in a European spreadsheet's


class StoredUpload(BaseModel):
    """Where the uploaded file waits for its job, and how it is read."""

    path: str
    size: int
    encoding: str
    delimiter: str
    header: list[str]
    filename: str | None = None


class ImportJob(WorkspaceDocument):
    agent_id: PydanticObjectId
    state: ImportState = ImportState.QUEUED
    kind: JobKind = JobKind.IMPORT
    plan: ImportPlan = Field(default_factory=lambda: ImportPlan(columns=[]))  # an import's
    upload: StoredUpload | None = None  # an import's file; a bulk edit has none
    edit: BulkEdit | None = None  # a bulk edit's contacts and changes
    total_rows: int | None = None
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped_duplicates: int = 0
    failed: int = 0
    error_count: int = 0  # problems stored, over every reported row
    reported_rows: int = 0  # rows stored with their problems (``ImportFailedRow``)
    unreported_rows: int = 0  # failed or skipped rows past the cap, counted but not stored
    warned_rows: int = 0  # rows imported with a cell left out (``ImportPlan.skip_invalid_cells``)
    cancel_requested: bool = False
    lease_until: datetime
    failure: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    class Settings:
        name = "import_jobs"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("created_at", DESCENDING)]),
            # Finding jobs whose process died runs across workspaces, at start-up.
            IndexModel([("state", ASCENDING), ("lease_until", ASCENDING)]),
        ]


class ImportProblem(BaseModel):
    """One problem of a reported row: the column at fault (if one is), a code, a message."""

    column: str | None = None
    code: ErrorCode
    message: str
    warning: bool = False  # a cell left out of a row that was imported (``skip_invalid_cells``)


class ImportFailedRow(WorkspaceDocument):
    """A failed or skipped row of a job: its cells once, as the file had them, and its problems.

    ``end`` numbers the job's problems across its rows: this row's are ``end - len(problems)``
    to ``end - 1``, so a page of problems starts at the first row whose ``end`` passes it.
    """

    job_id: PydanticObjectId
    row: int
    end: int
    values: list[str] = Field(default_factory=list)
    problems: list[ImportProblem]

    class Settings:
        name = "import_failed_rows"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("job_id", ASCENDING), ("end", ASCENDING)], unique=True),
        ]

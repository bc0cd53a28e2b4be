"""CSV import jobs: their options, their stored upload, their progress, and the rows they reported."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
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
    plan: ImportPlan
    upload: StoredUpload
    total_rows: int | None = None
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped_duplicates: int = 0
    failed: int = 0
    error_count: int = 0
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


class ImportRowError(WorkspaceDocument):
    """One problem of one row; ``values`` are the row's cells as the file had them."""

    job_id: PydanticObjectId
    seq: int
    row: int
    column: str | None = None
    code: ErrorCode
    message: str
    values: list[str] = Field(default_factory=list)

    class Settings:
        name = "import_row_errors"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("job_id", ASCENDING), ("seq", ASCENDING)], unique=True),
        ]

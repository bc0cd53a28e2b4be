"""Configuration from the environment (``CONTACTGRAPH_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACTGRAPH_", extra="ignore")

    mongodb_url: str = Field(
        "memory://", description="`mongodb://…` for MongoDB, `memory://` for the in-memory engine"
    )
    database: str = Field("contactgraph", description="database name")
    admin_key: SecretStr | None = Field(
        None, description="platform admin secret that authorises `createWorkspace`"
    )
    max_body_bytes: int = Field(1_000_000, description="largest accepted GraphQL request body")
    max_query_depth: int = Field(12, description="deepest accepted selection nesting")
    max_query_tokens: int = Field(5_000, description="most tokens in one GraphQL document")
    max_aliases: int = Field(30, description="most aliases in one GraphQL document")
    max_query_cost: int = Field(
        200_000, ge=1, description="highest accepted estimated cost of a document (fields it may return)"
    )
    graphiql: bool = Field(True, description="serve GraphiQL on GET /graphql")
    graphiql_assets: str | None = Field(
        None, description="folder of GraphiQL's scripts and styles (`make graphiql`); else from the CDN"
    )
    subscriber_queue_size: int = Field(
        1000, ge=1, description="events a subscriber may leave unread before it is closed with an error"
    )
    event_poll_seconds: float = Field(
        0.5, gt=0, description="how often new events are read where there are no change streams"
    )
    event_poll_overlap_seconds: float = Field(
        5.0, ge=0, description="how far back each such read looks again, for events committed out of order"
    )
    webhook_allow_private: bool = Field(
        False, description="let webhook URLs point at loopback, link-local and private addresses"
    )
    webhook_delivery: bool = Field(True, description="run the webhook delivery worker in this process")
    webhook_poll_seconds: float = Field(1.0, gt=0, description="how often the worker looks for work")
    webhook_batch: int = Field(20, ge=1, description="most deliveries one worker sends at once")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="longest wait for a receiver's answer")
    webhook_max_attempts: int = Field(8, ge=1, description="attempts before a delivery is marked failed")
    webhook_backoff_seconds: float = Field(
        30.0, ge=0, description="wait before the first retry; doubled after each further failure"
    )
    webhook_backoff_max_seconds: float = Field(3600.0, ge=0, description="longest wait between two attempts")
    import_max_bytes: int = Field(60_000_000, ge=1, description="largest CSV file an import accepts")
    import_dir: str | None = Field(
        None, description="where uploads wait for their import job (default: <temp dir>/contactgraph-imports)"
    )
    import_batch_size: int = Field(500, ge=1, le=5_000, description="rows an import reads and writes at once")
    import_lease_seconds: float = Field(
        120.0, gt=0, description="how long a running import may go unheard of before it is taken for dead"
    )
    import_poll_seconds: float = Field(
        1.0, gt=0, description="how often importProgress reads a job that another process runs"
    )
    import_max_row_errors: int = Field(
        10_000, ge=0, description="failed or skipped rows a job keeps with their problems; more are counted"
    )
    bulk_edit_max: int = Field(10_000, ge=1, description="most contacts one updateContacts changes")
    bulk_edit_inline_max: int = Field(
        500, ge=0, description="most contacts updateContacts changes in the request; more run as a job"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()

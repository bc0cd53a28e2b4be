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
    graphiql: bool = Field(True, description="serve GraphiQL on GET /graphql")


@lru_cache
def get_settings() -> Settings:
    return Settings()

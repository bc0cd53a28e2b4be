"""Scalars as the contract defines them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from graphql import GraphQLError

from ..models.base import format_datetime
from ..models.custom_values import parse_datetime

# A scalar refuses a value with a GraphQLError, which graphql-core reports as it is, like
# any other ill-typed value; any other exception would count as unexpected, masked as an
# internal error.


def _parse_datetime(value: Any) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_datetime(value)
    except ValueError:
        raise GraphQLError("DateTime takes ISO-8601 with an offset, e.g. 2026-01-31T09:00:00Z.") from None


def _parse_date(value: Any) -> date:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise GraphQLError("Date takes YYYY-MM-DD, e.g. 2026-01-31.") from None


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 with offset, always UTC on output",
    serialize=format_datetime,
    parse_value=_parse_datetime,
)

Date = strawberry.scalar(
    name="Date",
    description="YYYY-MM-DD",
    serialize=date.isoformat,
    parse_value=_parse_date,
)

SCALAR_MAP: dict[object, Any] = {datetime: DateTime, date: Date}

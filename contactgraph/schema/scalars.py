"""Scalars as the contract defines them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from ..models.base import as_utc, format_datetime


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("DateTime takes an ISO-8601 string with an offset")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("DateTime needs an offset, e.g. 2026-01-31T09:00:00Z")
    moment = as_utc(moment)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _parse_date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("Date takes YYYY-MM-DD")
    return date.fromisoformat(value)


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

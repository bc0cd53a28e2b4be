"""Custom-field values: each checked against its field's type before it is stored."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from .base import as_utc, format_datetime
from .errors import DomainError, ErrorCode
from .library import CustomField, CustomFieldType
from .text import clean_url

StoredValue = str | int | float | bool | datetime | None

_TEXT_MAX = {CustomFieldType.TEXT: 1_000, CustomFieldType.TEXTAREA: 10_000}


def _invalid(field: CustomField, expected: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, f"Custom field {field.key!r} ({field.type}) takes {expected}.")


def parse_date(value: str) -> str:
    """A ``YYYY-MM-DD`` date, checked to exist."""
    if len(value) != 10:
        raise ValueError(value)
    return date.fromisoformat(value).isoformat()


def parse_datetime(value: str) -> datetime:
    """An ISO-8601 moment with an offset, as UTC at millisecond precision."""
    if len(value) > 40:
        raise ValueError(value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(value)
    moment = as_utc(moment)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def validate_value(field: CustomField, value: Any) -> StoredValue:
    """The stored form of ``value`` for ``field``; None clears it."""
    if value is None:
        return None
    match field.type:
        case CustomFieldType.TEXT | CustomFieldType.TEXTAREA:
            if not isinstance(value, str):
                raise _invalid(field, "text")
            limit = _TEXT_MAX[field.type]
            if len(value) > limit:
                raise DomainError(
                    ErrorCode.INVALID, f"Custom field {field.key!r} takes at most {limit} characters."
                )
            return value
        case CustomFieldType.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _invalid(field, "a number")
            if isinstance(value, float) and not math.isfinite(value):
                raise _invalid(field, "a finite number")
            if isinstance(value, int) and abs(value) >= 2**63:
                raise _invalid(field, "a number below 2^63")
            return value
        case CustomFieldType.DATE:
            try:
                return parse_date(value) if isinstance(value, str) else _fail()
            except ValueError:
                raise _invalid(field, "a date written YYYY-MM-DD") from None
        case CustomFieldType.DATETIME:
            try:
                return parse_datetime(value) if isinstance(value, str) else _fail()
            except ValueError:
                raise _invalid(field, "an ISO-8601 date and time with an offset") from None
        case CustomFieldType.DROPDOWN:
            if not isinstance(value, str) or value not in field.options:
                raise _invalid(field, "one of " + ", ".join(repr(o) for o in field.options))
            return value
        case CustomFieldType.CHECKBOX:
            if not isinstance(value, bool):
                raise _invalid(field, "true or false")
            return value
        case CustomFieldType.URL:
            if not isinstance(value, str):
                raise _invalid(field, "an https:// URL")
            try:
                return clean_url(value, schemes=("https",))
            except DomainError as error:
                raise DomainError(ErrorCode.INVALID, f"Custom field {field.key!r}: {error.message}") from None
    raise _invalid(field, "nothing")  # pragma: no cover - every type is matched above


def _fail() -> Any:
    raise ValueError


def value_to_json(value: StoredValue) -> Any:
    """A stored value as clients receive it (DATETIME as ISO-8601 UTC)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    return value

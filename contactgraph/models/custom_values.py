"""Custom-field values: each checked against its field's type before it is stored."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
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
    try:
        moment = as_utc(moment)
    except OverflowError:  # 9999-12-31T23:00:00-02:00 is past year 9999 in UTC
        raise ValueError(value) from None
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
            except ValueError:  # urlsplit on a broken [IPv6] host, e.g. https://[::1/
                raise _invalid(field, "an https:// URL") from None
    raise _invalid(field, "nothing")  # pragma: no cover - every type is matched above


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def coerce_value(field: CustomField, value: Any) -> StoredValue:
    """``validate_value`` after reading the text bots send as the field's type.

    NUMBER from numeric text, CHECKBOX from true/false/yes/no/1/0 (any case), DATE and
    DATETIME from ISO-8601 text (a moment without an offset is UTC), DROPDOWN matched
    to an option whatever its case and stored in the option's spelling. Values
    already of the field's type pass as they are; None clears.
    """
    if isinstance(value, str) and field.type in _READERS:
        value = _READERS[field.type](field, value.strip())
    elif field.type is CustomFieldType.CHECKBOX and type(value) is int and value in (0, 1):
        value = bool(value)
    return validate_value(field, value)


def _number(field: CustomField, text: str) -> Any:
    if len(text) > 64 or not _NUMBER.match(text):
        return text
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def _checkbox(field: CustomField, text: str) -> Any:
    word = text.lower()
    return word in _TRUE if word in _TRUE | _FALSE else text


def _moment(field: CustomField, text: str) -> Any:
    try:
        moment = datetime.fromisoformat(text) if len(text) <= 40 else None
        return format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC)) if moment else text
    except (ValueError, OverflowError):  # unreadable, or out of range once in UTC: validation refuses it
        return text


def _option(field: CustomField, text: str) -> Any:
    return next((option for option in field.options if option.casefold() == text.casefold()), text)


# What text becomes for each type that is not text itself; what it cannot become, validation refuses.
_READERS: dict[CustomFieldType, Callable[[CustomField, str], Any]] = {
    CustomFieldType.NUMBER: _number,
    CustomFieldType.CHECKBOX: _checkbox,
    CustomFieldType.DATE: lambda field, text: text,
    CustomFieldType.DATETIME: _moment,
    CustomFieldType.DROPDOWN: _option,
}


def _fail() -> Any:
    raise ValueError


def value_to_json(value: StoredValue) -> Any:
    """A stored value as clients receive it (DATETIME as ISO-8601 UTC)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    return value

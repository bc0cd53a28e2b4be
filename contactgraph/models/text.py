"""Validation of the plain values a record holds: names, text, email, URLs, colours, yes/no."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from .errors import DomainError, ErrorCode

NAME_MAX = 191
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = {"true", "yes", "y", "1", "x", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def clean_text(value: str, *, max_length: int, required: bool = False) -> str | None:
    """``value`` trimmed; None when empty and optional; errors when too long or empty."""
    text = value.strip()
    if _CONTROL.search(text):
        raise DomainError(ErrorCode.INVALID, "Control characters are not allowed.")
    if not text:
        if required:
            raise DomainError(ErrorCode.REQUIRED, "A value is required.")
        return None
    if len(text) > max_length:
        raise DomainError(ErrorCode.INVALID, f"At most {max_length} characters are allowed.")
    return text


def clean_name(value: str) -> str:
    """A required name of 1 to 191 characters, trimmed."""
    text = clean_text(value, max_length=NAME_MAX, required=True)
    assert text is not None
    return text


def normalize_email(value: str) -> str | None:
    """The address in lower case, syntax checked without a network look-up."""
    text = value.strip()
    if not text:
        return None
    if len(text) > 254:
        raise DomainError(ErrorCode.INVALID, "An email address has at most 254 characters.")
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(ErrorCode.INVALID, f"Not a valid email address: {error}") from None
    return text.lower()


def clean_url(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """An absolute URL with one of ``schemes`` and a host name, trimmed."""
    text = value.strip()
    if not text:
        return None
    if len(text) > 2048 or any(c.isspace() for c in text):
        raise DomainError(ErrorCode.INVALID, "Not a valid URL.")
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [IPv6] host
        raise DomainError(ErrorCode.INVALID, "Not a valid URL.") from None
    allowed = " or ".join(f"{s}://" for s in schemes)
    if parts.scheme.lower() not in schemes:
        raise DomainError(ErrorCode.INVALID, f"A URL must start with {allowed}.")
    if not host or "." not in host.strip("."):
        raise DomainError(ErrorCode.INVALID, "A URL needs a host name such as example.com.")
    return text


def clean_color(value: str) -> str:
    text = value.strip()
    if not _COLOR.match(text):
        raise DomainError(ErrorCode.INVALID, "A colour is written #rrggbb, e.g. #1e90ff.")
    return text.lower()


def parse_bool(text: str) -> bool:
    value = text.strip().casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise DomainError(ErrorCode.INVALID, f"{text!r} is not true or false (yes/no, 1/0).")

"""Phone numbers: every accepted spelling in, E.164 out."""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from .errors import DomainError, DomainErrors, ErrorCode

_ALLOWED = re.compile(r"^\(?\+?[0-9 ().\-]+$")
_MAX_LENGTH = 40
_BETWEEN_NUMBERS = re.compile(r";|,|:::")
OTHER_PHONES_MAX = 10


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """The E.164 form of ``raw``, or a ``DomainError`` saying what is wrong with it.

    Accepted: ``+14155551234``, ``14155551234`` (WhatsApp's international digits
    without ``+``), ``0044 7911 123456``, with spaces, dashes, dots and brackets
    (``(+1) 415 555 1234`` too).
    A national number (a leading single ``0``, or an area code in brackets such as
    ``(415) 555 1234``) needs ``default_region``.
    """
    text = raw.strip()
    if not text:
        raise DomainError(ErrorCode.REQUIRED, "A phone number is required.")
    if len(text) > _MAX_LENGTH:
        raise DomainError(ErrorCode.INVALID, f"A phone number has at most {_MAX_LENGTH} characters.")
    if not _ALLOWED.match(text):
        raise DomainError(
            ErrorCode.INVALID,
            "A phone number may contain only digits, spaces, dashes, dots, brackets and a leading +.",
        )
    digits = re.sub(r"\D", "", text)
    if text.lstrip("(").startswith("+"):
        candidate, region = "+" + digits, None
    elif digits.startswith("00"):
        candidate, region = "+" + digits[2:], None
    elif default_region:
        candidate, region = digits, default_region.upper()
    elif digits.startswith("0") or text.startswith("("):
        raise DomainError(
            ErrorCode.INVALID,
            f"{raw.strip()!r} has no country code: write it as +<country code><number>.",
        )
    else:
        candidate, region = "+" + digits, None
    try:
        number = phonenumbers.parse(candidate, region)
    except NumberParseException as error:
        reason = str(error).rstrip(".")
        raise DomainError(ErrorCode.INVALID, f"{raw.strip()!r} is not a phone number: {reason}.") from None
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number)
        country = f"for country code +{number.country_code}" + (f" ({where})" if where else "")
        raise DomainError(ErrorCode.INVALID, f"{raw.strip()!r} is not a valid number {country}.")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalize_phones(raw: Sequence[str], default_region: str | None = None) -> list[str]:
    """Each of ``raw`` as ``normalize_phone`` gives it, position by position (at most ``OTHER_PHONES_MAX``).

    A ``DomainErrors`` names each bad number by its index. Repeats, and a repeat of the
    main phone, are dropped where the contact's values are derived (``contact.derive``).
    """
    if len(raw) > OTHER_PHONES_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {OTHER_PHONES_MAX} other phones.")
    numbers, problems = [], []
    for i, text in enumerate(raw):
        try:
            numbers.append(normalize_phone(text, default_region))
        except DomainError as error:
            problems.append(error.at(i))
    if problems:
        raise DomainErrors(problems)
    return numbers


def split_phones(text: str) -> list[str]:
    """The numbers of one CSV cell, written apart by ``;``, ``,`` or ``:::``."""
    return [part.strip() for part in _BETWEEN_NUMBERS.split(text) if part.strip()]


def wa_id(e164: str) -> str:
    """The phone as WhatsApp addresses it: its digits, without ``+``."""
    return e164.lstrip("+")

"""Phone numbers: every accepted spelling in, E.164 out."""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

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
    ``(415) 555 1234``) needs ``default_region``; with it, digits without ``+`` that are no
    valid number of that region are read as international. A failure says each reading tried.
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
    region = default_region.upper() if default_region else None
    international = "+" + digits
    readings: list[tuple[str, str | None]]
    if text.lstrip("(").startswith("+"):
        readings = [(international, None)]
    elif digits.startswith("00"):
        international = "+" + digits[2:]
        readings = [(international, None)]
    elif region:  # national first; digits that only make sense with a country code are read so
        readings = [(digits, region), (international, None)]
    elif digits.startswith("0") or text.startswith("("):
        raise DomainError(
            ErrorCode.INVALID,
            f"{raw.strip()!r} has no country code: write it as +<country code><number>, or {REGION_HINT}.",
        )
    else:
        readings = [(international, None)]
    tried = []
    for candidate, where in readings:
        e164, problem = _read(candidate, where)
        if e164 is not None:
            return e164
        tried.append(f"as a number of {where}: {problem}" if where else f"as {candidate}: {problem}")
    # digits without + nor 00, read as international for want of a region: perhaps they were national
    guessed = region is None and readings[0][0] == "+" + digits and not text.lstrip("(").startswith("+")
    hint = f"; {REGION_HINT}" if guessed else ""
    read = "; read ".join(tried)
    raise DomainError(ErrorCode.INVALID, f"{raw.strip()!r} is not a valid phone number (read {read}){hint}.")


REGION_HINT = (
    "give the country of numbers written without a country code (defaultRegion; --default-region in the CLI)"
)
_UNREADABLE = {
    NumberParseException.INVALID_COUNTRY_CODE: "no country has that calling code",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


def _read(candidate: str, region: str | None) -> tuple[str | None, str]:
    """The E.164 form of one reading of a number, or None and why not, in our words (never the library's)."""
    try:
        number = phonenumbers.parse(candidate, region)
    except NumberParseException as error:
        return None, _UNREADABLE.get(error.error_type, "not a number")
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, PhoneNumberFormat.E164), ""
    code = number.country_code or 0
    where = phonenumbers.region_code_for_country_code(code)
    if where == phonenumbers.UNKNOWN_REGION:
        return None, f"no country has the calling code +{code}"
    country = f"+{code} ({where})"
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.TOO_SHORT:
        return None, f"too short for {country}"
    if reason == ValidationResult.INVALID_LENGTH:
        return None, f"the wrong length for {country}"
    if reason == ValidationResult.TOO_LONG:
        return None, f"too long for {country}"
    return None, f"not a valid number for {country}"


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

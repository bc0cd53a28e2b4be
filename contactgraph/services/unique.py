"""The user errors of values only one contact may hold: a phone number, an email."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pymongo.errors import DuplicateKeyError

from ..models import DomainError, ErrorCode
from ..models.phone_claims import PhoneTaken


def phone_taken(phone: str | None, path: list[str] | None = None) -> DomainError:
    return DomainError(ErrorCode.PHONE_TAKEN, f"Another contact has the phone {phone}.", path)


def email_taken(email: str | None, path: list[str] | None = None) -> DomainError:
    return DomainError(ErrorCode.EMAIL_TAKEN, f"Another contact has the email {email}.", path)


@contextmanager
def duplicates_as(errors: Mapping[str, DomainError]) -> Iterator[None]:
    """Turn a unique-index violation (or a phone claim lost) into the user error of the field it guards.

    A lost claim is told under ``"phone <number>"`` when ``errors`` names the number (one of
    ``otherPhones``), else under ``"phone"``.
    """
    try:
        yield
    except PhoneTaken as taken:
        error = errors.get(f"phone {taken.phone}") or errors.get("phone")
        if error is not None:
            raise error from None
        raise
    except DuplicateKeyError as error:
        pattern = (error.details or {}).get("keyPattern") or {}
        for field, domain_error in errors.items():
            if field in pattern:
                raise domain_error from None
        raise

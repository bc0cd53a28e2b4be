"""The one exception type domain code raises for an expected, reportable failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")
Path = Sequence[str | int]


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    PHONE_TAKEN = "PHONE_TAKEN"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    NAME_TAKEN = "NAME_TAKEN"
    KEY_TAKEN = "KEY_TAKEN"
    CONFLICT = "CONFLICT"
    IN_USE = "IN_USE"
    BLOCKED = "BLOCKED"
    FORBIDDEN = "FORBIDDEN"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"


class DomainError(Exception):
    """An expected failure: a code, a message, and where in the input it lies."""

    def __init__(self, code: ErrorCode, message: str, field: Path | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field: tuple[str, ...] | None = tuple(str(p) for p in field) if field is not None else None

    def at(self, *prefix: str | int) -> DomainError:
        """The same error, located under ``prefix`` in the caller's input."""
        return DomainError(self.code, self.message, (*prefix, *(self.field or ())))

    def __repr__(self) -> str:
        return f"DomainError({self.code}, {self.message!r}, {self.field})"


class DomainErrors(Exception):
    """Several expected failures found together; nothing was written."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


class Errors:
    """Collects every problem of an input so the caller hears of all of them at once."""

    def __init__(self) -> None:
        self.items: list[DomainError] = []

    def add(self, code: ErrorCode, message: str, *field: str | int) -> None:
        self.items.append(DomainError(code, message, field))

    def check(self, path: Path, fn: Callable[..., T], *args: object) -> T | None:
        """``fn(*args)``, or None with its error recorded under ``path``."""
        try:
            return fn(*args)
        except DomainError as error:
            self.items.append(error.at(*path))
        except DomainErrors as many:
            self.items.extend(error.at(*path) for error in many.errors)
        return None

    async def check_async(self, path: Path, fn: Callable[..., Awaitable[T]], *args: object) -> T | None:
        """``await fn(*args)``, or None with its error recorded under ``path``."""
        try:
            return await fn(*args)
        except DomainError as error:
            self.items.append(error.at(*path))
        except DomainErrors as many:
            self.items.extend(error.at(*path) for error in many.errors)
        return None

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_any(self) -> None:
        if self.items:
            raise DomainErrors(self.items)

"""Relay cursor pagination over a sorted query, by keyset (never skip/limit).

A cursor holds the sort key and the id of its record, so a page starts exactly after
the last one seen even while records are added or removed, and ties on the sort key
are broken by id: paging never repeats or skips a record.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Generic, TypeVar

from beanie import PydanticObjectId, SortDirection
from bson.errors import InvalidId

from ..loaders.slices import Slice, Slices
from ..models import DomainError, ErrorCode, WorkspaceDocument
from ..models.base import as_utc

D = TypeVar("D", bound=WorkspaceDocument)

DEFAULT_PAGE = 50
MAX_PAGE = 500


@dataclass(frozen=True)
class SortKey:
    """A sort on one field (a dotted path of the document), ties broken by ``_id``."""

    name: str
    path: str
    descending: bool = False

    @property
    def mongo(self) -> list[tuple[str, SortDirection]]:
        direction = SortDirection.DESCENDING if self.descending else SortDirection.ASCENDING
        return [(self.path, direction), ("_id", direction)]

    @property
    def directions(self) -> list[tuple[str, int]]:
        return [(path, int(direction)) for path, direction in self.mongo]

    def reversed(self) -> SortKey:
        return SortKey(self.name, self.path, not self.descending)

    def value_of(self, doc: Any) -> Any:
        return attrgetter(self.path)(doc)


@dataclass
class Page(Generic[D]):
    items: list[D]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: Callable[[], Awaitable[int]]


def encode_cursor(sort: SortKey, doc: Any) -> str:
    value = sort.value_of(doc)
    if isinstance(value, datetime):
        value = {"t": as_utc(value).isoformat()}
    payload = {"s": sort.name, "d": sort.descending, "v": value, "i": str(doc.id)}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(sort: SortKey, cursor: str, argument: str) -> tuple[Any, PydanticObjectId]:
    invalid = DomainError(ErrorCode.INVALID, f"{argument!r} is not a cursor of this list.", [argument])
    try:
        if len(cursor) > 1024:
            raise ValueError
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if payload["s"] != sort.name or payload["d"] != sort.descending:
            raise invalid
        value = payload["v"]
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
        elif value is not None and not isinstance(value, str | int | float):
            raise ValueError
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError  # BSON holds 64-bit integers: a forged one would fail in the driver
        return value, PydanticObjectId(payload["i"])
    except (ValueError, KeyError, TypeError, InvalidId, binascii.Error, UnicodeDecodeError):
        raise invalid from None


def _beyond(sort: SortKey, value: Any, oid: PydanticObjectId, *, before: bool) -> dict[str, Any]:
    """Records after (or before) the cursor position in ``sort`` order."""
    forward = sort.descending == before
    op = "$gt" if forward else "$lt"
    return {"$or": [{sort.path: {op: value}}, {sort.path: value, "_id": {op: oid}}]}


def after_cursor(sort: SortKey, after: str) -> dict[str, Any]:
    """The condition for records after the cursor ``after`` in ``sort`` order (INVALID if it is not one)."""
    return _beyond(sort, *decode_cursor(sort, after, "after"), before=False)


def before_cursor(sort: SortKey, before: str) -> dict[str, Any]:
    """The condition for records before the cursor ``before`` in ``sort`` order."""
    return _beyond(sort, *decode_cursor(sort, before, "before"), before=True)


def page_size(first: int | None, last: int | None) -> tuple[int, bool]:
    """How many to return, and whether counting from the end."""
    if first is not None and last is not None:
        raise DomainError(ErrorCode.INVALID, "Give first or last, not both.", ["last"])
    for name, value in (("first", first), ("last", last)):
        if value is None:
            continue
        if value < 0:
            raise DomainError(ErrorCode.INVALID, f"{name} cannot be negative.", [name])
        if value > MAX_PAGE:
            raise DomainError(
                ErrorCode.LIMIT_EXCEEDED, f"{name} is at most {MAX_PAGE}; page with cursors.", [name]
            )
    if last is not None:
        return last, True
    return (first if first is not None else DEFAULT_PAGE), False


async def paginate(
    model: type[D],
    query: dict[str, Any],
    sort: SortKey,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    slices: Slices | None = None,
) -> Page[D]:
    """A page of ``query`` in ``sort`` order; with ``slices``, its read and its count are batched
    with the other pages of the request (one contact's history among a page of contacts).
    """
    size, backwards = page_size(first, last)
    conditions = [query]
    if after is not None:
        conditions.append(_beyond(sort, *decode_cursor(sort, after, "after"), before=False))
    if before is not None:
        conditions.append(_beyond(sort, *decode_cursor(sort, before, "before"), before=True))
    bounded = conditions[0] if len(conditions) == 1 else {"$and": conditions}
    order = sort.reversed() if backwards else sort
    if slices is not None:
        found = await slices.pages(model).load(Slice(bounded, order.directions, size + 1))
    else:
        # in one reply: a server's first holds 101 documents unless told otherwise
        found = await model.find(bounded, batch_size=size + 1).sort(order.mongo).limit(size + 1).to_list()
    more = len(found) > size
    items = found[:size]
    if backwards:
        items.reverse()

    async def total_count() -> int:
        if slices is not None:
            return await slices.counts(model).load(query)
        return await model.find(query).count()

    return Page(
        items=items,
        cursors=[encode_cursor(sort, item) for item in items],
        has_next_page=more if not backwards else before is not None,
        has_previous_page=more if backwards else after is not None,
        total_count=total_count,
    )

"""The kanban board: its columns (one per status) and the moves between them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from ..access import contact_scope
from ..ids import decode_id
from ..loaders.board import BoardLoaders, ColumnKey
from ..models import Agent, Contact, DomainError, ErrorCode, Errors, Status
from ..services import contact_writes
from .contact_filter import contact_query
from .contacts import visible_contact
from .pagination import Page, SortKey, after_cursor, encode_cursor, page_size
from .refs import fetch

# The contacts sort of the same name, so a column's cursor pages the list too.
BOARD_ORDER = SortKey("STATUS_CHANGED_AT", "status_changed_at", descending=True)
MOVE_ATTEMPTS = 3
_MOVED_MEANWHILE = "The contact is no longer in the expected status: someone moved it first."


@dataclass
class Board:
    """The columns of one ``contactBoard`` field, and the loaders its columns share."""

    statuses: list[Status]
    loaders: BoardLoaders


async def contact_board(agent: Agent, filter: dict[str, Any] | None) -> Board:
    query = await contact_query(contact_scope(agent), filter)
    order = {path: int(direction) for path, direction in BOARD_ORDER.mongo}
    loaders = BoardLoaders.for_query(query, order, partial(after_cursor, BOARD_ORDER))
    return Board(statuses=await Status.in_workspace(agent.workspace_id), loaders=loaders)


async def column_count(board: Board, status: Status) -> int:
    return await board.loaders.counts.load(status.id)  # type: ignore[arg-type]


async def column_page(board: Board, status: Status, first: int | None, after: str | None) -> Page[Contact]:
    """A column's contacts, newest status change first; every column's page is read in one go."""
    size, _ = page_size(first, None)
    if after is not None:
        after_cursor(BOARD_ORDER, after)  # a bad cursor fails this column alone, before any read
    found = await board.loaders.pages.load(ColumnKey(status.id, size + 1, after))  # type: ignore[arg-type]
    items = found[:size]

    async def total_count() -> int:
        return await column_count(board, status)

    return Page(
        items=items,
        cursors=[encode_cursor(BOARD_ORDER, item) for item in items],
        has_next_page=len(found) > size,
        has_previous_page=after is not None,
        total_count=total_count,
    )


async def move_contact_status(
    agent: Agent, contact_gid: str, status_gid: str, expected_gid: str | None
) -> Contact:
    """Put a contact in another column, unless someone moved it first (CONFLICT).

    Moving a contact to the status it has changes nothing and records nothing. A
    concurrent write to the contact is retried, the expected status checked again.
    """
    expected = decode_id(expected_gid, "ContactStatus") if expected_gid is not None else None
    errors = Errors()
    target = await errors.check_async([], fetch, Status, agent.workspace_id, status_gid, "statusId")
    contact = await errors.check_async([], visible_contact, agent, contact_gid, "contactId")
    for _ in range(MOVE_ATTEMPTS):
        if contact is not None and expected_gid is not None and contact.status_id != expected:
            errors.add(ErrorCode.CONFLICT, _MOVED_MEANWHILE, "expectedStatusId")
        errors.raise_any()
        assert target is not None and contact is not None
        if contact.status_id == target.id:
            return contact
        moved = await contact_writes.patch(agent, contact, {"status_id": target.id})
        if moved is not None:
            return moved
        contact = await visible_contact(agent, contact_gid, "contactId")
    raise DomainError(
        ErrorCode.CONFLICT, "The contact keeps changing; read it again and retry.", ["contactId"]
    )

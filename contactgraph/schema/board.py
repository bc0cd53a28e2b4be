"""The kanban board: a column per status, and moving a card between columns."""

from __future__ import annotations

import strawberry
from strawberry import Private

from ..loaders.context import Info
from ..resolvers import board
from .contact_type import Contact, ContactConnection
from .contacts import ContactFilter, ContactPayload, filter_given
from .fields import mutation, query
from .library import ContactStatus


@strawberry.type
class BoardColumn:
    board: Private[board.Board]
    status: ContactStatus

    @strawberry.field(description="the contacts of this status the board's filter selects")
    async def count(self) -> int:
        return await board.column_count(self.board, self.status.doc)

    @strawberry.field(description="ordered by statusChangedAt, newest first")
    async def contacts(self, first: int | None = None, after: str | None = None) -> ContactConnection:
        return ContactConnection.from_page(await board.column_page(self.board, self.status.doc, first, after))


@strawberry.type
class BoardQuery:
    @query(description="one column per status, by position; the filter and view rules of contacts")
    async def contact_board(self, info: Info, filter: ContactFilter | None = None) -> list[BoardColumn]:
        found = await board.contact_board(info.context.caller, filter_given(filter))
        # the statuses read for the columns are the cards' statuses too
        info.context.loaders.status.prime_many({s.id: s for s in found.statuses})  # type: ignore[misc]
        return [BoardColumn(board=found, status=ContactStatus.from_doc(s)) for s in found.statuses]


@strawberry.type
class BoardMutation:
    @mutation(
        description=(
            "kanban: a drag from one column to another; CONFLICT when the contact is no longer"
            " in expectedStatusId, and no change when it is already in statusId"
        )
    )
    async def move_contact_status(
        self,
        info: Info,
        contact_id: strawberry.ID,
        status_id: strawberry.ID,
        expected_status_id: strawberry.ID | None = None,
    ) -> ContactPayload:
        moved = await board.move_contact_status(
            info.context.caller, contact_id, status_id, expected_status_id
        )
        return ContactPayload(contact=Contact.from_doc(moved))

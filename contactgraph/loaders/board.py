"""A board's columns: the first contacts of every column in one aggregation, whatever their number.

Built by the board resolver for each ``contactBoard`` field, with the query its filter
selects, so the loaders live no longer than the request that asked for the board.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from beanie import PydanticObjectId
from strawberry.dataloader import DataLoader

from ..models import Contact
from .counts import ContactCountByStatusLoader
from .slices import MOST_BRANCHES, Slice, union


class ColumnKey(NamedTuple):
    """One column's page: its status, how many contacts at most, and the cursor it starts after."""

    status_id: PydanticObjectId
    limit: int
    after: str | None


class ColumnPageLoader(DataLoader[ColumnKey, list[Contact]]):
    """The contacts of several columns in ``order``, in one aggregation (``slices.union``).

    Each column is a branch of its own (``$match`` on its status, ``$sort``, ``$limit``),
    so the server reads through the status index only the cards it returns, however
    many contacts the columns hold.
    """

    def __init__(
        self,
        query: dict[str, Any],
        order: dict[str, int],
        after: Callable[[str], dict[str, Any]],
    ) -> None:
        super().__init__(load_fn=self._load, max_batch_size=MOST_BRANCHES)
        self.query = query
        self.order = order
        self.after = after

    def _slice(self, key: ColumnKey) -> Slice:
        conditions = [self.query, {"status_id": key.status_id}]
        if key.after is not None:
            conditions.append(self.after(key.after))
        return Slice({"$and": conditions}, list(self.order.items()), key.limit)

    async def _load(self, keys: Sequence[ColumnKey]) -> list[list[Contact]]:
        found = await union(Contact, [self._slice(key).stages() for key in keys], sum(k.limit for k in keys))
        return [[Contact.model_validate(row) for row in rows] for rows in found]


@dataclass
class BoardLoaders:
    """Counts per column (one ``$group``) and pages per column (one ``$unionWith`` each) of one board."""

    counts: ContactCountByStatusLoader
    pages: ColumnPageLoader

    @classmethod
    def for_query(
        cls, query: dict[str, Any], order: dict[str, int], after: Callable[[str], dict[str, Any]]
    ) -> BoardLoaders:
        return cls(counts=ContactCountByStatusLoader(query), pages=ColumnPageLoader(query, order, after))

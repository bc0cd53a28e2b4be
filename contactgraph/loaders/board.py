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


class ColumnKey(NamedTuple):
    """One column's page: its status, how many contacts at most, and the cursor it starts after."""

    status_id: PydanticObjectId
    limit: int
    after: str | None


class ColumnPageLoader(DataLoader[ColumnKey, list[Contact]]):
    """The contacts of several columns in ``order``: one ``$facet`` aggregation for their ids, one fetch.

    The facet yields ids only, so its single result document stays far below
    MongoDB's 16 MB limit however many columns and cards are asked for.
    """

    def __init__(
        self,
        query: dict[str, Any],
        order: dict[str, int],
        after: Callable[[str], dict[str, Any]],
    ) -> None:
        super().__init__(load_fn=self._load)
        self.query = query
        self.order = order
        self.after = after

    def _facet(self, key: ColumnKey) -> list[dict[str, Any]]:
        match: dict[str, Any] = {"status_id": key.status_id}
        if key.after is not None:
            match = {"$and": [match, self.after(key.after)]}
        return [{"$match": match}, {"$sort": self.order}, {"$limit": key.limit}, {"$project": {"_id": 1}}]

    async def _load(self, keys: Sequence[ColumnKey]) -> list[list[Contact]]:
        statuses = list({key.status_id for key in keys})
        pipeline: list[dict[str, Any]] = [
            {"$match": {"$and": [self.query, {"status_id": {"$in": statuses}}]}},
            {"$project": {"status_id": 1, **dict.fromkeys(self.order, 1)}},
            {"$facet": {f"c{i}": self._facet(key) for i, key in enumerate(keys)}},
        ]
        [facets] = await Contact.aggregate(pipeline).to_list()
        ids = [[row["_id"] for row in facets[f"c{i}"]] for i in range(len(keys))]
        wanted = list({oid for column in ids for oid in column})
        found: dict[Any, Contact] = {}
        if wanted:
            query = {"$and": [self.query, {"_id": {"$in": wanted}}]}
            found = {doc.id: doc for doc in await Contact.find(query).to_list()}
        # a contact deleted between the two reads is left out of its page
        return [[found[oid] for oid in column if oid in found] for column in ids]


@dataclass
class BoardLoaders:
    """Counts per column (one ``$group``) and pages per column (one ``$facet``) of one board."""

    counts: ContactCountByStatusLoader
    pages: ColumnPageLoader

    @classmethod
    def for_query(
        cls, query: dict[str, Any], order: dict[str, int], after: Callable[[str], dict[str, Any]]
    ) -> BoardLoaders:
        return cls(counts=ContactCountByStatusLoader(query), pages=ColumnPageLoader(query, order, after))

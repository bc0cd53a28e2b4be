"""A page of searched contacts, most relevant first: exact names, then every other match.

A search without a sort ranks its matches: rank 0 holds the contacts whose name has every
word of the search whole (``=grace`` among their search terms), rank 1 the others (a word
only a prefix, or found in company, email or city); within a rank, newest first. (A search
with a sort is in that order alone, paged as any list is.) The list is ordered by (rank,
created, id), so a cursor holds the rank beside the sort value and id (its sort name is
``CREATED_AT@1``), and the page after it starts within the cursor's rank and, when that
runs out, goes on through the next rank from its start: keyset pagination over the ranks
one after the other, which never repeats or skips a contact while others are added or
removed. A cursor of a list without search is not one of this list, nor the reverse.

Every rank is read in one aggregation: one branch per rank still ahead, each its own
``$match``, ``$sort`` and ``$limit`` on the ``search_terms`` index, then a last sort of
those few documents by rank and a ``$limit``, so the server returns no more than the page
and the one after it that tells whether there is more.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from ..models import Contact, DomainError, ErrorCode
from ..models.search import SearchText
from .contact_filter import holding
from .pagination import Page, SortKey, after_cursor, before_cursor, encode_cursor, page_size

_RANK = "__rank"  # the field each branch tags its documents with


@dataclass(frozen=True)
class Branch:
    """The contacts of one rank the page may take, as a query the index serves."""

    rank: int
    query: dict[str, Any]
    sort: SortKey
    limit: int

    def stages(self) -> list[dict[str, Any]]:
        return [
            {"$match": self.query},
            {"$sort": dict(self.sort.directions)},
            {"$limit": self.limit},
            {"$addFields": {_RANK: self.rank}},
        ]


@dataclass(frozen=True)
class Ranked:
    """The contacts of ``query`` (a search among them) in order of rank, then of ``sort``."""

    query: dict[str, Any]
    ranks: tuple[dict[str, Any], ...]  # what each rank adds to ``query``; disjoint, together all of it
    sort: SortKey

    @classmethod
    def of(cls, query: dict[str, Any], searched: SearchText, sort: SortKey) -> Ranked:
        if not searched.exact:  # a number: no name to match whole
            return cls(query, ({},), sort)
        exact = holding(searched.exact)
        return cls(query, (exact, {"$nor": [exact]}), sort)

    def key(self, rank: int) -> SortKey:
        """The sort of rank ``rank``, named for it, which its cursors carry."""
        return SortKey(f"{self.sort.name}@{rank}", self.sort.path, self.sort.descending)

    def rank_of(self, cursor: str, argument: str) -> int:
        invalid = DomainError(ErrorCode.INVALID, f"{argument!r} is not a cursor of this list.", [argument])
        try:
            name = json.loads(base64.urlsafe_b64decode(cursor.encode()[:1024]))["s"]
            rank = int(name.removeprefix(f"{self.sort.name}@"))
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError):
            raise invalid from None
        if not 0 <= rank < len(self.ranks):
            raise invalid
        return rank

    def branches(self, limit: int, *, backwards: bool, after: str | None, before: str | None) -> list[Branch]:
        """The reads of a page: a branch per rank between the cursors, in the page's order."""
        low = self.rank_of(after, "after") if after is not None else 0
        high = self.rank_of(before, "before") if before is not None else len(self.ranks) - 1
        found = []
        for rank in range(low, high + 1):
            conditions = [self.query, self.ranks[rank]]
            if after is not None and rank == low:
                conditions.append(after_cursor(self.key(rank), after))
            if before is not None and rank == high:
                conditions.append(before_cursor(self.key(rank), before))
            query = {"$and": [c for c in conditions if c]}
            found.append(Branch(rank, query, self.sort.reversed() if backwards else self.sort, limit))
        return found[::-1] if backwards else found

    def pipeline(self, branches: list[Branch]) -> list[dict[str, Any]]:
        """One aggregation reading every branch, the page's documents first, no more than ``limit``."""
        first, *others = branches
        collection = Contact.get_collection_name()
        stages = first.stages()
        stages += [{"$unionWith": {"coll": collection, "pipeline": b.stages()}} for b in others]
        if others:
            rank = -1 if first.rank > others[0].rank else 1
            stages += [{"$sort": {_RANK: rank, **dict(first.sort.directions)}}, {"$limit": first.limit}]
        return stages

    async def page(
        self,
        *,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Page[Contact]:
        size, backwards = page_size(first, last)
        branches = self.branches(size + 1, backwards=backwards, after=after, before=before)
        rows = await Contact.aggregate(self.pipeline(branches), batchSize=size + 1).to_list()
        ranks = [row.pop(_RANK) for row in rows]
        found = [Contact.model_validate(row) for row in rows]
        more = len(found) > size
        items, ranks = found[:size], ranks[:size]
        if backwards:
            items.reverse()
            ranks.reverse()

        async def total_count() -> int:
            return await Contact.find(self.query).count()

        return Page(
            items=items,
            cursors=[encode_cursor(self.key(rank), item) for rank, item in zip(ranks, items, strict=True)],
            has_next_page=more if not backwards else before is not None,
            has_previous_page=more if backwards else after is not None,
            total_count=total_count,
        )

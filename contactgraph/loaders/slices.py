"""Many small reads of one collection in one round trip: sorted slices and counts.

A page of contacts that shows each contact's status history (or timeline), or a board
with a column per status, asks for one small sorted slice per contact or column. These
loaders gather the slices asked for in one tick into a single aggregation: the first
slice's stages, then a ``$unionWith`` of the same collection for each other one. Each
branch starts with its own ``$match``, ``$sort`` and ``$limit``, so the server reads it
through an index and no more documents than the slice holds, unlike a ``$facet``, which
reads every document its input ``$match`` selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bson import json_util
from strawberry.dataloader import DataLoader

from ..models import WorkspaceDocument

D = TypeVar("D", bound=WorkspaceDocument)

_BRANCH = "__slice"  # the field each branch tags its documents with
# MongoDB refuses a pipeline of more than 1,000 stages; a branch adds one ($unionWith).
MOST_BRANCHES = 900


@dataclass(frozen=True, eq=False)
class Slice:
    """The first ``limit`` documents ``query`` selects in ``sort`` order (a list of (path, direction))."""

    query: dict[str, Any]
    sort: Sequence[tuple[str, int]]
    limit: int

    def stages(self) -> list[dict[str, Any]]:
        return [{"$match": self.query}, {"$sort": dict(self.sort)}, {"$limit": self.limit}]


def _key(value: Any) -> str:
    """A cache key for a query or a slice: equal when they select the same documents the same way."""
    if isinstance(value, Slice):
        value = [value.query, list(value.sort), value.limit]
    return json_util.dumps(value)


async def union(
    model: type[WorkspaceDocument], branches: Sequence[list[dict[str, Any]]], most: int
) -> list[list[dict[str, Any]]]:
    """What each pipeline of ``branches`` yields over ``model``'s collection, in one aggregation.

    ``most`` is how many documents they yield at most, so that the server sends them in one
    reply (its first holds 101 unless told otherwise) rather than asking for a ``getMore``.
    """
    tagged = [[*stages, {"$addFields": {_BRANCH: i}}] for i, stages in enumerate(branches)]
    collection = model.get_collection_name()
    pipeline = tagged[0] + [{"$unionWith": {"coll": collection, "pipeline": t}} for t in tagged[1:]]
    results: list[list[dict[str, Any]]] = [[] for _ in branches]
    for row in await model.aggregate(pipeline, batchSize=max(most, 1)).to_list():
        results[row.pop(_BRANCH)].append(row)
    return results


class SliceLoader(DataLoader[Slice, list[D]], Generic[D]):
    """Slices of ``model``'s collection, every slice of a tick in one aggregation."""

    def __init__(self, model: type[D]) -> None:
        super().__init__(load_fn=self._load, cache_key_fn=_key, max_batch_size=MOST_BRANCHES)
        self.model = model

    async def _load(self, keys: Sequence[Slice]) -> list[list[D]]:
        found = await union(self.model, [key.stages() for key in keys], sum(key.limit for key in keys))
        return [[self.model.model_validate(row) for row in rows] for rows in found]


class CountLoader(DataLoader[dict[str, Any], int]):
    """How many documents of ``model`` each query selects, every query of a tick in one aggregation."""

    def __init__(self, model: type[WorkspaceDocument]) -> None:
        super().__init__(load_fn=self._load, cache_key_fn=_key, max_batch_size=MOST_BRANCHES)
        self.model = model

    async def _load(self, keys: Sequence[dict[str, Any]]) -> list[int]:
        found = await union(self.model, [[{"$match": query}, {"$count": "n"}] for query in keys], len(keys))
        return [rows[0]["n"] if rows else 0 for rows in found]  # no document at all when none match


class Slices:
    """A request's slice and count loaders, one of each per collection, made as they are first needed."""

    def __init__(self) -> None:
        self._pages: dict[type[WorkspaceDocument], SliceLoader[Any]] = {}
        self._counts: dict[type[WorkspaceDocument], CountLoader] = {}

    def pages(self, model: type[D]) -> SliceLoader[D]:
        return self._pages.setdefault(model, SliceLoader(model))

    def counts(self, model: type[WorkspaceDocument]) -> CountLoader:
        return self._counts.setdefault(model, CountLoader(model))

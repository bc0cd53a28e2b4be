"""Contact counts per library entry, computed by the database for a batch of entries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from beanie import PydanticObjectId
from strawberry.dataloader import DataLoader

from ..models import Contact


class ContactCountLoader(DataLoader[PydanticObjectId, int]):
    """How many contacts the caller may see reference each key through ``field``."""

    field: ClassVar[str]
    is_array: ClassVar[bool] = False

    def __init__(self, scope: dict[str, Any]) -> None:
        super().__init__(load_fn=self._load)
        self.scope = scope

    async def _load(self, keys: Sequence[PydanticObjectId]) -> list[int]:
        wanted = {"$in": list(set(keys))}
        pipeline: list[dict[str, Any]] = [{"$match": {**self.scope, self.field: wanted}}]
        if self.is_array:
            pipeline += [{"$unwind": f"${self.field}"}, {"$match": {self.field: wanted}}]
        pipeline.append({"$group": {"_id": f"${self.field}", "n": {"$sum": 1}}})
        rows = await Contact.aggregate(pipeline, batchSize=len(keys)).to_list()  # one reply
        counts = {row["_id"]: row["n"] for row in rows}
        return [counts.get(key, 0) for key in keys]


class ContactCountByStatusLoader(ContactCountLoader):
    field = "status_id"


class ContactCountBySourceLoader(ContactCountLoader):
    field = "source_id"


class ContactCountByGroupLoader(ContactCountLoader):
    field = "group_ids"
    is_array = True

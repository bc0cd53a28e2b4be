"""Loaders of what a list (group) holds besides its members: its agents, dispositions and fields."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from beanie import PydanticObjectId
from strawberry.dataloader import DataLoader

from ..models import Agent, CustomField
from ..models.disposition import Disposition
from ..models.library import FIELD_ORDER

D = TypeVar("D", Disposition, CustomField)
ListKey = tuple[PydanticObjectId, bool]  # a group's id, and whether deleted records are wanted too


class ByGroupLoader(DataLoader[ListKey, list[D]], Generic[D]):
    """The records of each list, by position, live only or with the soft-deleted ones too:
    one query for every list asked for in the same tick, whichever they want."""

    model: ClassVar[type[Disposition] | type[CustomField]]

    def __init__(self, workspace_id: PydanticObjectId) -> None:
        super().__init__(load_fn=self._load)
        self.workspace_id = workspace_id

    async def _load(self, keys: Sequence[ListKey]) -> list[list[D]]:
        groups = sorted({group for group, _ in keys})
        with_deleted = sorted({group for group, deleted in keys if deleted})
        query: dict[str, Any] = {"workspace_id": self.workspace_id, "group_id": {"$in": groups}}
        if not with_deleted:
            query["deleted_at"] = None
        elif len(with_deleted) < len(groups):
            query["$or"] = [{"deleted_at": None}, {"group_id": {"$in": with_deleted}}]
        by_group: dict[PydanticObjectId, list[D]] = defaultdict(list)
        for doc in await self.model.find(query).sort(FIELD_ORDER).to_list():
            by_group[doc.group_id].append(doc)  # type: ignore[index, arg-type]
        return [[d for d in by_group[g] if deleted or d.deleted_at is None] for g, deleted in keys]


class DispositionsByGroupLoader(ByGroupLoader[Disposition]):
    model = Disposition


class CustomFieldsByGroupLoader(ByGroupLoader[CustomField]):
    model = CustomField


class AgentsByGroupLoader(DataLoader[PydanticObjectId, list[Agent]]):
    """The agents assigned to each list (``Agent.group_ids``), in one query."""

    def __init__(self, workspace_id: PydanticObjectId) -> None:
        super().__init__(load_fn=self._load)
        self.workspace_id = workspace_id

    async def _load(self, keys: Sequence[PydanticObjectId]) -> list[list[Agent]]:
        wanted = set(keys)
        query = {"workspace_id": self.workspace_id, "group_ids": {"$in": list(wanted)}}
        by_group: dict[PydanticObjectId, list[Agent]] = defaultdict(list)
        for agent in await Agent.find(query).sort("_id").to_list():
            for group_id in wanted.intersection(agent.group_ids):
                by_group[group_id].append(agent)
        return [by_group[key] for key in keys]

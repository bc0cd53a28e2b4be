"""Loaders of one record by id: one ``$in`` query per entity per request tick."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from beanie import PydanticObjectId
from strawberry.dataloader import DataLoader

from ..models import Agent, Contact, CustomField, Group, Source, Status, WorkspaceDocument
from ..models.disposition import Disposition

D = TypeVar("D", bound=WorkspaceDocument)


class ByIdLoader(DataLoader[PydanticObjectId, D | None], Generic[D]):
    """Records of one workspace by id; an id of another workspace loads as None."""

    model: ClassVar[type[WorkspaceDocument]]

    def __init__(self, workspace_id: PydanticObjectId) -> None:
        super().__init__(load_fn=self._load)
        self.workspace_id = workspace_id

    async def _load(self, keys: Sequence[PydanticObjectId]) -> list[D | None]:
        wanted = list(set(keys))
        query = {"_id": {"$in": wanted}, "workspace_id": self.workspace_id}
        found = {doc.id: doc for doc in await self.model.find(query, batch_size=len(wanted)).to_list()}
        return [found.get(key) for key in keys]  # type: ignore[misc]


EVERY = "every"


class StatusByIdLoader(ByIdLoader[Status]):
    """Statuses by id; ``every()`` reads all of the workspace's (a status history filters on
    them), and answers the ids asked for in the same tick from that one read."""

    model = Status

    async def every(self) -> list[Status]:
        return await self.load(EVERY)  # type: ignore[arg-type, return-value]

    async def _load(self, keys: Sequence[PydanticObjectId]) -> list[Any]:
        if EVERY not in keys:
            return await super()._load(keys)
        statuses = await Status.in_workspace(self.workspace_id)
        by_id = {status.id: status for status in statuses}
        return [statuses if key == EVERY else by_id.get(key) for key in keys]


class SourceByIdLoader(ByIdLoader[Source]):
    model = Source


class GroupByIdLoader(ByIdLoader[Group]):
    model = Group


class AgentByIdLoader(ByIdLoader[Agent]):
    model = Agent


class CustomFieldByIdLoader(ByIdLoader[CustomField]):
    model = CustomField


class DispositionByIdLoader(ByIdLoader[Disposition]):
    """Dispositions by id, soft-deleted ones too: old interactions still show theirs."""

    model = Disposition


class ContactByIdLoader(ByIdLoader[Contact]):
    """Contacts by id, within what the caller may see (``scope``)."""

    model = Contact

    def __init__(self, scope: dict[str, object]) -> None:
        super().__init__(scope["workspace_id"])  # type: ignore[arg-type]
        self.scope = scope

    async def _load(self, keys: Sequence[PydanticObjectId]) -> list[Contact | None]:
        wanted = list(set(keys))
        query = {**self.scope, "_id": {"$in": wanted}}
        found = {doc.id: doc for doc in await Contact.find(query, batch_size=len(wanted)).to_list()}
        return [found.get(key) for key in keys]


class CustomFieldByKeyLoader(DataLoader[str, CustomField | None]):
    """Live custom fields by key."""

    def __init__(self, workspace_id: PydanticObjectId) -> None:
        super().__init__(load_fn=self._load)
        self.workspace_id = workspace_id

    async def _load(self, keys: Sequence[str]) -> list[CustomField | None]:
        found = await CustomField.by_keys(self.workspace_id, list(set(keys)))
        return [found.get(key) for key in keys]

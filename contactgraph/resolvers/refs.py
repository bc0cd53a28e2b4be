"""Resolving the ids a caller sends into records of the caller's workspace."""

from __future__ import annotations

from typing import TypeVar

from beanie import PydanticObjectId

from ..ids import decode_id
from ..models import DomainError, DomainErrors, ErrorCode, LibraryEntry, WorkspaceDocument

D = TypeVar("D", bound=WorkspaceDocument)
E = TypeVar("E", bound=LibraryEntry)

KIND = {
    "Status": "ContactStatus",
    "Source": "ContactSource",
    "Group": "Group",
    "CustomField": "CustomField",
    "Agent": "Agent",
    "Contact": "Contact",
    "Workspace": "Workspace",
    "Webhook": "Webhook",
    "Disposition": "Disposition",
    "Segment": "Segment",
}


def not_found(what: str) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"No such {what} in this workspace.")


async def fetch(model: type[D], workspace_id: PydanticObjectId, global_id: str, path: str | None = "id") -> D:
    """The record of ``model`` with this id in the workspace, or NOT_FOUND at ``path``."""
    oid = decode_id(global_id, KIND[model.__name__])
    found = None
    if oid is not None:
        found = await model.find_one({"_id": PydanticObjectId(oid), "workspace_id": workspace_id})
    if found is None:
        error = not_found(_label(model))
        raise error.at(path) if path else error
    return found


async def fetch_many(
    model: type[D], workspace_id: PydanticObjectId, global_ids: list[str], path: str
) -> list[D]:
    """Every record named, in order, in one query; NOT_FOUND names each missing one."""
    oids: list[PydanticObjectId | None] = []
    for gid in global_ids:
        oid = decode_id(gid, KIND[model.__name__])
        oids.append(PydanticObjectId(oid) if oid is not None else None)
    wanted = [oid for oid in oids if oid is not None]
    found = {
        doc.id: doc
        for doc in await model.find({"_id": {"$in": wanted}, "workspace_id": workspace_id}).to_list()
    }
    missing = [
        not_found(_label(model)).at(path, i) for i, oid in enumerate(oids) if oid is None or oid not in found
    ]
    if missing:
        raise DomainErrors(missing)
    return [found[oid] for oid in oids if oid is not None]


def _label(model: type[WorkspaceDocument]) -> str:
    return {"CustomField": "custom field"}.get(model.__name__, model.__name__.lower())

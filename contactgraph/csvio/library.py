"""The library as CSV: custom-field definitions and lists (groups), with the contact export's
byte-order mark and formula guard. A workspace's library is small: each file is read in a
few queries whatever its size, and written in one chunk after the header.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from typing import Any

from beanie import PydanticObjectId

from ..ids import encode_id
from ..models import Agent, CustomField, Group
from ..models.base import format_datetime
from ..models.disposition import Disposition
from ..models.library import FIELD_ORDER
from .export import CsvChunks, neutralised

FIELD_COLUMNS = [
    "key",
    "label",
    "type",
    "options",
    "required",
    "position",
    "group",
    "clickToAction",
    "deletedAt",
]
GROUP_COLUMNS = ["id", "name", "description", "contactCount", "agents", "customFields", "dispositions"]


def _yes(value: bool) -> str:
    return "true" if value else "false"


def _joined(names: list[str]) -> str:
    return neutralised("; ".join(names))


async def custom_fields_csv(
    workspace_id: PydanticObjectId,
    ids: Collection[PydanticObjectId] | None = None,
    include_deleted: bool = False,
    delimiter: str = ",",
) -> AsyncIterator[bytes]:
    """Every live field, global ones and lists' (``group``: the list's name); only ``ids`` when given."""
    out = CsvChunks(delimiter)
    yield out.write([FIELD_COLUMNS])
    query: dict[str, Any] = {"workspace_id": workspace_id}
    if ids is not None:
        query["_id"] = {"$in": list(ids)}
    if not include_deleted:
        query["deleted_at"] = None
    fields = await CustomField.find(query).sort(FIELD_ORDER).to_list()
    lists = {g.id: g.name for g in await Group.in_workspace(workspace_id)}
    yield out.write(
        [
            f.key,
            neutralised(f.label),
            f.type.value,
            _joined(f.options),
            _yes(f.required),
            str(f.position),
            neutralised(lists.get(f.group_id, "")) if f.group_id else "",
            _yes(f.click_to_action),
            format_datetime(f.deleted_at) if f.deleted_at else "",
        ]
        for f in fields
    )


MemberCounts = Callable[[list[PydanticObjectId]], Awaitable[list[int]]]


async def groups_csv(
    workspace_id: PydanticObjectId,
    member_counts: MemberCounts,
    ids: Collection[PydanticObjectId] | None = None,
    delimiter: str = ",",
) -> AsyncIterator[bytes]:
    """The lists by name (only ``ids`` when given): their members (``member_counts``: those the
    caller may see), their agents' emails, their live fields' keys and dispositions' names."""
    out = CsvChunks(delimiter)
    yield out.write([GROUP_COLUMNS])
    groups = await Group.in_workspace(workspace_id)
    if ids is not None:
        groups = [g for g in groups if g.id in ids]
    wanted: list[PydanticObjectId] = [g.id for g in groups]  # type: ignore[misc]
    in_lists = {"workspace_id": workspace_id, "group_id": {"$in": wanted}, "deleted_at": None}
    fields = await CustomField.find(in_lists).sort(FIELD_ORDER).to_list()
    keys = _by_group((f.group_id, f.key) for f in fields)
    dispositions = await Disposition.find(in_lists).sort(FIELD_ORDER).to_list()
    outcomes = _by_group((d.group_id, d.name) for d in dispositions)
    assigned = {"workspace_id": workspace_id, "group_ids": {"$in": wanted}}
    agents = _by_group(
        (g, a.email) for a in await Agent.find(assigned).sort("_id").to_list() for g in a.group_ids
    )
    counts: dict[Any, int] = dict(zip(wanted, await member_counts(wanted), strict=True))
    yield out.write(
        [
            encode_id("Group", g.id),
            neutralised(g.name),
            neutralised(g.description or ""),
            str(counts[g.id]),
            _joined(agents[g.id]),
            _joined(keys[g.id]),
            _joined(outcomes[g.id]),
        ]
        for g in groups
    )


def _by_group(pairs: Iterable[tuple[Any, str]]) -> dict[Any, list[str]]:
    found: dict[Any, list[str]] = defaultdict(list)
    for group_id, name in pairs:
        found[group_id].append(name)
    return found

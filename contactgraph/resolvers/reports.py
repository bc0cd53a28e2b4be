"""Reports: how many contacts fall in each status, source, group, type, agent or opt-out state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId

from ..access import contact_scope
from ..ids import encode_id
from ..models import Agent, Contact, ContactType, Group, Source, Status, WorkspaceDocument
from .contact_filter import contact_query

UNASSIGNED = "unassigned"


class StatsDimension(StrEnum):
    STATUS = "STATUS"
    SOURCE = "SOURCE"
    GROUP = "GROUP"
    TYPE = "TYPE"
    AGENT = "AGENT"
    OPTED_OUT = "OPTED_OUT"


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    count: int


_FIELDS = {
    StatsDimension.STATUS: "status_id",
    StatsDimension.SOURCE: "source_id",
    StatsDimension.GROUP: "group_ids",
    StatsDimension.TYPE: "type",
    StatsDimension.AGENT: "assigned_agent_id",
    StatsDimension.OPTED_OUT: "opted_out",
}

# The record a referenced id names, and the kind its API id carries.
_REFERENCED: dict[StatsDimension, tuple[type[WorkspaceDocument], str]] = {
    StatsDimension.SOURCE: (Source, "ContactSource"),
    StatsDimension.GROUP: (Group, "Group"),
    StatsDimension.AGENT: (Agent, "Agent"),
}


async def contact_stats(
    agent: Agent, dimension: StatsDimension, filter: dict[str, Any] | None
) -> list[Bucket]:
    """Counts of the contacts the filter selects, by ``dimension``, from one aggregation.

    STATUS lists every status in position order, zero counts included. The others list
    the values some contact has, largest count first (ties by label); a contact counts
    once in each of its groups, and AGENT has an ``unassigned`` bucket. Ids whose record
    no longer exists (a group deleted meanwhile) are left out.
    """
    counts = await _count_by(await contact_query(contact_scope(agent), filter), _FIELDS[dimension])
    if dimension is StatsDimension.STATUS:
        statuses = await Status.in_workspace(agent.workspace_id)
        return [Bucket(encode_id("ContactStatus", s.id), s.name, counts.get(s.id, 0)) for s in statuses]  # type: ignore[arg-type]
    if dimension is StatsDimension.TYPE:
        buckets = [
            Bucket(t.value, t.value.capitalize(), counts[t.value]) for t in ContactType if t.value in counts
        ]
    elif dimension is StatsDimension.OPTED_OUT:
        labels = {True: "Opted out", False: "Subscribed"}
        buckets = [
            Bucket(str(value).lower(), labels[value], counts[value]) for value in labels if value in counts
        ]
    else:
        buckets = await _referenced_buckets(agent, dimension, counts)
    return sorted(buckets, key=lambda b: (-b.count, b.label.casefold(), b.key))


async def _count_by(query: dict[str, Any], field: str) -> dict[Any, int]:
    pipeline: list[dict[str, Any]] = [{"$match": query}]
    if field == "group_ids":
        pipeline.append({"$unwind": "$group_ids"})
    pipeline.append({"$group": {"_id": f"${field}", "n": {"$sum": 1}}})
    return {row["_id"]: row["n"] for row in await Contact.aggregate(pipeline).to_list()}


async def _referenced_buckets(
    agent: Agent, dimension: StatsDimension, counts: dict[Any, int]
) -> list[Bucket]:
    model, kind = _REFERENCED[dimension]
    ids = [PydanticObjectId(k) for k in counts if k is not None]
    found = []
    if ids:
        found = await model.find({"_id": {"$in": ids}, "workspace_id": agent.workspace_id}).to_list()
    buckets = [Bucket(encode_id(kind, doc.id), doc.name, counts[doc.id]) for doc in found]  # type: ignore[arg-type, attr-defined]
    if dimension is StatsDimension.AGENT and None in counts:
        buckets.append(Bucket(UNASSIGNED, "Unassigned", counts[None]))
    return buckets

"""Segments: saved contact filters, checked as the ``contacts`` query checks a filter, and counted
as the caller may see them."""

from __future__ import annotations

from enum import Enum
from typing import Any

from ..access import Policy
from ..models import Agent, DomainError, ErrorCode, Errors, utcnow
from ..models.library import name_key
from ..models.segment import SEGMENTS_MAX, Segment
from ..models.text import clean_name
from ..services.unique import duplicates_as
from .contact_filter import contact_query
from .refs import fetch


async def list_segments(agent: Agent) -> list[Segment]:
    return await Segment.in_workspace(agent.workspace_id)


async def find_segment(agent: Agent, global_id: str) -> Segment:
    return await fetch(Segment, agent.workspace_id, global_id)


def saved_filter(segment: Segment) -> dict[str, Any]:
    """The segment's filter as ``contact_query`` takes it, never naming another segment."""
    return {**segment.filter, "segment_id": None}


async def count_query(policy: Policy, segment: Segment) -> dict[str, Any] | None:
    """The query of the segment's contacts the caller may see; None when it sees none (it holds no view
    permission, or the filter no longer applies: ``filter_problem``)."""
    if not policy.allows("contacts"):
        return None
    try:
        return await contact_query(policy.contact_filter(), saved_filter(segment))
    except DomainError:
        return None


async def filter_problem(segment: Segment) -> str | None:
    """Why the saved filter no longer applies (a custom field it names was deleted), if it does not."""
    try:
        await contact_query({"workspace_id": segment.workspace_id}, saved_filter(segment))
    except DomainError as error:
        return error.message
    return None


def _storable(value: Any) -> Any:
    """A filter as given (``ContactType`` members and all) as a document stores it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


async def _checked(agent: Agent, given: dict[str, Any], errors: Errors) -> tuple[str | None, dict[str, Any]]:
    """The input's name and filter, every problem under ``input``: the filter as ``contacts`` reads it."""
    name = errors.check(["input", "name"], clean_name, given["name"])
    filter = given.get("filter") or {}
    if filter.get("segment_id") is not None:
        message = "A segment cannot use another segment; give its conditions instead."
        errors.add(ErrorCode.INVALID, message, "input", "filter", "segment_id")
    else:
        await errors.check_async(["input"], contact_query, {"workspace_id": agent.workspace_id}, filter)
    return name, _storable(filter)


def _name_taken(name: str) -> DomainError:
    return DomainError(ErrorCode.NAME_TAKEN, f"A segment named {name!r} exists already.", ["input", "name"])


async def _refuse_taken(agent: Agent, name: str | None, errors: Errors, own: Segment | None = None) -> None:
    if name is None:
        return
    query: dict[str, Any] = {"workspace_id": agent.workspace_id, "name_key": name_key(name)}
    if own is not None:
        query["_id"] = {"$ne": own.id}
    if await Segment.find_one(query) is not None:
        errors.items.append(_name_taken(name))


async def create_segment(agent: Agent, given: dict[str, Any]) -> Segment:
    errors = Errors()
    name, filter = await _checked(agent, given, errors)
    await _refuse_taken(agent, name, errors)
    if await Segment.find({"workspace_id": agent.workspace_id}).count() >= SEGMENTS_MAX:
        errors.add(ErrorCode.LIMIT_EXCEEDED, f"A workspace has at most {SEGMENTS_MAX} segments.", "input")
    errors.raise_any()
    assert name is not None
    segment = Segment(
        workspace_id=agent.workspace_id, name=name, name_key=name_key(name), filter=filter, agent_id=agent.id
    )
    with duplicates_as({"name_key": _name_taken(name)}):
        await segment.insert()
    return segment


async def update_segment(agent: Agent, global_id: str, given: dict[str, Any]) -> Segment:
    """A new name and filter for a segment: what uses it selects by the new filter from now on."""
    segment = await fetch(Segment, agent.workspace_id, global_id)
    errors = Errors()
    name, filter = await _checked(agent, given, errors)
    await _refuse_taken(agent, name, errors, own=segment)
    errors.raise_any()
    assert name is not None
    changes = {
        "name": name,
        "name_key": name_key(name),
        "filter": filter,
        "agent_id": agent.id,
        "updated_at": utcnow(),
    }
    with duplicates_as({"name_key": _name_taken(name)}):
        await Segment.get_pymongo_collection().update_one(
            {"_id": segment.id, "workspace_id": agent.workspace_id}, {"$set": changes}
        )
    return segment.model_copy(update=changes)


async def delete_segment(agent: Agent, global_id: str) -> Segment:
    """Delete a segment; filters and audiences naming it find no such segment (``NOT_FOUND``) from now on."""
    segment = await fetch(Segment, agent.workspace_id, global_id)
    await Segment.get_pymongo_collection().delete_one({"_id": segment.id, "workspace_id": agent.workspace_id})
    return segment

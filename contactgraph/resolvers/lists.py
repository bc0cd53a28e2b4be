"""Lists (groups) beyond their members: the agents assigned to them, and their dispositions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beanie import PydanticObjectId

from ..events import access_changed
from ..models import Agent, DomainError, ErrorCode, Errors, Group, utcnow
from ..models.base import Session
from ..models.disposition import POSITION_MAX, Disposition
from ..models.library import name_key
from ..models.text import clean_color, clean_name
from ..services.changes import apply
from .contacts import BULK_MAX
from .refs import fetch, fetch_many

# ---------------------------------------------------------------- agents


async def _agents(caller: Agent, global_ids: list[str]) -> list[Agent]:
    if len(global_ids) > BULK_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {BULK_MAX} ids at once.", ["agentIds"])
    return await fetch_many(Agent, caller.workspace_id, global_ids, "agentIds")


async def assign_agents(caller: Agent, group_id: str, agent_ids: list[str]) -> Group:
    """Assign agents to a list: with CONTACT_VIEW_TEAM they see its members from now on,
    open subscriptions included."""
    errors = Errors()
    group = await errors.check_async([], fetch, Group, caller.workspace_id, group_id, "groupId")
    agents = await errors.check_async([], _agents, caller, agent_ids)
    errors.raise_any()
    assert group is not None and agents is not None
    joining = {a.id: a for a in agents if group.id not in a.group_ids}
    await _update_agents(caller, list(joining.values()), {"$addToSet": {"group_ids": group.id}})
    return group


async def remove_agents(caller: Agent, group_id: str, agent_ids: list[str]) -> Group:
    """Unassign agents from a list; agents it does not have are left as they are."""
    errors = Errors()
    group = await errors.check_async([], fetch, Group, caller.workspace_id, group_id, "groupId")
    agents = await errors.check_async([], _agents, caller, agent_ids)
    errors.raise_any()
    assert group is not None and agents is not None
    assert group.id is not None
    await unassign_agents(caller, [a for a in agents if group.id in a.group_ids], [group.id])
    return group


async def unassign_agents(
    caller: Agent, agents: Sequence[Agent], group_ids: Sequence[PydanticObjectId]
) -> None:
    """Take ``group_ids`` from these agents, with an access change for each."""
    await _update_agents(caller, agents, {"$pull": {"group_ids": {"$in": list(group_ids)}}})


async def _update_agents(caller: Agent, agents: Sequence[Agent], update: dict[str, Any]) -> None:
    """One update of every agent named, with the ``agent.access_changed`` event of each:
    their open subscriptions re-check what they see before any later event."""
    unique = list({a.id: a for a in agents}.values())
    if not unique:
        return

    async def write(session: Session) -> bool:
        query = {"workspace_id": caller.workspace_id, "_id": {"$in": [a.id for a in unique]}}
        result = await Agent.get_pymongo_collection().update_many(query, update, session=session)
        return result.modified_count > 0

    await apply(write, [access_changed(agent, caller) for agent in unique])


# ---------------------------------------------------------------- dispositions


def _position(value: int) -> int:
    if not 0 <= value <= POSITION_MAX:
        raise DomainError(ErrorCode.INVALID, f"A position is between 0 and {POSITION_MAX}.")
    return value


def _name_taken(name: str) -> DomainError:
    return DomainError(
        ErrorCode.NAME_TAKEN, f"This list has a disposition named {name!r} already.", ["input", "name"]
    )


def _cleaned(errors: Errors, values: dict[str, Any]) -> dict[str, Any]:
    """The given name, colour and position, checked; a null colour clears it."""
    fields: dict[str, Any] = {}
    if values.get("name") is not None:
        name = errors.check(["input", "name"], clean_name, values["name"])
        if name is not None:
            fields.update(name=name, name_key=name_key(name))
    if "color" in values:
        color = values["color"]
        fields["color"] = None if color is None else errors.check(["input", "color"], clean_color, color)
    if values.get("position") is not None:
        fields["position"] = errors.check(["input", "position"], _position, values["position"])
    return fields


async def create_disposition(agent: Agent, values: dict[str, Any]) -> Disposition:
    """A new outcome code of a list, named uniquely among the list's live ones."""
    errors = Errors()
    group = await errors.check_async(
        ["input"], fetch, Group, agent.workspace_id, values["group_id"], "groupId"
    )
    fields = _cleaned(errors, values)
    if group is not None and "name_key" in fields:
        assert group.id is not None
        if await Disposition.named(agent.workspace_id, group.id, fields["name_key"]):
            errors.items.append(_name_taken(fields["name"]))
    errors.raise_any()
    assert group is not None and group.id is not None
    if "position" not in fields:
        fields["position"] = await Disposition.next_position(group)
    disposition = Disposition(workspace_id=agent.workspace_id, group_id=group.id, **fields)
    await disposition.insert()
    return disposition


async def update_disposition(agent: Agent, global_id: str, values: dict[str, Any]) -> Disposition:
    """Only the given values change; the name stays unique among the list's live dispositions."""
    disposition = await fetch(Disposition, agent.workspace_id, global_id)
    errors = Errors()
    changes = _cleaned(errors, values)
    if "name_key" in changes and await Disposition.named(
        agent.workspace_id, disposition.group_id, changes["name_key"], except_id=disposition.id
    ):
        errors.items.append(_name_taken(changes["name"]))
    errors.raise_any()
    if changes:
        await disposition.set(changes)
    return disposition


async def delete_disposition(agent: Agent, global_id: str) -> Disposition:
    """Soft delete: the list no longer offers it; interactions closed with it keep showing it."""
    disposition = await fetch(Disposition, agent.workspace_id, global_id)
    if disposition.live:
        await disposition.set({"deleted_at": utcnow()})
    return disposition


async def disposition_for(agent: Agent, global_id: str, group_ids: Sequence[PydanticObjectId]) -> Disposition:
    """A live disposition of one of ``group_ids`` (a contact's lists), to close an interaction with."""
    disposition = await fetch(Disposition, agent.workspace_id, global_id, "dispositionId")
    if not disposition.live:
        raise DomainError(ErrorCode.INVALID, "This disposition was deleted.", ["dispositionId"])
    if disposition.group_id not in group_ids:
        raise DomainError(
            ErrorCode.INVALID,
            "This disposition belongs to a list the interaction's contact is not in.",
            ["dispositionId"],
        )
    return disposition

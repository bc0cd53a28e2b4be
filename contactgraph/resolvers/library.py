"""The library: statuses, sources, groups and custom fields of a workspace."""

from __future__ import annotations

from typing import Any, TypeVar

from beanie import PydanticObjectId

from ..access import contact_scope
from ..models import (
    Agent,
    Contact,
    CustomField,
    CustomFieldType,
    DomainError,
    ErrorCode,
    Errors,
    Group,
    LibraryEntry,
    Source,
    Status,
    Workspace,
    utcnow,
)
from ..models.disposition import Disposition
from ..models.library import FIELD_KEY, name_key
from ..models.lists import NAMED_MAX, GroupRule, without_group
from ..models.text import clean_color, clean_name, clean_text
from ..services import contact_writes
from ..services.unique import duplicates_as
from . import lists
from .contacts import BULK_MAX
from .refs import fetch, fetch_many

E = TypeVar("E", bound=LibraryEntry)

POSITION_MAX = 100_000
OPTIONS_MAX = 200


def _position(value: int) -> int:
    if not 0 <= value <= POSITION_MAX:
        raise DomainError(ErrorCode.INVALID, f"A position is between 0 and {POSITION_MAX}.")
    return value


def _description(value: str) -> str | None:
    return clean_text(value, max_length=1000)


def _name_taken(model: type[LibraryEntry], name: str) -> dict[str, DomainError]:
    message = f"A {model.kind} named {name!r} exists already."
    return {"name_key": DomainError(ErrorCode.NAME_TAKEN, message, ["input", "name"])}


async def _next_position(model: type[Status] | type[CustomField], workspace_id: PydanticObjectId) -> int:
    last = await model.find({"workspace_id": workspace_id}).sort("-position").limit(1).to_list()
    return last[0].position + 1 if last else 0


async def create_entry(model: type[E], agent: Agent, values: dict[str, Any]) -> E:
    """A new status, source or group, with a name unique in the workspace."""
    errors = Errors()
    fields: dict[str, Any] = {}
    name = errors.check(["input", "name"], clean_name, values["name"])
    if "color" in values:
        fields["color"] = errors.check(["input", "color"], clean_color, values["color"])
    if values.get("position") is not None:
        fields["position"] = errors.check(["input", "position"], _position, values["position"])
    if values.get("description") is not None:
        fields["description"] = errors.check(["input", "description"], _description, values["description"])
    if name is not None:
        taken = await _taken(model, agent.workspace_id, name)
        errors.check(["input"], _raise_if_taken, taken, name, model)
    errors.raise_any()
    assert name is not None
    if model is Status and "position" not in fields:
        fields["position"] = await _next_position(Status, agent.workspace_id)
    entry = model(workspace_id=agent.workspace_id, name=name, name_key=name_key(name), **fields)
    with duplicates_as(_name_taken(model, name)):
        await entry.insert()
    return entry


async def _taken(
    model: type[LibraryEntry],
    workspace_id: PydanticObjectId,
    name: str,
    except_id: PydanticObjectId | None = None,
) -> bool:
    query: dict[str, Any] = {"workspace_id": workspace_id, "name_key": name_key(name)}
    if except_id is not None:
        query["_id"] = {"$ne": except_id}
    return await model.find_one(query) is not None


def _raise_if_taken(taken: bool, name: str, model: type[LibraryEntry]) -> None:
    if taken:
        raise DomainError(ErrorCode.NAME_TAKEN, f"A {model.kind} named {name!r} exists already.", ["name"])


async def update_entry(model: type[E], agent: Agent, global_id: str, values: dict[str, Any]) -> E:
    """Only the given values change; a name stays unique."""
    entry = await fetch(model, agent.workspace_id, global_id)
    errors = Errors()
    changes: dict[str, Any] = {}
    if values.get("name") is not None:
        name = errors.check(["input", "name"], clean_name, values["name"])
        if name is not None:
            changes.update(name=name, name_key=name_key(name))
            taken = await _taken(model, agent.workspace_id, name, entry.id)
            errors.check(["input"], _raise_if_taken, taken, name, model)
    if values.get("color") is not None:
        changes["color"] = errors.check(["input", "color"], clean_color, values["color"])
    if values.get("position") is not None:
        changes["position"] = errors.check(["input", "position"], _position, values["position"])
    if "description" in values:
        description = values["description"]
        changes["description"] = (
            errors.check(["input", "description"], _description, description)
            if description is not None
            else None
        )
    errors.raise_any()
    if changes:
        with duplicates_as(_name_taken(model, changes.get("name", ""))):
            await entry.set(changes)
    return entry


async def delete_referenced(
    model: type[Status] | type[Source], agent: Agent, global_id: str, move_to: str | None
) -> PydanticObjectId:
    """Delete a status or source; IN_USE while contacts use it, unless they move first."""
    entry = await fetch(model, agent.workspace_id, global_id)
    field = "status_id" if model is Status else "source_id"
    workspace = await Workspace.get(agent.workspace_id)
    inbound = getattr(workspace.inbound, field) if workspace else None
    if inbound == entry.id:
        raise DomainError(
            ErrorCode.IN_USE,
            f"This {model.kind} is the workspace's inbound default; change the settings first.",
            ["id"],
        )
    target = None
    if move_to is not None:
        target = await fetch(model, agent.workspace_id, move_to, "moveContactsTo")
        if target.id == entry.id:
            raise DomainError(
                ErrorCode.INVALID,
                f"Contacts cannot move to the {model.kind} being deleted.",
                ["moveContactsTo"],
            )
    scope = {"workspace_id": agent.workspace_id, field: entry.id}
    if target is None:
        if await Contact.find_one(scope) is not None:
            raise DomainError(
                ErrorCode.IN_USE,
                f"Contacts still use this {model.kind}: name another with moveContactsTo.",
                ["id"],
            )
    else:
        await contact_writes.patch_where(agent, scope, lambda c: {field: target.id})
    await entry.delete()
    return entry.id  # type: ignore[return-value]


async def delete_group(agent: Agent, global_id: str) -> PydanticObjectId:
    """Delete a group; its members stay and lose it."""
    group = await fetch(Group, agent.workspace_id, global_id)
    await _remove_groups(agent, [group])
    return group.id  # type: ignore[return-value]


async def delete_groups(agent: Agent, global_ids: list[str]) -> list[PydanticObjectId]:
    """``delete_group`` for several: every id must name a group, or nothing is deleted."""
    if len(global_ids) > BULK_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {BULK_MAX} ids at once.", ["ids"])
    groups = list({g.id: g for g in await fetch_many(Group, agent.workspace_id, global_ids, "ids")}.values())
    await _remove_groups(agent, groups, "ids")
    return [g.id for g in groups]  # type: ignore[misc]


async def _remove_groups(agent: Agent, groups: list[Group], path: str = "id") -> None:
    """Members stay and lose the groups; so do the agents assigned to them (their sight follows at
    once); the groups' own custom fields become deleted global fields (values kept until purged);
    their dispositions are soft-deleted, so interactions closed with them keep showing them.
    Refused (IN_USE) for the default group, and for a contact's only groups under ``requireGroup``.

    The groups go last: a deletion cut short is completed by calling it again.
    """
    ids = {g.id for g in groups}
    scope = {"workspace_id": agent.workspace_id}
    await _groups_removable(agent, list(ids), path)  # type: ignore[arg-type]
    await contact_writes.patch_where(
        agent,
        {**scope, "group_ids": {"$in": list(ids)}},
        lambda c: {"group_ids": [g for g in c.group_ids if g not in ids]},
    )
    assigned = await Agent.find({**scope, "group_ids": {"$in": list(ids)}}).to_list()
    await lists.unassign_agents(agent, assigned, list(ids))  # type: ignore[arg-type]
    fields = CustomField.get_pymongo_collection()
    await fields.update_many(
        {**scope, "group_id": {"$in": list(ids)}, "deleted_at": None}, {"$set": {"deleted_at": utcnow()}}
    )
    await fields.update_many({**scope, "group_id": {"$in": list(ids)}}, {"$set": {"group_id": None}})
    await Disposition.retire(groups)
    await Group.get_pymongo_collection().delete_many({**scope, "_id": {"$in": list(ids)}})


async def _groups_removable(agent: Agent, ids: list[PydanticObjectId], path: str) -> None:
    """IN_USE for the workspace's default group, and, when the workspace requires a group, for groups
    that are some contact's only ones: the message names those the caller may see, and counts all."""
    rule = await GroupRule.load(agent.workspace_id)
    if rule.default_group_id in ids:
        message = "This group is the workspace's default group; change the settings first."
        raise DomainError(ErrorCode.IN_USE, message, [path])
    if not rule.required:
        return
    only = {"group_ids": {"$in": ids, "$not": {"$elemMatch": {"$nin": ids}}}}
    total = await Contact.find({"workspace_id": agent.workspace_id, **only}).count()
    if total:
        named = await Contact.find({**contact_scope(agent), **only}).sort("_id").limit(NAMED_MAX).to_list()
        raise DomainError(ErrorCode.IN_USE, without_group(named, total), [path])


# ---------------------------------------------------------------- custom fields


def _key(value: str) -> str:
    if not FIELD_KEY.fullmatch(value):  # match() would let a trailing newline through
        raise DomainError(
            ErrorCode.INVALID,
            "A key starts with a lower-case letter, then up to 63 lower-case letters, digits or _.",
        )
    return value


def _options(options: list[str]) -> list[str]:
    if len(options) > OPTIONS_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {OPTIONS_MAX} options are allowed.")
    cleaned = [clean_name(option) for option in options]
    if len({o.casefold() for o in cleaned}) != len(cleaned):
        raise DomainError(ErrorCode.INVALID, "Options must differ from one another.")
    return cleaned


def _check_options(type_: CustomFieldType, options: list[str] | None) -> list[str]:
    if type_ is CustomFieldType.DROPDOWN:
        if not options:
            raise DomainError(ErrorCode.REQUIRED, "A DROPDOWN field needs at least one option.")
        return _options(options)
    if options:
        raise DomainError(ErrorCode.INVALID, "Only DROPDOWN fields take options.")
    return []


async def create_custom_field(agent: Agent, values: dict[str, Any]) -> CustomField:
    errors = Errors()
    key = errors.check(["input", "key"], _key, values["key"])
    label = errors.check(["input", "label"], clean_name, values["label"])
    options = errors.check(["input", "options"], _check_options, values["type"], values.get("options"))
    position = values.get("position")
    if position is not None:
        position = errors.check(["input", "position"], _position, position)
    if key is not None and await CustomField.find_one({"workspace_id": agent.workspace_id, "key": key}):
        errors.add(ErrorCode.KEY_TAKEN, f"A custom field with key {key!r} exists already.", "input", "key")
    group = None
    if values.get("group_id") is not None:
        group = await errors.check_async(
            ["input"], fetch, Group, agent.workspace_id, values["group_id"], "groupId"
        )
    errors.raise_any()
    if position is None:
        position = await _next_position(CustomField, agent.workspace_id)
    field = CustomField(
        workspace_id=agent.workspace_id,
        key=key,
        label=label,
        type=values["type"],
        options=options or [],
        required=bool(values.get("required")),
        position=position,
        group_id=group.id if group else None,
        click_to_action=bool(values.get("click_to_action")),
    )
    taken = DomainError(
        ErrorCode.KEY_TAKEN, f"A custom field with key {key!r} exists already.", ["input", "key"]
    )
    with duplicates_as({"key": taken}):
        await field.insert()
    return field


async def update_custom_field(agent: Agent, global_id: str, values: dict[str, Any]) -> CustomField:
    field = await fetch(CustomField, agent.workspace_id, global_id)
    errors = Errors()
    changes: dict[str, Any] = {}
    if values.get("label") is not None:
        changes["label"] = errors.check(["input", "label"], clean_name, values["label"])
    if values.get("options") is not None:
        options = errors.check(["input", "options"], _check_options, field.type, values["options"])
        if options is not None:
            dropped = set(field.options) - set(options)
            if dropped and await Contact.find_one(
                {
                    "workspace_id": agent.workspace_id,
                    "custom_values": {"$elemMatch": {"field_id": field.id, "value": {"$in": list(dropped)}}},
                }
            ):
                errors.add(
                    ErrorCode.IN_USE, "Contacts still hold an option this change removes.", "input", "options"
                )
            changes["options"] = options
    if values.get("required") is not None:
        changes["required"] = values["required"]
    if values.get("click_to_action") is not None:
        changes["click_to_action"] = values["click_to_action"]
    if values.get("position") is not None:
        changes["position"] = errors.check(["input", "position"], _position, values["position"])
    errors.raise_any()
    if changes:
        await field.set(changes)
    return field


async def set_custom_field_deleted(agent: Agent, global_id: str, deleted: bool) -> CustomField:
    """Soft delete (values stay) or restore a field."""
    field = await fetch(CustomField, agent.workspace_id, global_id)
    if (field.deleted_at is not None) != deleted:
        await field.set({"deleted_at": utcnow() if deleted else None})
    return field


async def delete_custom_fields(agent: Agent, global_ids: list[str]) -> list[PydanticObjectId]:
    """Soft-delete several fields at once (values stay); every id must name a field, or none changes."""
    if len(global_ids) > BULK_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {BULK_MAX} ids at once.", ["ids"])
    fields = await fetch_many(CustomField, agent.workspace_id, global_ids, "ids")
    ids = list(dict.fromkeys(f.id for f in fields))
    await CustomField.get_pymongo_collection().update_many(
        {"workspace_id": agent.workspace_id, "_id": {"$in": ids}, "deleted_at": None},
        {"$set": {"deleted_at": utcnow()}},
    )
    return ids  # type: ignore[return-value]


async def purge_custom_field(agent: Agent, global_id: str) -> PydanticObjectId:
    """Erase a soft-deleted field and every value stored for it (``BLOCKED`` for a live field).

    The definition goes first, under the condition that it is still deleted, so a field
    restored meanwhile keeps its values; values left by a purge cut short belong to no
    field and show nowhere.
    """
    field = await fetch(CustomField, agent.workspace_id, global_id)
    erased = await CustomField.get_pymongo_collection().delete_one(
        {"_id": field.id, "workspace_id": agent.workspace_id, "deleted_at": {"$type": "date"}}
    )
    if erased.deleted_count != 1:
        raise DomainError(
            ErrorCode.BLOCKED,
            "Only a deleted field can be purged: delete it first (deleteCustomField).",
            ["id"],
        )
    await contact_writes.patch_where(
        agent,
        {"workspace_id": agent.workspace_id, "custom_values.field_id": field.id},
        lambda c: {"custom_values": [v for v in c.custom_values if v.field_id != field.id]},
    )
    return field.id  # type: ignore[return-value]

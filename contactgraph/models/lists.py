"""What a contact's lists (groups) decide: which custom fields apply to it, and that it keeps one.

``applies`` is the one rule of list fields, and every path asks it (contact input,
upsert, bot answers, import rows, merge, duplicate, joining a list; the contact's
``customFields``, exports, webhooks and filters): a global field applies to every
contact, a list's field to the contacts of that list only. A value a contact holds for
a list it has left is kept, unseen, until it joins the list again.

``GroupRule`` is the workspace's ``requireGroup``: when on, every contact keeps at least
one group, and a contact created without one joins the default group.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId

from .contact import Contact
from .custom_values import StoredValue
from .errors import DomainError, ErrorCode
from .library import CustomField
from .workspace import Workspace

NAMED_MAX = 5  # contacts a refusal names; the rest it counts


def applies(field: CustomField, group_ids: Collection[PydanticObjectId]) -> bool:
    """Whether ``field`` applies to a contact in ``group_ids``."""
    return field.group_id is None or field.group_id in group_ids


def applies_query(field: CustomField, applying: bool = True) -> dict[str, Any] | None:
    """``applies`` as a condition on stored contacts: those it applies to (not ``applying``: the
    others); None for a global field, which applies to every contact."""
    if field.group_id is None:
        return None
    return {"group_ids": field.group_id if applying else {"$ne": field.group_id}}


def applying(fields: Iterable[CustomField], group_ids: Collection[PydanticObjectId]) -> list[CustomField]:
    """The fields that apply to a contact in ``group_ids``."""
    groups = set(group_ids)
    return [f for f in fields if applies(f, groups)]


def lacking(
    fields: Iterable[CustomField],
    group_ids: Collection[PydanticObjectId],
    values: Mapping[PydanticObjectId, StoredValue],
    before: Contact | None = None,
) -> list[CustomField]:
    """The live required fields applying to a contact in ``group_ids`` that ``values`` leaves empty.

    ``before``, the contact as it was: a field it lacked already where it applied already
    is not counted, so a field made required after contacts were written blocks none of
    their other changes; joining a list whose required field it lacks does.
    """
    return [
        f for f in applying(fields, group_ids) if f.required and f.live and _left_empty(f, values, before)
    ]


def _left_empty(
    field: CustomField, values: Mapping[PydanticObjectId, StoredValue], before: Contact | None
) -> bool:
    """``field`` has no value in ``values``, and had one or did not apply ``before``."""
    assert field.id is not None  # a stored field
    if values.get(field.id) is not None:
        return False
    return before is None or not applies(field, before.group_ids) or before.value_of(field.id) is not None


def outside(field: CustomField) -> DomainError:
    return DomainError(
        ErrorCode.INVALID, f"Custom field {field.key!r} belongs to a list (group) the contact is not in."
    )


def required_message(field: CustomField, contact: Contact | None = None) -> str:
    where = " by its list" if field.group_id is not None else ""
    who = f": {named([contact])} has no value" if contact is not None else ""
    return f"Custom field {field.key!r} is required{where}{who}."


async def required_fields(workspace_id: PydanticObjectId) -> list[CustomField]:
    """Every live required field of the workspace, global or of a list, in one query."""
    return await CustomField.find(
        {"workspace_id": workspace_id, "required": True, "deleted_at": None}
    ).to_list()


def named(contacts: Sequence[Contact], total: int | None = None) -> str:
    """Contacts as a message names them: at most ``NAMED_MAX``, then how many more of ``total``."""
    shown = [
        f"{' '.join(n for n in (c.firstname, c.lastname) if n) or 'a contact'} ({c.phone})"
        for c in contacts[:NAMED_MAX]
    ]
    more = (len(contacts) if total is None else total) - len(shown)
    if not shown:
        return f"{more} contact{'s' if more != 1 else ''}"
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class GroupRule:
    """The workspace's ``requireGroup`` and default group."""

    required: bool = False
    default_group_id: PydanticObjectId | None = None

    @classmethod
    def of(cls, workspace: Workspace | None) -> GroupRule:
        if workspace is None:
            return cls()
        return cls(required=workspace.require_group, default_group_id=workspace.default_group_id)

    @classmethod
    async def load(cls, workspace_id: PydanticObjectId) -> GroupRule:
        return cls.of(await Workspace.get(workspace_id))

    def for_new(self, group_ids: Sequence[PydanticObjectId]) -> list[PydanticObjectId]:
        """The groups a new contact starts in: those given; else, when a group is required, the default
        group, or ``REQUIRED`` without one."""
        if group_ids or not self.required:
            return list(group_ids)
        if self.default_group_id is None:
            raise DomainError(
                ErrorCode.REQUIRED,
                "This workspace requires every contact to be in a group, and has no default group"
                " (updateWorkspaceSettings defaultGroupId).",
            )
        return [self.default_group_id]

    def keeps(self, contacts: Sequence[Contact], total: int | None = None) -> None:
        """``REQUIRED`` when a group is required and a change would leave ``contacts`` without one."""
        if self.required and contacts:
            raise DomainError(ErrorCode.REQUIRED, without_group(contacts, total))


def without_group(contacts: Sequence[Contact], total: int | None = None) -> str:
    count = len(contacts) if total is None else total
    return (
        "This workspace requires every contact to be in a group;"
        f" this would leave {count} without one: {named(contacts, total)}."
    )

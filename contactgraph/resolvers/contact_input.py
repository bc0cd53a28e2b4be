"""Validation of a contact's input: everything checked, every problem reported, before a write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from beanie import PydanticObjectId

from ..models import Agent, Contact, CustomField, DomainError, ErrorCode, Errors, Group, Source, Status
from ..models.contact import Flag, derive, flagged
from ..models.custom_values import StoredValue, validate_value
from ..models.lists import GroupRule, applies, lacking, outside, required_fields, required_message
from ..services.unique import email_taken, phone_taken
from .refs import fetch, fetch_many

CUSTOM_VALUES_MAX = 200
GROUPS_MAX = 200

Convert = Callable[[CustomField, Any], StoredValue]


# The plain values of an input, each checked by its field's cleaner.
_PLAIN = [f for f in flagged(Flag.INPUT) if f.clean is not None]


class ContactChanges:
    """The validated changes an input makes to a contact (or the fields of a new one)."""

    def __init__(
        self,
        agent: Agent,
        current: Contact | None,
        prefix: str = "input",
        convert: Convert = validate_value,
    ) -> None:
        """``convert`` turns a given custom value into its stored form (``coerce_value`` for bots)."""
        self.agent = agent
        self.current = current
        self.prefix = prefix
        self.convert = convert
        self.errors = Errors()
        self.values: dict[str, Any] = {}
        self.custom_changes: dict[PydanticObjectId, StoredValue] = {}
        # each custom field given, and where: ``list_problems`` checks it against the contact's lists
        self.custom_given: dict[PydanticObjectId, tuple[CustomField, list[str | int]]] = {}

    @property
    def workspace_id(self) -> PydanticObjectId:
        return self.agent.workspace_id

    def _at(self, *path: str | int) -> list[str | int]:
        return [self.prefix, *path]

    def _required(self, given: dict[str, Any], name: str) -> bool:
        """Whether ``name`` is given with a value; a null for it is an error."""
        if name not in given:
            return False
        if given[name] is None:
            self.errors.add(ErrorCode.REQUIRED, f"{name} cannot be cleared.", *self._at(name))
            return False
        return True

    async def read(self, given: dict[str, Any]) -> ContactChanges:
        for field in _PLAIN:
            name = field.attribute
            if field.has(Flag.REQUIRED):
                if self._required(given, name):
                    self.values[name] = self.errors.check(self._at(name), field.cleaned, given[name])
            elif name in given:
                raw = given[name]
                self.values[name] = (
                    self.errors.check(self._at(name), field.cleaned, raw) if raw is not None else field.empty
                )
        await self._references(given)
        await self._keep_a_group(given)
        if given.get("custom_fields") is not None:
            await self.read_custom_values(given["custom_fields"], "custom_fields")
        self.errors.items.extend(await self.list_problems(self.group_ids, self.current))
        await self._unique()
        return self

    @property
    def group_ids(self) -> list[PydanticObjectId]:
        """The groups the contact is in once changed."""
        return self.values.get("group_ids", self.current.group_ids if self.current else [])

    async def _keep_a_group(self, given: dict[str, Any]) -> None:
        """``GroupRule``: a new contact without groups joins the default group (or REQUIRED); a change
        cannot leave a contact without any."""
        if "group_ids" in given and "group_ids" not in self.values:
            return  # refused already
        if self.values.get("group_ids"):
            return  # it is in a group
        if self.current is not None and "group_ids" not in self.values:
            return  # its groups do not change
        rule = await GroupRule.load(self.workspace_id)
        path = self._at("group_ids")
        if self.current is None:
            groups = self.errors.check(path, rule.for_new, [])
            if groups:
                self.values["group_ids"] = groups
        elif self.current.group_ids:
            self.errors.check(path, rule.keeps, [self.current])

    async def _references(self, given: dict[str, Any]) -> None:
        for name, model in (("status_id", Status), ("source_id", Source)):
            if self._required(given, name):
                entry = await self._fetch(model, given[name], name)
                self.values[name] = entry.id if entry else None
        if "assigned_agent_id" in given:
            raw = given["assigned_agent_id"]
            agent = await self._fetch(Agent, raw, "assigned_agent_id") if raw is not None else None
            self.values["assigned_agent_id"] = agent.id if agent else None
        if "group_ids" in given:
            raw = given["group_ids"] or []
            if len(raw) > GROUPS_MAX:
                self.errors.add(
                    ErrorCode.LIMIT_EXCEEDED, f"At most {GROUPS_MAX} groups.", *self._at("group_ids")
                )
                return
            groups = await self.errors.check_async(
                [self.prefix], fetch_many, Group, self.workspace_id, raw, "group_ids"
            )
            if groups is not None:
                self.values["group_ids"] = list(dict.fromkeys(g.id for g in groups))

    async def _fetch(self, model: Any, global_id: str, name: str) -> Any:
        return await self.errors.check_async([self.prefix], fetch, model, self.workspace_id, global_id, name)

    async def read_custom_values(self, items: list[dict[str, Any]], *path: str) -> ContactChanges:
        """``{key, value}`` items into ``custom_changes``; errors under ``[prefix, *path]``."""
        if len(items) > CUSTOM_VALUES_MAX:
            self.errors.add(
                ErrorCode.LIMIT_EXCEEDED, f"At most {CUSTOM_VALUES_MAX} values.", *self._at(*path)
            )
            return self
        fields = await CustomField.by_keys(self.workspace_id, [item["key"] for item in items])
        seen: set[str] = set()
        for i, item in enumerate(items):
            key = item["key"]
            field = fields.get(key)
            if key in seen:
                self.errors.add(ErrorCode.INVALID, f"{key!r} is given twice.", *self._at(*path, i, "key"))
                continue
            seen.add(key)
            if field is None:
                self.errors.add(
                    ErrorCode.INVALID, f"No custom field with key {key!r}.", *self._at(*path, i, "key")
                )
                continue
            self.custom_given[field.id] = (field, self._at(*path, i))  # type: ignore[index]
            value = item.get("value")
            if value is None:
                self.custom_changes[field.id] = None  # type: ignore[index]
                continue
            try:
                self.custom_changes[field.id] = self.convert(field, value)  # type: ignore[index]
            except DomainError as error:
                self.errors.items.append(error.at(*self._at(*path, i, "value")))
        return self

    async def list_problems(
        self, group_ids: Sequence[PydanticObjectId], before: Contact | None
    ) -> list[DomainError]:
        """The values given and the contact's required fields, by ``models.lists``, for a contact in
        ``group_ids`` (``before``: as it was; None for a new one): a value for a list the contact is
        not in is INVALID; a null for a required field, or a required field left empty, REQUIRED.
        """
        problems: list[DomainError] = []
        groups = set(group_ids)
        for field, at in self.custom_given.values():
            if not applies(field, groups):
                problems.append(outside(field).at(*at, "key"))
            elif field.required and field.id in self.custom_changes and self.custom_changes[field.id] is None:
                message = f"{field.key!r} is required and cannot be cleared."
                problems.append(DomainError(ErrorCode.REQUIRED, message, [*at, "value"]))
        if before is not None and groups <= set(before.group_ids):
            return problems  # nothing applies that did not before, and a value is cleared only as given
        values = {v.field_id: v.value for v in before.custom_values} if before else {}
        values.update(self.custom_changes)
        for field in lacking(await required_fields(self.workspace_id), groups, values, before):
            if field.id not in self.custom_given:
                message = required_message(field, before)
                problems.append(DomainError(ErrorCode.REQUIRED, message, self._at("custom_fields")))
        return problems

    async def _unique(self) -> None:
        """Phone, other phones and email are unique in the workspace (claims and indexes guard the race)."""
        phone, email = self.values.get("phone"), self.values.get("email")
        own = self.current.id if self.current else None
        if phone and (not self.current or phone != self.current.phone):
            if await Contact.find_one(
                _other({"$or": [{"phone": phone}, {"other_phones": phone}]}, self.workspace_id, own)
            ):
                self.errors.add(ErrorCode.PHONE_TAKEN, phone_taken(phone).message, *self._at("phone"))
        await self._other_phones_free(own)
        if email and (not self.current or email != self.current.email):
            if await Contact.find_one(_other({"email": email}, self.workspace_id, own)):
                self.errors.add(ErrorCode.EMAIL_TAKEN, email_taken(email).message, *self._at("email"))

    async def _other_phones_free(self, own: PydanticObjectId | None) -> None:
        """PHONE_TAKEN at the index of each given other phone another contact holds, in one query."""
        numbers = self.values.get("other_phones") or []
        if not numbers:
            return
        wanted = list(dict.fromkeys(numbers))
        query = _other(
            {"$or": [{"phone": {"$in": wanted}}, {"other_phones": {"$in": wanted}}]}, self.workspace_id, own
        )
        found = Contact.get_pymongo_collection().find(query, {"phone": 1, "other_phones": 1})
        held = {n async for doc in found for n in (doc["phone"], *doc.get("other_phones", []))}
        for i, number in enumerate(numbers):
            if number in held:
                self.errors.add(
                    ErrorCode.PHONE_TAKEN, phone_taken(number).message, *self._at("other_phones", i)
                )

    def updates(self) -> dict[str, Any]:
        """The fields to ``$set``, derived values included; raises if anything was wrong."""
        self.errors.raise_any()
        changes = dict(self.values)
        if self.custom_changes:
            current = self.current.custom_values if self.current else []
            changes["custom_values"] = Contact.merge_values(current, self.custom_changes)
        return derive(self.current, changes)


def _other(
    query: dict[str, Any], workspace_id: PydanticObjectId, own: PydanticObjectId | None
) -> dict[str, Any]:
    query = {"workspace_id": workspace_id, **query}
    if own is not None:
        query["_id"] = {"$ne": own}
    return query

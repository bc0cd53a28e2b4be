"""One CSV row into a contact's values, checked by the same rules as the API's, with the library in memory.

The library (statuses, sources, groups, custom fields) is read once per job, so a row
costs no database round trip here; duplicates and writes are the runner's business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from beanie import PydanticObjectId

from ..models import (
    Contact,
    CustomField,
    CustomFieldType,
    CustomValue,
    DomainError,
    DomainErrors,
    ErrorCode,
    Group,
    Source,
    Status,
)
from ..models.contact import BY_STORED, TEXT_LIMITS, Flag, Kind, derive, flagged
from ..models.custom_values import StoredValue, coerce_value
from ..models.import_job import ImportPlan
from ..models.library import name_key
from ..models.lists import GroupRule, applies, lacking, outside, required_message
from ..models.phones import OTHER_PHONES_MAX, normalize_phone, normalize_phones, split_phones
from ..models.social import PROFILES_MAX, profile_from_cell, updated_profiles
from ..models.text import clean_text
from .mapping import OTHER_PHONES, custom_key, social_network

# The contact fields an import fills, by column name, and those a new contact cannot do without.
_IMPORTED = {f.csv_name: f for f in flagged(Flag.IMPORT) if f.kind not in (Kind.CUSTOM, Kind.SOCIAL)}
_NEEDED = [f for f in _IMPORTED.values() if Contact.model_fields[f.attribute].is_required()]
_FORMULA_START = ("=", "+", "-", "@")


@dataclass
class Library:
    """A workspace's library, by the names a file uses."""

    statuses: dict[str, PydanticObjectId]
    sources: dict[str, PydanticObjectId]
    groups: dict[str, PydanticObjectId]
    fields: dict[str, CustomField]
    group_rule: GroupRule = field(default_factory=GroupRule)

    @classmethod
    async def load(cls, workspace_id: PydanticObjectId) -> Library:
        def by_name(entries: Sequence[Status | Source | Group]) -> dict[str, PydanticObjectId]:
            return {e.name_key: e.id for e in entries}  # type: ignore[misc]

        return cls(
            statuses=by_name(await Status.in_workspace(workspace_id)),
            sources=by_name(await Source.in_workspace(workspace_id)),
            groups=by_name(await Group.in_workspace(workspace_id)),
            fields={f.key: f for f in await CustomField.in_workspace(workspace_id)},
            group_rule=await GroupRule.load(workspace_id),
        )


@dataclass
class RowProblem:
    column: str | None
    code: ErrorCode
    message: str


@dataclass
class ParsedRow:
    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[PydanticObjectId, StoredValue] = field(default_factory=dict)
    group_ids: list[PydanticObjectId] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def phone(self) -> str | None:
        return self.values.get("phone")

    @property
    def email(self) -> str | None:
        return self.values.get("email")


def plain_text(cell: str) -> str:
    """A cell without the quote an export puts before text a spreadsheet would run as a formula."""
    if cell.startswith("'") and cell[1:2] in _FORMULA_START:
        return cell[1:]
    return cell


def custom_value(definition: CustomField, text: str) -> StoredValue:
    """A cell's text as the value its custom field stores, read and checked as a bot's text is.

    A decimal comma (``1,5``, as European spreadsheets write it) reads as a decimal point.
    """
    if definition.type is CustomFieldType.NUMBER and "," in text and "." not in text:
        text = text.replace(",", ".")
    return coerce_value(definition, text)


class RowReader:
    """Turns rows of one file into contact values, for one job."""

    def __init__(
        self,
        header: Sequence[str],
        plan: ImportPlan,
        library: Library,
        text_limits: Mapping[str, int] = TEXT_LIMITS,
    ) -> None:
        """``text_limits``: the longest value of each free-text field, by stored name."""
        self.header = list(header)
        self.plan = plan
        self.library = library
        self.columns = {t.field: t.column for t in plan.columns}
        self._parsers: dict[str, Callable[[str], Any]] = {
            name: f.cleaned for name, f in _IMPORTED.items() if f.clean is not None
        }
        self._parsers["phone"] = lambda text: normalize_phone(text, plan.default_region)
        self._parsers[OTHER_PHONES] = self._numbers
        for name, limit in text_limits.items():
            self._parsers[BY_STORED[name].csv_name] = partial(clean_text, max_length=limit)

    def column_name(self, target: str) -> str | None:
        index = self.columns.get(target)
        return self.header[index] if index is not None and index < len(self.header) else None

    def _column_of(self, index: int) -> str | None:
        return self.header[index] if index < len(self.header) else None

    def _numbers(self, text: str) -> list[str]:
        """A cell of other phones (``;``, ``,`` or ``:::`` between them), each read as the phone is."""
        try:
            return normalize_phones(split_phones(text), self.plan.default_region)
        except DomainErrors as many:
            raise DomainError(many.errors[0].code, many.errors[0].message) from None

    def parse(self, number: int, cells: list[str]) -> ParsedRow:
        row = ParsedRow(number, cells)
        for target in self.plan.columns:
            text = plain_text(cells[target.column].strip()) if target.column < len(cells) else ""
            if not text:
                continue
            try:
                self._read(row, target.field, text)
            except DomainError as error:
                row.problems.append(RowProblem(self._column_of(target.column), error.code, error.message))
        numbers = set(row.values.get("other_phones", [])) - {row.phone}
        if len(numbers) > OTHER_PHONES_MAX:
            message = f"At most {OTHER_PHONES_MAX} other phones."
            row.problems.append(RowProblem(self.column_name(OTHER_PHONES), ErrorCode.LIMIT_EXCEEDED, message))
        if len(row.values.get("social_profiles", [])) > PROFILES_MAX:
            message = f"At most {PROFILES_MAX} social profiles."
            row.problems.append(RowProblem(None, ErrorCode.LIMIT_EXCEEDED, message))
        for group_id in self.plan.group_ids:
            if group_id not in row.group_ids:
                row.group_ids.append(group_id)
        return row

    def _read(self, row: ParsedRow, target: str, text: str) -> None:
        key = custom_key(target)
        network = social_network(target)
        if key is not None:
            definition = self.library.fields[key]
            row.custom[definition.id] = custom_value(definition, text)  # type: ignore[index]
        elif network is not None:
            row.values.setdefault("social_profiles", []).append(profile_from_cell(network, text))
        elif target == OTHER_PHONES:  # several columns may give them
            row.values.setdefault("other_phones", []).extend(self._numbers(text))
        elif target == "groups":
            row.group_ids.extend(g for g in self._groups(text) if g not in row.group_ids)
        elif target in ("status", "source"):
            row.values[_IMPORTED[target].attribute] = self._entry(target, text)
        else:
            row.values[_IMPORTED[target].attribute] = self._parsers[target](text)

    def _entry(self, kind: str, text: str) -> PydanticObjectId:
        """A status or source by name; an unknown name takes the default when the options give one."""
        known = self.library.statuses if kind == "status" else self.library.sources
        found = known.get(name_key(text))
        default = self.plan.default_status_id if kind == "status" else self.plan.default_source_id
        if found is None and default is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"No {kind} named {text!r} in this workspace.")
        return found or default  # type: ignore[return-value]

    def _groups(self, text: str) -> list[PydanticObjectId]:
        found = []
        for part in text.split(";"):
            name = part.strip()
            if not name:
                continue
            if name_key(name) in self.library.groups:
                found.append(self.library.groups[name_key(name)])
                continue
            for piece in (p.strip() for p in name.split(",")):
                if piece and name_key(piece) not in self.library.groups:
                    raise DomainError(ErrorCode.NOT_FOUND, f"No group named {piece!r} in this workspace.")
                if piece:
                    found.append(self.library.groups[name_key(piece)])
        return found

    # ------------------------------------------------------------ what a row makes

    def new_contact(self, row: ParsedRow, workspace_id: PydanticObjectId) -> Contact | list[RowProblem]:
        """The contact a row creates, or what it lacks for that."""
        values = dict(row.values)
        values.setdefault("status_id", self.plan.default_status_id)
        values.setdefault("source_id", self.plan.default_source_id)
        missing = [
            RowProblem(
                self.column_name(f.csv_name),
                ErrorCode.REQUIRED,
                f"{f.csv_name} is required for a new contact.",
            )
            for f in _NEEDED
            if values.get(f.attribute) is None
        ]
        if self.library.group_rule.required and not row.group_ids:
            message = "This workspace requires every contact to be in a group: fill the groups column."
            missing.append(RowProblem(self.column_name("groups"), ErrorCode.REQUIRED, message))
        missing += self.list_problems(row, row.group_ids, None)
        if missing:
            return missing
        return Contact.new(
            workspace_id,
            **values,
            group_ids=row.group_ids,
            custom_values=[CustomValue(field_id=k, value=v) for k, v in row.custom.items()],
        )

    def list_problems(
        self, row: ParsedRow, group_ids: Sequence[PydanticObjectId], before: Contact | None
    ) -> list[RowProblem]:
        """The row's custom values as the lists of a contact in ``group_ids`` have them (``before``: as
        it was; None for a new one): a value for a list the contact is not in is INVALID, a required
        field left empty REQUIRED (``models.lists``)."""
        groups = set(group_ids)
        fields = {f.id: f for f in self.library.fields.values()}
        problems = [
            RowProblem(self.column_name(f"customFields.{f.key}"), ErrorCode.INVALID, outside(f).message)
            for f in (fields[i] for i in row.custom if i in fields)
            if not applies(f, groups)
        ]
        values = {v.field_id: v.value for v in before.custom_values} if before else {}
        values.update(row.custom)
        problems += [
            RowProblem(
                self.column_name(f"customFields.{f.key}"), ErrorCode.REQUIRED, required_message(f, before)
            )
            for f in lacking(self.library.fields.values(), groups, values, before)
        ]
        return problems

    def changes(self, before: Contact, row: ParsedRow) -> dict[str, Any]:
        """What a row changes in an existing contact (its non-empty values that differ), as stored.

        Never its main phone (its WhatsApp identity): the row's phone, and its other phones,
        join the contact's other phones, as groups join its groups; a number is never taken
        away by an import. A profile replaces the contact's profile of its network.
        """
        changes = dict(row.values)
        numbers = [changes.pop("phone", before.phone), *changes.pop("other_phones", [])]
        held = before.other_phones
        changes["other_phones"] = [*held, *(n for n in numbers if n not in held)]
        if "social_profiles" in changes:
            changes["social_profiles"] = updated_profiles(before.social_profiles, changes["social_profiles"])
        changes["group_ids"] = [*before.group_ids, *(g for g in row.group_ids if g not in before.group_ids)]
        if row.custom:
            changes["custom_values"] = Contact.merge_values(before.custom_values, row.custom)
        return derive(before, changes)

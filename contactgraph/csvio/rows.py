"""One CSV row into a contact's values, checked by the same rules as the API's, with the library in memory.

The library (statuses, sources, groups, custom fields) is read once per job, so a row
costs no database round trip here; duplicates and writes are the runner's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from beanie import PydanticObjectId

from ..ids import encode_id
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
from .mapping import OTHER_PHONES, PHONE, custom_key, social_network

# The contact fields an import fills, by column name, and those a new contact cannot do without.
_IMPORTED = {f.csv_name: f for f in flagged(Flag.IMPORT) if f.kind not in (Kind.CUSTOM, Kind.SOCIAL)}
_NEEDED = [f for f in _IMPORTED.values() if Contact.model_fields[f.attribute].is_required()]
_FORMULA_START = ("=", "+", "-", "@")
# What a new contact cannot do without (or takes from a default): never left out of a row.
ESSENTIAL = frozenset({"firstname", "lastname", "phone", "status", "source"})
_KINDS = {"statuses": "ContactStatus", "sources": "ContactSource", "groups": "Group"}


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
        def by_name(entries: Sequence[Status | Source | Group], kind: str) -> dict[str, PydanticObjectId]:
            """By name, and by id as the API gives it (a cell may hold either)."""
            ids = {name_key(encode_id(kind, e.id)): e.id for e in entries}  # type: ignore[misc]
            return {e.name_key: e.id for e in entries} | ids  # type: ignore[misc, return-value]

        return cls(
            statuses=by_name(await Status.in_workspace(workspace_id), _KINDS["statuses"]),
            sources=by_name(await Source.in_workspace(workspace_id), _KINDS["sources"]),
            groups=by_name(await Group.in_workspace(workspace_id), _KINDS["groups"]),
            fields={f.key: f for f in await CustomField.in_workspace(workspace_id)},
            group_rule=await GroupRule.load(workspace_id),
        )


@dataclass
class RowProblem:
    column: str | None
    code: ErrorCode
    message: str
    warning: bool = False  # a cell left out of the row, which was kept


@dataclass
class ParsedRow:
    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[PydanticObjectId, StoredValue] = field(default_factory=dict)
    group_ids: list[PydanticObjectId] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

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


_GROUPED = {
    ",": re.compile(r"[+-]?\d{1,3}(?:[.\s\u00a0\u202f']\d{3})+(?:,\d+)?"),
    ".": re.compile(r"[+-]?\d{1,3}(?:[,\s\u00a0\u202f']\d{3})+(?:\.\d+)?"),
}


def number_text(text: str, decimal_separator: str = ".") -> str:
    """A number as the file's locale writes it (``1.234,50`` with a decimal comma, ``1,234.50``
    with a decimal point) in the form ``coerce_value`` reads: thousands separators dropped, a
    decimal point. A lone comma with no point (``1,5``) is a decimal comma in either locale.
    """
    text = text.strip()
    if _GROUPED[decimal_separator].fullmatch(text):
        text = re.sub(r"[^\d+\-" + re.escape(decimal_separator) + "]", "", text)
    if decimal_separator == "," or ("," in text and "." not in text):
        text = text.replace(",", ".")
    return text


def custom_value(definition: CustomField, text: str, decimal_separator: str = ".") -> StoredValue:
    """A cell's text as the value its custom field stores, read and checked as a bot's text is;
    numbers as the file's locale writes them (``number_text``)."""
    if definition.type is CustomFieldType.NUMBER:
        text = number_text(text, decimal_separator)
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
                self._read(row, target.field, text, self._column_of(target.column))
            except DomainError as error:
                problem = RowProblem(self._column_of(target.column), error.code, error.message)
                if self.plan.skip_invalid_cells and target.field not in ESSENTIAL:
                    problem.warning, problem.message = True, f"Left out: {error.message}"
                    row.warnings.append(problem)
                else:
                    row.problems.append(problem)
        if row.phone is None and row.values.get("other_phones") and not row.problems:
            row.values["phone"] = row.values["other_phones"].pop(0)  # only other phones: the first is it
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

    def _other_numbers(self, row: ParsedRow, text: str, column: str | None) -> list[str]:
        """A cell of other phones; with ``skip_invalid_cells``, a bad number is left out (a warning)."""
        if not self.plan.skip_invalid_cells:
            return self._numbers(text)
        numbers = []
        for part in split_phones(text):
            try:
                numbers.append(normalize_phone(part, self.plan.default_region))
            except DomainError as error:
                row.warnings.append(RowProblem(column, error.code, f"Left out: {error.message}", True))
        return numbers

    def _read(self, row: ParsedRow, target: str, text: str, column: str | None = None) -> None:
        key = custom_key(target)
        network = social_network(target)
        if key is not None:
            definition = self.library.fields[key]
            custom = custom_value(definition, text, self.plan.decimal_separator)
            row.custom[definition.id] = custom  # type: ignore[index]
        elif network is not None:
            row.values.setdefault("social_profiles", []).append(profile_from_cell(network, text))
        elif target == OTHER_PHONES:  # several columns may give them
            row.values.setdefault("other_phones", []).extend(self._other_numbers(row, text, column))
        elif target == PHONE and len(numbers := split_phones(text)) > 1:  # "a ::: b": the first is the phone
            row.values["phone"] = self._parsers[PHONE](numbers[0])
            others = self._other_numbers(row, " ; ".join(numbers[1:]), column)
            row.values.setdefault("other_phones", []).extend(others)
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

"""Contacts as CSV that spreadsheets open cleanly, streamed in batches.

UTF-8 with a byte-order mark (so Excel reads accents and non-Latin names right), one
header row, and text a spreadsheet would run as a formula prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_origin

from beanie import PydanticObjectId

from ..ids import encode_id
from ..models import Agent, Contact, CustomField, CustomFieldType, Group, Source, Status
from ..models.base import format_datetime
from ..models.contact import ContactField, Flag, Kind, flagged
from ..models.lists import applies
from ..models.social import COLUMN_PREFIX, SocialProfile
from .mapping import CUSTOM_PREFIX

BOM = "\ufeff"
BATCH = 500
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMERIC = {CustomFieldType.NUMBER, CustomFieldType.CHECKBOX, CustomFieldType.DATE, CustomFieldType.DATETIME}


def neutralised(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading quote."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    return str(value)


@dataclass
class ExportNames:
    """The names a contact's references are written with, read once per export."""

    statuses: dict[PydanticObjectId, str]
    sources: dict[PydanticObjectId, str]
    groups: dict[PydanticObjectId, str]
    agents: dict[PydanticObjectId, str]
    fields: list[CustomField]
    networks: list[str]  # the social networks the exported contacts have profiles on

    @classmethod
    async def load(cls, workspace_id: PydanticObjectId, query: dict[str, Any] | None = None) -> ExportNames:
        agents = await Agent.find({"workspace_id": workspace_id}).to_list()
        scope = query or {"workspace_id": workspace_id}
        networks = await Contact.get_pymongo_collection().distinct("social_profiles.network", scope)
        return cls(
            statuses={s.id: s.name for s in await Status.in_workspace(workspace_id)},  # type: ignore[misc]
            sources={s.id: s.name for s in await Source.in_workspace(workspace_id)},  # type: ignore[misc]
            groups={g.id: g.name for g in await Group.in_workspace(workspace_id)},  # type: ignore[misc]
            agents={a.id: a.email for a in agents},  # type: ignore[misc]
            fields=await CustomField.in_workspace(workspace_id),
            networks=sorted(networks),
        )


Cell = Callable[[dict[str, Any]], str]
# The contact's columns, in table order; then a ``social.<network>`` column per network in use,
# and a ``customFields.<key>`` column per custom field.
_COLUMNS = [f for f in flagged(Flag.EXPORT) if f.kind not in (Kind.CUSTOM, Kind.SOCIAL)]


def _text(value: Any) -> str:
    return neutralised(_plain(value))


class ContactRows:
    """A stored contact (as the driver returns it) as one CSV row."""

    def __init__(self, names: ExportNames) -> None:
        self.names = names
        self._cells = [self._cell(f) for f in _COLUMNS]

    @property
    def header(self) -> list[str]:
        return [
            *(f.csv_name for f in _COLUMNS),
            *(COLUMN_PREFIX + n for n in self.names.networks),
            *(CUSTOM_PREFIX + f.key for f in self.names.fields),
        ]

    def row(self, doc: dict[str, Any]) -> list[str]:
        values = {item["field_id"]: item["value"] for item in doc.get("custom_values") or []}
        profiles = {item["network"]: item for item in doc.get("social_profiles") or []}
        groups = set(doc.get("group_ids") or [])
        return [
            *(cell(doc) for cell in self._cells),
            *(_text(_profile_cell(profiles.get(n))) for n in self.names.networks),
            *(self._custom(f, values.get(f.id) if applies(f, groups) else None) for f in self.names.fields),
        ]

    def _cell(self, field: ContactField) -> Cell:
        """How a stored contact's ``field`` is written: names for references, phones as they are."""
        name = field.attribute
        many = get_origin(Contact.model_fields[name].annotation) is list
        if field.kind is Kind.ID:
            return lambda doc: encode_id("Contact", doc["_id"])
        if field.kind is Kind.PHONE:
            return (lambda doc: "; ".join(doc.get(name) or [])) if many else (lambda doc: doc[name])
        if field.kind is Kind.REF:
            known = self._names_of(field)
            if many:
                return lambda doc: _text("; ".join(known[i] for i in doc.get(name) or [] if i in known))
            return lambda doc: _text(known.get(doc.get(name)))
        if field.kind is Kind.BOOL:
            return lambda doc: _plain(bool(doc.get(name)))
        if field.kind is Kind.TEXT:
            return lambda doc: _text(doc.get(name))
        return lambda doc: _plain(doc.get(name))

    def _names_of(self, field: ContactField) -> dict[Any, str]:
        names = self.names
        by_ref = {
            "ContactStatus": names.statuses,
            "ContactSource": names.sources,
            "Group": names.groups,
            "Agent": names.agents,
        }
        return by_ref[field.ref or ""]

    @staticmethod
    def _custom(definition: CustomField, value: Any) -> str:
        return _plain(value) if definition.type in _NUMERIC else neutralised(_plain(value))


def _profile_cell(stored: dict[str, Any] | None) -> str | None:
    return SocialProfile.model_validate(stored).cell if stored is not None else None


async def contact_batches(query: dict[str, Any], size: int) -> AsyncIterator[list[dict[str, Any]]]:
    """The contacts ``query`` selects, ``size`` at a time, by ascending id: one short query per batch."""
    collection = Contact.get_pymongo_collection()
    last: Any = None
    while True:
        bounded = query if last is None else {"$and": [query, {"_id": {"$gt": last}}]}
        docs = [doc async for doc in collection.find(bounded).sort("_id", 1).limit(size)]
        if not docs:
            return
        yield docs
        last = docs[-1]["_id"]


class CsvChunks:
    """Rows written to CSV text and handed out as UTF-8 bytes, a batch at a time."""

    def __init__(self, delimiter: str = ",") -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter)
        self._buffer.write(BOM)

    def write(self, rows: Iterable[list[str]]) -> bytes:
        self._writer.writerows(rows)
        chunk = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return chunk


async def contacts_csv(
    workspace_id: PydanticObjectId, query: dict[str, Any], delimiter: str = ","
) -> AsyncIterator[bytes]:
    rows = ContactRows(await ExportNames.load(workspace_id, query))
    out = CsvChunks(delimiter)
    yield out.write([rows.header])
    async for docs in contact_batches(query, BATCH):
        yield out.write(rows.row(doc) for doc in docs)

"""Which column fills which contact field: an explicit mapping, or the header's names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..models import CustomField, DomainError, ErrorCode, Errors
from ..models.contact import Flag, Kind, flagged
from ..models.import_job import ColumnTarget
from ..models.social import COLUMN_PREFIX, clean_network

CUSTOM_PREFIX = "customFields."
PHONE, OTHER_PHONES = "phone", "otherPhones"

# The contact fields an import fills, by their CSV column names, and the other names a header may give them.
_IMPORTED = [f for f in flagged(Flag.IMPORT) if f.kind not in (Kind.CUSTOM, Kind.SOCIAL)]
FIELDS = tuple(f.csv_name for f in _IMPORTED)


def folded(name: str) -> str:
    """A column name as compared: case-insensitive, without spaces, dashes, dots or underscores."""
    return re.sub(r"[\s_.\-]+", "", name).casefold()


_BY_NAME = {folded(f): f for f in FIELDS} | {
    folded(alias): f.csv_name for f in _IMPORTED for alias in f.aliases
}


_MOBILE = ("mobile", "cell", "whatsapp", "telemóvel", "telemovel", "celular", "móvil", "portable", "handy")
IGNORED = "(ignored)"


def custom_key(field: str) -> str | None:
    """The key of a ``customFields.<key>`` target, None for a contact field."""
    return field[len(CUSTOM_PREFIX) :] if field.startswith(CUSTOM_PREFIX) else None


def social_network(field: str) -> str | None:
    """The network of a ``social.<network>`` target, None for any other."""
    return field[len(COLUMN_PREFIX) :] if field.startswith(COLUMN_PREFIX) else None


def _social_target(name: str) -> str | None:
    """``social.<network>`` for a column or field so named (any case), its network as stored."""
    text = name.strip()
    if not text.casefold().startswith(COLUMN_PREFIX):
        return None
    try:
        return COLUMN_PREFIX + clean_network(text[len(COLUMN_PREFIX) :])
    except DomainError:
        return None


class Mapper:
    """Resolves column names and field names against one header and one set of custom fields."""

    def __init__(self, header: Sequence[str], fields: Sequence[CustomField]) -> None:
        self.header = list(header)
        self.fields = {f.key: f for f in fields}
        self._by_label = {folded(f.label): f.key for f in fields} | {folded(f.key): f.key for f in fields}

    def field_for_header(self, name: str) -> str | None:
        """The target a column named ``name`` fills by default, if any."""
        text = name.strip()
        if text.casefold().startswith(CUSTOM_PREFIX.casefold()):
            key = text[len(CUSTOM_PREFIX) :].strip()
            return CUSTOM_PREFIX + key if key in self.fields else None
        if (social := _social_target(text)) is not None:
            return social
        if (field := _BY_NAME.get(folded(text))) is not None:
            return field
        labelled = self._by_label.get(folded(text))
        return CUSTOM_PREFIX + labelled if labelled else None

    def target_field(self, name: str) -> str | None:
        """A target named in an explicit mapping: a contact field name or ``customFields.<key>``."""
        key = custom_key(name.strip())
        if key is not None:
            return CUSTOM_PREFIX + key if key in self.fields else None
        return _social_target(name) or _BY_NAME.get(folded(name))

    def column_index(self, name: str) -> int | None:
        for exact in (True, False):
            for i, column in enumerate(self.header):
                if (column == name) if exact else (folded(column) == folded(name)):
                    return i
        return None

    def by_header(self) -> list[ColumnTarget]:
        """Each column named like a field fills it, the first such column only; but of several
        phone columns (``phone``, ``mobile``, ``whatsapp``...) the one named ``phone``, else the
        first, is the phone and the others fill the other phones, with any ``phone2`` columns.
        """
        found = [(i, f) for i, name in enumerate(self.header) if (f := self.field_for_header(name))]
        phones = [i for i, f in found if f == PHONE]
        main = next((i for i in phones if folded(self.header[i]) == PHONE), None)
        if main is None:  # a mobile (WhatsApp) number before a home or business one
            mobile = [i for i in phones if any(w in folded(self.header[i]) for w in _MOBILE)]
            main = next(iter(mobile or phones), None)
        targets: list[ColumnTarget] = []
        for i, field in found:
            if field == PHONE and i != main:
                field = OTHER_PHONES
            if field == OTHER_PHONES or all(t.field != field for t in targets):
                targets.append(ColumnTarget(column=i, field=field))
        return targets

    def explicit(self, mapping: Sequence[dict[str, Any]], errors: Errors) -> list[ColumnTarget]:
        targets: list[ColumnTarget] = []
        seen: set[str] = set()
        for i, item in enumerate(mapping):
            path = ("options", "mapping", i)
            column = self.column_index(item["column"])
            if column is None:
                errors.add(ErrorCode.INVALID, f"The file has no column {item['column']!r}.", *path, "column")
            field = self.target_field(item["field"])
            if field is None:
                errors.add(
                    ErrorCode.INVALID,
                    f"{item['field']!r} is neither a contact field nor customFields.<key> of a live field.",
                    *path,
                    "field",
                )
            elif field in seen and field != OTHER_PHONES:  # several columns may hold other numbers
                errors.add(ErrorCode.INVALID, f"{field!r} is mapped twice.", *path, "field")
            if column is not None and field is not None and (field not in seen or field == OTHER_PHONES):
                targets.append(ColumnTarget(column=column, field=field))
            if field is not None:
                seen.add(field)
        return targets

    def combined(self, mapping: Sequence[dict[str, Any]], errors: Errors) -> list[ColumnTarget]:
        """An explicit mapping over the header's names: each column it names fills its field, and every
        other column still fills what its name says, unless the mapping fills that field already (a
        phone-like column then gives other phones, as a second phone column does)."""
        chosen = self.explicit(mapping, errors)
        columns = {t.column for t in chosen}
        fields = {t.field for t in chosen}
        targets = list(chosen)
        for target in self.by_header():
            if target.column in columns:
                continue
            field = OTHER_PHONES if target.field == PHONE and PHONE in fields else target.field
            if field == OTHER_PHONES or field not in fields:
                targets.append(ColumnTarget(column=target.column, field=field))
                fields.add(field)
        return sorted(targets, key=lambda t: t.column)

    def described(self, targets: Sequence[ColumnTarget]) -> str:
        """Every column and what it fills, for a message: ``'Name' → firstname, 'X' → (ignored)``."""
        filled = {t.column: t.field for t in targets}
        return ", ".join(f"{name!r} → {filled.get(i, IGNORED)}" for i, name in enumerate(self.header))

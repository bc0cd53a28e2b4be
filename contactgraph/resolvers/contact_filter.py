"""``ContactFilter`` and ``ContactSort`` as MongoDB queries (operators both engines share)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId

from ..ids import decode_id
from ..models import ContactType, CustomField, CustomFieldType, DomainError, ErrorCode
from ..models.custom_values import validate_value
from ..models.lists import applies_query
from ..models.search import SearchText
from ..models.segment import Segment
from .pagination import SortKey
from .refs import KIND, not_found

SEARCH_MAX = 100
LIST_MAX = 500
_ORDERED = {CustomFieldType.NUMBER, CustomFieldType.DATE, CustomFieldType.DATETIME}
_TEXTUAL = {CustomFieldType.TEXT, CustomFieldType.TEXTAREA, CustomFieldType.URL}


class ContactSortField(StrEnum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    FIRSTNAME = "FIRSTNAME"
    LASTNAME = "LASTNAME"
    STATUS_CHANGED_AT = "STATUS_CHANGED_AT"


_SORT_PATHS = {
    ContactSortField.CREATED_AT: "created_at",
    ContactSortField.UPDATED_AT: "updated_at",
    ContactSortField.FIRSTNAME: "keys.first",
    ContactSortField.LASTNAME: "keys.last",
    ContactSortField.STATUS_CHANGED_AT: "status_changed_at",
}

NEWEST_FIRST = SortKey("CREATED_AT", "created_at", descending=True)


def contact_sort(field: ContactSortField | None, descending: bool) -> SortKey:
    """The sort a list asks for; newest first when it asks for none."""
    if field is None:
        return NEWEST_FIRST
    return SortKey(field.value, _SORT_PATHS[field], descending)


def _ids(kind: str, global_ids: list[str], path: str) -> dict[str, Any]:
    if len(global_ids) > LIST_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {LIST_MAX} ids.", ["filter", path])
    oids = [decode_id(g, KIND[kind]) for g in global_ids]
    return {"$in": [PydanticObjectId(o) for o in oids if o is not None]}


def search_text(text: str | None) -> SearchText | None:
    """``ContactFilter.search`` as the index answers it (None when blank or not given)."""
    if text is None or not text.strip():
        return None
    if len(text.strip()) > SEARCH_MAX:
        raise DomainError(
            ErrorCode.INVALID, f"search has at most {SEARCH_MAX} characters.", ["filter", "search"]
        )
    return SearchText.parse(text)


def _search(text: str) -> dict[str, Any] | None:
    searched = search_text(text)
    return None if searched is None else holding(searched.keys)


def holding(keys: Sequence[str]) -> dict[str, Any]:
    """The contacts whose search terms hold every one of ``keys`` (none when there are no keys).

    An ``$and`` of equalities, as ``$all`` would be: either engine looks the first key up in
    the ``search_terms`` index (the in-memory engine's maps serve equalities only) and
    checks the others on what it found.
    """
    if len(keys) == 1:
        return {"search_terms": keys[0]}
    return {"$and": [{"search_terms": key} for key in keys]} if keys else {"search_terms": {"$in": []}}


async def contact_query(scope: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    """The query for the contacts a filter selects, within ``scope``."""
    if not given:
        return dict(scope)
    conditions: list[dict[str, Any]] = [scope]
    if given.get("search") is not None and (search := _search(given["search"])):
        conditions.append(search)
    for name, kind, path in (
        ("ids", "Contact", "_id"),
        ("status_ids", "Status", "status_id"),
        ("source_ids", "Source", "source_id"),
        ("group_ids", "Group", "group_ids"),
        ("assigned_agent_ids", "Agent", "assigned_agent_id"),
    ):
        if given.get(name) is not None:
            conditions.append({path: _ids(kind, given[name], name)})
    if given.get("types") is not None:
        conditions.append({"type": {"$in": [ContactType(t).value for t in given["types"]]}})
    if given.get("unassigned") is not None:
        conditions.append({"assigned_agent_id": None if given["unassigned"] else {"$ne": None}})
    if given.get("opted_out") is not None:
        conditions.append({"opted_out": given["opted_out"]})
    if given.get("created_after") is not None:
        conditions.append({"created_at": {"$gt": given["created_after"]}})
    if given.get("created_before") is not None:
        conditions.append({"created_at": {"$lt": given["created_before"]}})
    if given.get("custom_fields"):
        conditions.extend(await _custom_conditions(scope["workspace_id"], given["custom_fields"]))
    if given.get("segment_id") is not None:
        workspace_id, segment_id = scope["workspace_id"], given["segment_id"]
        conditions.append(await segment_query(workspace_id, segment_id, "filter", "segmentId"))
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


async def segment_query(workspace_id: PydanticObjectId, global_id: str, *path: str) -> dict[str, Any]:
    """The conditions of a saved segment (``ContactFilter.segmentId``); its problems are at ``path``.

    A segment's filter never names another segment (``resolvers.segments`` refuses it), so
    the nesting stops here whatever is stored.
    """
    oid = decode_id(global_id, "Segment")
    segment = await Segment.find_one({"_id": oid, "workspace_id": workspace_id}) if oid else None
    if segment is None:
        raise not_found("segment").at(*path)
    saved = {**segment.filter, "segment_id": None}
    try:
        return await contact_query({"workspace_id": workspace_id}, saved)
    except DomainError as error:
        message = f"Segment {segment.name!r} no longer applies: {error.message}"
        raise DomainError(error.code, message, path) from None


async def _custom_conditions(
    workspace_id: PydanticObjectId, filters: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if len(filters) > 20:
        raise DomainError(
            ErrorCode.LIMIT_EXCEEDED, "At most 20 custom-field filters.", ["filter", "customFields"]
        )
    fields = await CustomField.by_keys(workspace_id, [f["key"] for f in filters])
    conditions = []
    for i, item in enumerate(filters):
        field = fields.get(item["key"])
        if field is None:
            raise DomainError(
                ErrorCode.INVALID,
                f"No custom field with key {item['key']!r}.",
                ["filter", "customFields", i, "key"],
            )
        try:
            conditions.append(_within_list(field, item, _custom_condition(field, item)))
        except DomainError as error:
            raise error.at("filter", "customFields", i) from None
    return conditions


def _within_list(field: CustomField, item: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    """A list field's condition as its members see it (``applies_query``): a value held outside the
    list is not there, so ``exists: false`` and ``eq: null`` hold for every contact outside it."""
    members = applies_query(field)
    if members is None:
        return condition
    if item.get("exists") is False or ("eq" in item and item["eq"] is None):
        return {"$or": [condition, applies_query(field, applying=False)]}
    return {"$and": [condition, members]}


def _custom_condition(field: CustomField, item: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    if "eq" in item:
        if item["eq"] is None:
            return {"custom_values.field_id": {"$ne": field.id}}
        value["$eq"] = _operand(field, item["eq"], "eq")
    if item.get("in") is not None:
        if len(item["in"]) > LIST_MAX:
            raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {LIST_MAX} values.", ["in"])
        value["$in"] = [_operand(field, v, "in") for v in item["in"]]
    if item.get("contains") is not None:
        if field.type not in _TEXTUAL:
            raise DomainError(
                ErrorCode.INVALID, "contains applies to TEXT, TEXTAREA and URL fields.", ["contains"]
            )
        value["$regex"] = re.escape(item["contains"][:SEARCH_MAX])
        value["$options"] = "i"
    for op in ("gte", "lte"):
        if item.get(op) is not None:
            if field.type not in _ORDERED:
                raise DomainError(
                    ErrorCode.INVALID, f"{op} applies to NUMBER, DATE and DATETIME fields.", [op]
                )
            value[f"${op}"] = _operand(field, item[op], op)
    if item.get("exists") is not None and not value:
        return {"custom_values.field_id": field.id if item["exists"] else {"$ne": field.id}}
    if item.get("exists") is False:
        raise DomainError(
            ErrorCode.INVALID, "exists: false cannot be combined with a value condition.", ["exists"]
        )
    if not value:
        return {"custom_values.field_id": field.id}
    return {"custom_values": {"$elemMatch": {"field_id": field.id, "value": value}}}


def _operand(field: CustomField, raw: Any, op: str) -> Any:
    try:
        return validate_value(field, raw)
    except DomainError as error:
        raise error.at(op) from None

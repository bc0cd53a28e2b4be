"""A contact's activity: every change the outbox recorded of it, newest first, with old and new values.

One activity per write: its ``contact.created`` or ``contact.updated`` event (a status
change's and an opt-out's own events repeat the same write, so they are not read). An
update event carries the contact after the change and, since activities exist, the old
value of each changed field (``data.before``); for an older event without it the old
values come from the event before it (its snapshot of the contact), read for the whole
page at once. Values are shown as webhooks show them (``events.payloads``): global ids,
ISO times, custom fields by key (live fields that apply to the contact).

An activity's kind is the most telling of its changes: an import's writes are IMPORTED;
then a merge, a status change, an opt-out or opt-in, an assignment, a change of groups,
in this order; any other change is UPDATED. ``changes`` lists every field it changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from ..access import contact_scope
from ..events import Event, EventType
from ..events.payloads import contact_json
from ..loaders.slices import Slice, Slices
from ..models import Agent, Contact, CustomField
from ..models.contact import Flag, Kind, flagged
from ..models.import_job import JobKind
from .pagination import Page, SortKey, paginate

ACTIVITY_ORDER = SortKey("ACTIVITY", "occurred_at", descending=True)
RECORDED = [EventType.CREATED.value, EventType.UPDATED.value]


class ActivityKind(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    MERGED = "MERGED"
    OPTED_OUT = "OPTED_OUT"
    OPTED_IN = "OPTED_IN"
    GROUPS_CHANGED = "GROUPS_CHANGED"
    ASSIGNED = "ASSIGNED"
    IMPORTED = "IMPORTED"


# The fields that name an update's kind, most telling first.
_HEADLINES = [
    ("merged_ids", ActivityKind.MERGED),
    ("status_id", ActivityKind.STATUS_CHANGED),
    ("opted_out", None),  # OPTED_OUT or OPTED_IN, by the value it took
    ("assigned_agent_id", ActivityKind.ASSIGNED),
    ("group_ids", ActivityKind.GROUPS_CHANGED),
]
_IMPORTED = {"data.via.kind": JobKind.IMPORT.value}
_NOT_IMPORTED = {"data.via.kind": {"$ne": JobKind.IMPORT.value}}

# The fields an activity shows, as the API names them; custom fields are shown one by one.
_SHOWN = {
    f.attribute: f.api
    for f in flagged(Flag.WEBHOOK)
    if f.kind not in (Kind.ID, Kind.SHOWN, Kind.TIME, Kind.CUSTOM)
}


def kind_of(event: Event) -> ActivityKind:
    """``_kind_query`` asked of one event read."""
    if (event.data.get("via") or {}).get("kind") == JobKind.IMPORT.value:
        return ActivityKind.IMPORTED
    if event.type is EventType.CREATED:
        return ActivityKind.CREATED
    changed = set(event.data.get("changed") or [])
    for field, kind in _HEADLINES:
        if field in changed:
            if kind is not None:
                return kind
            opted_out = (event.data.get("contact") or {}).get("opted_out")
            return ActivityKind.OPTED_OUT if opted_out else ActivityKind.OPTED_IN
    return ActivityKind.UPDATED


def _kind_query(kind: ActivityKind) -> dict[str, Any]:
    """The recorded events of activities of ``kind``, as a query (``kind_of`` as a condition)."""
    if kind is ActivityKind.IMPORTED:
        return _IMPORTED
    if kind is ActivityKind.CREATED:
        return {"$and": [{"type": EventType.CREATED.value}, _NOT_IMPORTED]}
    conditions: list[dict[str, Any]] = [{"type": EventType.UPDATED.value}, _NOT_IMPORTED]
    earlier: list[str] = []
    for field, headline in _HEADLINES:
        opted = kind in (ActivityKind.OPTED_OUT, ActivityKind.OPTED_IN) and field == "opted_out"
        if headline is kind or opted:
            conditions.append({"data.changed": field})
            if opted:
                conditions.append({"data.contact.opted_out": kind is ActivityKind.OPTED_OUT})
            break
        earlier.append(field)
    if earlier:
        conditions.append({"data.changed": {"$nin": earlier}})
    return {"$and": conditions}


def _of(contact: Contact) -> dict[str, Any]:
    return {
        "workspace_id": contact.workspace_id,
        # a merged contact's activity includes the contacts merged into it
        "contact_id": {"$in": [contact.id, *contact.merged_ids]},
        "type": {"$in": RECORDED},
    }


@dataclass
class Activities:
    """A page of a contact's activity, and the snapshot before each of its events that lacks one."""

    page: Page[Event]
    previous: dict[PydanticObjectId, dict[str, Any] | None]


async def activity(
    contact: Contact,
    kinds: Sequence[ActivityKind] | None,
    first: int | None,
    after: str | None,
    slices: Slices | None = None,
) -> Activities:
    """The contact's activity, newest first; with ``slices``, batched with the other contacts' of the
    request (the page, its count, and the earlier snapshots old events need: one read each)."""
    query = _of(contact)
    if kinds is not None:
        query = {"$and": [query, {"$or": [_kind_query(k) for k in dict.fromkeys(kinds)]}]}
    page = await paginate(Event, query, ACTIVITY_ORDER, first=first, after=after, slices=slices)
    return Activities(page, await _previous(page.items, slices))


def _lacks_before(event: Event) -> bool:
    return event.type is EventType.UPDATED and "before" not in event.data


async def _previous(events: Sequence[Event], slices: Slices | None) -> dict[PydanticObjectId, Any]:
    """For each update recorded without its old values, the snapshot of the contact's event before it."""
    lacking = [e for e in events if _lacks_before(e)]
    if not lacking:
        return {}
    wanted = [
        Slice(
            {
                "workspace_id": e.workspace_id,
                "contact_id": e.contact_id,
                "type": {"$in": RECORDED},
                "occurred_at": {"$lt": e.occurred_at},  # each write of a contact is later than the one before
            },
            ACTIVITY_ORDER.directions,
            1,
        )
        for e in lacking
    ]
    loader = (slices or Slices()).pages(Event)
    found = await loader.load_many(wanted)
    snapshots = [rows[0].data.get("contact") if rows else None for rows in found]
    return {e.id: s for e, s in zip(lacking, snapshots, strict=True) if e.id is not None}


def field_ids(event: Event, previous: dict[str, Any] | None) -> set[PydanticObjectId]:
    """The custom fields whose values the event's snapshots hold: their keys name the changes."""
    snapshots = [event.data.get("contact") or {}, event.data.get("before") or {}, previous or {}]
    return {PydanticObjectId(v["field_id"]) for s in snapshots for v in s.get("custom_values") or []}


def changes(
    event: Event, previous: dict[str, Any] | None, fields: dict[Any, CustomField]
) -> list[tuple[str, Any, Any]]:
    """Each field the event changed, with its old and new value as the API shows them."""
    after_doc = event.data.get("contact") or {}
    after = contact_json(Contact.model_validate(after_doc), fields)
    if event.type is EventType.CREATED:
        before: dict[str, Any] = {}
        names = [api for api in _SHOWN.values() if after.get(api) not in (None, [], False)]
    else:
        if "before" in event.data:
            previous = {**after_doc, **event.data["before"]}
        before = contact_json(Contact.model_validate(previous), fields) if previous else {}
        changed = event.data.get("changed") or []
        names = [_SHOWN[stored] for stored in changed if stored in _SHOWN]
    found = [(name, before.get(name), after.get(name)) for name in names]
    if event.type is EventType.CREATED or "custom_values" in (event.data.get("changed") or []):
        old, new = before.get("customFields") or {}, after.get("customFields") or {}
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                found.append((f"customFields.{key}", old.get(key), new.get(key)))
    return found


async def visible_activity(agent: Agent, oid: ObjectId) -> tuple[Event, dict[str, Any] | None] | None:
    """An activity of a contact the agent may see (None: no such activity), with its earlier snapshot."""
    event = await Event.find_one({"_id": PydanticObjectId(oid), "workspace_id": agent.workspace_id})
    if event is None or event.type.value not in RECORDED:
        return None
    query = {**contact_scope(agent), "$or": [{"_id": event.contact_id}, {"merged_ids": event.contact_id}]}
    if await Contact.find_one(query) is None:
        return None
    return event, (await _previous([event], None)).get(event.id)  # type: ignore[arg-type]

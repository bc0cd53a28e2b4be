"""What a webhook receives: an event as JSON, its contact shown as the API shows it.

``{id, type, workspaceId, occurredAt, data}``; ``data`` holds the contact (global ids,
E.164 phone, custom fields by key), the agent who made the change, the fields an
update changed, and for a status change both statuses as ``{id, name, color}``.
Statuses and custom-field keys are read when the delivery is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from beanie import PydanticObjectId

from ..ids import encode_id
from ..models import Contact, CustomField, Status
from ..models.base import format_datetime
from ..models.contact import BY_STORED, ContactField, Flag, Kind, flagged
from ..models.custom_values import value_to_json
from ..models.lists import applies
from ..models.phones import wa_id
from .outbox import Event, EventType

D = TypeVar("D", Status, CustomField)

_WEBHOOK = flagged(Flag.WEBHOOK)

# Shown in a webhook's contact though not stored: computed from the stored fields.
_SHOWN: dict[str, Callable[[Contact], Any]] = {
    "fullName": lambda c: f"{c.firstname} {c.lastname}",
    "waId": lambda c: wa_id(c.phone),
}


def _gid(kind: str, oid: PydanticObjectId | None) -> str | None:
    return encode_id(kind, oid) if oid is not None else None


def _when(moment: Any) -> str | None:
    return format_datetime(moment) if moment is not None else None


def api_name(field: str) -> str:
    """A stored field's name as the API spells it (``status_id`` → ``statusId``)."""
    known = BY_STORED.get(field)
    return known.api if known is not None else field


def contact_json(contact: Contact, fields: dict[Any, CustomField]) -> dict[str, Any]:
    return {f.api: _json(f, contact, fields) for f in _WEBHOOK}


def _json(field: ContactField, contact: Contact, fields: dict[Any, CustomField]) -> Any:
    if field.kind is Kind.SHOWN:
        return _SHOWN[field.api](contact)
    if field.kind is Kind.CUSTOM:
        return _custom_json(contact, fields)
    value = getattr(contact, field.attribute)
    if field.kind is Kind.ID:
        return _gid("Contact", value)
    if field.kind is Kind.REF:
        assert field.ref is not None
        return [_gid(field.ref, v) for v in value] if isinstance(value, list) else _gid(field.ref, value)
    if field.kind is Kind.TIME:
        return _when(value)
    if field.kind is Kind.ENUM:
        return value.value
    if field.kind is Kind.SOCIAL:
        return [profile.model_dump() for profile in value]
    return list(value) if isinstance(value, list) else value


def _custom_json(contact: Contact, fields: dict[Any, CustomField]) -> dict[str, Any]:
    """Live custom fields' values by key: of the fields that apply to the contact (``applies``)."""
    custom = {}
    groups = set(contact.group_ids)
    for item in contact.custom_values:
        field = fields.get(item.field_id)
        if field is None or field.workspace_id != contact.workspace_id:
            continue
        if field.live and applies(field, groups):
            custom[field.key] = value_to_json(item.value)
    return custom


def status_json(event: Event, oid: PydanticObjectId | None, statuses: dict[Any, Status]) -> Any:
    """``{id, name, color}``; name and colour are null for a status deleted since."""
    if oid is None:
        return None
    status = statuses.get(oid)
    if status is not None and status.workspace_id != event.workspace_id:
        status = None
    return {
        "id": _gid("ContactStatus", oid),
        "name": status.name if status else None,
        "color": status.color if status else None,
    }


def payload(
    event: Event,
    contact: Contact | None,
    statuses: dict[Any, Status],
    fields: dict[Any, CustomField],
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "contact": contact_json(contact, fields) if contact is not None else None,
        "agentId": _gid("Agent", event.agent_id),
    }
    if event.type is EventType.UPDATED:
        data["changed"] = [api_name(f) for f in event.data.get("changed", [])]
    if event.type is EventType.STATUS_CHANGED:
        data["fromStatus"] = status_json(event, event.from_status_id, statuses)
        data["toStatus"] = status_json(event, event.to_status_id, statuses)
    return {
        "id": _gid("Event", event.id),
        "type": event.type.value,
        "workspaceId": _gid("Workspace", event.workspace_id),
        "occurredAt": format_datetime(event.occurred_at),
        "data": data,
    }


async def _by_ids(model: type[D], ids: set[PydanticObjectId]) -> list[D]:
    return await model.find({"_id": {"$in": sorted(ids)}}).to_list() if ids else []


async def payloads(events: Iterable[Event]) -> dict[PydanticObjectId, dict[str, Any]]:
    """Each event's body by event id, in two queries whatever their number."""
    events = list(events)
    contacts = {
        e.id: Contact.model_validate(e.data["contact"]) for e in events if e.data.get("contact") is not None
    }
    status_ids = {s for e in events for s in (e.from_status_id, e.to_status_id) if s is not None}
    field_ids = {v.field_id for c in contacts.values() for v in c.custom_values}
    statuses = {s.id: s for s in await _by_ids(Status, status_ids)}
    fields = {f.id: f for f in await _by_ids(CustomField, field_ids)}
    return {e.id: payload(e, contacts.get(e.id), statuses, fields) for e in events}  # type: ignore[misc]

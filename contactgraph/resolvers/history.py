"""A contact's status history, read from the outbox's status-change events.

Statuses are deleted for good, so a change *into* a status deleted since is left out
of the history (a StatusChange always names an existing ``toStatus``), and a change
*out of* one has a null ``fromStatus``. Moving contacts off a status before deleting
it records those moves, so the history still ends at the contact's current status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from ..access import contact_scope
from ..events import Event, EventType
from ..loaders.slices import Slices
from ..models import Agent, Contact, Status
from .pagination import Page, SortKey, paginate

HISTORY_ORDER = SortKey("OCCURRED_AT", "occurred_at", descending=True)


@dataclass
class History:
    """A page of status changes, and the workspace's statuses they may name."""

    page: Page[Event]
    statuses: list[Status]


def _changes_of(contact: Contact, statuses: list[Status]) -> dict[str, Any]:
    return {
        "workspace_id": contact.workspace_id,
        "type": EventType.STATUS_CHANGED.value,
        # a merged contact's history includes the contacts merged into it
        "contact_id": {"$in": [contact.id, *contact.merged_ids]},
        "to_status_id": {"$in": [s.id for s in statuses]},
    }


async def status_history(
    contact: Contact,
    first: int | None,
    after: str | None,
    *,
    statuses: list[Status] | None = None,
    slices: Slices | None = None,
) -> History:
    """The contact's status changes, newest first.

    ``statuses`` are the workspace's (read here unless given); with ``slices`` the read
    is batched with the histories of the other contacts of the request.
    """
    if statuses is None:
        statuses = await Status.in_workspace(contact.workspace_id)
    query = _changes_of(contact, statuses)
    page = await paginate(Event, query, HISTORY_ORDER, first=first, after=after, slices=slices)
    return History(page=page, statuses=statuses)


async def visible_status_change(agent: Agent, oid: ObjectId) -> tuple[Event, Contact] | None:
    """A status change of a contact the agent may see, with that contact (None: no such change)."""
    event = await Event.find_one(
        {
            "_id": PydanticObjectId(oid),
            "workspace_id": agent.workspace_id,
            "type": EventType.STATUS_CHANGED.value,
        }
    )
    if event is None or await Status.get_in(agent.workspace_id, event.to_status_id) is None:
        return None
    query = {**contact_scope(agent), "$or": [{"_id": event.contact_id}, {"merged_ids": event.contact_id}]}
    contact = await Contact.find_one(query)
    return (event, contact) if contact is not None else None

"""The customer journey: interactions recorded and closed, and a contact's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bson import ObjectId

from ..access import contact_scope
from ..ids import decode_id
from ..loaders.slices import Slices
from ..models import Agent, Contact, ErrorCode, Errors, utcnow
from ..models.interaction import (
    SUMMARY_MAX,
    Interaction,
    clean_channel,
    clean_details,
    clean_direction,
    default_window,
)
from ..models.phones import normalize_phone
from ..models.text import clean_text
from . import lists
from .contacts import visible_contact
from .pagination import Page, SortKey, paginate
from .refs import fetch, not_found
from .upsert import Inbound, upsert

TIMELINE_ORDER = SortKey("OCCURRED_AT", "occurred_at", descending=True)


def now() -> datetime:
    """The clock of the journey: when an interaction occurs by default, where the timeline's window lies."""
    return utcnow()


async def record_interaction(agent: Agent, given: dict[str, Any]) -> tuple[Interaction, Contact]:
    """A new interaction of a contact named by id, or by phone (created like an upsert when new)."""
    errors = Errors()
    channel = errors.check(["input", "channel"], clean_channel, given["channel"])
    direction = errors.check(["input", "direction"], clean_direction, given["direction"])
    summary = None
    if given.get("summary") is not None:
        summary = errors.check(["input", "summary"], _summary, given["summary"])
    details = None
    if given.get("details") is not None:
        details = errors.check(["input", "details"], clean_details, given["details"])
    handler: Agent | None = agent
    if given.get("agent_id") is not None:
        handler = await errors.check_async(
            ["input"], fetch, Agent, agent.workspace_id, given["agent_id"], "agentId"
        )
    contact_gid, phone = given.get("contact_id"), given.get("phone")
    contact = e164 = None
    if (contact_gid is None) == (phone is None):
        errors.add(ErrorCode.INVALID, "Give either contactId or phone.", "input", "contactId")
    elif contact_gid is not None:
        contact = await errors.check_async(["input"], visible_contact, agent, contact_gid, "contactId")
    else:
        e164 = errors.check(["input", "phone"], normalize_phone, phone)
    errors.raise_any()
    if contact is None:
        contact = await upsert(agent, Inbound(phone=e164), ["input", "phone"])  # type: ignore[arg-type]
    is_open = bool(given.get("open"))
    occurred_at = given.get("occurred_at") or now()
    interaction = Interaction(
        workspace_id=agent.workspace_id,
        contact_id=contact.id,  # type: ignore[arg-type]
        channel=channel,  # type: ignore[arg-type]
        direction=direction,  # type: ignore[arg-type]
        summary=summary,
        open=is_open,
        occurred_at=occurred_at,
        closed_at=None if is_open else occurred_at,
        agent_id=handler.id,  # type: ignore[union-attr]
        details=details,
    )
    await interaction.insert()
    return interaction, contact


def _summary(value: str) -> str | None:
    return clean_text(value, max_length=SUMMARY_MAX)


async def close_interaction(
    agent: Agent, global_id: str, disposition_id: str | None = None
) -> tuple[Interaction, Contact]:
    """Close an open interaction, with a disposition of one of its contact's lists if given.

    Closing a closed one changes nothing but the disposition, when one is given.
    """
    found = await visible_interaction(agent, decode_id(global_id, "Interaction"))
    if found is None:
        raise not_found("interaction").at("id")
    interaction, contact = found
    changes: dict[str, Any] = {}
    if disposition_id is not None:
        disposition = await lists.disposition_for(agent, disposition_id, contact.group_ids)
        changes["disposition_id"] = disposition.id
    query = {"_id": interaction.id, "workspace_id": agent.workspace_id}
    if interaction.open:
        closing = {**changes, "open": False, "closed_at": now()}
        result = await Interaction.get_pymongo_collection().update_one(
            {**query, "open": True}, {"$set": closing}
        )
        if result.matched_count:
            return interaction.model_copy(update=closing), contact
        fresh = await Interaction.find_one(query)  # closed meanwhile
        interaction = fresh or interaction
    if changes:
        await Interaction.get_pymongo_collection().update_one(query, {"$set": changes})
        interaction = interaction.model_copy(update=changes)
    return interaction, contact


async def visible_interaction(agent: Agent, oid: ObjectId | None) -> tuple[Interaction, Contact] | None:
    """An interaction of a contact the agent may see, with that contact."""
    if oid is None:
        return None
    interaction = await Interaction.find_one({"_id": oid, "workspace_id": agent.workspace_id})
    if interaction is None:
        return None
    contact = await Contact.find_one({**contact_scope(agent), "_id": interaction.contact_id})
    return (interaction, contact) if contact is not None else None


async def timeline(
    contact: Contact,
    channels: Sequence[str] | None,
    start: datetime | None,
    end: datetime | None,
    first: int | None,
    after: str | None,
    slices: Slices | None = None,
) -> Page[Interaction]:
    """The contact's interactions, newest first, in the window given or the default one.

    With ``slices`` the read is batched with the timelines of the other contacts of the request.
    """
    errors = Errors()
    default_start, default_end = default_window(now())
    window: dict[str, Any] = {"$gte": start or default_start}
    window["$lte" if end is not None else "$lt"] = end or default_end
    if start is not None and end is not None and start > end:
        errors.add(ErrorCode.INVALID, "from is after to.", "from")
    query: dict[str, Any] = {
        "workspace_id": contact.workspace_id,
        "contact_id": contact.id,
        "occurred_at": window,
    }
    if channels is not None:
        names = [errors.check(["channels", i], clean_channel, c) for i, c in enumerate(channels)]
        query["channel"] = {"$in": names}
    errors.raise_any()
    return await paginate(Interaction, query, TIMELINE_ORDER, first=first, after=after, slices=slices)

"""mergeContacts: two contacts made one, in steps that running the merge again completes.

A merge writes a journal (``MergeRecord``) holding both contacts as they were, then:
hands the secondary's phone claims to the primary, merges into the primary (with the
merge event), moves the secondary's status history and interactions, deletes the
secondary, and marks the journal finished. Each step can run again without harm, so
if the process dies half-way the same ``mergeContacts`` call completes the merge; the
secondary is deleted last, so no contact is lost meanwhile.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from ..events import Event, EventType
from ..events.outbox import snapshot
from ..ids import decode_id
from ..models import Agent, Contact, CustomField, DomainError, DomainErrors, ErrorCode, Errors, utcnow
from ..models.interaction import Interaction
from ..models.lists import lacking, required_fields, required_message
from ..models.merge import CHOOSABLE, CUSTOM_PREFIX, Choices, MergeRecord, MergeSide, merged_changes
from ..models.phone_claims import PhoneClaim
from ..services import contact_writes
from .contacts import UPDATE_ATTEMPTS, visible_contact
from .refs import not_found

CHOICES_MAX = 100


async def merge_contacts(
    agent: Agent,
    primary_gid: str,
    secondary_gid: str,
    choices: list[dict[str, Any]],
    dry_run: bool,
) -> Contact:
    """The primary as the merge makes it (``dry_run``: would make it, writing nothing)."""
    errors = Errors()
    primary = await errors.check_async([], visible_contact, agent, primary_gid, "primaryId")
    record = await _record_of(agent, secondary_gid)
    if record is not None:  # this secondary's merge has begun: complete it
        errors.raise_any()
        assert primary is not None
        if record.primary_id != primary.id:
            raise DomainError(
                ErrorCode.INVALID, "That contact has been merged into another one already.", ["secondaryId"]
            )
        return await _resumed_preview(record) if dry_run else await complete(agent, record)
    secondary = await errors.check_async([], visible_contact, agent, secondary_gid, "secondaryId")
    chosen = await errors.check_async([], read_choices, agent.workspace_id, choices)
    if primary is not None and secondary is not None and primary.id == secondary.id:
        errors.add(ErrorCode.INVALID, "A contact cannot be merged with itself.", "secondaryId")
    errors.raise_any()
    assert primary is not None and secondary is not None and chosen is not None
    await _not_merging(primary, secondary)
    await _lists_kept(primary, secondary, chosen)
    if dry_run:
        return contact_writes.changed(primary, merged_changes(primary, secondary, chosen))
    record = MergeRecord(
        workspace_id=agent.workspace_id,
        primary_id=primary.id,  # type: ignore[arg-type]
        secondary_id=secondary.id,  # type: ignore[arg-type]
        agent_id=agent.id,
        choices=chosen,
        primary_before=snapshot(primary),
        secondary_before=snapshot(secondary),
    )
    try:
        await record.insert()
    except DuplicateKeyError:  # the same secondary is being merged by another request
        return await merge_contacts(agent, primary_gid, secondary_gid, choices, dry_run)
    return await complete(agent, record)


async def read_choices(workspace_id: PydanticObjectId, choices: list[dict[str, Any]]) -> Choices:
    """``[{field, take}]`` as stored field names and custom field ids; INVALID names each bad one."""
    if len(choices) > CHOICES_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {CHOICES_MAX} choices.", ["choices"])
    keys = [c["field"].removeprefix(CUSTOM_PREFIX) for c in choices if c["field"].startswith(CUSTOM_PREFIX)]
    fields = await CustomField.by_keys(workspace_id, keys) if keys else {}
    errors = Errors()
    chosen = Choices()
    seen: set[str] = set()
    for i, choice in enumerate(choices):
        name, side = choice["field"], MergeSide(choice["take"])
        key = name.removeprefix(CUSTOM_PREFIX)
        if name in seen:
            errors.add(ErrorCode.INVALID, f"{name!r} is chosen twice.", "choices", i, "field")
        elif name in CHOOSABLE:
            chosen.fields[CHOOSABLE[name]] = side
        elif name.startswith(CUSTOM_PREFIX) and key in fields:
            chosen.custom[str(fields[key].id)] = side
        else:
            errors.add(
                ErrorCode.INVALID,
                f"{name!r} cannot be chosen: name a contact field such as email, or customFields.<key>.",
                "choices",
                i,
                "field",
            )
        seen.add(name)
    errors.raise_any()
    return chosen


async def _lists_kept(primary: Contact, secondary: Contact, chosen: Choices) -> None:
    """REQUIRED for each required field (``lacking``) the merged contact would leave empty: of a
    list it joins from the secondary, or one a choice empties."""
    merged = contact_writes.changed(primary, merged_changes(primary, secondary, chosen))
    if set(merged.group_ids) <= set(primary.group_ids) and not chosen.custom:
        return  # nothing applies that did not, and no value is taken away
    values = {v.field_id: v.value for v in merged.custom_values}
    missing = lacking(await required_fields(primary.workspace_id), merged.group_ids, values, primary)
    if missing:
        raise DomainErrors(
            [
                DomainError(
                    ErrorCode.REQUIRED,
                    required_message(field, merged),
                    ["choices" if str(field.id) in chosen.custom else "secondaryId"],
                )
                for field in missing
            ]
        )


async def _record_of(agent: Agent, secondary_gid: str) -> MergeRecord | None:
    oid = decode_id(secondary_gid, "Contact")
    if oid is None:
        return None
    return await MergeRecord.find_one({"workspace_id": agent.workspace_id, "secondary_id": oid})


async def _not_merging(primary: Contact, secondary: Contact) -> None:
    """BLOCKED while the primary is being merged away, or the secondary is receiving a merge."""
    pending = await MergeRecord.find_one(
        {
            "workspace_id": primary.workspace_id,
            "finished_at": None,
            "$or": [{"secondary_id": primary.id}, {"primary_id": secondary.id}],
        }
    )
    if pending is not None:
        field = "primaryId" if pending.secondary_id == primary.id else "secondaryId"
        raise DomainError(
            ErrorCode.BLOCKED, "A merge of this contact is under way; run that merge again first.", [field]
        )


async def _resumed_preview(record: MergeRecord) -> Contact:
    primary = await _primary(record)
    if record.secondary_id in primary.merged_ids:
        return primary
    return contact_writes.changed(primary, merged_changes(primary, record.secondary, record.choices))


async def complete(agent: Agent, record: MergeRecord) -> Contact:
    """Run every step of the merge; each does nothing where it was done before."""
    await hand_over_numbers(record)
    primary = await merge_into_primary(agent, record)
    await move_journey(record)
    await remove_secondary(agent, record)
    if record.finished_at is None:
        await record.set({"finished_at": utcnow()})
    return primary


async def hand_over_numbers(record: MergeRecord) -> None:
    """The secondary's numbers are claimed for the primary before the primary holds them."""
    await PhoneClaim.transfer(record.workspace_id, record.secondary_id, record.primary_id)


async def merge_into_primary(agent: Agent, record: MergeRecord) -> Contact:
    secondary = record.secondary
    for _ in range(UPDATE_ATTEMPTS):
        primary = await _primary(record)
        if record.secondary_id in primary.merged_ids:
            return primary
        changes = merged_changes(primary, secondary, record.choices)
        if secondary.email is not None and changes.get("email") == secondary.email:
            await contact_writes.vacate_email(secondary)  # one contact holds an email at a time
        merged = await contact_writes.patch(
            agent, primary, changes, also=lambda after: [_merged(record, after)]
        )
        if merged is not None:
            return merged
    raise DomainError(ErrorCode.CONFLICT, "The primary kept changing during the merge; run it again.")


async def move_journey(record: MergeRecord) -> None:
    """The secondary's status history and interactions become the primary's."""
    moved = {"$set": {"contact_id": record.primary_id}}
    of_secondary = {"workspace_id": record.workspace_id, "contact_id": record.secondary_id}
    await Event.get_pymongo_collection().update_many(
        {**of_secondary, "type": EventType.STATUS_CHANGED.value}, moved
    )
    await Interaction.get_pymongo_collection().update_many(of_secondary, moved)


async def remove_secondary(agent: Agent, record: MergeRecord) -> None:
    """Delete the secondary, recorded as it was before the merge (``remove`` records nothing
    when a merge run before deleted it already)."""
    await contact_writes.remove(agent, [record.secondary])


async def _primary(record: MergeRecord) -> Contact:
    primary = await Contact.find_one({"_id": record.primary_id, "workspace_id": record.workspace_id})
    if primary is None:
        raise not_found("contact").at("primaryId")
    return primary


def _merged(record: MergeRecord, after: Contact) -> Event:
    """The merge event: the merged contact, and both contacts as they were before."""
    return Event(
        type=EventType.MERGED,
        workspace_id=record.workspace_id,
        contact_id=record.primary_id,
        agent_id=record.agent_id,
        occurred_at=after.updated_at,
        data={
            "contact": snapshot(after),
            "primary": record.primary_before,
            "secondary": record.secondary_before,
        },
    )

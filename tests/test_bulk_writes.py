"""Bulk patches record events only for the contacts they changed, even when some guards miss.

A bulk write is guarded per contact on the version it read; a contact changed meanwhile
keeps the newer change. These tests make one of two guarded patches miss, by writing the
contact between the read and the bulk write, and check the outbox against what was stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from contactgraph.events import Event, EventType
from contactgraph.models import Contact
from contactgraph.services import contact_writes

from .api import Api, Library, Workspace, make_contact, phone
from .checks import oid

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""

ADD_TO_GROUP = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  addContactsToGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { field code message } }
}"""

DELETE_GROUP = """
mutation($id: ID!) { deleteGroup(id: $id) { deletedIds userErrors { field code message } } }"""


async def _updates(contact_id: str) -> list[Event]:
    found = Event.find({"contact_id": oid(contact_id), "type": EventType.UPDATED.value})
    return await found.sort("occurred_at", "_id").to_list()


def _racing_apply(monkeypatch: pytest.MonkeyPatch, race: Callable[[], Awaitable[Any]]) -> None:
    """``contact_writes.apply`` that first runs ``race`` (once): another request's write lands
    between the bulk write's read of its contacts and the write itself."""
    real_apply = contact_writes.apply
    raced: list[bool] = []

    async def racing_apply(*args: Any) -> bool:
        if not raced:
            raced.append(True)
            await race()
        return await real_apply(*args)

    monkeypatch.setattr(contact_writes, "apply", racing_apply)


async def test_a_bulk_patch_records_events_only_for_the_contacts_it_changed(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: two contacts read, then one of them changed by another request
    first = await make_contact(api, workspace, library, phone=phone(1))
    second = await make_contact(api, workspace, library, phone=phone(2), lastname="Byron")
    read = [await Contact.get(oid(c["id"])) for c in (first, second)]
    await api.ok(UPDATE, {"id": second["id"], "input": {"city": "Porto"}}, workspace.token)
    # when: a guarded bulk patch of both
    written = await contact_writes.patch_many(None, [(c, {"company": "Engines Ltd"}) for c in read if c])
    # then: the first changed and is recorded; the second kept the newer change and has no event for this
    assert written == 1
    stored = {c.id: c for c in await Contact.find({}).to_list()}
    assert (stored[oid(first["id"])].company, stored[oid(first["id"])].city) == ("Engines Ltd", None)
    assert (stored[oid(second["id"])].company, stored[oid(second["id"])].city) == (None, "Porto")
    assert [e.data["changed"] for e in await _updates(first["id"])] == [["company"]]
    assert [e.data["changed"] for e in await _updates(second["id"])] == [["city"]]


async def test_a_contact_changed_during_a_bulk_group_change_is_read_again_and_recorded_as_written(
    api: Api, workspace: Workspace, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: another request changes the second contact's city while the group change is under way
    first = await make_contact(api, workspace, library, phone=phone(1))
    second = await make_contact(api, workspace, library, phone=phone(2), lastname="Byron")

    async def race() -> None:
        await api.ok(UPDATE, {"id": second["id"], "input": {"city": "Porto"}}, workspace.token)

    _racing_apply(monkeypatch, race)
    # when
    payload = await api.ok(
        ADD_TO_GROUP,
        {"groupId": library.groups[0], "contactIds": [first["id"], second["id"]]},
        workspace.token,
    )
    # then: both joined, both writes stand, and each event shows the contact as it was written
    assert payload["count"] == 2
    for contact in (first, second):
        stored = await Contact.get(oid(contact["id"]))
        assert stored is not None and stored.group_ids == [oid(library.groups[0])]
        last = (await _updates(contact["id"]))[-1]
        assert last.data["changed"] == ["group_ids"]
        assert (last.data["contact"]["city"], last.data["contact"]["group_ids"]) == (
            stored.city,
            stored.group_ids,
        )
    assert [e.data["changed"] for e in await _updates(second["id"])] == [["city"], ["group_ids"]]


async def test_deleting_a_group_while_a_member_changes_records_one_removal_per_member(
    api: Api, workspace: Workspace, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: two members; the second one's city changes while the group is being deleted
    members = [
        await make_contact(api, workspace, library, phone=phone(n), groupIds=[library.groups[0]])
        for n in (1, 2)
    ]

    async def race() -> None:
        await api.ok(UPDATE, {"id": members[1]["id"], "input": {"city": "Porto"}}, workspace.token)

    _racing_apply(monkeypatch, race)
    # when
    await api.ok(DELETE_GROUP, {"id": library.groups[0]}, workspace.token)
    # then: each member lost the group once, recorded once, as written
    for member in members:
        stored = await Contact.get(oid(member["id"]))
        assert stored is not None and stored.group_ids == []
        removals = [e for e in await _updates(member["id"]) if "group_ids" in e.data["changed"]]
        assert len(removals) == 1
        assert (removals[0].data["contact"]["city"], removals[0].data["contact"]["group_ids"]) == (
            stored.city,
            [],
        )
    raced = await Contact.get(oid(members[1]["id"]))
    assert raced is not None and raced.city == "Porto"

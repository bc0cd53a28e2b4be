"""Every write that changes a contact leaves its events in the outbox, once."""

from __future__ import annotations

from contactgraph.events import Event, EventType

from .api import Api, Library, Workspace, make_contact, phone
from .checks import oid

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { code } }
}"""
OPT_OUT = """
mutation($id: ID!, $optedOut: Boolean!) {
  setContactOptOut(id: $id, optedOut: $optedOut) { contact { optedOut } userErrors { code } }
}"""
DELETE = "mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { code } } }"
ADD_TO_GROUP = """
mutation($g: ID!, $ids: [ID!]!) { addContactsToGroup(groupId: $g, contactIds: $ids) { count userErrors { code } } }"""
ASSIGN = """
mutation($ids: [ID!]!, $a: ID) { assignContacts(contactIds: $ids, agentId: $a) { count userErrors { code } } }"""
DELETE_STATUS = """
mutation($id: ID!, $to: ID) { deleteStatus(id: $id, moveContactsTo: $to) { deletedIds userErrors { code } } }"""


async def _types(contact_id: str) -> list[str]:
    events = await Event.find({"contact_id": oid(contact_id)}).sort("occurred_at", "_id").to_list()
    return [e.type.value for e in events]


async def test_create_update_opt_out_delete_each_leave_their_events(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    # when
    await api.ok(UPDATE, {"id": contact["id"], "input": {"city": "Lisbon"}}, workspace.token)
    await api.ok(UPDATE, {"id": contact["id"], "input": {"city": "Lisbon"}}, workspace.token)  # no change
    await api.ok(UPDATE, {"id": contact["id"], "input": {"statusId": library.statuses[1]}}, workspace.token)
    await api.ok(OPT_OUT, {"id": contact["id"], "optedOut": True}, workspace.token)
    await api.ok(DELETE, {"ids": [contact["id"]]}, workspace.token)
    # then
    assert await _types(contact["id"]) == [
        "contact.created",
        "contact.updated",
        "contact.updated",
        "contact.status_changed",
        "contact.updated",
        "contact.opted_out",
        "contact.deleted",
    ]
    change = await Event.find_one({"type": EventType.STATUS_CHANGED.value})
    assert change is not None
    assert (change.from_status_id, change.to_status_id) == (
        oid(library.statuses[0]),
        oid(library.statuses[1]),
    )
    assert change.agent_id == oid(workspace.agent_id)
    assert change.data["contact"]["status_id"] == oid(library.statuses[1])


async def test_bulk_changes_leave_one_event_per_contact_changed(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    first = await make_contact(api, workspace, library, phone=phone(1))
    second = await make_contact(api, workspace, library, phone=phone(2), groupIds=[library.groups[0]])
    ids = [first["id"], second["id"]]
    # when
    added = await api.ok(ADD_TO_GROUP, {"g": library.groups[0], "ids": ids}, workspace.token)
    assigned = await api.ok(ASSIGN, {"ids": ids, "a": workspace.agent_id}, workspace.token)
    # then
    assert (added["count"], assigned["count"]) == (1, 2)
    assert await _types(first["id"]) == ["contact.created", "contact.updated", "contact.updated"]
    assert await _types(second["id"]) == ["contact.created", "contact.updated"]


async def test_moving_contacts_off_a_deleted_status_records_each_status_change(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contacts = [await make_contact(api, workspace, library, phone=phone(n)) for n in range(3)]
    # when
    await api.ok(DELETE_STATUS, {"id": library.statuses[0], "to": library.statuses[1]}, workspace.token)
    # then
    changes = await Event.find({"type": EventType.STATUS_CHANGED.value}).to_list()
    assert sorted(str(e.contact_id) for e in changes) == sorted(str(oid(c["id"])) for c in contacts)
    assert {e.to_status_id for e in changes} == {oid(library.statuses[1])}


async def test_a_rejected_write_leaves_no_event(api: Api, workspace: Workspace, library: Library) -> None:
    contact = await make_contact(api, workspace, library)
    payload = await api.data(UPDATE, {"id": contact["id"], "input": {"phone": "nope"}}, workspace.token)
    assert payload["updateContact"]["userErrors"] == [{"code": "INVALID"}]
    assert await _types(contact["id"]) == ["contact.created"]

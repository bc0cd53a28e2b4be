"""Contact.activity: every change of a contact from its events, newest first: who, when, old and new values."""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.ids import encode_id

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .csv_api import csv_bytes, run_import

ACTIVITY = """
query($id: ID!, $kinds: [ActivityKind!], $first: Int, $after: String) {
  contact(id: $id) {
    activity(kinds: $kinds, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind occurredAt agent { id } changes { field from to } } }
    }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""

MOVE = """
mutation($id: ID!, $statusId: ID!) {
  moveContactStatus(contactId: $id, statusId: $statusId) { contact { id } userErrors { code } }
}"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { id } userErrors { code } } }"""

NODE = """
query($id: ID!) { node(id: $id) { id ... on Activity { kind changes { field from to } } } }"""

PAGE = """
query($first: Int!) {
  contacts(first: $first) {
    edges { node { id activity(first: 2) { totalCount edges { node { kind agent { name } changes { field from to } } } } } }
  }
}"""


def _nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in data["contact"]["activity"]["edges"]]


async def _history(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    """A contact created with a plan, renamed and upgraded, moved to Won by an agent, then opted out."""
    await make_custom_field(api, workspace, "plan", "TEXT")
    contact = await make_contact(
        api,
        workspace,
        library,
        customFields=[{"key": "plan", "value": "silver"}],
        groupIds=[library.groups[0]],
    )
    patch = {"firstname": "Augusta", "customFields": [{"key": "plan", "value": "gold"}]}
    await api.ok(UPDATE, {"id": contact["id"], "input": patch}, workspace.token)
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"])
    await api.ok(MOVE, {"id": contact["id"], "statusId": library.statuses[1]}, token)
    await api.ok(OPT_OUT, {"id": contact["id"]}, workspace.token)
    return {"contact": contact, "agent_id": agent_id}


async def test_activity_tells_who_changed_what_and_when_newest_first(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    made = await _history(api, workspace, library)
    new, won = library.statuses
    # when
    data = await api.data(ACTIVITY, {"id": made["contact"]["id"]}, workspace.token)
    # then: one activity per change, with each field's old and new value (custom fields by key)
    nodes = _nodes(data)
    assert data["contact"]["activity"]["totalCount"] == 4
    assert [(n["kind"], n["agent"]["id"]) for n in nodes] == [
        ("OPTED_OUT", workspace.agent_id),
        ("STATUS_CHANGED", made["agent_id"]),
        ("UPDATED", workspace.agent_id),
        ("CREATED", workspace.agent_id),
    ]
    assert nodes[0]["changes"] == [{"field": "optedOut", "from": False, "to": True}]
    assert nodes[1]["changes"] == [{"field": "statusId", "from": new, "to": won}]
    assert nodes[2]["changes"] == [
        {"field": "firstname", "from": "Ada", "to": "Augusta"},
        {"field": "customFields.plan", "from": "silver", "to": "gold"},
    ]
    created = {c["field"]: (c["from"], c["to"]) for c in nodes[3]["changes"]}
    assert created["phone"] == (None, "+14155550100")
    assert created["groupIds"] == (None, [library.groups[0]])
    assert created["customFields.plan"] == (None, "silver")
    assert [n["occurredAt"] for n in nodes] == sorted((n["occurredAt"] for n in nodes), reverse=True)


async def test_activity_narrows_to_kinds_and_pages_with_cursors(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    made = await _history(api, workspace, library)
    contact_id = made["contact"]["id"]
    # when
    narrowed = await api.data(
        ACTIVITY, {"id": contact_id, "kinds": ["STATUS_CHANGED", "CREATED"]}, workspace.token
    )
    first = await api.data(ACTIVITY, {"id": contact_id, "first": 3}, workspace.token)
    rest = await api.data(
        ACTIVITY,
        {"id": contact_id, "first": 3, "after": first["contact"]["activity"]["pageInfo"]["endCursor"]},
        workspace.token,
    )
    # then
    assert [n["kind"] for n in _nodes(narrowed)] == ["STATUS_CHANGED", "CREATED"]
    assert narrowed["contact"]["activity"]["totalCount"] == 2
    assert [n["kind"] for n in _nodes(first)] == ["OPTED_OUT", "STATUS_CHANGED", "UPDATED"]
    assert first["contact"]["activity"]["pageInfo"]["hasNextPage"] is True
    assert [n["kind"] for n in _nodes(rest)] == ["CREATED"]


async def test_activity_is_hidden_from_an_agent_who_cannot_see_the_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: the contact is assigned to nobody; an agent who sees only its own contacts
    made = await _history(api, workspace, library)
    contact_id = made["contact"]["id"]
    _, own_token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"], email="own@example.com")
    activity_id = _nodes(await api.data(ACTIVITY, {"id": contact_id}, workspace.token))[0]["id"]
    # when
    through_contact = await api.data(ACTIVITY, {"id": contact_id}, own_token)
    through_node = await api.data(NODE, {"id": activity_id}, own_token)
    seen_by_admin = await api.data(NODE, {"id": activity_id}, workspace.token)
    # then: neither the contact nor any of its activity is reachable
    assert through_contact == {"contact": None}
    assert through_node == {"node": None}
    assert seen_by_admin["node"] == {
        "id": activity_id,
        "kind": "OPTED_OUT",
        "changes": [{"field": "optedOut", "from": False, "to": True}],
    }


async def test_events_recorded_without_old_values_take_them_from_the_event_before(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: the history, its events stripped of their old values as they were recorded before activity
    made = await _history(api, workspace, library)
    await Event.get_pymongo_collection().update_many({}, {"$unset": {"data.before": ""}})
    # when
    data = await api.data(ACTIVITY, {"id": made["contact"]["id"]}, workspace.token)
    # then: the same old values, from the snapshot of the change before each
    nodes = _nodes(data)
    assert nodes[1]["changes"] == [
        {"field": "statusId", "from": library.statuses[0], "to": library.statuses[1]}
    ]
    assert nodes[2]["changes"] == [
        {"field": "firstname", "from": "Ada", "to": "Augusta"},
        {"field": "customFields.plan", "from": "silver", "to": "gold"},
    ]


async def test_an_imports_writes_are_imported_activities(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    rows = [["firstname", "lastname", "phone"], ["Imp", "Orted", phone(7)]]
    options = {"defaultStatusId": library.statuses[0], "defaultSourceId": library.sources[0]}
    job = await run_import(api, workspace.token, csv_bytes(rows), options)
    assert job["created"] == 1
    [event] = await Event.find({"type": EventType.CREATED.value}).to_list()
    # when
    data = await api.data(ACTIVITY, {"id": encode_id("Contact", event.contact_id)}, workspace.token)
    # then
    [node] = _nodes(data)
    assert node["kind"] == "IMPORTED" and {"field": "firstname", "from": None, "to": "Imp"} in node["changes"]


@pytest.mark.parametrize("size", [3, 12])
async def test_activities_of_a_page_cost_the_same_round_trips_whatever_its_size(
    engine: Engine, api: Api, workspace: Workspace, library: Library, size: int
) -> None:
    # given: contacts with a custom value, each moved and renamed; their events recorded without old values
    await make_custom_field(api, workspace, "plan", "TEXT")
    for n in range(size):
        contact = await make_contact(
            api, workspace, library, phone=phone(n), customFields=[{"key": "plan", "value": "a"}]
        )
        await api.ok(MOVE, {"id": contact["id"], "statusId": library.statuses[1]}, workspace.token)
        patch = {"firstname": f"N{n}", "customFields": [{"key": "plan", "value": "b"}]}
        await api.ok(UPDATE, {"id": contact["id"], "input": patch}, workspace.token)
    await Event.get_pymongo_collection().update_many({}, {"$unset": {"data.before": ""}})
    # when
    trips = engine.round_trips.count
    data = await api.data(PAGE, {"first": size}, workspace.token)
    trips = engine.round_trips.count - trips
    # then: 1 to authenticate, 1 for the page; for every activity together 1 for the events, 1 for
    # their counts, 1 for the snapshots before the old events, 1 for the agents, 1 for the custom fields
    assert trips == 1 + 1 + 5
    for edge in data["contacts"]["edges"]:
        kinds = [(a["node"]["kind"], a["node"]["changes"]) for a in edge["node"]["activity"]["edges"]]
        assert kinds[0][0] == "UPDATED" and kinds[1][0] == "STATUS_CHANGED"
        assert {"field": "customFields.plan", "from": "a", "to": "b"} in kinds[0][1]

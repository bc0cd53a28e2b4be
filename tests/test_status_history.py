"""Contact.statusHistory and StatusChange nodes, read from the outbox's status-change events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contactgraph.db import Engine
from contactgraph.events import Event, EventType

from .api import CREATE_STATUS, Api, Library, Workspace, make_contact, phone
from .checks import oid

MOVE = """
mutation($contactId: ID!, $statusId: ID!) {
  moveContactStatus(contactId: $contactId, statusId: $statusId) {
    contact { id statusChangedAt } userErrors { field code message }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""

DELETE_STATUS = """
mutation($id: ID!, $to: ID) {
  deleteStatus(id: $id, moveContactsTo: $to) { deletedIds userErrors { field code message } }
}"""

HISTORY = """
query($id: ID!, $first: Int, $after: String) {
  contact(id: $id) {
    statusHistory(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges {
        cursor
        node {
          id
          contact { id }
          fromStatus { id name }
          toStatus { id name }
          changedAt
          changedBy { id name }
        }
      }
    }
  }
}"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    id
    ... on StatusChange { contact { id } fromStatus { id } toStatus { id } changedBy { id } }
  }
}"""

HISTORIES = """
{
  contacts {
    edges { node { statusHistory { edges { node { fromStatus { name } toStatus { name } changedBy { name } } } } } }
  }
}"""


async def _new_status(api: Api, workspace: Workspace, name: str) -> str:
    payload = await api.ok(CREATE_STATUS, {"input": {"name": name, "color": "#654321"}}, workspace.token)
    return payload["status"]["id"]  # type: ignore[no-any-return]


async def _move(api: Api, token: str, contact: dict[str, Any], status: str) -> str:
    payload = await api.ok(MOVE, {"contactId": contact["id"], "statusId": status}, token)
    return payload["contact"]["statusChangedAt"]  # type: ignore[no-any-return]


async def _history(api: Api, token: str, contact: dict[str, Any], **page: Any) -> dict[str, Any]:
    data = await api.data(HISTORY, {"id": contact["id"], **page}, token)
    return data["contact"]["statusHistory"]  # type: ignore[no-any-return]


def _steps(history: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [
        ((e["node"]["fromStatus"] or {}).get("id"), e["node"]["toStatus"]["id"]) for e in history["edges"]
    ]


async def test_history_lists_status_changes_newest_first(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: moved by the admin, then by another agent, then through updateContact
    lost = await _new_status(api, workspace, "Lost")
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"])
    contact = await make_contact(api, workspace, library)
    first_at = await _move(api, workspace.token, contact, library.statuses[1])
    second_at = await _move(api, token, contact, lost)
    await api.ok(UPDATE, {"id": contact["id"], "input": {"statusId": library.statuses[0]}}, token)
    await api.ok(UPDATE, {"id": contact["id"], "input": {"city": "Braga"}}, token)  # not a status change
    # when
    history = await _history(api, workspace.token, contact)
    # then
    assert history["totalCount"] == 3
    assert _steps(history) == [
        (lost, library.statuses[0]),
        (library.statuses[1], lost),
        (library.statuses[0], library.statuses[1]),
    ]
    nodes = [e["node"] for e in history["edges"]]
    assert [n["changedBy"]["id"] for n in nodes] == [agent_id, agent_id, workspace.agent_id]
    assert [n["toStatus"]["name"] for n in nodes] == ["New", "Lost", "Won"]
    assert all(n["contact"]["id"] == contact["id"] for n in nodes)
    assert [n["changedAt"] for n in nodes[1:]] == [second_at, first_at]
    stored = await Event.find({"type": EventType.STATUS_CHANGED.value}).sort("-occurred_at").to_list()
    assert [datetime.fromisoformat(n["changedAt"]) for n in nodes] == [e.occurred_at for e in stored]
    assert [oid(n["id"]) for n in nodes] == [e.id for e in stored]


async def test_history_pages_by_cursor(api: Api, workspace: Workspace, library: Library) -> None:
    # given: five moves back and forth
    contact = await make_contact(api, workspace, library)
    for n in range(5):
        await _move(api, workspace.token, contact, library.statuses[(n + 1) % 2])
    # when
    first = await _history(api, workspace.token, contact, first=2)
    second = await _history(api, workspace.token, contact, first=2, after=first["pageInfo"]["endCursor"])
    third = await _history(api, workspace.token, contact, first=2, after=second["pageInfo"]["endCursor"])
    # then
    everything = await _history(api, workspace.token, contact)
    paged = [e["node"]["id"] for page in (first, second, third) for e in page["edges"]]
    assert paged == [e["node"]["id"] for e in everything["edges"]]
    assert len(set(paged)) == 5
    assert [p["pageInfo"]["hasNextPage"] for p in (first, second, third)] == [True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in (first, second, third)] == [False, True, True]
    assert {p["totalCount"] for p in (first, second, third)} == {5}


async def test_a_contact_never_moved_has_an_empty_history(
    api: Api, workspace: Workspace, library: Library
) -> None:
    contact = await make_contact(api, workspace, library)
    history = await _history(api, workspace.token, contact)
    assert history == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }


async def test_a_deleted_status_leaves_the_changes_into_it_out_and_empties_from_status(
    api: Api, workspace: Workspace, library: Library
) -> None:
    """Statuses are deleted for good: a change into one cannot name its toStatus (non-null),
    so it leaves the history; a change out of one has fromStatus null."""
    # given: New -> Lost -> Won, then Lost is deleted; New -> Lost again, and Lost deleted with its contacts moved
    lost = await _new_status(api, workspace, "Lost")
    contact = await make_contact(api, workspace, library, phone=phone(1))
    await _move(api, workspace.token, contact, lost)
    await _move(api, workspace.token, contact, library.statuses[1])
    await api.ok(DELETE_STATUS, {"id": lost}, workspace.token)
    again = await _new_status(api, workspace, "Lost again")
    other = await make_contact(api, workspace, library, phone=phone(2))
    await _move(api, workspace.token, other, again)
    await api.ok(DELETE_STATUS, {"id": again, "to": library.statuses[0]}, workspace.token)
    # when
    history = await _history(api, workspace.token, contact)
    others = await _history(api, workspace.token, other)
    # then
    assert _steps(history) == [(None, library.statuses[1])]
    assert history["totalCount"] == 1
    assert _steps(others) == [(None, library.statuses[0])]
    assert await Event.find({"type": EventType.STATUS_CHANGED.value}).count() == 4  # the outbox keeps all


async def test_node_resolves_a_status_change_of_a_visible_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, own_token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"], email="own@example.com")
    _, no_view_token = await api.agent_token(workspace, ["CONTACT_EDIT"], email="edit@example.com")
    contact = await make_contact(api, workspace, library)
    await _move(api, workspace.token, contact, library.statuses[1])
    change_id = (await _history(api, workspace.token, contact))["edges"][0]["node"]["id"]
    other = await api.create_workspace("Other")
    # when
    found = await api.data(NODE, {"id": change_id}, workspace.token)
    hidden = [
        (await api.data(NODE, {"id": change_id}, token))["node"]
        for token in (own_token, no_view_token, other.token)
    ]
    await api.ok(UPDATE, {"id": contact["id"], "input": {"assignedAgentId": agent_id}}, workspace.token)
    own = await api.data(NODE, {"id": change_id}, own_token)
    # then
    assert found["node"] == {
        "id": change_id,
        "contact": {"id": contact["id"]},
        "fromStatus": {"id": library.statuses[0]},
        "toStatus": {"id": library.statuses[1]},
        "changedBy": {"id": workspace.agent_id},
    }
    assert hidden == [None, None, None]
    assert own["node"]["id"] == change_id


async def test_histories_of_a_page_of_contacts_resolve_statuses_and_agents_without_extra_trips(
    engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    """The statuses are read once (they feed fromStatus and toStatus), the changes of every
    history in one aggregation, and the agents of every history together."""
    # given
    for n in range(3):
        contact = await make_contact(api, workspace, library, phone=phone(n))
        await _move(api, workspace.token, contact, library.statuses[1])
    # when
    before = engine.round_trips.count
    data = await api.data(HISTORIES, token=workspace.token)
    trips = engine.round_trips.count - before
    # then
    names = [
        (e["node"]["fromStatus"]["name"], e["node"]["toStatus"]["name"], e["node"]["changedBy"]["name"])
        for c in data["contacts"]["edges"]
        for e in c["node"]["statusHistory"]["edges"]
    ]
    assert names == [("New", "Won", "Administrator")] * 3
    assert trips == 1 + 1 + 1 + 1 + 1

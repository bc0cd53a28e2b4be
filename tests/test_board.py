"""The kanban board (contactBoard) and moving cards between its columns (moveContactStatus)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.models import Contact
from contactgraph.resolvers import board as board_resolvers

from .api import CREATE_STATUS, Api, Library, Workspace, make_contact, make_library, phone
from .checks import assert_rejected, oid, phantom, snapshot, top_level_code

MOVE = """
mutation($contactId: ID!, $statusId: ID!, $expected: ID) {
  moveContactStatus(contactId: $contactId, statusId: $statusId, expectedStatusId: $expected) {
    contact { id status { id } statusChangedAt updatedAt }
    userErrors { field code message }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""

BOARD = """
query($filter: ContactFilter, $first: Int, $after: String) {
  contactBoard(filter: $filter) {
    status { id name position }
    count
    contacts(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id firstname status { id } } }
    }
  }
}"""

BOARD_CARDS = """
query($first: Int) {
  contactBoard {
    status { name }
    count
    contacts(first: $first) {
      totalCount
      edges { node { id status { name } source { name } groups { name } assignedAgent { name } } }
    }
  }
}"""

REPOSITION = """
mutation($id: ID!, $position: Int!) {
  updateStatus(id: $id, input: {position: $position}) { userErrors { field code message } }
}"""

CONTACTS_BY_STATUS_CHANGE = """
query($filter: ContactFilter, $after: String) {
  contacts(filter: $filter, sort: {field: STATUS_CHANGED_AT, direction: DESC}, after: $after) {
    edges { node { id } }
  }
}"""


async def _status_changes(contact_id: str) -> list[Event]:
    query = {"contact_id": oid(contact_id), "type": EventType.STATUS_CHANGED.value}
    return await Event.find(query).sort("occurred_at").to_list()


async def _new_status(api: Api, workspace: Workspace, name: str, position: int | None = None) -> str:
    status: dict[str, Any] = {"name": name, "color": "#123456"}
    if position is not None:
        status["position"] = position
    return (await api.ok(CREATE_STATUS, {"input": status}, workspace.token))["status"]["id"]  # type: ignore[no-any-return]


def _ids(column: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in column["contacts"]["edges"]]


# ---------------------------------------------------------------- moveContactStatus


async def test_move_sets_the_status_and_records_one_status_change(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    stored = await Contact.get(oid(contact["id"]))
    assert stored is not None
    # when
    payload = await api.ok(
        MOVE,
        {"contactId": contact["id"], "statusId": library.statuses[1], "expected": library.statuses[0]},
        workspace.token,
    )
    # then
    moved = payload["contact"]
    assert moved["status"]["id"] == library.statuses[1]
    assert moved["statusChangedAt"] == moved["updatedAt"]
    assert datetime.fromisoformat(moved["statusChangedAt"]) > stored.status_changed_at.replace(tzinfo=UTC)
    after = await Contact.get(oid(contact["id"]))
    assert after is not None and after.status_id == oid(library.statuses[1])
    assert after.status_changed_at.replace(tzinfo=UTC) == datetime.fromisoformat(moved["statusChangedAt"])
    [change] = await _status_changes(contact["id"])
    assert (change.from_status_id, change.to_status_id) == (
        oid(library.statuses[0]),
        oid(library.statuses[1]),
    )
    assert change.agent_id == oid(workspace.agent_id)


async def test_move_without_expected_status_moves_whatever_the_current_one(
    api: Api, workspace: Workspace, library: Library
) -> None:
    contact = await make_contact(api, workspace, library)
    payload = await api.ok(
        MOVE, {"contactId": contact["id"], "statusId": library.statuses[1]}, workspace.token
    )
    assert payload["contact"]["status"]["id"] == library.statuses[1]
    assert len(await _status_changes(contact["id"])) == 1


async def test_move_to_the_current_status_changes_and_emits_nothing(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    before = await snapshot()
    # when
    payload = await api.ok(
        MOVE,
        {"contactId": contact["id"], "statusId": library.statuses[0], "expected": library.statuses[0]},
        workspace.token,
    )
    # then
    assert payload["contact"]["status"]["id"] == library.statuses[0]
    assert payload["contact"]["updatedAt"] == contact["updatedAt"]
    assert await snapshot() == before


async def test_move_from_a_status_the_contact_left_is_a_conflict_and_changes_nothing(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: someone else moved the card to the second column first
    third = await _new_status(api, workspace, "Lost")
    contact = await make_contact(api, workspace, library)
    await api.ok(MOVE, {"contactId": contact["id"], "statusId": library.statuses[1]}, workspace.token)
    before = await snapshot()
    # when
    data = await api.data(
        MOVE,
        {"contactId": contact["id"], "statusId": third, "expected": library.statuses[0]},
        workspace.token,
    )
    # then
    assert_rejected(data, "CONFLICT", ["expectedStatusId"])
    assert await snapshot() == before


async def test_move_reports_every_unknown_id_and_changes_nothing(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    other = await api.create_workspace("Other")
    foreign_status = (await make_library(api, other)).statuses[0]
    before = await snapshot()
    # when
    unknown_status = await api.data(
        MOVE, {"contactId": contact["id"], "statusId": foreign_status}, workspace.token
    )
    unknown_contact = await api.data(
        MOVE, {"contactId": phantom(contact["id"]), "statusId": library.statuses[1]}, workspace.token
    )
    both = await api.data(MOVE, {"contactId": library.statuses[0], "statusId": "nonsense"}, workspace.token)
    # then
    assert_rejected(unknown_status, "NOT_FOUND", ["statusId"])
    assert_rejected(unknown_contact, "NOT_FOUND", ["contactId"])
    assert [(e["code"], e["field"]) for e in both["moveContactStatus"]["userErrors"]] == [
        ("NOT_FOUND", ["statusId"]),
        ("NOT_FOUND", ["contactId"]),
    ]
    assert both["moveContactStatus"]["contact"] is None
    assert await snapshot() == before


async def test_move_needs_contact_edit(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    _, viewer = await api.agent_token(workspace, ["CONTACT_VIEW"])
    before = await snapshot()
    # when
    data = await api.data(MOVE, {"contactId": contact["id"], "statusId": library.statuses[1]}, viewer)
    # then
    assert_rejected(data, "FORBIDDEN", None)
    assert await snapshot() == before


async def test_a_view_own_agent_moves_only_contacts_assigned_to_them(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN", "CONTACT_EDIT"])
    own = await make_contact(api, workspace, library, phone=phone(1), assignedAgentId=agent_id)
    others = await make_contact(api, workspace, library, phone=phone(2), assignedAgentId=workspace.agent_id)
    # when
    moved = await api.ok(MOVE, {"contactId": own["id"], "statusId": library.statuses[1]}, token)
    before = await snapshot()
    refused = await api.data(MOVE, {"contactId": others["id"], "statusId": library.statuses[1]}, token)
    # then
    assert moved["contact"]["status"]["id"] == library.statuses[1]
    assert_rejected(refused, "NOT_FOUND", ["contactId"])
    assert await snapshot() == before


async def test_a_move_racing_another_write_is_retried_against_the_fresh_contact(
    api: Api, workspace: Workspace, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: another request changes the city between this move's read and its write
    contact = await make_contact(api, workspace, library)
    real_patch = board_resolvers.contact_writes.patch
    raced: list[bool] = []

    async def racing_patch(*args: Any) -> Any:
        if not raced:
            raced.append(True)
            await api.ok(UPDATE, {"id": contact["id"], "input": {"city": "Porto"}}, workspace.token)
        return await real_patch(*args)

    monkeypatch.setattr(board_resolvers.contact_writes, "patch", racing_patch)
    # when
    payload = await api.ok(
        MOVE,
        {"contactId": contact["id"], "statusId": library.statuses[1], "expected": library.statuses[0]},
        workspace.token,
    )
    # then: both writes stand, and the move is recorded once
    assert payload["contact"]["status"]["id"] == library.statuses[1]
    stored = await Contact.get(oid(contact["id"]))
    assert stored is not None and (stored.city, stored.status_id) == ("Porto", oid(library.statuses[1]))
    assert len(await _status_changes(contact["id"])) == 1


async def test_a_move_racing_another_move_is_a_conflict(
    api: Api, workspace: Workspace, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: someone drops the card on another column between this move's read and its write
    third = await _new_status(api, workspace, "Lost")
    contact = await make_contact(api, workspace, library)
    real_patch = board_resolvers.contact_writes.patch
    raced: list[bool] = []

    async def racing_patch(*args: Any) -> Any:
        if not raced:
            raced.append(True)
            await api.ok(MOVE, {"contactId": contact["id"], "statusId": third}, workspace.token)
        return await real_patch(*args)

    monkeypatch.setattr(board_resolvers.contact_writes, "patch", racing_patch)
    # when
    data = await api.data(
        MOVE,
        {"contactId": contact["id"], "statusId": library.statuses[1], "expected": library.statuses[0]},
        workspace.token,
    )
    # then: the first move stands alone
    assert_rejected(data, "CONFLICT", ["expectedStatusId"])
    stored = await Contact.get(oid(contact["id"]))
    assert stored is not None and stored.status_id == oid(third)
    assert [e.to_status_id for e in await _status_changes(contact["id"])] == [oid(third)]


async def test_update_contact_records_a_status_change_once_like_a_move(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    # when
    await api.ok(
        UPDATE,
        {"id": contact["id"], "input": {"statusId": library.statuses[1], "city": "Faro"}},
        workspace.token,
    )
    await api.ok(UPDATE, {"id": contact["id"], "input": {"statusId": library.statuses[1]}}, workspace.token)
    await api.ok(MOVE, {"contactId": contact["id"], "statusId": library.statuses[0]}, workspace.token)
    # then
    changes = await _status_changes(contact["id"])
    assert [(e.from_status_id, e.to_status_id) for e in changes] == [
        (oid(library.statuses[0]), oid(library.statuses[1])),
        (oid(library.statuses[1]), oid(library.statuses[0])),
    ]
    stored = await Contact.get(oid(contact["id"]))
    assert stored is not None and stored.status_changed_at == stored.updated_at


# ---------------------------------------------------------------- contactBoard


async def test_board_has_a_column_per_status_in_position_order_with_newest_moves_first(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a third status placed first; cards moved in a known order
    for status, position in zip(library.statuses, (3, 5), strict=True):
        await api.ok(REPOSITION, {"id": status, "position": position}, workspace.token)
    first_column = await _new_status(api, workspace, "Inbox", position=1)
    cards = [await make_contact(api, workspace, library, phone=phone(n), firstname=f"C{n}") for n in range(4)]
    for card in (cards[2], cards[0]):
        await api.ok(MOVE, {"contactId": card["id"], "statusId": library.statuses[1]}, workspace.token)
    # when
    columns = (await api.data(BOARD, {}, workspace.token))["contactBoard"]
    # then
    assert [c["status"]["id"] for c in columns] == [first_column, library.statuses[0], library.statuses[1]]
    assert [c["count"] for c in columns] == [0, 2, 2]
    assert [c["contacts"]["totalCount"] for c in columns] == [0, 2, 2]
    assert _ids(columns[1]) == [cards[3]["id"], cards[1]["id"]]  # created last, first
    assert _ids(columns[2]) == [cards[0]["id"], cards[2]["id"]]  # moved last, first
    assert all(
        edge["node"]["status"]["id"] == column["status"]["id"]
        for column in columns
        for edge in column["contacts"]["edges"]
    )
    assert columns[0]["contacts"]["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


async def test_board_columns_page_by_cursor_ties_broken_by_id(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: five cards whose status changed at the very same moment
    cards = [await make_contact(api, workspace, library, phone=phone(n)) for n in range(5)]
    same_moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    await Contact.get_pymongo_collection().update_many({}, {"$set": {"status_changed_at": same_moment}})
    expected = sorted((c["id"] for c in cards), key=lambda gid: oid(gid), reverse=True)
    # when
    first = (await api.data(BOARD, {"first": 2}, workspace.token))["contactBoard"][0]["contacts"]
    after = first["pageInfo"]["endCursor"]
    rest = (await api.data(BOARD, {"first": 10, "after": after}, workspace.token))["contactBoard"][0][
        "contacts"
    ]
    # then
    assert [e["node"]["id"] for e in first["edges"] + rest["edges"]] == expected
    assert (first["pageInfo"]["hasNextPage"], first["pageInfo"]["hasPreviousPage"]) == (True, False)
    assert (rest["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasPreviousPage"]) == (False, True)
    assert first["totalCount"] == rest["totalCount"] == 5
    # a column's cursor pages the list sorted the same way, too
    listed = await api.data(
        CONTACTS_BY_STATUS_CHANGE,
        {"filter": {"statusIds": [library.statuses[0]]}, "after": after},
        workspace.token,
    )
    assert [e["node"]["id"] for e in listed["contacts"]["edges"]] == expected[2:]


async def test_board_applies_the_contacts_filter(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    vip = [
        await make_contact(
            api, workspace, library, phone=phone(n), groupIds=[library.groups[0]], statusId=status
        )
        for n, status in enumerate([library.statuses[0], library.statuses[1], library.statuses[1]])
    ]
    await make_contact(api, workspace, library, phone=phone(10))
    await make_contact(api, workspace, library, phone=phone(11), statusId=library.statuses[1])
    # when
    columns = (await api.data(BOARD, {"filter": {"groupIds": [library.groups[0]]}}, workspace.token))[
        "contactBoard"
    ]
    # then
    assert [c["count"] for c in columns] == [1, 2]
    assert _ids(columns[0]) == [vip[0]["id"]]
    assert _ids(columns[1]) == [vip[2]["id"], vip[1]["id"]]


async def test_a_view_own_agent_sees_only_assigned_cards(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    own = await make_contact(api, workspace, library, phone=phone(1), assignedAgentId=agent_id)
    await make_contact(api, workspace, library, phone=phone(2))
    await make_contact(api, workspace, library, phone=phone(3), assignedAgentId=workspace.agent_id)
    # when
    columns = (await api.data(BOARD, {}, token))["contactBoard"]
    # then
    assert [c["count"] for c in columns] == [1, 0]
    assert _ids(columns[0]) == [own["id"]]


async def test_board_needs_a_view_permission(api: Api, workspace: Workspace, library: Library) -> None:
    _, token = await api.agent_token(workspace, ["CONTACT_EDIT"])
    assert top_level_code(await api.gql(BOARD, {}, token)) == "FORBIDDEN"


async def test_another_workspace_board_is_its_own(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    await make_contact(api, workspace, library)
    other = await api.create_workspace("Other")
    # when
    columns = (await api.data(BOARD, {}, other.token))["contactBoard"]
    # then
    assert columns == []


@pytest.mark.parametrize(
    ("variables", "code"),
    [({"first": 501}, "LIMIT_EXCEEDED"), ({"first": -1}, "INVALID"), ({"after": "bogus"}, "INVALID")],
)
async def test_bad_column_page_arguments_are_top_level_errors(
    api: Api, workspace: Workspace, library: Library, variables: dict[str, Any], code: str
) -> None:
    await make_contact(api, workspace, library)
    body = await api.gql(BOARD, variables, workspace.token)
    assert {error["extensions"]["code"] for error in body["errors"]} == {code}


async def _round_trips(engine: Engine, api: Api, variables: dict[str, Any], token: str) -> int:
    before = engine.round_trips.count
    await api.data(BOARD_CARDS, variables, token)
    return engine.round_trips.count - before


@pytest.mark.parametrize("columns", [2, 6])
async def test_board_round_trips_grow_neither_with_cards_nor_with_columns(
    engine: Engine, api: Api, workspace: Workspace, columns: int
) -> None:
    """The board costs the same number of round trips with 2 columns as with 6.

    1 to authenticate, 1 for the statuses (which also serve the cards' status), 1
    aggregation counting every column ($group by status; totalCount shares it), 1
    aggregation for every column's page (a $unionWith branch each), then 1 per loader
    of the cards' fields (source, groups, assigned agent) batched across every column.
    """
    # given: several cards in every column
    library = await make_library(api, workspace)
    statuses = library.statuses + [await _new_status(api, workspace, f"S{n}") for n in range(columns - 2)]
    n = 0
    for status in statuses:
        for card in range(3):
            await make_contact(
                api,
                workspace,
                library,
                phone=phone(n),
                statusId=status,
                sourceId=library.sources[card % 2],
                groupIds=library.groups[: card % 3],
                assignedAgentId=workspace.agent_id if card else None,
            )
            n += 1
    # when
    trips = await _round_trips(engine, api, {"first": 2}, workspace.token)
    board = (await api.data(BOARD_CARDS, {"first": 2}, workspace.token))["contactBoard"]
    # then
    assert len(board) == columns
    assert all(
        c["count"] == c["contacts"]["totalCount"] == 3 and len(c["contacts"]["edges"]) == 2 for c in board
    )
    assert trips == 1 + 1 + 1 + 1 + 3

"""The customer journey: recordInteraction, closeInteraction, Contact.timeline, and deletes they block."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contactgraph.models import Contact
from contactgraph.models.interaction import Interaction
from contactgraph.resolvers import interactions

from .api import Api, Library, Workspace, make_contact, phone
from .checks import assert_rejected, oid, phantom, snapshot, top_level_code

INTERACTION = "id channel direction summary open occurredAt closedAt contact { id phone }"

RECORD = f"""
mutation($input: InteractionInput!) {{
  recordInteraction(input: $input) {{ interaction {{ {INTERACTION} }} userErrors {{ field code message }} }}
}}"""

CLOSE = f"""
mutation($id: ID!) {{
  closeInteraction(id: $id) {{ interaction {{ {INTERACTION} }} userErrors {{ field code message }} }}
}}"""

TIMELINE = """
query($id: ID!, $channels: [String!], $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  contact(id: $id) {
    timeline(channels: $channels, from: $from, to: $to, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { id channel occurredAt contact { id } } }
    }
  }
}"""

DELETE = """
mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { field code message } } }"""

NODE = f"query($id: ID!) {{ node(id: $id) {{ id ... on Interaction {{ {INTERACTION} }} }} }}"

SETTINGS = """
mutation($input: WorkspaceSettingsInput!) { updateWorkspaceSettings(input: $input) { userErrors { code } } }"""

NOW = datetime(2025, 6, 11, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The journey's clock reads 11 June 2025."""
    monkeypatch.setattr(interactions, "now", lambda: NOW)
    return NOW


@pytest.fixture
async def contact(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    return await make_contact(api, workspace, library, phone=phone(1))


async def record(api: Api, token: str, **input: Any) -> dict[str, Any]:
    return (await api.ok(RECORD, {"input": input}, token))["interaction"]  # type: ignore[no-any-return]


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


async def test_an_interaction_is_recorded_for_a_contact(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    # when
    closed = await record(
        api,
        workspace.token,
        contactId=contact["id"],
        channel=" WhatsApp ",
        direction="Inbound",
        summary="asked for a quote",
    )
    opened = await record(
        api, workspace.token, contactId=contact["id"], channel="voice", direction="outbound", open=True
    )
    # then
    assert (closed["channel"], closed["direction"], closed["summary"]) == (
        "whatsapp",
        "inbound",
        "asked for a quote",
    )
    assert (closed["open"], closed["occurredAt"], closed["closedAt"]) == (False, iso(NOW), iso(NOW))
    assert (opened["open"], opened["closedAt"]) == (True, None)
    assert closed["contact"] == {"id": contact["id"], "phone": phone(1)}
    stored = await Interaction.get(oid(opened["id"]))
    assert stored is not None
    assert (stored.workspace_id, stored.contact_id, stored.open) == (
        oid(workspace.id),
        oid(contact["id"]),
        True,
    )
    assert stored.agent_id == oid(workspace.agent_id)


async def test_by_phone_an_interaction_finds_its_contact_or_creates_one_like_an_upsert(
    api: Api, workspace: Workspace, library: Library, contact: dict[str, Any]
) -> None:
    # given
    settings = {"inboundStatusId": library.statuses[1], "inboundSourceId": library.sources[1]}
    await api.ok(SETTINGS, {"input": settings}, workspace.token)
    # when
    known = await record(
        api, workspace.token, phone="1 415 200 0001", channel="whatsapp", direction="inbound"
    )
    new = await record(api, workspace.token, phone=phone(2), channel="whatsapp", direction="inbound")
    # then
    assert known["contact"]["id"] == contact["id"]
    assert new["contact"]["phone"] == phone(2)
    created = await Contact.get(oid(new["contact"]["id"]))
    assert created is not None
    assert (created.status_id, created.source_id) == (oid(library.statuses[1]), oid(library.sources[1]))
    assert await Interaction.find({"contact_id": created.id}).count() == 1


async def test_bad_input_is_reported_whole_and_writes_nothing(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        RECORD,
        {"input": {"channel": "Whats App!", "direction": "sideways", "summary": "x" * 2001}},
        workspace.token,
    )
    both = await api.data(
        RECORD,
        {"input": {"contactId": contact["id"], "phone": phone(1), "channel": "sms", "direction": "inbound"}},
        workspace.token,
    )
    unknown = await api.data(
        RECORD,
        {"input": {"contactId": phantom(contact["id"]), "channel": "sms", "direction": "inbound"}},
        workspace.token,
    )
    # then
    errors = sorted((e["code"], e["field"]) for e in data["recordInteraction"]["userErrors"])
    assert errors == [
        ("INVALID", ["input", "channel"]),
        ("INVALID", ["input", "contactId"]),
        ("INVALID", ["input", "direction"]),
        ("INVALID", ["input", "summary"]),
    ]
    assert_rejected(both, "INVALID", ["input", "contactId"])
    assert_rejected(unknown, "NOT_FOUND", ["input", "contactId"])
    assert await snapshot() == before


async def test_closing_an_interaction_stamps_it_once(
    api: Api, workspace: Workspace, contact: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    opened = await record(
        api, workspace.token, contactId=contact["id"], channel="chat", direction="inbound", open=True
    )
    later = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)
    monkeypatch.setattr(interactions, "now", lambda: later)
    # when
    closed = (await api.ok(CLOSE, {"id": opened["id"]}, workspace.token))["interaction"]
    again = (await api.ok(CLOSE, {"id": opened["id"]}, workspace.token))["interaction"]
    # then
    assert (closed["open"], closed["closedAt"], closed["occurredAt"]) == (False, iso(later), iso(NOW))
    assert again == closed
    stored = await Interaction.get(oid(opened["id"]))
    assert stored is not None and (stored.open, stored.closed_at) == (False, later)


async def test_an_unknown_or_foreign_interaction_cannot_be_closed(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    opened = await record(
        api, workspace.token, contactId=contact["id"], channel="chat", direction="inbound", open=True
    )
    other = await api.create_workspace("Other")
    assert_rejected(await api.data(CLOSE, {"id": opened["id"]}, other.token), "NOT_FOUND", ["id"])
    assert_rejected(
        await api.data(CLOSE, {"id": phantom(opened["id"])}, workspace.token), "NOT_FOUND", ["id"]
    )
    assert_rejected(await api.data(CLOSE, {"id": contact["id"]}, workspace.token), "NOT_FOUND", ["id"])
    stored = await Interaction.get(oid(opened["id"]))
    assert stored is not None and stored.open


@pytest.mark.parametrize(
    ("now", "inside", "outside"),
    [
        (
            datetime(2025, 6, 11, 9, 30, tzinfo=UTC),
            ["2025-06-30T23:59:59.999+00:00", "2025-03-01T00:00:00.000+00:00"],
            ["2025-07-01T00:00:00.000+00:00", "2025-02-28T23:59:59.999+00:00"],
        ),
        (
            datetime(2026, 1, 15, tzinfo=UTC),
            ["2026-01-31T23:59:59.999+00:00", "2025-10-01T00:00:00.000+00:00"],
            ["2026-02-01T00:00:00.000+00:00", "2025-09-30T23:59:59.999+00:00"],
        ),
    ],
)
async def test_the_timeline_covers_three_months_back_to_the_end_of_this_one_by_default(
    api: Api,
    workspace: Workspace,
    contact: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
    inside: list[str],
    outside: list[str],
) -> None:
    # given
    monkeypatch.setattr(interactions, "now", lambda: now)
    for moment in [*inside, *outside]:
        await record(
            api,
            workspace.token,
            contactId=contact["id"],
            channel="sms",
            direction="inbound",
            occurredAt=moment,
        )
    # when
    data = await api.data(TIMELINE, {"id": contact["id"]}, workspace.token)
    # then
    timeline = data["contact"]["timeline"]
    assert [e["node"]["occurredAt"] for e in timeline["edges"]] == inside
    assert timeline["totalCount"] == 2
    assert {e["node"]["contact"]["id"] for e in timeline["edges"]} == {contact["id"]}


async def test_the_timeline_pages_newest_first_within_the_window_and_channels_given(
    api: Api, workspace: Workspace, library: Library, contact: dict[str, Any]
) -> None:
    # given: five interactions, two of them at the same moment, and one of another contact
    other = await make_contact(api, workspace, library, phone=phone(2))
    moments = ["2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z", "2024-01-02T10:00:00Z", "2024-01-03T10:00:00Z"]
    ids = [
        (
            await record(
                api,
                workspace.token,
                contactId=contact["id"],
                channel="sms",
                direction="inbound",
                occurredAt=m,
            )
        )["id"]
        for m in moments
    ]
    await record(
        api,
        workspace.token,
        contactId=contact["id"],
        channel="voice",
        direction="inbound",
        occurredAt=moments[1],
    )
    await record(
        api, workspace.token, contactId=other["id"], channel="sms", direction="inbound", occurredAt=moments[1]
    )
    window = {
        "id": contact["id"],
        "channels": ["SMS"],
        "from": "2024-01-01T00:00:00Z",
        "to": "2024-01-03T10:00:00Z",
    }
    # when
    first = (await api.data(TIMELINE, {**window, "first": 2}, workspace.token))["contact"]["timeline"]
    cursor = first["pageInfo"]["endCursor"]
    rest = (await api.data(TIMELINE, {**window, "first": 2, "after": cursor}, workspace.token))["contact"][
        "timeline"
    ]
    # then
    tied = sorted(ids[1:3], key=lambda gid: oid(gid), reverse=True)
    assert [e["node"]["id"] for e in first["edges"]] == [ids[3], tied[0]]
    assert [e["node"]["id"] for e in rest["edges"]] == [tied[1], ids[0]]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (
        4,
        True,
        False,
    )
    assert rest["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"from": "2024-02-01T00:00:00Z", "to": "2024-01-01T00:00:00Z"}, ["from"]),
        ({"channels": ["ok", "not ok"]}, ["channels", "1"]),
        ({"after": "nope"}, ["after"]),
        ({"first": 501}, ["first"]),
    ],
)
async def test_a_bad_timeline_argument_is_a_top_level_error(
    api: Api, workspace: Workspace, contact: dict[str, Any], variables: dict[str, Any], field: list[str]
) -> None:
    body = await api.gql(TIMELINE, {"id": contact["id"], **variables}, workspace.token)
    assert top_level_code(body) in {"INVALID", "LIMIT_EXCEEDED"}
    assert body["errors"][0]["extensions"]["field"] == field


async def test_a_contact_with_an_open_interaction_is_blocked_from_deletion_the_others_are_deleted(
    api: Api, workspace: Workspace, library: Library, contact: dict[str, Any]
) -> None:
    # given
    others = [await make_contact(api, workspace, library, phone=phone(n)) for n in (2, 3)]
    opened = await record(
        api, workspace.token, contactId=contact["id"], channel="chat", direction="inbound", open=True
    )
    await record(api, workspace.token, contactId=others[0]["id"], channel="chat", direction="inbound")
    # when
    payload = (
        await api.data(DELETE, {"ids": [others[0]["id"], contact["id"], others[1]["id"]]}, workspace.token)
    )["deleteContacts"]
    # then
    assert payload["deletedIds"] == [others[0]["id"], others[1]["id"]]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("BLOCKED", ["ids", "1"])]
    assert "open interaction" in payload["userErrors"][0]["message"]
    assert [c.id for c in await Contact.find_all().to_list()] == [oid(contact["id"])]
    # and once closed it may go
    await api.ok(CLOSE, {"id": opened["id"]}, workspace.token)
    payload = (await api.data(DELETE, {"ids": [contact["id"]]}, workspace.token))["deleteContacts"]
    assert (payload["deletedIds"], payload["userErrors"]) == ([contact["id"]], [])


async def test_an_interaction_is_a_node_for_whoever_may_see_its_contact(
    api: Api, workspace: Workspace, library: Library, contact: dict[str, Any]
) -> None:
    # given
    mine_id, own_token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    mine = await make_contact(api, workspace, library, phone=phone(2), assignedAgentId=mine_id)
    theirs = await record(api, workspace.token, contactId=contact["id"], channel="sms", direction="inbound")
    own = await record(api, workspace.token, contactId=mine["id"], channel="sms", direction="inbound")
    other = await api.create_workspace("Other")
    # when
    seen = [
        (await api.data(NODE, {"id": i}, token))["node"]
        for i, token in ((theirs["id"], workspace.token), (theirs["id"], own_token), (own["id"], own_token))
    ]
    foreign = (await api.data(NODE, {"id": theirs["id"]}, other.token))["node"]
    # then
    assert seen[0] == theirs
    assert seen[1] is None
    assert seen[2] == own
    assert foreign is None


async def test_recording_needs_contact_edit_and_creating_by_phone_contact_create_too(
    api: Api, workspace: Workspace, library: Library, contact: dict[str, Any]
) -> None:
    # given
    settings = {"inboundStatusId": library.statuses[0], "inboundSourceId": library.sources[0]}
    await api.ok(SETTINGS, {"input": settings}, workspace.token)
    _, creator = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_CREATE"], email="c@example.com")
    _, editor = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"], email="e@example.com")
    by_id = {"contactId": contact["id"], "channel": "sms", "direction": "inbound"}
    by_new_phone = {"phone": phone(5), "channel": "sms", "direction": "inbound"}
    before = await snapshot()
    # when
    refused = [await api.data(RECORD, {"input": i}, creator) for i in (by_id, by_new_phone)]
    refused.append(await api.data(RECORD, {"input": by_new_phone}, editor))
    unchanged = await snapshot()
    accepted = await api.ok(RECORD, {"input": by_id}, editor)
    # then
    for data in refused:
        assert_rejected(data, "FORBIDDEN", None)
    assert unchanged == before
    assert accepted["interaction"]["contact"]["id"] == contact["id"]

"""Segments: saved filters, used wherever a ContactFilter is (list, board, stats, export) and by campaigns."""

from __future__ import annotations

import json
from typing import Any

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import assert_rejected, snapshot
from .csv_api import read_csv

SEGMENT_FIELDS = "id name filter contactCount createdAt filterError"

CREATE_SEGMENT = f"""
mutation($input: SegmentInput!) {{
  createSegment(input: $input) {{ segment {{ {SEGMENT_FIELDS} }} userErrors {{ field code message }} }}
}}"""

UPDATE_SEGMENT = f"""
mutation($id: ID!, $input: SegmentInput!) {{
  updateSegment(id: $id, input: $input) {{ segment {{ {SEGMENT_FIELDS} }} userErrors {{ field code message }} }}
}}"""

DELETE_SEGMENT = """
mutation($id: ID!) { deleteSegment(id: $id) { deletedIds userErrors { field code message } } }"""

SEGMENTS = f"{{ segments {{ {SEGMENT_FIELDS} }} }}"

CONTACTS = """
query($filter: ContactFilter) { contacts(filter: $filter) { totalCount edges { node { firstname } } } }"""

BOARD = """
query($filter: ContactFilter) { contactBoard(filter: $filter) { status { name } count } }"""

STATS = """
query($filter: ContactFilter) { contactStats(groupBy: TYPE, filter: $filter) { key count } }"""

AUDIENCE = """
query($groupIds: [ID!], $segmentId: ID, $filter: ContactFilter) {
  campaignAudience(groupIds: $groupIds, segmentId: $segmentId, filter: $filter) {
    totalCount edges { node { firstname } }
  }
}"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { id } userErrors { code } } }"""

DELETE_FIELD = """
mutation($id: ID!) { deleteCustomField(id: $id) { customField { id } userErrors { code } } }"""


async def _segment(api: Api, workspace: Workspace, name: str, filter: dict[str, Any]) -> dict[str, Any]:
    payload = await api.ok(CREATE_SEGMENT, {"input": {"name": name, "filter": filter}}, workspace.token)
    return payload["segment"]  # type: ignore[no-any-return]


async def _team(api: Api, workspace: Workspace, library: Library) -> dict[str, dict[str, Any]]:
    """Ann and Bea, leads in Won; Cy, a customer in Won; Dee, a lead in New."""
    people = {
        "Ann": {"statusId": library.statuses[1], "type": "LEAD"},
        "Bea": {"statusId": library.statuses[1], "type": "LEAD", "groupIds": [library.groups[0]]},
        "Cy": {"statusId": library.statuses[1], "type": "CUSTOMER"},
        "Dee": {"statusId": library.statuses[0], "type": "LEAD", "groupIds": [library.groups[0]]},
    }
    return {
        name: await make_contact(api, workspace, library, firstname=name, phone=phone(n), **values)
        for n, (name, values) in enumerate(people.items())
    }


def _names(data: dict[str, Any], field: str) -> list[str]:
    return sorted(edge["node"]["firstname"] for edge in data[field]["edges"])


async def test_a_segment_keeps_its_filter_as_given_and_counts_what_the_caller_may_see(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: Ann assigned to an agent who sees only its own contacts
    contacts = await _team(api, workspace, library)
    agent_id, own_token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    await api.ok(
        "mutation($ids: [ID!]!, $a: ID) { assignContacts(contactIds: $ids, agentId: $a) { count userErrors { code } } }",
        {"ids": [contacts["Ann"]["id"]], "a": agent_id},
        workspace.token,
    )
    filter = {"statusIds": [library.statuses[1]], "types": ["LEAD"], "createdAfter": "2020-01-01T00:00:00Z"}
    # when
    segment = await _segment(api, workspace, "Hot leads", filter)
    # then: the filter reads back as it was given; the count is of what each caller sees
    assert segment["name"] == "Hot leads"
    assert segment["filter"] == {
        "statusIds": [library.statuses[1]],
        "types": ["LEAD"],
        "createdAfter": "2020-01-01T00:00:00.000+00:00",
    }
    assert segment["contactCount"] == 2 and segment["filterError"] is None
    [seen] = (await api.data(SEGMENTS, token=own_token))["segments"]
    assert (seen["id"], seen["contactCount"]) == (segment["id"], 1)
    node = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Segment { name } } }", {"id": segment["id"]}, own_token
    )
    assert node["node"] == {"name": "Hot leads"}


async def test_a_segment_selects_in_the_list_the_board_the_stats_and_the_export(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await _team(api, workspace, library)
    segment = await _segment(api, workspace, "In Won", {"statusIds": [library.statuses[1]]})
    only_leads = {"segmentId": segment["id"], "types": ["LEAD"]}
    # when
    listed = await api.data(CONTACTS, {"filter": only_leads}, workspace.token)
    board = await api.data(BOARD, {"filter": {"segmentId": segment["id"]}}, workspace.token)
    stats = await api.data(STATS, {"filter": {"segmentId": segment["id"]}}, workspace.token)
    export = await api.client.get(
        "/export/contacts.csv",
        params={"filter": json.dumps(only_leads)},
        headers={"Authorization": f"Bearer {workspace.token}"},
    )
    # then: the segment's conditions and the filter's own all hold
    assert _names(listed, "contacts") == ["Ann", "Bea"]
    assert [(c["status"]["name"], c["count"]) for c in board["contactBoard"]] == [("New", 0), ("Won", 3)]
    assert {(b["key"], b["count"]) for b in stats["contactStats"]} == {("LEAD", 2), ("CUSTOMER", 1)}
    assert export.status_code == 200, export.text
    header, *rows = read_csv(export.content)
    assert sorted(row[header.index("firstname")] for row in rows) == ["Ann", "Bea"]


async def test_campaign_audience_takes_a_segment_a_filter_and_groups_and_never_opted_out_contacts(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: the leads segment; Ann opts out
    contacts = await _team(api, workspace, library)
    leads = await _segment(api, workspace, "Leads", {"types": ["LEAD"]})
    await api.ok(OPT_OUT, {"id": contacts["Ann"]["id"]}, workspace.token)
    # when
    by_segment = await api.data(AUDIENCE, {"segmentId": leads["id"]}, workspace.token)
    narrowed = await api.data(
        AUDIENCE, {"segmentId": leads["id"], "filter": {"statusIds": [library.statuses[1]]}}, workspace.token
    )
    with_groups = await api.data(
        AUDIENCE, {"segmentId": leads["id"], "groupIds": [library.groups[0]]}, workspace.token
    )
    opted_out_asked = await api.data(AUDIENCE, {"filter": {"optedOut": True}}, workspace.token)
    # then
    assert _names(by_segment, "campaignAudience") == ["Bea", "Dee"]
    assert _names(narrowed, "campaignAudience") == ["Bea"]
    assert _names(with_groups, "campaignAudience") == ["Bea", "Dee"]
    assert opted_out_asked["campaignAudience"]["totalCount"] == 0


async def test_a_segment_filter_is_checked_when_saved_and_cannot_name_another_segment(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    leads = await _segment(api, workspace, "Leads", {"types": ["LEAD"]})
    before = await snapshot()
    # when
    unknown_key = await api.data(
        CREATE_SEGMENT,
        {"input": {"name": "Plan", "filter": {"customFields": [{"key": "plan", "eq": "gold"}]}}},
        workspace.token,
    )
    nested = await api.data(
        CREATE_SEGMENT, {"input": {"name": "Nested", "filter": {"segmentId": leads["id"]}}}, workspace.token
    )
    taken = await api.data(CREATE_SEGMENT, {"input": {"name": " leads ", "filter": {}}}, workspace.token)
    # then: each refused where its input is at fault, nothing written
    assert_rejected(unknown_key, "INVALID", ["input", "filter", "customFields", "0", "key"])
    assert_rejected(nested, "INVALID", ["input", "filter", "segmentId"])
    assert_rejected(taken, "NAME_TAKEN", ["input", "name"])
    assert await snapshot() == before


async def test_a_segment_changed_or_deleted_changes_what_uses_it(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await _team(api, workspace, library)
    segment = await _segment(api, workspace, "Won", {"statusIds": [library.statuses[1]]})
    # when: it is narrowed to customers
    updated = await api.ok(
        UPDATE_SEGMENT,
        {"id": segment["id"], "input": {"name": "Won customers", "filter": {"types": ["CUSTOMER"]}}},
        workspace.token,
    )
    listed = await api.data(CONTACTS, {"filter": {"segmentId": segment["id"]}}, workspace.token)
    # then
    assert (updated["segment"]["name"], updated["segment"]["contactCount"]) == ("Won customers", 1)
    assert _names(listed, "contacts") == ["Cy"]
    # when: it is deleted
    deleted = await api.ok(DELETE_SEGMENT, {"id": segment["id"]}, workspace.token)
    body = await api.gql(CONTACTS, {"filter": {"segmentId": segment["id"]}}, workspace.token)
    # then: a filter naming it names nothing that exists
    assert deleted["deletedIds"] == [segment["id"]]
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("NOT_FOUND", ["filter", "segmentId"])
    ]


async def test_a_segment_whose_custom_field_was_deleted_says_why_and_counts_nothing(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    field = await make_custom_field(api, workspace, "plan", "TEXT")
    segment = await _segment(api, workspace, "Gold", {"customFields": [{"key": "plan", "eq": "gold"}]})
    await api.ok(DELETE_FIELD, {"id": field["id"]}, workspace.token)
    # when
    [listed] = (await api.data(SEGMENTS, token=workspace.token))["segments"]
    body = await api.gql(AUDIENCE, {"segmentId": segment["id"]}, workspace.token)
    # then: the list still answers; using the segment is refused, naming it
    assert listed["contactCount"] == 0
    assert "plan" in listed["filterError"]
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INVALID", "field": ["segmentId"]}
    assert "Segment 'Gold' no longer applies" in error["message"]


async def test_managing_segments_needs_library_manage(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: an agent who may see and edit every contact, but not manage the library
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"])
    # when
    data = await api.data(CREATE_SEGMENT, {"input": {"name": "Mine", "filter": {}}}, token)
    listed = await api.data(SEGMENTS, token=token)
    # then: it reads segments, and may not define one
    assert_rejected(data, "FORBIDDEN", None)
    assert listed["segments"] == []

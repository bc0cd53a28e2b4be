"""GET /export/groups.csv and the selections of /export/custom-fields.csv: the library as Excel-safe CSV."""

from __future__ import annotations

from typing import Any

from contactgraph.db import Engine

from .api import CREATE_GROUP, Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import phantom
from .csv_api import read_csv

ASSIGN = """
mutation($groupId: ID!, $agentIds: [ID!]!) {
  assignAgentsToGroup(groupId: $groupId, agentIds: $agentIds) { group { id } userErrors { code } }
}"""

CREATE_DISPOSITION = """
mutation($input: DispositionInput!) {
  createDisposition(input: $input) { disposition { id } userErrors { code } }
}"""

DELETE_FIELD = """
mutation($id: ID!) { deleteCustomField(id: $id) { customField { deletedAt } userErrors { code } } }"""

ASSIGN_CONTACTS = """
mutation($ids: [ID!]!, $agentId: ID) { assignContacts(contactIds: $ids, agentId: $agentId) { count userErrors { code } } }"""


async def _get(api: Api, path: str, token: str, **params: Any) -> Any:
    return await api.client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def _by_column(data: bytes) -> list[dict[str, str]]:
    header, *rows = read_csv(data)
    return [dict(zip(header, row, strict=True)) for row in rows]


async def _vip_list(api: Api, workspace: Workspace, library: Library) -> None:
    """VIP: two members, two agents, a live field and a deleted one, and two dispositions."""
    for n in range(2):
        await make_contact(api, workspace, library, phone=phone(n), groupIds=[library.groups[0]])
    agents = [
        (await api.agent_token(workspace, [], email=email))[0]
        for email in ("ann@example.com", "bo@example.com")
    ]
    await api.ok(ASSIGN, {"groupId": library.groups[0], "agentIds": agents}, workspace.token)
    await make_custom_field(api, workspace, "seat", "TEXT", groupId=library.groups[0])
    gone = await make_custom_field(api, workspace, "old_seat", "TEXT", groupId=library.groups[0])
    await api.ok(DELETE_FIELD, {"id": gone["id"]}, workspace.token)
    for name in ("Sold", "Call back"):
        await api.ok(
            CREATE_DISPOSITION, {"input": {"groupId": library.groups[0], "name": name}}, workspace.token
        )


async def test_the_lists_export_with_members_agents_fields_and_dispositions(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await _vip_list(api, workspace, library)
    formula = await api.ok(
        CREATE_GROUP, {"input": {"name": "=cmd|' /C calc'!A0", "description": "+1 idea"}}, workspace.token
    )
    # when
    response = await _get(api, "/export/groups.csv", workspace.token)
    # then: by name, with the byte-order mark, and formulas made inert
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="groups.csv"' in response.headers["content-disposition"]
    assert read_csv(response.content)[0] == [
        "id",
        "name",
        "description",
        "contactCount",
        "agents",
        "customFields",
        "dispositions",
    ]
    assert _by_column(response.content) == [
        {
            "id": formula["group"]["id"],
            "name": "'=cmd|' /C calc'!A0",
            "description": "'+1 idea",
            "contactCount": "0",
            "agents": "",
            "customFields": "",
            "dispositions": "",
        },
        {
            "id": library.groups[1],
            "name": "Newsletter",
            "description": "",
            "contactCount": "0",
            "agents": "",
            "customFields": "",
            "dispositions": "",
        },
        {
            "id": library.groups[0],
            "name": "VIP",
            "description": "",
            "contactCount": "2",
            "agents": "ann@example.com; bo@example.com",
            "customFields": "seat",
            "dispositions": "Sold; Call back",
        },
    ]


async def test_ids_select_lists_and_counts_are_of_the_members_the_caller_may_see(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: an exporter who sees only the contacts assigned to it, one of VIP's two members
    await _vip_list(api, workspace, library)
    own_id, own = await api.agent_token(
        workspace, ["CONTACT_VIEW_OWN", "CONTACT_EXPORT"], email="own@example.com"
    )
    member = await make_contact(api, workspace, library, phone=phone(9), groupIds=[library.groups[0]])
    await api.ok(ASSIGN_CONTACTS, {"ids": [member["id"]], "agentId": own_id}, workspace.token)
    # when
    response = await _get(
        api, "/export/groups.csv", own, ids=f"{library.groups[0]},{phantom(library.groups[1])}"
    )
    # then
    assert [(row["name"], row["contactCount"]) for row in _by_column(response.content)] == [("VIP", "1")]


async def test_the_lists_export_costs_the_same_round_trips_however_many_lists(
    engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await _vip_list(api, workspace, library)
    mark = engine.round_trips.count
    await _get(api, "/export/groups.csv", workspace.token)
    few = engine.round_trips.count - mark
    for n in range(5):
        await api.ok(CREATE_GROUP, {"input": {"name": f"List {n}"}}, workspace.token)
    # when
    mark = engine.round_trips.count
    await _get(api, "/export/groups.csv", workspace.token)
    # then: 1 to authenticate, 1 for the lists, 1 each for their fields, dispositions, agents and counts
    assert engine.round_trips.count - mark == few == 1 + 1 + 4


async def test_custom_fields_export_selected_fields_and_deleted_ones_on_request(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "plan", "TEXT", clickToAction=True)
    budget = await make_custom_field(api, workspace, "budget", "NUMBER")
    seat = await make_custom_field(api, workspace, "seat", "TEXT", groupId=library.groups[0])
    gone = await make_custom_field(api, workspace, "legacy", "TEXT")
    deleted_at = (await api.ok(DELETE_FIELD, {"id": gone["id"]}, workspace.token))["customField"]["deletedAt"]
    # when
    live = await _get(api, "/export/custom-fields.csv", workspace.token)
    every = await _get(api, "/export/custom-fields.csv", workspace.token, includeDeleted="true")
    chosen = await _get(
        api,
        "/export/custom-fields.csv",
        workspace.token,
        ids=f"{seat['id']},{gone['id']}",
        includeDeleted="yes",
    )
    only_live_chosen = await _get(
        api, "/export/custom-fields.csv", workspace.token, ids=f"{budget['id']},{gone['id']}"
    )
    # then
    rows = _by_column(live.content)
    assert [(r["key"], r["group"], r["clickToAction"]) for r in rows] == [
        ("plan", "", "true"),
        ("budget", "", "false"),
        ("seat", "VIP", "false"),
    ]
    assert [(r["key"], r["deletedAt"]) for r in _by_column(every.content)][-1] == ("legacy", deleted_at)
    assert [r["key"] for r in _by_column(chosen.content)] == ["seat", "legacy"]
    assert [r["key"] for r in _by_column(only_live_chosen.content)] == ["budget"]


async def test_a_bad_include_deleted_is_refused_with_its_code(api: Api, workspace: Workspace) -> None:
    # when
    response = await _get(api, "/export/custom-fields.csv", workspace.token, includeDeleted="perhaps")
    # then
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("INVALID", ["includeDeleted"])

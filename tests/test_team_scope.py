"""CONTACT_VIEW_TEAM on every path the access policy covers: a team agent sees the contacts
assigned to it and those in the lists it is assigned to, and nothing else, wherever it looks."""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.models import Contact

from .api import Api, Library, Workspace, make_contact, phone
from .checks import oid
from .csv_api import csv_bytes, read_csv, run_import

ASSIGN = """
mutation($groupId: ID!, $agentIds: [ID!]!) {
  assignAgentsToGroup(groupId: $groupId, agentIds: $agentIds) { userErrors { code message } }
}"""

CONTACTS = "{ contacts { totalCount edges { node { id } } } }"
BOARD = "{ contactBoard { count contacts { edges { node { id } } } } }"
STATS = "{ contactStats(groupBy: STATUS) { count } }"
AUDIENCE = "{ campaignAudience { edges { node { id } } } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
RENAME = """
mutation($id: ID!) { updateContact(id: $id, input: {firstname: "Renamed"}) { contact { id } userErrors { code } } }"""


@pytest.fixture
async def team(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    """A team agent of the first list; a member of that list, one of the other list, and its own contact."""
    vip, newsletter = library.groups
    agent_id, token = await api.agent_token(
        workspace, ["CONTACT_VIEW_TEAM", "CONTACT_EDIT", "CONTACT_EXPORT", "CONTACT_IMPORT", "CONTACT_CREATE"]
    )
    await api.ok(ASSIGN, {"groupId": vip, "agentIds": [agent_id]}, workspace.token)
    return {
        "token": token,
        "member": await make_contact(api, workspace, library, phone=phone(1), groupIds=[vip]),
        "outsider": await make_contact(api, workspace, library, phone=phone(2), groupIds=[newsletter]),
        "own": await make_contact(api, workspace, library, phone=phone(3), assignedAgentId=agent_id),
    }


def ids_in(data: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "id" in value and isinstance(value["id"], str):
                found.add(value["id"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return found


async def test_a_team_agent_lists_its_own_and_its_lists_contacts(api: Api, team: dict[str, Any]) -> None:
    # when
    data = await api.data(CONTACTS, token=team["token"])
    # then
    assert ids_in(data) == {team["member"]["id"], team["own"]["id"]}
    assert data["contacts"]["totalCount"] == 2


@pytest.mark.parametrize("document", [BOARD, AUDIENCE], ids=["board", "campaignAudience"])
async def test_the_board_and_the_audience_show_the_team_only(
    api: Api, team: dict[str, Any], document: str
) -> None:
    # when
    data = await api.data(document, token=team["token"])
    # then
    assert ids_in(data) == {team["member"]["id"], team["own"]["id"]}


async def test_stats_count_the_team_only(api: Api, team: dict[str, Any]) -> None:
    # when
    data = await api.data(STATS, token=team["token"])
    # then: the member in VIP and the own contact, all three in the same status; the outsider unseen
    assert sorted(b["count"] for b in data["contactStats"]) == [0, 2]  # every status, one of them empty


async def test_node_and_edits_reach_the_team_only(api: Api, team: dict[str, Any]) -> None:
    # when
    seen = await api.data(NODE, {"id": team["member"]["id"]}, team["token"])
    unseen = await api.data(NODE, {"id": team["outsider"]["id"]}, team["token"])
    renamed = await api.data(RENAME, {"id": team["outsider"]["id"]}, team["token"])
    # then
    assert seen["node"] == {"id": team["member"]["id"]}
    assert unseen["node"] is None
    assert renamed["updateContact"]["userErrors"] == [{"code": "NOT_FOUND"}]
    outsider = await Contact.get(oid(team["outsider"]["id"]))
    assert outsider is not None and outsider.firstname == "Ada"


async def test_the_export_holds_the_team_only(api: Api, team: dict[str, Any]) -> None:
    # when
    response = await api.client.get(
        "/export/contacts.csv", headers={"Authorization": f"Bearer {team['token']}"}
    )
    # then
    assert response.status_code == 200
    header, *rows = read_csv(response.content)
    phones = {row[header.index("phone")] for row in rows}
    assert phones == {team["member"]["phone"], team["own"]["phone"]}


async def test_an_import_by_a_team_agent_never_updates_a_contact_out_of_its_sight(
    api: Api, library: Library, team: dict[str, Any]
) -> None:
    # given a row with the phone of the Newsletter member, whom the team agent cannot see
    rows = [["firstname", "lastname", "phone"], ["Mallory", "Changed", team["outsider"]["phone"]]]
    options = {
        "defaultStatusId": library.statuses[0],
        "defaultSourceId": library.sources[0],
        "duplicateCheck": ["PHONE"],
        "onDuplicate": "UPDATE",
    }
    # when
    job = await run_import(api, team["token"], csv_bytes(rows), options)
    # then
    assert (job["updated"], job["failed"]) == (0, 1)
    outsider = await Contact.get(oid(team["outsider"]["id"]))
    assert outsider is not None and (outsider.firstname, outsider.lastname) == ("Ada", "Lovelace")

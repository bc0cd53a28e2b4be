"""contactStats: contact counts by a dimension, computed by one aggregation."""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.db import Engine

from .api import CREATE_STATUS, Api, Library, Workspace, make_contact, phone
from .checks import top_level_code

STATS = """
query($groupBy: StatsDimension!, $filter: ContactFilter) {
  contactStats(groupBy: $groupBy, filter: $filter) { key label count }
}"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { id } userErrors { code } } }"""


@pytest.fixture
async def crowd(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    """Six contacts across the library, and a third status nobody is in."""
    empty = await api.ok(CREATE_STATUS, {"input": {"name": "Lost", "color": "#000000"}}, workspace.token)
    agent_id, _ = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    specs = [
        {"statusId": library.statuses[0], "type": "LEAD", "groupIds": library.groups},
        {"statusId": library.statuses[0], "type": "LEAD", "groupIds": library.groups[:1]},
        {"statusId": library.statuses[0], "type": "CUSTOMER", "assignedAgentId": agent_id},
        {"statusId": library.statuses[1], "type": "CUSTOMER", "assignedAgentId": agent_id},
        {"statusId": library.statuses[1], "type": "LEAD", "assignedAgentId": workspace.agent_id},
        {"statusId": library.statuses[1], "type": "LEAD", "sourceId": library.sources[1]},
    ]
    contacts = [
        await make_contact(api, workspace, library, phone=phone(n), **spec) for n, spec in enumerate(specs)
    ]
    for contact in contacts[:2]:
        await api.ok(OPT_OUT, {"id": contact["id"]}, workspace.token)
    return {"agent_id": agent_id, "empty": empty["status"]["id"], "contacts": contacts}


async def _stats(api: Api, token: str, group_by: str, filter: dict[str, Any] | None = None) -> list[Any]:
    data = await api.data(STATS, {"groupBy": group_by, "filter": filter}, token)
    return [(b["key"], b["label"], b["count"]) for b in data["contactStats"]]


async def test_by_status_lists_every_status_in_position_order(
    api: Api, workspace: Workspace, library: Library, crowd: dict[str, Any]
) -> None:
    assert await _stats(api, workspace.token, "STATUS") == [
        (library.statuses[0], "New", 3),
        (library.statuses[1], "Won", 3),
        (crowd["empty"], "Lost", 0),
    ]


async def test_by_source_group_type_agent_and_opt_out(
    api: Api, workspace: Workspace, library: Library, crowd: dict[str, Any]
) -> None:
    assert await _stats(api, workspace.token, "SOURCE") == [
        (library.sources[0], "WhatsApp", 5),
        (library.sources[1], "Website", 1),
    ]
    # a contact counts in each of its groups; contacts in none have no bucket
    assert await _stats(api, workspace.token, "GROUP") == [
        (library.groups[0], "VIP", 2),
        (library.groups[1], "Newsletter", 1),
    ]
    assert await _stats(api, workspace.token, "TYPE") == [("LEAD", "Lead", 4), ("CUSTOMER", "Customer", 2)]
    assert await _stats(api, workspace.token, "AGENT") == [
        ("unassigned", "Unassigned", 3),
        (crowd["agent_id"], "Agent", 2),
        (workspace.agent_id, "Administrator", 1),
    ]
    assert await _stats(api, workspace.token, "OPTED_OUT") == [
        ("false", "Subscribed", 4),
        ("true", "Opted out", 2),
    ]


async def test_stats_honour_the_filter(
    api: Api, workspace: Workspace, library: Library, crowd: dict[str, Any]
) -> None:
    by_status = await _stats(api, workspace.token, "STATUS", {"types": ["LEAD"], "optedOut": False})
    assert by_status == [
        (library.statuses[0], "New", 0),
        (library.statuses[1], "Won", 2),
        (crowd["empty"], "Lost", 0),
    ]
    assert await _stats(api, workspace.token, "TYPE", {"groupIds": library.groups[1:]}) == [
        ("LEAD", "Lead", 1)
    ]
    assert await _stats(api, workspace.token, "AGENT", {"unassigned": False, "types": ["CUSTOMER"]}) == [
        (crowd["agent_id"], "Agent", 2)
    ]


async def test_a_view_own_agent_counts_only_assigned_contacts(
    api: Api, workspace: Workspace, library: Library, crowd: dict[str, Any]
) -> None:
    # given
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"], email="own@example.com")
    await make_contact(api, workspace, library, phone=phone(50))
    own_id = (await api.data("{ me { id } }", token=token))["me"]["id"]
    await api.ok(
        "mutation($id: ID!, $a: ID) { assignContacts(contactIds: [$id], agentId: $a) { count userErrors { code } } }",
        {"id": crowd["contacts"][5]["id"], "a": own_id},
        workspace.token,
    )
    # when
    by_status = await _stats(api, token, "STATUS")
    by_agent = await _stats(api, token, "AGENT")
    # then
    assert by_status == [
        (library.statuses[0], "New", 0),
        (library.statuses[1], "Won", 1),
        (crowd["empty"], "Lost", 0),
    ]
    assert by_agent == [(own_id, "Agent", 1)]


async def test_stats_of_an_empty_workspace(api: Api, workspace: Workspace) -> None:
    for dimension in ("STATUS", "SOURCE", "GROUP", "TYPE", "AGENT", "OPTED_OUT"):
        assert await _stats(api, workspace.token, dimension) == []


async def test_stats_need_a_view_permission(api: Api, workspace: Workspace) -> None:
    _, token = await api.agent_token(workspace, ["CONTACT_EDIT"])
    body = await api.gql(STATS, {"groupBy": "STATUS"}, token)
    assert top_level_code(body) == "FORBIDDEN"


@pytest.mark.parametrize("dimension", ["STATUS", "SOURCE", "GROUP", "AGENT"])
async def test_stats_cost_one_aggregation_and_one_label_look_up(
    engine: Engine, api: Api, workspace: Workspace, crowd: dict[str, Any], dimension: str
) -> None:
    before = engine.round_trips.count
    await api.data(STATS, {"groupBy": dimension}, workspace.token)
    # 1 to authenticate, 1 aggregation, 1 read of the labels
    assert engine.round_trips.count - before == 3

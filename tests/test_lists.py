"""Lists: groups with assigned agents, dispositions and their own custom fields, and deleting them."""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.models import Agent, CustomField
from contactgraph.models.disposition import Disposition
from contactgraph.settings import Settings

from .api import CREATE_GROUP, Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import assert_rejected, oid, phantom, snapshot
from .conftest import ADMIN_KEY
from .test_subscriptions import MOVE, SUBSCRIBE_BRIEF, heard, ready
from .ws import TRANSPORT_WS, serve

GROUP = """
id name
agents { id email }
dispositions { id name color position deletedAt }
customFields { id key }
"""

GROUPS = f"{{ groups {{ {GROUP} }} }}"

ASSIGN = f"""
mutation($groupId: ID!, $agentIds: [ID!]!) {{
  assignAgentsToGroup(groupId: $groupId, agentIds: $agentIds) {{
    group {{ {GROUP} }} userErrors {{ field code message }}
  }}
}}"""

UNASSIGN = f"""
mutation($groupId: ID!, $agentIds: [ID!]!) {{
  removeAgentsFromGroup(groupId: $groupId, agentIds: $agentIds) {{
    group {{ {GROUP} }} userErrors {{ field code message }}
  }}
}}"""

DISPOSITION = "id name color position deletedAt group { id name }"

CREATE_DISPOSITION = f"""
mutation($input: DispositionInput!) {{
  createDisposition(input: $input) {{ disposition {{ {DISPOSITION} }} userErrors {{ field code message }} }}
}}"""

UPDATE_DISPOSITION = f"""
mutation($id: ID!, $input: DispositionPatch!) {{
  updateDisposition(id: $id, input: $input) {{ disposition {{ {DISPOSITION} }} userErrors {{ field code message }} }}
}}"""

DELETE_DISPOSITION = f"""
mutation($id: ID!) {{
  deleteDisposition(id: $id) {{ disposition {{ {DISPOSITION} }} userErrors {{ field code message }} }}
}}"""

GROUP_DISPOSITIONS = """
query($id: ID!, $deleted: Boolean) {
  node(id: $id) { ... on Group { dispositions(includeDeleted: $deleted) { name deletedAt } } }
}"""

NODE = f"query($id: ID!) {{ node(id: $id) {{ id ... on Disposition {{ {DISPOSITION} }} }} }}"

DELETE_GROUPS = """
mutation($ids: [ID!]!) { deleteGroups(ids: $ids) { deletedIds userErrors { field code message } } }"""

DELETE_GROUP = """
mutation($id: ID!) { deleteGroup(id: $id) { deletedIds userErrors { field code message } } }"""

FIELD = "id key label clickToAction deletedAt group { id name }"

CREATE_FIELD = f"""
mutation($input: CustomFieldInput!) {{
  createCustomField(input: $input) {{ customField {{ {FIELD} }} userErrors {{ field code message }} }}
}}"""

UPDATE_FIELD = f"""
mutation($id: ID!, $input: CustomFieldPatch!) {{
  updateCustomField(id: $id, input: $input) {{ customField {{ {FIELD} }} userErrors {{ field code message }} }}
}}"""

FIELDS = f"""
query($groupId: ID, $includeDeleted: Boolean, $onlyDeleted: Boolean) {{
  customFields(groupId: $groupId, includeDeleted: $includeDeleted, onlyDeleted: $onlyDeleted) {{ {FIELD} }}
}}"""

DELETE_FIELDS = """
mutation($ids: [ID!]!) { deleteCustomFields(ids: $ids) { deletedIds userErrors { field code message } } }"""

CONTACT_GROUPS = "query($id: ID!) { contact(id: $id) { groups { id } } }"

TEAM_CONTACTS = "{ contacts { edges { node { id } } } }"


async def agent(api: Api, workspace: Workspace, email: str, *permissions: str) -> tuple[str, str]:
    return await api.agent_token(workspace, list(permissions), email=email)


async def disposition(api: Api, token: str, group: str, name: str, **more: Any) -> dict[str, Any]:
    payload = await api.ok(CREATE_DISPOSITION, {"input": {"groupId": group, "name": name, **more}}, token)
    return payload["disposition"]  # type: ignore[no-any-return]


async def access_events(agent_id: str) -> int:
    return await Event.find({"type": EventType.ACCESS_CHANGED, "contact_id": oid(agent_id)}).count()


# ---------------------------------------------------------------- agents of a list


async def test_agents_assigned_to_a_list_see_its_members_and_leave_it_again(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a team agent, and a member of the VIP list nobody is assigned
    team_id, team_token = await agent(api, workspace, "team@example.com", "CONTACT_VIEW_TEAM")
    other_id, _ = await agent(api, workspace, "other@example.com")
    member = await make_contact(api, workspace, library, phone=phone(1), groupIds=[library.groups[0]])
    assert await api.data(TEAM_CONTACTS, token=team_token) == {"contacts": {"edges": []}}
    # when
    variables = {"groupId": library.groups[0], "agentIds": [team_id, other_id]}
    assigned = (await api.ok(ASSIGN, variables, workspace.token))["group"]
    # then: the list names them, the agents hold the list, each was told of its new sight once
    assert [a["id"] for a in assigned["agents"]] == [team_id, other_id]
    stored = await Agent.get(oid(team_id))
    assert stored is not None and stored.group_ids == [oid(library.groups[0])]
    assert (await api.data(TEAM_CONTACTS, token=team_token))["contacts"]["edges"] == [
        {"node": {"id": member["id"]}}
    ]
    assert (await access_events(team_id), await access_events(other_id)) == (1, 1)

    # when assigned again: nothing changes, and nobody is told
    await api.ok(ASSIGN, {"groupId": library.groups[0], "agentIds": [team_id]}, workspace.token)
    # then
    assert await access_events(team_id) == 1

    # when one leaves the list
    left = (await api.ok(UNASSIGN, {"groupId": library.groups[0], "agentIds": [team_id]}, workspace.token))[
        "group"
    ]
    # then
    assert [a["id"] for a in left["agents"]] == [other_id]
    assert await api.data(TEAM_CONTACTS, token=team_token) == {"contacts": {"edges": []}}
    assert await access_events(team_id) == 2


async def test_an_open_subscription_follows_its_agent_out_of_one_list_and_into_another(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a team agent of VIP watching status changes; a VIP member, a Newsletter member, its own contact
    vip, newsletter = library.groups
    team_id, team_token = await agent(api, workspace, "team@example.com", "CONTACT_VIEW_TEAM")
    await api.ok(ASSIGN, {"groupId": vip, "agentIds": [team_id]}, workspace.token)
    in_vip = await make_contact(api, workspace, library, phone=phone(1), groupIds=[vip])
    in_newsletter = await make_contact(api, workspace, library, phone=phone(2), groupIds=[newsletter])
    own = await make_contact(api, workspace, library, phone=phone(3), assignedAgentId=team_id)
    won = library.statuses[1]
    fast = settings.model_copy(update={"event_poll_seconds": 0.01})
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        await ready(socket, team_token)
        await socket.subscribe(SUBSCRIBE_BRIEF)
        await served.subscribed()
        # when it leaves VIP and joins Newsletter, then a member of each moves, then its own contact
        await here.ok(UNASSIGN, {"groupId": vip, "agentIds": [team_id]}, workspace.token)
        await here.ok(ASSIGN, {"groupId": newsletter, "agentIds": [team_id]}, workspace.token)
        for contact in (in_vip, in_newsletter, own):
            await here.ok(MOVE, {"id": contact["id"], "statusId": won}, workspace.token)
        # then it hears the Newsletter member's move and its own, not the VIP member's
        assert await heard(socket) == (in_newsletter["id"], won)
        assert await heard(socket) == (own["id"], won)


async def test_unknown_agents_or_list_are_refused_and_nobody_is_assigned(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    team_id, _ = await agent(api, workspace, "team@example.com", "CONTACT_VIEW_TEAM")
    elsewhere = await api.create_workspace("Elsewhere")
    before = await snapshot()
    # when: the second agent is of another workspace, the third no agent at all
    variables = {"groupId": library.groups[0], "agentIds": [team_id, elsewhere.agent_id, library.groups[1]]}
    data = await api.data(ASSIGN, variables, workspace.token)
    # then
    payload = data["assignAgentsToGroup"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("NOT_FOUND", ["agentIds", "1"]),
        ("NOT_FOUND", ["agentIds", "2"]),
    ]
    assert payload["group"] is None
    assert await snapshot() == before
    # when the list is unknown
    data = await api.data(
        ASSIGN, {"groupId": phantom(library.groups[0]), "agentIds": [team_id]}, workspace.token
    )
    # then
    assert_rejected(data, "NOT_FOUND", ["groupId"])
    data = await api.data(
        UNASSIGN, {"groupId": phantom(library.groups[0]), "agentIds": [team_id]}, workspace.token
    )
    assert_rejected(data, "NOT_FOUND", ["groupId"])
    assert await snapshot() == before


async def test_assigning_agents_needs_agent_manage(api: Api, workspace: Workspace, library: Library) -> None:
    # given: a librarian may shape lists but not what agents see
    team_id, _ = await agent(api, workspace, "team@example.com", "CONTACT_VIEW_TEAM")
    _, librarian = await agent(api, workspace, "librarian@example.com", "LIBRARY_MANAGE")
    # when
    data = await api.data(ASSIGN, {"groupId": library.groups[0], "agentIds": [team_id]}, librarian)
    # then
    assert_rejected(data, "FORBIDDEN", None)
    stored = await Agent.get(oid(team_id))
    assert stored is not None and stored.group_ids == []


# ---------------------------------------------------------------- dispositions


async def test_a_list_has_its_own_dispositions_in_order(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # when
    sold = await disposition(api, workspace.token, library.groups[0], " Sold ", color="#2ECC71", position=10)
    callback = await disposition(api, workspace.token, library.groups[0], "Call back")
    first = await disposition(api, workspace.token, library.groups[0], "Wrong number", position=0)
    other = await disposition(api, workspace.token, library.groups[1], "Sold")  # another list may reuse it
    # then
    assert (sold["name"], sold["color"], sold["position"], sold["deletedAt"]) == ("Sold", "#2ecc71", 10, None)
    assert sold["group"] == {"id": library.groups[0], "name": "VIP"}
    assert callback["position"] == 11 and callback["color"] is None  # after the last
    assert other["group"]["id"] == library.groups[1]
    groups = {g["id"]: g for g in (await api.data(GROUPS, token=workspace.token))["groups"]}
    assert [d["name"] for d in groups[library.groups[0]]["dispositions"]] == [
        "Wrong number",
        "Sold",
        "Call back",
    ]
    assert [d["id"] for d in groups[library.groups[1]]["dispositions"]] == [other["id"]]
    assert (await api.data(NODE, {"id": first["id"]}, workspace.token))["node"]["name"] == "Wrong number"


async def test_a_disposition_changes_and_is_soft_deleted(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    sold = await disposition(api, workspace.token, library.groups[0], "Sold", color="#2ecc71")
    # when
    changed = (
        await api.ok(
            UPDATE_DISPOSITION, {"id": sold["id"], "input": {"name": "Won", "color": None}}, workspace.token
        )
    )["disposition"]
    deleted = (await api.ok(DELETE_DISPOSITION, {"id": sold["id"]}, workspace.token))["disposition"]
    # then
    assert (changed["name"], changed["color"]) == ("Won", None)
    assert deleted["deletedAt"] is not None
    live = await api.data(GROUP_DISPOSITIONS, {"id": library.groups[0]}, workspace.token)
    every = await api.data(GROUP_DISPOSITIONS, {"id": library.groups[0], "deleted": True}, workspace.token)
    assert live["node"]["dispositions"] == []
    assert every["node"]["dispositions"] == [{"name": "Won", "deletedAt": deleted["deletedAt"]}]
    # and its name is free again in the list
    await disposition(api, workspace.token, library.groups[0], "Won")


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"name": "sold"}, "NAME_TAKEN", ["input", "name"]),
        ({"name": " "}, "REQUIRED", ["input", "name"]),
        ({"name": "Lost", "color": "green"}, "INVALID", ["input", "color"]),
        ({"name": "Lost", "position": -1}, "INVALID", ["input", "position"]),
        ({"name": "Lost", "groupId": "unknown"}, "NOT_FOUND", ["input", "groupId"]),
    ],
)
async def test_a_bad_disposition_is_refused_and_nothing_is_written(
    api: Api, workspace: Workspace, library: Library, input: dict[str, Any], code: str, field: list[str]
) -> None:
    # given
    await disposition(api, workspace.token, library.groups[0], "Sold")
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_DISPOSITION, {"input": {"groupId": library.groups[0], **input}}, workspace.token
    )
    # then
    assert_rejected(data, code, field)
    assert await snapshot() == before


async def test_renaming_a_disposition_to_another_of_its_list_is_refused(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await disposition(api, workspace.token, library.groups[0], "Sold")
    lost = await disposition(api, workspace.token, library.groups[0], "Lost")
    # when
    data = await api.data(UPDATE_DISPOSITION, {"id": lost["id"], "input": {"name": "SOLD"}}, workspace.token)
    # then
    assert_rejected(data, "NAME_TAKEN", ["input", "name"])
    stored = await Disposition.get(oid(lost["id"]))
    assert stored is not None and stored.name == "Lost"


# ---------------------------------------------------------------- a list's custom fields


async def test_fields_of_a_list_are_listed_apart_from_the_global_ones(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # when
    plan = await make_custom_field(api, workspace, "plan", "TEXT")
    payload = await api.ok(
        CREATE_FIELD,
        {
            "input": {
                "key": "extension",
                "label": "Extension",
                "type": "TEXT",
                "groupId": library.groups[0],
                "clickToAction": True,
            }
        },
        workspace.token,
    )
    extension = payload["customField"]
    # then
    assert extension["group"] == {"id": library.groups[0], "name": "VIP"}
    assert extension["clickToAction"] is True
    stored = await CustomField.get(oid(extension["id"]))
    assert stored is not None and stored.group_id == oid(library.groups[0])
    global_fields = await api.data(FIELDS, {}, workspace.token)
    vip_fields = await api.data(FIELDS, {"groupId": library.groups[0]}, workspace.token)
    newsletter_fields = await api.data(FIELDS, {"groupId": library.groups[1]}, workspace.token)
    assert [f["key"] for f in global_fields["customFields"]] == ["plan"]
    assert (
        global_fields["customFields"][0]["group"] is None
        and plan["id"] == global_fields["customFields"][0]["id"]
    )
    assert [f["key"] for f in vip_fields["customFields"]] == ["extension"]
    assert newsletter_fields["customFields"] == []
    groups = {g["id"]: g for g in (await api.data(GROUPS, token=workspace.token))["groups"]}
    assert groups[library.groups[0]]["customFields"] == [{"id": extension["id"], "key": "extension"}]


async def test_keys_stay_unique_in_the_workspace_and_the_list_must_exist(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "plan", "TEXT")
    before = await snapshot()
    # when
    taken = await api.data(
        CREATE_FIELD,
        {"input": {"key": "plan", "label": "Plan", "type": "TEXT", "groupId": library.groups[0]}},
        workspace.token,
    )
    unknown = await api.data(
        CREATE_FIELD,
        {"input": {"key": "seat", "label": "Seat", "type": "TEXT", "groupId": phantom(library.groups[0])}},
        workspace.token,
    )
    # then
    assert_rejected(taken, "KEY_TAKEN", ["input", "key"])
    assert_rejected(unknown, "NOT_FOUND", ["input", "groupId"])
    assert await snapshot() == before


async def test_click_to_action_is_off_unless_set_and_changes_alone(api: Api, workspace: Workspace) -> None:
    # given
    phone_field = await make_custom_field(api, workspace, "mobile", "TEXT")
    # when
    data = await api.ok(
        UPDATE_FIELD, {"id": phone_field["id"], "input": {"clickToAction": True}}, workspace.token
    )
    # then
    assert (data["customField"]["clickToAction"], data["customField"]["label"]) == (True, "Mobile")
    fields = await api.data(FIELDS, {}, workspace.token)
    assert [f["clickToAction"] for f in fields["customFields"]] == [True]


async def test_several_fields_are_soft_deleted_at_once_and_shown_by_the_deleted_filter(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    plan = await make_custom_field(api, workspace, "plan", "TEXT")
    budget = await make_custom_field(api, workspace, "budget", "NUMBER")
    await make_custom_field(api, workspace, "size", "TEXT")
    # when
    payload = await api.ok(DELETE_FIELDS, {"ids": [plan["id"], budget["id"]]}, workspace.token)
    # then
    assert payload["deletedIds"] == [plan["id"], budget["id"]]
    live = await api.data(FIELDS, {}, workspace.token)
    deleted = await api.data(FIELDS, {"onlyDeleted": True}, workspace.token)
    every = await api.data(FIELDS, {"includeDeleted": True}, workspace.token)
    assert [f["key"] for f in live["customFields"]] == ["size"]
    assert [f["key"] for f in deleted["customFields"]] == ["plan", "budget"]
    assert all(f["deletedAt"] for f in deleted["customFields"])
    assert [f["key"] for f in every["customFields"]] == ["plan", "budget", "size"]


async def test_deleting_fields_with_an_unknown_id_deletes_none(api: Api, workspace: Workspace) -> None:
    # given
    plan = await make_custom_field(api, workspace, "plan", "TEXT")
    before = await snapshot()
    # when
    data = await api.data(DELETE_FIELDS, {"ids": [plan["id"], phantom(plan["id"])]}, workspace.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["ids", "1"])
    assert await snapshot() == before


# ---------------------------------------------------------------- deleting lists


async def test_deleted_lists_leave_members_agents_fields_and_dispositions_behind(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: both lists with a member, an agent, a field and a disposition
    vip, newsletter = library.groups
    extra = (await api.ok(CREATE_GROUP, {"input": {"name": "Kept"}}, workspace.token))["group"]["id"]
    member = await make_contact(api, workspace, library, phone=phone(1), groupIds=[vip, newsletter, extra])
    team_id, _ = await agent(api, workspace, "team@example.com", "CONTACT_VIEW_TEAM")
    await api.ok(ASSIGN, {"groupId": vip, "agentIds": [team_id]}, workspace.token)
    await api.ok(ASSIGN, {"groupId": extra, "agentIds": [team_id]}, workspace.token)
    field = await make_custom_field(api, workspace, "seat", "TEXT", groupId=vip)
    sold = await disposition(api, workspace.token, vip, "Sold")
    told = await access_events(team_id)
    # when
    payload = await api.ok(DELETE_GROUPS, {"ids": [vip, newsletter]}, workspace.token)
    # then: the member and the agent keep only the other list; the agent was told
    assert payload["deletedIds"] == [vip, newsletter]
    assert (await api.data(CONTACT_GROUPS, {"id": member["id"]}, workspace.token))["contact"]["groups"] == [
        {"id": extra}
    ]
    stored = await Agent.get(oid(team_id))
    assert stored is not None and stored.group_ids == [oid(extra)]
    assert await access_events(team_id) == told + 1
    # the list's field is a deleted global field, its values kept until purged
    fields = await api.data(FIELDS, {"onlyDeleted": True}, workspace.token)
    assert [(f["id"], f["group"]) for f in fields["customFields"]] == [(field["id"], None)]
    # the disposition is retired, and remembers its list's name
    node = (await api.data(NODE, {"id": sold["id"]}, workspace.token))["node"]
    assert node["deletedAt"] is not None
    assert node["group"] == {"id": vip, "name": "VIP"}
    assert [g["id"] for g in (await api.data(GROUPS, token=workspace.token))["groups"]] == [extra]


async def test_delete_group_does_what_delete_groups_does_for_one(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    team_id, _ = await agent(api, workspace, "team@example.com", "CONTACT_VIEW_TEAM")
    await api.ok(ASSIGN, {"groupId": library.groups[0], "agentIds": [team_id]}, workspace.token)
    sold = await disposition(api, workspace.token, library.groups[0], "Sold")
    # when
    await api.ok(DELETE_GROUP, {"id": library.groups[0]}, workspace.token)
    # then
    stored = await Agent.get(oid(team_id))
    assert stored is not None and stored.group_ids == []
    retired = await Disposition.get(oid(sold["id"]))
    assert retired is not None and retired.deleted_at is not None and retired.group_name == "VIP"


async def test_deleting_lists_with_an_unknown_id_deletes_none(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_contact(api, workspace, library, phone=phone(1), groupIds=library.groups)
    before = await snapshot()
    # when
    data = await api.data(
        DELETE_GROUPS, {"ids": [library.groups[0], phantom(library.groups[0])]}, workspace.token
    )
    # then
    assert_rejected(data, "NOT_FOUND", ["ids", "1"])
    assert await snapshot() == before


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("lists", [2, 6])
async def test_lists_with_agents_dispositions_and_fields_cost_the_same_round_trips_however_many(
    engine: Engine, api: Api, workspace: Workspace, library: Library, lists: int
) -> None:
    # given: every list with a member, two agents, two dispositions and a field
    groups = list(library.groups)
    for n in range(lists - 2):
        groups.append(
            (await api.ok(CREATE_GROUP, {"input": {"name": f"List {n}"}}, workspace.token))["group"]["id"]
        )
    agents = [(await agent(api, workspace, f"a{n}@example.com"))[0] for n in range(2)]
    for n, group in enumerate(groups):
        await make_contact(api, workspace, library, phone=phone(n), groupIds=[group])
        await api.ok(ASSIGN, {"groupId": group, "agentIds": agents}, workspace.token)
        for name in ("Sold", "Lost"):
            await disposition(api, workspace.token, group, name)
        await make_custom_field(api, workspace, f"field_{n}", "TEXT", groupId=group)
    document = f"{{ groups {{ contactCount {GROUP} }} }}"
    # when
    trips = engine.round_trips.count
    data = await api.data(document, token=workspace.token)
    trips = engine.round_trips.count - trips
    # then: 1 to authenticate, 1 for the lists, and 1 each for their counts, agents, dispositions, fields
    assert trips == 1 + 1 + 4
    assert all(len(g["agents"]) == 2 and len(g["dispositions"]) == 2 for g in data["groups"])

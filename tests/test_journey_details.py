"""The customer journey's "show details": who handled an interaction, its disposition, its metadata."""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.models.interaction import Interaction

from .api import Api, Library, Workspace, make_contact, phone
from .checks import assert_rejected, oid, phantom, snapshot

DETAILS = "id open closedAt details agent { id email } disposition { id name deletedAt group { id name } }"

RECORD = f"""
mutation($input: InteractionInput!) {{
  recordInteraction(input: $input) {{ interaction {{ {DETAILS} }} userErrors {{ field code message }} }}
}}"""

CLOSE = f"""
mutation($id: ID!, $dispositionId: ID) {{
  closeInteraction(id: $id, dispositionId: $dispositionId) {{
    interaction {{ {DETAILS} }} userErrors {{ field code message }}
  }}
}}"""

TIMELINE = f"query($id: ID!) {{ contact(id: $id) {{ timeline {{ edges {{ node {{ {DETAILS} }} }} }} }} }}"

CREATE_DISPOSITION = """
mutation($input: DispositionInput!) {
  createDisposition(input: $input) { disposition { id } userErrors { field code message } }
}"""

DELETE_DISPOSITION = """
mutation($id: ID!) { deleteDisposition(id: $id) { disposition { id deletedAt } userErrors { code } } }"""

PAGE = f"""
query($first: Int!) {{
  contacts(first: $first) {{ edges {{ node {{ id timeline(first: 2) {{ edges {{ node {{ {DETAILS} }} }} }} }} }} }}
}}"""

CALL = {
    "queue": "sales",
    "seconds": 184,
    "score": 4.5,
    "recorded": True,
    "note": "=HYPERLINK(...)",
}


@pytest.fixture
async def member(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    """A contact of the VIP list."""
    return await make_contact(api, workspace, library, phone=phone(1), groupIds=[library.groups[0]])


async def record(api: Api, token: str, contact: dict[str, Any], **input: Any) -> dict[str, Any]:
    variables = {"input": {"contactId": contact["id"], "channel": "voice", "direction": "inbound", **input}}
    return (await api.ok(RECORD, variables, token))["interaction"]  # type: ignore[no-any-return]


async def disposition(api: Api, token: str, group: str, name: str) -> str:
    payload = await api.ok(CREATE_DISPOSITION, {"input": {"groupId": group, "name": name}}, token)
    return payload["disposition"]["id"]  # type: ignore[no-any-return]


async def test_an_interaction_keeps_who_handled_it_and_its_details(
    api: Api, workspace: Workspace, member: dict[str, Any]
) -> None:
    # given: a bot logs a call an agent handled
    handler, _ = await api.agent_token(workspace, [], email="handler@example.com")
    _, bot = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"], email="bot@example.com")
    # when
    logged = await record(api, bot, member, agentId=handler, details=CALL)
    own = await record(api, bot, member)
    # then: the handler named, or the caller by default; the details as given
    assert logged["agent"] == {"id": handler, "email": "handler@example.com"}
    assert logged["details"] == CALL
    assert own["agent"]["email"] == "bot@example.com" and own["details"] is None
    stored = await Interaction.get(oid(logged["id"]))
    assert stored is not None and stored.agent_id == oid(handler) and stored.details == CALL
    timeline = await api.data(TIMELINE, {"id": member["id"]}, workspace.token)
    assert {
        edge["node"]["id"]: edge["node"]["details"] for edge in timeline["contact"]["timeline"]["edges"]
    } == {
        logged["id"]: CALL,
        own["id"]: None,
    }


async def test_an_unknown_agent_is_refused_and_nothing_is_recorded(
    api: Api, workspace: Workspace, member: dict[str, Any]
) -> None:
    # given
    elsewhere = await api.create_workspace("Elsewhere")
    before = await snapshot()
    for agent_id in (elsewhere.agent_id, phantom(workspace.agent_id), member["id"]):
        # when
        data = await api.data(
            RECORD,
            {
                "input": {
                    "contactId": member["id"],
                    "channel": "voice",
                    "direction": "inbound",
                    "agentId": agent_id,
                }
            },
            workspace.token,
        )
        # then
        assert_rejected(data, "NOT_FOUND", ["input", "agentId"])
    assert await snapshot() == before


@pytest.mark.parametrize(
    "details",
    [
        pytest.param({f"k{n}": n for n in range(51)}, id="51 keys"),
        pytest.param({"k" * 65: "v"}, id="a key of 65 characters"),
        pytest.param({"": "v"}, id="an empty key"),
        pytest.param({"call.id": "v"}, id="a key with a dot"),
        pytest.param({"$where": "v"}, id="a key starting with $"),
        pytest.param({"nul\u0000": "v"}, id="a key with a control character"),
        pytest.param({"seconds": 2**63}, id="a number past 64 bits"),
        pytest.param({"transcript": "x" * 1001}, id="a text of 1,001 characters"),
        pytest.param({"queue": {"name": "sales"}}, id="an object in it"),
        pytest.param({"tags": ["a", "b"]}, id="a list in it"),
        pytest.param({"queue": None}, id="a null in it"),
        pytest.param(["queue", "sales"], id="a list"),
        pytest.param("queue=sales", id="a string"),
    ],
)
async def test_details_too_big_or_nested_are_refused_and_nothing_is_recorded(
    api: Api, workspace: Workspace, member: dict[str, Any], details: Any
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        RECORD,
        {
            "input": {
                "contactId": member["id"],
                "channel": "voice",
                "direction": "inbound",
                "details": details,
            }
        },
        workspace.token,
    )
    # then
    assert_rejected(data, "INVALID", ["input", "details"])
    assert await snapshot() == before


async def test_details_at_their_limits_are_kept(
    api: Api, workspace: Workspace, member: dict[str, Any]
) -> None:
    # given
    details = {f"{n:02d}".ljust(64, "k"): "x" * 1000 for n in range(50)}
    # when
    logged = await record(api, workspace.token, member, details=details)
    # then
    assert logged["details"] == details


async def test_an_interaction_closes_with_a_disposition_of_its_contacts_list(
    api: Api, workspace: Workspace, library: Library, member: dict[str, Any]
) -> None:
    # given
    sold = await disposition(api, workspace.token, library.groups[0], "Sold")
    call = await record(api, workspace.token, member, open=True)
    # when
    closed = (await api.ok(CLOSE, {"id": call["id"], "dispositionId": sold}, workspace.token))["interaction"]
    # then
    assert closed["open"] is False and closed["closedAt"] is not None
    assert closed["disposition"] == {
        "id": sold,
        "name": "Sold",
        "deletedAt": None,
        "group": {"id": library.groups[0], "name": "VIP"},
    }
    stored = await Interaction.get(oid(call["id"]))
    assert stored is not None and stored.disposition_id == oid(sold)


async def test_a_closed_interaction_takes_a_disposition_and_keeps_its_closing_time(
    api: Api, workspace: Workspace, library: Library, member: dict[str, Any]
) -> None:
    # given: recorded closed
    sold = await disposition(api, workspace.token, library.groups[0], "Sold")
    call = await record(api, workspace.token, member)
    # when
    closed = (await api.ok(CLOSE, {"id": call["id"], "dispositionId": sold}, workspace.token))["interaction"]
    # then
    assert closed["closedAt"] == call["closedAt"]
    assert closed["disposition"]["id"] == sold


async def test_a_disposition_of_another_list_or_none_at_all_is_refused(
    api: Api, workspace: Workspace, library: Library, member: dict[str, Any]
) -> None:
    # given: the contact is in VIP only
    newsletter_only = await disposition(api, workspace.token, library.groups[1], "Subscribed")
    retired = await disposition(api, workspace.token, library.groups[0], "Retired")
    await api.ok(DELETE_DISPOSITION, {"id": retired}, workspace.token)
    call = await record(api, workspace.token, member, open=True)
    before = await snapshot()
    # when, then
    for disposition_id, code in (
        (newsletter_only, "INVALID"),
        (retired, "INVALID"),
        (phantom(newsletter_only), "NOT_FOUND"),
        (library.groups[0], "NOT_FOUND"),  # an id of another kind
    ):
        data = await api.data(CLOSE, {"id": call["id"], "dispositionId": disposition_id}, workspace.token)
        assert_rejected(data, code, ["dispositionId"])
    assert await snapshot() == before


async def test_a_deleted_disposition_still_shows_on_the_interactions_closed_with_it(
    api: Api, workspace: Workspace, library: Library, member: dict[str, Any]
) -> None:
    # given: a call closed as "Sold", then "Sold" retired from the list
    sold = await disposition(api, workspace.token, library.groups[0], "Sold")
    call = await record(api, workspace.token, member, open=True)
    await api.ok(CLOSE, {"id": call["id"], "dispositionId": sold}, workspace.token)
    deleted = (await api.ok(DELETE_DISPOSITION, {"id": sold}, workspace.token))["disposition"]
    # when
    timeline = await api.data(TIMELINE, {"id": member["id"]}, workspace.token)
    # then
    [edge] = timeline["contact"]["timeline"]["edges"]
    assert edge["node"]["disposition"]["name"] == "Sold"
    assert edge["node"]["disposition"]["deletedAt"] == deleted["deletedAt"] is not None


@pytest.mark.parametrize("size", [3, 12])
async def test_a_pages_timelines_with_agents_and_dispositions_cost_the_same_round_trips_whatever_its_size(
    engine: Engine, api: Api, workspace: Workspace, library: Library, size: int
) -> None:
    # given: contacts of two lists, each with two calls closed with a disposition of its list by one of two agents
    agents = [(await api.agent_token(workspace, [], email=f"a{n}@example.com"))[0] for n in range(2)]
    outcomes = {group: await disposition(api, workspace.token, group, "Done") for group in library.groups}
    for n in range(size):
        group = library.groups[n % 2]
        contact = await make_contact(api, workspace, library, phone=phone(n), groupIds=[group])
        for step in range(2):
            call = await record(
                api, workspace.token, contact, open=True, agentId=agents[step], details={"n": n}
            )
            await api.ok(CLOSE, {"id": call["id"], "dispositionId": outcomes[group]}, workspace.token)
    # when
    trips = engine.round_trips.count
    data = await api.data(PAGE, {"first": size}, workspace.token)
    trips = engine.round_trips.count - trips
    # then: 1 to authenticate, 1 for the page, 1 for every timeline together, and 1 each for the
    # agents, the dispositions and their lists
    assert trips == 1 + 1 + 1 + 3
    nodes = [e["node"] for c in data["contacts"]["edges"] for e in c["node"]["timeline"]["edges"]]
    assert len(nodes) == 2 * size and all(n["agent"] and n["disposition"]["group"] for n in nodes)

"""The query cost limit: a document's cost is estimated before it runs, refused over the limit,
and reported in ``extensions.cost`` of every query and mutation answered.

The estimate is the most fields the answer could hold: 1 per field, and what a page
(``first``/``last``, 50 when not given) selects under its ``edges`` once per item.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.demo import SAMPLE_QUERY
from contactgraph.models import Contact
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, phone
from .checks import snapshot, top_level_code
from .ws import PROTOCOLS, TRANSPORT_WS, serve

JOURNEY = (
    "contacts(first: 500) { edges { node { id"
    " statusHistory(first: 500) { edges { node { changedAt } } }"
    " timeline(first: 500) { edges { node { id } } } } } }"
)
# issue 9, item 9: within the alias (30) and depth limits, 40 s and +156 MB before this limit
ATTACK = "{ " + " ".join(f"a{i}: {JOURNEY}" for i in range(30)) + " }"
# a history page: 1 + 500 * (edges 1 + node 1 + changedAt 1) = 1,501, a timeline page the same;
# a contact: edges 1 + node 1 + id 1 + 2 * 1,501 = 3,005; a page of them: 1 + 500 * 3,005 = 1,502,501
ATTACK_COST = 30 * 1_502_501

HISTORIES = """
query($first: Int!) {
  contacts(first: $first) { edges { node { id statusHistory(first: $first) { edges { node { changedAt } } } } } }
}"""

HISTORIES_BY_DEFAULT = """
query($first: Int = 500) {
  contacts(first: $first) { edges { node { id statusHistory(first: $first) { edges { node { changedAt } } } } } }
}"""

FRAGMENTS = """
query($first: Int!) { contacts(first: $first) { ...Page } }
fragment Page on ContactConnection { totalCount edges { node { ...History } } }
fragment History on Contact {
  ... on Contact { statusHistory(first: $first) { edges { node { changedAt } } } }
}"""

PAGE = """
query($first: Int, $after: String) {
  contacts(first: $first, after: $after, sort: {field: UPDATED_AT, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id firstname lastname fullName phone email type company city optedOut createdAt updatedAt
        status { id name color } source { id name } groups { id name } assignedAgent { id name }
        customFields { field { id key label } value }
      }
    }
  }
}"""

BOARD = """
query($filter: ContactFilter, $first: Int) {
  contactBoard(filter: $filter) {
    status { id name color position }
    count
    contacts(first: $first) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id fullName phone status { id } source { name } groups { name } assignedAgent { name } } }
    }
  }
}"""

CREATE = """
mutation($input: ContactInput!) { createContact(input: $input) { contact { id } userErrors { code } } }"""

COSTLY_CREATE = """
mutation($input: ContactInput!) {
  createContact(input: $input) {
    contact {
      statusHistory(first: 500) {
        edges { node { contact { timeline(first: 500) { edges { node { id channel } } } } } }
      }
    }
    userErrors { code }
  }
}"""

TWO_OPERATIONS = "query Cheap { me { id } }\nquery Costly " + ATTACK

SUBSCRIBE_DEEP = """
subscription {
  contactStatusChanged {
    contact {
      statusHistory(first: 500) {
        edges { node { contact { timeline(first: 500) { edges { node { id channel } } } } } }
      }
    }
  }
}"""


def _cost(body: dict[str, Any]) -> int:
    return body["extensions"]["cost"]["requestedQueryCost"]  # type: ignore[no-any-return]


def _refused(body: dict[str, Any], cost: int, limit: int) -> None:
    assert body.get("data") is None
    assert top_level_code(body) == "LIMIT_EXCEEDED"
    message = body["errors"][0]["message"]
    assert str(cost) in message and str(limit) in message, message


async def test_the_issue_attack_is_refused_before_anything_runs(
    engine: Engine, api: Api, workspace: Workspace, library: Library, settings: Settings
) -> None:
    # given
    await make_contact(api, workspace, library, phone=phone(1))
    trips = engine.round_trips.count
    # when
    body = await api.gql(ATTACK, token=workspace.token)
    # then: the token's lookup (made before the document is read) is the only round trip
    assert engine.round_trips.count - trips == 1
    _refused(body, ATTACK_COST, settings.max_query_cost)
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": ATTACK_COST,
        "maximumAvailable": settings.max_query_cost,
    }
    assert ATTACK_COST > 100 * settings.max_query_cost


async def test_a_lower_limit_is_a_setting(settings: Settings, engine: Engine, workspace: Workspace) -> None:
    # given: a server whose limit is below a page of 50 contacts' ids (1 + 50 * 3 = 151)
    app = create_app(settings.model_copy(update={"max_query_cost": 150}), engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        # when
        response = await client.post(
            "/graphql",
            json={"query": "{ contacts { edges { node { id } } } }"},
            headers={"Authorization": f"Bearer {workspace.token}"},
        )
    # then
    _refused(response.json(), 151, 150)


@pytest.mark.parametrize(
    ("variables", "first"),
    [({"first": 10}, 10), ({"first": 500}, 500), ({"first": 500.0}, 500), ({}, 500)],
)
async def test_a_first_given_by_variable_is_counted(
    api: Api, workspace: Workspace, settings: Settings, variables: dict[str, Any], first: int
) -> None:
    # given: 1 + first * (edges 1 + node 1 + id 1 + (1 + first * 3)); 341 for 10, 752,001 for 500
    cost = 1 + first * (4 + 3 * first)
    document = HISTORIES if variables else HISTORIES_BY_DEFAULT
    # when
    body = await api.gql(document, variables, workspace.token)
    # then
    assert _cost(body) == cost
    if cost > settings.max_query_cost:
        _refused(body, cost, settings.max_query_cost)
    else:
        assert "errors" not in body, body["errors"]
        assert body["data"]["contacts"]["edges"] == []


@pytest.mark.parametrize("first", [2, 500])
async def test_fragments_and_inline_fragments_are_counted(
    api: Api, workspace: Workspace, settings: Settings, first: int
) -> None:
    # given: 1 + totalCount 1 + first * (edges 1 + node 1 + (1 + first * 3)); 31 for 2, 752,002 for 500
    cost = 2 + first * (3 + 3 * first)
    # when
    body = await api.gql(FRAGMENTS, {"first": first}, workspace.token)
    # then
    assert _cost(body) == cost
    if first == 500:
        _refused(body, cost, settings.max_query_cost)
    else:
        assert body["data"]["contacts"]["totalCount"] == 0


async def test_the_named_operation_is_the_one_estimated(
    client: httpx.AsyncClient, workspace: Workspace
) -> None:
    async def run(name: str) -> dict[str, Any]:
        response = await client.post(
            "/graphql",
            json={"query": TWO_OPERATIONS, "operationName": name},
            headers={"Authorization": f"Bearer {workspace.token}"},
        )
        return response.json()  # type: ignore[no-any-return]

    cheap, costly = await run("Cheap"), await run("Costly")
    assert cheap["data"]["me"]["id"] == workspace.agent_id
    assert _cost(cheap) == 2
    assert top_level_code(costly) == "LIMIT_EXCEEDED"
    assert _cost(costly) == ATTACK_COST


async def test_a_contact_list_page_the_board_and_the_demo_query_pass_comfortably(
    api: Api, workspace: Workspace, library: Library, settings: Settings
) -> None:
    # given
    for n in range(3):
        await make_contact(api, workspace, library, phone=phone(n), groupIds=library.groups[:1])
    # when
    page = await api.gql(PAGE, {"first": 50}, workspace.token)
    largest_page = await api.gql(PAGE, {"first": 500}, workspace.token)
    board = await api.gql(BOARD, {"first": 50}, workspace.token)
    demo = await api.gql(SAMPLE_QUERY, token=workspace.token)
    # then
    for body in (page, largest_page, board, demo):
        assert "errors" not in body, body["errors"]
        assert _cost(body) * 5 < settings.max_query_cost
    assert len(page["data"]["contacts"]["edges"]) == 3
    assert sum(column["count"] for column in board["data"]["contactBoard"]) == 3
    assert len(demo["data"]["contacts"]["edges"]) == 3


async def test_every_executed_response_reports_its_cost(
    api: Api, workspace: Workspace, library: Library, settings: Settings
) -> None:
    # given
    contact = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": phone(7),
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
    }
    # when
    me = await api.gql("{ me { id name } }", token=workspace.token)
    created = await api.gql(CREATE, {"input": contact}, workspace.token)
    unauthenticated = await api.gql("{ contacts { totalCount } }")
    # then: me 1 + id 1 + name 1; createContact 1 + contact 1 + id 1 + userErrors 1 + code 1
    assert me["extensions"] == {
        "cost": {"requestedQueryCost": 3, "maximumAvailable": settings.max_query_cost}
    }
    assert created["data"]["createContact"]["userErrors"] == []
    assert _cost(created) == 5
    assert top_level_code(unauthenticated) == "UNAUTHENTICATED"
    assert _cost(unauthenticated) == 2


async def test_a_mutation_over_the_limit_writes_nothing(
    api: Api, workspace: Workspace, library: Library, settings: Settings
) -> None:
    # given
    contact = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": phone(8),
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
    }
    before = await snapshot()
    # when
    body = await api.gql(COSTLY_CREATE, {"input": contact}, workspace.token)
    # then
    assert top_level_code(body) == "LIMIT_EXCEEDED"
    assert _cost(body) > settings.max_query_cost
    assert await snapshot() == before
    assert await Contact.find_all().count() == 0


async def test_an_invalid_document_keeps_its_validation_error(api: Api, workspace: Workspace) -> None:
    body = await api.gql(ATTACK.replace("changedAt", "nope"), token=workspace.token)
    assert "Cannot query field 'nope'" in body["errors"][0]["message"]
    assert "extensions" not in body


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscription_over_the_limit_is_refused(
    protocol: str, settings: Settings, engine: Engine, workspace: Workspace
) -> None:
    # given: 1 + contact 1 + (1 + 500 * (edges 1 + node 1 + contact 1 + (1 + 500 * 4))) = 1,002,003
    async with serve(settings, engine) as served, served.connect(protocol) as socket:
        assert (await socket.init(workspace.token))["type"] == "connection_ack"
        # when
        await socket.subscribe(SUBSCRIBE_DEEP)
        answer = await socket.receive()
        # then
        assert (answer["type"], answer["id"]) == ("error", "1")
        error = answer["payload"][0] if protocol == TRANSPORT_WS else answer["payload"]
        assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
        assert "1002003" in error["message"] and str(settings.max_query_cost) in error["message"]
        assert served.app.state.broker.subscriber_count == 0

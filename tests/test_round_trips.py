"""A page of contacts costs a constant number of database round trips, whatever its size.

Round trips are counted by the engine (the in-memory engine's counter, or a PyMongo
command listener on a real server), never timed.
"""

from __future__ import annotations

import pytest

from contactgraph.db import Engine

from .api import CREATE_CUSTOM_FIELD, Api, Library, Workspace, make_contact, phone

CONTACTS_PAGE = """
query($first: Int!) {
  contacts(first: $first) {
    edges {
      node {
        id
        status { name }
        source { name }
        groups { name }
        assignedAgent { name }
        customFields { field { key } value }
      }
    }
  }
}"""

ME = "{ me { id } }"


async def _round_trips(engine: Engine, api: Api, document: str, variables: dict, token: str) -> int:
    before = engine.round_trips.count
    await api.data(document, variables, token)
    return engine.round_trips.count - before


async def _fill(api: Api, workspace: Workspace, library: Library, count: int) -> None:
    for key, type_ in (("plan", "TEXT"), ("budget", "NUMBER")):
        await api.ok(
            CREATE_CUSTOM_FIELD, {"input": {"key": key, "label": key, "type": type_}}, workspace.token
        )
    for n in range(count):
        await make_contact(
            api,
            workspace,
            library,
            phone=phone(n),
            statusId=library.statuses[n % 2],
            sourceId=library.sources[n % 2],
            groupIds=library.groups[: n % 3],
            assignedAgentId=workspace.agent_id if n % 2 else None,
            customFields=[{"key": "plan", "value": f"p{n}"}, {"key": "budget", "value": n}],
        )


async def test_authentication_costs_one_round_trip(engine: Engine, api: Api, workspace: Workspace) -> None:
    assert await _round_trips(engine, api, ME, {}, workspace.token) == 1


@pytest.mark.parametrize("size", [10, 100])
async def test_contacts_page_round_trips_do_not_grow_with_its_size(
    engine: Engine, api: Api, workspace: Workspace, library: Library, size: int
) -> None:
    # given
    await _fill(api, workspace, library, 100)
    # when
    trips = await _round_trips(engine, api, CONTACTS_PAGE, {"first": size}, workspace.token)
    # then: 1 to authenticate, 1 for the page, 1 per loader (status, source, groups, agent, fields)
    assert trips == 1 + 6

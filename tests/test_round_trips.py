"""A page of contacts costs a constant number of database round trips, whatever its size,
and reads no more documents than its answer shows.

Round trips and documents read are counted by the engine (the in-memory engine's
counter, or a PyMongo command listener on a real server), never timed. A document read
is one the server returned: a record, or one result of an aggregation (a count).
"""

from __future__ import annotations

import pytest

from contactgraph.db import Engine

from .api import (
    CREATE_CUSTOM_FIELD,
    CREATE_STATUS,
    Api,
    Library,
    Workspace,
    make_contact,
    phone,
)

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

BOARD = """
query($first: Int!) {
  contactBoard { count contacts(first: $first) { totalCount edges { node { id status { name } } } } }
}"""

JOURNEYS = """
query($first: Int!) {
  contacts(first: $first) {
    edges {
      node {
        id
        statusHistory(first: 1) { totalCount edges { node { id toStatus { name } } } }
        timeline(first: 1) { totalCount edges { node { id channel } } }
      }
    }
  }
}"""

MOVE = """
mutation($contactId: ID!, $statusId: ID!) {
  moveContactStatus(contactId: $contactId, statusId: $statusId) { contact { id } userErrors { code } }
}"""

RECORD = """
mutation($input: InteractionInput!) {
  recordInteraction(input: $input) { interaction { id } userErrors { code } }
}"""

MERGE = """
mutation($p: ID!, $s: ID!) {
  mergeContacts(primaryId: $p, secondaryId: $s) { contact { id otherPhones } userErrors { code } }
}"""


async def _round_trips(engine: Engine, api: Api, document: str, variables: dict, token: str) -> int:
    return (await _reads(engine, api, document, variables, token))[0]


async def _reads(engine: Engine, api: Api, document: str, variables: dict, token: str) -> tuple[int, int]:
    """Round trips and documents read by one request."""
    trips, documents = engine.round_trips.count, engine.round_trips.documents
    await api.data(document, variables, token)
    return engine.round_trips.count - trips, engine.round_trips.documents - documents


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


@pytest.mark.parametrize("size", [10, 150])
async def test_contacts_page_round_trips_do_not_grow_with_its_size(
    engine: Engine, api: Api, workspace: Workspace, library: Library, size: int
) -> None:
    """150 contacts are more than a server's first reply holds (101) unless the page asks for them all."""
    # given
    await _fill(api, workspace, library, 151)
    # when
    trips, documents = await _reads(engine, api, CONTACTS_PAGE, {"first": size}, workspace.token)
    # then: 1 to authenticate, 1 for the page, 1 per loader (status, source, groups, agent, fields)
    assert trips == 1 + 6
    # the token, the page and one contact to tell whether there is more, and each record named once
    assert documents == 1 + (size + 1) + (2 + 2 + 2 + 1 + 2)


async def _new_status(api: Api, workspace: Workspace, name: str) -> str:
    payload = await api.ok(CREATE_STATUS, {"input": {"name": name, "color": "#123456"}}, workspace.token)
    return payload["status"]["id"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("columns", [2, 6])
async def test_board_reads_the_cards_it_shows_and_no_others(
    engine: Engine, api: Api, workspace: Workspace, library: Library, columns: int
) -> None:
    """Every column's first cards come from one aggregation (a branch per column, each bounded
    by its own limit), the statuses read for the columns serve the cards' status too."""
    # given: 4 cards in every column
    statuses = library.statuses + [await _new_status(api, workspace, f"S{n}") for n in range(columns - 2)]
    for n in range(4 * columns):
        await make_contact(api, workspace, library, phone=phone(n), statusId=statuses[n % columns])
    # when
    trips, documents = await _reads(engine, api, BOARD, {"first": 2}, workspace.token)
    # then: 1 to authenticate, 1 for the statuses, 1 counting every column, 1 for every column's cards
    assert trips == 1 + 1 + 1 + 1
    # the token, the statuses, a count per column, and per column its 2 cards and 1 to tell there is more
    assert documents == 1 + columns + columns + columns * (2 + 1)


@pytest.mark.parametrize("size", [3, 12])
async def test_histories_and_timelines_of_a_page_cost_the_same_round_trips_whatever_its_size(
    engine: Engine, api: Api, workspace: Workspace, library: Library, size: int
) -> None:
    # given: contacts with two status changes and two interactions each
    for n in range(size):
        contact = await make_contact(api, workspace, library, phone=phone(n))
        for status in (library.statuses[1], library.statuses[0]):
            await api.ok(MOVE, {"contactId": contact["id"], "statusId": status}, workspace.token)
        for channel in ("whatsapp", "email"):
            interaction = {"contactId": contact["id"], "channel": channel, "direction": "inbound"}
            await api.ok(RECORD, {"input": interaction}, workspace.token)
    # when
    trips, documents = await _reads(engine, api, JOURNEYS, {"first": size}, workspace.token)
    # then: 1 to authenticate, 1 for the page, 1 for the statuses the histories name, and for every
    # history together 1 for their changes and 1 for their counts, the same for every timeline
    assert trips == 1 + 1 + 1 + 2 + 2
    # per contact: its record, the newest change and interaction, one more of each, and both counts
    assert documents == 1 + 2 + size * (1 + 2 + 2 + 2)


async def test_merge_reads_the_two_contacts_and_what_it_hands_over(
    engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    primary = await make_contact(api, workspace, library, phone=phone(1))
    secondary = await make_contact(api, workspace, library, phone=phone(2), email="ada@example.com")
    # when
    _, documents = await _reads(
        engine, api, MERGE, {"p": primary["id"], "s": secondary["id"]}, workspace.token
    )
    # then: the token; both contacts; the primary again as the merge step reads it; the secondary's
    # number claim handed over; the merge journal marked finished. Not the secondary again to delete it.
    assert documents == 1 + 2 + 1 + 1 + 1

"""Database round trips and documents read per operation; one JSON line per operation.

Every figure is counted by the engine (``Engine.round_trips``: the in-memory engine's
counter, or a PyMongo command listener on a real server), never timed, so it is the
same on every machine and on both engines. ``documents_read`` counts the documents
the server returned (cursor batches, findAndModify's value); what a server examines to
find them depends on its indexes and is not counted here.

Each read is checked against its answer: ``documents_needed`` is what the answer
shows (the caller's token, the contacts, one look-ahead contact per page that has a
next one, the statuses, sources, groups, agents, custom fields and dispositions it
names, and the board's statuses), and a page's round trips must not grow with its size
(10, 100 and 500 contacts; 5 and 20 columns; 5 and 11 lists). Every contact is in VIP, a
list with a required field of its own, and every other one in a campaign list with a
field of its own, so list fields are in play on every page; joining a list checks its
required fields in as many round trips for 10 contacts as for 100. The script exits
with 1 when a check fails.

    python bench/round_trips.py      # the engine CONTACTGRAPH_MONGODB_URL names (memory:// by default)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from harness import Bench, bench_app

from contactgraph.access import contact_scope
from contactgraph.ids import decode_id
from contactgraph.models import Agent, Contact
from contactgraph.resolvers.contact_filter import contact_query, contact_sort, search_text
from contactgraph.resolvers.contact_search import Ranked

CARD = """
fragment Card on Contact {
  id firstname lastname fullName phone waId otherPhones email type company city optedOut
  statusChangedAt createdAt updatedAt
  status { id name color }
  source { id name }
  groups { id name }
  assignedAgent { id name }
  customFields { field { id key } value }
}"""

PAGE = (
    """
query($first: Int!) {
  contacts(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...Card } }
  }
}"""
    + CARD
)

BOARD = (
    """
query($cards: Int!) {
  contactBoard {
    status { id name color position }
    count
    contacts(first: $cards) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...Card } }
    }
  }
}"""
    + CARD
)

JOURNEY = (
    """
query($first: Int!) {
  contacts(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        ...Card
        statusHistory(first: 3) {
          totalCount
          pageInfo { hasNextPage }
          edges { node { id changedAt fromStatus { id name } toStatus { id name } changedBy { id name } } }
        }
        timeline(first: 3) {
          totalCount
          pageInfo { hasNextPage }
          edges { node { id channel direction summary occurredAt } }
        }
      }
    }
  }
}"""
    + CARD
)

# The timeline as "show details" shows it: who handled each interaction, its disposition and list.
JOURNEY_DETAILS = (
    """
query($first: Int!) {
  contacts(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        ...Card
        timeline(first: 3) {
          totalCount
          pageInfo { hasNextPage }
          edges {
            node {
              id channel direction summary occurredAt closedAt details
              agent { id name }
              disposition { id name color group { id name } }
            }
          }
        }
      }
    }
  }
}"""
    + CARD
)

# Lists as their settings page shows them; ``count`` is what ``needed`` counts as one result.
LISTS = """
{
  groups {
    id name description count: contactCount
    agents { id name email }
    dispositions { id name color position }
    customFields { id key label type }
  }
}"""

# A page with list fields in play: the values of the fields that apply to each contact (a
# list's only while it is in the list), with the list each field belongs to.
LIST_FIELDS = """
query($first: Int!) {
  contacts(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id
        groups { id name }
        customFields { field { id key required group { id name } } value }
      }
    }
  }
}"""

CONTACT = "query($id: ID!) { contact(id: $id) { ...Card } }" + CARD

AUDIENCE = (
    """
query($groupIds: [ID!], $first: Int!) {
  campaignAudience(groupIds: $groupIds, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ...Card } }
  }
}"""
    + CARD
)

# Writes answer with the contact's id and version only: the figure is the write's own.
ANSWER = "contact { id updatedAt } userErrors { field code message }"
CREATE = f"mutation($input: ContactInput!) {{ createContact(input: $input) {{ {ANSWER} }} }}"
UPDATE = (
    f"mutation($id: ID!, $input: ContactPatch!) {{ updateContact(id: $id, input: $input) {{ {ANSWER} }} }}"
)
MOVE = f"""
mutation($contactId: ID!, $statusId: ID!, $expected: ID) {{
  moveContactStatus(contactId: $contactId, statusId: $statusId, expectedStatusId: $expected) {{ {ANSWER} }}
}}"""
MERGE = f"""
mutation($primaryId: ID!, $secondaryId: ID!) {{
  mergeContacts(primaryId: $primaryId, secondaryId: $secondaryId) {{ {ANSWER} }}
}}"""
JOIN = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  addContactsToGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { field code message } }
}"""
LEAVE = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  removeContactsFromGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { message } }
}"""
UPSERT = f"""
mutation($input: UpsertContactByPhoneInput!) {{ upsertContactByPhone(input: $input) {{ {ANSWER} }} }}"""

INTERACTION = """
mutation($input: InteractionInput!) {
  recordInteraction(input: $input) { interaction { id } userErrors { message } }
}"""
CLOSE = """
mutation($id: ID!, $dispositionId: ID) {
  closeInteraction(id: $id, dispositionId: $dispositionId) { interaction { id } userErrors { message } }
}"""
DISPOSITION = """
mutation($input: DispositionInput!) {
  createDisposition(input: $input) { disposition { id } userErrors { message } }
}"""
ASSIGN = """
mutation($groupId: ID!, $agentIds: [ID!]!) {
  assignAgentsToGroup(groupId: $groupId, agentIds: $agentIds) { group { id } userErrors { message } }
}"""
WORKSPACE = """
mutation($name: String!) { createWorkspace(name: $name) { adminToken userErrors { message } } }"""
ME = "{ me { id } }"
STATUS = """
mutation($input: StatusInput!) { createStatus(input: $input) { status { id } userErrors { message } } }"""
SOURCE = """
mutation($input: SourceInput!) { createSource(input: $input) { source { id } userErrors { message } } }"""
GROUP = """
mutation($input: GroupInput!) { createGroup(input: $input) { group { id } userErrors { message } } }"""
FIELD = """
mutation($input: CustomFieldInput!) {
  createCustomField(input: $input) { customField { id } userErrors { message } }
}"""
AGENT = """
mutation($input: AgentInput!) { createAgent(input: $input) { agent { id } userErrors { message } } }"""
TOKEN = """
mutation($agentId: ID!) {
  createApiToken(agentId: $agentId, name: "bench") { token userErrors { message } }
}"""
SETTINGS = """
mutation($input: WorkspaceSettingsInput!) {
  updateWorkspaceSettings(input: $input) { workspace { id } userErrors { message } }
}"""

CARDS = 5  # per board column
PER_STATUS = 26  # contacts seeded in each status: 520 in the larger workspace
JOURNEYS = 40  # contacts seeded with status changes and interactions


@dataclass
class World:
    """A seeded workspace: its admin token and the ids of what it holds."""

    token: str
    offset: int
    lists: int
    statuses: list[str]
    sources: list[str]
    groups: list[str]
    agents: list[str]
    contacts: list[str] = field(default_factory=list)
    dispositions: list[str] = field(default_factory=list)  # of the first group, which every contact is in
    campaign_lists: list[str] = field(default_factory=list)  # the lists besides the groups


def phone(n: int) -> str:
    return f"+1415{3_000_000 + n:07d}"


async def call(bench: Bench, document: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """The answer's ``data``; any top-level error or userError stops the benchmark."""
    response = await bench.client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(json.dumps(body["errors"]))
    for payload in body["data"].values():
        if isinstance(payload, dict) and payload.get("userErrors"):
            raise RuntimeError(json.dumps(payload["userErrors"]))
    return body["data"]  # type: ignore[no-any-return]


async def seed(bench: Bench, name: str, statuses: int, offset: int, lists: int) -> World:
    """A workspace with ``statuses`` statuses, ``PER_STATUS`` contacts in each, made through the API,
    and ``lists`` lists besides its groups, each with two agents, two dispositions and a field."""
    admin_key = bench.settings.admin_key.get_secret_value()  # type: ignore[union-attr]
    token = (await call(bench, WORKSPACE, {"name": name}, admin_key))["createWorkspace"]["adminToken"]
    me = (await call(bench, ME, {}, token))["me"]["id"]

    async def made(document: str, variables: dict[str, Any], kind: str) -> str:
        data = await call(bench, document, {"input": variables}, token)
        return next(iter(data.values()))[kind]["id"]  # type: ignore[no-any-return]

    world = World(
        token=token,
        offset=offset,
        lists=lists,
        statuses=[
            await made(STATUS, {"name": f"Stage {n}", "color": "#1e90ff"}, "status") for n in range(statuses)
        ],
        sources=[await made(SOURCE, {"name": s}, "source") for s in ("WhatsApp", "Website", "Import")],
        groups=[await made(GROUP, {"name": g}, "group") for g in ("VIP", "Newsletter", "Wholesale")],
        agents=[me],
    )
    world.agents += [
        await made(
            AGENT, {"name": f"Agent {n}", "email": f"agent{n}@example.com", "permissions": []}, "agent"
        )
        for n in range(2)
    ]
    for group in world.groups[:1]:
        for outcome in ("Sold", "Call back"):
            world.dispositions.append(
                await made(DISPOSITION, {"groupId": group, "name": outcome}, "disposition")
            )
    await made(
        FIELD,
        {
            "key": "vip_tier",
            "label": "Tier",
            "type": "DROPDOWN",
            "options": ["gold", "silver"],
            "required": True,
            "groupId": world.groups[0],
        },
        "customField",
    )
    for n in range(lists):
        group = await made(GROUP, {"name": f"List {n}", "description": "a campaign's list"}, "group")
        world.campaign_lists.append(group)
        await call(bench, ASSIGN, {"groupId": group, "agentIds": world.agents[1:]}, token)
        for outcome in ("Reached", "No answer"):
            await made(DISPOSITION, {"groupId": group, "name": outcome}, "disposition")
        await made(
            FIELD, {"key": f"list_{n}_note", "label": "Note", "type": "TEXT", "groupId": group}, "customField"
        )
    for key, type_, options in (
        ("plan", "TEXT", None),
        ("budget", "NUMBER", None),
        ("size", "DROPDOWN", ["S", "M", "L"]),
    ):
        await made(
            FIELD, {"key": key, "label": key.title(), "type": type_, "options": options}, "customField"
        )
    await call(
        bench,
        SETTINGS,
        {"input": {"inboundStatusId": world.statuses[0], "inboundSourceId": world.sources[0]}},
        token,
    )
    for n in range(statuses * PER_STATUS):
        world.contacts.append(await made(CREATE, contact_input(world, offset + n), "contact"))
    for n, contact in enumerate(world.contacts[-JOURNEYS:]):  # the newest, which pages show first
        for step in (1, 2):
            status = world.statuses[(n + step) % len(world.statuses)]
            await call(bench, MOVE, {"contactId": contact, "statusId": status}, token)
            summary = f"message {step}"
            interaction = {
                "contactId": contact,
                "channel": "whatsapp",
                "direction": "inbound",
                "summary": summary,
                "agentId": world.agents[step],
                "details": {"queue": "sales", "seconds": 30 * step, "recorded": True},
            }
            made_id = await made(INTERACTION, interaction, "interaction")
            outcome = world.dispositions[(n + step) % len(world.dispositions)]
            await call(bench, CLOSE, {"id": made_id, "dispositionId": outcome}, token)
    return world


def contact_input(world: World, n: int) -> dict[str, Any]:
    """The n-th contact: every reference and custom value filled, spread over the library."""
    return {
        "firstname": "Ada",
        "lastname": f"Lovelace {n}",
        "phone": phone(n),
        "email": f"ada{n}@example.com",
        "statusId": world.statuses[n % len(world.statuses)],
        "sourceId": world.sources[n % len(world.sources)],
        "groupIds": world.groups[: 1 + n % len(world.groups)] + world.campaign_lists[:1] * (n % 2),
        "assignedAgentId": world.agents[n % len(world.agents)],
        "company": "Analytical Engines",
        "city": "London",
        "customFields": [
            {"key": "plan", "value": f"plan {n % 4}"},
            {"key": "budget", "value": n},
            {"key": "size", "value": "SML"[n % 3]},
            {"key": "vip_tier", "value": ["gold", "silver"][n % 2]},
            *([{"key": "list_0_note", "value": f"note {n}"}] if n % 2 else []),
        ],
    }


async def counted(
    bench: Bench, document: str, variables: dict[str, Any], token: str
) -> tuple[int, int, dict[str, Any]]:
    """Round trips and documents read by one request, and its data."""
    counter = bench.engine.round_trips
    trips, documents = counter.count, counter.documents
    data = await call(bench, document, variables, token)
    return counter.count - trips, counter.documents - documents, data


def needed(answer: Any, also: Collection[str] = ()) -> int:
    """Documents the answer shows: the caller's token (with its agent), every record it names
    once, one look-ahead per page that has more, one result per count, and ``also``, records
    it needed to read."""
    shown: set[str] = set(also)
    more = 0

    def walk(value: Any) -> None:
        nonlocal more
        if isinstance(value, dict):
            if isinstance(value.get("id"), str):
                shown.add(value["id"])
            more += value.get("hasNextPage") is True
            more += sum(1 for key in ("count", "totalCount") if value.get(key))  # no document for a 0
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(answer)
    return 1 + len(shown) + more


def figure(bench: Bench, operation: str, trips: int, documents: int, **extra: Any) -> dict[str, Any]:
    return {
        "benchmark": "round_trips",
        "engine": bench.engine_name,
        "operation": operation,
        "round_trips": trips,
        "documents_read": documents,
        **extra,
    }


def checked(
    bench: Bench, operation: str, trips: int, documents: int, need: int, flat: int | None
) -> dict[str, Any]:
    """A read's figure: within what its answer needs, in as many round trips as ``flat`` (its smallest)."""
    ok = documents <= need and (flat is None or trips == flat)
    return figure(bench, operation, trips, documents, documents_needed=need, ok=ok)


Variant = tuple[str, dict[str, Any], World]


async def sizes(
    bench: Bench, operation: str, document: str, variants: list[Variant], statuses: bool = False
) -> list[dict[str, Any]]:
    """The same read at several sizes: each within its answer, all in as many round trips as the first.

    ``statuses``: the read needs every status of the workspace (a board's columns, a history's filter).
    """
    figures: list[dict[str, Any]] = []
    for label, variables, world in variants:
        trips, documents, data = await counted(bench, document, variables, world.token)
        need = needed(data, world.statuses if statuses else ())
        flat = figures[0]["round_trips"] if figures else None
        figures.append(checked(bench, " ".join(f"{operation} {label}".split()), trips, documents, need, flat))
    return figures


async def reads(bench: Bench, small: World, large: World) -> list[dict[str, Any]]:
    pages: list[Variant] = [(f"of {n}", {"first": n}, large) for n in (10, 100, 500)]
    figures = await sizes(bench, "contacts page", PAGE, pages)
    figures += await sizes(bench, "contacts page, with statusHistory and timeline,", JOURNEY, pages, True)
    figures += await sizes(
        bench, "contacts page, with the timeline's agent, disposition and details,", JOURNEY_DETAILS, pages
    )
    figures += await sizes(bench, "contacts page, with list fields,", LIST_FIELDS, pages)
    team = replace(large, token=await team_token(bench, large))
    team_pages: list[Variant] = [(f"of {n}", {"first": n}, team) for n in (10, 100, 500)]
    figures += await sizes(bench, "contacts page, as a CONTACT_VIEW_TEAM agent,", PAGE, team_pages)
    figures += await sizes(
        bench, "board, as a CONTACT_VIEW_TEAM agent,", BOARD, [("", {"cards": CARDS}, team)], True
    )
    lists: list[Variant] = [(f"{len(w.groups) + w.lists} lists", {}, w) for w in (small, large)]
    figures += await sizes(bench, "groups with agents, dispositions and fields,", LISTS, lists)
    boards: list[Variant] = [
        (f"of {len(w.statuses)} columns, {CARDS} cards each", {"cards": CARDS}, w) for w in (small, large)
    ]
    figures += await sizes(bench, "board", BOARD, boards, True)
    figures += await sizes(bench, "contact by id", CONTACT, [("", {"id": large.contacts[7]}, large)])
    audience: list[Variant] = [
        (f"of {n}", {"groupIds": large.groups[1:2], "first": n}, large) for n in (10, 100)
    ]
    figures += await sizes(bench, "campaign audience page", AUDIENCE, audience)
    return figures


async def team_token(bench: Bench, world: World) -> str:
    """A token of a CONTACT_VIEW_TEAM agent of the second group: its sight is a query of its own."""
    agent = {"name": "Team", "email": "team@example.com", "permissions": ["CONTACT_VIEW_TEAM"]}
    made = await call(bench, AGENT, {"input": agent}, world.token)
    agent_id = made["createAgent"]["agent"]["id"]
    await call(bench, ASSIGN, {"groupId": world.groups[1], "agentIds": [agent_id]}, world.token)
    return (await call(bench, TOKEN, {"agentId": agent_id}, world.token))["createApiToken"]["token"]  # type: ignore[no-any-return]


async def writes(bench: Bench, world: World) -> list[dict[str, Any]]:
    figures = []
    token = world.token
    fresh = contact_input(world, 900_000)
    trips, documents, data = await counted(bench, CREATE, {"input": fresh}, token)
    created = data["createContact"]["contact"]["id"]
    figures.append(figure(bench, "createContact", trips, documents))
    patch = {"firstname": "Augusta", "city": "Paris", "customFields": [{"key": "budget", "value": 42}]}
    trips, documents, _ = await counted(bench, UPDATE, {"id": created, "input": patch}, token)
    figures.append(figure(bench, "updateContact", trips, documents))
    variables = {"contactId": created, "statusId": world.statuses[1], "expected": world.statuses[0]}
    trips, documents, _ = await counted(bench, MOVE, variables, token)
    figures.append(figure(bench, "moveContactStatus", trips, documents))
    variables = {"primaryId": world.contacts[0], "secondaryId": world.contacts[1]}
    trips, documents, _ = await counted(bench, MERGE, variables, token)
    figures.append(figure(bench, "mergeContacts", trips, documents))
    known = {
        "phone": phone(world.offset + 2),
        "firstname": "Ada",
        "customFields": [{"key": "plan", "value": "gold"}],
    }
    trips, documents, _ = await counted(bench, UPSERT, {"input": known}, token)
    figures.append(figure(bench, "upsertContactByPhone, a known number", trips, documents))
    new = {"phone": phone(900_001), "firstname": "Grace", "customFields": [{"key": "plan", "value": "trial"}]}
    trips, documents, _ = await counted(bench, UPSERT, {"input": new}, token)
    figures.append(figure(bench, "upsertContactByPhone, a new number", trips, documents))
    return figures + await joins(bench, world)


async def joins(bench: Bench, world: World) -> list[dict[str, Any]]:
    """Contacts rejoining VIP, whose required field they hold still: as many round trips for 10 as for 100."""
    figures: list[dict[str, Any]] = []
    vip, start = world.groups[0], 2  # the first two were merged
    for n in (10, 100):
        contacts = world.contacts[start : start + n]
        start += n
        await call(bench, LEAVE, {"groupId": vip, "contactIds": contacts}, world.token)
        variables = {"groupId": vip, "contactIds": contacts}
        trips, documents, data = await counted(bench, JOIN, variables, world.token)
        flat = figures[0]["round_trips"] if figures else trips
        operation = f"addContactsToGroup, a list with a required field, {n} contacts"
        line = figure(bench, operation, trips, documents)
        figures.append({**line, "ok": trips == flat and data["addContactsToGroup"]["count"] == n})
    return figures


# ---------------------------------------------------------------- search over a whole contact list

SEARCH_CONTACTS = int(os.environ.get("ROUND_TRIPS_SEARCH_CONTACTS", "50000"))
SEARCH_PAGE = 20
SEARCH = (
    """
query($search: String!, $first: Int!) {
  contacts(filter: {search: $search}, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...Card } }
  }
}"""
    + CARD
)
SEARCHES = {
    "an accented name typed plain": "zoe orsted",
    "two words, the last name first": "hopper gra",
    "a company": "acme",
    "a city, accents typed": "são paulo",
    "an email domain": "globex.example",
    "a run of phone digits": "310 0777",
    "one letter": "a",
    "nobody": "zzzz",
}
FIRST_NAMES = ["Zoë", "Grace", "Ada", "Alan", "Émile", "Søren", "María", "Jürgen", "小明", "Noor", "Kwame"]
LAST_NAMES = ["Hopper", "Lovelace", "Ørsted", "Müller", "García", "Nguyen", "王", "Okafor", "Smith", "Ivanov"]
COMPANIES = [None, "Acme Rockets", "Globex", "Initech", "Société Générale", "Umbrella", "Stark Industries"]
CITIES = ["Lyon", "São Paulo", "Zürich", "İstanbul", "London", "北京", "Lagos", "New York", "Kraków"]


async def search_world(bench: Bench) -> tuple[str, Agent]:
    """A workspace of ``SEARCH_CONTACTS`` contacts, written in bulk by the model layer (as an import
    writes them, through ``derive``): its admin token and agent."""
    admin_key = bench.settings.admin_key.get_secret_value()  # type: ignore[union-attr]
    token = (await call(bench, WORKSPACE, {"name": "search"}, admin_key))["createWorkspace"]["adminToken"]
    agent = await Agent.get(decode_id((await call(bench, ME, {}, token))["me"]["id"], "Agent"))
    assert agent is not None
    status = await call(bench, STATUS, {"input": {"name": "New", "color": "#1e90ff"}}, token)
    source = await call(bench, SOURCE, {"input": {"name": "Import"}}, token)
    refs = {
        "status_id": decode_id(status["createStatus"]["status"]["id"], "ContactStatus"),
        "source_id": decode_id(source["createSource"]["source"]["id"], "ContactSource"),
    }
    batch: list[Contact] = []
    for n in range(SEARCH_CONTACTS):
        company = COMPANIES[n % len(COMPANIES)]
        values = {
            "firstname": FIRST_NAMES[n % len(FIRST_NAMES)],
            "lastname": LAST_NAMES[n // 7 % len(LAST_NAMES)],
            "phone": f"+1415{3_100_000 + n:07d}",
            "email": f"person{n}@{(company or 'mail').split()[0].lower()}.example" if n % 2 else None,
            "company": company,
            "city": CITIES[n // 3 % len(CITIES)],
            **refs,
        }
        batch.append(Contact.new(agent.workspace_id, **values))
        if len(batch) == 1_000 or n == SEARCH_CONTACTS - 1:
            await Contact.insert_many(batch)
            batch = []
    return token, agent


def plan_stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stage of a winning plan (``queryPlan`` where the slot-based engine wraps it)."""
    plan = plan.get("queryPlan", plan)
    stages = [plan]
    for child in [plan.get("inputStage"), *plan.get("inputStages", [])]:
        if child:
            stages += plan_stages(child)
    return stages


async def explained(bench: Bench, agent: Agent, text: str) -> dict[str, Any]:
    """How MongoDB reads a search's page: each rank's branch of the aggregation, as a find."""
    query = await contact_query(contact_scope(agent), {"search": text})
    searched = search_text(text)
    assert searched is not None
    ranked = Ranked.of(query, searched, contact_sort(None, True))
    indexes: set[str] = set()
    collscan, keys, docs = False, 0, 0
    for branch in ranked.branches(SEARCH_PAGE + 1, backwards=False, after=None, before=None):
        find = {"find": Contact.get_collection_name(), "filter": branch.query, "limit": branch.limit}
        find["sort"] = dict(branch.sort.directions)
        explain = await bench.engine.database.command({"explain": find, "verbosity": "executionStats"})
        stages = plan_stages(explain["queryPlanner"]["winningPlan"])
        indexes.update(s["indexName"] for s in stages if "indexName" in s)
        collscan = collscan or any(s.get("stage") == "COLLSCAN" for s in stages)
        keys += explain["executionStats"]["totalKeysExamined"]
        docs += explain["executionStats"]["totalDocsExamined"]
    return {"index": sorted(indexes), "collscan": collscan, "keys_examined": keys, "docs_examined": docs}


async def searches(bench: Bench) -> list[dict[str, Any]]:
    """Searches over ``SEARCH_CONTACTS`` contacts: each reads its page (and one more) and no other
    contact, in as many round trips as the others that find someone; on MongoDB, through the
    ``search_terms`` index and never a collection scan."""
    token, agent = await search_world(bench)
    figures: list[dict[str, Any]] = []
    for label, text in SEARCHES.items():
        trips, documents, data = await counted(bench, SEARCH, {"search": text, "first": SEARCH_PAGE}, token)
        found = data["contacts"]["totalCount"]
        flat = figures[0]["round_trips"] if figures else trips
        operation = f"search of {SEARCH_CONTACTS} contacts, {label} ({text!r})"
        line = figure(bench, operation, trips, documents, documents_needed=needed(data), matches=found)
        ok = documents <= line["documents_needed"] and trips <= flat and (found > 0) == (label != "nobody")
        if not bench.engine.in_memory:
            line |= await explained(bench, agent, text)
            ok = ok and not line["collscan"] and any("search_terms" in name for name in line["index"])
        line["ok"] = ok
        figures.append(line)
    return figures


async def main() -> int:
    async with bench_app() as bench:
        small = await seed(bench, "five columns", 5, 0, lists=2)
        large = await seed(bench, "twenty columns", 20, 10_000, lists=8)
        figures = await reads(bench, small, large) + await writes(bench, large)
        figures += await searches(bench)
    for line in figures:
        print(json.dumps(line))
    failed = [line["operation"] for line in figures if line.get("ok") is False]
    if failed:
        print(f"round_trips: checks failed for {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

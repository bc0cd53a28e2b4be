"""The traffic: a workspace set up over the API, then clients running a mix of operations.

Clients share a pool of the contacts they believe alive and a ledger of what the server
answered (created, deleted, merged away, every status it reported setting), from which
the invariants are checked afterwards. Upserts draw from a small set of numbers, and
some creates and phone changes from it too, so that writes race for the same numbers.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .client import Client

CREATE_WORKSPACE = """
mutation($name: String!) {
  createWorkspace(name: $name) { workspace { id } adminToken userErrors { code message } }
}"""
ME = "{ me { id } }"
CREATE_STATUS = """
mutation($name: String!, $color: String!) {
  createStatus(input: {name: $name, color: $color}) { status { id } userErrors { code message } }
}"""
CREATE_SOURCE = """
mutation($name: String!) {
  createSource(input: {name: $name}) { source { id } userErrors { code message } }
}"""
CREATE_GROUP = """
mutation($name: String!) { createGroup(input: {name: $name}) { group { id } userErrors { code message } } }"""
CREATE_FIELD = """
mutation { createCustomField(input: {key: "last_message", label: "Last message", type: TEXT}) {
  customField { id } userErrors { code message } } }"""
SETTINGS = """
mutation($status: ID!, $source: ID!) {
  updateWorkspaceSettings(input: {inboundStatusId: $status, inboundSourceId: $source}) {
    userErrors { code message } } }"""
CREATE_AGENT = """
mutation($input: AgentInput!) { createAgent(input: $input) { agent { id } userErrors { code message } } }"""
CREATE_TOKEN = """
mutation($agentId: ID!) {
  createApiToken(agentId: $agentId, name: "load") { token userErrors { code message } }
}"""
CREATE_WEBHOOK = """
mutation($url: String!, $events: [WebhookEvent!]!) {
  createWebhook(input: {url: $url, events: $events}) { webhook { id secret } userErrors { code message } }
}"""

CONTACT = "id status { id } statusChangedAt assignedAgent { id }"
LIST = """
query($filter: ContactFilter, $sort: ContactSort, $after: String) {
  contacts(filter: $filter, sort: $sort, first: 20, after: $after) {
    totalCount
    edges { node { id fullName phone otherPhones status { name color } source { name }
                   groups { name } assignedAgent { name } customField(key: "last_message") } }
    pageInfo { hasNextPage endCursor }
  }
}"""
BOARD = """
query($filter: ContactFilter) {
  contactBoard(filter: $filter) {
    status { id name } count
    contacts(first: 5) { edges { node { id fullName phone assignedAgent { id } } } }
  }
}"""
CREATE = f"""
mutation($input: ContactInput!) {{
  createContact(input: $input) {{ contact {{ {CONTACT} }} userErrors {{ code }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: ContactPatch!) {{
  updateContact(id: $id, input: $input) {{ contact {{ {CONTACT} }} userErrors {{ code }} }}
}}"""
MOVE = f"""
mutation($id: ID!, $statusId: ID!) {{
  moveContactStatus(contactId: $id, statusId: $statusId) {{ contact {{ {CONTACT} }} userErrors {{ code }} }}
}}"""
UPSERT = f"""
mutation($input: UpsertContactByPhoneInput!) {{
  upsertContactByPhone(input: $input) {{ contact {{ {CONTACT} }} userErrors {{ code }} }}
}}"""
MERGE = """
mutation($p: ID!, $s: ID!) {
  mergeContacts(primaryId: $p, secondaryId: $s) { contact { id otherPhones } userErrors { code } }
}"""
DELETE = "mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { code } } }"
ASSIGN = """
mutation($ids: [ID!]!, $agentId: ID) {
  assignContacts(contactIds: $ids, agentId: $agentId) { count userErrors { code } }
}"""

WEBHOOK_EVENTS = [
    "CONTACT_CREATED",
    "CONTACT_UPDATED",
    "CONTACT_DELETED",
    "CONTACT_STATUS_CHANGED",
    "CONTACT_MERGED",
    "CONTACT_OPTED_OUT",
]
STATUSES = [("New", "#1e90ff"), ("Contacted", "#f1c40f"), ("Qualified", "#9b59b6"), ("Won", "#2ecc71")]
OWN_AGENTS = 2  # CONTACT_VIEW_OWN agents, each with a subscriber of its own
HOT_NUMBERS = 300  # the numbers upserts (and some creates) race for
NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]

# What a race may make the server answer: anything else is a failure.
EXPECTED = {
    "create": frozenset({"PHONE_TAKEN"}),
    "update": frozenset({"NOT_FOUND", "PHONE_TAKEN", "CONFLICT"}),
    "move": frozenset({"NOT_FOUND", "CONFLICT"}),
    "upsert": frozenset({"CONFLICT"}),
    "merge": frozenset({"NOT_FOUND", "INVALID", "BLOCKED", "CONFLICT"}),
    "delete": frozenset({"NOT_FOUND"}),
    "assign": frozenset({"NOT_FOUND"}),
}
# How often each operation is picked.
MIX = {
    "list": 18,
    "board": 8,
    "create": 12,
    "update": 12,
    "move": 20,
    "upsert": 15,
    "merge": 4,
    "delete": 4,
    "assign": 7,
}


def phone(n: int) -> str:
    """The n-th of a series of valid, distinct US numbers (as the test suite spells them)."""
    return f"+1415{2000000 + n:07d}"


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class StatusSet:
    """A status the server answered that it gave a contact, and when that contact's status last changed."""

    contact_id: str
    status_id: str
    changed_at: datetime | None


@dataclass
class Pool:
    """Ids the clients believe alive: random picks, O(1) removal."""

    ids: list[str] = field(default_factory=list)
    where: dict[str, int] = field(default_factory=dict)

    def add(self, contact_id: str) -> None:
        if contact_id not in self.where:
            self.where[contact_id] = len(self.ids)
            self.ids.append(contact_id)

    def discard(self, contact_id: str) -> None:
        index = self.where.pop(contact_id, None)
        if index is None:
            return
        last = self.ids.pop()
        if last != contact_id:
            self.ids[index] = last
            self.where[last] = index

    def pick(self, rng: random.Random, count: int) -> list[str]:
        return rng.sample(self.ids, min(count, len(self.ids)))

    def one(self, rng: random.Random) -> str | None:
        return rng.choice(self.ids) if self.ids else None


@dataclass
class Ledger:
    """What the server's answers said happened."""

    created: set[str] = field(default_factory=set)  # every contact id an answer of create or upsert named
    deleted: set[str] = field(default_factory=set)
    merged_away: dict[str, str] = field(default_factory=dict)  # secondary -> primary
    statuses_set: list[StatusSet] = field(default_factory=list)
    live: Pool = field(default_factory=Pool)

    def saw(self, contact: dict[str, Any], made: bool = False) -> None:
        if made:
            self.created.add(contact["id"])
            if contact["id"] not in self.deleted and contact["id"] not in self.merged_away:
                self.live.add(contact["id"])

    def status_set(self, contact: dict[str, Any]) -> None:
        self.statuses_set.append(
            StatusSet(contact["id"], contact["status"]["id"], parse_time(contact["statusChangedAt"]))
        )


@dataclass
class Agent:
    id: str
    token: str


@dataclass
class Workspace:
    id: str
    admin: Agent
    viewer: Agent  # CONTACT_VIEW only
    own: list[Agent]  # CONTACT_VIEW_OWN and CONTACT_EDIT
    statuses: list[str]
    sources: list[str]
    groups: list[str]
    sentinels: dict[str, str] = field(default_factory=dict)  # own agent id -> a contact only barriers move
    webhook_secret: str = ""


async def _ok(client: Client, operation: str, document: str, variables: dict[str, Any], token: str) -> Any:
    payload = await client.mutate(operation, document, variables, token)
    if payload is None:
        raise RuntimeError(f"setting up the load failed at {operation}: {client.outcomes.failures[-1:]}")
    return payload


async def set_up(client: Client, admin_key: str, receiver_url: str) -> Workspace:
    """A workspace with its library, agents of each kind, and a webhook to the receiver."""
    made = await _ok(client, "setup", CREATE_WORKSPACE, {"name": "load"}, admin_key)
    token = made["adminToken"]
    me = await client.gql("setup", ME, {}, token)
    assert me is not None
    statuses = [
        (await _ok(client, "setup", CREATE_STATUS, {"name": n, "color": c}, token))["status"]["id"]
        for n, c in STATUSES
    ]
    sources = [
        (await _ok(client, "setup", CREATE_SOURCE, {"name": n}, token))["source"]["id"]
        for n in ("WhatsApp", "Website")
    ]
    groups = [
        (await _ok(client, "setup", CREATE_GROUP, {"name": n}, token))["group"]["id"]
        for n in ("VIP", "Trial")
    ]
    await _ok(client, "setup", CREATE_FIELD, {}, token)
    await _ok(client, "setup", SETTINGS, {"status": statuses[0], "source": sources[0]}, token)

    async def agent(name: str, permissions: list[str]) -> Agent:
        new = {"name": name, "email": f"{name}@load.example", "permissions": permissions}
        agent_id = (await _ok(client, "setup", CREATE_AGENT, {"input": new}, token))["agent"]["id"]
        secret = (await _ok(client, "setup", CREATE_TOKEN, {"agentId": agent_id}, token))["token"]
        return Agent(agent_id, secret)

    viewer = await agent("viewer", ["CONTACT_VIEW"])
    own = [await agent(f"own{n}", ["CONTACT_VIEW_OWN", "CONTACT_EDIT"]) for n in range(OWN_AGENTS)]
    hook = await _ok(client, "setup", CREATE_WEBHOOK, {"url": receiver_url, "events": WEBHOOK_EVENTS}, token)
    return Workspace(
        made["workspace"]["id"],
        Agent(me["me"]["id"], token),
        viewer,
        own,
        statuses,
        sources,
        groups,
        webhook_secret=hook["webhook"]["secret"],
    )


class Traffic:
    """The operations a client runs, over a shared workspace, ledger and random source."""

    def __init__(self, client: Client, workspace: Workspace, ledger: Ledger, rng: random.Random) -> None:
        self.client = client
        self.ws = workspace
        self.ledger = ledger
        self.rng = rng
        self.operations = list(MIX)
        self.weights = list(MIX.values())

    # ------------------------------------------------------------ set-up data

    def contact_input(self, number: str) -> dict[str, Any]:
        rng = self.rng
        given = {
            "firstname": rng.choice(NAMES),
            "lastname": rng.choice(NAMES) + "son",
            "phone": number,
            "statusId": rng.choice(self.ws.statuses),
            "sourceId": rng.choice(self.ws.sources),
            "groupIds": rng.sample(self.ws.groups, rng.randint(0, 2)),
        }
        if rng.random() < 0.3:
            given["assignedAgentId"] = rng.choice(self.ws.own).id
        return given

    async def seed(self, count: int, first_number: int) -> None:
        for n in range(count):
            payload = await _ok(
                self.client,
                "seed",
                CREATE,
                {"input": self.contact_input(phone(first_number + n))},
                self.ws.admin.token,
            )
            self.ledger.saw(payload["contact"], made=True)

    async def sentinel(self, agent: Agent, number: str) -> str:
        """A contact assigned to ``agent`` that only the subscribers' barriers move."""
        given = {**self.contact_input(number), "assignedAgentId": agent.id, "statusId": self.ws.statuses[0]}
        payload = await _ok(self.client, "seed", CREATE, {"input": given}, self.ws.admin.token)
        self.ledger.created.add(payload["contact"]["id"])
        return payload["contact"]["id"]  # type: ignore[no-any-return]

    # ------------------------------------------------------------ the loop

    async def run(
        self, deadline: float, max_requests: int, think: float, token: str, reader_only: bool = False
    ) -> int:
        """Run operations until ``deadline`` (monotonic) or ``max_requests``; how many ran.

        Between two operations the client pauses 0 to ``2 * think`` seconds, as a person
        or a bot between two messages does.
        """
        done = 0
        while time.monotonic() < deadline and done < max_requests:
            operation = self.rng.choices(self.operations, self.weights)[0]
            if reader_only and operation not in ("list", "board", "move"):
                operation = "list"
            await getattr(self, operation)(token)
            done += 1
            pause = min(self.rng.uniform(0, 2 * think), deadline - time.monotonic())
            if pause > 0:
                await asyncio.sleep(pause)
        return done

    async def list(self, token: str) -> None:
        rng = self.rng
        variables: dict[str, Any] = {}
        roll = rng.random()
        if roll < 0.3:
            variables["filter"] = {"statusIds": [rng.choice(self.ws.statuses)]}
        elif roll < 0.5:
            variables["filter"] = {"search": rng.choice(NAMES)[:2]}
        elif roll < 0.6:
            variables["filter"] = {"groupIds": [rng.choice(self.ws.groups)]}
        if rng.random() < 0.5:
            variables["sort"] = {
                "field": rng.choice(["CREATED_AT", "UPDATED_AT", "LASTNAME"]),
                "direction": "DESC",
            }
        data = await self.client.gql("list", LIST, variables, token)
        if data and rng.random() < 0.3 and data["contacts"]["pageInfo"]["hasNextPage"]:
            after = data["contacts"]["pageInfo"]["endCursor"]
            await self.client.gql("list_next_page", LIST, {**variables, "after": after}, token)

    async def board(self, token: str) -> None:
        variables = (
            {"filter": {"groupIds": [self.rng.choice(self.ws.groups)]}} if self.rng.random() < 0.3 else {}
        )
        await self.client.gql("board", BOARD, variables, token)

    async def create(self, token: str) -> None:
        rng = self.rng
        n = rng.randrange(HOT_NUMBERS) if rng.random() < 0.1 else rng.randrange(100_000, 999_999)
        variables = {"input": self.contact_input(phone(n))}
        payload = await self.client.mutate("create", CREATE, variables, token, EXPECTED["create"])
        if payload:
            self.ledger.saw(payload["contact"], made=True)

    async def update(self, token: str) -> None:
        rng = self.rng
        contact_id = self.ledger.live.one(rng)
        if contact_id is None:
            return
        patch: dict[str, Any] = {"company": f"Company {rng.randrange(1000)}"}
        roll = rng.random()
        if roll < 0.3:
            patch["statusId"] = rng.choice(self.ws.statuses)
        elif roll < 0.5:
            patch["assignedAgentId"] = rng.choice([*(a.id for a in self.ws.own), None])
        elif roll < 0.6:
            patch["phone"] = phone(rng.randrange(HOT_NUMBERS))
        payload = await self.client.mutate(
            "update", UPDATE, {"id": contact_id, "input": patch}, token, EXPECTED["update"]
        )
        if payload and "statusId" in patch:
            self.ledger.status_set(payload["contact"])

    async def move(self, token: str) -> None:
        contact_id = self.ledger.live.one(self.rng)
        if contact_id is None:
            return
        variables = {"id": contact_id, "statusId": self.rng.choice(self.ws.statuses)}
        payload = await self.client.mutate("move", MOVE, variables, token, EXPECTED["move"])
        if payload:
            self.ledger.status_set(payload["contact"])

    async def upsert(self, token: str) -> None:
        rng = self.rng
        given = {
            "phone": phone(rng.randrange(HOT_NUMBERS)),
            "firstname": rng.choice(NAMES),
            "customFields": [{"key": "last_message", "value": f"message {rng.randrange(10**6)}"}],
        }
        payload = await self.client.mutate("upsert", UPSERT, {"input": given}, token, EXPECTED["upsert"])
        if payload:
            self.ledger.saw(payload["contact"], made=True)

    async def merge(self, token: str) -> None:
        picked = self.ledger.live.pick(self.rng, 2)
        if len(picked) < 2:
            return
        primary, secondary = picked
        payload = await self.client.mutate(
            "merge", MERGE, {"p": primary, "s": secondary}, token, EXPECTED["merge"]
        )
        if payload:
            self.ledger.merged_away[secondary] = payload["contact"]["id"]
            self.ledger.live.discard(secondary)

    async def delete(self, token: str) -> None:
        contact_id = self.ledger.live.one(self.rng)
        if contact_id is None:
            return
        payload = await self.client.mutate("delete", DELETE, {"ids": [contact_id]}, token, EXPECTED["delete"])
        for deleted in payload["deletedIds"] if payload else []:
            self.ledger.deleted.add(deleted)
            self.ledger.live.discard(deleted)

    async def assign(self, token: str) -> None:
        ids = self.ledger.live.pick(self.rng, self.rng.randint(1, 3))
        if not ids:
            return
        agent_id = self.rng.choice([*(a.id for a in self.ws.own), None])
        await self.client.mutate(
            "assign", ASSIGN, {"ids": ids, "agentId": agent_id}, token, EXPECTED["assign"]
        )


async def run_clients(
    traffic: list[Traffic], seconds: float, max_requests: int, think: float, tokens: list[tuple[str, bool]]
) -> int:
    """Every client at once until ``seconds`` pass; how many operations they ran."""
    deadline = time.monotonic() + seconds
    counts = await asyncio.gather(
        *(
            t.run(deadline, max_requests, think, token, reader)
            for t, (token, reader) in zip(traffic, tokens, strict=True)
        )
    )
    return sum(counts)

"""``serve --demo``: a workspace with a library and about 200 contacts, made through the API.

One list is a call centre's: its own fields, dispositions, a team agent assigned to it (her
token is printed beside the admin's), and calls in its contacts' journeys.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import phonenumbers

from .auth import context_for

if TYPE_CHECKING:
    from .app import GraphQLApp

STATUSES = [
    ("New", "#1e90ff"),
    ("Contacted", "#f5a623"),
    ("Qualified", "#9b59b6"),
    ("Won", "#2ecc71"),
    ("Lost", "#95a5a6"),
]
SOURCES = ["WhatsApp", "Website", "Referral", "Campaign"]
GROUPS = [("VIP", "Customers who get priority"), ("Newsletter", None), ("Wholesale", "Resellers")]
FIELDS: list[dict[str, Any]] = [
    {"key": "plan", "label": "Plan", "type": "DROPDOWN", "options": ["Free", "Pro", "Enterprise"]},
    {"key": "budget", "label": "Budget", "type": "NUMBER"},
    {"key": "birthday", "label": "Birthday", "type": "DATE"},
    {"key": "last_order_at", "label": "Last order", "type": "DATETIME"},
    {"key": "newsletter", "label": "Wants the newsletter", "type": "CHECKBOX"},
    {"key": "favourite_product", "label": "Favourite product", "type": "TEXT"},
    {"key": "notes", "label": "Notes", "type": "TEXTAREA"},
    {"key": "linkedin", "label": "LinkedIn", "type": "URL"},
]
# A call centre's list, as XCALLY's Contacts Manager has one: its own fields, its outcome
# codes, and a team agent assigned to it who sees its members (CONTACT_VIEW_TEAM).
SUPPORT = ("Support line", "Customers the support team calls back")
SUPPORT_FIELDS: list[dict[str, Any]] = [
    {"key": "case_number", "label": "Case number", "type": "TEXT", "required": True},
    {"key": "priority", "label": "Priority", "type": "DROPDOWN", "options": ["Low", "Normal", "Urgent"]},
    {"key": "callback_at", "label": "Call back at", "type": "DATETIME", "clickToAction": True},
]
DISPOSITIONS = [("Resolved", "#2ecc71"), ("Call back", "#f5a623"), ("Escalated", "#e74c3c")]
TEAM_AGENT = {
    "name": "Tess Team",
    "email": "tess@example.com",
    "permissions": ["CONTACT_VIEW_TEAM", "CONTACT_EDIT"],
}
SUPPORT_EVERY = 5  # every fifth contact is on the support line: 40 of 200
CALLS = 20  # support contacts with calls in their journey

FIRST = (
    "Ana Bruno Chloé Dmitri Emeka Fatima Giulia Hiro Inès João Kwame Lena Mateo"
    " Nadia Omar Priya Quentin Rosa Sven Tomás Uma Vikram Wen Yara Zoë"
).split()
LAST = (
    "Almeida Bauer Castro Dubois Eze Fischer García Haddad Ibrahim Jensen Kowalski López"
    " Müller Nakamura Okafor Pereira Rossi Silva Tanaka Ueda Varga Wang Yilmaz Zhou"
).split()
PREFIXES = ["+1415", "+447911", "+5511", "+919820", "+4915", "+2348"]

LIST_QUERY = """{
  groups {
    name agents { name } dispositions { name color }
    customFields { key label type required clickToAction }
  }
  contacts(first: 3, filter: {customFields: [{key: "case_number", exists: true}]}) {
    edges { node { fullName customFields { field { key } value } timeline(first: 3) {
      edges { node { channel summary open details agent { name } disposition { name } } }
    } } }
  }
}"""

SAMPLE_QUERY = """{
  contacts(first: 10, sort: {field: UPDATED_AT, direction: DESC}) {
    totalCount
    edges {
      node { fullName phone status { name color } groups { name } customFields { field { key } value } }
    }
  }
}"""


def _phones(rng: random.Random, count: int) -> list[str]:
    numbers: set[str] = set()
    while len(numbers) < count:
        prefix = rng.choice(PREFIXES)
        candidate = prefix + "".join(rng.choice("0123456789") for _ in range(13 - len(prefix)))
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            numbers.add(candidate)
    return sorted(numbers)


def _custom_values(rng: random.Random, first: str, last: str) -> list[dict[str, Any]]:
    """A value for every field type, some left empty as real data is."""
    values = {
        "plan": rng.choice(["Free", "Pro", "Enterprise"]),
        "budget": rng.randint(1, 500) * 100,
        "birthday": f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "last_order_at": (
            f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T{rng.randint(8, 20):02d}:30:00Z"
        ),
        "newsletter": rng.random() < 0.5,
        "favourite_product": rng.choice(["Coffee beans", "Grinder", "Espresso machine", "Gift card"]),
        "notes": f"Met {first} at the spring fair.\nPrefers WhatsApp in the evening.",
        "linkedin": f"https://www.linkedin.com/in/{first}-{last}".lower(),
    }
    return [{"key": key, "value": value} for key, value in values.items() if rng.random() < 0.8]


async def _run(graphql: GraphQLApp, context: Any, document: str, **variables: Any) -> dict[str, Any]:
    result = await graphql.schema.execute(document, variable_values=variables, context_value=context)
    if result.errors:
        raise RuntimeError(f"demo seeding failed: {result.errors}")
    data = next(iter(result.data.values()))  # type: ignore[union-attr]
    if data.get("userErrors"):
        raise RuntimeError(f"demo seeding failed: {data['userErrors']}")
    return data  # type: ignore[no-any-return]


def _support_values(rng: random.Random, n: int) -> list[dict[str, Any]]:
    return [
        {"key": "case_number", "value": f"SUP-{1000 + n}"},
        {"key": "priority", "value": rng.choice(["Low", "Normal", "Urgent"])},
        {"key": "callback_at", "value": _days_ago(rng, -14)},
    ]


def _days_ago(rng: random.Random, most: int) -> str:
    """A moment up to ``most`` days ago (negative: ahead), in office hours, as ISO-8601."""
    day = datetime.now(UTC) - timedelta(days=rng.randint(min(most, 0), max(most, 0)))
    return day.replace(hour=rng.randint(9, 17), minute=15, second=0, microsecond=0).isoformat()


CREATE = (
    "mutation($i: {input}!) {{ {mutation}(input: $i)"
    " {{ {result} {{ id }} userErrors {{ field message }} }} }}"
)
ASSIGN = """
mutation($g: ID!, $a: [ID!]!) {
  assignAgentsToGroup(groupId: $g, agentIds: $a) { group { id } userErrors { field message } }
}"""
TOKEN = """
mutation($a: ID!, $n: String!) {
  createApiToken(agentId: $a, name: $n) { token userErrors { field message } }
}"""
CLOSE = """
mutation($id: ID!, $d: ID) {
  closeInteraction(id: $id, dispositionId: $d) { interaction { id } userErrors { field message } }
}"""


async def _create(
    graphql: GraphQLApp, context: Any, mutation: str, input_type: str, result: str, values: dict[str, Any]
) -> str:
    """Run one ``create…`` mutation of the demo; the id of what it made."""
    document = CREATE.format(input=input_type, mutation=mutation, result=result)
    return (await _run(graphql, context, document, i=values))[result]["id"]  # type: ignore[no-any-return]


async def seed_demo(graphql: GraphQLApp, url: str) -> None:
    settings = graphql.settings
    admin_key = settings.admin_key.get_secret_value()  # type: ignore[union-attr]
    admin = await context_for(settings, f"Bearer {admin_key}")
    created = await _run(
        graphql, admin, "mutation($n: String!) { createWorkspace(name: $n) { adminToken } }", n="Demo"
    )
    token = created["adminToken"]
    ctx = await context_for(settings, f"Bearer {token}")
    statuses = [
        await _create(graphql, ctx, "createStatus", "StatusInput", "status", {"name": n, "color": c})
        for n, c in STATUSES
    ]
    sources = [
        await _create(graphql, ctx, "createSource", "SourceInput", "source", {"name": n}) for n in SOURCES
    ]
    groups = [
        await _create(graphql, ctx, "createGroup", "GroupInput", "group", {"name": n, "description": d})
        for n, d in GROUPS
    ]
    for field in FIELDS:
        await _create(graphql, ctx, "createCustomField", "CustomFieldInput", "customField", field)
    seller = {
        "name": "Sam Seller",
        "email": "sam@example.com",
        "permissions": ["CONTACT_VIEW_OWN", "CONTACT_EDIT"],
    }
    agent = await _create(graphql, ctx, "createAgent", "AgentInput", "agent", seller)
    support, team_token = await _support_line(graphql, ctx)
    rng = random.Random(7)
    on_the_line: list[str] = []
    for i, phone in enumerate(_phones(rng, 200)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact: dict[str, Any] = {
            "firstname": first,
            "lastname": last,
            "phone": phone,
            "email": f"{first}.{last}.{i}@example.com".lower() if rng.random() < 0.7 else None,
            "type": rng.choice(["LEAD", "CUSTOMER", "GUEST"]),
            "statusId": rng.choice(statuses),
            "sourceId": rng.choice(sources),
            "groupIds": rng.sample(groups, rng.randint(0, 2)),
            "assignedAgentId": agent if rng.random() < 0.3 else None,
            "city": rng.choice(["Lisbon", "Lagos", "São Paulo", "Mumbai", "Berlin", "San Francisco"]),
            "customFields": _custom_values(rng, first, last),
        }
        if i % SUPPORT_EVERY == 0:
            contact["groupIds"] = [*contact["groupIds"], support.group]
            contact["customFields"] = [*contact["customFields"], *_support_values(rng, i)]
        made = await _create(graphql, ctx, "createContact", "ContactInput", "contact", contact)
        if i % SUPPORT_EVERY == 0:
            on_the_line.append(made)
    await _calls(graphql, ctx, rng, support, on_the_line[:CALLS])
    print(
        "\ncontactgraph demo is ready\n"
        f"  GraphiQL:        {url}\n"
        f"  board:           {url.removesuffix('/graphql')}/board  (open it with the token below)\n"
        f"  header to set:   {json.dumps({'Authorization': f'Bearer {token}'})}\n"
        f"  team agent:      {json.dumps({'Authorization': f'Bearer {team_token}'})}"
        f"  ({TEAM_AGENT['name']}, CONTACT_VIEW_TEAM: sees the {SUPPORT[0]!r} list)\n"
        f"  admin key:       {admin_key}  (for createWorkspace)\n"
        f"  sample query:\n{SAMPLE_QUERY}\n"
        f"  the list, its fields, dispositions and calls:\n{LIST_QUERY}\n",
        flush=True,
    )


@dataclass
class SupportLine:
    """The ids of the support list, its team agent and its dispositions."""

    group: str
    agent: str
    dispositions: list[str]


async def _support_line(graphql: GraphQLApp, ctx: Any) -> tuple[SupportLine, str]:
    """The support list with its fields and dispositions, and its team agent: the list, and her token."""
    name, description = SUPPORT
    group = await _create(
        graphql, ctx, "createGroup", "GroupInput", "group", {"name": name, "description": description}
    )
    for field in SUPPORT_FIELDS:
        await _create(
            graphql, ctx, "createCustomField", "CustomFieldInput", "customField", {**field, "groupId": group}
        )
    dispositions = [
        await _create(
            graphql,
            ctx,
            "createDisposition",
            "DispositionInput",
            "disposition",
            {"groupId": group, "name": n, "color": c},
        )
        for n, c in DISPOSITIONS
    ]
    agent = await _create(graphql, ctx, "createAgent", "AgentInput", "agent", TEAM_AGENT)
    await _run(graphql, ctx, ASSIGN, g=group, a=[agent])
    token = (await _run(graphql, ctx, TOKEN, a=agent, n="demo"))["token"]
    return SupportLine(group, agent, dispositions), token


async def _calls(
    graphql: GraphQLApp, ctx: Any, rng: random.Random, support: SupportLine, contacts: list[str]
) -> None:
    """A closed call with its outcome for each contact, handled by the team agent; every third also
    has a WhatsApp conversation still open."""
    for n, contact in enumerate(contacts):
        call = {
            "contactId": contact,
            "channel": "voice",
            "direction": rng.choice(["inbound", "outbound"]),
            "summary": rng.choice(["Router keeps rebooting", "Invoice question", "Wants to upgrade"]),
            "open": True,
            "occurredAt": _days_ago(rng, 60),
            "agentId": support.agent,
            "details": {
                "queue": "support",
                "waitSeconds": rng.randint(5, 300),
                "recorded": rng.random() < 0.5,
            },
        }
        made = await _create(graphql, ctx, "recordInteraction", "InteractionInput", "interaction", call)
        await _run(graphql, ctx, CLOSE, id=made, d=rng.choice(support.dispositions))
        if n % 3 == 0:
            chat = {
                "contactId": contact,
                "channel": "whatsapp",
                "direction": "inbound",
                "summary": "Is my case solved?",
                "open": True,
                "agentId": support.agent,
                "details": {"queue": "support", "language": "en"},
            }
            await _create(graphql, ctx, "recordInteraction", "InteractionInput", "interaction", chat)

"""``serve --demo``: a workspace with a library and about 200 contacts, made through the API."""

from __future__ import annotations

import json
import random
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
FIRST = (
    "Ana Bruno Chloé Dmitri Emeka Fatima Giulia Hiro Inès João Kwame Lena Mateo"
    " Nadia Omar Priya Quentin Rosa Sven Tomás Uma Vikram Wen Yara Zoë"
).split()
LAST = (
    "Almeida Bauer Castro Dubois Eze Fischer García Haddad Ibrahim Jensen Kowalski López"
    " Müller Nakamura Okafor Pereira Rossi Silva Tanaka Ueda Varga Wang Yilmaz Zhou"
).split()
PREFIXES = ["+1415", "+447911", "+5511", "+919820", "+4915", "+2348"]

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


CREATE = (
    "mutation($i: {input}!) {{ {mutation}(input: $i)"
    " {{ {result} {{ id }} userErrors {{ field message }} }} }}"
)


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
    rng = random.Random(7)
    for i, phone in enumerate(_phones(rng, 200)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        contact = {
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
        await _create(graphql, ctx, "createContact", "ContactInput", "contact", contact)
    print(
        "\ncontactgraph demo is ready\n"
        f"  GraphiQL:        {url}\n"
        f"  header to set:   {json.dumps({'Authorization': f'Bearer {token}'})}\n"
        f"  admin key:       {admin_key}  (for createWorkspace)\n"
        f"  sample query:\n{SAMPLE_QUERY}\n",
        flush=True,
    )

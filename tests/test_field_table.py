"""The contact's field table: a field flagged for a surface shows up there, and no other field does.

Each surface is seen from outside: GraphQL over HTTP (inputs, merge choices, duplicates),
the CSV export and import, and the webhook body of an event.
"""

from __future__ import annotations

from typing import Any

from contactgraph.csvio.mapping import folded
from contactgraph.events import Event, EventType
from contactgraph.events.payloads import payloads
from contactgraph.models import Contact
from contactgraph.models.contact import CONTACT_FIELDS, Flag, Kind, flagged

from .api import Api, Library, Workspace, make_contact, make_custom_field, make_library, phone
from .checks import errors_of
from .csv_api import csv_bytes, read_csv, row_errors, run_import

SHOWN = """
  id firstname lastname fullName phone waId otherPhones email type
  status { id } source { id } groups { id } assignedAgent { id }
  company website description country city state zip address
  socialProfiles { network handle url } customFields { field { key } value }
  optedOut optedOutAt statusChangedAt createdAt updatedAt
"""

CONTACT = f"query($id: ID!) {{ contact(id: $id) {{ {SHOWN} }} }}"

CREATE = f"""
mutation($input: ContactInput!) {{
  createContact(input: $input) {{ contact {{ {SHOWN} }} userErrors {{ field code message }} }}
}}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { id } userErrors { code } } }"""

MERGE = f"""
mutation($p: ID!, $s: ID!, $choices: [MergeFieldChoice!]) {{
  mergeContacts(primaryId: $p, secondaryId: $s, choices: $choices, dryRun: true) {{
    contact {{ {SHOWN} }} userErrors {{ field code message }}
  }}
}}"""

DUPLICATE = f"""
mutation($id: ID!, $input: DuplicateContactInput!) {{
  duplicateContact(id: $id, input: $input) {{ contact {{ {SHOWN} }} userErrors {{ field code message }} }}
}}"""

INPUT_FIELDS = "query($name: String!) { __type(name: $name) { inputFields { name } } }"

IMPORTED = [f for f in flagged(Flag.IMPORT) if f.kind not in (Kind.CUSTOM, Kind.SOCIAL)]

# A value for each imported column, written as the export writes it.
CELLS = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "phone": phone(50),
    "otherPhones": phone(51),
    "email": "ada@example.com",
    "type": "CUSTOMER",
    "status": "Won",
    "source": "Website",
    "groups": "VIP; Newsletter",
    "company": "Engines Ltd",
    "website": "https://ada.example.com",
    "description": "Met at the fair",
    "country": "UK",
    "city": "London",
    "state": "Greater London",
    "zip": "W1",
    "address": "12 St James's Square",
    "optedOut": "true",
}


def as_api(node: dict[str, Any]) -> dict[str, Any]:
    """A contact as GraphQL shows it, by the table's API names (references as ids, custom values by key)."""
    shown = dict(node)
    for name in ("status", "source", "assignedAgent"):
        ref = shown.pop(name)
        shown[f"{name}Id"] = ref["id"] if ref else None
    shown["groupIds"] = [g["id"] for g in shown.pop("groups")]
    shown["customFields"] = {c["field"]["key"]: c["value"] for c in shown["customFields"]}
    return shown


async def _full_contact(
    api: Api, workspace: Workspace, library: Library, n: int, agent_id: str, **overrides: Any
) -> dict[str, Any]:
    """A contact with every field it can be given set, opted out: as GraphQL shows it, by API name."""
    values = {
        "firstname": "Ada",
        "lastname": f"Lovelace {n}",
        "phone": phone(n),
        "email": f"ada{n}@example.com",
        "type": "CUSTOMER",
        "statusId": library.statuses[1],
        "sourceId": library.sources[1],
        "groupIds": library.groups,
        "assignedAgentId": agent_id,
        "company": "Engines Ltd",
        "website": "https://ada.example.com",
        "description": "Met at the fair",
        "country": "UK",
        "city": "London",
        "state": "Greater London",
        "zip": "W1",
        "address": "12 St James's Square",
        "customFields": [{"key": "plan", "value": "pro"}],
        "otherPhones": [phone(500 + n)],
        "socialProfiles": [
            {"network": "instagram", "handle": f"ada{n}", "url": f"https://instagram.com/ada{n}"}
        ],
        **overrides,
    }
    contact = await make_contact(api, workspace, library, **values)
    await api.ok(OPT_OUT, {"id": contact["id"]}, workspace.token)
    return as_api((await api.data(CONTACT, {"id": contact["id"]}, workspace.token))["contact"])


async def _export(api: Api, token: str) -> list[dict[str, str]]:
    response = await api.client.get("/export/contacts.csv", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    header, *rows = read_csv(response.content)
    return [dict(zip(header, row, strict=True)) for row in rows]


# ---------------------------------------------------------------- the table itself


def test_the_table_declares_each_stored_field_of_the_contact_once() -> None:
    stored = [f.stored for f in CONTACT_FIELDS if f.stored is not None]
    assert sorted(stored) == sorted(set(Contact.model_fields) - {"workspace_id", "revision_id"})
    assert len({f.api for f in CONTACT_FIELDS}) == len(CONTACT_FIELDS)
    exported = [f.csv_name for f in flagged(Flag.EXPORT)]
    assert len(set(exported)) == len(exported)
    names = {(folded(name), f.api) for f in IMPORTED for name in (f.csv_name, *f.aliases)}
    assert len({name for name, _ in names}) == len(names), "a header name would fill two fields"
    assert not [f.api for f in flagged(Flag.DERIVED) if f.has(Flag.INPUT) or f.has(Flag.IMPORT)]
    assert all(f.ref for f in CONTACT_FIELDS if f.kind is Kind.REF)
    assert all(f.clean for f in IMPORTED if f.kind is not Kind.REF)


# ---------------------------------------------------------------- GraphQL


async def test_contact_input_and_patch_take_exactly_the_input_fields(api: Api, workspace: Workspace) -> None:
    expected = {f.api for f in flagged(Flag.INPUT)}
    for name in ("ContactInput", "ContactPatch"):
        data = await api.data(INPUT_FIELDS, {"name": name}, workspace.token)
        assert {f["name"] for f in data["__type"]["inputFields"]} == expected, name


async def test_each_text_limit_of_the_table_holds_for_the_api_and_the_import(
    api: Api, workspace: Workspace, library: Library
) -> None:
    limited = [f for f in CONTACT_FIELDS if f.limit is not None]
    base = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
    }
    # when: one character too many in each, then exactly the limit
    too_long = {f.api: "x" * (f.limit or 0) + "x" for f in limited}
    refused = (await api.data(CREATE, {"input": {**base, "phone": phone(1), **too_long}}, workspace.token))[
        "createContact"
    ]
    at_limit = {f.api: "x" * (f.limit or 0) for f in limited}
    await api.ok(CREATE, {"input": {**base, "phone": phone(2), **at_limit}}, workspace.token)
    header = ["firstname", "lastname", "phone", "status", "source", *(f.csv_name for f in limited)]
    row = ["Ada", "Lovelace", phone(3), "New", "WhatsApp", *too_long.values()]
    job = await run_import(api, workspace.token, csv_bytes([header, row]))
    # then
    assert sorted(errors_of(refused)) == sorted(("INVALID", ["input", f.api]) for f in limited)
    assert job["failed"] == 1
    assert sorted(await row_errors(api, workspace.token, job["id"])) == sorted(
        (2, f.csv_name, "INVALID") for f in limited
    )


async def test_every_mergeable_field_is_a_merge_choice_and_no_other_field_is(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: two contacts that differ in every field
    await make_custom_field(api, workspace, "plan", "TEXT")
    other_agent, _ = await api.agent_token(workspace, ["CONTACT_VIEW"])
    primary = await _full_contact(api, workspace, library, 1, workspace.agent_id, type="LEAD")
    secondary = await _full_contact(
        api,
        workspace,
        library,
        2,
        other_agent,
        firstname="Augusta",
        statusId=library.statuses[0],
        sourceId=library.sources[0],
        company="Analytical",
        website="https://augusta.example.com",
        description="Wrote the notes",
        country="FR",
        city="Paris",
        state="IDF",
        zip="75001",
        address="1 Rue de Rivoli",
    )
    for field in CONTACT_FIELDS:
        # when: the secondary's value is chosen for the field
        choices = [{"field": field.api, "take": "SECONDARY"}]
        data = await api.data(
            MERGE, {"p": primary["id"], "s": secondary["id"], "choices": choices}, workspace.token
        )
        payload = data["mergeContacts"]
        # then
        if field.has(Flag.MERGE):
            assert payload["userErrors"] == [], field.api
            assert primary[field.api] != secondary[field.api], field.api
            assert as_api(payload["contact"])[field.api] == secondary[field.api], field.api
        else:
            assert errors_of(payload) == [("INVALID", ["choices", "0", "field"])], field.api


async def test_a_duplicate_copies_the_copy_fields_and_none_of_the_other_input_fields(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "plan", "TEXT")
    original = await _full_contact(api, workspace, library, 1, workspace.agent_id)
    # when
    payload = await api.ok(DUPLICATE, {"id": original["id"], "input": {"phone": phone(2)}}, workspace.token)
    copy = as_api(payload["contact"])
    # then
    for field in CONTACT_FIELDS:
        if field.has(Flag.COPY):
            assert copy[field.api] == original[field.api], field.api
        elif field.has(Flag.INPUT):
            assert copy[field.api] != original[field.api], field.api


# ---------------------------------------------------------------- CSV


async def test_every_export_column_is_a_table_field_and_every_imported_one_round_trips(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a contact with every field set, exported
    await make_custom_field(api, workspace, "plan", "TEXT")
    await _full_contact(api, workspace, library, 1, workspace.agent_id)
    response = await api.client.get(
        "/export/contacts.csv", headers={"Authorization": f"Bearer {workspace.token}"}
    )
    exported = response.content
    [before] = await _export(api, workspace.token)
    # when: the file is imported into another workspace with the same library
    other = await api.create_workspace("Other")
    await make_library(api, other)
    await make_custom_field(api, other, "plan", "TEXT")
    job = await run_import(api, other.token, exported)
    [after] = await _export(api, other.token)
    # then
    columns = [f.csv_name for f in flagged(Flag.EXPORT) if f.kind not in (Kind.CUSTOM, Kind.SOCIAL)]
    assert list(before) == [*columns, "social.instagram", "customFields.plan"]
    assert (job["created"], job["failed"]) == (1, 0)
    imported = [f.csv_name for f in IMPORTED] + ["social.instagram", "customFields.plan"]
    assert all(before[c] for c in imported)
    assert {c: after[c] for c in imported} == {c: before[c] for c in imported}
    assert before["assignedAgent"] and not after["assignedAgent"]  # exported, never imported


async def test_every_alias_of_an_imported_field_fills_it(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: one file per alias position, each column named by one of its field's aliases
    rounds = max(len(f.aliases) for f in IMPORTED)
    for n in range(rounds):
        header = [f.aliases[n % len(f.aliases)] if f.aliases else f.csv_name for f in IMPORTED]
        cells = {
            **CELLS,
            "phone": phone(100 + n),
            "otherPhones": phone(200 + n),
            "email": f"ada{n}@example.com",
            "lastname": f"Alias {n}",
        }
        row = [cells[f.csv_name] for f in IMPORTED]
        # when
        job = await run_import(api, workspace.token, csv_bytes([header, row]))
        assert (job["created"], job["failed"]) == (1, 0), header
    # then: every column of every contact holds what its aliased column gave
    rows = await _export(api, workspace.token)
    assert len(rows) == rounds
    for row in rows:
        n = int(row["lastname"].removeprefix("Alias "))
        expected = {
            **CELLS,
            "phone": phone(100 + n),
            "otherPhones": phone(200 + n),
            "email": f"ada{n}@example.com",
            "lastname": f"Alias {n}",
        }
        assert {f.csv_name: row[f.csv_name] for f in IMPORTED} == expected


# ---------------------------------------------------------------- webhooks


async def test_a_webhook_shows_every_webhook_field_as_the_api_shows_it(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a contact with every field set, then a change to some of them
    await make_custom_field(api, workspace, "plan", "TEXT")
    contact = await _full_contact(api, workspace, library, 1, workspace.agent_id)
    changes = {"city": "Paris", "company": "Analytical", "statusId": library.statuses[0], "groupIds": []}
    await api.ok(UPDATE, {"id": contact["id"], "input": changes}, workspace.token)
    shown = as_api((await api.data(CONTACT, {"id": contact["id"]}, workspace.token))["contact"])
    # when
    [updated] = await Event.find({"type": EventType.UPDATED.value, "data.changed": "city"}).to_list()
    body = (await payloads([updated]))[updated.id]
    # then: the webhook fields, in table order, each as GraphQL shows it; changes by API name
    sent = body["data"]["contact"]
    assert list(sent) == [f.api for f in flagged(Flag.WEBHOOK)]
    assert sent == {name: shown[name] for name in sent}
    assert sorted(body["data"]["changed"]) == sorted(changes)

"""GET /export/contacts.csv and /export/custom-fields.csv: Excel-safe CSV, streamed, scoped like the contacts query."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contactgraph.csvio import export
from contactgraph.db import Engine

from .api import Api, Library, Workspace, make_contact, make_custom_field, make_library, phone
from .csv_api import read_csv, run_import

DELETE_FIELD = """
mutation($id: ID!) { deleteCustomField(id: $id) { customField { id } userErrors { code } } }"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { id } userErrors { code } } }"""

CONTACTS = """
query {
  contacts(first: 100, sort: {field: LASTNAME}) {
    edges { node {
      firstname lastname phone email type company website description country city state zip address optedOut
      status { name } source { name } groups { name }
      customFields { field { key } value }
    } }
  }
}"""


async def _get(api: Api, path: str, token: str | None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await api.client.get(path, params=params, headers=headers)


def _by_column(lines: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = lines
    return [dict(zip(header, row, strict=True)) for row in rows]


async def test_the_export_is_excel_ready_csv_with_names_and_live_custom_fields(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "budget", "NUMBER")
    await make_custom_field(api, workspace, "vip", "CHECKBOX")
    gone = await make_custom_field(api, workspace, "legacy", "TEXT")
    await api.ok(DELETE_FIELD, {"id": gone["id"]}, workspace.token)
    await make_contact(
        api,
        workspace,
        library,
        firstname="Σοφία",
        lastname="Müller-李",
        phone=phone(1),
        email="sofia@example.com",
        groupIds=library.groups,
        city='Zürich, "Altstadt"\nKreis 1',
        customFields=[{"key": "budget", "value": -5}, {"key": "vip", "value": True}],
    )
    # when
    response = await _get(api, "/export/contacts.csv", workspace.token)
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="contacts.csv"' in response.headers["content-disposition"]
    lines = read_csv(response.content)
    assert lines[0][:11] == [
        "id",
        "firstname",
        "lastname",
        "phone",
        "otherPhones",
        "email",
        "type",
        "status",
        "source",
        "groups",
        "assignedAgent",
    ]
    assert lines[0][-2:] == ["customFields.budget", "customFields.vip"]
    [row] = _by_column(lines)
    assert (row["firstname"], row["lastname"], row["phone"], row["email"]) == (
        "Σοφία",
        "Müller-李",
        phone(1),
        "sofia@example.com",
    )
    assert (row["status"], row["source"], row["groups"], row["type"]) == (
        "New",
        "WhatsApp",
        "VIP; Newsletter",
        "LEAD",
    )
    assert row["city"] == 'Zürich, "Altstadt"\nKreis 1'
    assert (row["customFields.budget"], row["customFields.vip"], row["optedOut"]) == ("-5", "true", "false")


async def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised_but_phones_are_not(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "note", "TEXT")
    await make_contact(
        api,
        workspace,
        library,
        firstname='=HYPERLINK("http://evil.example")',
        lastname="@SUM(A1)",
        phone=phone(1),
        company="+cmd|' /C calc'!A0",
        description="-2+3",
        customFields=[{"key": "note", "value": "=1+1"}],
    )
    # when
    [row] = _by_column(read_csv((await _get(api, "/export/contacts.csv", workspace.token)).content))
    # then
    assert row["firstname"] == '\'=HYPERLINK("http://evil.example")'
    assert row["lastname"] == "'@SUM(A1)"
    assert row["company"] == "'+cmd|' /C calc'!A0"
    assert row["description"] == "'-2+3"
    assert row["customFields.note"] == "'=1+1"
    assert row["phone"] == phone(1)


async def test_filter_and_ids_select_the_rows_as_the_contacts_query_does(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    first = await make_contact(api, workspace, library, lastname="A", phone=phone(1))
    second = await make_contact(
        api, workspace, library, lastname="B", phone=phone(2), statusId=library.statuses[1]
    )
    await make_contact(api, workspace, library, lastname="C", phone=phone(3), statusId=library.statuses[1])
    # when
    by_status = await _get(
        api, "/export/contacts.csv", workspace.token, filter=json.dumps({"statusIds": [library.statuses[1]]})
    )
    by_ids = await _get(api, "/export/contacts.csv", workspace.token, ids=f"{first['id']},{second['id']}")
    both = await _get(
        api,
        "/export/contacts.csv",
        workspace.token,
        ids=first["id"],
        filter=json.dumps({"statusIds": [library.statuses[1]]}),
    )
    # then
    assert sorted(r["lastname"] for r in _by_column(read_csv(by_status.content))) == ["B", "C"]
    assert sorted(r["lastname"] for r in _by_column(read_csv(by_ids.content))) == ["A", "B"]
    assert _by_column(read_csv(both.content)) == []


@pytest.mark.parametrize(
    ("filter_text", "field"),
    [
        ("{not json", ["filter"]),
        ('{"types": ["BOSS"]}', ["filter"]),
        ('{"search": "' + "x" * 101 + '"}', ["filter", "search"]),
    ],
    ids=["not-json", "not-a-filter", "bad-search"],
)
async def test_a_bad_filter_is_refused_with_its_code(
    api: Api, workspace: Workspace, library: Library, filter_text: str, field: list[str]
) -> None:
    response = await _get(api, "/export/contacts.csv", workspace.token, filter=filter_text)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("INVALID", field)


async def test_export_needs_a_token_and_the_export_permission_and_shows_a_view_own_agent_its_own(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, own = await api.agent_token(
        workspace, ["CONTACT_VIEW_OWN", "CONTACT_EXPORT"], "own@example.com"
    )
    _, viewer = await api.agent_token(workspace, ["CONTACT_VIEW"], "viewer@example.com")
    await make_contact(api, workspace, library, lastname="Mine", phone=phone(1), assignedAgentId=agent_id)
    await make_contact(api, workspace, library, lastname="Theirs", phone=phone(2))
    # when
    anonymous = await _get(api, "/export/contacts.csv", None)
    forbidden = await _get(api, "/export/contacts.csv", viewer)
    mine = await _get(api, "/export/contacts.csv", own)
    # then
    assert (anonymous.status_code, anonymous.json()["errors"][0]["extensions"]["code"]) == (
        401,
        "UNAUTHENTICATED",
    )
    assert (forbidden.status_code, forbidden.json()["errors"][0]["extensions"]["code"]) == (403, "FORBIDDEN")
    rows = _by_column(read_csv(mine.content))
    assert [(r["lastname"], r["assignedAgent"]) for r in rows] == [("Mine", "own@example.com")]


async def test_contacts_are_read_a_batch_at_a_time_each_once(
    engine: Engine, api: Api, workspace: Workspace, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    made = [await make_contact(api, workspace, library, phone=phone(n)) for n in range(5)]
    other = await api.create_workspace("Other")
    await make_contact(api, other, await make_library(api, other), phone=phone(9))
    mark = engine.round_trips.count
    whole = await _get(api, "/export/contacts.csv", workspace.token)
    in_one = engine.round_trips.count - mark
    # when: batches of two
    monkeypatch.setattr(export, "BATCH", 2)
    mark = engine.round_trips.count
    batched = await _get(api, "/export/contacts.csv", workspace.token)
    in_three = engine.round_trips.count - mark
    # then: one short query per batch (2 + 2 + 1, and the empty one that ends it), each contact once
    assert in_three - in_one == 2
    rows = _by_column(read_csv(batched.content))
    assert [r["id"] for r in rows] == sorted((c["id"] for c in made), key=_oid_hex)
    assert batched.content == whole.content


async def test_custom_field_definitions_export(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    await make_custom_field(
        api, workspace, "plan", "DROPDOWN", options=["Free", "Pro"], required=True, label="Plan"
    )
    await make_custom_field(api, workspace, "score", "NUMBER", label="=Score")
    # when
    response = await _get(api, "/export/custom-fields.csv", workspace.token)
    # then
    assert response.status_code == 200
    assert read_csv(response.content) == [
        ["key", "label", "type", "options", "required", "position", "group", "clickToAction", "deletedAt"],
        ["plan", "Plan", "DROPDOWN", "Free; Pro", "true", "0", "", "false", ""],
        ["score", "'=Score", "NUMBER", "", "false", "1", "", "false", ""],
    ]


async def test_a_workspace_exported_and_imported_into_another_with_the_same_library_gives_the_same_contacts(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a library with custom fields of every type, and contacts that use it all
    fields = [
        ("note", "TEXT", {}),
        ("bio", "TEXTAREA", {}),
        ("budget", "NUMBER", {}),
        ("born", "DATE", {}),
        ("met_at", "DATETIME", {}),
        ("plan", "DROPDOWN", {"options": ["Free", "Pro"]}),
        ("vip", "CHECKBOX", {}),
        ("site", "URL", {}),
    ]
    for key, type_, extra in fields:
        await make_custom_field(api, workspace, key, type_, **extra)
    await make_contact(
        api,
        workspace,
        library,
        firstname="=Zoë",
        lastname="Ørsted",
        phone="+351912345678",
        email="zoe@example.com",
        type="CUSTOMER",
        statusId=library.statuses[1],
        sourceId=library.sources[1],
        groupIds=library.groups,
        company="-Globex",
        website="https://globex.example",
        description='two\nlines, "quoted"',
        country="PT",
        city="Lisboa",
        state="Lisboa",
        zip="1100-001",
        address="Rua Augusta 1",
        customFields=[
            {"key": "note", "value": "@home"},
            {"key": "bio", "value": "a\nb"},
            {"key": "budget", "value": 1500.25},
            {"key": "born", "value": "1990-02-28"},
            {"key": "met_at", "value": "2024-05-01T09:30:00.123Z"},
            {"key": "plan", "value": "Pro"},
            {"key": "vip", "value": False},
            {"key": "site", "value": "https://zoe.example/a?b=c"},
        ],
    )
    plain = await make_contact(
        api,
        workspace,
        library,
        firstname="李",
        lastname="小龙",
        phone=phone(2),
        customFields=[{"key": "budget", "value": 7}],
    )
    await api.ok(OPT_OUT, {"id": plain["id"]}, workspace.token)
    exported = (await _get(api, "/export/contacts.csv", workspace.token)).content
    # and another workspace with the same library
    other = await api.create_workspace("Copy")
    await make_library(api, other)
    for key, type_, extra in fields:
        await make_custom_field(api, other, key, type_, **extra)
    # when
    job = await run_import(api, other.token, exported)
    # then
    assert (job["state"], job["created"], job["failed"]) == ("DONE", 2, 0)
    original = await api.data(CONTACTS, token=workspace.token)
    copy = await api.data(CONTACTS, token=other.token)
    assert copy == original


def _oid_hex(global_id: str) -> str:
    from .checks import oid

    return str(oid(global_id))

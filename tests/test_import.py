"""importContacts over the GraphQL multipart request spec: decoding, mapping, validation, duplicates, reports."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest

from contactgraph.events import Event, EventType
from contactgraph.models import Contact
from contactgraph.models.import_job import ImportJob
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.resolvers.imports import upload_directory
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import oid, phantom, snapshot
from .csv_api import (
    IMPORT_JOB,
    IMPORT_JOB_ERRORS,
    csv_bytes,
    finished,
    read_csv,
    row_errors,
    run_import,
    start_import,
    upload,
)
from .ws import serve

CONTACTS = """
query {
  contacts(first: 100, sort: {field: FIRSTNAME}) {
    edges { node {
      firstname lastname phone email type company city description optedOut
      status { name } source { name } groups { name }
      customFields { field { key } value }
    } }
  }
}"""

CANCEL = """
mutation($id: ID!) { cancelImport(id: $id) { job { id state } userErrors { field code message } } }"""

HEADER = ["firstname", "lastname", "phone", "status", "source"]


async def _contacts(api: Api, token: str) -> list[dict[str, Any]]:
    return [e["node"] for e in (await api.data(CONTACTS, token=token))["contacts"]["edges"]]


def _row(n: int, first: str = "Ada", status: str = "New") -> list[str]:
    return [first, f"Person{n}", phone(n), status, "WhatsApp"]


async def test_columns_are_mapped_by_header_names_aliases_and_custom_field_labels(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "plan", "DROPDOWN", options=["Free", "Pro"], label="Plan name")
    await make_custom_field(api, workspace, "budget", "NUMBER")
    await make_custom_field(api, workspace, "vip_since", "DATE", label="VIP since")
    data = csv_bytes(
        [
            [
                "First Name",
                "LAST_NAME",
                "Phone Number",
                "E-mail",
                "status",
                "Lead Source",
                "Groups",
                "Notes",
                "Plan name",
                "customFields.budget",
                "vip since",
                "Shoe size",
            ],
            [
                "José",
                "Müller",
                "+351 912 345 678",
                "Jose@Example.COM",
                "new",
                "WhatsApp",
                "VIP; Newsletter",
                "first line\nsecond line, with a comma",
                "pro",
                "1500,5",
                "2024-02-29",
                "44",
            ],
            ["Ana", "Silva", "00 44 7911 123456", "", "Won", "website", "", "", "", "", "", ""],
        ]
    )
    # when
    job = await run_import(api, workspace.token, data)
    # then
    assert {k: job[k] for k in ("state", "totalRows", "processedRows", "created", "failed")} == {
        "state": "DONE",
        "totalRows": 2,
        "processedRows": 2,
        "created": 2,
        "failed": 0,
    }
    assert job["errorReportUrl"] is None and job["startedAt"] and job["finishedAt"]
    ana, jose = await _contacts(api, workspace.token)
    assert (jose["firstname"], jose["lastname"], jose["phone"], jose["email"]) == (
        "José",
        "Müller",
        "+351912345678",
        "jose@example.com",
    )
    assert (jose["status"]["name"], jose["source"]["name"]) == ("New", "WhatsApp")
    assert [g["name"] for g in jose["groups"]] == ["VIP", "Newsletter"]
    assert jose["description"] == "first line\nsecond line, with a comma"
    assert {v["field"]["key"]: v["value"] for v in jose["customFields"]} == {
        "plan": "Pro",
        "budget": 1500.5,
        "vip_since": "2024-02-29",
    }
    assert (ana["phone"], ana["status"]["name"], ana["source"]["name"], ana["email"]) == (
        "+447911123456",
        "Won",
        "Website",
        None,
    )
    # each contact went through contact_writes: its created event and its phone claim
    assert await Event.find({"type": EventType.CREATED.value}).count() == 2
    assert sorted(c.phone for c in await PhoneClaim.find({}).to_list()) == ["+351912345678", "+447911123456"]


NAMES_BY_ENCODING = {
    "utf-8": ("Zoë", "Nguyễn 李"),
    "utf-16": ("Σοφία", "Οικονόμου"),
    "cp1252": ("François", "Ørsted-Müller"),
}


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-8", False, ","),
        ("utf-8", True, ";"),
        ("utf-16", False, "\t"),  # the codec writes its byte-order mark itself
        ("cp1252", False, ";"),
        ("cp1252", False, ","),
    ],
    ids=["utf8-comma", "utf8bom-semicolon", "utf16-tab", "cp1252-semicolon", "cp1252-comma"],
)
async def test_each_encoding_and_delimiter_is_detected(
    api: Api, workspace: Workspace, library: Library, encoding: str, bom: bool, delimiter: str
) -> None:
    # given: quoted cells holding the delimiter and a line break
    first, last = NAMES_BY_ENCODING[encoding]
    data = csv_bytes(
        [
            ["First name", "Last name", "Mobile", "Status", "Source", "City"],
            [first, last, "+1 (415) 200-0001", "New", "WhatsApp", "Paris; 1er, arrondissement"],
            ["Émile", "Zola", "+14152000002", "Won", "Website", "Line one\r\nLine two"],
        ],
        encoding=encoding,
        delimiter=delimiter,
        bom=bom,
    )
    # when
    job = await run_import(api, workspace.token, data)
    # then
    assert (job["state"], job["created"], job["failed"]) == ("DONE", 2, 0)
    emile, other = sorted(await _contacts(api, workspace.token), key=lambda c: c["phone"], reverse=True)
    assert (other["firstname"], other["lastname"], other["phone"]) == (first, last, "+14152000001")
    assert other["city"] == "Paris; 1er, arrondissement"
    assert (emile["firstname"], emile["city"]) == ("Émile", "Line one\r\nLine two")


async def test_an_explicit_mapping_adds_to_the_columns_named_like_fields(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "nickname", "TEXT")
    data = csv_bytes(
        [
            ["Nome", "Apelido", "Telemóvel", "Email", "Alcunha"],
            ["Rui", "Costa", "+351912000001", "rui@example.com", "Maestro"],
        ]
    )
    mapping = [
        {"column": "Nome", "field": "firstname"},
        {"column": "apelido", "field": "lastname"},  # a column named in any case
        {"column": "Telemóvel", "field": "phone"},
        {"column": "Alcunha", "field": "customFields.nickname"},
    ]
    options = {
        "mapping": mapping,
        "defaultStatusId": library.statuses[1],
        "defaultSourceId": library.sources[1],
        "groupIds": [library.groups[1]],
    }
    # when
    job = await run_import(api, workspace.token, data, options)
    # then
    assert (job["state"], job["created"]) == ("DONE", 1)
    [rui] = await _contacts(api, workspace.token)
    assert (rui["firstname"], rui["lastname"], rui["phone"], rui["email"]) == (
        "Rui",
        "Costa",
        "+351912000001",
        "rui@example.com",  # the header's "Email" still fills the email
    )
    assert (rui["status"]["name"], rui["source"]["name"], rui["groups"]) == (
        "Won",
        "Website",
        [{"name": "Newsletter"}],
    )
    assert rui["customFields"] == [{"field": {"key": "nickname"}, "value": "Maestro"}]


MAPPING = [{"column": name, "field": name} for name in HEADER]
REJECTED_OPTIONS = [
    (
        {"mapping": [*MAPPING, {"column": "Nope", "field": "city"}]},
        "INVALID",
        ["options", "mapping", "5", "column"],
    ),
    (
        {"mapping": [*MAPPING, {"column": "phone", "field": "shoeSize"}]},
        "INVALID",
        ["options", "mapping", "5", "field"],
    ),
    (
        {"mapping": [*MAPPING, {"column": "lastname", "field": "phone"}]},
        "INVALID",
        ["options", "mapping", "5", "field"],
    ),
    ({"defaultRegion": "XX"}, "INVALID", ["options", "defaultRegion"]),
]


@pytest.mark.parametrize(("options", "code", "field"), REJECTED_OPTIONS)
async def test_options_are_checked_before_anything_is_written(
    settings: Settings,
    api: Api,
    workspace: Workspace,
    library: Library,
    options: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    # given
    data = csv_bytes([HEADER, _row(1)])
    before = await snapshot()
    uploads = upload_directory(settings)
    files_before = set(os.listdir(uploads)) if uploads.exists() else set()
    # when
    response = await upload(api.client, workspace.token, data, options)
    # then
    payload = response.json()["data"]["importContacts"]
    assert payload["job"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)]
    assert await snapshot() == before
    assert set(os.listdir(uploads)) == files_before  # the stored upload is removed too


async def test_every_problem_of_the_options_is_reported_at_once(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: no phone column, no status column and no default, and ids of nothing
    data = csv_bytes([["firstname", "lastname", "source"], ["Ada", "Lovelace", "WhatsApp"]])
    options = {
        "defaultSourceId": phantom(library.sources[0]),
        "groupIds": [library.groups[0], phantom(library.groups[0])],
    }
    # when
    response = await upload(api.client, workspace.token, data, options)
    # then
    errors = [(e["code"], e["field"]) for e in response.json()["data"]["importContacts"]["userErrors"]]
    assert sorted(errors) == sorted(
        [
            ("NOT_FOUND", ["options", "defaultSourceId"]),
            ("NOT_FOUND", ["options", "groupIds", "1"]),
            ("REQUIRED", ["options", "mapping"]),
            ("REQUIRED", ["options", "defaultStatusId"]),
        ]
    )
    assert await ImportJob.find({}).count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"\r\n\r\n", "names no column")],
    ids=["empty", "blank-header"],
)
async def test_a_file_without_a_header_is_refused(
    api: Api, workspace: Workspace, library: Library, data: bytes, message: str
) -> None:
    response = await upload(api.client, workspace.token, data)
    [error] = response.json()["data"]["importContacts"]["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID", ["file"])
    assert message in error["message"]
    assert await ImportJob.find({}).count() == 0


async def test_importing_needs_the_contact_import_permission(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_CREATE"])
    # when
    response = await upload(api.client, token, csv_bytes([HEADER, _row(1)]))
    # then
    payload = response.json()["data"]["importContacts"]
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert await ImportJob.find({}).count() == 0


async def test_a_multipart_request_without_a_token_is_refused_before_its_body_is_read(api: Api) -> None:
    # given: what a cross-site HTML form could post
    response = await upload(api.client, None, csv_bytes([HEADER, _row(1)]))
    # then
    assert response.status_code == 400
    assert await ImportJob.find({}).count() == 0


async def test_a_job_of_another_workspace_is_not_found(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    job = await run_import(api, workspace.token, csv_bytes([HEADER, _row(1)]))
    other = await api.create_workspace("Other")
    # when
    seen = await api.data(IMPORT_JOB, {"id": job["id"]}, other.token)
    cancelled = await api.data(CANCEL, {"id": job["id"]}, other.token)
    report = await api.client.get(
        f"/imports/{job['id']}/errors.csv", headers={"Authorization": f"Bearer {other.token}"}
    )
    # then
    assert seen == {"importJob": None}
    assert [(e["code"], e["field"]) for e in cancelled["cancelImport"]["userErrors"]] == [
        ("NOT_FOUND", ["id"])
    ]
    assert report.status_code == 404


async def test_national_numbers_need_a_default_region(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    data = csv_bytes([HEADER, ["Rui", "Costa", "912 345 678", "New", "WhatsApp"]])
    # when
    without = await run_import(api, workspace.token, data)
    errors = (await api.data(IMPORT_JOB_ERRORS, {"id": without["id"]}, workspace.token))["importJob"][
        "errors"
    ]
    with_region = await run_import(api, workspace.token, data, {"defaultRegion": "pt"})
    # then
    assert (without["created"], without["failed"]) == (0, 1)
    [error] = errors
    assert (error["row"], error["column"], error["code"]) == (2, "phone", "INVALID")
    assert "country code" in error["message"]
    assert (with_region["created"], with_region["failed"]) == (1, 0)
    assert [c["phone"] for c in await _contacts(api, workspace.token)] == ["+351912345678"]


async def test_every_failed_row_is_reported_with_its_row_column_and_code(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "budget", "NUMBER")
    await make_custom_field(api, workspace, "tier", "TEXT", required=True)
    data = csv_bytes(
        [
            [*HEADER, "email", "budget", "tier", "type", "groups"],
            [*_row(1), "ok@example.com", "10", "gold", "customer", "VIP"],
            [*_row(2), "not-an-email", "ten", "gold", "LEAD", ""],  # two bad cells
            [*_row(3), "", "", "", "", ""],  # a required custom field missing
            ["Ada", "Person4", phone(4), "Lost", "WhatsApp", "", "", "gold", "", ""],  # no such status
            [*_row(5), "", "", "gold", "BOSS", "Friends"],  # no such type, no such group
            ["", "", "", "", "", "", "", "", "", ""],  # a blank line is no row
            ["", "Person7", phone(7), "New", "WhatsApp", "", "", "gold", "", ""],  # no first name
        ]
    )
    # when
    job = await run_import(api, workspace.token, data)
    # then
    assert (job["state"], job["totalRows"], job["processedRows"], job["created"], job["failed"]) == (
        "DONE",
        6,
        6,
        1,
        5,
    )
    assert await row_errors(api, workspace.token, job["id"]) == [
        (3, "email", "INVALID"),
        (3, "budget", "INVALID"),
        (4, "tier", "REQUIRED"),
        (5, "status", "NOT_FOUND"),
        (6, "type", "INVALID"),
        (6, "groups", "NOT_FOUND"),
        (8, "firstname", "REQUIRED"),
    ]
    [contact] = await _contacts(api, workspace.token)
    assert (contact["type"], contact["groups"]) == ("CUSTOMER", [{"name": "VIP"}])


async def test_unknown_status_and_source_names_take_the_defaults_when_given(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    data = csv_bytes([HEADER, ["Ada", "One", phone(1), "Lost", ""], ["Ada", "Two", phone(2), "", "Fax"]])
    options = {"defaultStatusId": library.statuses[1], "defaultSourceId": library.sources[1]}
    # when
    job = await run_import(api, workspace.token, data, options)
    # then
    assert (job["created"], job["failed"]) == (2, 0)
    contacts = await _contacts(api, workspace.token)
    assert {(c["status"]["name"], c["source"]["name"]) for c in contacts} == {("Won", "Website")}


async def test_errors_are_paged_by_how_many_were_read(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: seven rows without a valid phone
    data = csv_bytes([HEADER, *(["Ada", f"P{n}", "nope", "New", "WhatsApp"] for n in range(7))])
    job = await run_import(api, workspace.token, data)
    # when
    pages = [
        (await api.data(IMPORT_JOB_ERRORS, {"id": job["id"], "first": 3, "after": after}, workspace.token))
        for after in (None, "3", "6")
    ]
    bad = await api.gql(IMPORT_JOB_ERRORS, {"id": job["id"], "after": "x"}, workspace.token)
    # then
    assert [[e["row"] for e in page["importJob"]["errors"]] for page in pages] == [[2, 3, 4], [5, 6, 7], [8]]
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"


# ---------------------------------------------------------------- duplicates


async def test_duplicates_of_the_workspace_and_of_the_file_are_skipped_and_reported(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    existing = await make_contact(api, workspace, library, phone=phone(1), city="Lisbon")
    before = await Contact.get(oid(existing["id"]))
    data = csv_bytes(
        [
            [*HEADER, "city"],
            [*_row(1), "Porto"],  # a contact of the workspace has this phone
            [*_row(2), ""],
            ["Ada", "Again", "(+1) 415 200 0002", "New", "WhatsApp", ""],  # row 3's phone, written otherwise
        ]
    )
    # when
    job = await run_import(api, workspace.token, data)
    # then
    assert (job["created"], job["skippedDuplicates"], job["failed"], job["processedRows"]) == (1, 2, 0, 3)
    assert await row_errors(api, workspace.token, job["id"]) == [
        (2, "phone", "PHONE_TAKEN"),
        (4, "phone", "PHONE_TAKEN"),
    ]
    errors = (await api.data(IMPORT_JOB_ERRORS, {"id": job["id"]}, workspace.token))["importJob"]["errors"]
    assert "row 3" in errors[1]["message"]
    assert await Contact.get(oid(existing["id"])) == before
    assert await Contact.find({}).count() == 2


async def test_on_duplicate_update_writes_the_rows_non_empty_values_and_records_the_status_change(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    existing = await make_contact(
        api, workspace, library, phone=phone(1), city="Lisbon", company="Acme", groupIds=[library.groups[1]]
    )
    data = csv_bytes(
        [
            [*HEADER, "city", "company", "groups"],
            ["", "", phone(1), "Won", "", "", "Globex", "VIP"],
            ["Ada", "New", phone(2), "New", "WhatsApp", "Porto", "", ""],
        ]
    )
    # when
    job = await run_import(api, workspace.token, data, {"onDuplicate": "UPDATE"})
    # then
    assert (job["created"], job["updated"], job["skippedDuplicates"], job["failed"]) == (1, 1, 0, 0)
    updated = await Contact.get(oid(existing["id"]))
    assert updated is not None
    assert (updated.firstname, updated.city, updated.company) == ("Ada", "Lisbon", "Globex")
    assert updated.status_id == oid(library.statuses[1])
    assert updated.group_ids == [oid(library.groups[1]), oid(library.groups[0])]
    changes = await Event.find({"contact_id": updated.id, "type": EventType.STATUS_CHANGED.value}).to_list()
    assert [(e.from_status_id, e.to_status_id) for e in changes] == [
        (oid(library.statuses[0]), oid(library.statuses[1]))
    ]


async def test_a_duplicate_by_email_keeps_its_phone_and_gains_the_rows_as_another(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    existing = await make_contact(api, workspace, library, phone=phone(1), email="ada@example.com")
    data = csv_bytes([[*HEADER, "email"], [*_row(9), "ADA@example.com"]])
    # when
    job = await run_import(api, workspace.token, data, {"duplicateCheck": ["EMAIL"], "onDuplicate": "UPDATE"})
    # then: its main phone (its WhatsApp identity) stays; the row's number joins its other phones
    assert (job["updated"], job["created"]) == (1, 0)
    updated = await Contact.get(oid(existing["id"]))
    assert updated is not None and (updated.phone, updated.other_phones) == (phone(1), [phone(9)])
    assert sorted(c.phone for c in await PhoneClaim.find({}).to_list()) == [phone(1), phone(9)]


async def test_a_row_whose_phone_another_contact_holds_fails_when_phone_is_not_a_duplicate_key(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_contact(api, workspace, library, phone=phone(1), email="first@example.com")
    data = csv_bytes([[*HEADER, "email"], [*_row(1), "second@example.com"]])
    # when
    job = await run_import(api, workspace.token, data, {"duplicateCheck": ["EMAIL"]})
    # then
    assert (job["created"], job["skippedDuplicates"], job["failed"]) == (0, 0, 1)
    assert await row_errors(api, workspace.token, job["id"]) == [(2, "phone", "PHONE_TAKEN")]


async def test_a_dry_run_counts_and_reports_everything_and_writes_no_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_contact(api, workspace, library, phone=phone(1))
    data = csv_bytes([HEADER, _row(1), _row(2), _row(3), ["Ada", "Bad", "nope", "New", "WhatsApp"], _row(3)])
    before = await snapshot()
    # when
    job = await run_import(api, workspace.token, data, {"dryRun": True})
    # then
    assert (job["state"], job["created"], job["skippedDuplicates"], job["failed"]) == ("DONE", 2, 2, 1)
    after = await snapshot()
    for collection in ("contacts", "events", "phone_claims"):
        assert after[collection] == before[collection]
    report = await api.client.get(
        job["errorReportUrl"], headers={"Authorization": f"Bearer {workspace.token}"}
    )
    assert len(read_csv(report.content)) == 1 + 3


# ---------------------------------------------------------------- the error report


async def test_the_error_report_holds_the_rows_as_they_were_with_a_reason_and_imports_once_fixed(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a Windows-1252 file with semicolons, two of whose rows fail
    rows = [
        ["Prénom", "Nom", "Téléphone", "Statut", "Source"],
        ["Aimée", "Dupont", "+33 6 12 34 56 78", "New", "WhatsApp"],
        ["Hélène", "Garçon", "06 12 34 56 79", "New", "WhatsApp"],
        ["Zoé", "", "+33 6 12 34 56 80", "Perdu", "WhatsApp"],
    ]
    mapping = [{"column": c, "field": f} for c, f in zip(rows[0], HEADER, strict=True)]
    data = csv_bytes(rows, encoding="cp1252", delimiter=";")
    job = await run_import(api, workspace.token, data, {"mapping": mapping})
    # when
    url = job["errorReportUrl"]
    report = await api.client.get(url, headers={"Authorization": f"Bearer {workspace.token}"})
    anonymous = await api.client.get(url)
    # then
    assert url == f"http://testserver/imports/{job['id']}/errors.csv"
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    assert anonymous.status_code == 401
    lines = read_csv(report.content.replace(b";", b","))
    assert lines[0] == [*rows[0], "reason"]
    assert lines[1][:5] == rows[2] and "country code" in lines[1][5]
    assert lines[2][:5] == rows[3] and lines[2][5].startswith("Statut: ")
    # when the user fixes the rows and imports the report
    fixed = [line[:5] for line in lines]
    fixed[1][2], fixed[2][1], fixed[2][3] = "+33 6 12 34 56 79", "Martin", "Won"
    again = await run_import(api, workspace.token, csv_bytes(fixed, delimiter=";"), {"mapping": mapping})
    # then
    assert (again["created"], again["failed"]) == (2, 0)
    assert sorted(c["firstname"] for c in await _contacts(api, workspace.token)) == ["Aimée", "Hélène", "Zoé"]


async def test_a_file_too_large_is_refused_and_a_larger_body_never_read(
    settings: Settings, engine: Any, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: an app taking files of at most 1,000 bytes
    async with serve(settings.model_copy(update={"import_max_bytes": 1_000}), engine) as served:
        client: httpx.AsyncClient = served.client
        small = csv_bytes([HEADER, _row(1)])
        over = small + b"x" * (1_001 - len(small))
        huge = b"x" * (1_000 + settings.max_body_bytes + 1)
        # when
        accepted = await upload(client, workspace.token, small)
        refused = await upload(client, workspace.token, over)
        too_big = await upload(client, workspace.token, huge)
        json_body = await client.post(
            "/graphql",
            json={"query": "{ me { id } }", "pad": "x" * settings.max_body_bytes},
            headers={"Authorization": f"Bearer {workspace.token}"},
        )
        # then
        assert accepted.json()["data"]["importContacts"]["userErrors"] == []
        [error] = refused.json()["data"]["importContacts"]["userErrors"]
        assert (error["code"], error["field"]) == ("LIMIT_EXCEEDED", ["file"])
        assert too_big.status_code == 413
        assert too_big.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
        assert json_body.status_code == 413  # an ordinary request keeps the ordinary limit
        job_id = accepted.json()["data"]["importContacts"]["job"]["id"]
        assert (await finished(api, workspace.token, job_id))["created"] == 1


async def test_a_finished_job_cannot_be_cancelled(api: Api, workspace: Workspace, library: Library) -> None:
    job = await run_import(api, workspace.token, csv_bytes([HEADER, _row(1)]))
    payload = (await api.data(CANCEL, {"id": job["id"]}, workspace.token))["cancelImport"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("BLOCKED", ["id"])]


async def test_import_returns_the_job_at_once_and_removes_the_file_once_done(
    api: Api, workspace: Workspace, library: Library
) -> None:
    payload = await start_import(api, workspace.token, csv_bytes([HEADER, _row(1)]))
    assert payload["job"]["state"] in ("QUEUED", "RUNNING")
    stored = await ImportJob.get(oid(payload["job"]["id"]))
    assert stored is not None
    assert (await finished(api, workspace.token, payload["job"]["id"]))["state"] == "DONE"
    assert not await asyncio.to_thread(os.path.exists, stored.upload.path)


NODE = """
query($id: ID!) { node(id: $id) { id ... on ImportJob { state created } } }"""


async def test_node_resolves_a_job_for_an_importer_of_its_workspace(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    job = await run_import(api, workspace.token, csv_bytes([HEADER, _row(1)]))
    _, viewer = await api.agent_token(workspace, ["CONTACT_VIEW"])
    other = await api.create_workspace("Other")
    # when
    seen = await api.data(NODE, {"id": job["id"]}, workspace.token)
    hidden = [(await api.data(NODE, {"id": job["id"]}, token))["node"] for token in (viewer, other.token)]
    # then
    assert seen["node"] == {"id": job["id"], "state": "DONE", "created": 1}
    assert hidden == [None, None]


async def test_duplicates_within_the_file_are_found_however_far_apart(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: thousands of rows between a row and its duplicates (by phone, then by email)
    rows = [[*_row(n), f"p{n}@example.com"] for n in range(4_500)]
    rows.append(["Ada", "Again", phone(1), "New", "WhatsApp", "new@example.com"])
    rows.append(["Ada", "Email", phone(99_999), "New", "WhatsApp", "P4000@Example.com"])
    data = csv_bytes([[*HEADER, "email"], *rows])
    # when
    job = await run_import(api, workspace.token, data, {"dryRun": True, "duplicateCheck": ["PHONE", "EMAIL"]})
    errors = (await api.data(IMPORT_JOB_ERRORS, {"id": job["id"]}, workspace.token))["importJob"]["errors"]
    # then
    assert (job["created"], job["skippedDuplicates"]) == (4_500, 2)
    assert [(e["row"], e["column"], e["message"]) for e in errors] == [
        (4_502, "phone", "Skipped: row 3 has the same phone."),
        (4_503, "email", "Skipped: row 4002 has the same email."),
    ]


async def test_a_quote_never_closed_fails_the_job_before_any_row_is_written(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a cell that opens a quote and swallows the rest of the file, past the csv module's limit
    data = csv_bytes([HEADER, _row(1), _row(2)]) + b'Ada,"Broken,' + b"x" * 140_000 + b"\r\n"
    # when
    job = await run_import(api, workspace.token, data)
    # then: the whole file is read once (to count its rows) before any row is written
    assert (job["state"], job["processedRows"], job["created"]) == ("FAILED", 0, 0)
    assert "not valid CSV" in job["failure"]
    assert await Contact.find({}).count() == 0


async def test_a_file_sent_without_the_multipart_spec_is_refused(
    api: Api, workspace: Workspace, library: Library
) -> None:
    mutation = "mutation($f: Upload!) { importContacts(file: $f) { job { id } userErrors { field code } } }"
    data = await api.data(mutation, {"f": "contacts.csv"}, workspace.token)
    assert data["importContacts"] == {"job": None, "userErrors": [{"field": ["file"], "code": "INVALID"}]}

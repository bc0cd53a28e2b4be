"""Import mapping that helps: explicit mappings over the header's names, export aliases, library
entries by name or id, refusals that list every column, lenient optional cells, locale numbers."""

from __future__ import annotations

from typing import Any

from .api import Api, Library, Workspace, make_custom_field
from .csv_api import IMPORT_JOB, csv_bytes, finished, read_csv, run_import, start_import, upload
from .data.generate import GOOGLE_HEADER

CONTACTS = """
query {
  contacts(first: 100, sort: {field: FIRSTNAME}) {
    edges { node {
      firstname lastname phone otherPhones email company website city
      status { name } source { name } groups { name }
      customFields { field { key } value }
    } }
  }
}"""

IMPORT_MAPPING = """
query($header: [String!]!, $options: ImportOptions, $delimiter: String! = ",") {
  importMapping(header: $header, options: $options, delimiter: $delimiter) {
    columns { column field } userErrors { field code message }
  }
}"""

ERRORS = """
query($id: ID!) { importJob(id: $id) { warnedRows errors(first: 500) { row column code message warning } } }"""


async def _contacts(api: Api, token: str) -> list[dict[str, Any]]:
    return [e["node"] for e in (await api.data(CONTACTS, token=token))["contacts"]["edges"]]


async def _mapping(api: Api, token: str, header: list[str], **options: Any) -> dict[str, Any]:
    variables = {"header": header, "options": options or None}
    return (await api.data(IMPORT_MAPPING, variables, token))["importMapping"]  # type: ignore[no-any-return]


async def test_an_explicit_mapping_adds_to_the_header_names(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: the names by their header, the phone by the mapping
    data = csv_bytes([["First Name", "Last Name", "Contacto"], ["Rui", "Costa", "+351912000001"]])
    options = {
        "mapping": [{"column": "Contacto", "field": "phone"}],
        "defaultStatus": "new",  # a name, in any case
        "defaultSource": library.sources[1],  # or an id
        "groups": ["VIP", library.groups[1]],
    }
    # when
    job = await run_import(api, workspace.token, data, options)
    # then
    assert (job["state"], job["created"], job["failed"]) == ("DONE", 1, 0)
    [rui] = await _contacts(api, workspace.token)
    assert (rui["firstname"], rui["lastname"], rui["phone"]) == ("Rui", "Costa", "+351912000001")
    assert (rui["status"]["name"], rui["source"]["name"]) == ("New", "Website")
    assert sorted(g["name"] for g in rui["groups"]) == ["Newsletter", "VIP"]


async def test_google_outlook_and_hubspot_headers_are_recognised(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # when
    google = await _mapping(api, workspace.token, GOOGLE_HEADER)
    outlook = await _mapping(
        api,
        workspace.token,
        [
            "First Name",
            "Last Name",
            "E-mail Address",
            "Home Phone",
            "Mobile Phone",
            "Business City",
            "Web Page",
        ],
    )
    hubspot = await _mapping(
        api,
        workspace.token,
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Lead Status", "Original Source"],
    )
    # then
    fields = {c["column"]: c["field"] for c in google["columns"]}
    assert len(fields) == 56
    assert {k: v for k, v in fields.items() if v} == {
        "Given Name": "firstname",
        "Family Name": "lastname",
        "Notes": "description",
        "E-mail 1 - Value": "email",
        "Phone 1 - Value": "phone",
        "Phone 2 - Value": "otherPhones",
        "Address 1 - Street": "address",
        "Address 1 - City": "city",
        "Address 1 - Region": "state",
        "Address 1 - Postal Code": "zip",
        "Address 1 - Country": "country",
        "Organization 1 - Name": "company",
        "Website 1 - Value": "website",
    }
    assert {c["column"]: c["field"] for c in outlook["columns"]} == {
        "First Name": "firstname",
        "Last Name": "lastname",
        "E-mail Address": "email",
        "Home Phone": "otherPhones",
        "Mobile Phone": "phone",  # the mobile is the WhatsApp number
        "Business City": "city",
        "Web Page": "website",
    }
    assert {c["column"]: c["field"] for c in hubspot["columns"]}["Lead Status"] == "status"
    assert {c["column"]: c["field"] for c in hubspot["columns"]}["Original Source"] == "source"
    assert hubspot["userErrors"] == []


async def test_a_refusal_lists_every_column_and_what_it_fills(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a Google header without its given and family names
    header = [h for h in GOOGLE_HEADER if h not in ("Given Name", "Family Name")]
    data = csv_bytes([header, ["x"] * len(header)])
    # when
    response = await upload(api.client, workspace.token, data, {"defaultStatus": "Nope"})
    # then
    errors = {tuple(e["field"]): e for e in response.json()["data"]["importContacts"]["userErrors"]}
    assert set(errors) == {
        ("options", "mapping"),
        ("options", "defaultStatus"),
        ("options", "defaultSourceId"),
    }
    message = errors[("options", "mapping")]["message"]
    assert message.startswith("No column gives firstname or lastname.")
    assert all(repr(column) in message for column in header)  # all 54, not the first 20
    assert "'Phone 1 - Value' → phone" in message and "'Nickname' → (ignored)" in message
    assert errors[("options", "defaultStatus")]["code"] == "NOT_FOUND"
    assert "'New', 'Won'" in errors[("options", "defaultStatus")]["message"]  # the names it has


async def test_status_source_and_group_cells_take_names_or_ids(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    data = csv_bytes(
        [
            ["firstname", "lastname", "phone", "status", "source", "groups"],
            ["Ada", "One", "+351912000001", library.statuses[1], "website", f"vip;{library.groups[1]}"],
        ]
    )
    # when
    job = await run_import(api, workspace.token, data)
    # then
    assert (job["created"], job["failed"]) == (1, 0)
    [ada] = await _contacts(api, workspace.token)
    assert (ada["status"]["name"], ada["source"]["name"]) == ("Won", "Website")
    assert sorted(g["name"] for g in ada["groups"]) == ["Newsletter", "VIP"]


async def test_an_invalid_optional_cell_is_left_out_with_a_warning_when_asked(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a yearless birthday, a website without a scheme, an unknown group; one bad phone
    await make_custom_field(api, workspace, "birthday", "DATE")
    rows = [
        ["Given Name", "Family Name", "Phone 1 - Value", "Birthday", "Website 1 - Value", "groups"],
        ["Ana", "Lima", "+351912000001", "--05-17", "www.lima.example", "Nope"],
        ["Rita", "Melo", "not a phone", "1990-01-02", "", ""],
    ]
    options = {"defaultStatus": "New", "defaultSource": "WhatsApp", "skipInvalidCells": True}
    # when
    payload = await start_import(api, workspace.token, csv_bytes(rows), options)
    job = await finished(api, workspace.token, payload["job"]["id"])
    details = (await api.data(ERRORS, {"id": job["id"]}, workspace.token))["importJob"]
    # then: Ana is imported without the three cells, Rita fails on her phone (a required value)
    assert (job["created"], job["failed"], details["warnedRows"]) == (1, 1, 1)
    [ana] = await _contacts(api, workspace.token)
    assert (ana["website"], ana["customFields"], ana["groups"]) == (None, [], [])
    warnings = [(e["row"], e["column"]) for e in details["errors"] if e["warning"]]
    assert warnings == [(2, "Birthday"), (2, "Website 1 - Value"), (2, "groups")]
    assert all(e["message"].startswith("Left out: ") for e in details["errors"] if e["warning"])
    assert [(e["row"], e["code"]) for e in details["errors"] if not e["warning"]] == [(3, "INVALID")]
    report = await api.client.get(
        job["errorReportUrl"], headers={"Authorization": f"Bearer {workspace.token}"}
    )
    assert [r[0] for r in read_csv(report.content)[1:]] == ["Ana", "Rita"]


async def test_without_the_option_an_invalid_optional_cell_fails_the_row(
    api: Api, workspace: Workspace, library: Library
) -> None:
    data = csv_bytes(
        [["firstname", "lastname", "phone", "website"], ["Ana", "Lima", "+351912000001", "www.x.pt"]]
    )
    job = await run_import(api, workspace.token, data, {"defaultStatus": "New", "defaultSource": "WhatsApp"})
    assert (job["created"], job["failed"]) == (0, 1)


async def test_numbers_are_read_by_the_files_locale(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    await make_custom_field(api, workspace, "valor", "NUMBER")
    header = ["firstname", "lastname", "phone", "valor"]
    semicolons = csv_bytes([header, ["Ana", "A", "+351912000001", "1.234,50"]], delimiter=";")
    commas = csv_bytes(
        [header, ["Bea", "B", "+351912000002", "1,234.50"], ["Cid", "C", "+351912000003", "2,5"]]
    )
    told = csv_bytes([header, ["Dia", "D", "+351912000004", "1 000,25"]])
    options = {"defaultStatus": "New", "defaultSource": "WhatsApp"}
    # when
    for data, extra in ((semicolons, {}), (commas, {}), (told, {"decimalSeparator": ","})):
        job = await run_import(api, workspace.token, data, {**options, **extra})
        assert job["failed"] == 0, job
    # then
    values = {c["firstname"]: c["customFields"][0]["value"] for c in await _contacts(api, workspace.token)}
    assert values == {"Ana": 1234.5, "Bea": 1234.5, "Cid": 2.5, "Dia": 1000.25}


async def test_a_multi_value_phone_cell_gives_the_phone_and_other_phones(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    data = csv_bytes(
        [
            ["Given Name", "Family Name", "Phone 1 - Value", "Phone 2 - Value"],
            ["Ana", "Lima", "+351 912 000 001 ::: 912 000 002", "+351 21 123 4567 ::: +44 7400 123456"],
            ["Bea", "Melo", "", "+351 912 000 003"],  # only another phone: it is the phone
        ]
    )
    options = {"defaultStatus": "New", "defaultSource": "WhatsApp", "defaultRegion": "PT"}
    # when
    job = await run_import(api, workspace.token, data, options)
    # then
    assert (job["created"], job["failed"]) == (2, 0)
    ana, bea = await _contacts(api, workspace.token)
    assert ana["phone"] == "+351912000001"
    assert ana["otherPhones"] == ["+351912000002", "+351211234567", "+447400123456"]
    assert (bea["phone"], bea["otherPhones"]) == ("+351912000003", [])


async def test_the_job_counts_rows_with_warnings(api: Api, workspace: Workspace, library: Library) -> None:
    data = csv_bytes([["firstname", "lastname", "phone", "email"], ["Ana", "Lima", "+351912000001", "nope"]])
    options = {"defaultStatus": "New", "defaultSource": "WhatsApp", "skipInvalidCells": True}
    job = await run_import(api, workspace.token, data, options)
    again = (await api.data(IMPORT_JOB, {"id": job["id"]}, workspace.token))["importJob"]
    assert (again["created"], again["failed"], again["errorReportUrl"] is not None) == (1, 0, True)

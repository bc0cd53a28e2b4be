"""``contactgraph import`` and ``contactgraph export`` against a live server (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contactgraph.cli import main

from .api import CREATE_CONTACT, CREATE_SOURCE, CREATE_STATUS, CREATE_WORKSPACE
from .csv_api import csv_bytes
from .data.generate import excel_europe, google_contacts

ADMIN_KEY = "cli-test-admin-key-0123456789"
START_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``contactgraph serve`` in a process of its own, on the in-memory engine."""
    port = _free_port()
    env = {
        **os.environ,
        "CONTACTGRAPH_MONGODB_URL": "memory://",
        "CONTACTGRAPH_ADMIN_KEY": ADMIN_KEY,
        "CONTACTGRAPH_IMPORT_DIR": str(tmp_path_factory.mktemp("uploads")),
    }
    command = [
        sys.executable,
        "-m",
        "contactgraph.cli",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def _gql(url: str, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    body = response.json()
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert payload.get("userErrors", []) == [], payload
    return payload  # type: ignore[no-any-return]


@pytest.fixture
def workspace(server: str) -> dict[str, str]:
    """A fresh workspace on the live server, with a status and a source."""
    token = _gql(server, ADMIN_KEY, CREATE_WORKSPACE, {"name": "CLI"})["adminToken"]
    status = _gql(server, token, CREATE_STATUS, {"input": {"name": "New", "color": "#1e90ff"}})["status"][
        "id"
    ]
    source = _gql(server, token, CREATE_SOURCE, {"input": {"name": "WhatsApp"}})["source"]["id"]
    return {"token": token, "status": status, "source": source}


def test_import_shows_the_summary_and_where_the_error_report_is(
    server: str, workspace: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    path = tmp_path / "contacts.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["Prénom", "Nom", "Portable"],
                ["Aimée", "Dupont", "+33 6 12 34 56 78"],
                ["Luc", "Martin", "06 12 34 56 79"],
                ["Zoé", "Bernard", "pas de numéro"],
            ],
            encoding="cp1252",
            delimiter=";",
        )
    )
    args = [
        "import",
        str(path),
        "--url",
        server,
        "--token",
        workspace["token"],
        "--map",
        "Prénom=firstname",
        "--map",
        "Nom=lastname",
        "--map",
        "Portable=phone",
        "--default-status",
        workspace["status"],
        "--default-source",
        workspace["source"],
        "--default-region",
        "FR",
        "--poll",
        "0.05",
    ]
    # when
    status = main(args)
    # then: a row failed, so the command fails
    out = capsys.readouterr().out
    assert status == 3
    assert "import DONE: 2 created, 0 updated, 0 skipped as duplicates, 1 failed, of 3 rows." in out
    report_url = out.split("error report: ", 1)[1].strip()
    report = httpx.get(report_url, headers={"Authorization": f"Bearer {workspace['token']}"}, timeout=10.0)
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Prénom", "Nom", "Portable", "reason"]
    assert rows[1][:3] == ["Zoé", "Bernard", "pas de numéro"]


def test_a_refused_import_says_why_and_fails(
    server: str, workspace: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_bytes([["firstname", "lastname"], ["Ada", "Lovelace"]]))
    status = main(["import", str(path), "--url", server, "--token", workspace["token"], "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1
    assert "the import was refused" in err and "(REQUIRED)" in err
    assert (
        "--map: No column gives phone. The file's columns: 'firstname' → firstname, 'lastname' → lastname."
        in err
    )
    assert "--default-status: No status column" in err and "--default-source: No source column" in err
    assert "options." not in err  # the command's flags, not the API's option names


def test_export_writes_the_csv_to_standard_output(
    server: str, workspace: dict[str, str], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # given
    for n, name in enumerate(("Ingrid", "Søren")):
        contact = {
            "firstname": name,
            "lastname": "Ek",
            "phone": f"+4670123456{n}",
            "statusId": workspace["status"],
            "sourceId": workspace["source"],
        }
        _gql(server, workspace["token"], CREATE_CONTACT, {"input": contact})
    # when
    status = main(
        [
            "export",
            "--url",
            f"{server}/graphql",
            "--token",
            workspace["token"],
            "--filter",
            json.dumps({"search": "Sø"}),
            "--delimiter",
            "semicolon",
        ]
    )
    # then
    out = capsysbinary.readouterr().out
    assert status == 0
    assert out.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8-sig")), delimiter=";"))
    assert [(r["firstname"], r["phone"], r["status"]) for r in rows] == [("Søren", "+46701234561", "New")]


def test_export_with_a_bad_token_fails_on_standard_error(
    server: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    status = main(["export", "--url", server, "--token", "cg_nope"])
    captured = capsysbinary.readouterr()
    assert status == 1 and captured.out == b""
    assert b"401" in captured.err and b"UNAUTHENTICATED" in captured.err


# ---------------------------------------------------------------- a scriptable import

CREATE_FIELD = """
mutation($input: CustomFieldInput!) { createCustomField(input: $input) { customField { id } userErrors { field } } }"""

JOB_ERRORS = """
query($id: ID!, $after: String) { importJob(id: $id) { errors(first: 500, after: $after) { row code warning } } }"""


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _job_errors(server: str, token: str, job_id: str) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    while True:
        page = _gql(server, token, JOB_ERRORS, {"id": job_id, "after": str(len(errors))})["errors"]
        if not page:
            return errors
        errors += page


def _small_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    rows = [
        ["First Name", "Last Name", "Contacto"],
        ["Ana", "Lima", "+351912000001"],
        ["Rui", "Costa", "nope"],
    ]
    path.write_bytes(csv_bytes(rows))
    return path


def test_failed_rows_fail_the_command_unless_allowed_and_the_report_is_saved(
    server: str, workspace: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    path, report = _small_file(tmp_path), tmp_path / "errors.csv"
    common = ["import", str(path), "--url", server, "--token", workspace["token"], "--map", "Contacto=phone"]
    common += ["--default-status", "new", "--default-source", "WhatsApp", "--no-progress", "--poll", "0.05"]
    # when
    failing, out, _ = _run([*common, "--errors", str(report), "--json"], capsys)
    allowed, _, _ = _run([*common, "--allow-failures", "--on-duplicate", "UPDATE"], capsys)
    # then
    assert (failing, allowed) == (3, 0)
    summary = json.loads(out)
    assert (summary["state"], summary["created"], summary["failed"]) == ("DONE", 1, 1)
    assert summary["errorReport"] == str(report)
    rows = list(csv.reader(io.StringIO(report.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["First Name", "Last Name", "Contacto", "reason"]
    assert rows[1][:3] == ["Rui", "Costa", "nope"] and rows[1][3].startswith("Contacto: A phone number")


def test_plan_prints_the_mapping_and_imports_nothing(
    server: str, workspace: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    path = _small_file(tmp_path)
    args = ["import", str(path), "--url", server, "--token", workspace["token"], "--plan"]
    # when
    without, out_without, _ = _run(args, capsys)
    planned, out, _ = _run([*args, "--map", "Contacto=phone", "--default-status", "New"], capsys)
    # then
    assert without == 1
    assert "Contacto    → (ignored)" in out_without and "--map: No column gives phone." in out_without
    assert planned == 1  # no source yet
    assert out.splitlines()[:3] == [
        "First Name  → firstname",
        "Last Name   → lastname",
        "Contacto    → phone",
    ]
    assert "--default-source: No source column" in out
    contacts = _gql(server, workspace["token"], "{ contacts { totalCount } }", {})
    assert contacts["totalCount"] == 0


def test_library_lists_statuses_sources_groups_and_fields_with_their_ids(
    server: str, workspace: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    field = {"key": "plan", "label": "Plan", "type": "TEXT"}
    _gql(server, workspace["token"], CREATE_FIELD, {"input": field})
    args = ["library", "--url", server, "--token", workspace["token"]]
    # when
    status, out, _ = _run(args, capsys)
    as_json, data, _ = _run([*args, "--json"], capsys)
    # then
    assert (status, as_json) == (0, 0)
    assert f"  New  {workspace['status']}" in out and f"  WhatsApp  {workspace['source']}" in out
    assert "groups:\n  (none)" in out and "  plan (Plan, TEXT)  " in out
    library = json.loads(data)
    assert library["statuses"] == [{"id": workspace["status"], "name": "New"}]


def test_a_workspace_without_statuses_is_warned_of_before_the_upload(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    token = _gql(server, ADMIN_KEY, CREATE_WORKSPACE, {"name": "Empty"})["adminToken"]
    path = tmp_path / "contacts.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["firstname", "lastname", "phone", "status", "source"],
                ["A", "B", "+351912000001", "New", "Ads"],
            ]
        )
    )
    # when
    status, _, err = _run(["import", str(path), "--url", server, "--token", token, "--no-progress"], capsys)
    # then: every row fails (no status nor source named so), and the user was told why first
    assert status == 3
    assert (
        "warning: this workspace has no statuses" in err and "warning: this workspace has no sources" in err
    )


def _real_file_workspace(
    server: str, statuses: list[str], sources: list[str], fields: list[dict[str, str]]
) -> str:
    token = _gql(server, ADMIN_KEY, CREATE_WORKSPACE, {"name": "Real files"})["adminToken"]
    for name in statuses:
        _gql(server, token, CREATE_STATUS, {"input": {"name": name, "color": "#1e90ff"}})
    for name in sources:
        _gql(server, token, CREATE_SOURCE, {"input": {"name": name}})
    for field in fields:
        _gql(server, token, CREATE_FIELD, {"input": field})
    return token  # type: ignore[no-any-return]


def _import_real_file(
    server: str, token: str, path: Path, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    args = ["import", str(path), "--url", server, "--token", token, "--default-region", "PT"]
    args += ["--skip-invalid-cells", "--json", "--no-progress", "--poll", "0.05", *extra]
    status, out, err = _run(args, capsys)
    return status, json.loads(out), err


def test_a_google_contacts_export_imports_every_row_with_valid_required_values(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: 300 rows of the 56-column export, a birthday field (Google writes yearless ones)
    generated = google_contacts(300)
    path = tmp_path / "google.csv"
    path.write_bytes(generated.data)
    fields = [
        {"key": "birthday", "label": "Birthday", "type": "DATE"},
        {"key": "alias", "label": "Alias", "type": "TEXT"},
    ]
    token = _real_file_workspace(server, ["New"], ["Google Contacts"], fields)
    extra = [
        "--map",
        "Nickname=customFields.alias",
        "--default-status",
        "new",
        "--default-source",
        "Google Contacts",
    ]
    # when
    status, job, _ = _import_real_file(server, token, path, extra, capsys)
    # then: only the rows without a valid phone fail
    assert status == 3
    assert (job["state"], job["created"], job["failed"]) == (
        "DONE",
        300 - len(generated.bad_rows),
        len(generated.bad_rows),
    )
    assert job["warnedRows"] > 0  # yearless birthdays and websites without a scheme, left out
    errors = _job_errors(server, token, job["id"])
    assert {e["row"] for e in errors if not e["warning"]} == generated.bad_rows
    found = _gql(
        server,
        token,
        """query($s: String) { contacts(first: 50, filter: {search: $s}) { edges { node {
             firstname lastname phone otherPhones } } } }""",
        {"s": "Дмитрий"},
    )["edges"]
    by_phone = {e["node"]["phone"]: e["node"] for e in found}
    first = by_phone["+351910000000"]  # row 2: "+351 910 000 000 ::: 930 500 000", national the second
    assert (first["firstname"], first["lastname"]) == ("Дмитрий", "Иванов")
    assert first["otherPhones"] == ["+351930500000", "+351210000000"]  # and Phone 2 - Value


def test_an_excel_file_from_europe_imports_every_row_with_valid_required_values(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: Windows-1252, semicolons, Portuguese headers, decimal commas
    generated = excel_europe(300)
    path = tmp_path / "clientes.csv"
    path.write_bytes(generated.data)
    token = _real_file_workspace(
        server,
        ["Novo", "Cliente"],
        ["Feira", "Website"],
        [{"key": "valor", "label": "Valor", "type": "NUMBER"}],
    )
    extra = ["--map", "Tlm=phone", "--default-status", "Novo", "--default-source", "Website"]
    # when
    status, job, _ = _import_real_file(server, token, path, extra, capsys)
    # then
    assert status == 3
    assert (job["created"], job["failed"]) == (300 - len(generated.bad_rows), len(generated.bad_rows))
    assert {e["row"] for e in _job_errors(server, token, job["id"])} == generated.bad_rows
    found = _gql(
        server,
        token,
        """{ contacts(first: 300) { edges { node { firstname city status { name }
             customFields { field { key } value } } } } }""",
        {},
    )["edges"]
    values = {v["value"] for e in found for v in e["node"]["customFields"]}
    assert {1234.5, 99.9, 12, 1000000.01} <= values
    assert {e["node"]["status"]["name"] for e in found} == {"Novo", "Cliente"}
    assert "Évora" in {e["node"]["city"] for e in found}

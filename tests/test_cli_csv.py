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
    # then
    out = capsys.readouterr().out
    assert status == 0
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
    assert "the import was refused" in err and "options.mapping" in err and "(REQUIRED)" in err


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

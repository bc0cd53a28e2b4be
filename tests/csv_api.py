"""What the CSV tests share: files in any encoding and delimiter, uploads over the multipart spec, jobs waited for."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from .api import Api

IMPORT_CONTACTS = """
mutation($file: Upload!, $options: ImportOptions) {
  importContacts(file: $file, options: $options) {
    job { id state processedRows }
    userErrors { field code message }
  }
}"""

JOB_FIELDS = """
  id state totalRows processedRows created updated skippedDuplicates failed failure
  startedAt finishedAt errorReportUrl
"""

IMPORT_JOB = f"""
query($id: ID!) {{ importJob(id: $id) {{ {JOB_FIELDS} }} }}"""

IMPORT_JOB_ERRORS = """
query($id: ID!, $first: Int, $after: String) {
  importJob(id: $id) { errors(first: $first, after: $after) { row column code message } }
}"""

FINISHED = {"DONE", "FAILED", "CANCELLED"}
WAIT_SECONDS = 30.0  # only reached when a test fails


def csv_bytes(
    rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ",", bom: bool = False
) -> bytes:
    """Rows as a CSV file's bytes, written by the csv module as a spreadsheet would save them."""
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding)
    return ("\ufeff".encode(encoding) if bom else b"") + data


def read_csv(data: bytes) -> list[list[str]]:
    """A downloaded CSV (UTF-8 with a byte-order mark) as rows."""
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def upload(
    client: httpx.AsyncClient,
    token: str | None,
    content: bytes | IO[bytes] | Path,
    options: dict[str, Any] | None = None,
    filename: str = "contacts.csv",
) -> httpx.Response:
    """``importContacts`` as the GraphQL multipart request spec sends it."""
    operations = {"query": IMPORT_CONTACTS, "variables": {"file": None, "options": options}}
    body = content.open("rb") if isinstance(content, Path) else content
    try:
        return await client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (filename, body, "text/csv")},
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
    finally:
        if isinstance(content, Path):
            body.close()  # type: ignore[union-attr]


async def start_import(
    api: Api, token: str, content: bytes | IO[bytes] | Path, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The payload of an upload that must be accepted."""
    response = await upload(api.client, token, content, options)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    payload = body["data"]["importContacts"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload  # type: ignore[no-any-return]


async def finished(api: Api, token: str, job_id: str, every: float = 0.005) -> dict[str, Any]:
    """The job once it has ended, asked for ``every`` so many seconds."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            job = (await api.data(IMPORT_JOB, {"id": job_id}, token))["importJob"]
            if job["state"] in FINISHED:
                return job  # type: ignore[no-any-return]
            await asyncio.sleep(every)


async def run_import(
    api: Api, token: str, content: bytes | IO[bytes] | Path, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload = await start_import(api, token, content, options)
    return await finished(api, token, payload["job"]["id"])


async def row_errors(api: Api, token: str, job_id: str) -> list[tuple[int, str | None, str]]:
    data = await api.data(IMPORT_JOB_ERRORS, {"id": job_id, "first": 500}, token)
    return [(e["row"], e["column"], e["code"]) for e in data["importJob"]["errors"]]

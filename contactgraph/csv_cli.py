"""``contactgraph import`` and ``contactgraph export``: a running server's CSV endpoints, over HTTP."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

IMPORT_CONTACTS = """
mutation($file: Upload!, $options: ImportOptions) {
  importContacts(file: $file, options: $options) { job { id } userErrors { field code message } }
}"""

IMPORT_JOB = """
query($id: ID!) {
  importJob(id: $id) {
    id state totalRows processedRows created updated skippedDuplicates failed failure errorReportUrl
  }
}"""

FINISHED = {"DONE", "FAILED", "CANCELLED"}
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class CommandError(Exception):
    """What went wrong, for the user; the command exits with status 1."""


def add_commands(commands: Any) -> None:
    """The ``import`` and ``export`` subcommands, added to the ``contactgraph`` command's."""
    token_default = os.environ.get("CONTACTGRAPH_TOKEN")
    token_help = "a workspace API token (default: $CONTACTGRAPH_TOKEN)"

    command = commands.add_parser("import", help="import a CSV file of contacts into a running server")
    command.add_argument("file", type=Path, help="the CSV file (UTF-8, UTF-16 or Windows-1252; , ; or tab)")
    command.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    command.add_argument("--token", default=token_default, required=token_default is None, help=token_help)
    command.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help='a column and the field it fills (repeatable), e.g. "Mobile=phone" or "Plan=customFields.plan"',
    )
    command.add_argument("--duplicate-check", default="PHONE", help="PHONE, EMAIL, or PHONE,EMAIL")
    command.add_argument("--on-duplicate", choices=["SKIP", "UPDATE"], default="SKIP")
    command.add_argument("--default-status", metavar="ID", help="status id for rows without a known status")
    command.add_argument("--default-source", metavar="ID", help="source id for rows without a known source")
    command.add_argument("--group", action="append", default=[], metavar="ID", help="a group every row joins")
    command.add_argument("--default-region", metavar="CC", help="country of numbers without a country code")
    command.add_argument("--dry-run", action="store_true", help="check and count everything, write nothing")
    command.add_argument("--no-progress", action="store_true", help="no progress bar")
    command.add_argument("--poll", type=float, default=0.5, help="seconds between two looks at the job")
    command.set_defaults(run=_import)

    command = commands.add_parser("export", help="write a workspace's contacts as CSV to standard output")
    command.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    command.add_argument("--token", default=token_default, required=token_default is None, help=token_help)
    command.add_argument("--filter", metavar="JSON", help='a ContactFilter, e.g. \'{"statusIds": ["..."]}\'')
    command.add_argument("--ids", metavar="ID,ID", help="only these contacts")
    command.add_argument("--delimiter", choices=["comma", "semicolon", "tab"], default="comma")
    command.add_argument(
        "--custom-fields", action="store_true", help="the custom-field definitions instead of the contacts"
    )
    command.set_defaults(run=_export)


def _client(args: argparse.Namespace) -> httpx.Client:
    base = args.url.rstrip("/").removesuffix("/graphql")
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {args.token}"}, timeout=TIMEOUT)


def _failed(response: httpx.Response) -> CommandError:
    try:
        errors = response.json().get("errors") or []
        message = "; ".join(f"{e['message']} ({e.get('extensions', {}).get('code')})" for e in errors)
    except (ValueError, AttributeError, KeyError, TypeError):
        message = response.text[:500]
    return CommandError(f"the server answered {response.status_code}: {message or response.reason_phrase}")


def _graphql(client: httpx.Client, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": document, "variables": variables})
    body = response.json() if response.status_code == 200 else None
    if body is None or body.get("errors"):
        raise _failed(response)
    return body["data"]  # type: ignore[no-any-return]


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {
        "duplicateCheck": [key.strip().upper() for key in args.duplicate_check.split(",") if key.strip()],
        "onDuplicate": args.on_duplicate,
        "dryRun": args.dry_run,
    }
    if args.map:
        pairs = [item.rpartition("=") for item in args.map]
        if any(not column or not sep or not field for column, sep, field in pairs):
            raise CommandError("--map takes COLUMN=FIELD")
        options["mapping"] = [{"column": column, "field": field} for column, _, field in pairs]
    for name, value in (
        ("defaultStatusId", args.default_status),
        ("defaultSourceId", args.default_source),
        ("defaultRegion", args.default_region),
    ):
        if value:
            options[name] = value
    if args.group:
        options["groupIds"] = args.group
    return options


def _upload(client: httpx.Client, path: Path, options: dict[str, Any]) -> str:
    """The multipart request of the GraphQL multipart request spec; the new job's id."""
    operations = {"query": IMPORT_CONTACTS, "variables": {"file": None, "options": options}}
    with path.open("rb") as file:
        response = client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (path.name, file, "text/csv")},
        )
    body = response.json() if response.status_code == 200 else None
    if body is None or body.get("errors"):
        raise _failed(response)
    payload = body["data"]["importContacts"]
    if payload["userErrors"]:
        problems = "\n".join(
            f"  {'.'.join(e['field'] or [])}: {e['message']} ({e['code']})" for e in payload["userErrors"]
        )
        raise CommandError(f"the import was refused:\n{problems}")
    return payload["job"]["id"]  # type: ignore[no-any-return]


def _follow(client: httpx.Client, job_id: str, poll: float, show: bool) -> dict[str, Any]:
    """The job once it has ended, with a progress bar on standard error meanwhile."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not show) as progress:
        task = progress.add_task("importing", total=None)
        while True:
            job = _graphql(client, IMPORT_JOB, {"id": job_id})["importJob"]
            progress.update(
                task, total=job["totalRows"], completed=job["processedRows"], description=job["state"]
            )
            if job["state"] in FINISHED:
                return job  # type: ignore[no-any-return]
            time.sleep(poll)


def _summary(job: dict[str, Any], dry_run: bool) -> str:
    counts = (
        f"{job['created']} created, {job['updated']} updated, "
        f"{job['skippedDuplicates']} skipped as duplicates, {job['failed']} failed"
    )
    lines = [
        f"import {job['state']}{' (dry run)' if dry_run else ''}: {counts}, of {job['processedRows']} rows."
    ]
    if job.get("failure"):
        lines.append(job["failure"])
    if job.get("errorReportUrl"):
        lines.append(f"error report: {job['errorReportUrl']}")
    return "\n".join(lines)


def _import(args: argparse.Namespace) -> int:
    try:
        if not args.file.is_file():
            raise CommandError(f"{args.file} is not a file")
        with _client(args) as client:
            job_id = _upload(client, args.file, _options(args))
            job = _follow(client, job_id, args.poll, not args.no_progress)
    except (CommandError, httpx.HTTPError) as error:
        sys.stderr.write(f"contactgraph import: {error}\n")
        return 1
    sys.stdout.write(_summary(job, args.dry_run) + "\n")
    return 0 if job["state"] == "DONE" else 1


def _export(args: argparse.Namespace) -> int:
    params: dict[str, str] = {"delimiter": args.delimiter}
    if args.filter:
        params["filter"] = args.filter
    if args.ids:
        params["ids"] = args.ids
    path = "/export/custom-fields.csv" if args.custom_fields else "/export/contacts.csv"
    out = sys.stdout.buffer
    try:
        with _client(args) as client, client.stream("GET", path, params=params) as response:
            if response.status_code != 200:
                response.read()
                raise _failed(response)
            for chunk in response.iter_bytes():
                out.write(chunk)
    except (CommandError, httpx.HTTPError) as error:
        sys.stderr.write(f"contactgraph export: {error}\n")
        return 1
    out.flush()
    return 0

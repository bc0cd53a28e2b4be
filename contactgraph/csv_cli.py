"""``contactgraph import``, ``export`` and ``library``: a running server's CSV endpoints and library.

``import`` exits 0 when every row was imported (or skipped as a duplicate), 3 when rows
failed (0 with ``--allow-failures``), and 1 when the import was refused, failed or could
not reach the server.
"""

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

from .csvio.decoding import EncodingProbe, read_header

IMPORT_CONTACTS = """
mutation($file: Upload!, $options: ImportOptions) {
  importContacts(file: $file, options: $options) { job { id } userErrors { field code message } }
}"""

IMPORT_JOB = """
query($id: ID!) {
  importJob(id: $id) {
    id state totalRows processedRows created updated skippedDuplicates failed warnedRows failure
    errorReportUrl
  }
}"""

IMPORT_MAPPING = """
query($header: [String!]!, $options: ImportOptions, $delimiter: String!) {
  importMapping(header: $header, options: $options, delimiter: $delimiter) {
    columns { column field } userErrors { field code message }
  }
}"""

LIBRARY = """
query {
  statuses { id name } sources { id name } groups { id name }
  customFields { id key label type }
}"""

ROWS_FAILED = 3  # the exit status of an import that left rows out
FINISHED = {"DONE", "FAILED", "CANCELLED"}
# The command's flag for each option the server names in a refusal.
FLAGS = {
    "mapping": "--map",
    "defaultStatusId": "--default-status",
    "defaultStatus": "--default-status",
    "defaultSourceId": "--default-source",
    "defaultSource": "--default-source",
    "groupIds": "--group",
    "groups": "--group",
    "defaultRegion": "--default-region",
    "duplicateCheck": "--duplicate-check",
    "onDuplicate": "--on-duplicate",
    "decimalSeparator": "--decimal-separator",
}
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class CommandError(Exception):
    """What went wrong, for the user; the command exits with status 1."""


def add_commands(commands: Any) -> None:
    """The ``import``, ``export`` and ``library`` subcommands, added to the ``contactgraph`` command's."""
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
    command.add_argument(
        "--default-status", metavar="NAME|ID", help="status (name or id) of rows without a known status"
    )
    command.add_argument(
        "--default-source", metavar="NAME|ID", help="source (name or id) of rows without a known source"
    )
    command.add_argument(
        "--group", action="append", default=[], metavar="NAME|ID", help="a group every row joins (repeatable)"
    )
    command.add_argument("--default-region", metavar="CC", help="country of numbers without a country code")
    command.add_argument(
        "--skip-invalid-cells",
        action="store_true",
        help="leave out an invalid optional cell (reported as a warning) and import the row",
    )
    command.add_argument(
        "--decimal-separator", choices=[",", "."], help='of numbers (default: "," in a ";" file, else ".")'
    )
    command.add_argument("--dry-run", action="store_true", help="check and count everything, write nothing")
    command.add_argument(
        "--plan",
        action="store_true",
        help="print what each column would fill and what is missing; import nothing",
    )
    command.add_argument("--errors", type=Path, metavar="FILE", help="save the error report (CSV) to FILE")
    command.add_argument(
        "--allow-failures", action="store_true", help="exit 0 even when rows failed (default: exit 3)"
    )
    command.add_argument("--json", action="store_true", help="the summary as JSON on standard output")
    command.add_argument("--no-progress", action="store_true", help="no progress bar")
    command.add_argument("--poll", type=float, default=0.5, help="seconds between two looks at the job")
    command.set_defaults(run=_import)

    command = commands.add_parser(
        "library", help="list a workspace's statuses, sources, groups and custom fields"
    )
    command.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    command.add_argument("--token", default=token_default, required=token_default is None, help=token_help)
    command.add_argument("--json", action="store_true", help="as JSON")
    command.set_defaults(run=_library)

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
        ("defaultStatus", args.default_status),
        ("defaultSource", args.default_source),
        ("defaultRegion", args.default_region),
        ("decimalSeparator", args.decimal_separator),
    ):
        if value:
            options[name] = value
    if args.group:
        options["groups"] = args.group
    if args.skip_invalid_cells:
        options["skipInvalidCells"] = True
    return options


def _problems(errors: list[dict[str, Any]]) -> str:
    """userErrors as the command's user reads them: each under the flag that fixes it."""
    lines = []
    for error in errors:
        path = [p for p in error["field"] or [] if p != "options"]
        where = FLAGS.get(path[0], ".".join(path)) if path else "the file"
        lines.append(f"  {where}: {error['message']} ({error['code']})")
    return "\n".join(lines)


def _header(path: Path) -> tuple[str, list[str]]:
    """The file's delimiter and header row, read as the server reads them."""
    probe = EncodingProbe()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            probe.feed(chunk)
    return read_header(path, probe.encoding())


def _mapping(client: httpx.Client, path: Path, options: dict[str, Any]) -> dict[str, Any]:
    delimiter, header = _header(path)
    if not any(header):
        raise CommandError(f"{path}: the first row names no column")
    variables = {"header": header, "options": options, "delimiter": delimiter}
    return _graphql(client, IMPORT_MAPPING, variables)["importMapping"]  # type: ignore[no-any-return]


def _plan_text(mapping: dict[str, Any]) -> str:
    width = max((len(c["column"]) for c in mapping["columns"]), default=0)
    lines = [f"{c['column']:<{width}}  → {c['field'] or '(ignored)'}" for c in mapping["columns"]]
    if mapping["userErrors"]:
        lines += ["", "the import would be refused:", _problems(mapping["userErrors"])]
    return "\n".join(lines)


def _lacking(library: dict[str, Any], mapping: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """What the workspace lacks for this file: said before the file is sent."""
    fields = {c["field"] for c in mapping["columns"]}
    warnings = []
    for kind, flag in (("statuses", "--default-status"), ("sources", "--default-source")):
        singular = kind[:-2] if kind == "statuses" else kind[:-1]
        if not library[kind]:
            warnings.append(
                f"this workspace has no {kind}: every new contact needs a {singular}; create one first"
                f" (createStatus/createSource), then name it in a {singular} column or {flag}"
            )
    if ("groups" in fields or args.group) and not library["groups"]:
        warnings.append("this workspace has no groups: rows naming groups will fail; create them first")
    return warnings


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
        raise CommandError(f"the import was refused:\n{_problems(payload['userErrors'])}")
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


def _summary(job: dict[str, Any], dry_run: bool, errors: Path | None = None) -> str:
    counts = (
        f"{job['created']} created, {job['updated']} updated, "
        f"{job['skippedDuplicates']} skipped as duplicates, {job['failed']} failed"
    )
    lines = [
        f"import {job['state']}{' (dry run)' if dry_run else ''}: {counts}, of {job['processedRows']} rows."
    ]
    if job.get("failure"):
        lines.append(job["failure"])
    if job.get("warnedRows"):
        lines.append(f"{job['warnedRows']} rows were imported with an invalid cell left out (in the report).")
    if job.get("errorReportUrl"):
        lines.append(f"error report: {errors or job['errorReportUrl']}")
    return "\n".join(lines)


def _save_report(client: httpx.Client, job: dict[str, Any], path: Path) -> None:
    """The error report, downloaded with the token (nothing to save: an empty file)."""
    if not job.get("errorReportUrl"):
        path.write_bytes(b"")
        return
    response = client.get(job["errorReportUrl"])
    if response.status_code != 200:
        raise _failed(response)
    path.write_bytes(response.content)


def _exit_status(job: dict[str, Any], allow_failures: bool) -> int:
    if job["state"] != "DONE":
        return 1
    return ROWS_FAILED if job["failed"] and not allow_failures else 0


def _import(args: argparse.Namespace) -> int:
    try:
        if not args.file.is_file():
            raise CommandError(f"{args.file} is not a file")
        options = _options(args)
        with _client(args) as client:
            mapping = _mapping(client, args.file, options)
            if args.plan:
                sys.stdout.write(_plan_text(mapping) + "\n")
                return 1 if mapping["userErrors"] else 0
            if mapping["userErrors"]:  # refused before the file is sent
                raise CommandError(f"the import was refused:\n{_plan_text(mapping)}")
            for warning in _lacking(_graphql(client, LIBRARY, {}), mapping, args):
                sys.stderr.write(f"contactgraph import: warning: {warning}\n")
            job_id = _upload(client, args.file, options)
            job = _follow(client, job_id, args.poll, not args.no_progress)
            if args.errors is not None:
                _save_report(client, job, args.errors)
    except (CommandError, httpx.HTTPError) as error:
        sys.stderr.write(f"contactgraph import: {error}\n")
        return 1
    if args.json:
        summary = {**job, "dryRun": args.dry_run, "errorReport": str(args.errors) if args.errors else None}
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        sys.stdout.write(_summary(job, args.dry_run, args.errors) + "\n")
    return _exit_status(job, args.allow_failures)


def _library(args: argparse.Namespace) -> int:
    try:
        with _client(args) as client:
            library = _graphql(client, LIBRARY, {})
    except (CommandError, httpx.HTTPError) as error:
        sys.stderr.write(f"contactgraph library: {error}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(library) + "\n")
        return 0
    lines = []
    for kind in ("statuses", "sources", "groups"):
        lines.append(f"{kind}:")
        lines += [f"  {entry['name']}  {entry['id']}" for entry in library[kind]] or ["  (none)"]
    lines.append("custom fields:")
    fields = library["customFields"]
    lines += [f"  {f['key']} ({f['label']}, {f['type']})  {f['id']}" for f in fields] or ["  (none)"]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


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

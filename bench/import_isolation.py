"""Import isolation benchmark: does a large import starve the rest of the API? One JSON line.

``contactgraph serve`` (uvicorn, as deployed) runs in a child process on 127.0.0.1, over
the engine ``CONTACTGRAPH_MONGODB_URL`` names (the in-memory engine by default), with a
workspace of 60 contacts. This process asks it, every ``--interval`` seconds and without
waiting for earlier answers, for ``GET /healthz`` and for a page of 50 contacts
(``contacts(first: 50)`` with status and source), and times each answer:

- ``idle``: for ``--seconds`` with nothing else to do;
- ``importing``: from the start of the upload of a file of about 60 MB (some 480,000
  rows, a dry run) for ``--seconds``, or until the job ends if sooner; the job is then
  cancelled.

It prints p50, p99 and the worst time of each, the rows the job processed meanwhile,
and the server's peak resident memory (Linux). The server stops when this process does.

    python bench/import_isolation.py [--seconds 30] [--interval 0.1] [--megabytes 59.9]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from harness import mutation_payload

HOST = "127.0.0.1"

WORKSPACE = """
mutation($name: String!) { createWorkspace(name: $name) { adminToken userErrors { message } } }"""
STATUS = """
mutation($name: String!) {
  createStatus(input: {name: $name, color: "#1e90ff"}) { status { id } userErrors { message } }
}"""
SOURCE = """
mutation($name: String!) { createSource(input: {name: $name}) { source { id } userErrors { message } } }"""
CONTACT = """
mutation($input: ContactInput!) { createContact(input: $input) { contact { id } userErrors { message } } }"""
PAGE = """
query {
  contacts(first: 50) { edges { node { id firstname lastname phone status { name } source { name } } } }
}"""
IMPORT = """
mutation($file: Upload!, $options: ImportOptions) {
  importContacts(file: $file, options: $options) { job { id } userErrors { message } }
}"""
JOB = "query($id: ID!) { importJob(id: $id) { state totalRows processedRows failed } }"
CANCEL = "mutation($id: ID!) { cancelImport(id: $id) { job { state } userErrors { message } } }"


# ---------------------------------------------------------------- the server (child process)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def peak_rss(pid: int) -> int | None:
    """The process's peak resident memory (Linux), None elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(line.split()[1]) * 1024 if line else None


@dataclass
class Server:
    client: httpx.AsyncClient
    admin_key: str
    process: asyncio.subprocess.Process
    engine: str


@contextlib.asynccontextmanager
async def server_process(wait: float) -> AsyncIterator[Server]:
    """``contactgraph serve`` (uvicorn, as deployed) in a child process, on a database of its own."""
    admin_key = secrets.token_urlsafe(24)
    port = free_port()
    url = os.environ.get("CONTACTGRAPH_MONGODB_URL", "memory://")
    database = f"contactgraph_bench_{secrets.token_hex(4)}"
    environment = {
        **os.environ,
        "CONTACTGRAPH_ADMIN_KEY": admin_key,
        "CONTACTGRAPH_DATABASE": database,
        "CONTACTGRAPH_WEBHOOK_DELIVERY": "false",
        "CONTACTGRAPH_GRAPHIQL": "false",
    }
    command = [
        "-m",
        "contactgraph.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = await asyncio.create_subprocess_exec(sys.executable, *command, env=environment)
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=wait, limits=limits) as client:
            async with asyncio.timeout(wait):
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    if process.returncode is not None:
                        raise RuntimeError("the server did not start")
                    await asyncio.sleep(0.1)
            yield Server(client, admin_key, process, "memory" if url.startswith("memory:") else "mongodb")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(wait):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if not url.startswith("memory:"):
            from pymongo import AsyncMongoClient

            mongo: AsyncMongoClient[Any] = AsyncMongoClient(url)
            await mongo.drop_database(database)
            await mongo.close()


# ---------------------------------------------------------------- the probe (this process)


async def seed(client: httpx.AsyncClient, admin_key: str, contacts: int) -> str:
    token: str = (await mutation_payload(client, WORKSPACE, {"name": "isolation"}, admin_key))["adminToken"]
    status = (await mutation_payload(client, STATUS, {"name": "New"}, token))["status"]["id"]
    source = (await mutation_payload(client, SOURCE, {"name": "CSV"}, token))["source"]["id"]
    for n in range(contacts):
        contact = {
            "firstname": "Ada",
            "lastname": f"Lovelace {n}",
            "phone": f"+1415{9_000_000 + n:07d}",
            "statusId": status,
            "sourceId": source,
        }
        await mutation_payload(client, CONTACT, {"input": contact}, token)
    return token


def write_file(path: Path, max_bytes: int) -> int:
    """Rows as a CRM exports them, up to ``max_bytes``; how many rows."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["First Name", "Last Name", "Mobile", "E-mail", "Status", "Source", "City", "Notes"])
        while out.tell() < max_bytes - 200:
            writer.writerow(
                [
                    "Ada",
                    f"Lovelace {rows}",
                    f"+1 415 {2_000_000 + rows:07d}",
                    f"ada{rows}@example.com",
                    "New",
                    "CSV",
                    "London",
                    f"met at the analytical engine society, visit {rows}",
                ]
            )
            rows += 1
    return rows


@dataclass
class Probe:
    """Requests sent at a steady pace, each timed to its answer; a late answer never delays the next."""

    client: httpx.AsyncClient
    token: str
    interval: float
    times: dict[str, list[float]] = field(default_factory=lambda: {"healthz": [], "page": []})
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def _timed(self, name: str) -> None:
        started = time.perf_counter()
        if name == "healthz":
            response = await self.client.get("/healthz")
        else:
            response = await self.client.post(
                "/graphql", json={"query": PAGE}, headers={"Authorization": f"Bearer {self.token}"}
            )
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or (
            name == "page" and len(response.json()["data"]["contacts"]["edges"]) != 50
        ):
            raise RuntimeError(f"{name} answered {response.status_code}: {response.text[:300]}")
        self.times[name].append(elapsed)

    async def run(self, until: asyncio.Future[Any] | None, seconds: float) -> None:
        """Probe for ``seconds``, or until ``until`` is done if sooner; then wait for every answer."""
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and not (until is not None and until.done()):
            for name in ("healthz", "page"):
                task = asyncio.create_task(self._timed(name))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            await asyncio.sleep(self.interval)
        await asyncio.gather(*self.tasks)

    def figures(self) -> dict[str, Any]:
        def summary(times: list[float]) -> dict[str, Any]:
            ms = sorted(t * 1000 for t in times)
            p99 = statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) > 1 else ms[0]
            return {
                "requests": len(ms),
                "p50_ms": round(statistics.median(ms), 1),
                "p99_ms": round(p99, 1),
                "max_ms": round(ms[-1], 1),
            }

        return {name: summary(times) for name, times in self.times.items()}


async def upload_and_follow(
    client: httpx.AsyncClient, token: str, path: Path, seconds: float
) -> dict[str, Any]:
    """Upload ``path`` as a dry run and follow the job until it ends or ``seconds`` pass; then cancel it."""
    started = time.perf_counter()
    operations = {"query": IMPORT, "variables": {"file": None, "options": {"dryRun": True}}}
    with path.open("rb") as file:
        response = await client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (path.name, file, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
        )
    uploaded = time.perf_counter() - started
    payload = response.json()["data"]["importContacts"]
    if payload["userErrors"]:
        raise RuntimeError(payload["userErrors"])
    job_id = payload["job"]["id"]
    while True:
        job = await mutation_payload(client, JOB, {"id": job_id}, token)
        if job["state"] in ("DONE", "FAILED", "CANCELLED") or time.perf_counter() - started >= seconds:
            break
        await asyncio.sleep(0.25)
    if job["state"] == "FAILED":
        raise RuntimeError(f"the import failed: {job}")
    elapsed = time.perf_counter() - started
    if job["state"] not in ("DONE", "CANCELLED"):
        await mutation_payload(client, CANCEL, {"id": job_id}, token)
    return {
        "upload_seconds": round(uploaded, 2),
        "seconds": round(elapsed, 2),
        "rows_processed": job["processedRows"],
        "rows_per_second": round(job["processedRows"] / max(elapsed - uploaded, 1e-9)),
        "finished": job["state"] == "DONE",
    }


async def main(seconds: float, interval: float, megabytes: float, wait: float) -> dict[str, Any]:
    async with server_process(wait) as server:
        client = server.client
        token = await seed(client, server.admin_key, contacts=60)
        idle = Probe(client, token, interval)
        await idle.run(None, seconds)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.csv"
            rows = await asyncio.to_thread(write_file, path, int(megabytes * 1_000_000))
            busy = Probe(client, token, interval)
            job = asyncio.create_task(upload_and_follow(client, token, path, seconds))
            await busy.run(job, seconds)
            imported = await job
            imported.update(file_bytes=path.stat().st_size, file_rows=rows)
        peak = peak_rss(server.process.pid)
    return {
        "benchmark": "import_isolation",
        "engine": server.engine,
        "interval_seconds": interval,
        "idle": idle.figures(),
        "importing": busy.figures(),
        "import": imported,
        "server_peak_rss_bytes": peak,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each phase is probed")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two probes")
    parser.add_argument("--megabytes", type=float, default=59.9, help="size of the file imported, in MB")
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for any one answer")
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments.seconds, arguments.interval, arguments.megabytes, arguments.timeout))
    print(json.dumps(figures))

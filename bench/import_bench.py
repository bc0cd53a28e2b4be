"""Import benchmark: rows per second and peak memory of the whole import pipeline; one JSON line.

- a dry run of 100,000 generated rows: reading, checking, duplicate look-ups and counts,
  everything but the writes;
- a full import of 10,000 rows on the engine ``CONTACTGRAPH_MONGODB_URL`` names.

The in-memory engine's unique indexes scan the whole collection on every insert, so a full
import there is quadratic and its figure says little: it imports 2,000 rows unless
``--full-rows`` says otherwise. Peak memory is traced (tracemalloc) in a second run of the
same job, as tracing slows Python down.

    python bench/import_bench.py [--rows 100000] [--full-rows N]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from harness import Bench, bench_app

IMPORT = """
mutation($file: Upload!, $options: ImportOptions) {
  importContacts(file: $file, options: $options) { job { id } userErrors { message } }
}"""
JOB = """
query($id: ID!) { importJob(id: $id) { state totalRows processedRows created failed failure } }"""


def write_rows(path: Path, count: int, start: int) -> int:
    """``count`` contacts as a CRM would export them; the file's size."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["First Name", "Last Name", "Mobile", "E-mail", "Status", "Source", "City", "Notes"])
        for n in range(start, start + count):
            writer.writerow(
                [
                    "Ada",
                    f"Lovelace {n}",
                    f"+1 415 {2_000_000 + n:07d}",
                    f"ada{n}@example.com",
                    "New",
                    "CSV",
                    "London",
                    f"met at the analytical engine society, visit {n}",
                ]
            )
    return path.stat().st_size


async def run_job(
    bench: Bench, token: str, path: Path, options: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    """Seconds from the upload to the job's end, and the job."""
    started = time.perf_counter()
    operations = {"query": IMPORT, "variables": {"file": None, "options": options}}
    with path.open("rb") as file:
        response = await bench.client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (path.name, file, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
        )
    payload = response.json()["data"]["importContacts"]
    if payload["userErrors"]:
        raise RuntimeError(payload["userErrors"])
    while True:
        job = await bench.gql(JOB, {"id": payload["job"]["id"]}, token)
        if job["state"] in ("DONE", "FAILED", "CANCELLED"):
            return time.perf_counter() - started, job
        await asyncio.sleep(0.05)


async def measure(bench: Bench, token: str, path: Path, rows: int, options: dict[str, Any]) -> dict[str, Any]:
    seconds, job = await run_job(bench, token, path, options)
    if job["state"] != "DONE" or job["processedRows"] != rows:
        raise RuntimeError(f"the job ended {job}")
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds)}


async def main(rows: int, full_rows: int | None) -> dict[str, Any]:
    async with bench_app() as bench:
        token = await bench.workspace()
        full_rows = full_rows or (2_000 if bench.engine.in_memory else 10_000)
        with tempfile.TemporaryDirectory() as tmp:
            dry_path, full_path = Path(tmp) / "dry.csv", Path(tmp) / "full.csv"
            dry_size = write_rows(dry_path, rows, 0)
            dry = await measure(bench, token, dry_path, rows, {"dryRun": True})
            tracemalloc.start()
            await measure(bench, token, dry_path, rows, {"dryRun": True})
            dry["peak_bytes"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            dry["file_bytes"] = dry_size
            full_size = write_rows(full_path, full_rows, 1_000_000)
            full = await measure(bench, token, full_path, full_rows, {})
            full["file_bytes"] = full_size
        return {"benchmark": "import", "engine": bench.engine_name, "dry_run": dry, "full_import": full}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the dry run")
    parser.add_argument("--full-rows", type=int, help="rows of the full import (10,000; 2,000 in memory)")
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(main(arguments.rows, arguments.full_rows))))

"""Export benchmark: peak memory of GET /export/contacts.csv at 1,000 and 5,000 contacts; one JSON line.

The slope is the point: the export streams a batch at a time, so its peak should not grow
with the number of contacts. The body is counted as it is sent and never kept, so the
figure is the server's own. Contacts are written through ``contact_writes.insert_many``
(events and phone claims included); on the in-memory engine the unique indexes are dropped
first, as their check scans the collection on every insert and would make seeding slow.

    python bench/export_bench.py [--sizes 1000,5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import tracemalloc
from typing import Any

from harness import Bench, bench_app

from contactgraph.models import Agent, Contact, SearchKeys, Source, Status
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.services import contact_writes

SEED_BATCH = 500


async def seed(bench: Bench, token: str, upto: int, start: int) -> None:
    """Contacts ``start`` to ``upto`` of the workspace ``token`` belongs to."""
    agent = await Agent.find_one({})
    status = await Status.find_one({"workspace_id": agent.workspace_id})  # type: ignore[union-attr]
    source = await Source.find_one({"workspace_id": agent.workspace_id})  # type: ignore[union-attr]
    assert agent and status and source
    for first in range(start, upto, SEED_BATCH):
        contacts = [
            Contact(
                workspace_id=agent.workspace_id,
                firstname="Zoë",
                lastname=f"Ørsted {n}",
                phone=f"+1415{2_000_000 + n:07d}",
                email=f"zoe{n}@example.com",
                status_id=status.id,  # type: ignore[arg-type]
                source_id=source.id,  # type: ignore[arg-type]
                city="København",
                description=f"=formula-looking note {n}",
                keys=SearchKeys.of("Zoë", f"Ørsted {n}"),
            )
            for n in range(first, min(first + SEED_BATCH, upto))
        ]
        refused = await contact_writes.insert_many(agent, contacts)
        assert not refused, refused


async def main(sizes: list[int]) -> dict[str, Any]:
    runs = []
    async with bench_app() as bench:
        if bench.engine.in_memory:
            for model in (Contact, PhoneClaim):
                await model.get_pymongo_collection().drop_indexes()
        token = await bench.workspace()
        seeded = 0
        for size in sorted(sizes):
            await seed(bench, token, size, seeded)
            seeded = size
            await bench.drain("/export/contacts.csv", token)  # warm: imports, caches
            started = time.perf_counter()
            tracemalloc.start()
            body = await bench.drain("/export/contacts.csv", token)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            seconds = time.perf_counter() - started
            runs.append(
                {"contacts": size, "body_bytes": body, "peak_bytes": peak, "seconds": round(seconds, 3)}
            )
    low, high = runs[0], runs[-1]
    slope = (high["peak_bytes"] - low["peak_bytes"]) / max(1, high["contacts"] - low["contacts"])
    return {
        "benchmark": "export",
        "engine": bench.engine_name,
        "runs": runs,
        "peak_bytes_per_extra_contact": round(slope, 1),
        "body_bytes_per_contact": round(high["body_bytes"] / high["contacts"], 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000", help="numbers of contacts, comma separated")
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(main([int(s) for s in arguments.sizes.split(",")]))))

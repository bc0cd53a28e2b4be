"""API-layer time per contact returned, next to graphql-core's own; one JSON line per figure.

For a page of 100 contacts with every nested field (status, source, groups, assigned
agent, custom fields, totalCount), requested through the real app over httpx's ASGI
transport:

- ``request``: the whole request, client to client, per contact;
- ``database``: the time during which at least one database command was under way
  (``Engine.round_trips.seconds``), per contact;
- ``api_layer``: the difference, per contact: authentication, Strawberry, the loaders,
  Beanie's parsing of documents, and the JSON answer;
- ``graphql_core``: graphql-core executing the same document, with its default
  resolvers, over the same answer as plain dicts (a schema built from the served SDL),
  per contact: the floor any GraphQL server in Python stands on;
- ``ratio``: api_layer / graphql_core.

Each figure is the median of ``--runs`` requests after ``--warmup`` ones.

    python bench/api_overhead.py [--runs 30] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import graphql
from harness import Bench, bench_app
from round_trips import PAGE, seed

from contactgraph.schema import build_schema

SIZE = 100


async def request_times(bench: Bench, token: str, runs: int, warmup: int) -> tuple[list[float], list[float]]:
    """Seconds per request, and of that, seconds in database commands, for ``runs`` pages."""
    counter = bench.engine.round_trips
    totals, database = [], []
    for run in range(warmup + runs):
        busy = counter.seconds
        started = time.perf_counter()
        response = await bench.client.post(
            "/graphql",
            json={"query": PAGE, "variables": {"first": SIZE}},
            headers={"Authorization": f"Bearer {token}"},
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or "errors" in response.json():
            raise RuntimeError(response.text[:500])
        if run >= warmup:
            totals.append(elapsed)
            database.append(counter.seconds - busy)
    return totals, database


def reference_times(bench: Bench, data: dict[str, Any], runs: int, warmup: int) -> list[float]:
    """Seconds graphql-core takes to execute the page's document over its answer as plain dicts."""
    schema = graphql.build_schema(str(build_schema(bench.settings)))
    document = graphql.parse(PAGE)
    if errors := graphql.validate(schema, document):
        raise RuntimeError(errors)
    times = []
    for run in range(warmup + runs):
        started = time.perf_counter()
        result = graphql.execute(schema, document, root_value=data, variable_values={"first": SIZE})
        elapsed = time.perf_counter() - started
        if result.errors or result.data != data:  # type: ignore[union-attr]
            raise RuntimeError(f"the reference differs from the answer: {result.errors}")  # type: ignore[union-attr]
        if run >= warmup:
            times.append(elapsed)
    return times


def line(figure: str, value: float, **extra: Any) -> dict[str, Any]:
    return {
        "benchmark": "api_overhead",
        "figure": figure,
        **extra,
        "microseconds_per_contact": round(value, 1),
    }


async def main(runs: int, warmup: int) -> list[dict[str, Any]]:
    async with bench_app() as bench:
        world = await seed(bench, "api overhead", 5, 0)
        totals, database = await request_times(bench, world.token, runs, warmup)
        answer = await bench.client.post(
            "/graphql",
            json={"query": PAGE, "variables": {"first": SIZE}},
            headers={"Authorization": f"Bearer {world.token}"},
        )
        data = answer.json()["data"]
        if len(data["contacts"]["edges"]) != SIZE:
            raise RuntimeError("the workspace holds fewer contacts than a page")
        reference = reference_times(bench, data, runs, warmup)
        engine = bench.engine_name
    per = 1e6 / SIZE
    request = statistics.median(totals) * per
    in_database = statistics.median(database) * per
    api_layer = statistics.median(t - d for t, d in zip(totals, database, strict=True)) * per
    floor = statistics.median(reference) * per
    return [
        line("request", request, engine=engine),
        line("database", in_database, engine=engine),
        line("api_layer", api_layer, engine=engine),
        line("graphql_core", floor, engine="none"),
        {
            "benchmark": "api_overhead",
            "figure": "ratio",
            "api_layer_to_graphql_core": round(api_layer / floor, 2),
        },
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30, help="measured requests")
    parser.add_argument("--warmup", type=int, default=5, help="requests before measuring")
    arguments = parser.parse_args()
    for figure in asyncio.run(main(arguments.runs, arguments.warmup)):
        print(json.dumps(figure))

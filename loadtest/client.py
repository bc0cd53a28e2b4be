"""GraphQL over HTTP for the load test: every answer timed, every failure of the server kept."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from .latency import Latencies

REQUEST_SECONDS = 60.0  # a request unanswered this long is a failure, and stops nothing else


@dataclass
class Outcomes:
    """What the server answered that it must never answer, and the user errors it gave, by operation."""

    latencies: Latencies = field(default_factory=Latencies)
    failures: list[str] = field(default_factory=list)
    user_errors: Counter[tuple[str, str]] = field(default_factory=Counter)

    def fail(self, message: str) -> None:
        if len(self.failures) < 1000:  # bounded: the first ones tell the story
            self.failures.append(message)


class Client:
    def __init__(self, http: httpx.AsyncClient, outcomes: Outcomes) -> None:
        self.http = http
        self.outcomes = outcomes

    async def gql(
        self, operation: str, document: str, variables: dict[str, Any], token: str
    ) -> dict[str, Any] | None:
        """``data`` of the answer; None (and a failure kept) for a 5xx, any top-level error, no answer."""
        started = time.monotonic()
        try:
            response = await self.http.post(
                "/graphql",
                json={"query": document, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
                timeout=REQUEST_SECONDS,
            )
        except httpx.HTTPError as error:
            self.outcomes.fail(f"{operation}: no answer ({type(error).__name__}: {error})")
            return None
        finally:
            self.outcomes.latencies.add(operation, time.monotonic() - started)
        if response.status_code != 200:
            self.outcomes.fail(f"{operation}: HTTP {response.status_code} {response.text[:300]}")
            return None
        body = response.json()
        if body.get("errors"):
            self.outcomes.fail(f"{operation}: {body['errors']}"[:600])
            return None
        return body["data"]  # type: ignore[no-any-return]

    async def mutate(
        self,
        operation: str,
        document: str,
        variables: dict[str, Any],
        token: str,
        expected: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """The payload of a mutation that wrote; None when it answered user errors (counted).

        A user error whose code is not in ``expected`` (what a race may cause) is a failure.
        """
        data = await self.gql(operation, document, variables, token)
        if data is None:
            return None
        payload: dict[str, Any] = next(iter(data.values()))
        errors = payload.get("userErrors") or []
        for error in errors:
            self.outcomes.user_errors[(operation, error["code"])] += 1
            if error["code"] not in expected:
                self.outcomes.fail(f"{operation}: unexpected user error {error} for {variables}"[:600])
        return None if errors else payload

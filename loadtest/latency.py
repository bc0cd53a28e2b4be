"""Latency per operation: p50/p95/p99 of what each kind of request took."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any


class Latencies:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    def add(self, operation: str, seconds: float) -> None:
        self.samples[operation].append(seconds)

    @property
    def total(self) -> int:
        return sum(len(s) for s in self.samples.values())

    def lines(self) -> list[dict[str, Any]]:
        """One line per operation, in milliseconds."""
        return [self.line(op, samples) for op, samples in sorted(self.samples.items())]

    @staticmethod
    def line(operation: str, samples: list[float]) -> dict[str, Any]:
        if len(samples) > 1:
            cuts = statistics.quantiles(samples, n=100, method="inclusive")
            p50, p95, p99 = cuts[49], cuts[94], cuts[98]
        else:
            p50 = p95 = p99 = samples[0]
        return {
            "operation": operation,
            "count": len(samples),
            "p50_ms": round(p50 * 1000, 1),
            "p95_ms": round(p95 * 1000, 1),
            "p99_ms": round(p99 * 1000, 1),
            "max_ms": round(max(samples) * 1000, 1),
        }

"""phonenumbers alone on the import benchmark's numbers: the floor under the import's rows per second.

An import reads every row's phone with ``normalize_phone``, which checks the spelling and
then asks ``phonenumbers`` to parse, validate and format it. This prints, for the same
numbers ``import_bench.py`` generates (its ``write_rows``), one JSON line each:

- ``phonenumbers``: ``parse``, ``is_valid_number`` and ``format_number(E164)`` alone;
- ``normalize_phone``: what the import calls, those three and the checks around them.

Compare ``numbers_per_second`` with ``import_bench.py``'s dry-run ``rows_per_second``:
the import can be no faster than the first.

    python bench/phone_parse.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import phonenumbers
from import_bench import write_rows
from phonenumbers import PhoneNumberFormat

from contactgraph.models.phones import normalize_phone


def generated_numbers(rows: int) -> list[str]:
    """The phone column of the rows the import benchmark's dry run reads."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        write_rows(path, rows, 0)
        with path.open(encoding="utf-8", newline="") as file:
            return [row["Mobile"] for row in csv.DictReader(file)]


def e164(text: str) -> str:
    number = phonenumbers.parse(text, None)
    if not phonenumbers.is_valid_number(number):
        raise ValueError(text)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def timed(name: str, parse: Callable[[str], str], numbers: list[str]) -> dict[str, Any]:
    parse(numbers[0])  # warm: phonenumbers loads its metadata for a region on first use
    started = time.perf_counter()
    for text in numbers:
        parse(text)
    seconds = time.perf_counter() - started
    return {
        "benchmark": "phone_parse",
        "figure": name,
        "numbers": len(numbers),
        "seconds": round(seconds, 3),
        "numbers_per_second": round(len(numbers) / seconds),
        "microseconds_per_number": round(seconds / len(numbers) * 1e6, 2),
    }


def main(rows: int) -> list[dict[str, Any]]:
    numbers = generated_numbers(rows)
    return [timed("phonenumbers", e164, numbers), timed("normalize_phone", normalize_phone, numbers)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="numbers, as many as the import's dry run")
    arguments = parser.parse_args()
    for figure in main(arguments.rows):
        print(json.dumps(figure))

"""The phones and emails an import has met so far, and on which row: about 12 bytes each.

A million rows must not cost the memory of a million Python strings and dict entries
(some 100 bytes each, more than a narrow CSV row). A key is kept as a 64-bit number (a
phone's own digits; an email's BLAKE2b digest: two of a million emails share one about
once in 37 million imports) with its row number, in two flat arrays sorted by key and
searched by bisection. Keys met lately wait in a small dict until enough are there to
merge in, which copies the arrays' runs between them at C speed.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left

MERGE_AT = 4_096


def phone_key(e164: str) -> int:
    return int(e164.lstrip("+"))


def email_key(email: str) -> int:
    return int.from_bytes(hashlib.blake2b(email.encode(), digest_size=8).digest(), "big")


class SeenKeys:
    def __init__(self) -> None:
        self._keys = array("Q")
        self._rows = array("I")
        self._recent: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._recent)

    def row_of(self, key: int) -> int | None:
        """The row that met ``key`` first, if one did."""
        if key in self._recent:
            return self._recent[key]
        index = bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            return self._rows[index]
        return None

    def add(self, key: int, row: int) -> None:
        """Remember ``key``, which ``row_of`` found unmet, as met on ``row``."""
        self._recent[key] = row
        if len(self._recent) >= MERGE_AT:
            self._merge()

    def _merge(self) -> None:
        """The recent keys into the arrays: whole runs of old entries are copied between them."""
        keys, rows = array("Q"), array("I")
        start = 0
        for key, row in sorted(self._recent.items()):
            at = bisect_left(self._keys, key, start)
            keys.extend(self._keys[start:at])
            rows.extend(self._rows[start:at])
            keys.append(key)
            rows.append(row)
            start = at
        keys.extend(self._keys[start:])
        rows.extend(self._rows[start:])
        self._keys, self._rows, self._recent = keys, rows, {}

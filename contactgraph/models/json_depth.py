"""How deeply a JSON value sent as input may nest.

A custom-field value is a scalar, and a filter compares it with scalars: no JSON a
client sends needs more than a few levels. Deeper values are refused where they
arrive, before code that walks them recursively meets Python's recursion limit
(a few hundred levels) and fails as an internal error.
"""

from __future__ import annotations

from collections.abc import Iterable

JSON_MAX_DEPTH = 8
JSON_TOO_DEEP = f"JSON values may nest lists and objects at most {JSON_MAX_DEPTH} levels deep."


def nests_too_deeply(value: object, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether ``value`` holds lists or objects nested more than ``limit`` deep (``[]`` is one).

    Walked without recursion, and given up at the first container past the limit, so
    any value, however deep, is checked in bounded stack and in time linear in its size.
    """
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list | tuple):
            continue
        if depth >= limit:
            return True
        children: Iterable[object] = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return False

"""The JSON of a request (an HTTP body, a WebSocket message), read as strictly as JSON is defined.

``json.loads`` lets through what no database can store and no client should send: bytes
that are not UTF-8 (it decodes them with ``surrogatepass``), and ``\\ud800``-style escapes
of lone surrogates; and it fails with ``RecursionError`` on deep nesting, and with a bare
``ValueError`` on an integer of more digits than Python converts. Each of these is
refused here as malformed JSON (HTTP 400, a WebSocket closed with 4400) instead of
failing later as an internal error.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode(data: str | bytes) -> object:
    """The value ``data`` holds, or ``json.JSONDecodeError`` for JSON that is not proper text."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise json.JSONDecodeError("The body is not UTF-8", "", 0) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("The JSON is nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise json.JSONDecodeError("A number has too many digits", "", 0) from None
    if _ESCAPED_SURROGATE.search(text) and _holds_lone_surrogate(value):
        raise json.JSONDecodeError("A string holds a lone surrogate", "", 0)
    return value


def _holds_lone_surrogate(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False

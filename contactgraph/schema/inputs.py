"""Input objects as plain dicts of what the caller actually gave."""

from __future__ import annotations

import dataclasses
from typing import Any

from strawberry import UNSET


def given(value: Any) -> Any:
    """Nested inputs as dicts without unset fields, so a patch tells "not given" from null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: given(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not UNSET
        }
    if isinstance(value, list):
        return [given(item) for item in value]
    return value

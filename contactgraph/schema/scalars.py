"""Scalars as the contract defines them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
import strawberry.scalars
from graphql import GraphQLError, ValueNode, value_from_ast_untyped

from ..models.base import format_datetime
from ..models.custom_values import parse_datetime
from ..models.json_depth import JSON_TOO_DEEP, nests_too_deeply

# A scalar refuses a value with a GraphQLError, which graphql-core reports as it is, like
# any other ill-typed value; any other exception would count as unexpected, masked as an
# internal error.


def _parse_datetime(value: Any) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_datetime(value)
    except ValueError:
        raise GraphQLError("DateTime takes ISO-8601 with an offset, e.g. 2026-01-31T09:00:00Z.") from None


def _parse_date(value: Any) -> date:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise GraphQLError("Date takes YYYY-MM-DD, e.g. 2026-01-31.") from None


def _parse_json(value: Any) -> Any:
    # Variables, literals (below) and the ContactFilter of a download all come here: the one check.
    if nests_too_deeply(value):
        raise GraphQLError(JSON_TOO_DEEP, extensions={"code": "INVALID"})
    return value


def _parse_json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    # graphql-core's parser refuses literals nested past 200 levels, so reading one recurses boundedly;
    # the error carries the literal's location, since validation reports it without one.
    try:
        return _parse_json(value_from_ast_untyped(node, variables))
    except GraphQLError as error:
        raise GraphQLError(error.message, node, extensions=error.extensions) from None


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO-8601 with offset, always UTC on output",
    serialize=format_datetime,
    parse_value=_parse_datetime,
)

Date = strawberry.scalar(
    name="Date",
    description="YYYY-MM-DD",
    serialize=date.isoformat,
    parse_value=_parse_date,
)

_ECMA_404 = "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"

JSON = strawberry.scalar(
    name="JSON",
    description=f"The `JSON` scalar type represents JSON values as specified by [ECMA-404]({_ECMA_404}).",
    specified_by_url=_ECMA_404,
    serialize=lambda value: value,
    parse_value=_parse_json,
    parse_literal=_parse_json_literal,
)

SCALAR_MAP: dict[object, Any] = {datetime: DateTime, date: Date, strawberry.scalars.JSON: JSON}

"""Who may call a field, and how expected failures reach the client.

Domain code raises ``DomainError``; this module is the one place that turns it into
``userErrors`` on a mutation payload (or, for a query, a top-level error carrying
its code). Unexpected exceptions are logged in full and masked for the client.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension, MaskErrors
from strawberry.types.field import StrawberryField

from ..access import forbidden, rule_of
from ..auth import renewed
from ..loaders.context import Info
from ..models import DomainError, DomainErrors
from .common import UserError

logger = logging.getLogger("contactgraph.errors")


def api_error(code: str, message: str) -> GraphQLError:
    """A top-level error for the client, with a machine-readable ``extensions.code``."""
    return GraphQLError(message, extensions={"code": code})


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def user_errors(error: DomainError | DomainErrors) -> list[UserError]:
    errors = error.errors if isinstance(error, DomainErrors) else [error]
    return [
        UserError(
            field=[camel(p) for p in e.field] if e.field is not None else None,
            code=e.code,
            message=e.message,
        )
        for e in errors
    ]


class Authorized(FieldExtension):
    """The caller must hold a valid token and satisfy the operation's row of ``access.OPERATIONS``.

    The rule is looked up by the field's GraphQL name when the schema is built, so an
    operation without a row fails at start-up rather than answering unguarded.
    """

    def apply(self, field: StrawberryField) -> None:
        self.operation = field.graphql_name or camel(field.python_name)
        self.rule = rule_of(self.operation)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        agent = await renewed(info.context)
        if agent is None:
            raise api_error(
                "UNAUTHENTICATED", "A valid API token is required (Authorization: Bearer <token>)."
            )
        if not self.rule.allows(agent.permissions):
            raise forbidden(self.rule)
        return await next_(source, info, **kwargs)


class PlatformAdmin(FieldExtension):
    """The caller must present the server's admin key instead of a workspace token."""

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        if not info.context.is_admin:
            raise api_error("UNAUTHENTICATED", "This operation needs the platform admin key.")
        return await next_(source, info, **kwargs)


class UserErrorsPayload(FieldExtension):
    """Turns a ``DomainError`` raised below into the payload's ``userErrors``."""

    def apply(self, field: StrawberryField) -> None:
        self.payload_type: Callable[..., Any] = field.type  # type: ignore[assignment]

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except (DomainError, DomainErrors) as error:
            return self.payload_type(user_errors=user_errors(error))


# The depth, alias and token limiters report plain messages; these mark them as limits.
_LIMIT_MESSAGES = (
    "exceeds maximum operation depth",
    "aliases found. Allowed:",
    "Document contains more than",
)


def _limit_coded(error: GraphQLError) -> GraphQLError:
    if (error.extensions or {}).get("code") or not any(m in error.message for m in _LIMIT_MESSAGES):
        return error
    error.extensions = {**(error.extensions or {}), "code": "LIMIT_EXCEEDED"}
    return error


def _is_expected(error: GraphQLError) -> bool:
    return error.original_error is None or isinstance(
        error.original_error, DomainError | DomainErrors | GraphQLError
    )


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Give each unexpected error an id the client will see, and log it in full."""
    for error in errors:
        if _is_expected(error):
            continue
        error_id = uuid.uuid4().hex[:16]
        error.extensions = {**(error.extensions or {}), "errorId": error_id}
        original = error.original_error
        logger.error(
            "unexpected error %s at %s",
            error_id,
            error.path,
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )


class ClientErrors(MaskErrors):
    """Masks unexpected errors (generic message and an error id); codes expected ones."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: not _is_expected(e))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = (error.extensions or {}).get("errorId")
        return GraphQLError(
            "Internal server error.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._coded(error) for error in super()._process_errors(errors)]

    @staticmethod
    def _coded(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainErrors) and original.errors:
            original = original.errors[0]
        if not isinstance(original, DomainError):
            return _limit_coded(error)
        extensions: dict[str, Any] = {"code": original.code.value}
        if original.field is not None:
            extensions["field"] = [camel(p) for p in original.field]
        return GraphQLError(original.message, nodes=error.nodes, path=error.path, extensions=extensions)

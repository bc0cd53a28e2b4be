"""GraphQL over HTTP's two media types: which one a response takes, and its status code.

``application/graphql-response+json`` goes to clients that ask for it. Its status code
says whether the document ran: a request error (unparsable, invalid, variables that do
not coerce, over a limit) answers 400 with no ``data`` entry; anything that executed
answers 200, field errors and a ``null`` ``data`` included. ``application/json``, the
legacy type, goes to every other client and answers 200 with ``"data": null`` as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from .loaders.context import Context

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


class MethodNotAllowed(HTTPException):
    """A mutation sent by GET: the spec's 405, with the method that would do."""

    def __init__(self, reason: str, allow: str = "POST") -> None:
        super().__init__(405, reason)
        self.allow = allow


def _media_ranges(accept: str) -> Iterator[tuple[str, float]]:
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if media_range:
            yield media_range.lower(), quality


def response_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the Accept header names it, at least as
    willingly as JSON; ``application/json`` otherwise (no Accept, ``*/*``, neither named)."""
    qualities: dict[str, float] = {}
    for media_range, quality in _media_ranges(accept or ""):
        qualities[media_range] = max(quality, qualities.get(media_range, 0.0))
    wanted = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    as_json = next((qualities[r] for r in (JSON, "application/*", "*/*") if r in qualities), 0.0)
    return GRAPHQL_RESPONSE_JSON if wanted > 0 and wanted >= as_json else JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: no data, and no error belongs to a field (a field's has a path)."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


def response_status(body: GraphQLHTTPResponse) -> int:
    if "data" in body:
        return 200
    errors: list[Any] = body.get("errors") or []
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    return 500 if "INTERNAL_SERVER_ERROR" in codes else 400


class GraphQLOverHTTP(GraphQL[Context, None]):
    """Strawberry's ASGI view, which answers every request as ``application/json``, answering
    ``application/graphql-response+json`` to clients that ask for it."""

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except MethodNotAllowed as error:
            return PlainTextResponse(error.reason, status_code=405, headers={"Allow": error.allow})

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:  # type: ignore[override]
        body = await super().process_result(request, result)
        if response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON and is_request_error(
            result
        ):
            del body["data"]  # the spec's mark of a request that was not executed
        return body

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if not sub_response.status_code and isinstance(response_data, dict):
                response.status_code = response_status(response_data)
        return response

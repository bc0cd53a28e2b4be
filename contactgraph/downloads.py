"""CSV downloads over plain HTTP, with the bearer token: the contact export, the custom-field
definitions, the lists, and an import's error report. Each streams, so memory does not grow with the rows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from beanie import PydanticObjectId
from graphql import GraphQLInputType
from graphql.pyutils import print_path_list
from graphql.utilities import coerce_input_value, validate_input_value
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry.types.arguments import convert_argument

from .access import contact_scope, forbidden, rule_of
from .auth import context_for
from .csvio.export import DELIMITERS, contacts_csv
from .csvio.library import custom_fields_csv, groups_csv
from .csvio.report import error_report_csv
from .ids import decode_id
from .loaders.counts import ContactCountByGroupLoader
from .models import Agent, DomainError, DomainErrors, ErrorCode
from .models.text import parse_bool
from .request_json import decode
from .resolvers.contact_filter import contact_query
from .resolvers.imports import visible_job
from .schema import Schema
from .schema.contacts import ContactFilter
from .schema.guards import camel
from .schema.inputs import given
from .settings import Settings

_STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.FORBIDDEN: 403, ErrorCode.LIMIT_EXCEEDED: 400}


def _error(status: int, code: str, message: str, field: list[str] | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if field is not None:
        error["extensions"]["field"] = field
    return JSONResponse({"errors": [error]}, status_code=status)


def _domain_error(error: DomainError | DomainErrors) -> Response:
    first = error.errors[0] if isinstance(error, DomainErrors) else error
    field = [camel(p) for p in first.field] if first.field is not None else None
    return _error(_STATUS.get(first.code, 400), first.code.value, first.message, field)


def _csv(chunks: AsyncIterator[bytes], filename: str) -> Response:
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class Downloads:
    """The download endpoints of one application."""

    def __init__(self, settings: Settings, schema: Schema) -> None:
        self.settings = settings
        self.schema = schema

    async def _caller(self, request: Request) -> Agent | Response:
        """The agent behind the request's token, if the route's row of ``access.OPERATIONS`` lets it in."""
        context = await context_for(self.settings, request.headers.get("authorization"))
        if context.agent is None:
            return _error(
                401, "UNAUTHENTICATED", "A valid API token is required (Authorization: Bearer <token>)."
            )
        rule = rule_of(f"GET {request.scope['route'].path}")
        if not rule.allows(context.agent.permissions):
            return _domain_error(forbidden(rule))
        return context.agent

    def _delimiter(self, request: Request) -> str:
        name = request.query_params.get("delimiter", "comma")
        if name not in DELIMITERS:
            raise DomainError(ErrorCode.INVALID, "delimiter is comma, semicolon or tab.", ["delimiter"])
        return DELIMITERS[name]

    def contact_filter(self, request: Request) -> dict[str, Any]:
        """``filter`` (a ContactFilter as JSON, read as the ``contacts`` query reads it) and ``ids``."""
        raw = request.query_params.get("filter")
        problems: list[tuple[str, list[str | int]]] = []
        value: Any = {}
        if raw:
            try:
                value = decode(raw)  # too deep for json.loads, or a lone surrogate: not JSON either
            except json.JSONDecodeError as error:
                problem = f"filter is not JSON: {error.msg}."
                raise DomainError(ErrorCode.INVALID, problem, ["filter"]) from None
            graphql_type: GraphQLInputType = self.schema._schema.get_type("ContactFilter")  # type: ignore[assignment]
            validate_input_value(
                value, graphql_type, lambda error, path: problems.append((error.message, path))
            )
            if problems:
                message, path = problems[0]
                where = print_path_list(path) if path else ""  # " at .customFields[0].eq"
                raise DomainError(
                    ErrorCode.INVALID, f"filter is not a ContactFilter{where}: {message}", ["filter"]
                )
            value = coerce_input_value(value, graphql_type) or {}  # null: no filter
        converter = self.schema.schema_converter
        found = given(convert_argument(value, ContactFilter, converter.scalar_registry, self.schema.config))
        for item in found.get("custom_fields") or []:
            if "in_" in item:
                item["in"] = item.pop("in_")
        ids = [i for value in request.query_params.getlist("ids") for i in value.split(",") if i]
        if ids:
            found["ids"] = [i for i in found["ids"] if i in ids] if found.get("ids") is not None else ids
        return found  # type: ignore[no-any-return]

    async def contacts(self, request: Request) -> Response:
        agent = await self._caller(request)
        if isinstance(agent, Response):
            return agent
        try:
            query = await contact_query(contact_scope(agent), self.contact_filter(request))
            delimiter = self._delimiter(request)
        except (DomainError, DomainErrors) as error:
            return _domain_error(error)
        return _csv(contacts_csv(agent.workspace_id, query, delimiter), "contacts.csv")

    @staticmethod
    def _flag(request: Request, name: str) -> bool:
        value = request.query_params.get(name)
        try:
            return parse_bool(value) if value is not None else False
        except DomainError as error:
            raise error.at(name) from None

    @staticmethod
    def _ids(request: Request, kind: str) -> set[PydanticObjectId] | None:
        """``ids`` (comma-separated, or repeated) of records of ``kind``; None when not given.
        An id of another kind, or of nothing, selects nothing, as in the contact export."""
        given = [i for value in request.query_params.getlist("ids") for i in value.split(",") if i]
        if not given:
            return None
        return {PydanticObjectId(oid) for gid in given if (oid := decode_id(gid, kind)) is not None}

    async def custom_fields(self, request: Request) -> Response:
        agent = await self._caller(request)
        if isinstance(agent, Response):
            return agent
        try:
            delimiter = self._delimiter(request)
            include_deleted = self._flag(request, "includeDeleted")
        except DomainError as error:
            return _domain_error(error)
        rows = custom_fields_csv(
            agent.workspace_id, self._ids(request, "CustomField"), include_deleted, delimiter
        )
        return _csv(rows, "custom-fields.csv")

    async def groups(self, request: Request) -> Response:
        agent = await self._caller(request)
        if isinstance(agent, Response):
            return agent
        try:
            delimiter = self._delimiter(request)
        except DomainError as error:
            return _domain_error(error)
        counts = ContactCountByGroupLoader(contact_scope(agent)).load_many
        ids = self._ids(request, "Group")
        return _csv(groups_csv(agent.workspace_id, counts, ids, delimiter), "groups.csv")

    async def import_errors(self, request: Request) -> Response:
        agent = await self._caller(request)
        if isinstance(agent, Response):
            return agent
        try:
            job = await visible_job(agent, request.path_params["job_id"])
        except DomainError as error:
            return _domain_error(error)
        return _csv(error_report_csv(job), "import-errors.csv")

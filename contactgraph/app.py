"""The Starlette application: /graphql (HTTP, WebSocket, GraphiQL), /healthz, /readyz, downloads, /board."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from .auth import connection_agent, context_for
from .board import board_routes
from .db import Engine, connect
from .documents import DOCUMENTS
from .downloads import Downloads
from .events.broker import Broker
from .events.bus import publishing_to
from .events.delivery import DeliveryWorker
from .events.feeder import Feeder
from .graphiql import GraphiQL
from .graphql_http import GraphQLOverHTTP, MethodNotAllowed
from .limits import BodySizeLimit
from .loaders.context import Context
from .request_json import decode
from .resolvers.imports import fail_dead_jobs
from .schema import build_schema
from .services.import_tasks import ImportTasks
from .services.search_backfill import Backfill
from .settings import Settings, get_settings

logger = logging.getLogger("contactgraph")

SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions are served over WebSocket at /graphql (graphql-transport-ws or graphql-ws), not over HTTP."
)


class GraphQLApp(GraphQLOverHTTP):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            multipart_uploads_enabled=True,  # importContacts; see parse_multipart
        )
        self.settings = settings
        self.broker = Broker(settings.subscriber_queue_size)
        self.graphiql = GraphiQL(settings.graphiql_assets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with publishing_to(self.broker):  # changes made here reach this app's subscribers at once
            await super().__call__(scope, receive, send)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                await request.close()  # an upload's spooled files, whatever the resolver did

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, except that a subscription over plain HTTP (GraphiQL posts one) is refused.

        Strawberry lets one through to be executed like a query, whose field then answers a
        stream where a value is due: an internal error. Subscriptions are served over WebSocket.
        """
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        if not self.allow_queries_via_get and request_adapter.method == "GET":
            allowed -= {OperationType.QUERY}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.MUTATION and request_adapter.method == "GET":
                raise MethodNotAllowed(error.as_http_error_reason("GET")) from error  # the spec's 405
            if error.operation_type is not OperationType.SUBSCRIPTION:
                raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
            refused = GraphQLError(SUBSCRIPTION_OVER_HTTP, extensions={"code": "BAD_REQUEST"})
            return ExecutionResult(data=None, errors=[refused])
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphiql.html)

    def decode_json(self, data: str | bytes) -> object:
        return decode(data)  # not UTF-8, lone surrogates, too deep: malformed JSON, not an internal error

    async def parse_http_body(self, request: Any) -> Any:
        """Strawberry takes the JSON body, and multipart's ``operations`` and ``map``, to be shaped as
        the specs say (``0`` as a body fails on ``.get``); a request of another shape is a bad request."""
        try:
            return await super().parse_http_body(request)
        except (AttributeError, TypeError, ValueError, IndexError, RecursionError) as error:
            raise HTTPException(400, "Not a GraphQL request: its JSON must be an object.") from error

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        """Uploads only with an ``Authorization`` header, checked before the body is read.

        A browser cannot add that header to a cross-site form post without a CORS
        preflight, which this server never grants: the multipart spec's CSRF defence.
        """
        if not request.headers.get("authorization"):
            raise HTTPException(400, "A multipart request needs the Authorization header.")
        return await super().parse_multipart(request)

    async def on_ws_connect(self, context: Context) -> None:  # type: ignore[override]
        context.agent = await connection_agent(context.connection_params)
        if context.agent is None:
            raise ConnectionRejectionError(
                {"message": "connection_init carries no valid token", "code": "UNAUTHENTICATED"}
            )

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:  # type: ignore[override]
        return await context_for(
            self.settings, request.headers.get("authorization"), request=request, response=response
        )


Seed = Callable[[GraphQLApp, str], Awaitable[None]]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    seed: Seed | None = None,
    public_url: str = "http://127.0.0.1:8000/graphql",
) -> Starlette:
    """The application; it connects to the configured database unless handed an engine.

    ``seed`` runs once the database is connected (``serve --demo`` fills a workspace).
    """
    settings = settings or get_settings()
    graphql = GraphQLApp(settings)
    downloads = Downloads(settings, graphql.schema)  # type: ignore[arg-type]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = engine is None
        app.state.engine = engine or await connect(settings.mongodb_url, settings.database, DOCUMENTS)
        if seed is not None:
            await seed(graphql, public_url)
        await fail_dead_jobs()  # imports left RUNNING by a process that died
        app.state.search_backfill = backfill = Backfill()  # contacts stored without search terms
        app.state.import_tasks = ImportTasks()
        app.state.broker = graphql.broker
        app.state.feeder = feeder = Feeder(
            graphql.broker,
            change_streams=app.state.engine.transactions,  # a replica set; never the in-memory engine
            poll_seconds=settings.event_poll_seconds,
            overlap_seconds=settings.event_poll_overlap_seconds,
        )
        feeder.start()
        app.state.webhook_deliveries = deliveries = DeliveryWorker(settings)
        if settings.webhook_delivery:
            deliveries.start()
        try:
            yield
        finally:
            await backfill.stop()
            await app.state.import_tasks.stop()
            await feeder.stop()
            await deliveries.close()
            if own:
                await app.state.engine.close()

    async def to_graphql(request: Request) -> Response:
        # 307, not 308: temporary, so no browser caches it and / stays free to answer for itself
        query = request.url.query
        return RedirectResponse("/graphql" + (f"?{query}" if query else ""), status_code=307)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready = await request.app.state.engine.ping()
        return JSONResponse(
            {"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503
        )

    return Starlette(
        routes=[
            Route("/", to_graphql),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/graphiql/{path:path}", graphql.graphiql.asset),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/export/contacts.csv", downloads.contacts),
            Route("/export/custom-fields.csv", downloads.custom_fields),
            Route("/export/groups.csv", downloads.groups),
            Route("/imports/{job_id}/errors.csv", downloads.import_errors),
            *board_routes(),  # static files only: the page reads through /graphql with its token
        ],
        middleware=[
            Middleware(
                BodySizeLimit,
                max_bytes=settings.max_body_bytes,
                # a file to import, with the ordinary allowance for the GraphQL document
                upload_max_bytes=settings.import_max_bytes + settings.max_body_bytes,
                upload_paths=("/graphql",),
            )
        ],
        lifespan=lifespan,
    )

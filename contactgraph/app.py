"""The Starlette application: /graphql (HTTP, WebSocket, GraphiQL), /healthz, /readyz."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from .auth import context_for
from .db import Engine, connect
from .documents import DOCUMENTS
from .limits import BodySizeLimit
from .loaders.context import Context
from .schema import build_schema
from .settings import Settings, get_settings

logger = logging.getLogger("contactgraph")


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
        )
        self.settings = settings

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

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = engine is None
        app.state.engine = engine or await connect(settings.mongodb_url, settings.database, DOCUMENTS)
        if seed is not None:
            await seed(graphql, public_url)
        try:
            yield
        finally:
            if own:
                await app.state.engine.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready = await request.app.state.engine.ping()
        return JSONResponse(
            {"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503
        )

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
    )

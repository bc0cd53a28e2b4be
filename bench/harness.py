"""What the benchmarks share: the app on the configured engine, a workspace, and raw ASGI calls."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from contactgraph.app import create_app
from contactgraph.db import Engine, connect
from contactgraph.documents import DOCUMENTS
from contactgraph.settings import Settings

WORKSPACE = """
mutation($name: String!) { createWorkspace(name: $name) { adminToken userErrors { message } } }"""
STATUS = """
mutation($name: String!) {
  createStatus(input: {name: $name, color: "#1e90ff"}) { status { id } userErrors { message } }
}"""
SOURCE = """
mutation($name: String!) { createSource(input: {name: $name}) { source { id } userErrors { message } } }"""


async def mutation_payload(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    """The payload of a one-field operation; raises on any error or user error."""
    response = await client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if "errors" in body:
        raise RuntimeError(json.dumps(body["errors"]))
    payload: dict[str, Any] = next(iter(body["data"].values()))
    if payload.get("userErrors"):
        raise RuntimeError(json.dumps(payload["userErrors"]))
    return payload


@dataclass
class Bench:
    settings: Settings
    engine: Engine
    client: httpx.AsyncClient
    asgi: Any

    @property
    def engine_name(self) -> str:
        return "memory" if self.engine.in_memory else "mongodb"

    async def gql(self, document: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        return await mutation_payload(self.client, document, variables, token)

    async def workspace(self) -> str:
        """A new workspace with a status "New" and a source "CSV": its admin token."""
        admin_key = self.settings.admin_key.get_secret_value()  # type: ignore[union-attr]
        token: str = (await self.gql(WORKSPACE, {"name": "bench"}, admin_key))["adminToken"]
        await self.gql(STATUS, {"name": "New"}, token)
        await self.gql(SOURCE, {"name": "CSV"}, token)
        return token

    async def drain(self, path: str, token: str, query: str = "") -> int:
        """GET ``path`` straight through ASGI, counting the body's bytes but keeping none of them."""
        size = 0
        status = 0
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": [(b"authorization", f"Bearer {token}".encode()), (b"host", b"bench")],
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
        }

        requested = False
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client stays until the whole body is sent
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal size, status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await self.asgi(scope, receive, send)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return size


@asynccontextmanager
async def bench_app(**overrides: Any) -> AsyncIterator[Bench]:
    """The app on the engine ``CONTACTGRAPH_MONGODB_URL`` names, in a database of its own, emptied after."""
    base = Settings()
    settings = base.model_copy(
        update={
            "database": f"contactgraph_bench_{secrets.token_hex(4)}",
            "admin_key": SecretStr(secrets.token_urlsafe(24)),
            "webhook_delivery": False,
            **overrides,
        }
    )
    engine = await connect(settings.mongodb_url, settings.database, list(DOCUMENTS))
    try:
        app = create_app(settings, engine=engine)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=None
            ) as client:
                yield Bench(settings, engine, client, manager.app)
    finally:
        if not engine.in_memory:
            await engine.client.drop_database(settings.database)
        await engine.close()

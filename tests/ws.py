"""GraphQL over real WebSocket connections to the app: both subprotocols, through httpx-ws."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from anyio.streams.stapled import StapledObjectStream
from asgi_lifespan import LifespanManager
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketAsyncNetworkStream, ASGIWebSocketTransport
from starlette.applications import Starlette

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.settings import Settings

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]
TIMEOUT = 5.0  # only reached when a test fails
URL = "http://testserver/graphql"


class Served:
    """A running app instance: its Starlette app and an HTTP/WebSocket client for it."""

    def __init__(self, app: Starlette, asgi: Any, client: httpx.AsyncClient) -> None:
        self.app = app
        self.asgi = asgi
        self.client = client

    async def subscribed(self, count: int = 1) -> None:
        """Wait until the app's broker holds ``count`` subscribers (a subscription starts in a task of its own)."""
        async with asyncio.timeout(TIMEOUT):
            while self.app.state.broker.subscriber_count != count:  # noqa: ASYNC110 (no event to wait on)
                await asyncio.sleep(0.001)

    @asynccontextmanager
    async def connect(self, protocol: str, client: httpx.AsyncClient | None = None) -> AsyncIterator[Socket]:
        async with aconnect_ws(URL, client or self.client, subprotocols=[protocol]) as ws:
            yield Socket(ws)


@asynccontextmanager
async def serve(settings: Settings, engine: Engine) -> AsyncIterator[Served]:
    """One more app instance over ``engine``, with its lifespan (and so its feeder) running."""
    app = create_app(settings, engine=engine)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=ASGIWebSocketTransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        yield Served(app, manager.app, client)


class Socket:
    """One connection speaking ``graphql-transport-ws`` or the older ``graphql-ws``."""

    def __init__(self, ws: AsyncWebSocketSession) -> None:
        self.ws = ws
        self.legacy = ws.subprotocol == LEGACY_WS

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def receive(self) -> dict[str, Any]:
        """The next message, skipping graphql-ws keep-alives."""
        while True:
            message: dict[str, Any] = await self.ws.receive_json(timeout=TIMEOUT)
            if message.get("type") != "ka":
                return message

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, document: str, variables: dict[str, Any] | None = None, id: str = "1") -> None:
        start = "start" if self.legacy else "subscribe"
        await self.send(
            {"id": id, "type": start, "payload": {"query": document, "variables": variables or {}}}
        )

    async def stop(self, id: str = "1") -> None:
        await self.send({"id": id, "type": "stop" if self.legacy else "complete"})

    async def result(self, id: str = "1") -> dict[str, Any]:
        """The payload (``data``, maybe ``errors``) of the next result of operation ``id``."""
        message = await self.receive()
        assert message["type"] == ("data" if self.legacy else "next"), message
        assert message["id"] == id, message
        return message["payload"]  # type: ignore[no-any-return]

    async def data(self, id: str = "1") -> dict[str, Any]:
        """The data of the next result, which must carry no errors."""
        payload = await self.result(id)
        assert "errors" not in payload, payload["errors"]
        return payload["data"]  # type: ignore[no-any-return]


class _Backpressured(ASGIWebSocketAsyncNetworkStream):
    """A connection whose server waits to send while ``UNREAD`` messages are unread, as over TCP.

    httpx-ws buffers whatever the app sends without bound, so a client that never reads
    would not hold the server up; a real network does, once its buffers fill.
    """

    UNREAD = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._send_queue.send_stream.close()
        self._send_queue.receive_stream.close()
        self._send_queue = StapledObjectStream(*anyio.create_memory_object_stream[Any](self.UNREAD))


class BackpressuredTransport(ASGIWebSocketTransport):
    async def _create_asgi_websocket_async_network_stream(self, *, task_status: Any) -> None:
        stream = _Backpressured(self.app, self.scope, self._task_group, self._initial_receive_timeout)
        assert self._exit_stack is not None
        task_status.started(await self._exit_stack.enter_async_context(stream))


@asynccontextmanager
async def backpressured_client(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    """A second client of ``served`` whose WebSocket connections feel backpressure."""
    transport = BackpressuredTransport(app=served.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client

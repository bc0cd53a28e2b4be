"""The webhook receiver: a small ASGI app on uvicorn, on a free port of 127.0.0.1, in this process.

It checks each delivery's signature as README.md tells receivers to, and answers a
server error to a share of them (``fail_ratio``), so that retries happen under load.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOST = "127.0.0.1"


@dataclass
class Receipt:
    event_id: str
    type: str
    status: int  # what the receiver answered
    signed: bool  # the signature was valid


@dataclass
class Receiver:
    fail_ratio: float
    seed: int
    secret: str = ""
    port: int = 0
    receipts: list[Receipt] = field(default_factory=list)
    _arrival: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hook"

    def signed(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("x-contactgraph-timestamp", "")
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        given = request.headers.get("x-contactgraph-signature", "")
        return hmac.compare_digest("sha256=" + expected.hexdigest(), given)

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        signed = self.signed(request, body)
        status = 503 if self._random.random() < self.fail_ratio else 200
        payload = json.loads(body)
        if payload.get("id") != request.headers.get("x-contactgraph-event-id"):
            signed = False
        self.receipts.append(Receipt(payload.get("id", ""), payload.get("type", ""), status, signed))
        self._arrival.set()
        return Response(status_code=status)

    async def quiet(self, seconds: float, at_most: float) -> None:
        """Wait until no delivery comes for ``seconds`` (or ``at_most`` passed)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                while True:
                    self._arrival.clear()
                    try:
                        await asyncio.wait_for(self._arrival.wait(), seconds)
                    except TimeoutError:
                        return


@asynccontextmanager
async def receiving(fail_ratio: float, seed: int) -> AsyncIterator[Receiver]:
    receiver = Receiver(fail_ratio, seed)
    app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    receiver.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # signals stay the load test's
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield receiver
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        sock.close()

"""Live subscribers: real WebSocket connections speaking graphql-transport-ws, each noting what it heard."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

SUBSCRIBE = """
subscription { contactStatusChanged { contact { id } fromStatus { id } toStatus { id } changedAt } }"""
CONNECT_SECONDS = 10.0


@dataclass(frozen=True)
class Heard:
    contact_id: str
    from_status_id: str | None
    to_status_id: str
    changed_at: datetime
    lag: float  # seconds from the change to its arrival here


@dataclass
class Subscriber:
    """One agent's subscription; ``own_agent_id`` for a CONTACT_VIEW_OWN agent."""

    name: str
    token: str
    own_agent_id: str | None = None
    heard: list[Heard] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _socket: ClientConnection | None = None
    _task: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, url: str) -> None:
        """Connect, authenticate and subscribe; then listen in the background."""
        self._socket = await connect(url, subprotocols=["graphql-transport-ws"], open_timeout=CONNECT_SECONDS)  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}
        await self._socket.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(self._socket.recv(), CONNECT_SECONDS))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"{self.name}: connection_init answered {ack}")
        await self._socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        self._task = asyncio.create_task(self._listen(self._socket), name=f"subscriber {self.name}")

    async def _listen(self, socket: ClientConnection) -> None:
        try:
            async for raw in socket:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    self._next(message.get("payload") or {})
                elif kind == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif kind in ("error", "complete"):
                    self.problems.append(f"{self.name}: the subscription ended: {message}"[:600])
        except ConnectionClosed as closed:
            if closed.rcvd is None or closed.rcvd.code != 1000:
                self.problems.append(f"{self.name}: connection closed: {closed}")

    def _next(self, payload: dict[str, object]) -> None:
        if payload.get("errors"):
            self.problems.append(f"{self.name}: {payload['errors']}"[:600])
            return
        change = payload["data"]["contactStatusChanged"]  # type: ignore[index]
        self.heard.append(
            Heard(
                change["contact"]["id"],
                (change["fromStatus"] or {}).get("id"),
                change["toStatus"]["id"],
                changed_at := datetime.fromisoformat(change["changedAt"]),
                (datetime.now(UTC) - changed_at).total_seconds(),
            )
        )
        self._arrived.set()

    async def hears(self, contact_id: str, changed_at: datetime | None, seconds: float) -> bool:
        """Whether the change of ``contact_id`` at ``changed_at`` arrives within ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not any(h.contact_id == contact_id and h.changed_at == changed_at for h in self.heard):
                    self._arrived.clear()
                    await self._arrived.wait()
                return True
        return False

    async def stop(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._socket.send(json.dumps({"id": "1", "type": "complete"}))
            await self._socket.close()
        if self._task is not None:
            await asyncio.wait_for(self._task, CONNECT_SECONDS)

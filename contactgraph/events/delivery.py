"""The delivery worker: claims due webhook deliveries, signs and POSTs them, retries with backoff.

A claim is one atomic update (pending → sending, with a lease), so two workers, in
one process or many, never send the same delivery at once; a delivery whose sender
died is claimable again once its lease has expired. Delivery is at least once: a
receiver may see an event twice (after such a crash) and should de-duplicate on its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from beanie import PydanticObjectId
from pymongo import ASCENDING, ReturnDocument

from ..models import DomainError, utcnow
from .outbox import Event
from .payloads import payloads
from .urls import check_destination
from .webhooks import Attempt, DeliveryState, Webhook, WebhookDelivery

if TYPE_CHECKING:
    from ..settings import Settings

logger = logging.getLogger("contactgraph.webhooks")

EVENT_ID_HEADER = "X-Contactgraph-Event-Id"
TIMESTAMP_HEADER = "X-Contactgraph-Timestamp"
SIGNATURE_HEADER = "X-Contactgraph-Signature"
USER_AGENT = "contactgraph-webhooks/1"
# A lease outlives the longest send by this much, so a live sender never loses its claim.
LEASE_MARGIN = timedelta(seconds=30)
ERROR_MAX_LENGTH = 500


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed with the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Claim:
    """A delivery this worker now holds, and the attempt a dead sender left without an outcome."""

    delivery: WebhookDelivery
    lost: Attempt | None = None


class DeliveryWorker:
    """Sends due deliveries; ``run_once``/``drain`` drive it by hand, ``start`` runs it in the background."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = settings.webhook_timeout_seconds
        self.lease = timedelta(seconds=self.timeout) + LEASE_MARGIN
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,  # a redirect could lead anywhere, a private address too
                trust_env=False,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: base, then doubled each time, capped."""
        base = self.settings.webhook_backoff_seconds
        seconds = min(base * 2 ** min(attempts - 1, 62), self.settings.webhook_backoff_max_seconds)
        return timedelta(seconds=seconds)

    async def claim(self, now: datetime | None = None) -> Claim | None:
        """Take the most overdue delivery (pending and due, or leased to a sender that died)."""
        now = now or utcnow()
        token = uuid.uuid4().hex
        lease_until = now + self.lease
        raw = await WebhookDelivery.get_pymongo_collection().find_one_and_update(
            {
                "$or": [
                    {"state": DeliveryState.PENDING.value, "next_attempt_at": {"$lte": now}},
                    {"state": DeliveryState.SENDING.value, "lease_until": {"$lte": now}},
                ]
            },
            {
                "$set": {"state": DeliveryState.SENDING.value, "lease_until": lease_until, "claim": token},
                "$inc": {"attempts": 1},
            },
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.BEFORE,
        )
        if raw is None:
            return None
        before = WebhookDelivery.model_validate(raw)
        lost = None
        if before.state is DeliveryState.SENDING and before.lease_until is not None:
            started = before.lease_until - self.lease
            lost = Attempt(at=started, error="no outcome recorded: its sender stopped during the attempt")
        delivery = before.model_copy(
            update={
                "state": DeliveryState.SENDING,
                "lease_until": lease_until,
                "claim": token,
                "attempts": before.attempts + 1,
            }
        )
        return Claim(delivery, lost)

    async def run_once(self, now: datetime | None = None) -> int:
        """Claim up to a batch of due deliveries and send them together; how many were claimed."""
        now = now or utcnow()
        claims: list[Claim] = []
        while len(claims) < self.settings.webhook_batch and (claim := await self.claim(now)):
            claims.append(claim)
        if not claims:
            return 0
        hook_ids = [c.delivery.webhook_id for c in claims]
        event_ids = [c.delivery.event_id for c in claims]
        hooks = {h.id: h for h in await Webhook.find({"_id": {"$in": hook_ids}}).to_list()}
        events = {e.id: e for e in await Event.find({"_id": {"$in": event_ids}}).to_list()}
        bodies = await payloads(events.values())
        results = await asyncio.gather(
            *(
                self._handle(
                    c, hooks.get(c.delivery.webhook_id), events.get(c.delivery.event_id), bodies, now
                )
                for c in claims
            ),
            return_exceptions=True,
        )
        for claim, result in zip(claims, results, strict=True):
            if isinstance(result, Exception):
                logger.error("webhook delivery %s failed unexpectedly", claim.delivery.id, exc_info=result)
        return len(claims)

    async def drain(self, now: datetime | None = None) -> int:
        """Run until nothing is due; how many claims that took."""
        total = 0
        while handled := await self.run_once(now):
            total += handled
        return total

    async def _handle(
        self,
        claim: Claim,
        hook: Webhook | None,
        event: Event | None,
        bodies: dict[PydanticObjectId, dict[str, Any]],
        now: datetime,
    ) -> None:
        delivery = claim.delivery
        if hook is None or not hook.active or hook.workspace_id != delivery.workspace_id:
            await self._drop(delivery)  # the webhook was deleted meanwhile
            return
        lost = [claim.lost] if claim.lost else []
        max_attempts = self.settings.webhook_max_attempts
        if event is None or event.workspace_id != delivery.workspace_id:
            gone = Attempt(at=now, error="the event no longer exists")
            await self._record(delivery, [*lost, gone], final=True)
        elif lost and delivery.attempts > max_attempts:  # the lost attempt was the last one
            await self._record(delivery, lost, final=True, attempts_made=max_attempts)
        else:
            attempt = await self._send(hook, bodies[event.id], now)  # type: ignore[index]
            await self._record(delivery, [*lost, attempt], final=delivery.attempts >= max_attempts)

    async def _send(self, hook: Webhook, payload: dict[str, Any], now: datetime) -> Attempt:
        body = encode(payload)
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: payload["id"],
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
        }
        try:
            await check_destination(hook.url, self.settings.webhook_allow_private)
            async with asyncio.timeout(self.timeout):
                async with self.client.stream("POST", hook.url, content=body, headers=headers) as response:
                    status = response.status_code
        except DomainError as refused:
            return Attempt(at=now, error=f"refused: {refused.message}")
        except (TimeoutError, httpx.TimeoutException):
            return Attempt(at=now, error=f"no answer within {self.timeout:g}s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as error:
            return Attempt(at=now, error=f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH])
        return Attempt(at=now, status=status, error=None if 200 <= status < 300 else f"HTTP {status}")

    async def _record(
        self,
        delivery: WebhookDelivery,
        attempts: list[Attempt],
        *,
        final: bool,
        attempts_made: int | None = None,
    ) -> None:
        """Keep the attempts; then delivered, failed, or pending again after the backoff."""
        last = attempts[-1]
        changes: dict[str, Any] = {
            "last_status": last.status,
            "last_error": last.error,
            "last_attempt_at": last.at,
            "lease_until": None,
            "claim": None,
        }
        if attempts_made is not None:
            changes["attempts"] = attempts_made
        if last.error is None:
            changes.update(state=DeliveryState.DELIVERED.value, delivered_at=last.at)
        elif final:
            changes["state"] = DeliveryState.FAILED.value
            logger.warning("webhook delivery %s failed for good: %s", delivery.id, last.error)
        else:
            retry_at = last.at + self.backoff(delivery.attempts)
            changes.update(state=DeliveryState.PENDING.value, next_attempt_at=retry_at)
        # Guarded by the claim: a sender whose lease ran out no longer owns the outcome.
        await WebhookDelivery.get_pymongo_collection().update_one(
            {"_id": delivery.id, "claim": delivery.claim},
            {"$set": changes, "$push": {"history": {"$each": [a.model_dump() for a in attempts]}}},
        )

    async def _drop(self, delivery: WebhookDelivery) -> None:
        await WebhookDelivery.get_pymongo_collection().delete_one(
            {"_id": delivery.id, "claim": delivery.claim}
        )

    # ---------------------------------------------------------------- in the background

    def start(self) -> None:
        """Send due deliveries every ``webhook_poll_seconds`` until ``close``."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name="webhook-deliveries")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                logger.exception("webhook delivery round failed; trying again")
                handled = 0
            if handled < self.settings.webhook_batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.settings.webhook_poll_seconds)

    async def close(self) -> None:
        """Stop the background loop once its sends finish (bounded by the timeout), then close."""
        if self._task is not None:
            self._stopping.set()
            try:
                await asyncio.wait_for(self._task, self.timeout + 5)
            except TimeoutError:
                logger.warning("webhook worker did not stop in time; its leased deliveries will be resent")
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

"""Webhooks of a workspace: create (the secret is shown once), list, delete."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from ..events.outbox import EventType
from ..events.urls import check_destination
from ..events.webhooks import Webhook, WebhookDelivery
from ..models import Agent, DomainError, ErrorCode, Errors
from .refs import fetch

WEBHOOKS_MAX = 20


async def create_webhook(agent: Agent, values: dict[str, Any], allow_private: bool) -> tuple[Webhook, str]:
    """A new webhook and its secret: kept to sign deliveries, never shown again."""
    errors = Errors()
    url = await errors.check_async(["input", "url"], check_destination, values["url"], allow_private)
    events = list(dict.fromkeys(EventType(e) for e in values["events"]))
    if not events:
        errors.add(ErrorCode.REQUIRED, "Name at least one event to deliver.", "input", "events")
    if await Webhook.find({"workspace_id": agent.workspace_id}).count() >= WEBHOOKS_MAX:
        errors.items.append(
            DomainError(ErrorCode.LIMIT_EXCEEDED, f"A workspace has at most {WEBHOOKS_MAX} webhooks.")
        )
    errors.raise_any()
    webhook = Webhook(
        workspace_id=agent.workspace_id,
        url=url,
        events=events,
        active=values.get("active") is not False,
        secret=Webhook.new_secret(),
        agent_id=agent.id,
    )
    await webhook.insert()
    return webhook, webhook.secret


async def list_webhooks(agent: Agent) -> list[Webhook]:
    return await Webhook.find({"workspace_id": agent.workspace_id}).sort("_id").to_list()


async def delete_webhook(agent: Agent, global_id: str) -> PydanticObjectId:
    """Delete a webhook with its deliveries; those not yet sent are dropped."""
    webhook = await fetch(Webhook, agent.workspace_id, global_id)
    await webhook.delete()
    await WebhookDelivery.get_pymongo_collection().delete_many(
        {"workspace_id": agent.workspace_id, "webhook_id": webhook.id}
    )
    return webhook.id  # type: ignore[return-value]

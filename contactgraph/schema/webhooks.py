"""Webhooks: where a workspace's contact events are POSTed, signed."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry
from beanie import PydanticObjectId
from strawberry import Private

from ..events.outbox import EventType
from ..events.webhooks import Webhook as WebhookDoc
from ..ids import encode_id
from ..loaders.context import Info
from ..models import Agent as AgentDoc
from ..resolvers import webhooks
from .common import DeletePayload, Node, UserError
from .fields import mutation, query
from .inputs import given


@strawberry.enum(description="the contact events a webhook can receive; `type` in the payload")
class WebhookEvent(Enum):
    CONTACT_CREATED = EventType.CREATED
    CONTACT_UPDATED = EventType.UPDATED
    CONTACT_DELETED = EventType.DELETED
    CONTACT_STATUS_CHANGED = EventType.STATUS_CHANGED
    CONTACT_MERGED = EventType.MERGED
    CONTACT_OPTED_OUT = EventType.OPTED_OUT


@strawberry.type
class Webhook(Node):
    doc: Private[WebhookDoc]
    url: str
    events: list[WebhookEvent]
    active: bool
    secret: str | None = strawberry.field(
        description="signs every delivery (HMAC-SHA256); shown only in createWebhook's answer, null after"
    )
    created_at: datetime

    @classmethod
    def from_doc(cls, doc: WebhookDoc, secret: str | None = None) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("Webhook", doc.id)),  # type: ignore[arg-type]
            url=doc.url,
            events=[WebhookEvent(e) for e in doc.events],
            active=doc.active,
            secret=secret,
            created_at=doc.created_at,
        )


@strawberry.input
class WebhookInput:
    url: str = strawberry.field(description="http(s); private, loopback and link-local addresses are refused")
    events: list[WebhookEvent]
    active: bool | None = True


@strawberry.type
class WebhookPayload:
    webhook: Webhook | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def webhook_node(agent: AgentDoc, oid: PydanticObjectId) -> Webhook | None:
    """A webhook through ``node(id:)`` (the node rule has let the caller in)."""
    doc = await WebhookDoc.find_one({"_id": oid, "workspace_id": agent.workspace_id})
    return Webhook.from_doc(doc) if doc else None


@strawberry.type
class WebhookQuery:
    @query()
    async def webhooks(self, info: Info) -> list[Webhook]:
        return [Webhook.from_doc(doc) for doc in await webhooks.list_webhooks(info.context.caller)]


@strawberry.type
class WebhookMutation:
    @mutation(description="the answer shows the signing secret, once")
    async def create_webhook(self, info: Info, input: WebhookInput) -> WebhookPayload:
        values = given(input)
        values["events"] = [e.value for e in input.events]
        doc, secret = await webhooks.create_webhook(
            info.context.caller, values, info.context.settings.webhook_allow_private
        )
        return WebhookPayload(webhook=Webhook.from_doc(doc, secret))

    @mutation(description="deliveries not yet sent are dropped")
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> DeletePayload:
        oid = await webhooks.delete_webhook(info.context.caller, id)
        return DeletePayload(deleted_ids=[strawberry.ID(encode_id("Webhook", oid))])

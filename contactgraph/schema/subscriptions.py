"""Live status changes over WebSocket (graphql-transport-ws and graphql-ws).

An event reaches every subscriber as one ``Delivery``. Subscribers who may see the same
contacts read it through the same loaders, and those who also sent the same document
with the same variables and permissions get the result of one execution of it
(``SharedEventExecutor``): a thousand open boards cost the database and the CPU what
one does, while each subscriber's own filter and queue stay its own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Hashable
from contextlib import aclosing
from datetime import datetime
from functools import partial
from inspect import isawaitable
from typing import Any, Self

import strawberry
from graphql import ExecutionResult
from strawberry import Private
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from ..access import forbidden, rule_of
from ..auth import renewed
from ..events import Event, EventType
from ..events.broker import Delivery
from ..loaders.context import Info, Loaders
from ..models import Agent as AgentDoc
from ..models import Contact as ContactDoc
from ..resolvers.subscriptions import StatusChangeFilter, Watch, status_changes
from .admin import Agent
from .contact_type import Contact
from .fields import subscription
from .guards import api_error
from .library import ContactStatus


@strawberry.type
class StatusChangeEvent:
    delivery: Private[Delivery]
    same_result: Private[Hashable | None]  # subscribers with equal keys share one execution
    changed_at: datetime

    @classmethod
    def from_delivery(cls, delivery: Delivery, same_result: Hashable | None) -> Self:
        return cls(delivery=delivery, same_result=same_result, changed_at=delivery.event.occurred_at)

    @property
    def event(self) -> Event:
        return self.delivery.event

    @strawberry.field(description="the contact as it is now; as it was then if since deleted or out of sight")
    async def contact(self, info: Info) -> Contact:
        found = await info.context.loaders.contact.load(self.event.contact_id)
        return Contact.from_doc(found or ContactDoc.model_validate(self.event.data["contact"]))

    @strawberry.field(description="null for a status since deleted")
    async def from_status(self, info: Info) -> ContactStatus | None:
        if self.event.from_status_id is None:
            return None
        found = await info.context.loaders.status.load(self.event.from_status_id)
        return ContactStatus.from_doc(found) if found else None

    @strawberry.field
    async def to_status(self, info: Info) -> ContactStatus:
        found = await info.context.loaders.status.load(self.event.to_status_id)  # type: ignore[arg-type]
        if found is None:
            raise LookupError("a status change to a status that does not exist was delivered")
        return ContactStatus.from_doc(found)

    @strawberry.field(description="the agent whose token made the change; null for an inbound message")
    async def changed_by(self, info: Info) -> Agent | None:
        if self.event.agent_id is None:
            return None
        found = await info.context.loaders.agent.load(self.event.agent_id)
        return Agent.from_doc(found) if found else None


@strawberry.type
class ContactSubscription:
    @subscription(
        description=(
            "Every status change the caller may see (CONTACT_VIEW_OWN: only of contacts assigned"
            " to them when it happened), optionally narrowed to changes into these statuses, of"
            " contacts in these groups, or of these contacts. A subscriber more than"
            " CONTACTGRAPH_SUBSCRIBER_QUEUE_SIZE changes behind is closed with LIMIT_EXCEEDED."
        )
    )
    async def contact_status_changed(
        self,
        info: Info,
        status_ids: list[strawberry.ID] | None = None,
        group_ids: list[strawberry.ID] | None = None,
        contact_ids: list[strawberry.ID] | None = None,
    ) -> AsyncIterator[StatusChangeEvent]:
        # A coroutine returning the stream (rather than a generator) so that the guard
        # and the filter's checks run when the client subscribes.
        watch = StatusChangeFilter.of(info.context.caller, status_ids, group_ids, contact_ids)
        return _deliveries(info, Watch(watch))


def _result_key(info: Info, agent: AgentDoc, watch: StatusChangeFilter) -> Hashable | None:
    """What an event's result depends on besides the event: the document, its variables, who asks."""
    if info.query is None:
        return None  # a document without its text (never from a client): executed on its own
    variables = json.dumps(info.variable_values, sort_keys=True, default=str)
    permissions = frozenset(agent.permissions)
    operation = info.operation.name.value if info.operation.name else None
    return ("result", info.query, operation, variables, watch.scope, permissions)


async def _deliveries(info: Info, watch: Watch) -> AsyncIterator[StatusChangeEvent]:
    agent = info.context.caller
    same_result = _result_key(info, agent, watch.current)
    async with aclosing(status_changes(watch)) as changes:
        async for delivery in changes:
            if delivery.event.type == EventType.ACCESS_CHANGED:
                agent = await _as_now(info)
                watch.rescope(agent)
                same_result = _result_key(info, agent, watch.current)
                continue
            if not watch.current.accepts(delivery.event):
                continue  # let through while an access change was unread, and out of sight now
            # Current data for each event, read once for all who may see the same; no cache that grows.
            scope = watch.current.scope
            loaders = delivery.shared(("loaders", scope), partial(Loaders.for_agent, agent))
            info.context.use_loaders(loaders)
            if not await _to_status_exists(loaders, delivery.event):
                continue  # the status was deleted meanwhile: nothing left to show
            yield StatusChangeEvent.from_delivery(delivery, same_result)


async def _as_now(info: Info) -> AgentDoc:
    """The subscriber's agent as it is now; the subscription is closed when its token or sight is gone."""
    agent = await renewed(info.context)
    if agent is None:
        raise api_error("UNAUTHENTICATED", "The token of this subscription was revoked.")
    rule = rule_of("contactStatusChanged")
    if not rule.allows(agent.permissions):
        raise forbidden(rule)
    return agent


async def _to_status_exists(loaders: Loaders, event: Event) -> bool:
    """Whether the change's new status still exists; both statuses it names are read at once."""
    named = [event.to_status_id, *([event.from_status_id] if event.from_status_id else [])]
    return (await loaders.status.load_many(named))[0] is not None  # type: ignore[arg-type]


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Executes a status change once for all the subscribers whose result key is the same.

    The first of them to get to the event executes it in a task of its own; the others
    (and it) await that task, shielded, so one leaving does not cancel it for the rest.
    Every other operation executes as usual.
    """

    def execute_operation(self, serially: bool | None = None) -> Any:
        root = self.root_value
        if not isinstance(root, StatusChangeEvent) or root.same_result is None:
            return super().execute_operation(serially)
        execute = super().execute_operation
        task = root.delivery.shared(root.same_result, lambda: _started(execute(serially)))
        return asyncio.shield(task)


def _started(result: Any) -> asyncio.Task[ExecutionResult]:
    """A task settling graphql-core's result (or its awaitable), to share it."""

    async def settled() -> ExecutionResult:
        return await result if isawaitable(result) else result  # type: ignore[no-any-return]

    task = asyncio.ensure_future(settled())
    task.add_done_callback(_retrieved)
    return task


def _retrieved(task: asyncio.Task[ExecutionResult]) -> None:
    """Its subscribers each see a failure; this only keeps asyncio from reporting it as unseen."""
    if not task.cancelled():
        task.exception()

"""Which status changes a subscriber hears, and the stream of them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bson import ObjectId

from ..access import in_sight, policy_of
from ..events import Event, EventType
from ..events.broker import Delivery, SubscriberOverflow
from ..events.bus import current_broker
from ..ids import decode_id
from ..models import Agent, DomainError, ErrorCode
from .contact_filter import LIST_MAX
from .refs import KIND


def _ids(kind: str, global_ids: Sequence[str] | None, argument: str) -> frozenset[ObjectId] | None:
    """The ids a filter argument names (None: not given); ids of another kind match nothing."""
    if global_ids is None:
        return None
    if len(global_ids) > LIST_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {LIST_MAX} ids.", [argument])
    return frozenset(oid for g in global_ids if (oid := decode_id(g, KIND[kind])) is not None)


@dataclass(frozen=True)
class StatusChangeFilter:
    """A subscriber's workspace, what it may see, and what it asked for."""

    workspace_id: ObjectId
    agent_id: ObjectId  # whose access changes the subscriber hears of, to re-check its sight
    own_agent_id: ObjectId | None  # without CONTACT_VIEW: hears of contacts then assigned to them,
    team: frozenset[ObjectId] = frozenset()  # or then in one of these lists (CONTACT_VIEW_TEAM)
    status_ids: frozenset[ObjectId] | None = None
    group_ids: frozenset[ObjectId] | None = None
    contact_ids: frozenset[ObjectId] | None = None

    @classmethod
    def of(
        cls,
        agent: Agent,
        status_ids: Sequence[str] | None,
        group_ids: Sequence[str] | None,
        contact_ids: Sequence[str] | None,
    ) -> StatusChangeFilter:
        return cls(
            workspace_id=agent.workspace_id,
            agent_id=agent.id,  # type: ignore[arg-type]
            own_agent_id=policy_of(agent).own_agent_id,
            team=policy_of(agent).team,
            status_ids=_ids("Status", status_ids, "statusIds"),
            group_ids=_ids("Group", group_ids, "groupIds"),
            contact_ids=_ids("Contact", contact_ids, "contactIds"),
        )

    def rescoped(self, agent: Agent) -> StatusChangeFilter:
        """The same subscription for the agent as it is now."""
        policy = policy_of(agent)
        return replace(self, own_agent_id=policy.own_agent_id, team=policy.team)

    @property
    def scope(self) -> tuple[ObjectId, ObjectId | None, frozenset[ObjectId]]:
        """What decides which contacts the subscriber may see: the workspace, its agent and team."""
        return self.workspace_id, self.own_agent_id, self.team

    def accepts(self, event: Event) -> bool:
        if event.workspace_id != self.workspace_id:
            return False
        if event.type == EventType.ACCESS_CHANGED:
            return event.contact_id == self.agent_id
        if event.type != EventType.STATUS_CHANGED:
            return False
        contact: dict[str, Any] = event.data.get("contact") or {}
        return (
            in_sight(contact, self.own_agent_id, self.team)
            and (self.status_ids is None or event.to_status_id in self.status_ids)
            and (self.group_ids is None or not self.group_ids.isdisjoint(contact.get("group_ids") or ()))
            and (self.contact_ids is None or event.contact_id in self.contact_ids)
        )


class Watch:
    """A subscriber's filter, replaced when its agent's access changes.

    The broker asks ``accepts`` of every event as it is published; the stream reads the
    events in order and asks ``current`` again. Between an access change being queued and
    being read, the broker lets through what any scope of the agent could see, so that
    the stream, once it holds the new scope, neither misses nor leaks a change.
    """

    def __init__(self, current: StatusChangeFilter) -> None:
        self.current = current
        self.unread_access_changes = 0

    def accepts(self, event: Event) -> bool:
        if event.type == EventType.ACCESS_CHANGED:
            if self.current.accepts(event):
                self.unread_access_changes += 1
                return True
            return False
        if self.unread_access_changes:
            return replace(self.current, own_agent_id=None).accepts(event)
        return self.current.accepts(event)

    def rescope(self, agent: Agent) -> None:
        """Read one access change: from now on, the agent's scope as it is now."""
        self.current = self.current.rescoped(agent)
        self.unread_access_changes = max(0, self.unread_access_changes - 1)


async def status_changes(watch: Watch) -> AsyncGenerator[Delivery, None]:
    """The status and access changes ``watch`` accepts, as committed, until the subscriber leaves."""
    async with current_broker().subscribe(watch.accepts) as subscriber:
        try:
            async for delivery in subscriber:
                yield delivery
        except SubscriberOverflow as overflow:
            raise DomainError(
                ErrorCode.LIMIT_EXCEEDED,
                f"More than {overflow.size} status changes waited unread, so this subscription"
                " was closed; subscribe again.",
            ) from overflow

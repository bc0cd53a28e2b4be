"""The per-request context: who is calling, and loaders built fresh for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from strawberry.types import Info as _Info

from ..access import Policy, contact_scope
from ..models import Agent
from ..settings import Settings
from .by_id import (
    AgentByIdLoader,
    ContactByIdLoader,
    CustomFieldByIdLoader,
    CustomFieldByKeyLoader,
    DispositionByIdLoader,
    GroupByIdLoader,
    SourceByIdLoader,
    StatusByIdLoader,
)
from .counts import ContactCountByGroupLoader, ContactCountBySourceLoader, ContactCountByStatusLoader
from .lists import AgentsByGroupLoader, CustomFieldsByGroupLoader, DispositionsByGroupLoader
from .slices import Slices


@dataclass
class Loaders:
    status: StatusByIdLoader
    source: SourceByIdLoader
    group: GroupByIdLoader
    agent: AgentByIdLoader
    custom_field: CustomFieldByIdLoader
    custom_field_by_key: CustomFieldByKeyLoader
    contact: ContactByIdLoader
    contacts_by_status: ContactCountByStatusLoader
    contacts_by_source: ContactCountBySourceLoader
    contacts_by_group: ContactCountByGroupLoader
    disposition: DispositionByIdLoader
    agents_by_group: AgentsByGroupLoader
    dispositions_by_group: DispositionsByGroupLoader
    custom_fields_by_group: CustomFieldsByGroupLoader
    slices: Slices = field(default_factory=Slices)  # per-contact pages (status history, timeline)

    @classmethod
    def for_agent(cls, agent: Agent) -> Loaders:
        workspace_id = agent.workspace_id
        scope = contact_scope(agent)
        return cls(
            status=StatusByIdLoader(workspace_id),
            source=SourceByIdLoader(workspace_id),
            group=GroupByIdLoader(workspace_id),
            agent=AgentByIdLoader(workspace_id),
            custom_field=CustomFieldByIdLoader(workspace_id),
            custom_field_by_key=CustomFieldByKeyLoader(workspace_id),
            contact=ContactByIdLoader(scope),
            contacts_by_status=ContactCountByStatusLoader(scope),
            contacts_by_source=ContactCountBySourceLoader(scope),
            contacts_by_group=ContactCountByGroupLoader(scope),
            disposition=DispositionByIdLoader(workspace_id),
            agents_by_group=AgentsByGroupLoader(workspace_id),
            dispositions_by_group=DispositionsByGroupLoader(workspace_id),
            custom_fields_by_group=CustomFieldsByGroupLoader(workspace_id),
        )


class Context:
    """Built once per request (or WebSocket connection) by the app."""

    def __init__(
        self,
        *,
        settings: Settings,
        agent: Agent | None = None,
        is_admin: bool = False,
        request: Any = None,
        response: Any = None,
    ) -> None:
        self.settings = settings
        self.agent = agent
        self.is_admin = is_admin
        self.request = request
        self.response = response
        self.connection_params: dict[str, Any] | None = None  # a WebSocket's connection_init payload

    @property
    def caller(self) -> Agent:
        """The authenticated agent: fields guarded by ``Authorized`` always have one."""
        if self.agent is None:
            raise RuntimeError("this field must be guarded by Authorized")
        return self.agent

    @cached_property
    def policy(self) -> Policy:
        """What the caller may do; a WebSocket connection renews it when the agent's access changes."""
        return Policy(self.caller)

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders.for_agent(self.caller)

    def become(self, agent: Agent | None) -> None:
        """The caller as it is now (a WebSocket re-reads its token); its policy follows.

        A connection's subscriptions each set the loaders of the event they deliver.
        """
        self.agent = agent
        self.__dict__.pop("policy", None)

    def use_loaders(self, loaders: Loaders) -> None:
        """Read through ``loaders`` from now on: a WebSocket connection outlives many events,
        each read afresh, once for all the subscribers who may see the same."""
        self.__dict__["loaders"] = loaders


Info = _Info[Context, None]

"""The per-request context: who is calling, and loaders built fresh for them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from beanie import PydanticObjectId
from strawberry.types import Info as _Info

from ..models import Agent
from ..models.access import contact_scope
from ..settings import Settings
from .by_id import (
    AgentByIdLoader,
    ContactByIdLoader,
    CustomFieldByIdLoader,
    CustomFieldByKeyLoader,
    GroupByIdLoader,
    SourceByIdLoader,
    StatusByIdLoader,
)
from .counts import ContactCountByGroupLoader, ContactCountBySourceLoader, ContactCountByStatusLoader


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

    @property
    def workspace_id(self) -> PydanticObjectId | None:
        return self.agent.workspace_id if self.agent else None

    @cached_property
    def loaders(self) -> Loaders:
        if self.agent is None:
            raise RuntimeError("loaders need an authenticated agent")
        return Loaders.for_agent(self.agent)


Info = _Info[Context, None]

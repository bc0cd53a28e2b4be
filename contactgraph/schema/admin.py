"""Workspaces, agents and tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import Private

from ..ids import encode_id
from ..loaders.context import Info
from ..models import Agent as AgentDoc
from ..models import ContactType, Permission
from ..models import Workspace as WorkspaceDoc
from ..resolvers import admin
from .common import DeletePayload, Node, UserError
from .fields import admin_mutation, mutation, query
from .inputs import given

if TYPE_CHECKING:
    from .library import GroupType

LazyGroup = Annotated["GroupType", strawberry.lazy("contactgraph.schema.library")]


@strawberry.type
class Agent(Node):
    doc: Private[AgentDoc]
    name: str
    email: str
    permissions: list[Permission]

    @classmethod
    def from_doc(cls, doc: AgentDoc) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("Agent", doc.id)),
            name=doc.name,
            email=doc.email,
            permissions=list(doc.permissions),
        )


@strawberry.type
class Workspace(Node):
    doc: Private[WorkspaceDoc]
    name: str
    require_group: bool = strawberry.field(
        description="every contact must belong to at least one group (list)"
    )

    @classmethod
    def from_doc(cls, doc: WorkspaceDoc) -> Self:
        return cls(
            doc=doc,
            id=strawberry.ID(encode_id("Workspace", doc.id)),
            name=doc.name,
            require_group=doc.require_group,
        )

    @strawberry.field(description="with requireGroup: the group a contact created without one joins")
    async def default_group(self, info: Info) -> LazyGroup | None:
        from .library import GroupType  # library imports this module for Agent

        if self.doc.default_group_id is None:
            return None
        group = await info.context.loaders.group.load(self.doc.default_group_id)
        return GroupType.from_doc(group) if group else None


@strawberry.input
class AgentInput:
    name: str
    email: str
    permissions: list[Permission]


@strawberry.input
class WorkspaceSettingsInput:
    inbound_status_id: strawberry.ID | None = strawberry.UNSET
    inbound_source_id: strawberry.ID | None = strawberry.UNSET
    inbound_type: ContactType | None = strawberry.UNSET
    require_group: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="every contact must belong to at least one group (list)",
    )
    default_group_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "with requireGroup: the group a contact created without one joins (createContact,"
            " upsertContactByPhone, recordInteraction by phone); null clears it"
        ),
    )


@strawberry.type
class AgentPayload:
    agent: Agent | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiTokenPayload:
    token: str | None = strawberry.field(default=None, description="the secret is shown once")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WorkspacePayload:
    workspace: Workspace | None = None
    admin_token: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AdminQuery:
    @query(description="the agent the token belongs to")
    async def me(self, info: Info) -> Agent | None:
        return Agent.from_doc(info.context.caller)

    @query()
    async def agents(self, info: Info) -> list[Agent]:
        found = await AgentDoc.find({"workspace_id": info.context.caller.workspace_id}).sort("_id").to_list()
        return [Agent.from_doc(a) for a in found]


@strawberry.type
class AdminMutation:
    @admin_mutation(description="platform administration: requires the server's admin key")
    async def create_workspace(self, name: str) -> WorkspacePayload:
        workspace, _, secret = await admin.create_workspace(name)
        return WorkspacePayload(workspace=Workspace.from_doc(workspace), admin_token=secret)

    @mutation()
    async def update_workspace_settings(self, info: Info, input: WorkspaceSettingsInput) -> WorkspacePayload:
        workspace = await admin.update_workspace_settings(info.context.caller, given(input))
        return WorkspacePayload(workspace=Workspace.from_doc(workspace))

    @mutation()
    async def create_agent(self, info: Info, input: AgentInput) -> AgentPayload:
        agent = await admin.create_agent(info.context.caller, given(input))
        return AgentPayload(agent=Agent.from_doc(agent))

    @mutation()
    async def update_agent_permissions(
        self, info: Info, id: strawberry.ID, permissions: list[Permission]
    ) -> AgentPayload:
        agent = await admin.update_agent_permissions(info.context.caller, id, permissions)
        return AgentPayload(agent=Agent.from_doc(agent))

    @mutation(description="one's own token, or any agent's with AGENT_MANAGE")
    async def create_api_token(self, info: Info, agent_id: strawberry.ID, name: str) -> ApiTokenPayload:
        return ApiTokenPayload(token=await admin.create_api_token(info.context.caller, agent_id, name))

    @mutation(description="one's own token, or any agent's with AGENT_MANAGE")
    async def revoke_api_token(self, info: Info, token: str) -> DeletePayload:
        oid = await admin.revoke_api_token(info.context.caller, token)
        return DeletePayload(deleted_ids=[strawberry.ID(encode_id("ApiToken", oid))])

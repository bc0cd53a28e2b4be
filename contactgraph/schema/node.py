"""``node(id:)``: any id of the caller's workspace, whatever its type."""

from __future__ import annotations

import strawberry
from beanie import PydanticObjectId

from ..access import OPERATIONS, policy_of
from ..ids import decode_any
from ..loaders.context import Info
from ..models import Agent as AgentDoc
from ..models import CustomField as CustomFieldDoc
from ..models import DomainError, Group, Source, Status
from ..models import Workspace as WorkspaceDoc
from ..models.disposition import Disposition as DispositionDoc
from ..resolvers.contacts import visible_contact
from ..resolvers.history import visible_status_change
from ..resolvers.interactions import visible_interaction
from .activity import activity_node
from .admin import Agent, Workspace
from .common import Node
from .contact_type import Contact
from .fields import query
from .history import StatusChange
from .imports import import_job_node
from .journey import Interaction
from .library import ContactSource, ContactStatus, CustomField, GroupType
from .lists import Disposition
from .segments import segment_node
from .webhooks import webhook_node

_LIBRARY = {
    "ContactStatus": (Status, ContactStatus),
    "ContactSource": (Source, ContactSource),
    "Group": (Group, GroupType),
    "CustomField": (CustomFieldDoc, CustomField),
    "Agent": (AgentDoc, Agent),
    "Disposition": (DispositionDoc, Disposition),
}


async def resolve_node(info: Info, global_id: str) -> Node | None:
    decoded = decode_any(global_id)
    agent = info.context.agent
    if decoded is None or agent is None:
        return None
    kind, oid = decoded
    if f"node:{kind}" not in OPERATIONS or not policy_of(agent).allows(f"node:{kind}"):
        return None
    if kind == "Contact":
        try:
            return Contact.from_doc(await visible_contact(agent, global_id))
        except DomainError:
            return None
    if kind == "StatusChange":
        found = await visible_status_change(agent, oid)
        return StatusChange.from_event(*found) if found else None
    if kind == "Interaction":
        seen = await visible_interaction(agent, oid)
        return Interaction.from_doc(*seen) if seen else None
    if kind == "Webhook":
        return await webhook_node(agent, PydanticObjectId(oid))
    if kind == "ImportJob":
        return await import_job_node(agent, global_id)
    if kind == "Segment":
        return await segment_node(info, global_id)
    if kind == "Activity":
        return await activity_node(info, oid)
    if kind == "Workspace":
        if oid != agent.workspace_id:
            return None
        workspace = await WorkspaceDoc.get(agent.workspace_id)
        return Workspace.from_doc(workspace) if workspace else None
    if kind in _LIBRARY:
        model, type_ = _LIBRARY[kind]
        doc = await model.find_one({"_id": PydanticObjectId(oid), "workspace_id": agent.workspace_id})
        return type_.from_doc(doc) if doc else None  # type: ignore[attr-defined]
    return None


@strawberry.type
class NodeQuery:
    @query()
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)

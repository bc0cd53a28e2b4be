"""Workspaces, their agents and the API tokens agents call with."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
from .contact import ContactType


class Permission(StrEnum):
    CONTACT_VIEW = "CONTACT_VIEW"
    CONTACT_VIEW_OWN = "CONTACT_VIEW_OWN"
    CONTACT_VIEW_TEAM = "CONTACT_VIEW_TEAM"
    CONTACT_CREATE = "CONTACT_CREATE"
    CONTACT_EDIT = "CONTACT_EDIT"
    CONTACT_DELETE = "CONTACT_DELETE"
    CONTACT_IMPORT = "CONTACT_IMPORT"
    CONTACT_EXPORT = "CONTACT_EXPORT"
    LIBRARY_MANAGE = "LIBRARY_MANAGE"
    WEBHOOK_MANAGE = "WEBHOOK_MANAGE"
    AGENT_MANAGE = "AGENT_MANAGE"


class InboundDefaults(BaseModel):
    """What a contact created from an inbound message starts with."""

    status_id: PydanticObjectId | None = None
    source_id: PydanticObjectId | None = None
    type: ContactType = ContactType.GUEST


class Workspace(Document):
    name: str
    inbound: InboundDefaults = Field(default_factory=InboundDefaults)
    require_group: bool = False  # every contact keeps at least one group (``models.lists.GroupRule``)
    default_group_id: PydanticObjectId | None = None  # where a contact created without a group goes then
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "workspaces"


class Agent(WorkspaceDocument):
    name: str
    email: str
    permissions: list[Permission]
    # The lists (groups) the agent is assigned to: its team, whose contacts CONTACT_VIEW_TEAM sees.
    # Kept here, not on the group, so that the access policy needs nothing but the agent.
    group_ids: list[PydanticObjectId] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "agents"
        indexes = [
            IndexModel([("workspace_id", ASCENDING), ("email", ASCENDING)], unique=True),
            IndexModel([("workspace_id", ASCENDING), ("group_ids", ASCENDING)]),
        ]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


TOKEN_PREFIX = "cg_"


def hash_secret(secret: str) -> str:
    """Tokens are 256-bit random secrets, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(WorkspaceDocument):
    agent_id: PydanticObjectId
    name: str
    token_hash: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "api_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], unique=True),
            IndexModel([("workspace_id", ASCENDING), ("agent_id", ASCENDING)]),
        ]

    @classmethod
    def issue(cls, agent: Agent, name: str) -> tuple[ApiToken, str]:
        """A new token for ``agent`` (unsaved) and its secret, which is never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(
            workspace_id=agent.workspace_id,
            agent_id=agent.id,
            name=name,
            token_hash=hash_secret(secret),
        )
        return token, secret

    @classmethod
    async def agent_for(cls, secret: str) -> Agent | None:
        """The agent a secret belongs to, in one round trip."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
            return None
        pipeline: list[dict[str, Any]] = [
            {"$match": {"token_hash": hash_secret(secret)}},
            {"$limit": 1},
            {
                "$lookup": {
                    "from": Agent.get_collection_name(),
                    "localField": "agent_id",
                    "foreignField": "_id",
                    "as": "agent",
                }
            },
        ]
        found = await cls.aggregate(pipeline).to_list()
        if not found or not found[0]["agent"]:
            return None
        agent = found[0]["agent"][0]
        if agent["workspace_id"] != found[0]["workspace_id"]:
            return None
        return Agent.model_validate(agent)

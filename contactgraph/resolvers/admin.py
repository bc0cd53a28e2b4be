"""Workspaces, agents, API tokens and workspace settings."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from ..access import contact_scope, policy_of
from ..events import access_changed
from ..models import (
    Agent,
    ApiToken,
    Contact,
    DomainError,
    ErrorCode,
    Errors,
    Group,
    Permission,
    Source,
    Status,
    Workspace,
)
from ..models.base import Session
from ..models.lists import NAMED_MAX, named
from ..models.text import clean_name, normalize_email
from ..models.workspace import hash_secret
from ..services.changes import apply
from ..services.unique import duplicates_as
from .refs import fetch


async def create_workspace(name: str) -> tuple[Workspace, Agent, str]:
    """A workspace with a first agent holding every permission, and that agent's token."""
    errors = Errors()
    clean = errors.check(["name"], clean_name, name)
    errors.raise_any()
    workspace = Workspace(name=clean)
    await workspace.insert()
    agent = Agent(
        workspace_id=workspace.id,
        name="Administrator",
        email="admin@workspace.invalid",
        permissions=list(Permission),
    )
    await agent.insert()
    token, secret = ApiToken.issue(agent, "first token")
    await token.insert()
    return workspace, agent, secret


def _email_taken(email: str | None) -> DomainError:
    return DomainError(
        ErrorCode.EMAIL_TAKEN, f"An agent with email {email!r} exists already.", ["input", "email"]
    )


async def create_agent(caller: Agent, values: dict[str, Any]) -> Agent:
    errors = Errors()
    name = errors.check(["input", "name"], clean_name, values["name"])
    email = errors.check(["input", "email"], normalize_email, values["email"])
    if email is None and not errors:
        errors.add(ErrorCode.REQUIRED, "An agent needs an email address.", "input", "email")
    if beyond := _beyond(caller, values["permissions"]):
        errors.add(ErrorCode.FORBIDDEN, _cannot_grant(beyond), "input", "permissions")
    if email and await Agent.find_one({"workspace_id": caller.workspace_id, "email": email}):
        errors.items.append(_email_taken(email))
    errors.raise_any()
    agent = Agent(
        workspace_id=caller.workspace_id,
        name=name,
        email=email,
        permissions=sorted(set(values["permissions"])),
    )
    with duplicates_as({"email": _email_taken(email)}):
        await agent.insert()
    return agent


def _beyond(caller: Agent, permissions: list[Permission]) -> list[str]:
    return [p.value for p in policy_of(caller).beyond(permissions)]


def _cannot_grant(beyond: list[str]) -> str:
    return f"You cannot grant permissions you do not hold: {', '.join(beyond)}."


async def update_agent_permissions(caller: Agent, global_id: str, permissions: list[Permission]) -> Agent:
    """Set an agent's permissions; its open subscriptions re-check their sight before any later event."""
    agent = await fetch(Agent, caller.workspace_id, global_id)
    wanted = sorted(set(permissions))
    if beyond := _beyond(caller, wanted):
        raise DomainError(ErrorCode.FORBIDDEN, _cannot_grant(beyond), ["permissions"])
    if beyond := _beyond(caller, agent.permissions):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"This agent holds permissions you do not ({', '.join(beyond)}); you cannot change theirs.",
            ["id"],
        )
    if Permission.AGENT_MANAGE in agent.permissions and Permission.AGENT_MANAGE not in wanted:
        others = await Agent.find(
            {
                "workspace_id": caller.workspace_id,
                "_id": {"$ne": agent.id},
                "permissions": Permission.AGENT_MANAGE.value,
            }
        ).count()
        if others == 0:
            raise DomainError(
                ErrorCode.BLOCKED,
                "This is the last agent with AGENT_MANAGE; the workspace would have no manager.",
                ["permissions"],
            )

    async def write(session: Session) -> bool:
        await agent.set({"permissions": wanted}, session=session)
        return True

    await apply(write, [access_changed(agent, caller)])
    return agent


async def create_api_token(caller: Agent, agent_global_id: str, name: str) -> str:
    """A new secret for an agent: one's own, or anyone's with AGENT_MANAGE."""
    errors = Errors()
    clean = errors.check(["name"], clean_name, name)
    agent = await errors.check_async([], fetch, Agent, caller.workspace_id, agent_global_id, "agentId")
    if agent is not None and agent.id != caller.id:
        if not caller.can(Permission.AGENT_MANAGE):
            errors.add(ErrorCode.FORBIDDEN, "Tokens for other agents need AGENT_MANAGE.", "agentId")
        elif beyond := _beyond(caller, agent.permissions):
            message = f"This agent holds permissions you do not ({', '.join(beyond)}): no token for it."
            errors.add(ErrorCode.FORBIDDEN, message, "agentId")
    errors.raise_any()
    assert agent is not None and clean is not None
    token, secret = ApiToken.issue(agent, clean)
    await token.insert()
    return secret


async def revoke_api_token(caller: Agent, secret: str) -> PydanticObjectId:
    """Revoke a token of the caller's workspace: one's own, or anyone's with AGENT_MANAGE.

    Subscriptions open with it are closed before any later event reaches them.
    """
    token = await ApiToken.find_one({"token_hash": hash_secret(secret), "workspace_id": caller.workspace_id})
    if token is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such token in this workspace.", ["token"])
    if token.agent_id != caller.id and not caller.can(Permission.AGENT_MANAGE):
        raise DomainError(
            ErrorCode.FORBIDDEN, "Revoking another agent's token needs AGENT_MANAGE.", ["token"]
        )
    agent = await Agent.find_one({"_id": token.agent_id, "workspace_id": caller.workspace_id})

    async def write(session: Session) -> bool:
        await token.delete(session=session)
        return True

    await apply(write, [access_changed(agent, caller)] if agent else [])
    return token.id  # type: ignore[return-value]


async def update_workspace_settings(caller: Agent, values: dict[str, Any]) -> Workspace:
    """Set the inbound defaults and the group rule; null clears a default."""
    workspace = await Workspace.get(caller.workspace_id)
    assert workspace is not None
    errors = Errors()
    changes: dict[str, Any] = {}
    for key, model in (("inbound_status_id", Status), ("inbound_source_id", Source)):
        if key not in values:
            continue
        if values[key] is None:
            changes[key] = None
            continue
        entry = await errors.check_async(["input"], fetch, model, caller.workspace_id, values[key], key)
        if entry is not None:
            changes[key] = entry.id
    if values.get("inbound_type") is not None:
        changes["inbound_type"] = values["inbound_type"]
    groups = await _group_settings(caller, workspace, values, errors)
    errors.raise_any()
    inbound = workspace.inbound.model_copy(
        update={key.removeprefix("inbound_"): value for key, value in changes.items()}
    )
    if changes:
        groups["inbound"] = inbound.model_dump()
    if groups:
        await workspace.set(groups)
    return workspace


async def _group_settings(
    caller: Agent, workspace: Workspace, values: dict[str, Any], errors: Errors
) -> dict[str, Any]:
    """``requireGroup`` and the default group, checked. Turning ``requireGroup`` on is BLOCKED while
    contacts have no group: the message names those the caller may see, and counts all."""
    changes: dict[str, Any] = {}
    if "default_group_id" in values:
        group = None
        if values["default_group_id"] is not None:
            group = await errors.check_async(
                ["input"], fetch, Group, caller.workspace_id, values["default_group_id"], "default_group_id"
            )
        changes["default_group_id"] = group.id if group else None
    if values.get("require_group") is not None:
        changes["require_group"] = values["require_group"]
        if values["require_group"] and not workspace.require_group:
            groupless = {"group_ids": {"$size": 0}}
            total = await Contact.find({"workspace_id": caller.workspace_id, **groupless}).count()
            if total:
                named = await Contact.find({**contact_scope(caller), **groupless}).limit(NAMED_MAX).to_list()
                message = f"{_without(named, total)} Add them to a group first."
                errors.add(ErrorCode.BLOCKED, message, "input", "require_group")
    return changes


def _without(contacts: list[Contact], total: int) -> str:
    return f"{total} contact{'s have' if total != 1 else ' has'} no group: {named(contacts, total)}."

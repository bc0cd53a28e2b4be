"""Which contacts an agent may see: the filter every contact query starts from."""

from __future__ import annotations

from typing import Any

from .workspace import Agent


def contact_scope(agent: Agent) -> dict[str, Any]:
    """The workspace, narrowed to the agent's own contacts for a view-own agent."""
    scope: dict[str, Any] = {"workspace_id": agent.workspace_id}
    if agent.sees_only_own:
        scope["assigned_agent_id"] = agent.id
    return scope

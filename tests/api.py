"""A small GraphQL client over the app, and shortcuts tests share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Workspace:
    id: str
    token: str
    agent_id: str


class Api:
    def __init__(self, client: httpx.AsyncClient, admin_key: str) -> None:
        self.client = client
        self.admin_key = admin_key

    async def post(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )

    async def gql(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The whole response body; the HTTP status must be 200."""
        response = await self.post(document, variables, token)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def data(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """``data`` of a response that must have no top-level errors."""
        body = await self.gql(document, variables, token)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    async def ok(
        self, document: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The payload of a single mutation that must have no userErrors."""
        data = await self.data(document, variables, token)
        payload = next(iter(data.values()))
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload  # type: ignore[no-any-return]

    async def create_workspace(self, name: str = "Acme") -> Workspace:
        payload = await self.ok(CREATE_WORKSPACE, {"name": name}, token=self.admin_key)
        me = await self.data("{ me { id } }", token=payload["adminToken"])
        return Workspace(id=payload["workspace"]["id"], token=payload["adminToken"], agent_id=me["me"]["id"])

    async def agent_token(
        self, workspace: Workspace, permissions: list[str], email: str = "agent@example.com"
    ) -> tuple[str, str]:
        """A new agent of the workspace with these permissions: (agent id, token)."""
        agent = await self.ok(
            CREATE_AGENT,
            {"input": {"name": "Agent", "email": email, "permissions": permissions}},
            workspace.token,
        )
        agent_id = agent["agent"]["id"]
        token = await self.ok(CREATE_API_TOKEN, {"agentId": agent_id, "name": "test"}, workspace.token)
        return agent_id, token["token"]


CREATE_WORKSPACE = """
mutation($name: String!) {
  createWorkspace(name: $name) { workspace { id name } adminToken userErrors { field code message } }
}"""

CREATE_AGENT = """
mutation($input: AgentInput!) {
  createAgent(input: $input) { agent { id name email permissions } userErrors { field code message } }
}"""

CREATE_API_TOKEN = """
mutation($agentId: ID!, $name: String!) {
  createApiToken(agentId: $agentId, name: $name) { token userErrors { field code message } }
}"""

CREATE_STATUS = """
mutation($input: StatusInput!) {
  createStatus(input: $input) { status { id name color position contactCount } userErrors { field code message } }
}"""

CREATE_SOURCE = """
mutation($input: SourceInput!) {
  createSource(input: $input) { source { id name contactCount } userErrors { field code message } }
}"""

CREATE_GROUP = """
mutation($input: GroupInput!) {
  createGroup(input: $input) { group { id name description contactCount } userErrors { field code message } }
}"""

CREATE_CUSTOM_FIELD = """
mutation($input: CustomFieldInput!) {
  createCustomField(input: $input) {
    customField { id key label type options required position deletedAt }
    userErrors { field code message }
  }
}"""

CREATE_CONTACT = """
mutation($input: ContactInput!) {
  createContact(input: $input) {
    contact { id firstname lastname phone email updatedAt }
    userErrors { field code message }
  }
}"""


@dataclass
class Library:
    statuses: list[str]
    sources: list[str]
    groups: list[str]


async def make_library(api: Api, workspace: Workspace) -> Library:
    """Two statuses, two sources and two groups."""
    statuses = [
        (await api.ok(CREATE_STATUS, {"input": {"name": name, "color": color}}, workspace.token))["status"][
            "id"
        ]
        for name, color in (("New", "#1e90ff"), ("Won", "#2ecc71"))
    ]
    sources = [
        (await api.ok(CREATE_SOURCE, {"input": {"name": name}}, workspace.token))["source"]["id"]
        for name in ("WhatsApp", "Website")
    ]
    groups = [
        (await api.ok(CREATE_GROUP, {"input": {"name": name}}, workspace.token))["group"]["id"]
        for name in ("VIP", "Newsletter")
    ]
    return Library(statuses, sources, groups)


async def make_contact(api: Api, workspace: Workspace, library: Library, **overrides: Any) -> dict[str, Any]:
    """A contact created through the API; overrides are ContactInput fields."""
    data = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": "+14155550100",
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
        **overrides,
    }
    return (await api.ok(CREATE_CONTACT, {"input": data}, workspace.token))["contact"]  # type: ignore[no-any-return]


def phone(n: int) -> str:
    """The n-th of a series of valid, distinct US numbers."""
    return f"+1415{2000000 + n:07d}"


async def make_custom_field(
    api: Api, workspace: Workspace, key: str, type: str, **overrides: Any
) -> dict[str, Any]:
    """A custom field created through the API; overrides are CustomFieldInput fields."""
    data = {"key": key, "label": key.replace("_", " ").title(), "type": type, **overrides}
    return (await api.ok(CREATE_CUSTOM_FIELD, {"input": data}, workspace.token))["customField"]  # type: ignore[no-any-return]

"""Bad and oversized requests: clear errors, never a 500 or a stack trace."""

from __future__ import annotations

import logging

import httpx
import pytest

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.models import Contact
from contactgraph.resolvers import library
from contactgraph.settings import Settings

from .api import CREATE_CONTACT, CREATE_STATUS, Api, Library, Workspace

DEEP_QUERY = "{ contacts { edges { node { customFields { field { key } } } } } }"


def _codes(body: dict) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in body["errors"]]


def _no_trace(response: httpx.Response) -> None:
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_graphiql_is_served_on_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_query_deeper_than_the_limit_is_refused(
    settings: Settings, engine: Engine, workspace: Workspace
) -> None:
    # given: a server whose depth limit is below what this query needs
    app = create_app(settings.model_copy(update={"max_query_depth": 3}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as shallow:
        # when
        response = await shallow.post(
            "/graphql", json={"query": DEEP_QUERY}, headers={"Authorization": f"Bearer {workspace.token}"}
        )
    # then
    body = response.json()
    assert body.get("data") is None
    assert "exceeds maximum operation depth of 3" in body["errors"][0]["message"]
    assert _codes(body) == ["LIMIT_EXCEEDED"]


async def test_document_with_too_many_tokens_is_refused(api: Api, workspace: Workspace) -> None:
    document = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(2000)) + " }"
    body = await api.gql(document, token=workspace.token)
    assert body.get("data") is None
    assert "token" in body["errors"][0]["message"].lower()
    assert _codes(body) == ["LIMIT_EXCEEDED"]


async def test_document_with_too_many_aliases_is_refused(api: Api, workspace: Workspace) -> None:
    document = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(31)) + " }"
    body = await api.gql(document, token=workspace.token)
    assert body.get("data") is None
    assert "alias" in body["errors"][0]["message"].lower()
    assert _codes(body) == ["LIMIT_EXCEEDED"]


async def test_body_over_the_limit_is_413_before_any_parsing(
    client: httpx.AsyncClient, workspace: Workspace
) -> None:
    huge = '{"query": "{ me { id } }", "variables": {"x": "' + "x" * 1_100_000 + '"}}'
    response = await client.post(
        "/graphql",
        content=huge,
        headers={"content-type": "application/json", "Authorization": f"Bearer {workspace.token}"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    "content",
    [
        "nonsense",
        '{"query": ',
        '{"variables": {}}',
        "[]",
        '{"query": 12}',
        '{"query": "{ me { id } }", "variables": 5}',
    ],
)
async def test_malformed_requests_are_client_errors(
    client: httpx.AsyncClient, workspace: Workspace, content: str
) -> None:
    response = await client.post(
        "/graphql",
        content=content,
        headers={"content-type": "application/json", "Authorization": f"Bearer {workspace.token}"},
    )
    assert 400 <= response.status_code < 500 or (response.status_code == 200 and response.json()["errors"])
    _no_trace(response)


async def test_syntax_error_and_unknown_field_are_reported(api: Api, workspace: Workspace) -> None:
    broken = await api.gql("{ contacts { totalCount ", token=workspace.token)
    unknown = await api.gql("{ contacts { nope } }", token=workspace.token)
    assert "Syntax Error" in broken["errors"][0]["message"]
    assert "Cannot query field 'nope'" in unknown["errors"][0]["message"]


async def test_wrong_variable_type_is_reported(api: Api, workspace: Workspace, library: Library) -> None:
    response = await api.post(CREATE_CONTACT, {"input": {"firstname": 5, "lastname": ["x"]}}, workspace.token)
    body = response.json()
    assert response.status_code in (200, 400)
    assert body["errors"] and "Variable '$input'" in body["errors"][0]["message"]
    assert await Contact.find_all().count() == 0
    _no_trace(response)


async def test_huge_string_is_a_user_error(api: Api, workspace: Workspace, library: Library) -> None:
    variables = {
        "input": {
            "firstname": "A" * 500_000,
            "lastname": "B",
            "phone": "+14155552671",
            "statusId": library.statuses[0],
            "sourceId": library.sources[0],
        }
    }
    payload = (await api.data(CREATE_CONTACT, variables, workspace.token))["createContact"]
    assert payload["contact"] is None
    assert payload["userErrors"][0]["field"] == ["input", "firstname"]
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert await Contact.find_all().count() == 0


async def test_unexpected_failure_is_masked_for_the_client_and_logged_in_full(
    api: Api, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(library, "create_entry", broken)
    # when
    with caplog.at_level(logging.ERROR, logger="contactgraph.errors"):
        response = await api.post(
            CREATE_STATUS, {"input": {"name": "New", "color": "#000000"}}, workspace.token
        )
    # then
    body = response.json()
    error = body["errors"][0]
    assert response.status_code == 200
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret database detail" not in response.text
    _no_trace(response)
    logged = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert logged and logged[0].exc_info and "secret database detail" in str(logged[0].exc_info[1])


async def test_expected_errors_keep_their_codes(api: Api) -> None:
    body = await api.gql("{ contacts { totalCount } }")
    assert _codes(body) == ["UNAUTHENTICATED"]

"""GraphQL over HTTP: both media types, their status codes, and the spec's reference audit.

``application/graphql-response+json`` goes to clients that ask for it: a request that was
not executed answers 400 without ``data``. Every other client gets ``application/json`` and
200 as before. The audit is graphql-http's ``serverAudits`` (npm), run by Node against
uvicorn serving the app on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from strawberry.http import GraphQLHTTPResponse

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.graphql_http import response_status
from contactgraph.settings import Settings

from .api import Workspace

GRAPHQL_RESPONSE = "application/graphql-response+json"
AUDIT_DIR = Path(__file__).parent / "graphql_http"
AUDITS = 61  # graphql-http 1.23.1's serverAudits, pinned in tests/graphql_http/package.json

ME = "{ me { id } }"
UNPARSABLE = "{ me { id }"
INVALID = "{ me { noSuchField } }"
NODE_BY_ID = "query($id: ID!) { node(id: $id) { id } }"
ALIASED = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"  # 30 aliases at most


async def post(
    client: httpx.AsyncClient, document: str, accept: str | None, token: str | None = None, **body: Any
) -> httpx.Response:
    """A POST with exactly this Accept header (``None``: none at all)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = client.build_request("POST", "/graphql", json={"query": document, **body}, headers=headers)
    if accept is None:
        del request.headers["accept"]
    else:
        request.headers["accept"] = accept
    return await client.send(request)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


# ---------------------------------------------------------------- application/graphql-response+json


async def test_a_client_asking_for_graphql_response_json_gets_it(
    client: httpx.AsyncClient, workspace: Workspace
) -> None:
    # when
    response = await post(client, ME, GRAPHQL_RESPONSE, workspace.token)
    # then
    assert (response.status_code, media_type(response)) == (200, GRAPHQL_RESPONSE)
    body = response.json()
    assert body["data"] == {"me": {"id": workspace.agent_id}}
    assert "errors" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] > 0


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        pytest.param(UNPARSABLE, None, id="parse-error"),
        pytest.param(INVALID, None, id="validation-error"),
        pytest.param(NODE_BY_ID, {"id": None}, id="variable-coercion-error"),
        pytest.param(ALIASED, None, id="over-the-alias-limit"),
    ],
)
async def test_a_request_error_is_a_400_without_data(
    client: httpx.AsyncClient, workspace: Workspace, document: str, variables: dict[str, Any] | None
) -> None:
    # when
    response = await post(client, document, GRAPHQL_RESPONSE, workspace.token, variables=variables)
    # then
    assert (response.status_code, media_type(response)) == (400, GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"] and all("path" not in error for error in body["errors"])


async def test_field_errors_keep_their_200_and_data(client: httpx.AsyncClient) -> None:
    # when: no token, so the field is refused as it runs
    response = await post(client, ME, GRAPHQL_RESPONSE)
    # then
    assert (response.status_code, media_type(response)) == (200, GRAPHQL_RESPONSE)
    body = response.json()
    assert body["data"] == {"me": None}
    assert body["errors"][0]["path"] == ["me"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE, id="only-it"),
        pytest.param(f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE, id="preferred"),
        pytest.param(f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE, id="as-willingly"),
        pytest.param(f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE, id="with-charset"),
        pytest.param(GRAPHQL_RESPONSE.upper(), GRAPHQL_RESPONSE, id="upper-case"),
        pytest.param(f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json", id="less-wanted"),
        pytest.param(f"{GRAPHQL_RESPONSE};q=0", "application/json", id="refused"),
        pytest.param("application/json", "application/json", id="json"),
        pytest.param("*/*", "application/json", id="anything"),
        pytest.param("application/*", "application/json", id="any-application-type"),
        pytest.param("text/html", "application/json", id="neither"),
        pytest.param(None, "application/json", id="no-accept-header"),
    ],
)
async def test_the_accept_header_picks_the_media_type(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    # when
    response = await post(client, INVALID, accept)
    # then
    assert media_type(response) == expected
    assert response.status_code == (400 if expected == GRAPHQL_RESPONSE else 200)


def test_a_request_that_failed_inside_the_server_is_a_500() -> None:
    # given: a request error that is the server's fault, masked (an extension that broke)
    body: GraphQLHTTPResponse = {
        "errors": [{"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    }
    # then
    assert response_status(body) == 500
    assert response_status({"errors": [{"message": "Syntax Error"}]}) == 400
    assert response_status({"data": None, "errors": [{"message": "x", "path": ["me"]}]}) == 200


# ---------------------------------------------------------------- application/json, as before


@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
@pytest.mark.parametrize("document", [UNPARSABLE, INVALID])
async def test_application_json_answers_request_errors_with_200_and_null_data(
    client: httpx.AsyncClient, workspace: Workspace, accept: str | None, document: str
) -> None:
    # when
    response = await post(client, document, accept, workspace.token)
    # then
    assert (response.status_code, media_type(response)) == (200, "application/json")
    body = response.json()
    assert body["data"] is None
    assert body["errors"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_mutation_by_get_is_405_with_allow_post(
    client: httpx.AsyncClient, workspace: Workspace, accept: str
) -> None:
    # when
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { createStatus(input: {name: "New"}) { userErrors { code } } }'},
        headers={"Authorization": f"Bearer {workspace.token}", "Accept": accept},
    )
    # then
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    statuses = await post(client, "{ statuses { name } }", accept, workspace.token)
    assert statuses.json()["data"] == {"statuses": []}


# ---------------------------------------------------------------- the spec's audit


@pytest.fixture(scope="module")
def graphql_http_audit() -> Path:
    """The audit script, its npm packages installed once (``npm ci``, into tests/graphql_http)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("npm is not installed: the GraphQL over HTTP audit runs on Node (graphql-http from npm)")
    pinned = json.loads((AUDIT_DIR / "package.json").read_text())["dependencies"]
    installed = AUDIT_DIR / "node_modules" / "graphql-http" / "package.json"
    if not installed.is_file() or json.loads(installed.read_text())["version"] != pinned["graphql-http"]:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=AUDIT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci in {AUDIT_DIR} failed:\n{done.stdout}\n{done.stderr}"
    return AUDIT_DIR / "audit.mjs"


@contextlib.contextmanager
def _free_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock
    finally:
        sock.close()


@contextlib.asynccontextmanager
async def uvicorn_serving(settings: Settings, engine: Engine) -> AsyncIterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1, in this event loop; yields its /graphql URL."""
    with _free_socket() as sock:
        config = uvicorn.Config(create_app(settings, engine=engine), log_level="warning", ws="none")
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # signals stay pytest's
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            host, port = sock.getsockname()
            yield f"http://{host}:{port}/graphql"
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)


async def test_every_graphql_over_http_audit_passes(
    graphql_http_audit: Path, settings: Settings, engine: Engine, workspace: Workspace
) -> None:
    # given: a token, as every field but __typename needs one
    env = {**os.environ, "GRAPHQL_TOKEN": workspace.token}
    async with uvicorn_serving(settings, engine) as url:
        # when
        node = await asyncio.create_subprocess_exec(
            "node",
            graphql_http_audit.name,
            cwd=graphql_http_audit.parent,
            env={**env, "GRAPHQL_URL": url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(node.communicate(), 120)
    # then
    assert node.returncode == 0, err.decode()
    results = json.loads(out)
    failed = [result for result in results if result["status"] != "ok"]
    assert failed == [], "\n".join(f"{r['id']} {r['status']}: {r['name']}: {r['reason']}" for r in failed)
    assert len(results) == AUDITS

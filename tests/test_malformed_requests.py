"""Requests that are not proper GraphQL requests: a 400 (a WebSocket closed 4400), never a 500.

Found by fuzzing: JSON that is not UTF-8, lone surrogates (which no database can store),
JSON nested past the decoder's recursion limit, a body that is JSON but not an object,
and multipart ``operations`` and ``map`` of other shapes.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import httpx
import hypothesis
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws import WebSocketDisconnect
from hypothesis import HealthCheck, given, note
from hypothesis import strategies as st

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.models import Group
from contactgraph.settings import Settings

from .api import Api
from .checks import snapshot
from .conftest import ADMIN_KEY
from .ws import LEGACY_WS, TRANSPORT_WS, serve

STACK_TRACE_MARKS = ("Traceback", 'File "')
BODIES = 10 * int(os.environ.get("CONTACTGRAPH_FUZZ_EXAMPLES", "6"))  # bodies the last test sends


@pytest.fixture(scope="module")
async def raw_client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The app, whose failures come back as responses (a 500) instead of being raised in the test."""
    app = create_app(settings, engine=engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def raw_api(raw_client: httpx.AsyncClient) -> Api:
    return Api(raw_client, ADMIN_KEY)


def _escaped(value: object) -> bytes:
    """JSON as an ASCII-only encoder writes it: any lone surrogate stays an escape."""
    return json.dumps(value).encode()


GROUP = (
    "mutation($name: String!) { createGroup(input: {name: $name}) { group { name } userErrors { code } } }"
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"query": "{ me { id } }", "variables": {"a": "\xff"}}', id="not-utf-8"),
        pytest.param(
            b'{"query": "{ me { id } }", "variables": {"a": "\xed\xa0\x80"}}', id="utf-8-encoded-surrogate"
        ),
        pytest.param(
            _escaped({"query": GROUP, "variables": {"name": "VIP \ud800"}}), id="escaped-lone-surrogate"
        ),
        pytest.param(
            _escaped({"query": GROUP, "variables": {"name": "VIP", "x": ["\udfff"]}}), id="in-a-list"
        ),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-too-deep"),
        pytest.param(
            b'{"query": "{ me { id } }", "variables": {"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}",
            id="deep-variables",
        ),
    ],
)
async def test_a_body_that_is_not_proper_json_text_is_a_bad_request_and_writes_nothing(
    raw_api: Api, body: bytes
) -> None:
    # given
    workspace = await raw_api.create_workspace()
    state = await snapshot()
    # when
    response = await raw_api.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {workspace.token}", "Content-Type": "application/json"},
    )
    # then
    assert (response.status_code, response.text) == (400, "Unable to parse request body as JSON")
    assert await snapshot() == state


SHAPELESS = "Not a GraphQL request: its JSON must be an object."


@pytest.mark.parametrize(
    ("content", "form"),
    [
        pytest.param(b"0", None, id="a-number"),
        pytest.param(b"null", None, id="null"),
        pytest.param(b'"{ me { id } }"', None, id="a-string"),
        pytest.param(None, {"operations": "0", "map": "{}"}, id="multipart-operations-a-number"),
        pytest.param(
            None, {"operations": '{"query": "{ me { id } }"}', "map": "0"}, id="multipart-map-a-number"
        ),
        pytest.param(
            None,
            {
                "operations": '{"query": "{ me { id } }", "variables": {"a": [1]}}',
                "map": '{"0": ["variables.a.x"]}',
            },
            id="multipart-map-path-into-a-list",
        ),
        pytest.param(
            None,
            {
                "operations": '{"query": "{ me { id } }", "variables": {"a": null}}',
                "map": '{"0": ["variables.a.b"]}',
            },
            id="multipart-map-path-through-null",
        ),
    ],
)
async def test_a_request_of_another_shape_is_a_bad_request(
    raw_api: Api, content: bytes | None, form: dict[str, str] | None
) -> None:
    # given
    workspace = await raw_api.create_workspace()
    headers = {"Authorization": f"Bearer {workspace.token}"}
    # when
    if form is None:
        response = await raw_api.client.post(
            "/graphql", content=content, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        files = {"0": ("contacts.csv", b"phone\n+14155550100\n", "text/csv")}
        response = await raw_api.client.post("/graphql", data=form, files=files, headers=headers)
    # then
    assert (response.status_code, response.text) == (400, SHAPELESS)


async def test_characters_beyond_the_basic_plane_written_as_escaped_pairs_are_read_as_themselves(
    raw_api: Api,
) -> None:
    # given
    workspace = await raw_api.create_workspace()
    body = _escaped({"query": GROUP, "variables": {"name": "VIP \U0001f600"}})
    assert b"\\ud83d\\ude00" in body
    # when
    response = await raw_api.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {workspace.token}", "Content-Type": "application/json"},
    )
    # then
    assert response.json()["data"]["createGroup"]["group"] == {"name": "VIP \U0001f600"}
    [group] = await Group.find_all().to_list()
    assert group.name == "VIP \U0001f600"


async def test_a_websocket_message_holding_a_lone_surrogate_is_malformed_json(
    settings: Settings, engine: Engine, raw_api: Api
) -> None:
    workspace = await raw_api.create_workspace()
    init = _escaped(
        {"type": "connection_init", "payload": {"authorization": f"Bearer {workspace.token}\ud800"}}
    )
    async with serve(settings, engine) as served:
        async with served.connect(TRANSPORT_WS) as socket:
            # when
            await socket.ws.send_text(init.decode())
            # then
            with pytest.raises(WebSocketDisconnect) as closed:
                await socket.receive()
            assert closed.value.code == 4400
        async with served.connect(LEGACY_WS) as socket:
            # when
            await socket.ws.send_text(init.decode())
            # then: graphql-ws passes over what it cannot read; the connection still works
            assert await socket.init(workspace.token) == {"type": "connection_ack"}


@hypothesis.settings(
    max_examples=BODIES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=10,
        ).map(lambda v: json.dumps({"query": "{ me { id } }", "variables": v}).encode()),
    )
)
async def test_any_body_is_answered_without_a_server_error(raw_api: Api, body: bytes) -> None:
    note(repr(body))
    response = await raw_api.client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    assert not any(mark in response.text for mark in STACK_TRACE_MARKS), response.text

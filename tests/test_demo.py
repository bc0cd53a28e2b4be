"""``serve --demo`` seeds a workspace through the API and prints how to use it."""

from __future__ import annotations

import re

import httpx
import pytest
from asgi_lifespan import LifespanManager

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.demo import seed_demo
from contactgraph.settings import Settings

OVERVIEW = """
{
  contacts { totalCount }
  statuses { name color }
  customFields { key type }
  withValue: contacts(filter: {customFields: [{key: "last_order_at", exists: true}]}) { totalCount }
}"""


async def test_demo_fills_a_workspace_and_prints_its_token(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    app = create_app(settings, engine=engine, seed=seed_demo)
    # when
    async with LifespanManager(app) as manager:
        printed = capsys.readouterr().out
        token = re.search(r"Bearer (cg_[\w-]+)", printed)
        assert token is not None
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/graphql", json={"query": OVERVIEW}, headers={"Authorization": f"Bearer {token.group(1)}"}
            )
    # then
    data = response.json()["data"]
    assert data["contacts"]["totalCount"] == 200
    assert all(re.fullmatch(r"#[0-9a-f]{6}", s["color"]) for s in data["statuses"])
    types = {f["type"] for f in data["customFields"]}
    assert types == {"TEXT", "TEXTAREA", "NUMBER", "DATE", "DATETIME", "DROPDOWN", "CHECKBOX", "URL"}
    assert data["withValue"]["totalCount"] > 100
    assert "sample query" in printed

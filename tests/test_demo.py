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
  groups {
    name
    agents { name permissions }
    customFields { key required clickToAction }
    dispositions { name }
  }
}"""

# What the team agent sees: the support list's members, and their calls.
TEAM = """
{
  contacts(first: 100) {
    totalCount
    edges { node {
      groups { name }
      caseNumber: customField(key: "case_number")
      timeline { edges { node { channel open details agent { name } disposition { name } } } }
    } }
  }
}"""


async def test_demo_fills_a_workspace_and_prints_its_token(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    app = create_app(settings, engine=engine, seed=seed_demo)
    # when
    async with LifespanManager(app) as manager:
        printed = capsys.readouterr().out
        token, team_token = re.findall(r"Bearer (cg_[\w-]+)", printed)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/graphql", json={"query": OVERVIEW}, headers={"Authorization": f"Bearer {token}"}
            )
            team = await client.post(
                "/graphql", json={"query": TEAM}, headers={"Authorization": f"Bearer {team_token}"}
            )
    # then
    data = response.json()["data"]
    assert data["contacts"]["totalCount"] == 200
    assert all(re.fullmatch(r"#[0-9a-f]{6}", s["color"]) for s in data["statuses"])
    types = {f["type"] for f in data["customFields"]}
    assert types == {"TEXT", "TEXTAREA", "NUMBER", "DATE", "DATETIME", "DROPDOWN", "CHECKBOX", "URL"}
    assert data["withValue"]["totalCount"] > 100
    assert "sample query" in printed
    [line] = [g for g in data["groups"] if g["agents"]]
    assert line["agents"] == [{"name": "Tess Team", "permissions": ["CONTACT_EDIT", "CONTACT_VIEW_TEAM"]}]
    assert {"key": "case_number", "required": True, "clickToAction": False} in line["customFields"]
    assert any(f["clickToAction"] for f in line["customFields"])
    assert len(line["dispositions"]) == 3
    # the team agent sees the list's members only, each with its case number, and their calls
    members = [e["node"] for e in team.json()["data"]["contacts"]["edges"]]
    assert team.json()["data"]["contacts"]["totalCount"] == len(members) == 40
    assert all(line["name"] in [g["name"] for g in m["groups"]] and m["caseNumber"] for m in members)
    calls = [e["node"] for m in members for e in m["timeline"]["edges"]]
    closed = [c for c in calls if not c["open"]]
    assert len(closed) == 20 and len(calls) > len(closed)
    assert all(c["agent"] == {"name": "Tess Team"} and c["details"]["queue"] == "support" for c in calls)
    assert all(c["disposition"] is not None for c in closed)

"""GraphiQL: its page loads its files from this server when they are installed, else from the CDN."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from contactgraph.app import create_app
from contactgraph.db import Engine
from contactgraph.graphiql import cdn_assets
from contactgraph.settings import Settings

PACKAGE_JSON = Path(__file__).parents[1] / "graphiql" / "package.json"
HTML = {"Accept": "text/html"}
UNLISTED = cdn_assets()[0].split("/")[0] + "/package.json"  # in the folder, not on the page


@asynccontextmanager
async def graphiql_app(
    settings: Settings, engine: Engine, assets: Path | None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"graphiql_assets": str(assets) if assets else None}), engine=engine
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """A stand-in for ``make graphiql``: every file the page loads, where unpkg.com keeps it."""
    for name in cdn_assets():
        file = tmp_path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"/* {name} */\n")
    (tmp_path / UNLISTED).write_text("{}")
    return tmp_path


def links(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', html)


async def test_with_local_assets_the_page_names_no_other_host(
    settings: Settings, engine: Engine, assets: Path
) -> None:
    # when
    async with graphiql_app(settings, engine, assets) as client:
        page = await client.get("/graphql", headers=HTML)
        served = {name: await client.get(f"/graphiql/{name}") for name in cdn_assets()}
    # then
    assert page.status_code == 200
    assert "unpkg.com" not in page.text
    assert sorted(link for link in links(page.text) if not link.startswith("data:")) == sorted(
        f"/graphiql/{name}" for name in cdn_assets()
    )
    for name, response in served.items():
        assert response.status_code == 200, name
        assert response.text == f"/* {name} */\n"
        assert response.headers["content-type"].startswith(
            ("text/css", "text/javascript", "application/javascript")
        )
        assert "immutable" in response.headers["cache-control"]


async def test_without_local_assets_the_page_loads_them_from_the_cdn(
    settings: Settings, engine: Engine
) -> None:
    # when
    async with graphiql_app(settings, engine, None) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get(f"/graphiql/{cdn_assets()[0]}")
    # then
    assert page.status_code == 200
    assert sorted(link for link in links(page.text) if not link.startswith("data:")) == sorted(
        f"https://unpkg.com/{name}" for name in cdn_assets()
    )
    assert asset.status_code == 404


async def test_an_incomplete_set_of_assets_leaves_the_page_on_the_cdn(
    settings: Settings, engine: Engine, assets: Path
) -> None:
    # given: one file short
    (assets / cdn_assets()[-1]).unlink()
    # when
    async with graphiql_app(settings, engine, assets) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get(f"/graphiql/{cdn_assets()[0]}")
    # then
    assert all(link.startswith(("data:", "https://unpkg.com/")) for link in links(page.text))
    assert asset.status_code == 404


@pytest.mark.parametrize("path", [UNLISTED, f"{cdn_assets()[0]}%2F..%2F..%2F..%2F{UNLISTED}", "x"])
async def test_only_the_files_the_page_loads_are_served(
    settings: Settings, engine: Engine, assets: Path, path: str
) -> None:
    # when
    async with graphiql_app(settings, engine, assets) as client:
        response = await client.get(f"/graphiql/{path}")
    # then
    assert response.status_code == 404


def test_make_graphiql_fetches_the_versions_the_page_loads() -> None:
    # given: graphiql/package.json, what graphiql/install.sh fetches
    pinned = json.loads(PACKAGE_JSON.read_text())["dependencies"]
    # when: the packages of Strawberry's page, "@scope/name@version/path" or "name@version/path"
    on_page = {re.match(r"(@[^/]+/)?[^/]+", name)[0] for name in cdn_assets()}  # type: ignore[index]
    # then
    assert {f"{name}@{version}" for name, version in pinned.items()} == on_page


@pytest.mark.parametrize(
    ("url", "location"),
    [("/", "/graphql"), ("/?q=%7B+me+%7B+id+%7D+%7D", "/graphql?q=%7B+me+%7B+id+%7D+%7D")],
)
async def test_the_root_redirects_to_graphql(client: httpx.AsyncClient, url: str, location: str) -> None:
    # when
    response = await client.get(url, headers=HTML, follow_redirects=False)
    # then: 307, temporary, so that no browser keeps it; GraphiQL reads a shared query from `q`
    assert response.status_code == 307
    assert response.headers["location"] == location
    page = await client.get(url, headers=HTML, follow_redirects=True)
    assert "graphiql" in page.text.lower()

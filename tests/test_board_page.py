"""The board page (``GET /board``) in a real browser: headless Chromium driven by Playwright.

One uvicorn server for the module, on a free port of 127.0.0.1 and in the tests' event
loop, over the suite's in-memory engine, seeded with the demo workspace through the API
as ``make run`` does. The tests share that workspace, so each reads the state it starts
from through the API. Without a Chromium the module is skipped, except on CI (``CI`` set),
where ``.ci/chromium`` installs Debian's and a missing one is a failure.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Request,
    Route,
    async_playwright,
    expect,
)

from contactgraph.app import GraphQLApp, create_app
from contactgraph.db import Engine
from contactgraph.demo import STATUSES, seed_demo
from contactgraph.documents import DOCUMENTS
from contactgraph.settings import Settings

from .api import CREATE_AGENT, CREATE_API_TOKEN, Api
from .conftest import ADMIN_KEY
from .ws import serve

CHROMIUM = (
    os.environ.get("CONTACTGRAPH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"  # gitignored
START_SECONDS = 60.0  # the demo seed takes a few seconds; more on a busy machine
LIVE_MS = 1000  # another tab shows a move within a second

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not ON_CI,
    reason="no Chromium found: install Debian's (as root: bash .ci/chromium) or set CONTACTGRAPH_CHROMIUM",
)

BOARD = """
query($filter: ContactFilter) {
  contactBoard(filter: $filter) {
    status { id name color }
    count
    contacts(first: 500) {
      edges { node { id fullName phone source { name } groups { name } assignedAgent { name } } }
    }
  }
}"""

WHERE = """
query($id: ID!) {
  contact(id: $id) {
    firstname
    status { id }
    statusHistory(first: 1) { edges { node { fromStatus { id } toStatus { id } changedBy { name } } } }
  }
}"""

MOVE = """
mutation($contactId: ID!, $statusId: ID!) {
  moveContactStatus(contactId: $contactId, statusId: $statusId) {
    contact { id } userErrors { field code message }
  }
}"""

RENAME = """
mutation($id: ID!, $firstname: String!) {
  updateContact(id: $id, input: {firstname: $firstname}) { contact { id } userErrors { field code message } }
}"""

AGENTS = "{ agents { id email } }"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """uvicorn serving the app on one port in this event loop; stopped and started again over the same data."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, seed: Callable[[GraphQLApp, str], Awaitable[None]] | None = None) -> None:
        app = create_app(self.settings, engine=self.engine, seed=seed, public_url=f"{self.url}/graphql")
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            log_level="warning",
            ws="websockets-sansio",
            timeout_graceful_shutdown=5,
        )
        self._server = server = uvicorn.Server(config)
        self._task = task = asyncio.create_task(server.serve())
        async with asyncio.timeout(START_SECONDS):
            while not server.started:  # uvicorn offers no event to wait on
                if task.done():
                    await task  # its error
                    raise RuntimeError("uvicorn stopped while starting")
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task


@dataclass
class Demo:
    """The served demo workspace: its admin token, its statuses in board order, and an API client."""

    server: Server
    api: Api
    token: str
    statuses: list[dict[str, str]]

    def status(self, name: str) -> str:
        return next(s["id"] for s in self.statuses if s["name"] == name)

    async def board(
        self, token: str | None = None, filter: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        data = await self.api.data(BOARD, {"filter": filter}, token or self.token)
        return data["contactBoard"]  # type: ignore[no-any-return]

    async def where(self, contact_id: str) -> dict[str, Any]:
        return (await self.api.data(WHERE, {"id": contact_id}, self.token))["contact"]  # type: ignore[no-any-return]

    async def token_of(self, name: str, email: str, permissions: list[str]) -> str:
        """A token of the demo's agent ``email`` (made with ``permissions`` when there is none)."""
        agents = (await self.api.data(AGENTS, token=self.token))["agents"]
        agent_id = next((a["id"] for a in agents if a["email"] == email), None)
        if agent_id is None:
            agent = {"name": name, "email": email, "permissions": permissions}
            agent_id = (await self.api.ok(CREATE_AGENT, {"input": agent}, self.token))["agent"]["id"]
        made = await self.api.ok(CREATE_API_TOKEN, {"agentId": agent_id, "name": "board test"}, self.token)
        return made["token"]  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _empty_database() -> None:
    """Replaces the suite's (emptied after every test): ``demo`` empties the database after the module."""


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("CI runs the browser tests, and found no Chromium: .ci/chromium should install it")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="module")
async def demo(settings: Settings, engine: Engine) -> AsyncIterator[Demo]:
    printed = io.StringIO()

    async def seed(graphql: GraphQLApp, url: str) -> None:
        with redirect_stdout(printed):
            await seed_demo(graphql, url)

    server = Server(settings, engine)
    await server.start(seed)
    try:
        token = re.findall(r"Bearer (cg_[\w-]+)", printed.getvalue())[0]
        async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
            api = Api(client, ADMIN_KEY)
            statuses = (await api.data("{ statuses { id name color } }", token=token))["statuses"]
            yield Demo(server, api, token, statuses)
    finally:
        await server.stop()
        for model in DOCUMENTS:
            await model.get_pymongo_collection().delete_many({})


@dataclass
class Tabs:
    """Opens board tabs, each in a browser context of its own (a tab's own session storage), and
    records every URL they request and every script error."""

    browser: Browser
    url: str
    requested: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    async def open(self, token: str) -> Page:
        context = await self.browser.new_context(viewport={"width": 1600, "height": 1000})
        self.contexts.append(context)
        context.on("request", lambda request: self.requested.append(request.url))
        page = await context.new_page()
        page.on("websocket", lambda ws: self.requested.append(ws.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console", lambda message: self.errors.append(message.text) if message.type == "error" else None
        )
        await page.goto(f"{self.url}/board")
        await page.get_by_label("API token").fill(token)
        await page.get_by_role("button", name="Open the board").click()
        await expect(page.locator("#live")).to_have_attribute("data-state", "live")
        await expect(page.locator("section.column")).to_have_count(len(STATUSES))
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def tabs(browser: Browser, demo: Demo) -> AsyncIterator[Tabs]:
    opened = Tabs(browser, demo.server.url)
    yield opened
    await opened.close()
    assert opened.errors == [], opened.errors  # no script error, no blocked request (CSP), no failed load


def column(page: Page, status_id: str) -> Locator:
    return page.locator(f'section.column[data-status-id="{status_id}"]')


def card(page: Page, contact_id: str, status_id: str | None = None) -> Locator:
    where = f'section.column[data-status-id="{status_id}"] ' if status_id else ""
    return page.locator(f'{where}li.card[data-contact-id="{contact_id}"]')


async def first_card(page: Page, status_id: str) -> str:
    contact_id = await column(page, status_id).locator("li.card").first.get_attribute("data-contact-id")
    assert contact_id is not None
    return contact_id


async def drag(page: Page, source: Locator, target: Locator) -> None:
    """Drag as a person does: press on the card, move past the drag threshold, over the column, release."""
    start = await source.bounding_box()
    end = await target.bounding_box()
    assert start is not None and end is not None
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + 10, y + 10, steps=3)
    await page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 60, steps=5)
    await page.mouse.up()


def is_move(request: Request) -> bool:
    return "moveContactStatus" in (request.post_data or "")


async def test_the_board_shows_the_demo_workspace_by_status(demo: Demo, tabs: Tabs) -> None:
    # given: the board as the API answers it
    board = await demo.board()
    # when
    page = await tabs.open(demo.token)
    # then: one column per status in position order, with its colour and count
    columns = page.locator("section.column")
    assert await columns.locator("h2").all_inner_texts() == [name for name, _ in STATUSES]
    await expect(columns.locator(".count")).to_have_text([str(c["count"]) for c in board])
    assert sum(c["count"] for c in board) == 200
    colours = await columns.locator(".swatch").evaluate_all(
        "swatches => swatches.map(s => getComputedStyle(s).backgroundColor)"
    )
    assert colours == [_rgb(colour) for _, colour in STATUSES]
    # each card shows name, phone, source, lists and assigned agent
    for shown in board:
        node = shown["contacts"]["edges"][0]["node"]
        text = await card(page, node["id"], shown["status"]["id"]).inner_text()
        agent = node["assignedAgent"]["name"] if node["assignedAgent"] else "Unassigned"
        for part in [node["fullName"], node["phone"], node["source"]["name"], agent]:
            assert part in text
        assert all(g["name"] in text for g in node["groups"])
    # a column shows a page of 20; "load more" brings the next from the column's cursor
    longest = max(board, key=lambda c: c["count"])
    cards = column(page, longest["status"]["id"]).locator("li.card")
    await expect(cards).to_have_count(20)
    await column(page, longest["status"]["id"]).get_by_role("button", name="Load more").click()
    await expect(cards).to_have_count(min(40, longest["count"]))
    expected = [e["node"]["id"] for e in longest["contacts"]["edges"][:40]]
    assert await cards.evaluate_all("cards => cards.map(c => c.dataset.contactId)") == expected
    # the token is kept in the tab's session storage, never in the address
    assert demo.token not in page.url
    assert await page.evaluate("sessionStorage.getItem('contactgraph.board.token')") == demo.token
    await page.reload()
    await expect(page.locator("section.column")).to_have_count(len(STATUSES))
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "board.png", full_page=True)


async def test_a_drag_moves_a_card_and_the_server_keeps_the_move(demo: Demo, tabs: Tabs) -> None:
    # given
    new, won = demo.status("New"), demo.status("Won")
    page = await tabs.open(demo.token)
    moved = await first_card(page, new)
    before = {c["status"]["id"]: c["count"] for c in await demo.board()}
    # when
    async with page.expect_response(lambda response: is_move(response.request)):
        await drag(page, card(page, moved), column(page, won))
    # then: the card is in its new column on the page, and on the server, with its history
    await expect(card(page, moved, won)).to_be_visible()
    await expect(column(page, won).locator(".count")).to_have_text(str(before[won] + 1))
    await expect(column(page, new).locator(".count")).to_have_text(str(before[new] - 1))
    contact = await demo.where(moved)
    assert contact["status"]["id"] == won
    me = (await demo.api.data("{ me { name } }", token=demo.token))["me"]
    [change] = [e["node"] for e in contact["statusHistory"]["edges"]]
    assert change == {"fromStatus": {"id": new}, "toStatus": {"id": won}, "changedBy": me}
    await page.reload()
    await expect(card(page, moved, won)).to_be_visible()


async def test_another_tab_sees_a_move_within_a_second(demo: Demo, tabs: Tabs) -> None:
    # given: two tabs on the board
    contacted, qualified, lost = demo.status("Contacted"), demo.status("Qualified"), demo.status("Lost")
    mover = await tabs.open(demo.token)
    watcher = await tabs.open(demo.token)
    moved = await first_card(mover, contacted)
    await expect(card(watcher, moved, contacted)).to_be_visible()
    # when: one moves a card with the keyboard (focus it, Enter, pick the column)
    await card(mover, moved).focus()
    await mover.keyboard.press("Enter")
    dialog = mover.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    async with mover.expect_response(lambda response: is_move(response.request)):
        await dialog.get_by_role("button", name="Qualified", exact=True).focus()
        await mover.keyboard.press("Enter")
    # then: the other tab shows it within a second, and the mover keeps the card focused
    await expect(card(watcher, moved, qualified)).to_be_visible(timeout=LIVE_MS)
    await expect(card(mover, moved, qualified)).to_be_focused()
    # when: someone else moves it, through the API
    await demo.api.ok(MOVE, {"contactId": moved, "statusId": lost}, demo.token)
    started = time.monotonic()
    # then: both tabs follow within a second, counts included
    for page in (mover, watcher):
        await expect(card(page, moved, lost)).to_be_visible(timeout=LIVE_MS)
    assert time.monotonic() - started < LIVE_MS / 1000
    counts = [str(c["count"]) for c in await demo.board()]
    for page in (mover, watcher):
        await expect(page.locator("section.column .count")).to_have_text(counts)


async def test_a_conflict_puts_the_card_back_where_the_server_has_it(demo: Demo, tabs: Tabs) -> None:
    # given: someone else moves the card to Lost just before this tab's move reaches the server
    new, won, lost = demo.status("New"), demo.status("Won"), demo.status("Lost")
    page = await tabs.open(demo.token)
    moved = await first_card(page, new)

    async def someone_first(route: Route) -> None:
        if is_move(route.request):
            await demo.api.ok(MOVE, {"contactId": moved, "statusId": lost}, demo.token)
        await route.continue_()

    await page.route("**/graphql", someone_first)
    # when
    async with page.expect_response(lambda response: is_move(response.request)):
        await drag(page, card(page, moved), column(page, won))
    # then: the server refused it (CONFLICT), the card is where the server has it, and the user is told
    notice = page.locator(".notice.warning")
    await expect(notice).to_contain_text("someone moved it first")
    await expect(notice).to_contain_text("It is in Lost")
    await expect(card(page, moved, lost)).to_be_visible()
    assert (await demo.where(moved))["status"]["id"] == lost
    counts = [str(c["count"]) for c in await demo.board()]
    await expect(page.locator("section.column .count")).to_have_text(counts)


async def test_a_refused_move_is_shown_and_undone(demo: Demo, tabs: Tabs) -> None:
    # given: an agent who may see contacts but not change them
    token = await demo.token_of("Val Viewer", "val@example.com", ["CONTACT_VIEW"])
    new, won = demo.status("New"), demo.status("Won")
    page = await tabs.open(token)
    moved = await first_card(page, new)
    # when
    async with page.expect_response(lambda response: is_move(response.request)):
        await drag(page, card(page, moved), column(page, won))
    # then: the userError is shown, and the card is back in its column
    await expect(page.locator(".notice.error")).to_contain_text("This needs CONTACT_EDIT.")
    await expect(card(page, moved, new)).to_be_visible()
    assert (await demo.where(moved))["status"]["id"] == new


async def test_a_view_own_token_shows_the_same_columns_with_only_its_cards(demo: Demo, tabs: Tabs) -> None:
    # given: the demo's seller, who sees the contacts assigned to him (CONTACT_VIEW_OWN)
    token = await demo.token_of("Sam Seller", "sam@example.com", ["CONTACT_VIEW_OWN", "CONTACT_EDIT"])
    his = await demo.board(token)
    everyone = await demo.board()
    # when
    page = await tabs.open(token)
    # then: the same columns, his counts, and his cards alone
    columns = page.locator("section.column")
    assert await columns.locator("h2").all_inner_texts() == [name for name, _ in STATUSES]
    await expect(columns.locator(".count")).to_have_text([str(c["count"]) for c in his])
    assert 0 < sum(c["count"] for c in his) < sum(c["count"] for c in everyone)
    for shown in his:
        ids = [e["node"]["id"] for e in shown["contacts"]["edges"]][:20]
        cards = column(page, shown["status"]["id"]).locator("li.card")
        assert await cards.evaluate_all("cards => cards.map(c => c.dataset.contactId)") == ids
    agents = await page.locator("li.card .agent").all_inner_texts()
    assert agents and set(agents) == {"Sam Seller"}


async def test_the_page_reconnects_after_a_restart_and_reads_the_board_again(
    demo: Demo, tabs: Tabs, settings: Settings, engine: Engine
) -> None:
    # given: a tab on the board
    qualified = demo.status("Qualified")
    page = await tabs.open(demo.token)
    renamed = await first_card(page, qualified)
    # when: the server stops; meanwhile another replica renames the contact (no status change, so
    # no live event: only a fresh read of the board shows it); then the server starts again
    await demo.server.stop()
    await expect(page.locator("#live")).to_have_attribute("data-state", "reconnecting")
    async with serve(settings, engine) as replica:
        await Api(replica.client, ADMIN_KEY).ok(RENAME, {"id": renamed, "firstname": "Reloaded"}, demo.token)
    await demo.server.start()
    # then
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=10_000)
    await expect(card(page, renamed, qualified).locator(".name")).to_have_text(re.compile(r"^Reloaded "))
    # the console noted the failed connections while the server was down; nothing else
    tabs.errors[:] = [e for e in tabs.errors if "WebSocket" not in e and "ERR_CONNECTION_REFUSED" not in e]


async def test_the_page_requests_nothing_from_any_other_host(demo: Demo, tabs: Tabs) -> None:
    # given: the page's own headers
    response = await demo.api.client.get("/board")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert f"connect-src 'self' ws://127.0.0.1:{demo.server.port}" in policy
    # when: a tab searches, filters by list, pages a column and moves a card
    page = await tabs.open(demo.token)
    await page.get_by_role("searchbox").fill("ana")
    searched = await demo.board(filter={"search": "ana"})
    await expect(page.locator("section.column .count")).to_have_text([str(c["count"]) for c in searched])
    await page.get_by_role("searchbox").fill("")
    everyone = await demo.board()
    await expect(page.locator("section.column .count")).to_have_text([str(c["count"]) for c in everyone])
    groups = (await demo.api.data("{ groups { id name } }", token=demo.token))["groups"]
    vip = next(g["id"] for g in groups if g["name"] == "VIP")
    await page.locator("#group").select_option(label="VIP")
    listed = await demo.board(filter={"groupIds": [vip]})
    await expect(page.locator("section.column .count")).to_have_text([str(c["count"]) for c in listed])
    await expect(page.locator("li.card .groups")).to_have_count(await page.locator("li.card").count())
    longest = max(listed, key=lambda c: c["count"])
    if longest["count"] > 20:
        await column(page, longest["status"]["id"]).get_by_role("button", name="Load more").click()
        await expect(column(page, longest["status"]["id"]).locator("li.card")).to_have_count(
            min(40, longest["count"])
        )
    moved = await first_card(page, demo.status("New"))
    async with page.expect_response(lambda response: is_move(response.request)):
        await drag(page, card(page, moved), column(page, demo.status("Contacted")))
    # then: every request went to the server: the page, its script and style sheet, /graphql and its WebSocket
    origins = {"{0.scheme}://{0.netloc}".format(urlsplit(url)) for url in tabs.requested}
    assert origins == {demo.server.url, f"ws://127.0.0.1:{demo.server.port}"}, tabs.requested
    paths = {urlsplit(url).path for url in tabs.requested}
    assert paths == {"/board", "/board/board.js", "/board/board.css", "/graphql"}


def _rgb(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"

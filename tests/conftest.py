"""One database per test run, emptied between tests; the app runs through httpx with its lifespan."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from contactgraph.app import create_app
from contactgraph.db import Engine, connect
from contactgraph.documents import DOCUMENTS
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_library

ADMIN_KEY = "test-admin-key-0123456789"
TEST_URL = os.environ.get("CONTACTGRAPH_TEST_MONGODB_URL") or "memory://"


@pytest.fixture(scope="session")
def settings() -> Settings:
    # webhook deliveries are driven by hand in tests (tests/test_webhooks.py), never in the background
    return Settings(
        mongodb_url=TEST_URL,
        database="contactgraph_test",
        admin_key=SecretStr(ADMIN_KEY),
        webhook_delivery=False,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    engine = await connect(settings.mongodb_url, settings.database, DOCUMENTS)
    for model in DOCUMENTS:
        await model.get_pymongo_collection().delete_many({})
    yield engine
    await engine.close()


@pytest.fixture(autouse=True)
async def _empty_database(engine: Engine) -> AsyncIterator[None]:
    yield
    for model in DOCUMENTS:
        await model.get_pymongo_collection().delete_many({})


@pytest.fixture(scope="session")
async def client(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client, ADMIN_KEY)


@pytest.fixture
async def workspace(api: Api) -> Workspace:
    return await api.create_workspace()


@pytest.fixture
async def library(api: Api, workspace: Workspace) -> Library:
    return await make_library(api, workspace)

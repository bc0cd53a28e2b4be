"""The main scenarios against a real MongoDB (``CONTACTGRAPH_TEST_MONGODB_URL``).

When that variable is set, conftest binds the whole suite to that server, and this
module adds what only a real server can show: the unique indexes deciding races
between concurrent requests. Without it the module is skipped.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from contactgraph.db import Engine
from contactgraph.models import Contact

from .api import CREATE_CONTACT, Api, Library, Workspace, make_contact, phone

pytestmark = pytest.mark.skipif(
    not os.environ.get("CONTACTGRAPH_TEST_MONGODB_URL"),
    reason="set CONTACTGRAPH_TEST_MONGODB_URL to run against a real MongoDB",
)

LIST = """
query($filter: ContactFilter) {
  contacts(filter: $filter, sort: {field: LASTNAME, direction: ASC}, first: 2) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { lastname status { name } groups { name } customFields { field { key } value } } }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!, $expected: DateTime) {
  updateContact(id: $id, input: $input, expectedUpdatedAt: $expected) {
    contact { lastname updatedAt }
    userErrors { field code }
  }
}"""


async def test_engine_is_a_real_server(engine: Engine) -> None:
    assert not engine.in_memory
    assert await engine.ping()


async def test_create_list_update_delete(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    for n, last in enumerate(["Young", "Adams", "Moore"]):
        await make_contact(
            api, workspace, library, lastname=last, phone=phone(n), groupIds=library.groups[:1]
        )
    # when
    page = (await api.data(LIST, {"filter": {"groupIds": library.groups[:1]}}, workspace.token))["contacts"]
    # then
    assert page["totalCount"] == 3
    assert [e["node"]["lastname"] for e in page["edges"]] == ["Adams", "Moore"]
    assert page["pageInfo"]["hasNextPage"] is True

    contact = await Contact.find_one({"lastname": "Adams"})
    assert contact is not None
    gid = (
        await api.data(
            '{ contacts(filter: {search: "adams"}) { edges { node { id updatedAt } } } }',
            token=workspace.token,
        )
    )["contacts"]["edges"][0]["node"]
    stale = gid["updatedAt"]
    updated = (
        await api.data(
            UPDATE, {"id": gid["id"], "input": {"lastname": "Adler"}, "expected": stale}, workspace.token
        )
    )["updateContact"]
    assert updated["userErrors"] == []
    conflict = (
        await api.data(
            UPDATE, {"id": gid["id"], "input": {"lastname": "Other"}, "expected": stale}, workspace.token
        )
    )["updateContact"]
    assert conflict["userErrors"] == [{"field": ["expectedUpdatedAt"], "code": "CONFLICT"}]
    assert (await Contact.get(contact.id)).lastname == "Adler"  # type: ignore[union-attr]


async def test_concurrent_creates_of_one_phone_make_one_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    variables = {
        "input": {
            "firstname": "Race",
            "lastname": "Condition",
            "phone": "+14155552671",
            "statusId": library.statuses[0],
            "sourceId": library.sources[0],
        }
    }
    results = await asyncio.gather(*(api.data(CREATE_CONTACT, variables, workspace.token) for _ in range(10)))
    payloads = [r["createContact"] for r in results]
    created = [p for p in payloads if p["contact"]]
    refused = [p for p in payloads if p["userErrors"]]
    assert len(created) == 1
    assert all(p["userErrors"][0]["code"] == "PHONE_TAKEN" for p in refused)
    assert await Contact.find({"phone": "+14155552671"}).count() == 1


async def test_email_is_unique_only_where_present(api: Api, workspace: Workspace, library: Library) -> None:
    await make_contact(api, workspace, library, phone=phone(1))
    await make_contact(api, workspace, library, phone=phone(2))
    await make_contact(api, workspace, library, phone=phone(3), email="ada@example.com")
    variables = {
        "input": {
            "firstname": "A",
            "lastname": "B",
            "phone": phone(4),
            "email": "ADA@example.com",
            "statusId": library.statuses[0],
            "sourceId": library.sources[0],
        }
    }
    payload = (await api.data(CREATE_CONTACT, variables, workspace.token))["createContact"]
    assert payload["userErrors"][0]["code"] == "EMAIL_TAKEN"
    assert await Contact.find_all().count() == 3

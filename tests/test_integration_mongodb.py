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
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.settings import Settings

from .api import CREATE_CONTACT, Api, Library, Workspace, make_contact, phone
from .conftest import ADMIN_KEY
from .test_subscriptions import SUBSCRIBE_BRIEF, heard, move, ready
from .ws import TRANSPORT_WS, serve

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


async def test_instances_hear_each_other_through_a_change_stream(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    """With a poll an hour apart, only the change stream can bring the second move."""
    # given
    assert engine.transactions, "change streams need a replica set"
    slow = settings.model_copy(update={"event_poll_seconds": 3600})
    card = await make_contact(api, workspace, library)
    new, won = library.statuses
    async with serve(slow, engine) as a, serve(slow, engine) as b, b.connect(TRANSPORT_WS) as on_b:
        await ready(on_b, workspace.token)
        await on_b.subscribe(SUBSCRIBE_BRIEF)
        await b.subscribed()
        through_a = Api(a.client, ADMIN_KEY)
        # when
        await move(through_a, workspace.token, card["id"], won)
        first = await heard(on_b)
        await move(through_a, workspace.token, card["id"], new)
        # then
        assert [first, await heard(on_b)] == [(card["id"], won), (card["id"], new)]


UPSERT_BY_PHONE = """
mutation($input: UpsertContactByPhoneInput!) {
  upsertContactByPhone(input: $input) { contact { id } userErrors { field code } }
}"""

INBOUND_DEFAULTS = """
mutation($input: WorkspaceSettingsInput!) { updateWorkspaceSettings(input: $input) { userErrors { code } } }"""

MERGE_CONTACTS = """
mutation($p: ID!, $s: ID!) { mergeContacts(primaryId: $p, secondaryId: $s) { contact { id otherPhones } userErrors { code } } }"""


async def test_concurrent_upserts_of_a_new_number_make_one_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    settings = {"inboundStatusId": library.statuses[0], "inboundSourceId": library.sources[0]}
    await api.ok(INBOUND_DEFAULTS, {"input": settings}, workspace.token)
    variables = {"input": {"phone": "+14155552671", "firstname": "Race"}}
    results = await asyncio.gather(
        *(api.data(UPSERT_BY_PHONE, variables, workspace.token) for _ in range(10))
    )
    payloads = [r["upsertContactByPhone"] for r in results]
    assert [p["userErrors"] for p in payloads if p["userErrors"]] == []
    assert len({p["contact"]["id"] for p in payloads}) == 1
    assert await Contact.find({"phone": "+14155552671"}).count() == 1
    assert await PhoneClaim.find({"phone": "+14155552671"}).count() == 1


async def test_creates_and_updates_racing_for_one_number_leave_one_holder(
    api: Api, workspace: Workspace, library: Library
) -> None:
    others = [await make_contact(api, workspace, library, phone=phone(n)) for n in range(5)]
    number = "+14155552671"
    create = {
        "input": {
            "firstname": "A",
            "lastname": "B",
            "phone": number,
            "statusId": library.statuses[0],
            "sourceId": library.sources[0],
        }
    }
    update = "mutation($id: ID!, $p: String) { updateContact(id: $id, input: {phone: $p}) { userErrors { code } } }"
    await asyncio.gather(
        *(api.data(CREATE_CONTACT, create, workspace.token) for _ in range(5)),
        *(api.data(update, {"id": c["id"], "p": number}, workspace.token) for c in others),
    )
    holders = await Contact.find({"$or": [{"phone": number}, {"other_phones": number}]}).to_list()
    assert len(holders) == 1
    [claim] = await PhoneClaim.find({"phone": number}).to_list()
    assert claim.contact_id == holders[0].id


async def test_a_merge_in_transactions_moves_the_secondarys_number(
    api: Api, workspace: Workspace, library: Library
) -> None:
    primary = await make_contact(api, workspace, library, phone=phone(1))
    secondary = await make_contact(api, workspace, library, phone=phone(2), email="a@example.com")
    payload = await api.ok(MERGE_CONTACTS, {"p": primary["id"], "s": secondary["id"]}, workspace.token)
    assert payload["contact"]["otherPhones"] == [phone(2)]
    [stored] = await Contact.find_all().to_list()
    assert stored.email == "a@example.com"
    claims = await PhoneClaim.find({"contact_id": stored.id}).to_list()
    assert {c.phone for c in claims} == {phone(1), phone(2)}


async def test_two_imports_of_overlapping_files_race_to_one_contact_per_number(
    api: Api, workspace: Workspace, library: Library
) -> None:
    from .csv_api import csv_bytes, finished, start_import

    # given: two files sharing 300 of their numbers, imported at once (their batches interleave,
    # and a bulk insert that loses a number inside a transaction falls back to one by one)
    header = ["firstname", "lastname", "phone", "status", "source"]
    first = [["A", f"L{n}", phone(n), "New", "WhatsApp"] for n in range(0, 600)]
    second = [["B", f"L{n}", phone(n), "New", "WhatsApp"] for n in range(300, 900)]
    # when
    jobs = await asyncio.gather(
        *(start_import(api, workspace.token, csv_bytes([header, *rows])) for rows in (first, second))
    )
    done = [await finished(api, workspace.token, job["job"]["id"]) for job in jobs]
    # then
    assert all(job["state"] == "DONE" for job in done)
    assert sum(job["created"] for job in done) == 900
    assert sum(job["skippedDuplicates"] + job["failed"] for job in done) == 300
    assert await Contact.find({}).count() == 900
    assert await PhoneClaim.find({}).count() == 900

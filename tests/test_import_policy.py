"""Imports obey the importer's access policy: scope, CONTACT_CREATE / CONTACT_EDIT, its own jobs.

Each test reproduces an attack of issue 9 (items 1, 5 and 6b) through HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.events import Event
from contactgraph.models import Contact
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.settings import Settings

from .api import CREATE_CONTACT, Api, Library, Workspace, make_contact, phone
from .checks import oid, snapshot
from .csv_api import IMPORT_JOB, IMPORT_JOB_ERRORS, csv_bytes, finished, run_import, start_import
from .ws import TRANSPORT_WS, serve

HEADER = ["firstname", "lastname", "phone", "email", "status", "source", "optedOut"]
VIEW_OWN_IMPORTER = ["CONTACT_VIEW_OWN", "CONTACT_IMPORT"]
VIEW_OWN_WRITER = ["CONTACT_VIEW_OWN", "CONTACT_IMPORT", "CONTACT_CREATE", "CONTACT_EDIT"]

ASSIGN = """
mutation($ids: [ID!]!, $agentId: ID) {
  assignContacts(contactIds: $ids, agentId: $agentId) { count userErrors { field code message } }
}"""

NODE = "query($id: ID!) { node(id: $id) { id ... on ImportJob { state } } }"
CANCEL = """
mutation($id: ID!) { cancelImport(id: $id) { job { id state } userErrors { field code message } } }"""
PROGRESS = "subscription($jobId: ID!) { importProgress(jobId: $jobId) { id state } }"
UPDATE_PERMISSIONS = """
mutation($id: ID!, $permissions: [Permission!]!) {
  updateAgentPermissions(id: $id, permissions: $permissions) { agent { id } userErrors { field code message } }
}"""


def _row(n: int, first: str = "Mallory", email: str = "", opted_out: str = "yes") -> list[str]:
    return [first, f"Row{n}", phone(n), email, "Won", "Website", opted_out]


async def _errors(api: Api, token: str, job_id: str) -> list[tuple[int, str | None, str, str]]:
    data = await api.data(IMPORT_JOB_ERRORS, {"id": job_id, "first": 500}, token)
    return [(e["row"], e["column"], e["code"], e["message"]) for e in data["importJob"]["errors"]]


async def _contact_and_events(contact_id: str) -> tuple[Contact | None, int]:
    contact = await Contact.get(oid(contact_id))
    return contact, await Event.find({"contact_id": oid(contact_id)}).count()


async def _create_refusal(api: Api, token: str, library: Library, number: str) -> tuple[str, str]:
    """What ``createContact`` answers the same caller for a contact with this number."""
    data = {
        "firstname": "Mallory",
        "lastname": "Row",
        "phone": number,
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
    }
    [error] = (await api.data(CREATE_CONTACT, {"input": data}, token))["createContact"]["userErrors"]
    return error["code"], error["message"]


# ---------------------------------------------------------------- item 1: scope and permissions


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
@pytest.mark.parametrize("on_duplicate", ["UPDATE", "SKIP"])
@pytest.mark.parametrize(
    "permissions", [VIEW_OWN_IMPORTER, VIEW_OWN_WRITER], ids=["view-own", "view-own-writer"]
)
async def test_a_view_own_importer_never_touches_nor_reveals_a_contact_out_of_its_sight(
    api: Api,
    workspace: Workspace,
    library: Library,
    permissions: list[str],
    on_duplicate: str,
    dry_run: bool,
) -> None:
    # given: a contact nobody assigned to the importer
    hidden = await make_contact(api, workspace, library, phone=phone(1), email="ada@example.com")
    before = await _contact_and_events(hidden["id"])
    _, token = await api.agent_token(workspace, permissions)
    data = csv_bytes([HEADER, _row(1, email="mallory@example.com")])
    # when: a row with its phone, to update it (name, email, opt-out, status)
    job = await run_import(api, token, data, {"onDuplicate": on_duplicate, "dryRun": dry_run})
    # then: it stays as it was, and the row fails as createContact fails for this caller
    assert (job["state"], job["updated"], job["created"], job["skippedDuplicates"]) == ("DONE", 0, 0, 0)
    assert job["failed"] == 1
    assert await _contact_and_events(hidden["id"]) == before
    [(row, column, code, message)] = await _errors(api, token, job["id"])
    if "CONTACT_CREATE" in permissions:
        assert (row, column, code) == (2, "phone", "PHONE_TAKEN")
        assert (code, message) == await _create_refusal(api, token, library, phone(1))
    else:
        assert (row, column, code) == (2, None, "FORBIDDEN") and "CONTACT_CREATE" in message
    assert "ada" not in message.casefold() and hidden["lastname"] not in message


async def test_an_email_out_of_sight_refuses_the_row_without_matching_its_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    hidden = await make_contact(api, workspace, library, phone=phone(1), email="ada@example.com")
    before = await _contact_and_events(hidden["id"])
    _, token = await api.agent_token(workspace, VIEW_OWN_WRITER)
    data = csv_bytes([HEADER, _row(2, email="ADA@example.com")])
    # when
    job = await run_import(api, token, data, {"duplicateCheck": ["EMAIL"], "onDuplicate": "UPDATE"})
    # then
    assert (job["updated"], job["created"], job["failed"]) == (0, 0, 1)
    [(_, column, code, message)] = await _errors(api, token, job["id"])
    assert (column, code, message) == (
        "email",
        "EMAIL_TAKEN",
        "Another contact has the email ada@example.com.",
    )
    assert await _contact_and_events(hidden["id"]) == before
    assert await Contact.find({}).count() == 1


async def test_a_view_own_importer_updates_the_contacts_assigned_to_it(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: one contact assigned to the importer, one not
    agent_id, token = await api.agent_token(workspace, VIEW_OWN_WRITER)
    own = await make_contact(api, workspace, library, phone=phone(1))
    other = await make_contact(api, workspace, library, phone=phone(2))
    await api.ok(ASSIGN, {"ids": [own["id"]], "agentId": agent_id}, workspace.token)
    before = await _contact_and_events(other["id"])
    # when
    job = await run_import(api, token, csv_bytes([HEADER, _row(1), _row(2)]), {"onDuplicate": "UPDATE"})
    # then
    assert (job["updated"], job["created"], job["failed"]) == (1, 0, 1)
    updated = await Contact.get(oid(own["id"]))
    assert updated is not None and (updated.firstname, updated.opted_out) == ("Mallory", True)
    assert await _contact_and_events(other["id"]) == before
    assert [(r, c) for r, _, c, _ in await _errors(api, token, job["id"])] == [(3, "PHONE_TAKEN")]


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
async def test_without_contact_create_an_import_creates_nothing(
    api: Api, workspace: Workspace, library: Library, dry_run: bool
) -> None:
    # given: an importer who sees every contact but may not create one
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_IMPORT", "CONTACT_EDIT"])
    before = await snapshot()
    # when
    job = await run_import(api, token, csv_bytes([HEADER, _row(1), _row(2)]), {"dryRun": dry_run})
    # then
    assert (job["state"], job["created"], job["failed"]) == ("DONE", 0, 2)
    assert [(r, code) for r, _, code, _ in await _errors(api, token, job["id"])] == [
        (2, "FORBIDDEN"),
        (3, "FORBIDDEN"),
    ]
    after = await snapshot()
    for collection in ("contacts", "events", "phone_claims"):
        assert after[collection] == before[collection]


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
async def test_without_contact_edit_an_import_updates_nothing(
    api: Api, workspace: Workspace, library: Library, dry_run: bool
) -> None:
    # given
    existing = await make_contact(api, workspace, library, phone=phone(1))
    before = await _contact_and_events(existing["id"])
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_IMPORT", "CONTACT_CREATE"])
    # when
    job = await run_import(
        api, token, csv_bytes([HEADER, _row(1), _row(2)]), {"onDuplicate": "UPDATE", "dryRun": dry_run}
    )
    # then: the new row is created, the update refused
    assert (job["created"], job["updated"], job["failed"]) == (1, 0, 1)
    [(row, _, code, message)] = await _errors(api, token, job["id"])
    assert (row, code) == (2, "FORBIDDEN") and "CONTACT_EDIT" in message
    assert await _contact_and_events(existing["id"]) == before


@pytest.mark.parametrize(
    ("left", "state", "code"),
    [
        (["CONTACT_VIEW", "CONTACT_IMPORT"], "DONE", "FORBIDDEN"),
        (["CONTACT_VIEW", "CONTACT_CREATE"], "FAILED", None),
    ],
    ids=["create-taken-away", "import-taken-away"],
)
async def test_each_batch_obeys_the_importers_permissions_as_they_are_now(
    settings: Settings,
    engine: Engine,
    workspace: Workspace,
    library: Library,
    left: list[str],
    state: str,
    code: str | None,
) -> None:
    async with serve(settings.model_copy(update={"import_batch_size": 10}), engine) as served:
        api = Api(served.client, "")
        # given: a job under way
        agent_id, token = await api.agent_token(
            workspace, ["CONTACT_VIEW", "CONTACT_IMPORT", "CONTACT_CREATE"]
        )
        rows = [HEADER, *(_row(n) for n in range(3_000))]
        payload = await start_import(api, token, csv_bytes(rows), {"dryRun": True})
        # when: a permission is taken away while it runs
        await api.ok(UPDATE_PERMISSIONS, {"id": agent_id, "permissions": left}, workspace.token)
        job = await finished(api, workspace.token, payload["job"]["id"])
        errors = await _errors(api, workspace.token, job["id"])
    # then: the batches after it create nothing, or the job stops
    assert job["state"] == state and job["created"] < 3_000
    if code is None:
        assert job["failed"] == 0 and "may no longer import" in job["failure"]
    else:
        assert job["failed"] > 0 and job["created"] + job["failed"] == 3_000
        assert errors[0][2:] == (code, "Creating a contact needs the CONTACT_CREATE permission.")


# ---------------------------------------------------------------- item 5: one's own jobs


async def test_an_importer_without_contact_view_reads_only_its_own_jobs(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a job of the workspace's admin, with a failed row holding a customer's data
    rows = [HEADER, ["Ada", "Secret", phone(1), "ada@example.com", "Lost", "Website", ""]]
    job = await run_import(api, workspace.token, csv_bytes(rows))
    _, stranger = await api.agent_token(workspace, VIEW_OWN_WRITER, email="own@example.com")
    _, reader = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_IMPORT"], email="all@example.com")
    url = f"/imports/{job['id']}/errors.csv"
    seen: dict[str, list[Any]] = {}
    async with serve(settings, engine) as served:
        for name, token in (("stranger", stranger), ("reader", reader)):
            # when
            read = (await api.data(IMPORT_JOB, {"id": job["id"]}, token))["importJob"]
            node = (await api.data(NODE, {"id": job["id"]}, token))["node"]
            cancel = (await api.data(CANCEL, {"id": job["id"]}, token))["cancelImport"]["userErrors"]
            report = await api.client.get(url, headers={"Authorization": f"Bearer {token}"})
            async with served.connect(TRANSPORT_WS) as socket:
                await socket.init(token)
                await socket.subscribe(PROGRESS, {"jobId": job["id"]})
                progress = await socket.receive()
            seen[name] = [read, node, [e["code"] for e in cancel], report, progress]
    # then: the stranger learns nothing of it
    read, node, cancel, report, progress = seen["stranger"]
    assert (read, node, cancel, report.status_code) == (None, None, ["NOT_FOUND"], 404)
    assert b"Secret" not in report.content
    assert progress["type"] == "error" and progress["payload"][0]["extensions"]["code"] == "NOT_FOUND"
    # and CONTACT_VIEW with CONTACT_IMPORT reads every job of the workspace
    read, node, cancel, report, progress = seen["reader"]
    assert read["id"] == node["id"] == job["id"]
    assert cancel == ["BLOCKED"]  # found: it is DONE already
    assert report.status_code == 200 and b"Secret" in report.content
    assert progress["type"] == "next" and progress["payload"]["data"]["importProgress"]["state"] == "DONE"


async def test_a_view_own_importer_reads_its_own_job_and_report(
    api: Api, workspace: Workspace, library: Library
) -> None:
    _, token = await api.agent_token(workspace, VIEW_OWN_WRITER)
    job = await run_import(api, token, csv_bytes([HEADER, _row(1), ["", "", "nope", "", "", "", ""]]))
    report = await api.client.get(
        f"/imports/{job['id']}/errors.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert (job["created"], job["failed"]) == (1, 1)
    assert report.status_code == 200 and b"nope" in report.content


# ---------------------------------------------------------------- item 6b: a match by email keeps its phone


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
async def test_a_match_by_email_never_replaces_the_contacts_main_phone(
    api: Api, workspace: Workspace, library: Library, dry_run: bool
) -> None:
    # given
    existing = await make_contact(api, workspace, library, phone=phone(1), email="ada@example.com")
    data = csv_bytes([HEADER, _row(9, email="ada@example.com")])
    # when
    job = await run_import(
        api, workspace.token, data, {"duplicateCheck": ["EMAIL"], "onDuplicate": "UPDATE", "dryRun": dry_run}
    )
    # then: the row's number joins its other phones, claimed for it; its main phone stays held
    assert (job["updated"], job["created"], job["failed"]) == (1, 0, 0)
    contact = await Contact.get(oid(existing["id"]))
    assert contact is not None and contact.phone == phone(1)
    claims = sorted(c.phone for c in await PhoneClaim.find({"contact_id": contact.id}).to_list())
    if dry_run:
        assert (contact.other_phones, claims) == ([], [phone(1)])
    else:
        assert (contact.other_phones, claims) == ([phone(9)], [phone(1), phone(9)])
        assert contact.firstname == "Mallory"


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
async def test_a_match_by_email_whose_row_phone_another_contact_holds_fails_the_row(
    api: Api, workspace: Workspace, library: Library, dry_run: bool
) -> None:
    # given: the row's email is one contact's, its phone another's
    matched = await make_contact(api, workspace, library, phone=phone(1), email="ada@example.com")
    holder = await make_contact(api, workspace, library, phone=phone(2), email="bob@example.com")
    before = [await _contact_and_events(c["id"]) for c in (matched, holder)]
    data = csv_bytes([HEADER, _row(2, email="ada@example.com")])
    # when
    job = await run_import(
        api, workspace.token, data, {"duplicateCheck": ["EMAIL"], "onDuplicate": "UPDATE", "dryRun": dry_run}
    )
    # then
    assert (job["updated"], job["failed"]) == (0, 1)
    assert [(c, code) for _, c, code, _ in await _errors(api, workspace.token, job["id"])] == [
        ("phone", "PHONE_TAKEN")
    ]
    assert [await _contact_and_events(c["id"]) for c in (matched, holder)] == before

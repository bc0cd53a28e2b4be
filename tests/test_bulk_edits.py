"""updateContacts: one patch for the contacts named or filtered, all or nothing, events per contact,
and a job for a large selection."""

from __future__ import annotations

from typing import Any

from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.events.webhooks import WebhookDelivery
from contactgraph.models import Contact
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import assert_rejected, errors_of, oid, payload_of, phantom, snapshot
from .conftest import ADMIN_KEY
from .ws import TRANSPORT_WS, serve

UPDATE_CONTACTS = """
mutation($ids: [ID!], $filter: ContactFilter, $patch: ContactBulkPatch!) {
  updateContacts(ids: $ids, filter: $filter, patch: $patch) {
    count
    job { id kind state totalRows }
    userErrors { field code message }
  }
}"""

CONTACT = """
query($id: ID!) {
  contact(id: $id) {
    type optedOut status { name } source { name } groups { name } assignedAgent { id }
    customFields { field { key } value }
    statusHistory { edges { node { fromStatus { name } toStatus { name } changedBy { id } } } }
  }
}"""

SUBSCRIBE = "subscription { contactStatusChanged { contact { id } toStatus { name } changedBy { id } } }"

PROGRESS = """
subscription($jobId: ID!) {
  importProgress(jobId: $jobId) { id kind state totalRows processedRows updated skippedDuplicates failed }
}"""

CREATE_WEBHOOK = """
mutation { createWebhook(input: {url: "https://93.184.215.14/hook", events: [CONTACT_STATUS_CHANGED]})
  { webhook { id } userErrors { code } } }"""


async def _contacts(
    api: Api, workspace: Workspace, library: Library, count: int, start: int = 0, **values: Any
) -> list[str]:
    return [
        (await make_contact(api, workspace, library, firstname=f"P{n}", phone=phone(n), **values))["id"]
        for n in range(start, start + count)
    ]


async def _contact(api: Api, token: str, contact_id: str) -> dict[str, Any]:
    return (await api.data(CONTACT, {"id": contact_id}, token))["contact"]  # type: ignore[no-any-return]


async def test_a_bulk_edit_changes_every_selected_contact_with_an_event_each(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: three contacts in New, one in Won already; a custom field
    await make_custom_field(api, workspace, "budget", "NUMBER")
    ids = await _contacts(api, workspace, library, 3)
    won = await make_contact(
        api, workspace, library, firstname="W", phone=phone(9), statusId=library.statuses[1]
    )
    patch = {
        "statusId": library.statuses[1],
        "sourceId": library.sources[1],
        "type": "CUSTOMER",
        "assignedAgentId": workspace.agent_id,
        "addGroupIds": [library.groups[0]],
        "customFields": [{"key": "budget", "value": 1500}],
    }
    # when: every contact of New
    payload = await api.ok(
        UPDATE_CONTACTS, {"filter": {"statusIds": [library.statuses[0]]}, "patch": patch}, workspace.token
    )
    # then
    assert (payload["count"], payload["job"]) == (3, None)
    for contact_id in ids:
        contact = await _contact(api, workspace.token, contact_id)
        assert contact | {"statusHistory": None} == {
            "type": "CUSTOMER",
            "optedOut": False,
            "status": {"name": "Won"},
            "source": {"name": "Website"},
            "groups": [{"name": "VIP"}],
            "assignedAgent": {"id": workspace.agent_id},
            "customFields": [{"field": {"key": "budget"}, "value": 1500}],
            "statusHistory": None,
        }
        [update] = await Event.find(
            {"contact_id": oid(contact_id), "type": EventType.UPDATED.value}
        ).to_list()
        assert update.data["changed"] == sorted(
            ["status_id", "source_id", "type", "assigned_agent_id", "group_ids", "custom_values"]
        )
    assert (await _contact(api, workspace.token, won["id"]))["type"] == "LEAD"  # not selected


async def test_a_bulk_edit_is_refused_as_a_whole_for_one_bad_value(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "budget", "NUMBER")
    ids = await _contacts(api, workspace, library, 3)
    before = await snapshot()
    patch = {"statusId": library.statuses[1], "customFields": [{"key": "budget", "value": "lots"}]}
    # when
    data = await api.data(UPDATE_CONTACTS, {"ids": ids, "patch": patch}, workspace.token)
    # then: the value at fault is named, and no contact was written, no event recorded
    assert_rejected(data, "INVALID", ["patch", "customFields", "0", "value"])
    assert await snapshot() == before


async def test_a_bulk_edit_asks_the_list_rules_of_every_contact_and_names_those_refused(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a field of the VIP list; Ada is in VIP, Bo in the newsletter only
    vip, newsletter = library.groups
    await make_custom_field(api, workspace, "tier", "TEXT", groupId=vip)
    ada = await make_contact(api, workspace, library, phone=phone(1), groupIds=[vip])
    bo = await make_contact(
        api, workspace, library, firstname="Bo", lastname="Diddley", phone=phone(2), groupIds=[newsletter]
    )
    before = await snapshot()
    # when: both get a VIP value
    outside = payload_of(
        await api.data(
            UPDATE_CONTACTS,
            {"ids": [ada["id"], bo["id"]], "patch": {"customFields": [{"key": "tier", "value": "gold"}]}},
            workspace.token,
        )
    )
    # then: Bo is named, and nothing is written
    assert errors_of(outside) == [("INVALID", ["patch", "customFields", "0", "key"])]
    assert (
        "Bo Diddley" in outside["userErrors"][0]["message"]
        and "Ada" not in outside["userErrors"][0]["message"]
    )
    assert await snapshot() == before
    # when: the workspace requires a group, and Ada would leave her only one
    await api.ok(
        """mutation($g: ID!) { updateWorkspaceSettings(input: {requireGroup: true, defaultGroupId: $g})
        { userErrors { code } } }""",
        {"g": newsletter},
        workspace.token,
    )
    left = await api.data(
        UPDATE_CONTACTS, {"ids": [ada["id"]], "patch": {"removeGroupIds": [vip]}}, workspace.token
    )
    # then
    assert_rejected(left, "REQUIRED", ["patch", "removeGroupIds"])


async def test_a_bulk_edit_checks_the_patch_whole_and_the_selection(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    [contact] = await _contacts(api, workspace, library, 1)
    gone = phantom(contact)
    # when
    both = await api.data(
        UPDATE_CONTACTS, {"ids": [contact], "filter": {}, "patch": {"type": "GUEST"}}, workspace.token
    )
    nothing = await api.data(UPDATE_CONTACTS, {"ids": [contact], "patch": {}}, workspace.token)
    many = payload_of(
        await api.data(
            UPDATE_CONTACTS,
            {
                "ids": [contact, gone],
                "patch": {
                    "statusId": library.groups[0],
                    "addGroupIds": [library.groups[0]],
                    "removeGroupIds": [library.groups[0]],
                    "assignedAgentId": workspace.agent_id,
                    "unassign": True,
                },
            },
            workspace.token,
        )
    )
    # then
    assert_rejected(both, "INVALID", ["ids"])
    assert_rejected(nothing, "INVALID", ["patch"])
    assert sorted(errors_of(many), key=str) == sorted(
        [
            ("NOT_FOUND", ["patch", "statusId"]),
            ("INVALID", ["patch", "unassign"]),
            ("INVALID", ["patch", "removeGroupIds"]),
            ("NOT_FOUND", ["ids", "1"]),
        ],
        key=str,
    )


async def test_a_bulk_edit_changes_only_contacts_the_caller_may_edit(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: an agent who sees its own contacts, one of three
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN", "CONTACT_EDIT"])
    _, viewer = await api.agent_token(workspace, ["CONTACT_VIEW"], email="viewer@example.com")
    mine, *others = await _contacts(api, workspace, library, 3)
    await api.ok(
        "mutation($ids: [ID!]!, $a: ID) { assignContacts(contactIds: $ids, agentId: $a) { count userErrors { code } } }",
        {"ids": [mine], "a": agent_id},
        token=workspace.token,
    )
    # when
    by_filter = await api.ok(UPDATE_CONTACTS, {"filter": {}, "patch": {"type": "GUEST"}}, token)
    by_ids = await api.data(UPDATE_CONTACTS, {"ids": others, "patch": {"type": "GUEST"}}, token)
    without_edit = await api.data(UPDATE_CONTACTS, {"filter": {}, "patch": {"type": "GUEST"}}, viewer)
    # then
    assert by_filter["count"] == 1
    assert sorted(errors_of(payload_of(by_ids))) == [("NOT_FOUND", ["ids", "0"]), ("NOT_FOUND", ["ids", "1"])]
    assert_rejected(without_edit, "FORBIDDEN", None)
    types = {c.id: c.type for c in await Contact.find_all().to_list()}
    assert [types[oid(i)] for i in (mine, *others)] == ["GUEST", "LEAD", "LEAD"]


async def test_a_bulk_status_change_is_heard_by_a_subscriber_kept_in_the_history_and_sent_to_webhooks(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    won = library.statuses[1]
    ids = await _contacts(api, workspace, library, 2)
    await api.ok(CREATE_WEBHOOK, None, workspace.token)
    fast = settings.model_copy(update={"event_poll_seconds": 0.01})
    async with serve(fast, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        assert (await socket.init(workspace.token))["type"] == "connection_ack"
        await socket.subscribe(SUBSCRIBE)
        await served.subscribed()
        # when
        payload = await here.ok(UPDATE_CONTACTS, {"ids": ids, "patch": {"statusId": won}}, workspace.token)
        heard = [(await socket.data())["contactStatusChanged"] for _ in ids]
        await socket.stop()
        await served.subscribed(0)
    # then: each move heard, each in its contact's history, each owed to the webhook
    assert payload["count"] == 2
    assert sorted(h["contact"]["id"] for h in heard) == sorted(ids)
    assert all(
        h["toStatus"] == {"name": "Won"} and h["changedBy"] == {"id": workspace.agent_id} for h in heard
    )
    for contact_id in ids:
        history = (await _contact(api, workspace.token, contact_id))["statusHistory"]["edges"]
        assert [e["node"] for e in history] == [
            {
                "fromStatus": {"name": "New"},
                "toStatus": {"name": "Won"},
                "changedBy": {"id": workspace.agent_id},
            }
        ]
    deliveries = await WebhookDelivery.find({"event_type": EventType.STATUS_CHANGED.value}).to_list()
    assert len(deliveries) == 2


async def test_a_bulk_edit_of_more_contacts_than_allowed_is_refused(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a server that changes at most 2 contacts in one edit
    ids = await _contacts(api, workspace, library, 3)
    small = settings.model_copy(update={"bulk_edit_max": 2})
    async with serve(small, engine) as served:
        here = Api(served.client, ADMIN_KEY)
        # when
        by_filter = await here.data(
            UPDATE_CONTACTS, {"filter": {}, "patch": {"type": "GUEST"}}, workspace.token
        )
        by_ids = await here.data(UPDATE_CONTACTS, {"ids": ids, "patch": {"type": "GUEST"}}, workspace.token)
    # then
    payload = assert_rejected(by_filter, "LIMIT_EXCEEDED", ["filter"])
    assert "3 contacts" in payload["userErrors"][0]["message"]
    assert_rejected(by_ids, "LIMIT_EXCEEDED", ["ids"])
    assert {c.type.value for c in await Contact.find_all().to_list()} == {"LEAD"}


async def test_a_large_bulk_edit_runs_as_a_job_its_agent_follows(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a server that edits at most 2 contacts in the request and 2 at a time in a job; an agent
    # who may see and edit contacts, not import them; 5 contacts, one already a customer
    ids = await _contacts(api, workspace, library, 4)
    ids += await _contacts(api, workspace, library, 1, start=4, type="CUSTOMER")
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"])
    small = settings.model_copy(update={"bulk_edit_inline_max": 2, "import_batch_size": 2})
    async with serve(small, engine) as served, served.connect(TRANSPORT_WS) as socket:
        here = Api(served.client, ADMIN_KEY)
        # when
        payload = await here.ok(UPDATE_CONTACTS, {"filter": {}, "patch": {"type": "CUSTOMER"}}, token)
        job = payload["job"]
        assert (await socket.init(token))["type"] == "connection_ack"
        await socket.subscribe(PROGRESS, {"jobId": job["id"]})
        seen = [(await socket.data())["importProgress"]]
        while seen[-1]["state"] not in ("DONE", "FAILED", "CANCELLED"):
            seen.append((await socket.data())["importProgress"])
        read = await here.data(
            "query($id: ID!) { importJob(id: $id) { kind state updated } }", {"id": job["id"]}, token
        )
    # then: the call answered at once with the job; the job changed the four leads
    assert payload["count"] == 0
    assert (job["kind"], job["totalRows"]) == ("BULK_EDIT", 5)
    assert seen[-1] | {"id": job["id"]} == {
        "id": job["id"],
        "kind": "BULK_EDIT",
        "state": "DONE",
        "totalRows": 5,
        "processedRows": 5,
        "updated": 4,
        "skippedDuplicates": 1,
        "failed": 0,
    }
    assert read["importJob"] == {"kind": "BULK_EDIT", "state": "DONE", "updated": 4}
    assert {c.type.value for c in await Contact.find_all().to_list()} == {"CUSTOMER"}
    updates = await Event.find({"type": EventType.UPDATED.value}).to_list()
    assert len(updates) == 4 and all(e.data["via"]["kind"] == "BULK_EDIT" for e in updates)

"""mergeContacts: the secondary folded into the primary, resumable when cut short, dry-runnable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from contactgraph.events import Event, EventType
from contactgraph.models import Contact
from contactgraph.models.interaction import Interaction
from contactgraph.models.merge import MergeRecord
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.resolvers import merge

from .api import CREATE_CONTACT, Api, Library, Workspace, make_contact, make_custom_field, make_library, phone
from .checks import assert_rejected, oid, snapshot, top_level_code

CONTACT = """
  id firstname lastname email company city phone otherPhones optedOut optedOutAt
  status { id } groups { id } customFields { field { key } value }
"""

MERGE = f"""
mutation($p: ID!, $s: ID!, $choices: [MergeFieldChoice!], $dryRun: Boolean) {{
  mergeContacts(primaryId: $p, secondaryId: $s, choices: $choices, dryRun: $dryRun) {{
    contact {{ {CONTACT} }}
    userErrors {{ field code message }}
  }}
}}"""

READ = f"""
query($id: ID!, $phone: String) {{
  byId: contact(id: $id) {{ id }}
  byPhone: contact(phone: $phone) {{ id }}
  node(id: $id) {{ id ... on Contact {{ {CONTACT} }} }}
}}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { optedOutAt } userErrors { code } } }"""

RECORD = """
mutation($input: InteractionInput!) {
  recordInteraction(input: $input) { interaction { id } userErrors { field code } }
}"""

PRIMARY_PHONE, SECONDARY_PHONE = phone(1), phone(2)


class Pair:
    """A primary and a secondary with something of each kind to merge."""

    def __init__(self, primary: dict[str, Any], secondary: dict[str, Any], opted_out_at: str) -> None:
        self.primary = primary
        self.secondary = secondary
        self.opted_out_at = opted_out_at

    def ids(self, **extra: Any) -> dict[str, Any]:
        return {"p": self.primary["id"], "s": self.secondary["id"], **extra}


@pytest.fixture
async def pair(api: Api, workspace: Workspace, library: Library) -> Pair:
    await make_custom_field(api, workspace, "plan", "TEXT")
    await make_custom_field(api, workspace, "seats", "NUMBER")
    primary = await make_contact(
        api,
        workspace,
        library,
        phone=PRIMARY_PHONE,
        company="Engines Ltd",
        groupIds=[library.groups[0]],
        customFields=[{"key": "plan", "value": "pro"}],
    )
    secondary = await make_contact(
        api,
        workspace,
        library,
        firstname="Augusta",
        lastname="King",
        phone=SECONDARY_PHONE,
        email="augusta@example.com",
        company="Other Co",
        city="London",
        groupIds=[library.groups[1], library.groups[0]],
        customFields=[{"key": "plan", "value": "basic"}, {"key": "seats", "value": 3}],
    )
    await api.ok(UPDATE, {"id": secondary["id"], "input": {"statusId": library.statuses[1]}}, workspace.token)
    opted = await api.ok(OPT_OUT, {"id": secondary["id"]}, workspace.token)
    interaction = {"contactId": secondary["id"], "channel": "whatsapp", "direction": "inbound"}
    await api.ok(RECORD, {"input": interaction}, workspace.token)
    return Pair(primary, secondary, opted["contact"]["optedOutAt"])


def values(contact: dict[str, Any]) -> dict[str, Any]:
    return {item["field"]["key"]: item["value"] for item in contact["customFields"]}


async def assert_merged(pair: Pair, library: Library) -> Contact:
    """What the database holds after the pair's merge, however many runs it took."""
    primary_id, secondary_id = oid(pair.primary["id"]), oid(pair.secondary["id"])
    [stored] = await Contact.find_all().to_list()
    assert stored.id == primary_id
    assert stored.merged_ids == [secondary_id]
    assert stored.other_phones == [SECONDARY_PHONE]
    claims = {c.phone: c.contact_id for c in await PhoneClaim.find_all().to_list()}
    assert claims == {PRIMARY_PHONE: primary_id, SECONDARY_PHONE: primary_id}
    history = await Event.find({"type": EventType.STATUS_CHANGED.value}).to_list()
    assert [e.contact_id for e in history] == [primary_id]
    assert [i.contact_id for i in await Interaction.find_all().to_list()] == [primary_id]
    [merged] = await Event.find({"type": EventType.MERGED.value}).to_list()
    assert merged.contact_id == primary_id
    assert merged.data["primary"]["_id"] == primary_id and merged.data["primary"]["email"] is None
    assert merged.data["secondary"]["_id"] == secondary_id
    assert merged.data["secondary"]["email"] == "augusta@example.com"
    [deleted] = await Event.find({"type": EventType.DELETED.value}).to_list()
    assert deleted.contact_id == secondary_id
    [record] = await MergeRecord.find_all().to_list()
    assert record.finished_at is not None
    return stored


async def test_the_primary_keeps_its_values_and_takes_the_rest_from_the_secondary(
    api: Api, workspace: Workspace, library: Library, pair: Pair
) -> None:
    # when
    payload = await api.ok(MERGE, pair.ids(), workspace.token)
    # then
    contact = payload["contact"]
    assert contact["id"] == pair.primary["id"]
    assert (contact["firstname"], contact["lastname"], contact["company"]) == (
        "Ada",
        "Lovelace",
        "Engines Ltd",
    )
    assert (contact["email"], contact["city"]) == ("augusta@example.com", "London")
    assert contact["status"]["id"] == library.statuses[0]
    assert [g["id"] for g in contact["groups"]] == [library.groups[0], library.groups[1]]
    assert values(contact) == {"plan": "pro", "seats": 3}
    assert (contact["phone"], contact["otherPhones"]) == (PRIMARY_PHONE, [SECONDARY_PHONE])
    assert (contact["optedOut"], contact["optedOutAt"]) == (True, pair.opted_out_at)
    stored = await assert_merged(pair, library)
    assert stored.email == "augusta@example.com"


async def test_the_secondarys_id_and_phone_resolve_to_the_primary(
    api: Api, workspace: Workspace, library: Library, pair: Pair
) -> None:
    # given
    await api.ok(MERGE, pair.ids(), workspace.token)
    # when
    data = await api.data(READ, {"id": pair.secondary["id"], "phone": SECONDARY_PHONE}, workspace.token)
    # then
    assert data["byId"]["id"] == data["byPhone"]["id"] == data["node"]["id"] == pair.primary["id"]
    assert data["node"]["otherPhones"] == [SECONDARY_PHONE]


async def test_the_secondarys_phone_stays_taken_by_the_primary(
    api: Api, workspace: Workspace, library: Library, pair: Pair
) -> None:
    # given
    await api.ok(MERGE, pair.ids(), workspace.token)
    third = await make_contact(api, workspace, library, phone=phone(3))
    before = await snapshot()
    # when
    created = await api.data(
        CREATE_CONTACT,
        {
            "input": {
                "firstname": "E",
                "lastname": "F",
                "phone": SECONDARY_PHONE,
                "statusId": library.statuses[0],
                "sourceId": library.sources[0],
            }
        },
        workspace.token,
    )
    updated = await api.data(
        UPDATE, {"id": third["id"], "input": {"phone": SECONDARY_PHONE}}, workspace.token
    )
    # then
    assert_rejected(created, "PHONE_TAKEN", ["input", "phone"])
    assert_rejected(updated, "PHONE_TAKEN", ["input", "phone"])
    assert await snapshot() == before


async def test_choices_take_a_field_from_the_side_named(
    api: Api, workspace: Workspace, library: Library, pair: Pair
) -> None:
    # given: both have an email
    await api.ok(UPDATE, {"id": pair.primary["id"], "input": {"email": "ada@example.com"}}, workspace.token)
    choices = [
        {"field": "email", "take": "SECONDARY"},
        {"field": "firstname", "take": "SECONDARY"},
        {"field": "statusId", "take": "SECONDARY"},
        {"field": "city", "take": "PRIMARY"},
        {"field": "customFields.plan", "take": "SECONDARY"},
    ]
    # when
    payload = await api.ok(MERGE, pair.ids(choices=choices), workspace.token)
    # then
    contact = payload["contact"]
    assert (contact["firstname"], contact["lastname"]) == ("Augusta", "Lovelace")
    assert (contact["email"], contact["city"]) == ("augusta@example.com", None)
    assert contact["status"]["id"] == library.statuses[1]
    assert values(contact) == {"plan": "basic", "seats": 3}
    [stored] = await Contact.find_all().to_list()
    assert (stored.email, stored.keys.full) == ("augusta@example.com", "augusta lovelace")
    changes = await Event.find(
        {
            "type": EventType.STATUS_CHANGED.value,
            "contact_id": stored.id,
            "to_status_id": oid(library.statuses[1]),
        }
    ).count()
    assert changes == 2  # the secondary's own, moved, and the merge's


async def test_a_dry_run_returns_the_merged_contact_and_writes_nothing(
    api: Api, workspace: Workspace, library: Library, pair: Pair
) -> None:
    # given
    before = await snapshot()
    # when
    preview = await api.ok(MERGE, pair.ids(dryRun=True), workspace.token)
    # then
    assert await snapshot() == before
    merged = await api.ok(MERGE, pair.ids(), workspace.token)
    assert preview["contact"] == merged["contact"]


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("itself", ["secondaryId"], "INVALID"),
        ("unknown", ["secondaryId"], "NOT_FOUND"),
        ("other workspace", ["secondaryId"], "NOT_FOUND"),
        ("bad choice", ["choices", "0", "field"], "INVALID"),
        ("unknown custom field", ["choices", "0", "field"], "INVALID"),
        ("repeated choice", ["choices", "1", "field"], "INVALID"),
    ],
)
async def test_a_merge_that_cannot_be_made_is_a_user_error_and_writes_nothing(
    api: Api, workspace: Workspace, library: Library, pair: Pair, case: str, field: list[str], code: str
) -> None:
    # given
    other = await api.create_workspace("Other")
    stranger = await make_contact(api, other, await make_library(api, other), phone=phone(9))
    variables = {
        "itself": pair.ids(s=pair.primary["id"]),
        "unknown": pair.ids(s=pair.primary["id"][:-2] + "AA"),
        "other workspace": pair.ids(s=stranger["id"]),
        "bad choice": pair.ids(choices=[{"field": "phone", "take": "SECONDARY"}]),
        "unknown custom field": pair.ids(choices=[{"field": "customFields.nope", "take": "SECONDARY"}]),
        "repeated choice": pair.ids(
            choices=[{"field": "email", "take": "SECONDARY"}, {"field": "email", "take": "PRIMARY"}]
        ),
    }[case]
    before = await snapshot()
    # when
    data = await api.data(MERGE, variables, workspace.token)
    # then
    assert_rejected(data, code, field)
    assert await snapshot() == before


async def test_a_contact_the_caller_cannot_see_cannot_be_merged(
    api: Api, workspace: Workspace, library: Library, pair: Pair
) -> None:
    # given: a view-own agent to whom only the primary is assigned
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN", "CONTACT_EDIT", "CONTACT_DELETE"])
    await api.ok(UPDATE, {"id": pair.primary["id"], "input": {"assignedAgentId": agent_id}}, workspace.token)
    before = await snapshot()
    # when
    data = await api.data(MERGE, pair.ids(), token)
    # then
    assert_rejected(data, "NOT_FOUND", ["secondaryId"])
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("permissions", "allowed"),
    [
        (["CONTACT_VIEW", "CONTACT_EDIT"], False),
        (["CONTACT_VIEW", "CONTACT_DELETE"], False),
        (["CONTACT_VIEW", "CONTACT_EDIT", "CONTACT_DELETE"], True),
    ],
)
async def test_a_merge_needs_contact_edit_and_contact_delete(
    api: Api, workspace: Workspace, library: Library, pair: Pair, permissions: list[str], allowed: bool
) -> None:
    # given
    _, token = await api.agent_token(workspace, permissions)
    before = await snapshot()
    # when
    data = await api.data(MERGE, pair.ids(), token)
    # then
    if allowed:
        assert data["mergeContacts"]["userErrors"] == []
        await assert_merged(pair, library)
    else:
        assert_rejected(data, "FORBIDDEN", None)
        assert await snapshot() == before


Step = Callable[..., Awaitable[Any]]


def fail_once_after(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The merge step ``name`` does its work, then the process "dies" (once)."""
    step: Step = getattr(merge, name)
    calls = 0

    async def dying(*args: Any) -> Any:
        nonlocal calls
        result = await step(*args)
        calls += 1
        if calls == 1:
            raise RuntimeError(f"the process died after {name}")
        return result

    monkeypatch.setattr(merge, name, dying)


@pytest.mark.parametrize(
    "step", ["hand_over_numbers", "merge_into_primary", "move_journey", "remove_secondary"]
)
async def test_running_an_interrupted_merge_again_completes_it(
    api: Api, workspace: Workspace, library: Library, pair: Pair, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    # given: a merge cut short after one of its steps
    fail_once_after(monkeypatch, step)
    body = await api.gql(MERGE, pair.ids(), workspace.token)
    assert top_level_code(body) == "INTERNAL_SERVER_ERROR"
    # then no contact is lost meanwhile: both ids still name a contact holding each number
    for contact, number in ((pair.primary, PRIMARY_PHONE), (pair.secondary, SECONDARY_PHONE)):
        data = await api.data(READ, {"id": contact["id"], "phone": number}, workspace.token)
        assert data["byId"] is not None and data["byPhone"] is not None
    # when
    payload = await api.ok(MERGE, pair.ids(), workspace.token)
    # then
    assert payload["contact"]["id"] == pair.primary["id"]
    assert values(payload["contact"]) == {"plan": "pro", "seats": 3}
    stored = await assert_merged(pair, library)
    assert stored.email == "augusta@example.com"


async def test_running_a_finished_merge_again_returns_the_primary_and_writes_nothing(
    api: Api, workspace: Workspace, library: Library, pair: Pair
) -> None:
    # given
    merged = await api.ok(MERGE, pair.ids(), workspace.token)
    before = await snapshot()
    # when
    again = await api.ok(MERGE, pair.ids(), workspace.token)
    # then
    assert again["contact"] == merged["contact"]
    assert await snapshot() == before


async def test_a_contact_receiving_an_unfinished_merge_cannot_be_merged_away(
    api: Api, workspace: Workspace, library: Library, pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the pair's merge cut short
    fail_once_after(monkeypatch, "hand_over_numbers")
    await api.gql(MERGE, pair.ids(), workspace.token)
    third = await make_contact(api, workspace, library, phone=phone(3))
    before = await snapshot()
    # when
    data = await api.data(MERGE, {"p": third["id"], "s": pair.primary["id"]}, workspace.token)
    # then
    assert_rejected(data, "BLOCKED", ["secondaryId"])
    assert await snapshot() == before

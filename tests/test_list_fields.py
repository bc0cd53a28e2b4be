"""List-scoped custom fields: a list's fields apply to the contacts of that list, and only to them.

On every path that writes a contact's values (create, update, upsert by phone, bot answers,
import rows, merge, duplicate, joining a list) and every path that shows them (the contact,
filters, the export).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.events import Event, EventType
from contactgraph.events.payloads import payloads

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import assert_rejected, errors_of, payload_of, snapshot
from .csv_api import csv_bytes, read_csv, row_errors, run_import

VALUES = "groups { name } customFields { field { key } value }"

CONTACT = f"""
query($id: ID!) {{
  contact(id: $id) {{ {VALUES} tier: customField(key: "tier") note: customField(key: "vip_note") }}
}}"""

CREATE = f"""
mutation($input: ContactInput!) {{
  createContact(input: $input) {{ contact {{ id {VALUES} }} userErrors {{ field code message }} }}
}}"""

UPDATE = f"""
mutation($id: ID!, $input: ContactPatch!) {{
  updateContact(id: $id, input: $input) {{ contact {{ id {VALUES} }} userErrors {{ field code message }} }}
}}"""

ADD = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  addContactsToGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { field code message } }
}"""

REMOVE = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  removeContactsFromGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { field code message } }
}"""

UPSERT = f"""
mutation($input: UpsertContactByPhoneInput!) {{
  upsertContactByPhone(input: $input) {{ contact {{ id {VALUES} }} userErrors {{ field code message }} }}
}}"""

ANSWERS = f"""
mutation($id: ID, $values: [CustomFieldValueInput!]!) {{
  setContactCustomFields(contactId: $id, values: $values) {{
    contact {{ id {VALUES} }} userErrors {{ field code message }}
  }}
}}"""

MERGE = f"""
mutation($p: ID!, $s: ID!, $choices: [MergeFieldChoice!]) {{
  mergeContacts(primaryId: $p, secondaryId: $s, choices: $choices) {{
    contact {{ id {VALUES} }} userErrors {{ field code message }}
  }}
}}"""

DUPLICATE = f"""
mutation($id: ID!, $input: DuplicateContactInput!) {{
  duplicateContact(id: $id, input: $input) {{ contact {{ id {VALUES} }} userErrors {{ field code message }} }}
}}"""

UPDATE_FIELD = """
mutation($id: ID!, $input: CustomFieldPatch!) {
  updateCustomField(id: $id, input: $input) { customField { id required } userErrors { code } }
}"""

COUNT = "query($filter: ContactFilter) { contacts(filter: $filter) { totalCount } }"


@dataclass
class Lists:
    vip: str  # a list with its own fields: "tier" (required) and "vip_note"
    newsletter: str  # a list without fields
    tier: dict[str, Any]
    note: dict[str, Any]


@pytest.fixture
async def lists(api: Api, workspace: Workspace, library: Library) -> Lists:
    vip, newsletter = library.groups
    tier = await make_custom_field(
        api, workspace, "tier", "DROPDOWN", options=["gold", "silver"], required=True, groupId=vip
    )
    note = await make_custom_field(api, workspace, "vip_note", "TEXT", groupId=vip)
    await make_custom_field(api, workspace, "plan", "TEXT")  # a global field
    return Lists(vip, newsletter, tier, note)


def values_of(contact: dict[str, Any]) -> dict[str, Any]:
    return {v["field"]["key"]: v["value"] for v in contact["customFields"]}


async def read(api: Api, workspace: Workspace, contact_id: str) -> dict[str, Any]:
    return (await api.data(CONTACT, {"id": contact_id}, workspace.token))["contact"]  # type: ignore[no-any-return]


async def vip_member(
    api: Api, workspace: Workspace, library: Library, lists: Lists, n: int, **values: Any
) -> dict[str, Any]:
    """A member of VIP with a tier and a note; ``values``: other values, by key."""
    given = {"tier": "gold", "vip_note": "calls at 9", **values}
    custom = [{"key": key, "value": value} for key, value in given.items()]
    return await make_contact(
        api, workspace, library, phone=phone(n), groupIds=[lists.vip], customFields=custom
    )


# ---------------------------------------------------------------- what shows


async def test_a_list_field_shows_on_a_contact_only_while_it_is_in_the_list(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    member = await vip_member(api, workspace, library, lists, 1, plan="Pro")
    # when
    inside = await read(api, workspace, member["id"])
    await api.ok(REMOVE, {"groupId": lists.vip, "contactIds": [member["id"]]}, workspace.token)
    outside = await read(api, workspace, member["id"])
    await api.ok(ADD, {"groupId": lists.vip, "contactIds": [member["id"]]}, workspace.token)
    back = await read(api, workspace, member["id"])
    # then
    assert values_of(inside) == {"tier": "gold", "vip_note": "calls at 9", "plan": "Pro"}
    assert (inside["tier"], inside["note"]) == ("gold", "calls at 9")
    assert values_of(outside) == {"plan": "Pro"}
    assert (outside["tier"], outside["note"]) == (None, None)
    assert values_of(back) == values_of(inside)  # the value was kept, unseen, while it was outside


async def test_filters_and_the_export_see_a_list_field_as_its_members_do(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given: two members with a note; one of them leaves the list, keeping its note unseen
    await vip_member(api, workspace, library, lists, 1)
    leaves = await vip_member(api, workspace, library, lists, 2)
    await make_contact(api, workspace, library, phone=phone(3))
    await api.ok(REMOVE, {"groupId": lists.vip, "contactIds": [leaves["id"]]}, workspace.token)
    # when
    counts = {
        name: (await api.data(COUNT, {"filter": {"customFields": [condition]}}, workspace.token))["contacts"][
            "totalCount"
        ]
        for name, condition in {
            "eq": {"key": "vip_note", "eq": "calls at 9"},
            "exists": {"key": "vip_note", "exists": True},
            "absent": {"key": "vip_note", "exists": False},
            "null": {"key": "vip_note", "eq": None},
        }.items()
    }
    response = await api.client.get(
        "/export/contacts.csv", headers={"Authorization": f"Bearer {workspace.token}"}
    )
    # then
    assert counts == {"eq": 1, "exists": 1, "absent": 2, "null": 2}
    header, *rows = read_csv(response.content)
    notes = {row[header.index("phone")]: row[header.index("customFields.vip_note")] for row in rows}
    assert notes == {phone(1): "calls at 9", phone(2): "", phone(3): ""}


# ---------------------------------------------------------------- create, update, bots


async def test_a_required_list_field_is_required_on_create_in_its_list_only(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    contact = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": phone(1),
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
    }
    before = await snapshot()
    # when
    missing = await api.data(CREATE, {"input": {**contact, "groupIds": [lists.vip]}}, workspace.token)
    written = await snapshot()
    elsewhere = await api.ok(CREATE, {"input": {**contact, "groupIds": [lists.newsletter]}}, workspace.token)
    given = await api.ok(
        CREATE,
        {
            "input": {
                **contact,
                "phone": phone(2),
                "groupIds": [lists.vip],
                "customFields": [{"key": "tier", "value": "silver"}],
            }
        },
        workspace.token,
    )
    # then
    payload = assert_rejected(missing, "REQUIRED", ["input", "customFields"])
    assert "'tier'" in payload["userErrors"][0]["message"]
    assert written == before
    assert values_of(elsewhere["contact"]) == {}
    assert values_of(given["contact"]) == {"tier": "silver"}


async def test_a_value_for_a_list_field_on_a_contact_outside_the_list_is_invalid_naming_the_key(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    outsider = await make_contact(api, workspace, library, phone=phone(1), groupIds=[lists.newsletter])
    note = [{"key": "vip_note", "value": "hello"}]
    before = await snapshot()
    # when
    created = await api.data(
        CREATE,
        {
            "input": {
                "firstname": "Grace",
                "lastname": "Hopper",
                "phone": phone(2),
                "statusId": library.statuses[0],
                "sourceId": library.sources[0],
                "customFields": note,
            }
        },
        workspace.token,
    )
    updated = await api.data(UPDATE, {"id": outsider["id"], "input": {"customFields": note}}, workspace.token)
    upserted = await api.data(UPSERT, {"input": {"phone": phone(1), "customFields": note}}, workspace.token)
    answered = await api.data(ANSWERS, {"id": outsider["id"], "values": note}, workspace.token)
    # then
    for data, path in (
        (created, ["input", "customFields", "0", "key"]),
        (updated, ["input", "customFields", "0", "key"]),
        (upserted, ["input", "customFields", "0", "key"]),
        (answered, ["values", "0", "key"]),
    ):
        payload = assert_rejected(data, "INVALID", path)
        assert "'vip_note'" in payload["userErrors"][0]["message"]
    assert await snapshot() == before


async def test_joining_the_list_in_an_update_needs_its_required_field_in_the_same_patch(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    contact = await make_contact(api, workspace, library, phone=phone(1))
    # when
    without = await api.data(
        UPDATE, {"id": contact["id"], "input": {"groupIds": [lists.vip]}}, workspace.token
    )
    with_it = await api.ok(
        UPDATE,
        {
            "id": contact["id"],
            "input": {"groupIds": [lists.vip], "customFields": [{"key": "tier", "value": "gold"}]},
        },
        workspace.token,
    )
    # then
    payload = assert_rejected(without, "REQUIRED", ["input", "customFields"])
    assert (
        "'tier'" in payload["userErrors"][0]["message"]
        and "Ada Lovelace" in payload["userErrors"][0]["message"]
    )
    assert with_it["contact"]["groups"] == [{"name": "VIP"}]
    assert values_of(with_it["contact"]) == {"tier": "gold"}


async def test_a_contact_joining_a_list_whose_required_field_it_lacks_is_refused_naming_both(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given: one contact without a tier, one that left the list keeping its tier
    lacking = await make_contact(api, workspace, library, phone=phone(1), firstname="Alan", lastname="Turing")
    returning = await vip_member(api, workspace, library, lists, 2)
    await api.ok(REMOVE, {"groupId": lists.vip, "contactIds": [returning["id"]]}, workspace.token)
    before = await snapshot()
    # when
    both = await api.data(
        ADD, {"groupId": lists.vip, "contactIds": [returning["id"], lacking["id"]]}, workspace.token
    )
    written = await snapshot()
    alone = await api.ok(ADD, {"groupId": lists.vip, "contactIds": [returning["id"]]}, workspace.token)
    # then
    payload = payload_of(both)
    assert errors_of(payload) == [("REQUIRED", ["contactIds", "1"])]
    message = payload["userErrors"][0]["message"]
    assert "'tier'" in message and "Alan Turing" in message and phone(1) in message
    assert written == before
    assert alone["count"] == 1
    assert values_of(await read(api, workspace, returning["id"]))["tier"] == "gold"


async def test_a_field_made_required_later_blocks_no_other_change_of_the_contacts_lacking_it(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given: a member without a region, then region made required
    region = await make_custom_field(api, workspace, "region", "TEXT", groupId=lists.vip)
    member = await vip_member(api, workspace, library, lists, 1)
    await api.ok(UPDATE_FIELD, {"id": region["id"], "input": {"required": True}}, workspace.token)
    # when
    renamed = await api.ok(UPDATE, {"id": member["id"], "input": {"city": "Paris"}}, workspace.token)
    answered = await api.ok(
        ANSWERS, {"id": member["id"], "values": [{"key": "vip_note", "value": "call later"}]}, workspace.token
    )
    cleared = await api.data(
        ANSWERS, {"id": member["id"], "values": [{"key": "tier", "value": None}]}, workspace.token
    )
    # then
    assert renamed["contact"]["id"] == member["id"]
    assert values_of(answered["contact"])["vip_note"] == "call later"
    assert_rejected(cleared, "REQUIRED", ["values", "0", "value"])


async def test_bots_and_upserts_write_the_list_fields_of_the_contacts_lists(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    member = await vip_member(api, workspace, library, lists, 1)
    # when
    answered = await api.ok(
        ANSWERS, {"id": member["id"], "values": [{"key": "tier", "value": "SILVER"}]}, workspace.token
    )
    upserted = await api.ok(
        UPSERT,
        {"input": {"phone": phone(1), "customFields": [{"key": "vip_note", "value": "by bot"}]}},
        workspace.token,
    )
    # then
    assert values_of(answered["contact"])["tier"] == "silver"
    assert values_of(upserted["contact"]) == {"tier": "silver", "vip_note": "by bot"}


# ---------------------------------------------------------------- imports


async def test_import_rows_are_checked_against_the_fields_of_their_groups(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    await make_contact(api, workspace, library, phone=phone(9), groupIds=[lists.newsletter])
    header = ["firstname", "lastname", "phone", "groups", "customFields.tier"]
    rows = [
        ["Ana", "Silva", phone(1), "VIP", "gold"],  # a member with its required field
        ["Bruno", "Costa", phone(2), "VIP", ""],  # a member without it
        ["Chloé", "Dubois", phone(3), "", "gold"],  # a value for a list it is not in
        ["Dmitri", "Ivanov", phone(4), "Newsletter", ""],  # neither
        ["Existing", "Member", phone(9), "VIP", ""],  # joins the list without the field
    ]
    options = {
        "defaultStatusId": library.statuses[0],
        "defaultSourceId": library.sources[0],
        "onDuplicate": "UPDATE",
    }
    # when
    job = await run_import(api, workspace.token, csv_bytes([header, *rows]), options)
    # then
    assert (job["state"], job["created"], job["updated"], job["failed"]) == ("DONE", 2, 0, 3)
    assert await row_errors(api, workspace.token, job["id"]) == [
        (3, "customFields.tier", "REQUIRED"),
        (4, "customFields.tier", "INVALID"),
        (6, "customFields.tier", "REQUIRED"),
    ]
    made = await api.data("{ contacts { edges { node { phone " + VALUES + " } } } }", {}, workspace.token)
    by_phone = {e["node"]["phone"]: values_of(e["node"]) for e in made["contacts"]["edges"]}
    assert by_phone == {phone(1): {"tier": "gold"}, phone(4): {}, phone(9): {}}


# ---------------------------------------------------------------- merge and duplicate


async def test_a_merge_unites_list_fields_and_cannot_empty_a_required_one(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    primary = await make_contact(api, workspace, library, phone=phone(1), groupIds=[lists.newsletter])
    secondary = await vip_member(api, workspace, library, lists, 2)
    kept = await vip_member(api, workspace, library, lists, 3)
    plain = await make_contact(api, workspace, library, phone=phone(4))
    # when
    merged = await api.ok(MERGE, {"p": primary["id"], "s": secondary["id"]}, workspace.token)
    emptied = await api.data(
        MERGE,
        {"p": kept["id"], "s": plain["id"], "choices": [{"field": "customFields.tier", "take": "SECONDARY"}]},
        workspace.token,
    )
    # then
    assert sorted(g["name"] for g in merged["contact"]["groups"]) == ["Newsletter", "VIP"]
    assert values_of(merged["contact"]) == {"tier": "gold", "vip_note": "calls at 9"}
    payload = assert_rejected(emptied, "REQUIRED", ["choices"])
    assert "'tier'" in payload["userErrors"][0]["message"]


async def test_a_duplicate_takes_the_list_fields_of_its_own_lists(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    member = await vip_member(api, workspace, library, lists, 1)
    await make_custom_field(api, workspace, "region", "TEXT", groupId=lists.vip)
    # when
    elsewhere = await api.ok(
        DUPLICATE,
        {"id": member["id"], "input": {"phone": phone(2), "groupIds": [lists.newsletter]}},
        workspace.token,
    )
    rejoin = await api.data(
        ADD, {"groupId": lists.vip, "contactIds": [elsewhere["contact"]["id"]]}, workspace.token
    )
    same = await api.ok(DUPLICATE, {"id": member["id"], "input": {"phone": phone(3)}}, workspace.token)
    # then
    assert values_of(elsewhere["contact"]) == {}
    assert errors_of(payload_of(rejoin)) == [("REQUIRED", ["contactIds", "0"])]  # its tier was not copied
    assert values_of(same["contact"]) == {"tier": "gold", "vip_note": "calls at 9"}


async def test_a_duplicate_into_a_list_whose_required_field_the_original_lacks_is_refused(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given
    original = await make_contact(api, workspace, library, phone=phone(1))
    before = await snapshot()
    # when
    data = await api.data(
        DUPLICATE,
        {"id": original["id"], "input": {"phone": phone(2), "groupIds": [lists.vip]}},
        workspace.token,
    )
    # then
    payload = assert_rejected(data, "REQUIRED", ["input", "groupIds"])
    assert "'tier'" in payload["userErrors"][0]["message"]
    assert await snapshot() == before


# ---------------------------------------------------------------- keys


async def test_keys_stay_unique_across_lists_and_global_fields(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # when
    data = await api.data(
        """
        mutation($input: CustomFieldInput!) {
          createCustomField(input: $input) { customField { id } userErrors { field code message } }
        }""",
        {"input": {"key": "plan", "label": "Plan", "type": "TEXT", "groupId": lists.newsletter}},
        workspace.token,
    )
    # then
    assert_rejected(data, "KEY_TAKEN", ["input", "key"])


# ---------------------------------------------------------------- round trips

PAGE = """
query($first: Int!) {
  contacts(first: $first) {
    edges { node { groups { name } customFields { field { key } value } tier: customField(key: "tier") } }
  }
}"""


@pytest.mark.parametrize("size", [4, 16])
async def test_a_page_with_list_fields_costs_the_same_round_trips_whatever_its_size(
    engine: Engine, api: Api, workspace: Workspace, library: Library, lists: Lists, size: int
) -> None:
    # given: half the contacts in VIP with its fields, half outside it
    for n in range(16):
        if n % 2:
            await vip_member(api, workspace, library, lists, n, plan=f"p{n}")
        else:
            await make_contact(
                api, workspace, library, phone=phone(n), customFields=[{"key": "plan", "value": "x"}]
            )
    trips = engine.round_trips.count
    # when
    page = await api.data(PAGE, {"first": size}, workspace.token)
    # then: 1 to authenticate, 1 for the page, 1 each for groups, fields by id and the field by key
    assert engine.round_trips.count - trips == 1 + 1 + 3
    shown = [values_of(e["node"]) for e in page["contacts"]["edges"]]
    assert sum("tier" in values for values in shown) == size // 2


async def test_a_webhook_shows_the_list_fields_as_the_api_does(
    api: Api, workspace: Workspace, library: Library, lists: Lists
) -> None:
    # given: a member leaves the list, keeping its values unseen
    member = await vip_member(api, workspace, library, lists, 1, plan="Pro")
    await api.ok(REMOVE, {"groupId": lists.vip, "contactIds": [member["id"]]}, workspace.token)
    # when
    [left] = await Event.find({"type": EventType.UPDATED.value, "data.changed": "group_ids"}).to_list()
    sent = (await payloads([left]))[left.id]["data"]["contact"]
    # then
    assert sent["customFields"] == values_of(await read(api, workspace, member["id"])) == {"plan": "Pro"}

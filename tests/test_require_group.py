"""requireGroup: every contact belongs to at least one group (list), on every path that creates or changes one.

Creates without a group take the default group or are REQUIRED; imports need a group
column or ``ImportOptions.groupIds``; removing a contact's last group is REQUIRED and
deleting a group that is some contact's only one IN_USE, both naming the contacts.
"""

from __future__ import annotations

from typing import Any

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import assert_rejected, errors_of, payload_of, snapshot
from .csv_api import csv_bytes, row_errors, run_import, upload

SETTINGS = """
mutation($input: WorkspaceSettingsInput!) {
  updateWorkspaceSettings(input: $input) {
    workspace { id requireGroup defaultGroup { id name } }
    userErrors { field code message }
  }
}"""

GROUPS = "groups { name }"

CREATE = f"""
mutation($input: ContactInput!) {{
  createContact(input: $input) {{ contact {{ id {GROUPS} }} userErrors {{ field code message }} }}
}}"""

UPDATE = f"""
mutation($id: ID!, $input: ContactPatch!) {{
  updateContact(id: $id, input: $input) {{ contact {{ id {GROUPS} }} userErrors {{ field code message }} }}
}}"""

REMOVE = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  removeContactsFromGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { field code message } }
}"""

DELETE_GROUP = """
mutation($id: ID!) { deleteGroup(id: $id) { deletedIds userErrors { field code message } } }"""

DELETE_GROUPS = """
mutation($ids: [ID!]!) { deleteGroups(ids: $ids) { deletedIds userErrors { field code message } } }"""

UPSERT = f"""
mutation($input: UpsertContactByPhoneInput!) {{
  upsertContactByPhone(input: $input) {{ contact {{ id phone {GROUPS} }} userErrors {{ field code message }} }}
}}"""

RECORD = f"""
mutation($input: InteractionInput!) {{
  recordInteraction(input: $input) {{
    interaction {{ id contact {{ phone {GROUPS} }} }} userErrors {{ field code message }}
  }}
}}"""

DUPLICATE = f"""
mutation($id: ID!, $input: DuplicateContactInput!) {{
  duplicateContact(id: $id, input: $input) {{ contact {{ id {GROUPS} }} userErrors {{ field code message }} }}
}}"""

GROUPS_OF = f"query($id: ID!) {{ contact(id: $id) {{ {GROUPS} }} }}"


def new_contact(library: Library, n: int, **more: Any) -> dict[str, Any]:
    return {
        "firstname": "Ada",
        "lastname": f"Lovelace {n}",
        "phone": phone(n),
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
        **more,
    }


async def require_group(api: Api, workspace: Workspace, default: str | None = None) -> dict[str, Any]:
    given = {"requireGroup": True, "defaultGroupId": default}
    return await api.ok(SETTINGS, {"input": given}, workspace.token)


async def groups_of(api: Api, workspace: Workspace, contact_id: str) -> list[str]:
    contact = (await api.data(GROUPS_OF, {"id": contact_id}, workspace.token))["contact"]
    return sorted(g["name"] for g in contact["groups"])


# ---------------------------------------------------------------- the setting


async def test_require_group_cannot_be_turned_on_while_contacts_have_no_group(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    vip = library.groups[0]
    loose = await make_contact(api, workspace, library, phone=phone(1), firstname="Alan", lastname="Turing")
    await make_contact(api, workspace, library, phone=phone(2), groupIds=[vip])
    # when
    refused = await api.data(SETTINGS, {"input": {"requireGroup": True}}, workspace.token)
    await api.ok(UPDATE, {"id": loose["id"], "input": {"groupIds": [vip]}}, workspace.token)
    accepted = await require_group(api, workspace, default=vip)
    # then
    payload = assert_rejected(refused, "BLOCKED", ["input", "requireGroup"])
    assert "Alan Turing" in payload["userErrors"][0]["message"]
    assert accepted["workspace"]["requireGroup"] is True
    assert accepted["workspace"]["defaultGroup"] == {"id": vip, "name": "VIP"}


# ---------------------------------------------------------------- creating


async def test_a_new_contact_without_a_group_joins_the_default_one_or_is_refused(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    vip, newsletter = library.groups
    await require_group(api, workspace)
    before = await snapshot()
    # when
    refused = await api.data(CREATE, {"input": new_contact(library, 1)}, workspace.token)
    emptied = await api.data(CREATE, {"input": new_contact(library, 1, groupIds=[])}, workspace.token)
    written = await snapshot()
    await require_group(api, workspace, default=vip)
    defaulted = await api.ok(CREATE, {"input": new_contact(library, 1)}, workspace.token)
    chosen = await api.ok(CREATE, {"input": new_contact(library, 2, groupIds=[newsletter])}, workspace.token)
    # then
    assert_rejected(refused, "REQUIRED", ["input", "groupIds"])
    assert_rejected(emptied, "REQUIRED", ["input", "groupIds"])
    assert written == before
    assert defaulted["contact"]["groups"] == [{"name": "VIP"}]
    assert chosen["contact"]["groups"] == [{"name": "Newsletter"}]


async def test_upsert_by_phone_without_a_default_group_is_required_and_with_one_joins_it(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    vip = library.groups[0]
    inbound = {"inboundStatusId": library.statuses[0], "inboundSourceId": library.sources[0]}
    await api.ok(SETTINGS, {"input": {**inbound, "requireGroup": True}}, workspace.token)
    before = await snapshot()
    # when
    without = await api.data(UPSERT, {"input": {"phone": phone(1)}}, workspace.token)
    by_message = await api.data(
        RECORD, {"input": {"phone": phone(2), "channel": "whatsapp", "direction": "inbound"}}, workspace.token
    )
    written = await snapshot()
    await require_group(api, workspace, default=vip)
    upserted = await api.ok(UPSERT, {"input": {"phone": phone(1), "firstname": "Grace"}}, workspace.token)
    recorded = await api.ok(
        RECORD, {"input": {"phone": phone(2), "channel": "whatsapp", "direction": "inbound"}}, workspace.token
    )
    # then
    for data in (without, by_message):
        payload = payload_of(data)
        assert errors_of(payload) == [("REQUIRED", None)]
        assert "defaultGroupId" in payload["userErrors"][0]["message"]
    assert written == before
    assert upserted["contact"]["groups"] == [{"name": "VIP"}]
    assert recorded["interaction"]["contact"] == {"phone": phone(2), "groups": [{"name": "VIP"}]}


async def test_an_upsert_into_a_default_group_with_a_required_field_needs_its_value(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    vip = library.groups[0]
    await make_custom_field(api, workspace, "consent", "CHECKBOX", required=True, groupId=vip)
    inbound = {"inboundStatusId": library.statuses[0], "inboundSourceId": library.sources[0]}
    await api.ok(
        SETTINGS, {"input": {**inbound, "requireGroup": True, "defaultGroupId": vip}}, workspace.token
    )
    # when
    without = await api.data(UPSERT, {"input": {"phone": phone(1)}}, workspace.token)
    given = await api.ok(
        UPSERT,
        {"input": {"phone": phone(1), "customFields": [{"key": "consent", "value": "yes"}]}},
        workspace.token,
    )
    # then
    payload = assert_rejected(without, "REQUIRED", ["input", "customFields"])
    assert "'consent'" in payload["userErrors"][0]["message"]
    assert given["contact"]["groups"] == [{"name": "VIP"}]


async def test_a_duplicate_keeps_a_group(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    original = await make_contact(api, workspace, library, phone=phone(1), groupIds=[library.groups[1]])
    await require_group(api, workspace)
    # when
    emptied = await api.data(
        DUPLICATE, {"id": original["id"], "input": {"phone": phone(2), "groupIds": []}}, workspace.token
    )
    copied = await api.ok(DUPLICATE, {"id": original["id"], "input": {"phone": phone(3)}}, workspace.token)
    # then
    assert_rejected(emptied, "REQUIRED", ["input", "groupIds"])
    assert copied["contact"]["groups"] == [{"name": "Newsletter"}]


# ---------------------------------------------------------------- changing


async def test_the_last_group_of_a_contact_cannot_be_removed(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    vip, newsletter = library.groups
    both = await make_contact(api, workspace, library, phone=phone(1), groupIds=[vip, newsletter])
    only = await make_contact(
        api, workspace, library, phone=phone(2), groupIds=[vip], firstname="Alan", lastname="Turing"
    )
    await require_group(api, workspace)
    before = await snapshot()
    # when
    removed = await api.data(
        REMOVE, {"groupId": vip, "contactIds": [both["id"], only["id"]]}, workspace.token
    )
    emptied = await api.data(UPDATE, {"id": only["id"], "input": {"groupIds": []}}, workspace.token)
    written = await snapshot()
    switched = await api.ok(UPDATE, {"id": only["id"], "input": {"groupIds": [newsletter]}}, workspace.token)
    left = await api.ok(REMOVE, {"groupId": vip, "contactIds": [both["id"]]}, workspace.token)
    # then
    payload = payload_of(removed)
    assert errors_of(payload) == [("REQUIRED", ["contactIds", "1"])]
    assert "Alan Turing" in payload["userErrors"][0]["message"]
    emptied_payload = assert_rejected(emptied, "REQUIRED", ["input", "groupIds"])
    assert "Alan Turing" in emptied_payload["userErrors"][0]["message"]
    assert written == before
    assert switched["contact"]["groups"] == [{"name": "Newsletter"}]
    assert left["count"] == 1
    assert await groups_of(api, workspace, both["id"]) == ["Newsletter"]


async def test_a_group_that_is_some_contacts_only_group_cannot_be_deleted_naming_them(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: seven contacts in VIP alone, one in both lists
    vip, newsletter = library.groups
    for n in range(7):
        await make_contact(api, workspace, library, phone=phone(n), lastname=f"Only {n}", groupIds=[vip])
    both = await make_contact(api, workspace, library, phone=phone(9), groupIds=[vip, newsletter])
    await require_group(api, workspace)
    before = await snapshot()
    # when
    one = await api.data(DELETE_GROUP, {"id": vip}, workspace.token)
    several = await api.data(DELETE_GROUPS, {"ids": [vip, newsletter]}, workspace.token)
    written = await snapshot()
    deleted = await api.ok(DELETE_GROUP, {"id": newsletter}, workspace.token)
    # then
    payload = assert_rejected(one, "IN_USE", ["id"])
    message = payload["userErrors"][0]["message"]
    assert "7 without one" in message and "and 2 more" in message
    assert sum(f"Ada Only {n} (" in message for n in range(7)) == 5
    assert_rejected(several, "IN_USE", ["ids"])
    assert written == before
    assert deleted["deletedIds"] == [newsletter]
    assert await groups_of(api, workspace, both["id"]) == ["VIP"]


async def test_the_default_group_cannot_be_deleted(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    vip = library.groups[0]
    await require_group(api, workspace, default=vip)
    # when
    data = await api.data(DELETE_GROUP, {"id": vip}, workspace.token)
    # then
    payload = assert_rejected(data, "IN_USE", ["id"])
    assert "default group" in payload["userErrors"][0]["message"]


# ---------------------------------------------------------------- imports


async def test_an_import_needs_a_group_column_or_group_ids(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await require_group(api, workspace, default=library.groups[0])
    defaults = {"defaultStatusId": library.statuses[0], "defaultSourceId": library.sources[0]}
    plain = csv_bytes([["firstname", "lastname", "phone"], ["Ana", "Silva", phone(1)]])
    grouped = csv_bytes(
        [
            ["firstname", "lastname", "phone", "groups"],
            ["Bruno", "Costa", phone(2), "Newsletter"],
            ["Chloé", "Dubois", phone(3), ""],
        ]
    )
    # when
    refused = (await upload(api.client, workspace.token, plain, defaults)).json()["data"]
    by_column = await run_import(api, workspace.token, grouped, defaults)
    by_option = await run_import(api, workspace.token, plain, {**defaults, "groupIds": [library.groups[1]]})
    # then
    payload = assert_rejected(refused, "REQUIRED", ["options", "groupIds"])
    assert "groups column" in payload["userErrors"][0]["message"]
    assert (by_column["created"], by_column["failed"]) == (1, 1)
    assert await row_errors(api, workspace.token, by_column["id"]) == [(3, "groups", "REQUIRED")]
    assert by_option["created"] == 1
    made = await api.data("{ contacts { edges { node { phone " + GROUPS + " } } } }", {}, workspace.token)
    by_phone = {e["node"]["phone"]: e["node"]["groups"] for e in made["contacts"]["edges"]}
    assert by_phone == {phone(1): [{"name": "Newsletter"}], phone(2): [{"name": "Newsletter"}]}

"""The library: statuses, sources, groups and custom fields, through GraphQL over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.models import Contact, CustomField, Group, Source, Status

from .api import (
    CREATE_CUSTOM_FIELD,
    CREATE_GROUP,
    CREATE_SOURCE,
    CREATE_STATUS,
    Api,
    Library,
    Workspace,
    make_contact,
    phone,
)
from .checks import assert_rejected, oid, operation_id, snapshot

STATUSES = "{ statuses { id name color position contactCount } }"
SOURCES = "{ sources { id name contactCount } }"
GROUPS = "{ groups { id name description contactCount } }"

CUSTOM_FIELDS = """
query($includeDeleted: Boolean) {
  customFields(includeDeleted: $includeDeleted) { id key label type options required position deletedAt }
}"""

UPDATE_STATUS = """
mutation($id: ID!, $input: StatusPatch!) {
  updateStatus(id: $id, input: $input) {
    status { id name color position contactCount } userErrors { field code message }
  }
}"""

UPDATE_SOURCE = """
mutation($id: ID!, $input: SourceInput!) {
  updateSource(id: $id, input: $input) { source { id name } userErrors { field code message } }
}"""

UPDATE_GROUP = """
mutation($id: ID!, $input: GroupInput!) {
  updateGroup(id: $id, input: $input) { group { id name description } userErrors { field code message } }
}"""

DELETE_STATUS = """
mutation($id: ID!, $to: ID) {
  deleteStatus(id: $id, moveContactsTo: $to) { deletedIds userErrors { field code message } }
}"""

DELETE_SOURCE = """
mutation($id: ID!, $to: ID) {
  deleteSource(id: $id, moveContactsTo: $to) { deletedIds userErrors { field code message } }
}"""

DELETE_GROUP = """
mutation($id: ID!) { deleteGroup(id: $id) { deletedIds userErrors { field code message } } }"""

UPDATE_SETTINGS = """
mutation($input: WorkspaceSettingsInput!) {
  updateWorkspaceSettings(input: $input) { workspace { id } userErrors { field code message } }
}"""

UPDATE_CUSTOM_FIELD = """
mutation($id: ID!, $input: CustomFieldPatch!) {
  updateCustomField(id: $id, input: $input) {
    customField { id key label type options required position deletedAt }
    userErrors { field code message }
  }
}"""

DELETE_CUSTOM_FIELD = """
mutation($id: ID!) {
  deleteCustomField(id: $id) { customField { id key deletedAt } userErrors { field code message } }
}"""

RESTORE_CUSTOM_FIELD = """
mutation($id: ID!) {
  restoreCustomField(id: $id) { customField { id key deletedAt } userErrors { field code message } }
}"""

PURGE_CUSTOM_FIELD = """
mutation($id: ID!) { purgeCustomField(id: $id) { deletedIds userErrors { field code message } } }"""

CONTACT_CUSTOM_FIELDS = """
query($id: ID!, $key: String!) {
  contact(id: $id) { customFields { field { key } value } customField(key: $key) }
}"""

# kind -> (create mutation, create-payload key, query, document)
KINDS: dict[str, tuple[str, str, str, type[Status | Source | Group]]] = {
    "status": (CREATE_STATUS, "status", STATUSES, Status),
    "source": (CREATE_SOURCE, "source", SOURCES, Source),
    "group": (CREATE_GROUP, "group", GROUPS, Group),
}


def entry_input(kind: str, name: str) -> dict[str, Any]:
    return {"name": name, "color": "#123456"} if kind == "status" else {"name": name}


async def create_entry(api: Api, workspace: Workspace, kind: str, name: str) -> dict[str, Any]:
    document, key, _, _ = KINDS[kind]
    payload = await api.ok(document, {"input": entry_input(kind, name)}, workspace.token)
    return payload[key]  # type: ignore[no-any-return]


async def create_field(api: Api, workspace: Workspace, **values: Any) -> dict[str, Any]:
    data = {"label": values.get("key", "Field").title(), "type": "TEXT", **values}
    return (await api.ok(CREATE_CUSTOM_FIELD, {"input": data}, workspace.token))["customField"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- statuses, sources, groups


async def test_create_status_stores_it_and_numbers_positions(api: Api, workspace: Workspace) -> None:
    # when
    first = await api.ok(CREATE_STATUS, {"input": {"name": " Lead ", "color": "#1E90FF"}}, workspace.token)
    second = await api.ok(CREATE_STATUS, {"input": {"name": "Won", "color": "#2ecc71"}}, workspace.token)
    # then
    assert first["status"] == {
        "id": first["status"]["id"],
        "name": "Lead",
        "color": "#1e90ff",
        "position": 0,
        "contactCount": 0,
    }
    assert second["status"]["position"] == 1
    stored = await Status.get(oid(first["status"]["id"]))
    assert stored is not None
    assert (stored.name, stored.color, stored.position) == ("Lead", "#1e90ff", 0)


async def test_statuses_are_ordered_by_position(api: Api, workspace: Workspace) -> None:
    # given
    ids = {}
    for name, position in (("C", 5), ("A", 1), ("B", 3)):
        payload = await api.ok(
            CREATE_STATUS,
            {"input": {"name": name, "color": "#000000", "position": position}},
            workspace.token,
        )
        ids[name] = payload["status"]["id"]
    assert [s["name"] for s in (await api.data(STATUSES, token=workspace.token))["statuses"]] == [
        "A",
        "B",
        "C",
    ]
    # when
    await api.ok(UPDATE_STATUS, {"id": ids["C"], "input": {"position": 0}}, workspace.token)
    # then
    statuses = (await api.data(STATUSES, token=workspace.token))["statuses"]
    assert [(s["name"], s["position"]) for s in statuses] == [("C", 0), ("A", 1), ("B", 3)]


async def test_update_status_changes_only_given_values(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # when
    payload = await api.ok(
        UPDATE_STATUS, {"id": library.statuses[0], "input": {"color": "#ABCDEF"}}, workspace.token
    )
    # then
    assert (payload["status"]["name"], payload["status"]["color"]) == ("New", "#abcdef")
    stored = await Status.get(oid(library.statuses[0]))
    assert stored is not None
    assert (stored.name, stored.color, stored.position) == ("New", "#abcdef", 0)


async def test_update_source_and_group_rename(api: Api, workspace: Workspace, library: Library) -> None:
    # when
    source = await api.ok(UPDATE_SOURCE, {"id": library.sources[0], "input": {"name": "WA"}}, workspace.token)
    group = await api.ok(
        UPDATE_GROUP,
        {"id": library.groups[0], "input": {"name": "V.I.P.", "description": "big spenders"}},
        workspace.token,
    )
    # then
    assert source["source"]["name"] == "WA"
    assert group["group"] == {"id": library.groups[0], "name": "V.I.P.", "description": "big spenders"}
    stored_source = await Source.get(oid(library.sources[0]))
    stored_group = await Group.get(oid(library.groups[0]))
    assert stored_source is not None and stored_source.name == "WA"
    assert stored_group is not None and (stored_group.name, stored_group.description) == (
        "V.I.P.",
        "big spenders",
    )


async def test_update_group_clears_description_with_null(api: Api, workspace: Workspace) -> None:
    # given
    created = await api.ok(CREATE_GROUP, {"input": {"name": "Team", "description": "all"}}, workspace.token)
    group_id = created["group"]["id"]
    # when
    payload = await api.ok(
        UPDATE_GROUP, {"id": group_id, "input": {"name": "Team", "description": None}}, workspace.token
    )
    # then
    assert payload["group"]["description"] is None
    stored = await Group.get(oid(group_id))
    assert stored is not None and stored.description is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("existing", "wanted"), [("vip", "VIP "), ("Hot Lead", "hot   lead"), ("Ärger", "ärger")]
)
async def test_create_with_a_taken_name_is_name_taken(
    api: Api, workspace: Workspace, kind: str, existing: str, wanted: str
) -> None:
    # given
    await create_entry(api, workspace, kind, existing)
    document, _, _, model = KINDS[kind]
    before = await snapshot()
    # when
    data = await api.data(document, {"input": entry_input(kind, wanted)}, workspace.token)
    # then
    assert_rejected(data, "NAME_TAKEN", ["input", "name"])
    assert await snapshot() == before
    assert await model.find({}).count() == 1


UPDATES = {"status": UPDATE_STATUS, "source": UPDATE_SOURCE, "group": UPDATE_GROUP}


@pytest.mark.parametrize("kind", KINDS)
async def test_rename_to_a_taken_name_is_name_taken(api: Api, workspace: Workspace, kind: str) -> None:
    # given
    await create_entry(api, workspace, kind, "vip")
    other = await create_entry(api, workspace, kind, "Regular")
    before = await snapshot()
    # when
    data = await api.data(
        UPDATES[kind], {"id": other["id"], "input": entry_input(kind, "VIP ")}, workspace.token
    )
    # then
    assert_rejected(data, "NAME_TAKEN", ["input", "name"])
    assert await snapshot() == before


@pytest.mark.parametrize("kind", KINDS)
async def test_renaming_an_entry_to_its_own_name_in_another_case_is_allowed(
    api: Api, workspace: Workspace, kind: str
) -> None:
    # given
    entry = await create_entry(api, workspace, kind, "vip")
    # when
    payload = await api.ok(
        UPDATES[kind], {"id": entry["id"], "input": entry_input(kind, "VIP")}, workspace.token
    )
    # then
    assert payload[KINDS[kind][1]]["name"] == "VIP"
    stored = await KINDS[kind][3].get(oid(entry["id"]))
    assert stored is not None and stored.name == "VIP"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("name", "code"), [("", "REQUIRED"), ("   ", "REQUIRED"), ("x" * 192, "INVALID")])
async def test_bad_names_are_rejected(
    api: Api, workspace: Workspace, kind: str, name: str, code: str
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(KINDS[kind][0], {"input": entry_input(kind, name)}, workspace.token)
    # then
    assert_rejected(data, code, ["input", "name"])
    assert await snapshot() == before


async def test_same_names_in_two_workspaces_do_not_collide(api: Api, workspace: Workspace) -> None:
    # given
    other = await api.create_workspace("Other")
    await create_entry(api, workspace, "group", "VIP")
    # when
    payload = await api.ok(CREATE_GROUP, {"input": {"name": "vip"}}, other.token)
    # then
    assert payload["group"]["name"] == "vip"
    assert await Group.find({"name_key": "vip"}).count() == 2


BAD_COLORS = ["red", "#12345", "#1234567", "1e90ff", "#gggggg", "", "#1e90ff\n#000000", "rgb(0,0,0)"]


@pytest.mark.parametrize("color", BAD_COLORS)
async def test_create_status_with_a_bad_colour_is_invalid(api: Api, workspace: Workspace, color: str) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(CREATE_STATUS, {"input": {"name": "New", "color": color}}, workspace.token)
    # then
    assert_rejected(data, "INVALID", ["input", "color"])
    assert await snapshot() == before


@pytest.mark.parametrize("color", BAD_COLORS)
async def test_update_status_with_a_bad_colour_is_invalid(
    api: Api, workspace: Workspace, library: Library, color: str
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_STATUS, {"id": library.statuses[0], "input": {"color": color}}, workspace.token
    )
    # then
    assert_rejected(data, "INVALID", ["input", "color"])
    assert await snapshot() == before


@pytest.mark.parametrize("position", [-1, 100_001])
async def test_status_position_out_of_range_is_invalid(api: Api, workspace: Workspace, position: int) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_STATUS, {"input": {"name": "New", "color": "#000000", "position": position}}, workspace.token
    )
    # then
    assert_rejected(data, "INVALID", ["input", "position"])
    assert await snapshot() == before


async def test_create_reports_every_problem_at_once(api: Api, workspace: Workspace) -> None:
    # when
    data = await api.data(CREATE_STATUS, {"input": {"name": "", "color": "blue"}}, workspace.token)
    # then
    payload = data["createStatus"]
    assert payload["status"] is None
    assert sorted((e["code"], e["field"]) for e in payload["userErrors"]) == [
        ("INVALID", ["input", "color"]),
        ("REQUIRED", ["input", "name"]),
    ]
    assert await Status.find({}).count() == 0


@pytest.mark.parametrize("document", [UPDATE_STATUS, DELETE_STATUS], ids=operation_id)
async def test_unknown_status_is_not_found(
    api: Api, workspace: Workspace, library: Library, document: str
) -> None:
    # given
    before = await snapshot()
    variables: dict[str, Any] = {"id": library.sources[0]}  # an id of another kind names no status
    if document == UPDATE_STATUS:
        variables["input"] = {"name": "X"}
    # when
    data = await api.data(document, variables, workspace.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["id"])
    assert await snapshot() == before


# ---------------------------------------------------------------- contact counts


async def test_contact_counts_of_the_library(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    await make_contact(api, workspace, library, phone=phone(1), groupIds=library.groups)
    await make_contact(api, workspace, library, phone=phone(2), groupIds=[library.groups[0]])
    await make_contact(
        api, workspace, library, phone=phone(3), statusId=library.statuses[1], sourceId=library.sources[1]
    )
    # when
    data = await api.data(
        "{ statuses { name contactCount } sources { name contactCount } groups { name contactCount } }",
        token=workspace.token,
    )
    # then
    assert data == {
        "statuses": [{"name": "New", "contactCount": 2}, {"name": "Won", "contactCount": 1}],
        "sources": [{"name": "Website", "contactCount": 1}, {"name": "WhatsApp", "contactCount": 2}],
        "groups": [{"name": "Newsletter", "contactCount": 1}, {"name": "VIP", "contactCount": 2}],
    }


async def test_contact_counts_honour_view_own(api: Api, workspace: Workspace, library: Library) -> None:
    # given an agent who sees only contacts assigned to them
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    await make_contact(
        api, workspace, library, phone=phone(1), groupIds=[library.groups[0]], assignedAgentId=agent_id
    )
    await make_contact(api, workspace, library, phone=phone(2), groupIds=library.groups)
    await make_contact(
        api,
        workspace,
        library,
        phone=phone(3),
        statusId=library.statuses[1],
        sourceId=library.sources[1],
        assignedAgentId=workspace.agent_id,
    )
    query = "{ statuses { name contactCount } sources { name contactCount } groups { name contactCount } }"
    # when
    own = await api.data(query, token=token)
    everyone = await api.data(query, token=workspace.token)
    # then
    assert own == {
        "statuses": [{"name": "New", "contactCount": 1}, {"name": "Won", "contactCount": 0}],
        "sources": [{"name": "Website", "contactCount": 0}, {"name": "WhatsApp", "contactCount": 1}],
        "groups": [{"name": "Newsletter", "contactCount": 0}, {"name": "VIP", "contactCount": 1}],
    }
    assert everyone == {
        "statuses": [{"name": "New", "contactCount": 2}, {"name": "Won", "contactCount": 1}],
        "sources": [{"name": "Website", "contactCount": 1}, {"name": "WhatsApp", "contactCount": 2}],
        "groups": [{"name": "Newsletter", "contactCount": 1}, {"name": "VIP", "contactCount": 2}],
    }


# ---------------------------------------------------------------- deleting statuses and sources

REFERENCED = [
    ("status", DELETE_STATUS, "statuses", "statusId", "status_id"),
    ("source", DELETE_SOURCE, "sources", "sourceId", "source_id"),
]


@pytest.mark.parametrize(("kind", "document", "attr", "input_key", "db_field"), REFERENCED)
async def test_delete_an_unused_entry(
    api: Api,
    workspace: Workspace,
    library: Library,
    kind: str,
    document: str,
    attr: str,
    input_key: str,
    db_field: str,
) -> None:
    # given
    unused = getattr(library, attr)[1]
    # when
    payload = await api.ok(document, {"id": unused}, workspace.token)
    # then
    assert payload["deletedIds"] == [unused]
    assert await KINDS[kind][3].get(oid(unused)) is None
    assert await KINDS[kind][3].find({}).count() == 1


@pytest.mark.parametrize(("kind", "document", "attr", "input_key", "db_field"), REFERENCED)
async def test_delete_an_entry_in_use_is_in_use(
    api: Api,
    workspace: Workspace,
    library: Library,
    kind: str,
    document: str,
    attr: str,
    input_key: str,
    db_field: str,
) -> None:
    # given
    await make_contact(api, workspace, library)
    used = getattr(library, attr)[0]
    before = await snapshot()
    # when
    data = await api.data(document, {"id": used}, workspace.token)
    # then
    assert_rejected(data, "IN_USE", ["id"])
    assert await snapshot() == before


@pytest.mark.parametrize(("kind", "document", "attr", "input_key", "db_field"), REFERENCED)
async def test_delete_moves_contacts_to_another_entry(
    api: Api,
    workspace: Workspace,
    library: Library,
    kind: str,
    document: str,
    attr: str,
    input_key: str,
    db_field: str,
) -> None:
    # given
    entries = getattr(library, attr)
    moved = [await make_contact(api, workspace, library, phone=phone(i)) for i in range(3)]
    stays = await make_contact(api, workspace, library, phone=phone(9), **{input_key: entries[1]})
    # when
    payload = await api.ok(document, {"id": entries[0], "to": entries[1]}, workspace.token)
    # then
    assert payload["deletedIds"] == [entries[0]]
    assert await KINDS[kind][3].get(oid(entries[0])) is None
    for contact in [*moved, stays]:
        stored = await Contact.get(oid(contact["id"]))
        assert stored is not None and getattr(stored, db_field) == oid(entries[1])
    assert await Contact.find({db_field: oid(entries[0])}).count() == 0


async def test_moving_contacts_on_status_delete_updates_status_changed_at(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    before = await Contact.get(oid(contact["id"]))
    assert before is not None
    # when
    await api.ok(DELETE_STATUS, {"id": library.statuses[0], "to": library.statuses[1]}, workspace.token)
    # then
    after = await Contact.get(oid(contact["id"]))
    assert after is not None
    assert after.status_changed_at >= before.status_changed_at
    assert after.updated_at >= before.updated_at
    data = await api.data(
        "query($id: ID!) { contact(id: $id) { status { name } } }", {"id": contact["id"]}, workspace.token
    )
    assert data["contact"]["status"]["name"] == "Won"


@pytest.mark.parametrize(("kind", "document", "attr", "input_key", "db_field"), REFERENCED)
async def test_move_contacts_to_an_unknown_entry_is_not_found(
    api: Api,
    workspace: Workspace,
    library: Library,
    kind: str,
    document: str,
    attr: str,
    input_key: str,
    db_field: str,
) -> None:
    # given
    await make_contact(api, workspace, library)
    entries = getattr(library, attr)
    await api.ok(document, {"id": entries[1]}, workspace.token)  # deleted: its id names nothing now
    before = await snapshot()
    # when
    data = await api.data(document, {"id": entries[0], "to": entries[1]}, workspace.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["moveContactsTo"])
    assert await snapshot() == before


@pytest.mark.parametrize(("kind", "document", "attr", "input_key", "db_field"), REFERENCED)
async def test_move_contacts_to_the_entry_itself_is_invalid(
    api: Api,
    workspace: Workspace,
    library: Library,
    kind: str,
    document: str,
    attr: str,
    input_key: str,
    db_field: str,
) -> None:
    # given
    await make_contact(api, workspace, library)
    entry = getattr(library, attr)[0]
    before = await snapshot()
    # when
    data = await api.data(document, {"id": entry, "to": entry}, workspace.token)
    # then
    assert_rejected(data, "INVALID", ["moveContactsTo"])
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("kind", "document", "attr", "setting"),
    [
        ("status", DELETE_STATUS, "statuses", "inboundStatusId"),
        ("source", DELETE_SOURCE, "sources", "inboundSourceId"),
    ],
)
async def test_delete_the_inbound_default_is_in_use(
    api: Api, workspace: Workspace, library: Library, kind: str, document: str, attr: str, setting: str
) -> None:
    # given an unused entry that the workspace names as its inbound default
    entries = getattr(library, attr)
    await api.ok(UPDATE_SETTINGS, {"input": {setting: entries[1]}}, workspace.token)
    before = await snapshot()
    # when
    plain = await api.data(document, {"id": entries[1]}, workspace.token)
    moving = await api.data(document, {"id": entries[1], "to": entries[0]}, workspace.token)
    # then
    assert_rejected(plain, "IN_USE", ["id"])
    assert_rejected(moving, "IN_USE", ["id"])
    assert await snapshot() == before


async def test_delete_a_former_inbound_default(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    await api.ok(UPDATE_SETTINGS, {"input": {"inboundStatusId": library.statuses[1]}}, workspace.token)
    await api.ok(UPDATE_SETTINGS, {"input": {"inboundStatusId": None}}, workspace.token)
    # when
    payload = await api.ok(DELETE_STATUS, {"id": library.statuses[1]}, workspace.token)
    # then
    assert payload["deletedIds"] == [library.statuses[1]]
    assert await Status.get(oid(library.statuses[1])) is None


# ---------------------------------------------------------------- groups


async def test_delete_group_removes_it_from_its_members(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    vip, newsletter = library.groups
    both = await make_contact(api, workspace, library, phone=phone(1), groupIds=[vip, newsletter])
    only = await make_contact(api, workspace, library, phone=phone(2), groupIds=[vip])
    other = await make_contact(api, workspace, library, phone=phone(3), groupIds=[newsletter])
    # when
    payload = await api.ok(DELETE_GROUP, {"id": vip}, workspace.token)
    # then
    assert payload["deletedIds"] == [vip]
    assert await Group.get(oid(vip)) is None
    assert await Contact.find({}).count() == 3
    assert await Contact.find({"group_ids": oid(vip)}).count() == 0
    groups = {c["id"]: (await Contact.get(oid(c["id"]))).group_ids for c in (both, only, other)}  # type: ignore[union-attr]
    assert groups == {both["id"]: [oid(newsletter)], only["id"]: [], other["id"]: [oid(newsletter)]}
    listed = await api.data(GROUPS, token=workspace.token)
    assert [(g["name"], g["contactCount"]) for g in listed["groups"]] == [("Newsletter", 2)]


async def test_delete_unknown_group_is_not_found(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    await api.ok(DELETE_GROUP, {"id": library.groups[0]}, workspace.token)
    before = await snapshot()
    # when
    data = await api.data(DELETE_GROUP, {"id": library.groups[0]}, workspace.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["id"])
    assert await snapshot() == before


# ---------------------------------------------------------------- custom fields


@pytest.mark.parametrize("key", ["a", "x_1", "shirt_size", "a" * 64])
async def test_good_custom_field_keys(api: Api, workspace: Workspace, key: str) -> None:
    # when
    field = await create_field(api, workspace, key=key, label="Label")
    # then
    assert field["key"] == key
    stored = await CustomField.get(oid(field["id"]))
    assert stored is not None and stored.key == key


@pytest.mark.parametrize("key", ["", "1a", "A", "a-b", "a" * 65, "_a", "a b", "é", "a\n", "size!"])
async def test_bad_custom_field_keys_are_invalid(api: Api, workspace: Workspace, key: str) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_CUSTOM_FIELD, {"input": {"key": key, "label": "L", "type": "TEXT"}}, workspace.token
    )
    # then
    assert_rejected(data, "INVALID", ["input", "key"])
    assert await snapshot() == before


async def test_custom_field_key_taken(api: Api, workspace: Workspace) -> None:
    # given
    await create_field(api, workspace, key="size")
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_CUSTOM_FIELD, {"input": {"key": "size", "label": "Other", "type": "NUMBER"}}, workspace.token
    )
    # then
    assert_rejected(data, "KEY_TAKEN", ["input", "key"])
    assert await snapshot() == before


async def test_custom_field_key_stays_taken_while_soft_deleted(api: Api, workspace: Workspace) -> None:
    # given
    field = await create_field(api, workspace, key="size")
    await api.ok(DELETE_CUSTOM_FIELD, {"id": field["id"]}, workspace.token)
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_CUSTOM_FIELD, {"input": {"key": "size", "label": "Size", "type": "TEXT"}}, workspace.token
    )
    # then
    assert_rejected(data, "KEY_TAKEN", ["input", "key"])
    assert await snapshot() == before


@pytest.mark.parametrize(
    "type_", ["TEXT", "TEXTAREA", "NUMBER", "DATE", "DATETIME", "DROPDOWN", "CHECKBOX", "URL"]
)
async def test_every_custom_field_type_is_creatable(api: Api, workspace: Workspace, type_: str) -> None:
    # given
    options = ["S", "M", "L"] if type_ == "DROPDOWN" else None
    # when
    payload = await api.ok(
        CREATE_CUSTOM_FIELD,
        {"input": {"key": "f", "label": "F", "type": type_, "options": options, "required": True}},
        workspace.token,
    )
    # then
    field = payload["customField"]
    assert field == {
        "id": field["id"],
        "key": "f",
        "label": "F",
        "type": type_,
        "options": options or [],
        "required": True,
        "position": 0,
        "deletedAt": None,
    }
    stored = await CustomField.get(oid(field["id"]))
    assert stored is not None
    assert (stored.type, stored.options, stored.required) == (type_, options or [], True)


@pytest.mark.parametrize("options", [None, []])
async def test_dropdown_without_options_is_required(
    api: Api, workspace: Workspace, options: list[str] | None
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_CUSTOM_FIELD,
        {"input": {"key": "size", "label": "Size", "type": "DROPDOWN", "options": options}},
        workspace.token,
    )
    # then
    assert_rejected(data, "REQUIRED", ["input", "options"])
    assert await snapshot() == before


@pytest.mark.parametrize("type_", ["TEXT", "NUMBER", "CHECKBOX"])
async def test_options_on_other_types_are_invalid(api: Api, workspace: Workspace, type_: str) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_CUSTOM_FIELD,
        {"input": {"key": "f", "label": "F", "type": type_, "options": ["a"]}},
        workspace.token,
    )
    # then
    assert_rejected(data, "INVALID", ["input", "options"])
    assert await snapshot() == before


async def test_options_on_update_of_other_types_are_invalid(api: Api, workspace: Workspace) -> None:
    # given
    field = await create_field(api, workspace, key="note")
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_CUSTOM_FIELD, {"id": field["id"], "input": {"options": ["a"]}}, workspace.token
    )
    # then
    assert_rejected(data, "INVALID", ["input", "options"])
    assert await snapshot() == before


async def test_duplicate_dropdown_options_are_invalid(api: Api, workspace: Workspace) -> None:
    # when
    data = await api.data(
        CREATE_CUSTOM_FIELD,
        {"input": {"key": "size", "label": "Size", "type": "DROPDOWN", "options": ["S", "s"]}},
        workspace.token,
    )
    # then
    assert_rejected(data, "INVALID", ["input", "options"])
    assert await CustomField.find({}).count() == 0


async def test_custom_fields_are_listed_by_position(api: Api, workspace: Workspace) -> None:
    # given
    await create_field(api, workspace, key="b", position=2)
    await create_field(api, workspace, key="a", position=1)
    auto = await create_field(api, workspace, key="c")
    # when
    data = await api.data(CUSTOM_FIELDS, token=workspace.token)
    # then
    assert auto["position"] == 3
    assert [(f["key"], f["position"]) for f in data["customFields"]] == [("a", 1), ("b", 2), ("c", 3)]


async def test_update_custom_field(api: Api, workspace: Workspace) -> None:
    # given
    field = await create_field(api, workspace, key="size", type="DROPDOWN", options=["S", "M"])
    # when
    payload = await api.ok(
        UPDATE_CUSTOM_FIELD,
        {
            "id": field["id"],
            "input": {"label": "Shirt size", "options": ["S", "M", "L"], "required": True, "position": 7},
        },
        workspace.token,
    )
    # then
    assert payload["customField"] == {
        **field,
        "label": "Shirt size",
        "options": ["S", "M", "L"],
        "required": True,
        "position": 7,
    }
    stored = await CustomField.get(oid(field["id"]))
    assert stored is not None
    assert (stored.key, stored.label, stored.options, stored.required, stored.position) == (
        "size",
        "Shirt size",
        ["S", "M", "L"],
        True,
        7,
    )


async def test_removing_a_dropdown_option_a_contact_holds_is_in_use(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    field = await create_field(
        api, workspace, key="tier", type="DROPDOWN", options=["gold", "silver", "bronze"]
    )
    await make_contact(api, workspace, library, customFields=[{"key": "tier", "value": "gold"}])
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_CUSTOM_FIELD, {"id": field["id"], "input": {"options": ["silver", "bronze"]}}, workspace.token
    )
    # then
    assert_rejected(data, "IN_USE", ["input", "options"])
    assert await snapshot() == before


async def test_removing_an_unused_dropdown_option(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    field = await create_field(
        api, workspace, key="tier", type="DROPDOWN", options=["gold", "silver", "bronze"]
    )
    await make_contact(api, workspace, library, customFields=[{"key": "tier", "value": "gold"}])
    # when
    payload = await api.ok(
        UPDATE_CUSTOM_FIELD, {"id": field["id"], "input": {"options": ["gold", "silver"]}}, workspace.token
    )
    # then
    assert payload["customField"]["options"] == ["gold", "silver"]
    stored = await CustomField.get(oid(field["id"]))
    assert stored is not None and stored.options == ["gold", "silver"]


async def test_soft_delete_hides_a_field_and_keeps_its_values(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    size = await create_field(api, workspace, key="size")
    await create_field(api, workspace, key="color")
    contact = await make_contact(
        api,
        workspace,
        library,
        customFields=[{"key": "size", "value": "XL"}, {"key": "color", "value": "red"}],
    )
    # when
    payload = await api.ok(DELETE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    # then the field is marked deleted
    assert payload["customField"]["id"] == size["id"]
    assert payload["customField"]["deletedAt"] is not None
    stored_field = await CustomField.get(oid(size["id"]))
    assert stored_field is not None and stored_field.deleted_at is not None
    # and gone from the live list, present with deletedAt in the full one
    live = (await api.data(CUSTOM_FIELDS, token=workspace.token))["customFields"]
    assert [f["key"] for f in live] == ["color"]
    everything = (await api.data(CUSTOM_FIELDS, {"includeDeleted": True}, workspace.token))["customFields"]
    assert [(f["key"], f["deletedAt"] is not None) for f in everything] == [("size", True), ("color", False)]
    assert everything[0]["deletedAt"] == payload["customField"]["deletedAt"]
    # and gone from the contact, whose stored value stays
    card = await api.data(CONTACT_CUSTOM_FIELDS, {"id": contact["id"], "key": "size"}, workspace.token)
    assert card["contact"] == {
        "customFields": [{"field": {"key": "color"}, "value": "red"}],
        "customField": None,
    }
    stored = await Contact.get(oid(contact["id"]))
    assert stored is not None and stored.value_of(oid(size["id"])) == "XL"


async def test_restore_brings_a_field_back_with_its_values(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    size = await create_field(api, workspace, key="size")
    contact = await make_contact(api, workspace, library, customFields=[{"key": "size", "value": "XL"}])
    await api.ok(DELETE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    # when
    payload = await api.ok(RESTORE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    # then
    assert payload["customField"] == {"id": size["id"], "key": "size", "deletedAt": None}
    stored = await CustomField.get(oid(size["id"]))
    assert stored is not None and stored.deleted_at is None
    live = (await api.data(CUSTOM_FIELDS, token=workspace.token))["customFields"]
    assert [f["key"] for f in live] == ["size"]
    card = await api.data(CONTACT_CUSTOM_FIELDS, {"id": contact["id"], "key": "size"}, workspace.token)
    assert card["contact"] == {
        "customFields": [{"field": {"key": "size"}, "value": "XL"}],
        "customField": "XL",
    }


async def test_a_soft_deleted_field_takes_no_new_values(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    size = await create_field(api, workspace, key="size")
    await api.ok(DELETE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    before = await snapshot()
    # when
    data = await api.data(
        """mutation($input: ContactInput!) { createContact(input: $input) { contact { id } userErrors { field code message } } }""",
        {
            "input": {
                "firstname": "Ada",
                "lastname": "Lovelace",
                "phone": phone(1),
                "statusId": library.statuses[0],
                "sourceId": library.sources[0],
                "customFields": [{"key": "size", "value": "XL"}],
            }
        },
        workspace.token,
    )
    # then
    assert_rejected(data, "INVALID", ["input", "customFields", "0", "key"])
    assert await snapshot() == before


async def test_purge_erases_a_field_and_every_stored_value(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    size = await create_field(api, workspace, key="size")
    await create_field(api, workspace, key="color")
    contacts = [
        await make_contact(
            api,
            workspace,
            library,
            phone=phone(i),
            customFields=[{"key": "size", "value": "XL"}, {"key": "color", "value": "red"}],
        )
        for i in range(3)
    ]
    await api.ok(DELETE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    # when
    payload = await api.ok(PURGE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    # then
    assert payload["deletedIds"] == [size["id"]]
    assert await CustomField.get(oid(size["id"])) is None
    assert await Contact.find({"custom_values.field_id": oid(size["id"])}).count() == 0
    for contact in contacts:
        stored = await Contact.get(oid(contact["id"]))
        assert stored is not None
        assert [(v.value) for v in stored.custom_values] == ["red"]
    everything = (await api.data(CUSTOM_FIELDS, {"includeDeleted": True}, workspace.token))["customFields"]
    assert [f["key"] for f in everything] == ["color"]


async def test_purging_a_live_field_is_blocked_and_keeps_its_values(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given a field in use that was never deleted
    size = await create_field(api, workspace, key="size")
    await make_contact(api, workspace, library, customFields=[{"key": "size", "value": "XL"}])
    before = await snapshot()
    # when
    data = await api.data(PURGE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    # then
    assert_rejected(data, "BLOCKED", ["id"])
    assert await snapshot() == before


async def test_a_purged_key_can_be_used_again(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    size = await create_field(api, workspace, key="size")
    contact = await make_contact(api, workspace, library, customFields=[{"key": "size", "value": "XL"}])
    await api.ok(DELETE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    await api.ok(PURGE_CUSTOM_FIELD, {"id": size["id"]}, workspace.token)
    # when
    again = await create_field(api, workspace, key="size", type="NUMBER")
    # then the new field starts without the old values
    assert again["id"] != size["id"]
    card = await api.data(CONTACT_CUSTOM_FIELDS, {"id": contact["id"], "key": "size"}, workspace.token)
    assert card["contact"] == {"customFields": [], "customField": None}
    assert await CustomField.find({"key": "size"}).count() == 1


@pytest.mark.parametrize(
    "document",
    [UPDATE_CUSTOM_FIELD, DELETE_CUSTOM_FIELD, RESTORE_CUSTOM_FIELD, PURGE_CUSTOM_FIELD],
    ids=operation_id,
)
async def test_unknown_custom_field_is_not_found(api: Api, workspace: Workspace, document: str) -> None:
    # given a purged field, whose id names nothing now
    field = await create_field(api, workspace, key="size")
    await api.ok(DELETE_CUSTOM_FIELD, {"id": field["id"]}, workspace.token)
    await api.ok(PURGE_CUSTOM_FIELD, {"id": field["id"]}, workspace.token)
    before = await snapshot()
    variables: dict[str, Any] = {"id": field["id"]}
    if document == UPDATE_CUSTOM_FIELD:
        variables["input"] = {"label": "X"}
    # when
    data = await api.data(document, variables, workspace.token)
    # then
    assert_rejected(data, "NOT_FOUND", ["id"])
    assert await snapshot() == before


async def test_library_mutations_need_library_manage(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"])
    before = await snapshot()
    # when
    data = await api.data(CREATE_STATUS, {"input": {"name": "Lost", "color": "#000000"}}, token)
    deleted = await api.data(DELETE_GROUP, {"id": library.groups[0]}, token)
    # then
    assert_rejected(data, "FORBIDDEN", None)
    assert_rejected(deleted, "FORBIDDEN", None)
    assert await snapshot() == before
    # while reading the library needs no permission
    listed = await api.data(STATUSES, token=token)
    assert [s["name"] for s in listed["statuses"]] == ["New", "Won"]


async def test_in_use_counts_contacts_a_view_own_manager_cannot_see(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given a library manager who sees only their own contacts, none of which use the status
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN", "LIBRARY_MANAGE"])
    await make_contact(api, workspace, library, statusId=library.statuses[1])
    before = await snapshot()
    # when
    data = await api.data(DELETE_STATUS, {"id": library.statuses[1]}, token)
    # then
    assert_rejected(data, "IN_USE", ["id"])
    assert await snapshot() == before


async def test_moving_contacts_moves_those_a_view_own_manager_cannot_see(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN", "LIBRARY_MANAGE"])
    hidden = await make_contact(api, workspace, library, statusId=library.statuses[1])
    # when
    await api.ok(DELETE_STATUS, {"id": library.statuses[1], "to": library.statuses[0]}, token)
    # then
    stored = await Contact.get(oid(hidden["id"]))
    assert stored is not None and stored.status_id == oid(library.statuses[0])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("name", "code"), [("", "REQUIRED"), (" \t ", "REQUIRED"), ("x" * 192, "INVALID")])
async def test_renaming_to_a_bad_name_is_rejected(
    api: Api, workspace: Workspace, kind: str, name: str, code: str
) -> None:
    # given
    entry = await create_entry(api, workspace, kind, "Fine")
    before = await snapshot()
    # when
    data = await api.data(
        UPDATES[kind], {"id": entry["id"], "input": entry_input(kind, name)}, workspace.token
    )
    # then
    assert_rejected(data, code, ["input", "name"])
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"label": ""}, "REQUIRED", "label"),
        ({"label": "x" * 192}, "INVALID", "label"),
        ({"position": -1}, "INVALID", "position"),
        ({"type": "DROPDOWN", "options": ["S", ""]}, "REQUIRED", "options"),
        ({"type": "DROPDOWN", "options": [f"o{i}" for i in range(201)]}, "LIMIT_EXCEEDED", "options"),
    ],
)
async def test_create_custom_field_with_bad_input(
    api: Api, workspace: Workspace, values: dict[str, Any], code: str, field: str
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(
        CREATE_CUSTOM_FIELD, {"input": {"key": "f", "label": "F", "type": "TEXT", **values}}, workspace.token
    )
    # then
    assert_rejected(data, code, ["input", field])
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"label": " "}, "REQUIRED", "label"),
        ({"options": []}, "REQUIRED", "options"),
        ({"options": ["a", "A"]}, "INVALID", "options"),
        ({"position": 100_001}, "INVALID", "position"),
    ],
)
async def test_update_custom_field_with_bad_input(
    api: Api, workspace: Workspace, values: dict[str, Any], code: str, field: str
) -> None:
    # given
    created = await create_field(api, workspace, key="size", type="DROPDOWN", options=["S"])
    before = await snapshot()
    # when
    data = await api.data(UPDATE_CUSTOM_FIELD, {"id": created["id"], "input": values}, workspace.token)
    # then
    assert_rejected(data, code, ["input", field])
    assert await snapshot() == before


async def test_deleting_a_deleted_field_keeps_its_deletion_time(api: Api, workspace: Workspace) -> None:
    # given
    field = await create_field(api, workspace, key="size")
    first = await api.ok(DELETE_CUSTOM_FIELD, {"id": field["id"]}, workspace.token)
    before = await snapshot()
    # when
    again = await api.ok(DELETE_CUSTOM_FIELD, {"id": field["id"]}, workspace.token)
    # then
    assert again["customField"]["deletedAt"] == first["customField"]["deletedAt"]
    assert await snapshot() == before

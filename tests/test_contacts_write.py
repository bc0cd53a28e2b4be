"""createContact, updateContact and the bulk contact mutations, through GraphQL over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId

from contactgraph.ids import decode_id, encode_id
from contactgraph.models import Contact

from .api import Api, Library, Workspace, make_contact, make_custom_field, make_library, phone

CONTACT_FIELDS = """
  id firstname lastname fullName phone waId email type company website description
  country city state zip address
  status { id } source { id } groups { id } assignedAgent { id }
  customFields { field { key } value }
  optedOut optedOutAt createdAt updatedAt
"""

CREATE_CONTACT = f"""
mutation($input: ContactInput!) {{
  createContact(input: $input) {{ contact {{ {CONTACT_FIELDS} }} userErrors {{ field code message }} }}
}}"""

UPDATE_CONTACT = f"""
mutation($id: ID!, $input: ContactPatch!, $expectedUpdatedAt: DateTime) {{
  updateContact(id: $id, input: $input, expectedUpdatedAt: $expectedUpdatedAt) {{
    contact {{ {CONTACT_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}"""

CREATE_CONTACT_ID = """
mutation($input: ContactInput!) {
  createContact(input: $input) { contact { id } userErrors { field code message } }
}"""

UPDATE_CONTACT_ID = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""

DELETE_CONTACTS = """
mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { field code message } } }"""

ADD_TO_GROUP = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  addContactsToGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { field code message } }
}"""

REMOVE_FROM_GROUP = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  removeContactsFromGroup(groupId: $groupId, contactIds: $contactIds) {
    count userErrors { field code message }
  }
}"""

ASSIGN_CONTACTS = """
mutation($contactIds: [ID!]!, $agentId: ID) {
  assignContacts(contactIds: $contactIds, agentId: $agentId) { count userErrors { field code message } }
}"""

SET_OPT_OUT = """
mutation($id: ID!, $optedOut: Boolean!) {
  setContactOptOut(id: $id, optedOut: $optedOut) {
    contact { id optedOut optedOutAt } userErrors { field code message }
  }
}"""

EXISTING_PHONE = "+14155550199"
EXISTING_EMAIL = "grace@example.com"


def unknown(kind: str) -> str:
    """A well-formed id of this kind that names no record."""
    return encode_id(kind, ObjectId())


async def snapshot() -> list[dict[str, Any]]:
    """Every stored contact, raw, in id order."""
    return await Contact.get_pymongo_collection().find({}, sort=[("_id", 1)]).to_list(None)  # type: ignore[no-any-return]


async def stored(contact_id: str) -> Contact:
    found = await Contact.find_one({"_id": decode_id(contact_id, "Contact")})
    assert found is not None
    return found


def errors_of(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def payload(api: Api, mutation: str, variables: dict[str, Any], workspace: Workspace) -> dict[str, Any]:
    """The payload of a single mutation, user errors or not."""
    data = await api.data(mutation, variables, workspace.token)
    return next(iter(data.values()))  # type: ignore[no-any-return]


def values_by_key(contact: dict[str, Any]) -> dict[str, Any]:
    return {item["field"]["key"]: item["value"] for item in contact["customFields"]}


FIELD_SPECS: dict[str, tuple[str, dict[str, Any]]] = {
    "note": ("TEXT", {}),
    "score": ("NUMBER", {}),
    "birthday": ("DATE", {}),
    "meeting": ("DATETIME", {}),
    "plan": ("DROPDOWN", {"options": ["basic", "pro"]}),
    "vip": ("CHECKBOX", {}),
    "site": ("URL", {}),
}


async def make_fields(api: Api, workspace: Workspace, keys: list[str]) -> dict[str, str]:
    """The custom fields of FIELD_SPECS with these keys: their ids by key."""
    ids = {}
    for key in dict.fromkeys(keys):
        if key in FIELD_SPECS:
            type, extra = FIELD_SPECS[key]
            ids[key] = (await make_custom_field(api, workspace, key, type, **extra))["id"]
    return ids


@pytest.fixture
async def fields(api: Api, workspace: Workspace) -> dict[str, str]:
    """One custom field of each type: their ids by key."""
    return await make_fields(api, workspace, list(FIELD_SPECS))


def valid_input(library: Library, **overrides: Any) -> dict[str, Any]:
    return {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": "+14155550101",
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
        **overrides,
    }


# ---------------------------------------------------------------- createContact: accepted input


async def test_create_contact_with_every_field(
    api: Api, workspace: Workspace, library: Library, fields: dict[str, str]
) -> None:
    # given
    agent_id, _ = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    data = valid_input(
        library,
        firstname="  Ada ",
        lastname=" Lovelace  ",
        email="Ada.Lovelace@Example.COM",
        type="CUSTOMER",
        groupIds=[library.groups[1], library.groups[0], library.groups[1]],
        assignedAgentId=agent_id,
        company="Analytical Engines",
        website="https://ada.example.com/about",
        description="First programmer",
        country="GB",
        city="London",
        state="",
        zip="W1",
        address="12 St James's Square",
        customFields=[
            {"key": "note", "value": "Notes on the engine"},
            {"key": "score", "value": 12.5},
            {"key": "birthday", "value": "1815-12-10"},
            {"key": "meeting", "value": "2024-01-31T11:00:00+02:00"},
            {"key": "plan", "value": "pro"},
            {"key": "vip", "value": False},
            {"key": "site", "value": "https://example.com/ada"},
        ],
    )
    # when
    payload = await api.ok(CREATE_CONTACT, {"input": data}, workspace.token)
    # then
    contact = payload["contact"]
    assert contact["firstname"] == "Ada"
    assert contact["lastname"] == "Lovelace"
    assert contact["fullName"] == "Ada Lovelace"
    assert contact["phone"] == "+14155550101"
    assert contact["waId"] == "14155550101"
    assert contact["email"] == "ada.lovelace@example.com"
    assert contact["type"] == "CUSTOMER"
    assert contact["status"] == {"id": library.statuses[0]}
    assert contact["source"] == {"id": library.sources[0]}
    assert contact["groups"] == [{"id": library.groups[1]}, {"id": library.groups[0]}]
    assert contact["assignedAgent"] == {"id": agent_id}
    assert contact["state"] is None
    assert contact["optedOut"] is False
    assert contact["optedOutAt"] is None
    assert values_by_key(contact) == {
        "note": "Notes on the engine",
        "score": 12.5,
        "birthday": "1815-12-10",
        "meeting": "2024-01-31T09:00:00.000+00:00",
        "plan": "pro",
        "vip": False,
        "site": "https://example.com/ada",
    }
    doc = await stored(contact["id"])
    assert str(doc.workspace_id) == str(decode_id(workspace.id, "Workspace"))
    assert (doc.firstname, doc.lastname, doc.phone, doc.email) == (
        "Ada",
        "Lovelace",
        "+14155550101",
        "ada.lovelace@example.com",
    )
    assert doc.type == "CUSTOMER"
    assert doc.status_id == decode_id(library.statuses[0], "ContactStatus")
    assert doc.source_id == decode_id(library.sources[0], "ContactSource")
    assert doc.group_ids == [decode_id(library.groups[1], "Group"), decode_id(library.groups[0], "Group")]
    assert doc.assigned_agent_id == decode_id(agent_id, "Agent")
    assert (doc.company, doc.website, doc.city, doc.state) == (
        "Analytical Engines",
        "https://ada.example.com/about",
        "London",
        None,
    )
    assert (doc.keys.first, doc.keys.last, doc.keys.full) == ("ada", "lovelace", "ada lovelace")
    stored_values = {str(v.field_id): v.value for v in doc.custom_values}
    assert stored_values[str(decode_id(fields["meeting"], "CustomField"))] == datetime(
        2024, 1, 31, 9, tzinfo=UTC
    )
    assert len(stored_values) == 7


async def test_create_contact_accepts_names_of_191_characters(
    api: Api, workspace: Workspace, library: Library
) -> None:
    name = "N" * 191
    payload = await api.ok(
        CREATE_CONTACT, {"input": valid_input(library, firstname=name, lastname=name)}, workspace.token
    )
    assert payload["contact"]["firstname"] == name
    assert (await stored(payload["contact"]["id"])).lastname == name


@pytest.mark.parametrize(
    ("spelling", "e164"),
    [
        ("+14155552671", "+14155552671"),
        ("14155552671", "+14155552671"),
        ("0044 7911 123456", "+447911123456"),
        ("00 1 415 555 2671", "+14155552671"),
        ("+44 (0)7911 123456", "+447911123456"),
        ("+1 415-555-2671", "+14155552671"),
        ("+1.415.555.2671", "+14155552671"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("(+1) 415 555 2671", "+14155552671"),
        ("1 (415) 555-2671", "+14155552671"),
        ("  +14155552671  ", "+14155552671"),
    ],
)
async def test_accepted_phone_spellings_are_stored_as_e164(
    api: Api, workspace: Workspace, library: Library, spelling: str, e164: str
) -> None:
    # when
    payload = await api.ok(CREATE_CONTACT, {"input": valid_input(library, phone=spelling)}, workspace.token)
    # then
    assert payload["contact"]["phone"] == e164
    assert payload["contact"]["waId"] == e164[1:]
    assert (await stored(payload["contact"]["id"])).phone == e164


async def test_created_contact_has_default_type_and_no_groups(
    api: Api, workspace: Workspace, library: Library
) -> None:
    payload = await api.ok(CREATE_CONTACT, {"input": valid_input(library)}, workspace.token)
    assert payload["contact"]["type"] == "LEAD"
    assert payload["contact"]["groups"] == []
    assert payload["contact"]["email"] is None
    doc = await stored(payload["contact"]["id"])
    assert (doc.type, doc.group_ids, doc.email, doc.custom_values) == ("LEAD", [], None, [])


# ---------------------------------------------------------------- bad input: create and update


@dataclass
class Bad:
    """A bad input: the fields it sets and the (path under "input", code) errors it gives."""

    given: Callable[[Library], dict[str, Any]]
    errors: list[tuple[list[str], str]]
    message: str | None = None

    def custom_keys(self, library: Library) -> list[str]:
        return [item["key"] for item in self.given(library).get("customFields", [])]


def sets(**given: Any) -> Callable[[Library], dict[str, Any]]:
    """An input that sets these fields, whatever the library."""
    return lambda library: given


BAD_INPUTS: dict[str, Bad] = {
    "firstname empty": Bad(sets(firstname=""), [(["firstname"], "REQUIRED")]),
    "firstname spaces": Bad(sets(firstname="   "), [(["firstname"], "REQUIRED")]),
    "firstname 192 chars": Bad(sets(firstname="x" * 192), [(["firstname"], "INVALID")]),
    "lastname empty": Bad(sets(lastname=""), [(["lastname"], "REQUIRED")]),
    "lastname spaces": Bad(sets(lastname=" \t "), [(["lastname"], "REQUIRED")]),
    "lastname 192 chars": Bad(sets(lastname="y" * 192), [(["lastname"], "INVALID")]),
    "firstname control char": Bad(sets(firstname="Ada\x00"), [(["firstname"], "INVALID")]),
    "phone empty": Bad(sets(phone=" "), [(["phone"], "REQUIRED")]),
    "national area code without country code": Bad(
        sets(phone="(415) 555-2671"), [(["phone"], "INVALID")], message="country code"
    ),
    "phone without country code": Bad(
        sets(phone="0123 456789"), [(["phone"], "INVALID")], message="country code"
    ),
    "phone letters": Bad(sets(phone="+1 415 CALL NOW"), [(["phone"], "INVALID")]),
    "phone invalid for country": Bad(sets(phone="+1 415 555"), [(["phone"], "INVALID")], message="+1"),
    "phone too many digits": Bad(sets(phone="+1415555267100000"), [(["phone"], "INVALID")]),
    "phone too long": Bad(sets(phone="+1 " + "5" * 60), [(["phone"], "INVALID")]),
    "phone taken": Bad(sets(phone="1 (415) 555-0199"), [(["phone"], "PHONE_TAKEN")]),
    "email no domain": Bad(sets(email="ada@"), [(["email"], "INVALID")]),
    "email no at": Bad(sets(email="ada.example.com"), [(["email"], "INVALID")]),
    "email two ats": Bad(sets(email="ada@@example.com"), [(["email"], "INVALID")]),
    "email taken other case": Bad(sets(email="Grace@Example.COM"), [(["email"], "EMAIL_TAKEN")]),
    "statusId unknown": Bad(sets(statusId=unknown("ContactStatus")), [(["statusId"], "NOT_FOUND")]),
    "statusId malformed": Bad(sets(statusId="not-an-id"), [(["statusId"], "NOT_FOUND")]),
    "statusId of a source": Bad(
        lambda library: {"statusId": library.sources[0]}, [(["statusId"], "NOT_FOUND")]
    ),
    "sourceId unknown": Bad(sets(sourceId=unknown("ContactSource")), [(["sourceId"], "NOT_FOUND")]),
    "sourceId malformed": Bad(sets(sourceId="%%%"), [(["sourceId"], "NOT_FOUND")]),
    "groupIds unknown at 1": Bad(
        lambda library: {"groupIds": [library.groups[0], unknown("Group")]},
        [(["groupIds", "1"], "NOT_FOUND")],
    ),
    "groupIds malformed at 0 and 2": Bad(
        lambda library: {"groupIds": ["x", library.groups[1], library.statuses[0]]},
        [(["groupIds", "0"], "NOT_FOUND"), (["groupIds", "2"], "NOT_FOUND")],
    ),
    "assignedAgentId unknown": Bad(
        sets(assignedAgentId=unknown("Agent")), [(["assignedAgentId"], "NOT_FOUND")]
    ),
    "website not a URL": Bad(sets(website="not a url"), [(["website"], "INVALID")]),
    "website ftp": Bad(sets(website="ftp://x.com"), [(["website"], "INVALID")]),
    "website without host": Bad(sets(website="https://"), [(["website"], "INVALID")]),
    "custom key unknown": Bad(
        sets(customFields=[{"key": "shoe_size", "value": "42"}]), [(["customFields", "0", "key"], "INVALID")]
    ),
    "custom key twice": Bad(
        sets(customFields=[{"key": "note", "value": "a"}, {"key": "note", "value": "b"}]),
        [(["customFields", "1", "key"], "INVALID")],
    ),
    "TEXT given a number": Bad(
        sets(customFields=[{"key": "note", "value": 12}]), [(["customFields", "0", "value"], "INVALID")]
    ),
    "NUMBER given a string": Bad(
        sets(customFields=[{"key": "score", "value": "12"}]), [(["customFields", "0", "value"], "INVALID")]
    ),
    "NUMBER given NaN as text": Bad(
        sets(customFields=[{"key": "score", "value": "NaN"}]), [(["customFields", "0", "value"], "INVALID")]
    ),
    "NUMBER too large": Bad(
        sets(customFields=[{"key": "score", "value": 2**63}]), [(["customFields", "0", "value"], "INVALID")]
    ),
    "TEXT too long": Bad(
        sets(customFields=[{"key": "note", "value": "n" * 1001}]),
        [(["customFields", "0", "value"], "INVALID")],
    ),
    "NUMBER given a boolean": Bad(
        sets(customFields=[{"key": "score", "value": True}]), [(["customFields", "0", "value"], "INVALID")]
    ),
    "DATE that does not exist": Bad(
        sets(customFields=[{"key": "birthday", "value": "2024-02-30"}]),
        [(["customFields", "0", "value"], "INVALID")],
    ),
    "DATE day first": Bad(
        sets(customFields=[{"key": "birthday", "value": "31/01/2024"}]),
        [(["customFields", "0", "value"], "INVALID")],
    ),
    "DATETIME without offset": Bad(
        sets(customFields=[{"key": "meeting", "value": "2024-01-31T09:00:00"}]),
        [(["customFields", "0", "value"], "INVALID")],
    ),
    "DROPDOWN not an option": Bad(
        sets(customFields=[{"key": "plan", "value": "enterprise"}]),
        [(["customFields", "0", "value"], "INVALID")],
    ),
    "CHECKBOX yes": Bad(
        sets(customFields=[{"key": "vip", "value": "yes"}]), [(["customFields", "0", "value"], "INVALID")]
    ),
    "URL http": Bad(
        sets(customFields=[{"key": "site", "value": "http://example.com"}]),
        [(["customFields", "0", "value"], "INVALID")],
    ),
    "second custom value bad": Bad(
        sets(customFields=[{"key": "vip", "value": True}, {"key": "plan", "value": "gold"}]),
        [(["customFields", "1", "value"], "INVALID")],
    ),
}


@pytest.fixture
async def existing(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    """A contact whose phone and email others may not take."""
    return await make_contact(
        api,
        workspace,
        library,
        firstname="Grace",
        lastname="Hopper",
        phone=EXISTING_PHONE,
        email=EXISTING_EMAIL,
    )


@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
async def test_bad_input_is_rejected_by_create_and_update(
    api: Api, workspace: Workspace, library: Library, existing: dict[str, Any], case: Bad
) -> None:
    # given
    await make_fields(api, workspace, case.custom_keys(library))
    contact = await make_contact(api, workspace, library, phone=phone(1), email="ada@example.com")
    before = await snapshot()
    expected = [(["input", *path], code) for path, code in case.errors]
    # when
    created = await api.data(
        CREATE_CONTACT_ID, {"input": valid_input(library, **case.given(library))}, workspace.token
    )
    updated = await api.data(
        UPDATE_CONTACT_ID, {"id": contact["id"], "input": case.given(library)}, workspace.token
    )
    # then
    for payload in (created["createContact"], updated["updateContact"]):
        assert payload["contact"] is None
        assert errors_of(payload) == expected
        if case.message:
            assert case.message in payload["userErrors"][0]["message"]
    assert await snapshot() == before


async def test_every_error_of_an_input_is_reported_together(
    api: Api, workspace: Workspace, library: Library, fields: dict[str, str], existing: dict[str, Any]
) -> None:
    # given
    before = await snapshot()
    data = valid_input(
        library,
        firstname=" ",
        lastname="z" * 192,
        phone=EXISTING_PHONE,
        email="nope",
        statusId=unknown("ContactStatus"),
        sourceId="bad",
        groupIds=[unknown("Group")],
        assignedAgentId=unknown("Agent"),
        website="ftp://x.com",
        customFields=[{"key": "nope", "value": 1}, {"key": "score", "value": "12"}],
    )
    # when
    payload = (await api.data(CREATE_CONTACT, {"input": data}, workspace.token))["createContact"]
    # then
    assert payload["contact"] is None
    assert sorted(errors_of(payload)) == sorted(
        [
            (["input", "firstname"], "REQUIRED"),
            (["input", "lastname"], "INVALID"),
            (["input", "phone"], "PHONE_TAKEN"),
            (["input", "email"], "INVALID"),
            (["input", "statusId"], "NOT_FOUND"),
            (["input", "sourceId"], "NOT_FOUND"),
            (["input", "groupIds", "0"], "NOT_FOUND"),
            (["input", "assignedAgentId"], "NOT_FOUND"),
            (["input", "website"], "INVALID"),
            (["input", "customFields", "0", "key"], "INVALID"),
            (["input", "customFields", "1", "value"], "INVALID"),
        ]
    )
    assert await snapshot() == before


async def test_required_custom_field_must_have_a_value_on_create(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "tier", "DROPDOWN", options=["gold", "silver"], required=True)
    await make_custom_field(api, workspace, "note", "TEXT")
    # when
    missing = await api.data(
        CREATE_CONTACT,
        {"input": valid_input(library, customFields=[{"key": "note", "value": "hi"}])},
        workspace.token,
    )
    cleared = await api.data(
        CREATE_CONTACT,
        {"input": valid_input(library, customFields=[{"key": "tier", "value": None}])},
        workspace.token,
    )
    invalid = await api.data(
        CREATE_CONTACT,
        {"input": valid_input(library, customFields=[{"key": "tier", "value": "bronze"}])},
        workspace.token,
    )
    given = await api.ok(
        CREATE_CONTACT,
        {"input": valid_input(library, customFields=[{"key": "tier", "value": "gold"}])},
        workspace.token,
    )
    # then
    assert missing["createContact"]["contact"] is None
    assert errors_of(missing["createContact"]) == [(["input", "customFields"], "REQUIRED")]
    assert "tier" in missing["createContact"]["userErrors"][0]["message"]
    assert errors_of(cleared["createContact"]) == [(["input", "customFields", "0", "value"], "REQUIRED")]
    assert errors_of(invalid["createContact"]) == [(["input", "customFields", "0", "value"], "INVALID")]
    assert values_by_key(given["contact"]) == {"tier": "gold"}
    assert [doc["_id"] for doc in await snapshot()] == [decode_id(given["contact"]["id"], "Contact")]


async def test_phone_taken_also_by_another_spelling_and_by_other_phones(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    first = await make_contact(api, workspace, library, phone="+14155552671")
    await Contact.get_pymongo_collection().update_one(
        {"_id": decode_id(first["id"], "Contact")}, {"$set": {"other_phones": ["+447911123456"]}}
    )
    before = await snapshot()
    # when
    same = await api.data(
        CREATE_CONTACT, {"input": valid_input(library, phone="14155552671")}, workspace.token
    )
    merged = await api.data(
        CREATE_CONTACT, {"input": valid_input(library, phone="0044 7911 123456")}, workspace.token
    )
    # then
    assert errors_of(same["createContact"]) == [(["input", "phone"], "PHONE_TAKEN")]
    assert errors_of(merged["createContact"]) == [(["input", "phone"], "PHONE_TAKEN")]
    assert await snapshot() == before


async def test_concurrent_creates_of_one_phone_make_one_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # when
    spellings = ["+14155552671", "14155552671", "+1 415-555-2671", "(+1) 415 555 2671"]
    responses = await asyncio.gather(
        *(
            api.post(
                CREATE_CONTACT_ID,
                {"input": valid_input(library, phone=p, email=f"{i}@x.example")},
                workspace.token,
            )
            for i, p in enumerate(spellings)
        )
    )
    # then
    payloads = [response.json()["data"]["createContact"] for response in responses]
    created = [p["contact"]["id"] for p in payloads if p["contact"]]
    assert len(created) == 1
    assert sorted(errors_of(p) for p in payloads) == [[]] + [[(["input", "phone"], "PHONE_TAKEN")]] * 3
    assert [doc["_id"] for doc in await snapshot()] == [decode_id(created[0], "Contact")]


async def test_the_same_phone_and_email_are_free_in_another_workspace(
    api: Api, workspace: Workspace, library: Library, existing: dict[str, Any]
) -> None:
    # given
    other = await api.create_workspace("Other")
    other_library = await make_library(api, other)
    # when
    payload = await api.ok(
        CREATE_CONTACT,
        {"input": valid_input(other_library, phone=EXISTING_PHONE, email=EXISTING_EMAIL)},
        other.token,
    )
    # then
    assert payload["contact"]["phone"] == EXISTING_PHONE
    assert await Contact.find({"phone": EXISTING_PHONE}).count() == 2


# ---------------------------------------------------------------- updateContact


@pytest.fixture
async def full(api: Api, workspace: Workspace, library: Library, fields: dict[str, str]) -> dict[str, Any]:
    """A contact with every optional field set."""
    agent_id, _ = await api.agent_token(workspace, ["CONTACT_VIEW"])
    return await make_contact(
        api,
        workspace,
        library,
        email="ada@example.com",
        company="Engines Ltd",
        website="https://ada.example.com",
        city="London",
        groupIds=[library.groups[0], library.groups[1]],
        assignedAgentId=agent_id,
        customFields=[{"key": "note", "value": "hello"}, {"key": "score", "value": 7}],
    )


def without(doc: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in names}


async def test_update_changes_only_the_given_fields(
    api: Api, workspace: Workspace, library: Library, full: dict[str, Any]
) -> None:
    # given
    [before] = await snapshot()
    # when
    payload = await api.ok(
        UPDATE_CONTACT,
        {"id": full["id"], "input": {"company": "Babbage & Co", "lastname": "King"}},
        workspace.token,
    )
    # then
    assert payload["contact"]["company"] == "Babbage & Co"
    assert payload["contact"]["lastname"] == "King"
    assert payload["contact"]["email"] == "ada@example.com"
    [after] = await snapshot()
    assert after["company"] == "Babbage & Co"
    assert after["lastname"] == "King"
    assert after["keys"] == {"first": "ada", "last": "king", "full": "ada king"}
    assert after["updated_at"] > before["updated_at"]
    assert {"=king", "babbag"} <= set(after["search_terms"]) and "=lovelace" not in after["search_terms"]
    derived = ("keys", "search_terms", "updated_at")
    assert without(after, "company", "lastname", *derived) == without(before, "company", "lastname", *derived)


async def test_update_with_nothing_changed_writes_nothing(
    api: Api, workspace: Workspace, full: dict[str, Any]
) -> None:
    before = await snapshot()
    payload = await api.ok(
        UPDATE_CONTACT,
        {"id": full["id"], "input": {"company": "Engines Ltd", "phone": "1 415 555 0100"}},
        workspace.token,
    )
    assert payload["contact"]["updatedAt"] == full["updatedAt"]
    assert await snapshot() == before


async def test_null_clears_optional_fields(api: Api, workspace: Workspace, full: dict[str, Any]) -> None:
    # when
    payload = await api.ok(
        UPDATE_CONTACT,
        {
            "id": full["id"],
            "input": {
                "email": None,
                "company": None,
                "website": None,
                "city": None,
                "assignedAgentId": None,
                "groupIds": None,
            },
        },
        workspace.token,
    )
    # then
    contact = payload["contact"]
    assert (contact["email"], contact["company"], contact["website"], contact["city"]) == (None,) * 4
    assert contact["assignedAgent"] is None
    assert contact["groups"] == []
    doc = await stored(full["id"])
    assert (doc.email, doc.company, doc.website, doc.city, doc.assigned_agent_id) == (None,) * 5
    assert doc.group_ids == []
    assert doc.firstname == "Ada"
    assert len(doc.custom_values) == 2


async def test_an_empty_group_list_clears_groups(
    api: Api, workspace: Workspace, full: dict[str, Any]
) -> None:
    payload = await api.ok(UPDATE_CONTACT, {"id": full["id"], "input": {"groupIds": []}}, workspace.token)
    assert payload["contact"]["groups"] == []
    assert (await stored(full["id"])).group_ids == []


@pytest.mark.parametrize("name", ["firstname", "lastname", "phone", "statusId", "sourceId", "type"])
async def test_null_on_a_required_field_is_required(
    api: Api, workspace: Workspace, full: dict[str, Any], name: str
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(UPDATE_CONTACT, {"id": full["id"], "input": {name: None}}, workspace.token)
    # then
    assert data["updateContact"]["contact"] is None
    assert errors_of(data["updateContact"]) == [(["input", name], "REQUIRED")]
    assert await snapshot() == before


async def test_nulls_on_several_required_fields_are_reported_together(
    api: Api, workspace: Workspace, full: dict[str, Any]
) -> None:
    before = await snapshot()
    data = await api.data(
        UPDATE_CONTACT,
        {"id": full["id"], "input": {"firstname": None, "phone": None, "statusId": None, "company": "X"}},
        workspace.token,
    )
    assert errors_of(data["updateContact"]) == [
        (["input", "firstname"], "REQUIRED"),
        (["input", "phone"], "REQUIRED"),
        (["input", "statusId"], "REQUIRED"),
    ]
    assert await snapshot() == before


async def test_update_changes_references_and_type(
    api: Api, workspace: Workspace, library: Library, full: dict[str, Any]
) -> None:
    # given
    [before] = await snapshot()
    # when
    payload = await api.ok(
        UPDATE_CONTACT,
        {
            "id": full["id"],
            "input": {
                "statusId": library.statuses[1],
                "sourceId": library.sources[1],
                "groupIds": [library.groups[1]],
                "type": "GUEST",
                "phone": "+44 7911 123456",
                "email": "ADA@Engines.example",
            },
        },
        workspace.token,
    )
    # then
    contact = payload["contact"]
    assert contact["status"] == {"id": library.statuses[1]}
    assert contact["source"] == {"id": library.sources[1]}
    assert contact["groups"] == [{"id": library.groups[1]}]
    assert (contact["type"], contact["phone"], contact["waId"]) == ("GUEST", "+447911123456", "447911123456")
    assert contact["email"] == "ada@engines.example"
    doc = await stored(full["id"])
    assert doc.status_id == decode_id(library.statuses[1], "ContactStatus")
    assert doc.source_id == decode_id(library.sources[1], "ContactSource")
    assert doc.group_ids == [decode_id(library.groups[1], "Group")]
    assert (doc.type, doc.phone, doc.email) == ("GUEST", "+447911123456", "ada@engines.example")
    assert doc.status_changed_at > before["status_changed_at"]


async def test_custom_fields_are_merged_into_existing_values(
    api: Api, workspace: Workspace, full: dict[str, Any]
) -> None:
    # when
    changed = await api.ok(
        UPDATE_CONTACT,
        {
            "id": full["id"],
            "input": {"customFields": [{"key": "score", "value": 99}, {"key": "vip", "value": True}]},
        },
        workspace.token,
    )
    removed = await api.ok(
        UPDATE_CONTACT,
        {"id": full["id"], "input": {"customFields": [{"key": "note", "value": None}]}},
        workspace.token,
    )
    # then
    assert values_by_key(changed["contact"]) == {"note": "hello", "score": 99, "vip": True}
    assert values_by_key(removed["contact"]) == {"score": 99, "vip": True}
    doc = await stored(full["id"])
    assert sorted(str(v.value) for v in doc.custom_values) == ["99", "True"]


async def test_a_required_custom_field_cannot_be_cleared(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "tier", "TEXT", required=True)
    contact = await make_contact(api, workspace, library, customFields=[{"key": "tier", "value": "gold"}])
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_CONTACT,
        {"id": contact["id"], "input": {"customFields": [{"key": "tier", "value": None}]}},
        workspace.token,
    )
    kept = await api.ok(UPDATE_CONTACT, {"id": contact["id"], "input": {"city": "Paris"}}, workspace.token)
    # then
    assert data["updateContact"]["contact"] is None
    assert errors_of(data["updateContact"]) == [(["input", "customFields", "0", "value"], "REQUIRED")]
    assert kept["contact"]["city"] == "Paris"
    assert before[0]["custom_values"] == (await snapshot())[0]["custom_values"]


async def test_phone_change_to_a_taken_phone_is_phone_taken(
    api: Api, workspace: Workspace, library: Library, existing: dict[str, Any]
) -> None:
    # given
    contact = await make_contact(api, workspace, library, phone=phone(1))
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_CONTACT, {"id": contact["id"], "input": {"phone": "14155550199"}}, workspace.token
    )
    email = await api.data(
        UPDATE_CONTACT, {"id": contact["id"], "input": {"email": "GRACE@example.com"}}, workspace.token
    )
    # then
    assert data["updateContact"]["contact"] is None
    assert errors_of(data["updateContact"]) == [(["input", "phone"], "PHONE_TAKEN")]
    assert errors_of(email["updateContact"]) == [(["input", "email"], "EMAIL_TAKEN")]
    assert await snapshot() == before


async def test_update_with_the_current_updated_at_succeeds(
    api: Api, workspace: Workspace, full: dict[str, Any]
) -> None:
    payload = await api.ok(
        UPDATE_CONTACT,
        {"id": full["id"], "input": {"city": "Paris"}, "expectedUpdatedAt": full["updatedAt"]},
        workspace.token,
    )
    assert payload["contact"]["city"] == "Paris"
    assert payload["contact"]["updatedAt"] > full["updatedAt"]
    assert (await stored(full["id"])).city == "Paris"


async def test_update_with_a_stale_updated_at_is_a_conflict(
    api: Api, workspace: Workspace, full: dict[str, Any]
) -> None:
    # given
    first = await api.ok(UPDATE_CONTACT, {"id": full["id"], "input": {"city": "Paris"}}, workspace.token)
    before = await snapshot()
    # when
    data = await api.data(
        UPDATE_CONTACT,
        {"id": full["id"], "input": {"city": "Rome"}, "expectedUpdatedAt": full["updatedAt"]},
        workspace.token,
    )
    # then
    assert first["contact"]["updatedAt"] != full["updatedAt"]
    assert data["updateContact"]["contact"] is None
    assert errors_of(data["updateContact"]) == [(["expectedUpdatedAt"], "CONFLICT")]
    assert await snapshot() == before


async def test_updated_at_moves_forward_on_every_update(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = (await api.ok(CREATE_CONTACT, {"input": valid_input(library)}, workspace.token))["contact"]
    # when
    seen = [contact["updatedAt"]]
    for city in ("Paris", "Rome", "Oslo"):
        payload = await api.ok(
            UPDATE_CONTACT, {"id": contact["id"], "input": {"city": city}}, workspace.token
        )
        seen.append(payload["contact"]["updatedAt"])
    # then
    assert seen == sorted(set(seen))
    doc = await stored(contact["id"])
    assert doc.updated_at == datetime.fromisoformat(seen[-1])
    assert doc.created_at == datetime.fromisoformat(contact["createdAt"])


async def test_update_of_an_unknown_contact_is_not_found(
    api: Api, workspace: Workspace, library: Library
) -> None:
    await make_contact(api, workspace, library)
    before = await snapshot()
    for contact_id in (unknown("Contact"), "garbage", library.groups[0]):
        data = await api.data(UPDATE_CONTACT, {"id": contact_id, "input": {"city": "Rome"}}, workspace.token)
        assert data["updateContact"]["contact"] is None
        assert errors_of(data["updateContact"]) == [(["id"], "NOT_FOUND")]
    assert await snapshot() == before


# ---------------------------------------------------------------- deleteContacts


async def test_delete_contacts_reports_unknown_ids_by_index(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    a, b, c = [await make_contact(api, workspace, library, phone=phone(i)) for i in range(3)]
    # when
    payload = (
        await api.data(
            DELETE_CONTACTS, {"ids": [a["id"], unknown("Contact"), c["id"], "garbage"]}, workspace.token
        )
    )["deleteContacts"]
    # then
    assert payload["deletedIds"] == [a["id"], c["id"]]
    assert errors_of(payload) == [(["ids", "1"], "NOT_FOUND"), (["ids", "3"], "NOT_FOUND")]
    assert [doc["_id"] for doc in await snapshot()] == [decode_id(b["id"], "Contact")]


async def test_delete_contacts_of_another_workspace_is_not_found(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    other = await api.create_workspace("Other")
    # when
    payload = (await api.data(DELETE_CONTACTS, {"ids": [contact["id"]]}, other.token))["deleteContacts"]
    # then
    assert payload["deletedIds"] == []
    assert errors_of(payload) == [(["ids", "0"], "NOT_FOUND")]
    assert len(await snapshot()) == 1


# ---------------------------------------------------------------- group membership


async def test_add_and_remove_contacts_count_only_those_changed(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    group = library.groups[0]
    a = await make_contact(api, workspace, library, phone=phone(1), groupIds=[group])
    b = await make_contact(api, workspace, library, phone=phone(2))
    c = await make_contact(api, workspace, library, phone=phone(3), groupIds=[library.groups[1]])
    ids = [a["id"], b["id"], c["id"]]
    # when
    added = await api.ok(ADD_TO_GROUP, {"groupId": group, "contactIds": ids}, workspace.token)
    again = await api.ok(ADD_TO_GROUP, {"groupId": group, "contactIds": ids}, workspace.token)
    # then
    assert (added["count"], again["count"]) == (2, 0)
    g0, g1 = (decode_id(g, "Group") for g in library.groups)
    assert [(await stored(i)).group_ids for i in ids] == [[g0], [g0], [g1, g0]]
    # when
    removed = await api.ok(
        REMOVE_FROM_GROUP, {"groupId": group, "contactIds": [a["id"], c["id"]]}, workspace.token
    )
    again = await api.ok(REMOVE_FROM_GROUP, {"groupId": group, "contactIds": [a["id"]]}, workspace.token)
    # then
    assert (removed["count"], again["count"]) == (2, 0)
    assert [(await stored(i)).group_ids for i in ids] == [[], [g0], [g1]]


@pytest.mark.parametrize("mutation", [ADD_TO_GROUP, REMOVE_FROM_GROUP], ids=["add", "remove"])
async def test_group_membership_with_unknown_ids_writes_nothing(
    api: Api, workspace: Workspace, library: Library, mutation: str
) -> None:
    # given
    group = library.groups[0]
    a = await make_contact(api, workspace, library, phone=phone(1))
    b = await make_contact(api, workspace, library, phone=phone(2), groupIds=[group])
    before = await snapshot()
    contact_ids = [a["id"], b["id"]]
    # when
    no_group = await payload(
        api, mutation, {"groupId": unknown("Group"), "contactIds": contact_ids}, workspace
    )
    no_contact = await payload(
        api, mutation, {"groupId": group, "contactIds": [*contact_ids, unknown("Contact")]}, workspace
    )
    both = await payload(api, mutation, {"groupId": "x", "contactIds": ["y", a["id"]]}, workspace)
    # then
    assert (no_group["count"], errors_of(no_group)) == (0, [(["groupId"], "NOT_FOUND")])
    assert (no_contact["count"], errors_of(no_contact)) == (0, [(["contactIds", "2"], "NOT_FOUND")])
    assert errors_of(both) == [(["groupId"], "NOT_FOUND"), (["contactIds", "0"], "NOT_FOUND")]
    assert await snapshot() == before


# ---------------------------------------------------------------- assignContacts


async def test_assign_and_unassign_contacts(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    agent_id, _ = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    a, b, c = [await make_contact(api, workspace, library, phone=phone(i)) for i in range(3)]
    # when
    first = await api.ok(
        ASSIGN_CONTACTS, {"contactIds": [a["id"], b["id"]], "agentId": agent_id}, workspace.token
    )
    second = await api.ok(
        ASSIGN_CONTACTS, {"contactIds": [a["id"], b["id"], c["id"]], "agentId": agent_id}, workspace.token
    )
    # then
    assert (first["count"], second["count"]) == (2, 1)
    agent_oid = decode_id(agent_id, "Agent")
    assert [(await stored(x["id"])).assigned_agent_id for x in (a, b, c)] == [agent_oid] * 3
    # when
    unassigned = await api.ok(
        ASSIGN_CONTACTS, {"contactIds": [a["id"], c["id"]], "agentId": None}, workspace.token
    )
    # then
    assert unassigned["count"] == 2
    assert [(await stored(x["id"])).assigned_agent_id for x in (a, b, c)] == [None, agent_oid, None]


async def test_assign_to_an_unknown_agent_or_contact_writes_nothing(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    a = await make_contact(api, workspace, library)
    before = await snapshot()
    # when
    no_agent = await api.data(
        ASSIGN_CONTACTS, {"contactIds": [a["id"]], "agentId": unknown("Agent")}, workspace.token
    )
    no_contact = await api.data(
        ASSIGN_CONTACTS, {"contactIds": [a["id"], "nope"], "agentId": workspace.agent_id}, workspace.token
    )
    # then
    assert errors_of(no_agent["assignContacts"]) == [(["agentId"], "NOT_FOUND")]
    assert errors_of(no_contact["assignContacts"]) == [(["contactIds", "1"], "NOT_FOUND")]
    assert no_contact["assignContacts"]["count"] == 0
    assert await snapshot() == before


# ---------------------------------------------------------------- setContactOptOut


async def test_opt_out_sets_and_clears_opted_out_at(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    contact = await make_contact(api, workspace, library)
    # when
    out = await api.ok(SET_OPT_OUT, {"id": contact["id"], "optedOut": True}, workspace.token)
    # then
    assert out["contact"]["optedOut"] is True
    opted_out_at = out["contact"]["optedOutAt"]
    assert opted_out_at is not None
    doc = await stored(contact["id"])
    assert doc.opted_out is True
    assert doc.opted_out_at == datetime.fromisoformat(opted_out_at)
    # when
    again = await api.ok(SET_OPT_OUT, {"id": contact["id"], "optedOut": True}, workspace.token)
    back = await api.ok(SET_OPT_OUT, {"id": contact["id"], "optedOut": False}, workspace.token)
    # then
    assert again["contact"]["optedOutAt"] == opted_out_at
    assert (back["contact"]["optedOut"], back["contact"]["optedOutAt"]) == (False, None)
    doc = await stored(contact["id"])
    assert (doc.opted_out, doc.opted_out_at) == (False, None)


async def test_opt_out_of_an_unknown_contact_is_not_found(api: Api, workspace: Workspace) -> None:
    data = await api.data(SET_OPT_OUT, {"id": unknown("Contact"), "optedOut": True}, workspace.token)
    assert data["setContactOptOut"]["contact"] is None
    assert errors_of(data["setContactOptOut"]) == [(["id"], "NOT_FOUND")]

"""setContactCustomFields: a bot's text answers read as each field's type, all or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from contactgraph.events import Event, EventType
from contactgraph.models import Contact

from .api import Api, Library, Workspace, make_contact, make_custom_field
from .checks import assert_rejected, oid, phantom, snapshot

SET_VALUES = """
mutation($contactId: ID, $phone: String, $values: [CustomFieldValueInput!]!) {
  setContactCustomFields(contactId: $contactId, phone: $phone, values: $values) {
    contact { id customFields { field { key } value } }
    userErrors { field code message }
  }
}"""

NUMBER = "+14155552671"


@pytest.fixture
async def contact(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    return await make_contact(api, workspace, library, phone=NUMBER)


def values(contact: dict[str, Any]) -> dict[str, Any]:
    return {item["field"]["key"]: item["value"] for item in contact["customFields"]}


async def stored_values(contact_id: str) -> dict[str, Any]:
    """The stored values, by field id as the API names it (no keys without the library)."""
    found = await Contact.get(oid(contact_id))
    assert found is not None
    return {str(v.field_id): v.value for v in found.custom_values}


@pytest.mark.parametrize(
    ("type", "extra", "sent", "answer"),
    [
        ("NUMBER", {}, "42", 42),
        ("NUMBER", {}, " -3.5 ", -3.5),
        ("NUMBER", {}, 7, 7),
        ("CHECKBOX", {}, "Yes", True),
        ("CHECKBOX", {}, "no", False),
        ("CHECKBOX", {}, "TRUE", True),
        ("CHECKBOX", {}, "0", False),
        ("CHECKBOX", {}, "1", True),
        ("CHECKBOX", {}, False, False),
        ("DATE", {}, "2024-05-01", "2024-05-01"),
        ("DATETIME", {}, "2024-05-01T10:00:00+02:00", "2024-05-01T08:00:00.000+00:00"),
        ("DATETIME", {}, "2024-05-01T10:00:00", "2024-05-01T10:00:00.000+00:00"),
        ("DROPDOWN", {"options": ["Basic", "Pro"]}, "PRO", "Pro"),
        ("DROPDOWN", {"options": ["Basic", "Pro"]}, " basic", "Basic"),
        ("TEXT", {}, " as typed ", " as typed "),
        ("URL", {}, "https://example.com/a", "https://example.com/a"),
    ],
)
async def test_text_is_read_as_the_fields_type(
    api: Api,
    workspace: Workspace,
    contact: dict[str, Any],
    type: str,
    extra: dict[str, Any],
    sent: Any,
    answer: Any,
) -> None:
    # given
    await make_custom_field(api, workspace, "answer", type, **extra)
    # when
    payload = await api.ok(
        SET_VALUES,
        {"contactId": contact["id"], "values": [{"key": "answer", "value": sent}]},
        workspace.token,
    )
    # then
    assert values(payload["contact"]) == {"answer": answer}
    [stored] = (await stored_values(contact["id"])).values()
    assert (stored.isoformat(timespec="milliseconds") if isinstance(stored, datetime) else stored) == answer


@pytest.mark.parametrize(
    ("type", "extra", "sent"),
    [
        ("NUMBER", {}, "twelve"),
        ("NUMBER", {}, "1,5"),
        ("NUMBER", {}, "nan"),
        ("CHECKBOX", {}, "maybe"),
        ("CHECKBOX", {}, 2),
        ("DATE", {}, "1 May 2024"),
        ("DATE", {}, "2024-02-30"),
        ("DATETIME", {}, "tomorrow"),
        ("DROPDOWN", {"options": ["Basic", "Pro"]}, "Gold"),
        ("URL", {}, "ftp://example.com"),
    ],
)
async def test_a_value_that_cannot_be_read_rejects_every_value_and_names_its_key(
    api: Api,
    workspace: Workspace,
    contact: dict[str, Any],
    type: str,
    extra: dict[str, Any],
    sent: Any,
) -> None:
    # given
    await make_custom_field(api, workspace, "fine", "TEXT")
    await make_custom_field(api, workspace, "answer", type, **extra)
    before = await snapshot()
    # when
    data = await api.data(
        SET_VALUES,
        {
            "contactId": contact["id"],
            "values": [{"key": "fine", "value": "ok"}, {"key": "answer", "value": sent}],
        },
        workspace.token,
    )
    # then
    payload = assert_rejected(data, "INVALID", ["values", "1", "value"])
    assert "'answer'" in payload["userErrors"][0]["message"]
    assert await snapshot() == before


async def test_answers_by_phone_are_merged_into_the_existing_values(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    # given
    await make_custom_field(api, workspace, "plan", "DROPDOWN", options=["Basic", "Pro"])
    await make_custom_field(api, workspace, "seats", "NUMBER")
    await api.ok(
        SET_VALUES, {"contactId": contact["id"], "values": [{"key": "plan", "value": "pro"}]}, workspace.token
    )
    # when
    payload = await api.ok(
        SET_VALUES, {"phone": "1 (415) 555-2671", "values": [{"key": "seats", "value": "3"}]}, workspace.token
    )
    # then
    assert payload["contact"]["id"] == contact["id"]
    assert values(payload["contact"]) == {"plan": "Pro", "seats": 3}
    assert sorted(map(str, (await stored_values(contact["id"])).values())) == ["3", "Pro"]
    updates = await Event.find({"contact_id": oid(contact["id"]), "type": EventType.UPDATED.value}).count()
    assert updates == 2


async def test_null_clears_a_value_but_not_a_required_one(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    # given
    await make_custom_field(api, workspace, "note", "TEXT")
    await make_custom_field(api, workspace, "tier", "TEXT")
    answers = [{"key": "note", "value": "hi"}, {"key": "tier", "value": "gold"}]
    await api.ok(SET_VALUES, {"contactId": contact["id"], "values": answers}, workspace.token)
    field = await make_custom_field(api, workspace, "must", "TEXT", required=True)
    await api.ok(
        SET_VALUES, {"contactId": contact["id"], "values": [{"key": "must", "value": "x"}]}, workspace.token
    )
    before = await snapshot()
    # when
    refused = await api.data(
        SET_VALUES,
        {
            "contactId": contact["id"],
            "values": [{"key": "note", "value": None}, {"key": "must", "value": None}],
        },
        workspace.token,
    )
    after_refusal = await snapshot()
    cleared = await api.ok(
        SET_VALUES, {"contactId": contact["id"], "values": [{"key": "note", "value": None}]}, workspace.token
    )
    # then
    assert_rejected(refused, "REQUIRED", ["values", "1", "value"])
    assert after_refusal == before
    assert values(cleared["contact"]) == {"tier": "gold", "must": "x"}
    stored = await stored_values(contact["id"])
    assert stored[str(oid(field["id"]))] == "x" and "hi" not in stored.values()


async def test_answers_that_change_nothing_write_nothing(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    # given
    await make_custom_field(api, workspace, "seats", "NUMBER")
    await api.ok(
        SET_VALUES, {"contactId": contact["id"], "values": [{"key": "seats", "value": 3}]}, workspace.token
    )
    before = await snapshot()
    # when
    payload = await api.ok(
        SET_VALUES, {"contactId": contact["id"], "values": [{"key": "seats", "value": "3"}]}, workspace.token
    )
    # then
    assert values(payload["contact"]) == {"seats": 3}
    assert await snapshot() == before


async def test_unknown_and_repeated_keys_are_invalid(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    # given
    await make_custom_field(api, workspace, "seats", "NUMBER")
    before = await snapshot()
    # when
    data = await api.data(
        SET_VALUES,
        {
            "contactId": contact["id"],
            "values": [
                {"key": "nope", "value": 1},
                {"key": "seats", "value": 1},
                {"key": "seats", "value": 2},
            ],
        },
        workspace.token,
    )
    # then
    errors = [(e["code"], e["field"]) for e in data["setContactCustomFields"]["userErrors"]]
    assert errors == [("INVALID", ["values", "0", "key"]), ("INVALID", ["values", "2", "key"])]
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({}, "INVALID", ["contactId"]),
        ({"contactId": "CONTACT", "phone": NUMBER}, "INVALID", ["contactId"]),
        ({"phone": "+14155552672"}, "NOT_FOUND", ["phone"]),
        ({"phone": "0123"}, "INVALID", ["phone"]),
        ({"contactId": "PHANTOM"}, "NOT_FOUND", ["contactId"]),
    ],
)
async def test_the_contact_is_named_by_exactly_one_of_id_and_phone(
    api: Api,
    workspace: Workspace,
    contact: dict[str, Any],
    variables: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    # given
    named = {
        k: {"CONTACT": contact["id"], "PHANTOM": phantom(contact["id"])}.get(v, v)
        for k, v in variables.items()
    }
    before = await snapshot()
    # when
    data = await api.data(SET_VALUES, {**named, "values": []}, workspace.token)
    # then
    assert_rejected(data, code, field)
    assert await snapshot() == before


async def test_another_workspaces_contact_is_not_found(
    api: Api, workspace: Workspace, contact: dict[str, Any]
) -> None:
    other = await api.create_workspace("Other")
    by_id = await api.data(SET_VALUES, {"contactId": contact["id"], "values": []}, other.token)
    by_phone = await api.data(SET_VALUES, {"phone": NUMBER, "values": []}, other.token)
    assert_rejected(by_id, "NOT_FOUND", ["contactId"])
    assert_rejected(by_phone, "NOT_FOUND", ["phone"])


async def test_answers_need_contact_edit(api: Api, workspace: Workspace, contact: dict[str, Any]) -> None:
    # given
    await make_custom_field(api, workspace, "seats", "NUMBER")
    _, viewer = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_CREATE"], email="v@example.com")
    _, editor = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"], email="e@example.com")
    answer = {"contactId": contact["id"], "values": [{"key": "seats", "value": "2"}]}
    before = await snapshot()
    # when
    refused = await api.data(SET_VALUES, answer, viewer)
    unchanged = await snapshot()
    accepted = await api.ok(SET_VALUES, answer, editor)
    # then
    assert_rejected(refused, "FORBIDDEN", None)
    assert unchanged == before
    assert values(accepted["contact"]) == {"seats": 2}

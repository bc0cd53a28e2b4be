"""upsertContactByPhone: the contact of an inbound message, found by any number it holds or created."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from contactgraph.events import Event, EventType
from contactgraph.models import Contact
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.resolvers import upsert

from .api import Api, Library, Workspace, make_contact, make_custom_field, make_library, phone
from .checks import assert_rejected, oid, snapshot

UPSERT = """
mutation($input: UpsertContactByPhoneInput!) {
  upsertContactByPhone(input: $input) {
    contact {
      id firstname lastname phone type otherPhones
      status { id } source { id }
      customFields { field { key } value }
    }
    userErrors { field code message }
  }
}"""

SETTINGS = """
mutation($input: WorkspaceSettingsInput!) {
  updateWorkspaceSettings(input: $input) { workspace { id } userErrors { field code } }
}"""

MERGE = """
mutation($p: ID!, $s: ID!) {
  mergeContacts(primaryId: $p, secondaryId: $s) { contact { id otherPhones } userErrors { field code } }
}"""

NUMBER = "+14155552671"


async def with_inbound_defaults(api: Api, workspace: Workspace, library: Library) -> Library:
    """The library, its second status and second source made the workspace's inbound defaults."""
    settings = {"inboundStatusId": library.statuses[1], "inboundSourceId": library.sources[1]}
    await api.ok(SETTINGS, {"input": settings}, workspace.token)
    return library


@pytest.fixture
async def inbound(api: Api, workspace: Workspace, library: Library) -> Library:
    return await with_inbound_defaults(api, workspace, library)


async def upserted(api: Api, token: str, **input: Any) -> dict[str, Any]:
    return (await api.ok(UPSERT, {"input": input}, token))["contact"]  # type: ignore[no-any-return]


def values(contact: dict[str, Any]) -> dict[str, Any]:
    return {item["field"]["key"]: item["value"] for item in contact["customFields"]}


async def test_a_new_number_creates_a_contact_with_the_inbound_defaults(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # when
    contact = await upserted(api, workspace.token, phone="1 415 555 2671", firstname="Ada")
    # then
    assert contact["phone"] == NUMBER
    assert (contact["firstname"], contact["lastname"], contact["type"]) == ("Ada", "", "GUEST")
    assert (contact["status"]["id"], contact["source"]["id"]) == (inbound.statuses[1], inbound.sources[1])
    stored = await Contact.get(oid(contact["id"]))
    assert stored is not None and stored.phone == NUMBER
    claims = await PhoneClaim.find_all().to_list()
    assert [(c.phone, c.contact_id) for c in claims] == [(NUMBER, stored.id)]
    assert [e.type for e in await Event.find_all().to_list()] == [EventType.CREATED]


async def test_the_type_comes_from_the_input_or_the_workspace_setting(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given
    await api.ok(SETTINGS, {"input": {"inboundType": "LEAD"}}, workspace.token)
    # when
    from_setting = await upserted(api, workspace.token, phone=phone(1))
    from_input = await upserted(api, workspace.token, phone=phone(2), type="CUSTOMER")
    # then
    assert (from_setting["type"], from_input["type"]) == ("LEAD", "CUSTOMER")


async def test_without_inbound_defaults_a_new_number_is_required_and_nothing_is_written(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    before = await snapshot()
    # when
    data = await api.data(UPSERT, {"input": {"phone": NUMBER}}, workspace.token)
    # then
    payload = data["upsertContactByPhone"]
    assert payload["contact"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("REQUIRED", None),
        ("REQUIRED", None),
    ]
    messages = " ".join(e["message"] for e in payload["userErrors"])
    assert "inboundStatusId" in messages and "inboundSourceId" in messages
    assert await snapshot() == before


async def test_a_known_number_in_any_spelling_finds_its_contact(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given
    ada = await make_contact(api, workspace, inbound, phone=NUMBER)
    # when
    found = [await upserted(api, workspace.token, phone=p) for p in ("14155552671", "+1 (415) 555-2671")]
    # then
    assert [c["id"] for c in found] == [ada["id"], ada["id"]]
    assert await Contact.find_all().count() == 1


async def test_a_number_among_other_phones_finds_the_contact_that_holds_it(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given: a merge leaves the secondary's number among the primary's other phones
    ada = await make_contact(api, workspace, inbound, phone=phone(1))
    twin = await make_contact(api, workspace, inbound, phone=NUMBER)
    await api.ok(MERGE, {"p": ada["id"], "s": twin["id"]}, workspace.token)
    # when
    found = await upserted(api, workspace.token, phone=NUMBER)
    # then
    assert found["id"] == ada["id"]
    assert found["otherPhones"] == [NUMBER]
    assert await Contact.find_all().count() == 1


async def test_an_update_fills_only_empty_names_and_merges_custom_values(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "plan", "DROPDOWN", options=["Basic", "Pro"])
    await make_custom_field(api, workspace, "seats", "NUMBER")
    created = await upserted(
        api, workspace.token, phone=NUMBER, firstname="Ada", customFields=[{"key": "plan", "value": "basic"}]
    )
    # when
    updated = await upserted(
        api,
        workspace.token,
        phone=NUMBER,
        firstname="Augusta",
        lastname="King",
        type="CUSTOMER",
        customFields=[{"key": "seats", "value": "12"}],
    )
    # then
    assert updated["id"] == created["id"]
    assert (updated["firstname"], updated["lastname"]) == ("Ada", "King")
    assert updated["type"] == "GUEST"  # the type is for new contacts only
    assert values(updated) == {"plan": "Basic", "seats": 12}
    stored = await Contact.get(oid(created["id"]))
    assert stored is not None
    assert (stored.firstname, stored.lastname, stored.keys.full) == ("Ada", "King", "ada king")
    assert [v.value for v in stored.custom_values] == ["Basic", 12]


async def test_an_upsert_that_changes_nothing_writes_nothing(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given
    await upserted(api, workspace.token, phone=NUMBER, firstname="Ada")
    before = await snapshot()
    # when
    again = await upserted(api, workspace.token, phone=NUMBER, firstname="Other")
    # then
    assert again["firstname"] == "Ada"
    assert await snapshot() == before


async def test_bad_input_is_reported_whole_and_writes_nothing(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given
    await make_custom_field(api, workspace, "seats", "NUMBER")
    before = await snapshot()
    # when
    data = await api.data(
        UPSERT,
        {
            "input": {
                "phone": "0123 456",
                "firstname": "x" * 192,
                "customFields": [{"key": "seats", "value": "many"}, {"key": "nope", "value": 1}],
            }
        },
        workspace.token,
    )
    # then
    payload = data["upsertContactByPhone"]
    assert sorted((e["code"], e["field"]) for e in payload["userErrors"]) == [
        ("INVALID", ["input", "customFields", "0", "value"]),
        ("INVALID", ["input", "customFields", "1", "key"]),
        ("INVALID", ["input", "firstname"]),
        ("INVALID", ["input", "phone"]),
    ]
    assert any("seats" in e["message"] for e in payload["userErrors"])
    assert await snapshot() == before


async def test_concurrent_upserts_of_a_new_number_make_one_contact_the_others_update(
    api: Api, workspace: Workspace, inbound: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: every request has looked the number up, and found nothing, before any creates it
    await make_custom_field(api, workspace, "turn", "NUMBER")
    calls = 20
    looked_up = 0
    everyone_looked = asyncio.Event()
    holder = upsert._holder

    async def racing_holder(*args: Any) -> Contact | None:
        nonlocal looked_up
        found = await holder(*args)
        looked_up += 1
        if looked_up == calls:
            everyone_looked.set()
        if not everyone_looked.is_set():
            await asyncio.wait_for(everyone_looked.wait(), timeout=5)
        return found

    monkeypatch.setattr(upsert, "_holder", racing_holder)
    # when
    responses = await asyncio.gather(
        *(
            api.gql(
                UPSERT,
                {"input": {"phone": NUMBER, "customFields": [{"key": "turn", "value": n}]}},
                workspace.token,
            )
            for n in range(calls)
        )
    )
    # then
    payloads = [r["data"]["upsertContactByPhone"] for r in responses]
    assert [p["userErrors"] for p in payloads if p["userErrors"]] == []
    assert len({p["contact"]["id"] for p in payloads}) == 1
    [stored] = await Contact.find_all().to_list()
    assert stored.phone == NUMBER
    assert await PhoneClaim.find_all().count() == 1
    types = [e.type for e in await Event.find({"contact_id": stored.id}).to_list()]
    assert types.count(EventType.CREATED) == 1
    assert types.count(EventType.UPDATED) >= 1  # losers wrote their values into the winner's contact
    turns = {values(p["contact"])["turn"] for p in payloads}
    assert stored.custom_values[0].value in turns


@pytest.mark.parametrize(
    ("permissions", "creates", "updates"),
    [
        (["CONTACT_VIEW", "CONTACT_CREATE"], True, False),
        (["CONTACT_VIEW", "CONTACT_EDIT"], False, True),
        (["CONTACT_VIEW", "CONTACT_CREATE", "CONTACT_EDIT"], True, True),
    ],
)
async def test_creating_needs_contact_create_and_changing_needs_contact_edit(
    api: Api,
    workspace: Workspace,
    inbound: Library,
    permissions: list[str],
    creates: bool,
    updates: bool,
) -> None:
    # given
    existing = await upserted(api, workspace.token, phone=phone(1), firstname="Ada")
    _, token = await api.agent_token(workspace, permissions)
    # when
    create = await api.data(UPSERT, {"input": {"phone": phone(2)}}, token)
    unchanged = await api.data(UPSERT, {"input": {"phone": phone(1)}}, token)
    update = await api.data(UPSERT, {"input": {"phone": phone(1), "lastname": "King"}}, token)
    # then
    assert unchanged["upsertContactByPhone"]["contact"]["id"] == existing["id"]
    for data, allowed in ((create, creates), (update, updates)):
        if allowed:
            assert data["upsertContactByPhone"]["userErrors"] == []
        else:
            assert_rejected(data, "FORBIDDEN", None)
    assert await Contact.find({"phone": phone(2)}).count() == int(creates)
    stored = await Contact.get(oid(existing["id"]))
    assert stored is not None and stored.lastname == ("King" if updates else "")


async def test_without_create_or_edit_the_upsert_is_forbidden(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW"])
    data = await api.data(UPSERT, {"input": {"phone": NUMBER}}, token)
    assert_rejected(data, "FORBIDDEN", None)
    assert await Contact.find_all().count() == 0


async def test_a_view_own_agent_cannot_take_a_number_held_by_a_contact_it_cannot_see(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given
    await make_contact(api, workspace, inbound, phone=NUMBER)
    _, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN", "CONTACT_CREATE", "CONTACT_EDIT"])
    before = await snapshot()
    # when
    data = await api.data(UPSERT, {"input": {"phone": NUMBER, "firstname": "Eve"}}, token)
    # then
    assert_rejected(data, "PHONE_TAKEN", ["input", "phone"])
    assert await snapshot() == before


async def test_the_same_number_in_another_workspace_is_another_contact(
    api: Api, workspace: Workspace, inbound: Library
) -> None:
    # given
    ours = await upserted(api, workspace.token, phone=NUMBER)
    other = await api.create_workspace("Other")
    other_library = await with_inbound_defaults(api, other, await make_library(api, other))
    # when
    theirs = await upserted(api, other.token, phone=NUMBER)
    # then
    assert theirs["id"] != ours["id"]
    assert await Contact.find({"phone": NUMBER}).count() == 2
    assert theirs["status"]["id"] == other_library.statuses[1]

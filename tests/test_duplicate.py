"""duplicateContact: a second record like the original, with a phone of its own and no history."""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.events import Event, EventType
from contactgraph.models import Contact
from contactgraph.models.interaction import Interaction
from contactgraph.models.phone_claims import PhoneClaim

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone
from .checks import assert_rejected, oid, phantom, snapshot

DUPLICATE = """
mutation($id: ID!, $input: DuplicateContactInput!) {
  duplicateContact(id: $id, input: $input) {
    contact {
      id firstname lastname phone email type company website description city country state zip address
      optedOut optedOutAt status { id } source { id } groups { id } assignedAgent { id }
      customFields { field { key } value }
    }
    userErrors { field code message }
  }
}"""

MOVE = """
mutation($id: ID!, $status: ID!) { moveContactStatus(contactId: $id, statusId: $status) { userErrors { code } } }"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { contact { optedOutAt } userErrors { code } } }"""

RECORD = """
mutation($input: InteractionInput!) { recordInteraction(input: $input) { userErrors { code } } }"""

MERGE = """
mutation($p: ID!, $s: ID!) { mergeContacts(primaryId: $p, secondaryId: $s) { userErrors { code } } }"""

ORIGINAL_PHONE = phone(1)


@pytest.fixture
async def original(api: Api, workspace: Workspace, library: Library) -> dict[str, Any]:
    """A contact with every field set, a status change, an interaction, and opted out."""
    await make_custom_field(api, workspace, "plan", "TEXT")
    agent_id, _ = await api.agent_token(workspace, ["CONTACT_VIEW"])
    contact = await make_contact(
        api,
        workspace,
        library,
        phone=ORIGINAL_PHONE,
        email="ada@example.com",
        type="CUSTOMER",
        company="Engines Ltd",
        website="https://ada.example.com",
        description="Met at the fair",
        country="UK",
        city="London",
        state="Greater London",
        zip="W1",
        address="12 St James's Square",
        groupIds=library.groups,
        assignedAgentId=agent_id,
        customFields=[{"key": "plan", "value": "pro"}],
    )
    await api.ok(MOVE, {"id": contact["id"], "status": library.statuses[1]}, workspace.token)
    await api.ok(OPT_OUT, {"id": contact["id"]}, workspace.token)
    interaction = {"contactId": contact["id"], "channel": "voice", "direction": "outbound", "open": True}
    await api.ok(RECORD, {"input": interaction}, workspace.token)
    read = await api.data(
        "query($id: ID!) { contact(id: $id) { optedOutAt assignedAgent { id } } }",
        {"id": contact["id"]},
        workspace.token,
    )
    return {**contact, **read["contact"]}


async def test_the_copy_takes_the_originals_profile_and_nothing_of_its_history(
    api: Api, workspace: Workspace, library: Library, original: dict[str, Any]
) -> None:
    # when
    payload = await api.ok(
        DUPLICATE, {"id": original["id"], "input": {"phone": "+1 415 200 0002"}}, workspace.token
    )
    # then
    copy = payload["contact"]
    assert copy["id"] != original["id"]
    assert (copy["firstname"], copy["lastname"], copy["type"]) == ("Ada", "Lovelace", "CUSTOMER")
    assert (copy["phone"], copy["email"]) == (phone(2), None)
    assert (copy["company"], copy["city"], copy["country"]) == ("Engines Ltd", "London", "UK")
    assert (copy["state"], copy["zip"], copy["address"]) == ("Greater London", "W1", "12 St James's Square")
    assert (copy["website"], copy["description"]) == (None, None)
    assert (copy["status"]["id"], copy["source"]["id"]) == (library.statuses[1], library.sources[0])
    assert [g["id"] for g in copy["groups"]] == library.groups
    assert copy["assignedAgent"] == original["assignedAgent"]
    assert copy["customFields"] == [{"field": {"key": "plan"}, "value": "pro"}]
    assert (copy["optedOut"], copy["optedOutAt"]) == (True, original["optedOutAt"])
    copy_id = oid(copy["id"])
    events = await Event.find({"contact_id": copy_id}).to_list()
    assert [e.type for e in events] == [EventType.CREATED]
    assert await Interaction.find({"contact_id": copy_id}).count() == 0
    claims = {c.phone: c.contact_id for c in await PhoneClaim.find_all().to_list()}
    assert claims == {ORIGINAL_PHONE: oid(original["id"]), phone(2): copy_id}
    stored = await Contact.get(copy_id)
    assert stored is not None and stored.merged_ids == [] and stored.keys.full == "ada lovelace"


async def test_groups_given_replace_the_copied_ones_and_an_email_may_be_given(
    api: Api, workspace: Workspace, library: Library, original: dict[str, Any]
) -> None:
    # when
    payload = await api.ok(
        DUPLICATE,
        {
            "id": original["id"],
            "input": {"phone": phone(2), "email": "Augusta@Example.com", "groupIds": [library.groups[1]]},
        },
        workspace.token,
    )
    # then
    assert payload["contact"]["email"] == "augusta@example.com"
    assert [g["id"] for g in payload["contact"]["groups"]] == [library.groups[1]]


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"phone": ORIGINAL_PHONE}, "PHONE_TAKEN", ["input", "phone"]),
        ({"phone": "14152000001"}, "PHONE_TAKEN", ["input", "phone"]),
        ({"phone": phone(3)}, "PHONE_TAKEN", ["input", "phone"]),  # among the original's other phones
        ({"phone": phone(2), "email": "ADA@example.com"}, "EMAIL_TAKEN", ["input", "email"]),
        ({"phone": "0123"}, "INVALID", ["input", "phone"]),
        ({"phone": phone(2), "email": "not an email"}, "INVALID", ["input", "email"]),
        ({"phone": phone(2), "groupIds": ["nope"]}, "NOT_FOUND", ["input", "groupIds", "0"]),
    ],
)
async def test_a_copy_that_cannot_be_made_is_a_user_error_and_writes_nothing(
    api: Api,
    workspace: Workspace,
    library: Library,
    original: dict[str, Any],
    input: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    # given: the original holds phone(3) too, from a merge
    twin = await make_contact(api, workspace, library, phone=phone(3))
    await api.ok(MERGE, {"p": original["id"], "s": twin["id"]}, workspace.token)
    before = await snapshot()
    # when
    data = await api.data(DUPLICATE, {"id": original["id"], "input": input}, workspace.token)
    # then
    assert_rejected(data, code, field)
    assert await snapshot() == before


async def test_an_unknown_or_foreign_original_is_not_found(
    api: Api, workspace: Workspace, original: dict[str, Any]
) -> None:
    other = await api.create_workspace("Other")
    before = await snapshot()
    for token, contact_id in ((workspace.token, phantom(original["id"])), (other.token, original["id"])):
        data = await api.data(DUPLICATE, {"id": contact_id, "input": {"phone": phone(2)}}, token)
        assert_rejected(data, "NOT_FOUND", ["id"])
    assert await snapshot() == before


async def test_a_copy_needs_contact_create(api: Api, workspace: Workspace, original: dict[str, Any]) -> None:
    _, editor = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_EDIT"], email="e@example.com")
    _, creator = await api.agent_token(workspace, ["CONTACT_VIEW", "CONTACT_CREATE"], email="c@example.com")
    refused = await api.data(DUPLICATE, {"id": original["id"], "input": {"phone": phone(2)}}, editor)
    assert_rejected(refused, "FORBIDDEN", None)
    await api.ok(DUPLICATE, {"id": original["id"], "input": {"phone": phone(2)}}, creator)
    assert await Contact.find_all().count() == 2

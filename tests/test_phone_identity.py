"""One contact per number in a workspace, over phone and otherPhones: the phone claims behind it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from beanie import PydanticObjectId

from contactgraph.models import Contact, utcnow
from contactgraph.models.phone_claims import LOOSE_AFTER, PhoneClaim
from contactgraph.resolvers.contact_input import ContactChanges

from .api import Api, Library, Workspace, make_contact, phone
from .checks import assert_rejected, oid, snapshot

CREATE = """
mutation($input: ContactInput!) {
  createContact(input: $input) { contact { id phone } userErrors { field code message } }
}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id phone email } userErrors { field code message } }
}"""

DELETE = "mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { code } } }"


def new_contact(library: Library, number: str, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "firstname": "Grace",
            "lastname": "Hopper",
            "phone": number,
            "statusId": library.statuses[0],
            "sourceId": library.sources[0],
            **extra,
        }
    }


@pytest.fixture
def no_precheck(monkeypatch: pytest.MonkeyPatch) -> None:
    """The phone and email checks before a write see nothing taken, as when a race beats them."""

    async def nothing_taken(self: ContactChanges) -> None:
        return None

    monkeypatch.setattr(ContactChanges, "_unique", nothing_taken)


async def claims() -> dict[str, PydanticObjectId]:
    return {c.phone: c.contact_id for c in await PhoneClaim.find_all().to_list()}


async def test_claims_follow_a_contacts_numbers_through_create_update_and_delete(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone=phone(1))
    assert await claims() == {phone(1): oid(ada["id"])}
    # when: the number changes, the old one is free for another contact
    await api.ok(UPDATE, {"id": ada["id"], "input": {"phone": phone(2)}}, workspace.token)
    grace = (await api.ok(CREATE, new_contact(library, phone(1)), workspace.token))["contact"]
    # then
    assert await claims() == {phone(2): oid(ada["id"]), phone(1): oid(grace["id"])}
    # when: a deleted contact's number is free again
    await api.ok(DELETE, {"ids": [ada["id"]]}, workspace.token)
    again = (await api.ok(CREATE, new_contact(library, phone(2)), workspace.token))["contact"]
    # then
    assert await claims() == {phone(1): oid(grace["id"]), phone(2): oid(again["id"])}


async def test_a_create_that_fails_after_claiming_its_number_releases_it(
    api: Api, workspace: Workspace, library: Library, no_precheck: None
) -> None:
    # given: the email's unique index refuses the write after the phone is claimed
    await make_contact(api, workspace, library, phone=phone(1), email="ada@example.com")
    before = await snapshot()
    # when
    data = await api.data(CREATE, new_contact(library, phone(2), email="ada@example.com"), workspace.token)
    # then
    assert_rejected(data, "EMAIL_TAKEN", ["input", "email"])
    assert await snapshot() == before
    assert phone(2) not in await claims()


async def test_an_update_that_loses_a_race_after_claiming_a_number_releases_it(
    api: Api, workspace: Workspace, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: another writer changes the contact between every read and write of the update
    grace = await make_contact(api, workspace, library, phone=phone(2))

    async def concurrent_change(self: ContactChanges) -> None:
        await Contact.get_pymongo_collection().update_one(
            {"_id": oid(grace["id"])}, {"$set": {"updated_at": utcnow() + timedelta(seconds=1)}}
        )

    monkeypatch.setattr(ContactChanges, "_unique", concurrent_change)
    # when
    data = await api.data(UPDATE, {"id": grace["id"], "input": {"phone": phone(3)}}, workspace.token)
    # then
    assert_rejected(data, "CONFLICT", ["expectedUpdatedAt"])
    assert await claims() == {phone(2): oid(grace["id"])}
    stored = await Contact.get(oid(grace["id"]))
    assert stored is not None and stored.phone == phone(2)


async def test_a_claim_left_by_a_write_that_died_is_taken_over_once_old(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: claims of contacts that were never written, one recent (a write in flight) and one old
    workspace_id = oid(workspace.id)
    ghost = PydanticObjectId()
    await PhoneClaim(workspace_id=workspace_id, phone=phone(1), contact_id=ghost).insert()
    await PhoneClaim(
        workspace_id=workspace_id,
        phone=phone(2),
        contact_id=ghost,
        claimed_at=utcnow() - LOOSE_AFTER - timedelta(seconds=1),
    ).insert()
    # when
    in_flight = await api.data(CREATE, new_contact(library, phone(1)), workspace.token)
    abandoned = await api.ok(CREATE, new_contact(library, phone(2)), workspace.token)
    # then
    assert_rejected(in_flight, "PHONE_TAKEN", ["input", "phone"])
    assert await claims() == {phone(1): ghost, phone(2): oid(abandoned["contact"]["id"])}


async def test_an_old_claim_of_a_number_a_contact_still_holds_is_never_taken_over(
    api: Api, workspace: Workspace, library: Library, no_precheck: None
) -> None:
    # given: an old claim naming another contact, for a number a contact holds
    await make_contact(api, workspace, library, phone=phone(1))
    await PhoneClaim.get_pymongo_collection().update_one(
        {"phone": phone(1)},
        {"$set": {"contact_id": PydanticObjectId(), "claimed_at": utcnow() - 2 * LOOSE_AFTER}},
    )
    grace = await make_contact(api, workspace, library, phone=phone(2))
    before = await snapshot()
    # when
    data = await api.data(UPDATE, {"id": grace["id"], "input": {"phone": phone(1)}}, workspace.token)
    # then
    assert_rejected(data, "PHONE_TAKEN", ["input", "phone"])
    assert await snapshot() == before


async def test_numbers_taken_by_claims_alone_are_refused_where_no_check_before_the_write_sees_them(
    api: Api, workspace: Workspace, library: Library, no_precheck: None
) -> None:
    # given
    await make_contact(api, workspace, library, phone=phone(1))
    grace = await make_contact(api, workspace, library, phone=phone(2))
    before = await snapshot()
    # when
    created = await api.data(CREATE, new_contact(library, phone(1)), workspace.token)
    updated = await api.data(UPDATE, {"id": grace["id"], "input": {"phone": phone(1)}}, workspace.token)
    # then
    assert_rejected(created, "PHONE_TAKEN", ["input", "phone"])
    assert_rejected(updated, "PHONE_TAKEN", ["input", "phone"])
    assert await snapshot() == before

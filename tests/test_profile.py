"""The whole profile: other phones entered by hand, and social profiles, on every path.

Other phones are read like the phone, held by one contact each (claims), replaced by a
patch; social profiles are one per network, https only. Both show on the card, go out
in the CSV export and come back through the import.
"""

from __future__ import annotations

from typing import Any

import pytest

from contactgraph.models import Contact
from contactgraph.models.phone_claims import PhoneClaim

from .api import Api, Library, Workspace, make_contact, make_library, phone
from .checks import assert_rejected, errors_of, oid, snapshot
from .csv_api import csv_bytes, read_csv, row_errors, run_import

PROFILE = "id phone otherPhones socialProfiles { network handle url }"

CREATE = f"""
mutation($input: ContactInput!) {{
  createContact(input: $input) {{ contact {{ {PROFILE} }} userErrors {{ field code message }} }}
}}"""

UPDATE = f"""
mutation($id: ID!, $input: ContactPatch!) {{
  updateContact(id: $id, input: $input) {{ contact {{ {PROFILE} }} userErrors {{ field code message }} }}
}}"""

CONTACT_BY_PHONE = f"query($phone: String!) {{ contact(phone: $phone) {{ {PROFILE} }} }}"

CONTACTS = f"query {{ contacts(first: 100, sort: {{field: LASTNAME}}) {{ edges {{ node {{ lastname {PROFILE} }} }} }} }}"

MERGE = f"""
mutation($p: ID!, $s: ID!, $choices: [MergeFieldChoice!]) {{
  mergeContacts(primaryId: $p, secondaryId: $s, choices: $choices) {{
    contact {{ {PROFILE} }} userErrors {{ field code message }}
  }}
}}"""

DUPLICATE = f"""
mutation($id: ID!, $input: DuplicateContactInput!) {{
  duplicateContact(id: $id, input: $input) {{ contact {{ {PROFILE} }} userErrors {{ field code message }} }}
}}"""

UPSERT = f"""
mutation($input: UpsertContactByPhoneInput!) {{
  upsertContactByPhone(input: $input) {{ contact {{ {PROFILE} }} userErrors {{ field code message }} }}
}}"""

HEADER = ["firstname", "lastname", "phone", "status", "source"]
INSTAGRAM = {"network": "instagram", "handle": "ada", "url": "https://instagram.com/ada"}


def _input(library: Library, n: int, **more: Any) -> dict[str, Any]:
    return {
        "firstname": "Ada",
        "lastname": f"Lovelace {n}",
        "phone": phone(n),
        "statusId": library.statuses[0],
        "sourceId": library.sources[0],
        **more,
    }


def _row(n: int) -> list[str]:
    return ["Ada" if n == 1 else "Grace", f"Contact {n}", phone(n), "New", "WhatsApp"]


def _by_network(profiles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(profiles, key=lambda p: p["network"])


async def _claimed(contact_id: str) -> list[str]:
    """The numbers claimed for a contact."""
    return sorted(c.phone for c in await PhoneClaim.find({"contact_id": oid(contact_id)}).to_list())


async def _export(api: Api, token: str) -> list[dict[str, str]]:
    response = await api.client.get("/export/contacts.csv", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    header, *rows = read_csv(response.content)
    return [dict(zip(header, row, strict=True)) for row in rows]


# ---------------------------------------------------------------- other phones through the API


async def test_other_phones_are_read_like_the_phone_kept_once_each_and_claimed(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: every accepted spelling, a repeat, and the main phone again
    numbers = ["0044 7911 123456", "+44 7911-123456", "(+1) 415 555 0199", phone(1)]
    # when
    payload = await api.ok(CREATE, {"input": _input(library, 1, otherPhones=numbers)}, workspace.token)
    contact = payload["contact"]
    found = (await api.data(CONTACT_BY_PHONE, {"phone": "+1 415 555 0199"}, workspace.token))["contact"]
    # then
    assert contact["otherPhones"] == ["+447911123456", "+14155550199"]
    assert await _claimed(contact["id"]) == sorted([phone(1), "+447911123456", "+14155550199"])
    assert found["id"] == contact["id"]


async def test_a_patch_replaces_other_phones_and_a_dropped_number_is_free_for_another_contact(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await api.ok(
        CREATE, {"input": _input(library, 1, otherPhones=[phone(2), phone(3)])}, workspace.token
    )
    ada_id = ada["contact"]["id"]
    # when: phone(2) is dropped, then given to a new contact as its other phone
    patched = await api.ok(UPDATE, {"id": ada_id, "input": {"otherPhones": [phone(3)]}}, workspace.token)
    grace = await api.ok(CREATE, {"input": _input(library, 4, otherPhones=[phone(2)])}, workspace.token)
    # then
    assert patched["contact"]["otherPhones"] == [phone(3)]
    assert await _claimed(ada_id) == [phone(1), phone(3)]
    assert await _claimed(grace["contact"]["id"]) == [phone(2), phone(4)]


async def test_null_clears_other_phones_and_releases_their_claims(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await api.ok(CREATE, {"input": _input(library, 1, otherPhones=[phone(2)])}, workspace.token)
    # when
    patched = await api.ok(
        UPDATE, {"id": ada["contact"]["id"], "input": {"otherPhones": None}}, workspace.token
    )
    # then
    assert patched["contact"]["otherPhones"] == []
    assert await _claimed(ada["contact"]["id"]) == [phone(1)]


async def test_a_phone_moved_to_one_of_its_other_phones_leaves_that_list(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await api.ok(
        CREATE, {"input": _input(library, 1, otherPhones=[phone(2), phone(3)])}, workspace.token
    )
    # when: the second number becomes the main one
    patched = await api.ok(
        UPDATE, {"id": ada["contact"]["id"], "input": {"phone": phone(2)}}, workspace.token
    )
    # then: held once, as the phone; the old phone is let go
    assert (patched["contact"]["phone"], patched["contact"]["otherPhones"]) == (phone(2), [phone(3)])
    assert await _claimed(ada["contact"]["id"]) == [phone(2), phone(3)]


@pytest.mark.parametrize("holder", ["phone", "otherPhones"])
async def test_an_other_phone_another_contact_holds_is_refused_at_its_index_and_nothing_is_written(
    api: Api, workspace: Workspace, library: Library, holder: str
) -> None:
    # given: phone(1) held by Ada, as her phone or as one of her other phones
    if holder == "phone":
        await make_contact(api, workspace, library, phone=phone(1))
    else:
        await make_contact(api, workspace, library, phone=phone(9), otherPhones=[phone(1)])
    grace = await make_contact(api, workspace, library, lastname="Hopper", phone=phone(5))
    before = await snapshot()
    # when: creating, then patching, with phone(1) second among the other phones
    created = await api.data(
        CREATE, {"input": _input(library, 3, otherPhones=[phone(4), "+1 415 200 0001"])}, workspace.token
    )
    patched = await api.data(
        UPDATE, {"id": grace["id"], "input": {"otherPhones": [phone(6), phone(1)]}}, workspace.token
    )
    # then
    assert_rejected(created, "PHONE_TAKEN", ["input", "otherPhones", "1"])
    assert_rejected(patched, "PHONE_TAKEN", ["input", "otherPhones", "1"])
    assert phone(1) in created["createContact"]["userErrors"][0]["message"]
    assert await snapshot() == before


async def test_bad_other_phones_are_refused_each_at_its_index(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    before = await snapshot()
    # when
    bad = await api.data(
        CREATE,
        {"input": _input(library, 1, otherPhones=["call me", phone(2), "0911 222 333"])},
        workspace.token,
    )
    too_many = await api.data(
        CREATE, {"input": _input(library, 1, otherPhones=[phone(10 + i) for i in range(11)])}, workspace.token
    )
    # then
    assert errors_of(bad["createContact"]) == [
        ("INVALID", ["input", "otherPhones", "0"]),
        ("INVALID", ["input", "otherPhones", "2"]),
    ]
    assert_rejected(too_many, "LIMIT_EXCEEDED", ["input", "otherPhones"])
    assert await snapshot() == before


async def test_an_inbound_message_from_an_other_phone_finds_the_contact_and_keeps_its_numbers(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone=phone(1), otherPhones=[phone(2)])
    # when
    payload = await api.ok(UPSERT, {"input": {"phone": "+1 (415) 200-0002"}}, workspace.token)
    # then
    contact = payload["contact"]
    assert contact["id"] == ada["id"]
    assert (contact["phone"], contact["otherPhones"]) == (phone(1), [phone(2)])
    assert await _claimed(ada["id"]) == [phone(1), phone(2)]


# ---------------------------------------------------------------- social profiles through the API


async def test_social_profiles_are_stored_cleaned_and_shown_on_the_card(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    profiles = [
        {"network": " Twitter ", "handle": " @ada "},
        INSTAGRAM,
        {"network": "my-forum", "handle": "ada_l", "url": None},
    ]
    # when
    created = await api.ok(CREATE, {"input": _input(library, 1, socialProfiles=profiles)}, workspace.token)
    contact_id = created["contact"]["id"]
    replaced = await api.ok(
        UPDATE,
        {"id": contact_id, "input": {"socialProfiles": [{"network": "x", "handle": "ada2"}]}},
        workspace.token,
    )
    # then
    assert created["contact"]["socialProfiles"] == [
        {"network": "x", "handle": "@ada", "url": None},
        INSTAGRAM,
        {"network": "my-forum", "handle": "ada_l", "url": None},
    ]
    assert replaced["contact"]["socialProfiles"] == [{"network": "x", "handle": "ada2", "url": None}]
    stored = await Contact.get(oid(contact_id))
    assert stored is not None and [p.handle for p in stored.social_profiles] == ["ada2"]


@pytest.mark.parametrize(
    ("profiles", "field"),
    [
        ([{"network": "facebook", "handle": "ada", "url": "http://facebook.com/ada"}], ["0", "url"]),
        ([INSTAGRAM, {"network": "face book!", "handle": "ada"}], ["1", "network"]),
        (
            [INSTAGRAM, {"network": "x", "handle": "a"}, {"network": "Instagram", "handle": "b"}],
            ["2", "network"],
        ),
        ([{"network": "x", "handle": "x" * 101}], ["0", "handle"]),
    ],
    ids=["http-url", "unknown-shape", "network-twice", "handle-too-long"],
)
async def test_a_bad_social_profile_is_refused_and_nothing_is_written(
    api: Api, workspace: Workspace, library: Library, profiles: list[dict[str, Any]], field: list[str]
) -> None:
    # given
    ada = await make_contact(api, workspace, library)
    before = await snapshot()
    # when
    created = await api.data(CREATE, {"input": _input(library, 2, socialProfiles=profiles)}, workspace.token)
    patched = await api.data(
        UPDATE, {"id": ada["id"], "input": {"socialProfiles": profiles}}, workspace.token
    )
    # then
    assert_rejected(created, "INVALID", ["input", "socialProfiles", *field])
    assert_rejected(patched, "INVALID", ["input", "socialProfiles", *field])
    assert await snapshot() == before


# ---------------------------------------------------------------- merge and duplicate


async def test_a_merge_unites_numbers_and_profiles_the_primary_winning_on_a_network(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    primary = await make_contact(
        api, workspace, library, phone=phone(1), otherPhones=[phone(2)], socialProfiles=[INSTAGRAM]
    )
    secondary = await make_contact(
        api,
        workspace,
        library,
        lastname="Byron",
        phone=phone(3),
        otherPhones=[phone(4)],
        socialProfiles=[
            {"network": "instagram", "handle": "augusta"},
            {"network": "linkedin", "handle": "augusta-ada"},
        ],
    )
    # when
    merged = (await api.ok(MERGE, {"p": primary["id"], "s": secondary["id"]}, workspace.token))["contact"]
    # then
    assert merged["otherPhones"] == [phone(2), phone(3), phone(4)]
    assert merged["socialProfiles"] == [
        INSTAGRAM,
        {"network": "linkedin", "handle": "augusta-ada", "url": None},
    ]
    assert await _claimed(primary["id"]) == [phone(1), phone(2), phone(3), phone(4)]


async def test_a_merge_choice_takes_the_secondarys_profiles_whole(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    primary = await make_contact(api, workspace, library, phone=phone(1), socialProfiles=[INSTAGRAM])
    theirs = [{"network": "x", "handle": "augusta", "url": None}]
    secondary = await make_contact(
        api, workspace, library, lastname="B", phone=phone(2), socialProfiles=theirs
    )
    # when
    choices = [{"field": "socialProfiles", "take": "SECONDARY"}]
    merged = await api.ok(
        MERGE, {"p": primary["id"], "s": secondary["id"], "choices": choices}, workspace.token
    )
    # then
    assert merged["contact"]["socialProfiles"] == theirs


async def test_a_duplicate_holds_none_of_the_originals_numbers_nor_its_profiles(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    original = await make_contact(
        api, workspace, library, phone=phone(1), otherPhones=[phone(2)], socialProfiles=[INSTAGRAM]
    )
    before = await snapshot()
    # when: the copy asks for the original's other phone, then for a number of its own
    refused = await api.data(DUPLICATE, {"id": original["id"], "input": {"phone": phone(2)}}, workspace.token)
    assert await snapshot() == before
    copy = (await api.ok(DUPLICATE, {"id": original["id"], "input": {"phone": phone(3)}}, workspace.token))[
        "contact"
    ]
    # then
    assert_rejected(refused, "PHONE_TAKEN", ["input", "phone"])
    assert (copy["otherPhones"], copy["socialProfiles"]) == ([], [])
    assert await _claimed(original["id"]) == [phone(1), phone(2)]
    assert await _claimed(copy["id"]) == [phone(3)]


# ---------------------------------------------------------------- CSV


async def test_an_import_reads_phone2_and_mobile_as_other_phones_and_social_columns_as_profiles(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: a phone column, then more numbers (several to a cell), and a column per network
    header = [*HEADER, "Phone 2", "Mobile", "social.Instagram", "Social.twitter"]
    rows = [
        [
            *_row(1),
            "+1 415 200 0002; 0044 7911 123456",
            "+14152000003 ::: +14152000004",
            "ada",
            "@ada https://x.com/ada",
        ],
        [*_row(5), "", phone(6), "https://instagram.com/grace", ""],
    ]
    # when
    job = await run_import(api, workspace.token, csv_bytes([header, *rows]))
    edges = (await api.data(CONTACTS, token=workspace.token))["contacts"]["edges"]
    # then
    assert (job["created"], job["failed"]) == (2, 0)
    ada, grace = (edge["node"] for edge in edges)
    assert ada["otherPhones"] == [phone(2), "+447911123456", phone(3), phone(4)]
    assert ada["socialProfiles"] == [
        {"network": "instagram", "handle": "ada", "url": None},
        {"network": "x", "handle": "@ada", "url": "https://x.com/ada"},
    ]
    assert grace["otherPhones"] == [phone(6)]
    assert grace["socialProfiles"] == [
        {"network": "instagram", "handle": "grace", "url": "https://instagram.com/grace"}
    ]
    assert await _claimed(ada["id"]) == [phone(1), phone(2), phone(3), phone(4), "+447911123456"]


async def test_an_import_row_refused_for_an_other_phone_or_a_profile_writes_nothing_of_it(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: phone(9) held already
    await make_contact(api, workspace, library, phone=phone(9))
    header = [*HEADER, "other phones", "social.facebook"]
    rows = [
        [*_row(1), phone(9), ""],
        [*_row(2), "not a number", ""],
        [*_row(3), "", "ada http://facebook.com/ada"],
        [*_row(4), "; ".join(phone(20 + i) for i in range(11)), ""],
    ]
    # when
    job = await run_import(api, workspace.token, csv_bytes([header, *rows]))
    # then
    errors = sorted(await row_errors(api, workspace.token, job["id"]))
    assert (job["created"], job["failed"]) == (0, 4)
    assert [(row, code) for row, _, code in errors] == [
        (2, "PHONE_TAKEN"),
        (3, "INVALID"),
        (4, "INVALID"),
        (5, "LIMIT_EXCEEDED"),
    ]
    assert [column for _, column, _ in errors[1:]] == ["other phones", "social.facebook", "other phones"]
    assert await Contact.find_all().count() == 1


async def test_an_import_update_adds_numbers_and_replaces_only_the_profile_of_its_network(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await make_contact(
        api,
        workspace,
        library,
        phone=phone(1),
        otherPhones=[phone(2)],
        socialProfiles=[INSTAGRAM, {"network": "x", "handle": "ada"}],
    )
    header = ["phone", "phone2", "social.instagram"]
    # when
    job = await run_import(
        api, workspace.token, csv_bytes([header, [phone(1), phone(3), "ada.l"]]), {"onDuplicate": "UPDATE"}
    )
    contact = (await api.data(CONTACT_BY_PHONE, {"phone": phone(3)}, workspace.token))["contact"]
    # then: a number is never taken away by an import
    assert (job["updated"], job["failed"]) == (1, 0)
    assert contact["id"] == ada["id"]
    assert contact["otherPhones"] == [phone(2), phone(3)]
    assert contact["socialProfiles"] == [
        {"network": "instagram", "handle": "ada.l", "url": None},
        {"network": "x", "handle": "ada", "url": None},
    ]
    assert await _claimed(ada["id"]) == [phone(1), phone(2), phone(3)]


async def test_the_export_writes_other_phones_and_a_column_per_network_and_the_import_reads_them_back(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    await make_contact(
        api,
        workspace,
        library,
        lastname="A",
        phone=phone(1),
        otherPhones=[phone(2), phone(3)],
        socialProfiles=[{"network": "x", "handle": "@ada", "url": "https://x.com/ada"}, INSTAGRAM],
    )
    await make_contact(api, workspace, library, lastname="B", phone=phone(4), socialProfiles=[])
    # when
    response = await api.client.get(
        "/export/contacts.csv", headers={"Authorization": f"Bearer {workspace.token}"}
    )
    exported = await _export(api, workspace.token)
    other = await api.create_workspace("Other")
    await make_library(api, other)
    job = await run_import(api, other.token, response.content)
    imported = (await api.data(CONTACTS, token=other.token))["contacts"]["edges"]
    # then: a column per network in use; a handle a spreadsheet would run is quoted; the
    # profiles come back in column order
    first, second = exported
    assert [c for c in first if c.startswith("social.")] == ["social.instagram", "social.x"]
    assert first["otherPhones"] == f"{phone(2)}; {phone(3)}"
    assert (first["social.instagram"], first["social.x"]) == (
        "ada https://instagram.com/ada",
        "'@ada https://x.com/ada",
    )
    assert (second["otherPhones"], second["social.instagram"], second["social.x"]) == ("", "", "")
    assert job["created"] == 2
    originals = (await api.data(CONTACTS, token=workspace.token))["contacts"]["edges"]
    assert [(e["node"]["phone"], e["node"]["otherPhones"]) for e in imported] == [
        (e["node"]["phone"], e["node"]["otherPhones"]) for e in originals
    ]
    assert [_by_network(e["node"]["socialProfiles"]) for e in imported] == [
        _by_network(e["node"]["socialProfiles"]) for e in originals
    ]

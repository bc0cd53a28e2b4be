"""Phones in imports: international numbers written without +, national ones, and failures that say
what was tried, in our words."""

from __future__ import annotations

from .api import Api, Library, Workspace
from .csv_api import IMPORT_JOB_ERRORS, csv_bytes, run_import

CONTACT_PHONES = """
query { contacts(first: 50, sort: {field: FIRSTNAME}) { edges { node { firstname phone } } } }"""

HEADER = ["firstname", "lastname", "phone"]
OPTIONS = {"defaultStatus": "New", "defaultSource": "WhatsApp"}
LIBRARY_TEXT = ("Could not interpret", "NumberParseException", "Missing or invalid", "The string supplied")


async def _messages(api: Api, token: str, job_id: str) -> list[str]:
    data = await api.data(IMPORT_JOB_ERRORS, {"id": job_id, "first": 50}, token)
    return [e["message"] for e in data["importJob"]["errors"]]


async def test_with_a_default_region_international_numbers_without_plus_are_read_as_such(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    data = csv_bytes(
        [
            HEADER,
            ["A", "Brazil", "5511912345678"],
            ["B", "Britain", "447400123456"],
            ["C", "Portugal", "936-672-096"],
            ["D", "Spain", "0034 612 000 003"],
        ]
    )
    # when
    job = await run_import(api, workspace.token, data, {**OPTIONS, "defaultRegion": "PT"})
    # then
    assert (job["created"], job["failed"]) == (4, 0)
    found = (await api.data(CONTACT_PHONES, token=workspace.token))["contacts"]["edges"]
    assert [e["node"]["phone"] for e in found] == [
        "+5511912345678",
        "+447400123456",
        "+351936672096",
        "+34612000003",
    ]


async def test_a_failure_says_what_was_tried_and_suggests_the_default_region(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    data = csv_bytes(
        [HEADER, ["A", "National", "936-672-096"], ["B", "Plus", "+1 (0) 555"], ["C", "Nowhere", "+999 1234"]]
    )
    # when
    job = await run_import(api, workspace.token, data, OPTIONS)
    messages = await _messages(api, workspace.token, job["id"])
    # then
    assert job["failed"] == 3
    national, plus, nowhere = messages
    assert "read as +936672096" in national and "--default-region" in national
    assert "too short for +1" in plus and "--default-region" not in plus
    assert "no country has the calling code +999" in nowhere or "no country has that calling code" in nowhere
    assert not any(text in message for message in messages for text in LIBRARY_TEXT)


async def test_with_a_region_a_failure_names_both_readings(
    api: Api, workspace: Workspace, library: Library
) -> None:
    data = csv_bytes([HEADER, ["A", "Short", "12 34"]])
    job = await run_import(api, workspace.token, data, {**OPTIONS, "defaultRegion": "PT"})
    [message] = await _messages(api, workspace.token, job["id"])
    assert "as a number of PT: too short for +351 (PT)" in message and "as +1234" in message
    assert not any(text in message for text in LIBRARY_TEXT)

"""Properties, checked by Hypothesis through the public GraphQL surface: phones, bot answers, merges.

Each test keeps one workspace for all its examples (the suite empties the database
between tests, not between examples), so every example makes its own contacts, with
numbers and emails no other example uses. Examples per test: ``PROPERTY_EXAMPLES``
(``CONTACTGRAPH_PROPERTY_EXAMPLES`` to run longer by hand), derandomized so CI sees the
same examples every run.
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from contactgraph.events import Event, EventType
from contactgraph.ids import encode_id
from contactgraph.models import Contact, CustomField, DomainError
from contactgraph.models.base import format_datetime
from contactgraph.models.custom_values import coerce_value, validate_value, value_to_json
from contactgraph.models.library import CustomFieldType
from contactgraph.models.phone_claims import PhoneClaim
from contactgraph.models.phones import normalize_phone

from .api import Api, Library, Workspace, make_custom_field, phone
from .checks import errors_of, oid, snapshot

PROPERTY_EXAMPLES = int(os.environ.get("CONTACTGRAPH_PROPERTY_EXAMPLES", "60"))

PROPERTY = settings(
    max_examples=PROPERTY_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SETTINGS = """
mutation($input: WorkspaceSettingsInput!) { updateWorkspaceSettings(input: $input) { userErrors { code } } }"""

CONTACT = """
  id firstname lastname phone waId otherPhones email type company website description country city
  state zip address optedOut updatedAt status { id } source { id } assignedAgent { id } groups { id }
  customFields { field { key } value }
"""

UPSERT = f"""
mutation($input: UpsertContactByPhoneInput!) {{
  upsertContactByPhone(input: $input) {{ contact {{ {CONTACT} }} userErrors {{ field code message }} }}
}}"""

BY_PHONE = "query($phone: String) { contact(phone: $phone) { id phone } }"

BY_ID = f"query($id: ID) {{ contact(id: $id) {{ {CONTACT} }} }}"

UPDATE = f"""
mutation($id: ID!, $input: ContactPatch!) {{
  updateContact(id: $id, input: $input) {{ contact {{ {CONTACT} }} userErrors {{ field code message }} }}
}}"""

SET_VALUES = f"""
mutation($id: ID, $values: [CustomFieldValueInput!]!) {{
  setContactCustomFields(contactId: $id, values: $values) {{
    contact {{ {CONTACT} }}
    userErrors {{ field code message }}
  }}
}}"""

OPT_OUT = """
mutation($id: ID!) { setContactOptOut(id: $id, optedOut: true) { userErrors { code } } }"""

MERGE = f"""
mutation($p: ID!, $s: ID!, $choices: [MergeFieldChoice!], $dryRun: Boolean) {{
  mergeContacts(primaryId: $p, secondaryId: $s, choices: $choices, dryRun: $dryRun) {{
    contact {{ {CONTACT} }}
    userErrors {{ field code message }}
  }}
}}"""

# Numbers no other test module uses, one per example: phone(n) for n from here on.
_numbers = itertools.count(700_000)


@pytest.fixture
async def inbound(api: Api, workspace: Workspace, library: Library) -> Library:
    """The library, with its first status and source as the inbound defaults of upserts."""
    defaults = {"inboundStatusId": library.statuses[0], "inboundSourceId": library.sources[0]}
    await api.data(SETTINGS, {"input": defaults}, workspace.token)
    return library


async def upserted(api: Api, token: str, **input: Any) -> dict[str, Any]:
    payload = (await api.data(UPSERT, {"input": input}, token))["upsertContactByPhone"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["contact"]  # type: ignore[no-any-return]


def values_of(contact: dict[str, Any]) -> dict[str, Any]:
    return {item["field"]["key"]: item["value"] for item in contact["customFields"]}


# ---------------------------------------------------------------- phones

REGIONS = ("US", "CA", "GB", "DE", "FR", "IT", "ES", "NL", "IN", "BR", "MX", "AR", "NG", "KE", "ZA", "AE")
REGIONS += ("JP", "CN", "SG", "AU", "RU", "ID")


@st.composite
def valid_numbers(draw: st.DrawFn) -> PhoneNumber:
    """A valid mobile or fixed-line number of one of many regions (an example number, its end varied)."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(st.sampled_from((PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)))
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    national = phonenumbers.national_significant_number(example)
    tail = draw(st.text("0123456789", min_size=2, max_size=2))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-2]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    return number


@st.composite
def spellings(draw: st.DrawFn, number: PhoneNumber) -> str:
    """``number`` as people and systems write it: E.164, WhatsApp's digits, 00, grouped and bracketed."""
    country = str(number.country_code)
    national = phonenumbers.national_significant_number(number)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    groups = re.findall(r"\d+", international.removeprefix(f"+{country}"))
    style = draw(st.sampled_from(["e164", "digits", "grouped"]))
    if style == "e164":
        text = f"+{country}{national}"
    elif style == "digits":
        text = f"{country}{national}"
    else:
        head = draw(st.sampled_from(["+", "00"])) + country
        separator = draw(st.sampled_from([" ", "-", ".", ""]))
        brackets = draw(st.sampled_from(["none", "country", "first group"]))
        if brackets == "country" and head.startswith("+"):
            head = f"({head})"
        if brackets == "first group":
            groups[0] = f"({groups[0]})"
        text = (separator or draw(st.sampled_from(["", " "]))).join([head, *groups])
    padding = draw(st.sampled_from(["", " ", "\t "]))
    return f"{padding}{text}{padding}"


@PROPERTY
@given(number=valid_numbers(), data=st.data())
async def test_a_number_in_any_accepted_spelling_is_stored_in_e164_and_writing_it_back_changes_nothing(
    api: Api, workspace: Workspace, inbound: Library, number: PhoneNumber, data: st.DataObject
) -> None:
    # given
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    spelled = data.draw(spellings(number), label="spelled")
    assert normalize_phone(spelled) == e164 == normalize_phone(e164)
    # when
    contact = await upserted(api, workspace.token, phone=spelled)
    again = await upserted(api, workspace.token, phone=contact["phone"])
    found = await api.data(BY_PHONE, {"phone": spelled}, workspace.token)
    # then
    assert (contact["phone"], contact["waId"]) == (e164, e164[1:])
    assert (again["id"], again["phone"], again["updatedAt"]) == (
        contact["id"],
        e164,
        contact["updatedAt"],
    )
    assert found["contact"] == {"id": contact["id"], "phone": e164}
    [stored] = await Contact.find({"phone": e164}).to_list()
    [claim] = await PhoneClaim.find({"phone": e164}).to_list()
    assert stored.id == claim.contact_id == oid(contact["id"])


phonelike = st.text(alphabet="0123456789+()-. ", max_size=30)


@PROPERTY
@given(raw=st.one_of(st.text(max_size=50), phonelike, phonelike.map(lambda text: "+" + text)))
async def test_any_other_text_is_read_as_a_number_or_refused_as_invalid_never_a_server_error(
    api: Api, workspace: Workspace, inbound: Library, raw: str
) -> None:
    # given
    try:
        expected: str | None = normalize_phone(raw)
    except DomainError as error:
        assert error.code in ("INVALID", "REQUIRED"), error
        expected = None
    before = await Contact.count()
    # when
    body = await api.gql(UPSERT, {"input": {"phone": raw}}, workspace.token)
    # then
    assert "errors" not in body, body
    payload = body["data"]["upsertContactByPhone"]
    if expected is None:
        assert errors_of(payload) in ([("INVALID", ["input", "phone"])], [("REQUIRED", ["input", "phone"])])
        assert payload["contact"] is None
        assert await Contact.count() == before
    else:
        assert payload["contact"]["phone"] == expected


# ---------------------------------------------------------------- bot answers

OPTIONS = ["Small", "MEDIUM", "xl", "Très grand", "straße"]
KEYS = {
    CustomFieldType.TEXT: "note",
    CustomFieldType.TEXTAREA: "story",
    CustomFieldType.NUMBER: "seats",
    CustomFieldType.DATE: "birthday",
    CustomFieldType.DATETIME: "call_at",
    CustomFieldType.DROPDOWN: "size",
    CustomFieldType.CHECKBOX: "vip",
    CustomFieldType.URL: "homepage",
}
INVALID = object()  # what an answer is expected to be when it cannot be read


def recased(word: str) -> st.SearchStrategy[str]:
    """``word`` as a bot might spell it: any case, surrounded by spaces."""
    spelled = st.sampled_from([word, word.upper(), word.lower(), word.title(), word.swapcase()])
    return st.tuples(st.sampled_from(["", " "]), spelled, st.sampled_from(["", "  "])).map("".join)


def _number_answers() -> st.SearchStrategy[tuple[str, Any]]:
    integers = st.integers(-(2**53), 2**53).flatmap(
        lambda n: st.sampled_from([str(n), f" {n} ", f"+{n}" if n >= 0 else str(n)]).map(lambda t: (t, n))
    )
    floats = st.floats(allow_nan=False, allow_infinity=False).map(lambda x: (repr(x), x))
    huge = st.sampled_from([("1e400", INVALID), ("9" * 20, INVALID), ("0x10", INVALID), ("", INVALID)])
    return st.one_of(integers, floats, huge)


def _moment(value: datetime) -> Any:
    try:
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 lies past year 9999 in UTC
        return INVALID
    return format_datetime(moment.replace(microsecond=moment.microsecond // 1000 * 1000))


offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
world_offsets = st.sampled_from([-12 * 60, -5 * 60, -210, 0, 330, 9 * 60, 14 * 60]).map(
    lambda m: timezone(timedelta(minutes=m))
)
ANSWERS: dict[CustomFieldType, st.SearchStrategy[tuple[str, Any]]] = {
    CustomFieldType.TEXT: st.text(max_size=40).map(lambda t: (t, t)),
    CustomFieldType.TEXTAREA: st.text(alphabet=st.characters(codec="utf-8"), max_size=80).map(
        lambda t: (t, t)
    ),
    CustomFieldType.NUMBER: _number_answers(),
    CustomFieldType.DATE: st.dates().map(lambda d: (d.isoformat(), d.isoformat())),
    CustomFieldType.DATETIME: st.one_of(
        st.datetimes(timezones=st.none() | offsets),
        st.datetimes(min_value=datetime(9999, 12, 31, 10), timezones=world_offsets),  # the ends of the range
        st.datetimes(max_value=datetime(1, 1, 1, 14), timezones=world_offsets),
    ).map(lambda m: (m.isoformat(), _moment(m))),
    CustomFieldType.DROPDOWN: st.sampled_from(OPTIONS).flatmap(lambda o: recased(o).map(lambda t: (t, o))),
    CustomFieldType.CHECKBOX: st.sampled_from(["true", "false", "yes", "no", "1", "0"]).flatmap(
        lambda w: recased(w).map(lambda t: (t, w in ("true", "yes", "1")))
    ),
    CustomFieldType.URL: st.from_regex(
        r"https://[a-z0-9]{1,12}\.[a-z]{2,6}(/[A-Za-z0-9_~-]{0,12}){0,2}", fullmatch=True
    ).map(lambda url: (url, url)),
}
answers = st.sampled_from(list(ANSWERS)).flatmap(lambda kind: ANSWERS[kind].map(lambda a: (kind, *a)))


@pytest.fixture
async def bot_contact(api: Api, workspace: Workspace, inbound: Library) -> str:
    for kind, key in KEYS.items():
        await make_custom_field(
            api, workspace, key, kind.value, **({"options": OPTIONS} if kind.value == "DROPDOWN" else {})
        )
    return (await upserted(api, workspace.token, phone=phone(next(_numbers))))["id"]  # type: ignore[no-any-return]


@PROPERTY
@given(answer=answers)
async def test_a_bot_answer_reads_back_as_its_type_and_sending_that_back_changes_nothing(
    api: Api, workspace: Workspace, bot_contact: str, answer: tuple[CustomFieldType, str, Any]
) -> None:
    # given
    kind, sent, expected = answer
    key = KEYS[kind]
    # when
    data = await api.data(
        SET_VALUES, {"id": bot_contact, "values": [{"key": key, "value": sent}]}, workspace.token
    )
    # then
    payload = data["setContactCustomFields"]
    if expected is INVALID:
        assert errors_of(payload) == [("INVALID", ["values", "0", "value"])]
        return
    assert payload["userErrors"] == []
    read = values_of(payload["contact"])[key]
    assert read == expected and type(read) is type(expected)
    again = (
        await api.data(
            SET_VALUES, {"id": bot_contact, "values": [{"key": key, "value": read}]}, workspace.token
        )
    )["setContactCustomFields"]
    assert again["userErrors"] == []
    assert (values_of(again["contact"])[key], again["contact"]["updatedAt"]) == (
        read,
        payload["contact"]["updatedAt"],
    )
    field = await CustomField.find_one({"key": key})
    stored = await Contact.get(oid(bot_contact))
    assert field is not None and stored is not None
    assert value_to_json(stored.value_of(field.id)) == read  # type: ignore[arg-type]


@pytest.mark.parametrize("moment", ["9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+05:00"])
async def test_a_moment_beyond_the_calendar_once_in_utc_is_invalid_for_bots_and_typed_clients(
    api: Api, workspace: Workspace, bot_contact: str, moment: str
) -> None:
    # given
    state = await snapshot()
    value = [{"key": KEYS[CustomFieldType.DATETIME], "value": moment}]
    # when
    from_bot = await api.data(SET_VALUES, {"id": bot_contact, "values": value}, workspace.token)
    typed = await api.data(UPDATE, {"id": bot_contact, "input": {"customFields": value}}, workspace.token)
    # then
    assert errors_of(from_bot["setContactCustomFields"]) == [("INVALID", ["values", "0", "value"])]
    assert errors_of(typed["updateContact"]) == [("INVALID", ["input", "customFields", "0", "value"])]
    assert await snapshot() == state


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    answers.map(lambda answer: answer[1]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=PROPERTY_EXAMPLES * 5, derandomize=True, database=None, deadline=None)
@given(kind=st.sampled_from(list(CustomFieldType)), value=anything)
def test_coercion_agrees_with_validation(kind: CustomFieldType, value: Any) -> None:
    # given
    field = CustomField.model_construct(key="k", label="K", type=kind, options=OPTIONS)
    # when
    try:
        stored = coerce_value(field, value)
    except DomainError as error:
        assert error.code == "INVALID", error
        return
    # then
    assert validate_value(field, value_to_json(stored)) == stored  # a typed client writing it back
    assert coerce_value(field, value_to_json(stored)) == stored  # a bot writing it back
    try:
        typed = validate_value(field, value)
    except DomainError:
        return
    assert typed == stored  # reading text only widens what is accepted


# ---------------------------------------------------------------- merges

TEXTS = ["company", "description", "country", "city", "state", "zip", "address"]
FILLED = [
    "firstname",
    "lastname",
    "email",
    "assignedAgentId",
    "website",
    *TEXTS,
]  # an empty primary takes these
CHOOSABLE = [*FILLED, "type", "statusId", "sourceId"]
MERGE_FIELDS = {"plan": "TEXT", "seats": "NUMBER", "vip": "CHECKBOX"}
SIDES = ("PRIMARY", "SECONDARY")
REFERENCES = {
    "statusId": ("ContactStatus", "status_id"),
    "sourceId": ("ContactSource", "source_id"),
    "assignedAgentId": ("Agent", "assigned_agent_id"),
}

contact_specs = st.fixed_dictionaries(
    {
        "firstname": st.sampled_from(["", "Ada", "Augusta"]),
        "lastname": st.sampled_from(["", "Lovelace", "King"]),
        "email": st.booleans(),
        "type": st.sampled_from(["LEAD", "CUSTOMER", "GUEST"]),
        "status": st.integers(0, 1),
        "source": st.integers(0, 1),
        "agent": st.sampled_from([None, 0, 1]),
        "website": st.sampled_from([None, "https://a.example.com", "https://b.example.com/x"]),
        "texts": st.dictionaries(st.sampled_from(TEXTS), st.sampled_from(["x", "y"]), max_size=4),
        "groups": st.lists(st.integers(0, 1), unique=True),
        "custom": st.fixed_dictionaries(
            {},
            optional={
                "plan": st.sampled_from(["pro", "basic"]),
                "seats": st.integers(1, 9),
                "vip": st.booleans(),
            },
        ),
        "opted_out": st.booleans(),
        "merged_before": st.booleans(),  # has had another contact merged in, so holds otherPhones
    }
)
merge_choices = st.dictionaries(
    st.sampled_from(CHOOSABLE + [f"customFields.{key}" for key in MERGE_FIELDS]),
    st.sampled_from(SIDES),
    max_size=4,
)


class MergeWorld:
    def __init__(self, workspace: Workspace, library: Library, agents: list[str]) -> None:
        self.workspace = workspace
        self.library = library
        self.agents = agents


@pytest.fixture
async def world(api: Api, workspace: Workspace, inbound: Library) -> MergeWorld:
    for key, kind in MERGE_FIELDS.items():
        await make_custom_field(api, workspace, key, kind)
    other, _ = await api.agent_token(workspace, ["CONTACT_VIEW"])
    return MergeWorld(workspace, inbound, [workspace.agent_id, other])


async def contact_of(api: Api, world: MergeWorld, spec: dict[str, Any]) -> dict[str, Any]:
    """A contact as ``spec`` describes it, made through the API, as the API reads it."""
    token, library, n = world.workspace.token, world.library, next(_numbers)
    names = {name: spec[name] for name in ("firstname", "lastname") if spec[name]}
    created = await upserted(api, token, phone=phone(n), **names)
    patch: dict[str, Any] = {
        "type": spec["type"],
        "statusId": library.statuses[spec["status"]],
        "sourceId": library.sources[spec["source"]],
        "groupIds": [library.groups[i] for i in spec["groups"]],
        "customFields": [{"key": key, "value": value} for key, value in spec["custom"].items()],
        **spec["texts"],
    }
    if spec["email"]:
        patch["email"] = f"c{n}@example.com"
    if spec["website"]:
        patch["website"] = spec["website"]
    if spec["agent"] is not None:
        patch["assignedAgentId"] = world.agents[spec["agent"]]
    await api.ok(UPDATE, {"id": created["id"], "input": patch}, token)
    if spec["opted_out"]:
        await api.ok(OPT_OUT, {"id": created["id"]}, token)
    if spec["merged_before"]:
        merged_in = await upserted(api, token, phone=phone(next(_numbers)))
        await api.ok(MERGE, {"p": created["id"], "s": merged_in["id"]}, token)
    return (await api.data(BY_ID, {"id": created["id"]}, token))["contact"]  # type: ignore[no-any-return]


def field_of(contact: dict[str, Any], name: str) -> Any:
    """A choosable field of a contact as the API reads it."""
    if name.endswith("Id"):
        linked = contact[
            {"statusId": "status", "sourceId": "source", "assignedAgentId": "assignedAgent"}[name]
        ]
        return linked["id"] if linked else None
    return contact[name]


def api_value(contact: Contact, name: str) -> Any:
    """A choosable field of a stored contact, as the API would show it."""
    if name in REFERENCES:
        kind, stored = REFERENCES[name]
        value = getattr(contact, stored)
        return encode_id(kind, value) if value is not None else None
    value = getattr(contact, name)
    return value.value if name == "type" else value


def empty(value: Any) -> bool:
    return value is None or value == ""


def expected_merge(
    primary: dict[str, Any], secondary: dict[str, Any], choices: dict[str, str]
) -> dict[str, Any]:
    """What the README promises, written out independently of the code that does it."""
    sides = {"PRIMARY": primary, "SECONDARY": secondary}
    expected: dict[str, Any] = {}
    for name in CHOOSABLE:
        mine, theirs = field_of(primary, name), field_of(secondary, name)
        if name in choices:
            expected[name] = field_of(sides[choices[name]], name)
        elif name in FILLED and empty(mine):
            expected[name] = theirs
        else:
            expected[name] = mine
    values = {**values_of(secondary), **values_of(primary)}
    for key in MERGE_FIELDS:
        if (side := choices.get(f"customFields.{key}")) is not None:
            values[key] = values_of(sides[side]).get(key)
    expected["customFields"] = {key: value for key, value in values.items() if value is not None}
    expected["groups"] = list(dict.fromkeys(g["id"] for g in primary["groups"] + secondary["groups"]))
    expected["optedOut"] = primary["optedOut"] or secondary["optedOut"]
    return expected


def as_merged(contact: dict[str, Any]) -> dict[str, Any]:
    merged = {name: field_of(contact, name) for name in CHOOSABLE}
    merged["customFields"] = values_of(contact)
    merged["groups"] = [g["id"] for g in contact["groups"]]
    merged["optedOut"] = contact["optedOut"]
    return merged


async def assert_one_holder_per_number_and_email() -> None:
    """No two contacts share a number or an email, and the claims say exactly who holds each number."""
    contacts = await Contact.find_all().to_list()
    held = [(number, contact.id) for contact in contacts for number in [contact.phone, *contact.other_phones]]
    assert len({number for number, _ in held}) == len(held), held
    emails = [contact.email for contact in contacts if contact.email]
    assert len(set(emails)) == len(emails), emails
    claims = [(claim.phone, claim.contact_id) for claim in await PhoneClaim.find_all().to_list()]
    assert sorted(claims) == sorted(held)


@PROPERTY
@given(
    primary_spec=contact_specs,
    secondary_spec=contact_specs,
    choices=merge_choices,
    dry_run_first=st.booleans(),
)
async def test_a_merge_loses_no_value_and_no_number_and_keeps_every_number_and_email_unique(
    api: Api,
    world: MergeWorld,
    primary_spec: dict[str, Any],
    secondary_spec: dict[str, Any],
    choices: dict[str, str],
    dry_run_first: bool,
) -> None:
    # given
    note(
        f"primary {primary_spec}\nsecondary {secondary_spec}\nchoices {choices}, dry run first: {dry_run_first}"
    )
    token = world.workspace.token
    primary = await contact_of(api, world, primary_spec)
    secondary = await contact_of(api, world, secondary_spec)
    before = {
        side: await Contact.get(oid(c["id"])) for side, c in (("primary", primary), ("secondary", secondary))
    }
    variables = {
        "p": primary["id"],
        "s": secondary["id"],
        "choices": [{"field": field, "take": side} for field, side in choices.items()],
    }
    dry = None
    if dry_run_first:
        state = await snapshot()
        dry = (await api.ok(MERGE, {**variables, "dryRun": True}, token))["contact"]
        assert await snapshot() == state
    # when
    merged = (await api.ok(MERGE, variables, token))["contact"]
    # then the rule, and the dry run foretold it
    assert as_merged(merged) == expected_merge(primary, secondary, choices)
    if dry is not None:
        assert {**dry, "updatedAt": None} == {**merged, "updatedAt": None}
    # no number lost
    numbers = {primary["phone"], *primary["otherPhones"], secondary["phone"], *secondary["otherPhones"]}
    assert merged["phone"] == primary["phone"]
    assert sorted([merged["phone"], *merged["otherPhones"]]) == sorted(numbers)
    # no value lost: each is in the merged contact, or in the merge event's copy of its contact
    [event] = await Event.find(
        {"type": EventType.MERGED.value, "data.secondary._id": oid(secondary["id"])}
    ).to_list()
    field_ids = {field.key: field.id for field in await CustomField.find_all().to_list()}
    result = as_merged(merged)
    for side, contact in (("primary", primary), ("secondary", secondary)):
        kept = Contact.model_validate(event.data[side])
        unkept = {"revision_id", "search_terms"}  # an event's copy leaves out the derived search terms
        assert kept.model_dump(exclude=unkept) == before[side].model_dump(exclude=unkept)  # type: ignore[union-attr]
        for name in CHOOSABLE:
            value = field_of(contact, name)
            assert empty(value) or value in (result[name], api_value(kept, name)), (side, name)
        for key, value in values_of(contact).items():
            assert value in (result["customFields"].get(key), value_to_json(kept.value_of(field_ids[key]))), (
                side,
                key,
            )
    # the secondary is gone, its id now names the primary, and every number and email has one holder
    found = await api.data(BY_ID, {"id": secondary["id"]}, token)
    assert found["contact"]["id"] == primary["id"]
    assert await Contact.get(oid(secondary["id"])) is None
    await assert_one_holder_per_number_and_email()

"""contact, contacts, campaignAudience and node for contacts, through GraphQL over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from contactgraph.ids import decode_id, encode_id
from contactgraph.models import Contact

from .api import Api, Library, Workspace, make_contact, make_custom_field, phone

CONTACT_BY_ID = """
query($id: ID) { contact(id: $id) { id firstname phone waId } }"""

CONTACT_BY_PHONE = """
query($phone: String) { contact(phone: $phone) { id firstname phone } }"""

CONTACT_BY_BOTH = """
query($id: ID, $phone: String) { contact(id: $id, phone: $phone) { id } }"""

NODE = """
query($id: ID!) { node(id: $id) { __typename id ... on Contact { firstname phone } } }"""

CONTACTS = """
query($filter: ContactFilter, $sort: ContactSort, $first: Int, $after: String, $last: Int, $before: String) {
  contacts(filter: $filter, sort: $sort, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id firstname } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

CAMPAIGN_AUDIENCE = """
query($groupIds: [ID!], $first: Int, $after: String) {
  campaignAudience(groupIds: $groupIds, first: $first, after: $after) {
    totalCount
    edges { cursor node { id firstname optedOut } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

UPDATE_CONTACT = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) {
    contact { id assignedAgent { id } } userErrors { field code message }
  }
}"""

SET_OPT_OUT = """
mutation($id: ID!, $optedOut: Boolean!) {
  setContactOptOut(id: $id, optedOut: $optedOut) { contact { id } userErrors { field code message } }
}"""

ASSIGN_CONTACTS = """
mutation($contactIds: [ID!]!, $agentId: ID) {
  assignContacts(contactIds: $contactIds, agentId: $agentId) { count userErrors { field code message } }
}"""

ADD_TO_GROUP = """
mutation($groupId: ID!, $contactIds: [ID!]!) {
  addContactsToGroup(groupId: $groupId, contactIds: $contactIds) { count userErrors { field code message } }
}"""

DELETE_CONTACTS = """
mutation($ids: [ID!]!) { deleteContacts(ids: $ids) { deletedIds userErrors { field code message } } }"""


async def set_stored(contact_id: str, **fields: Any) -> None:
    """Change a stored contact directly, for what the API sets by itself (timestamps)."""
    await Contact.get_pymongo_collection().update_one(
        {"_id": decode_id(contact_id, "Contact")}, {"$set": fields}
    )


async def snapshot() -> list[dict[str, Any]]:
    return await Contact.get_pymongo_collection().find({}, sort=[("_id", 1)]).to_list(None)  # type: ignore[no-any-return]


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["firstname"] for edge in connection["edges"]]


def top_level_code(body: dict[str, Any]) -> str:
    assert body.get("data") is None or next(iter(body["data"].values())) is None, body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- contact(id | phone), node


async def test_contact_by_id(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone="+14155552671")
    await make_contact(api, workspace, library, firstname="Grace", phone=phone(1))
    # when
    found = await api.data(CONTACT_BY_ID, {"id": ada["id"]}, workspace.token)
    missing = await api.data(CONTACT_BY_ID, {"id": encode_id("Contact", ObjectId())}, workspace.token)
    malformed = await api.data(CONTACT_BY_ID, {"id": "garbage"}, workspace.token)
    other_kind = await api.data(CONTACT_BY_ID, {"id": library.groups[0]}, workspace.token)
    # then
    assert found["contact"] == {
        "id": ada["id"],
        "firstname": "Ada",
        "phone": "+14155552671",
        "waId": "14155552671",
    }
    assert missing["contact"] is None
    assert malformed["contact"] is None
    assert other_kind["contact"] is None


@pytest.mark.parametrize(
    "spelling",
    ["+14155552671", "14155552671", "+1 (415) 555-2671", "(+1) 415.555.2671", "001 415 555 2671"],
)
async def test_contact_by_phone_in_any_accepted_format(
    api: Api, workspace: Workspace, library: Library, spelling: str
) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone="+14155552671")
    await make_contact(api, workspace, library, firstname="Grace", phone=phone(1))
    # when
    data = await api.data(CONTACT_BY_PHONE, {"phone": spelling}, workspace.token)
    # then
    assert data["contact"] == {"id": ada["id"], "firstname": "Ada", "phone": "+14155552671"}


async def test_contact_by_phone_matches_other_phones_and_nothing_else(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone="+14155552671")
    await set_stored(ada["id"], other_phones=["+447911123456"])
    # when
    other = await api.data(CONTACT_BY_PHONE, {"phone": "0044 7911 123456"}, workspace.token)
    unknown = await api.data(CONTACT_BY_PHONE, {"phone": "+14155552672"}, workspace.token)
    # then
    assert other["contact"]["id"] == ada["id"]
    assert unknown["contact"] is None


async def test_contact_by_an_invalid_phone_is_a_top_level_invalid(
    api: Api, workspace: Workspace, library: Library
) -> None:
    await make_contact(api, workspace, library)
    body = await api.gql(CONTACT_BY_PHONE, {"phone": "0123 456789"}, workspace.token)
    assert top_level_code(body) == "INVALID"
    assert "country code" in body["errors"][0]["message"]


@pytest.mark.parametrize("variables", [{}, {"id": None, "phone": None}, {"id": "x", "phone": "+14155552671"}])
async def test_contact_needs_exactly_one_of_id_and_phone(
    api: Api, workspace: Workspace, library: Library, variables: dict[str, Any]
) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone="+14155552671")
    if variables.get("id"):
        variables = {**variables, "id": ada["id"]}
    # when
    body = await api.gql(CONTACT_BY_BOTH, variables, workspace.token)
    # then
    assert top_level_code(body) == "INVALID"


async def test_node_resolves_a_contact(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone="+14155552671")
    other = await api.create_workspace("Other")
    # when
    found = await api.data(NODE, {"id": ada["id"]}, workspace.token)
    elsewhere = await api.data(NODE, {"id": ada["id"]}, other.token)
    missing = await api.data(NODE, {"id": encode_id("Contact", ObjectId())}, workspace.token)
    # then
    assert found["node"] == {
        "__typename": "Contact",
        "id": ada["id"],
        "firstname": "Ada",
        "phone": "+14155552671",
    }
    assert elsewhere["node"] is None
    assert missing["node"] is None


async def test_contacts_of_another_workspace_are_invisible(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    ada = await make_contact(api, workspace, library, phone="+14155552671")
    other = await api.create_workspace("Other")
    # when
    by_id = await api.data(CONTACT_BY_ID, {"id": ada["id"]}, other.token)
    by_phone = await api.data(CONTACT_BY_PHONE, {"phone": "+14155552671"}, other.token)
    listed = await api.data(CONTACTS, {"filter": {"ids": [ada["id"]]}}, other.token)
    # then
    assert by_id["contact"] is None
    assert by_phone["contact"] is None
    assert listed["contacts"]["edges"] == []
    assert listed["contacts"]["totalCount"] == 0


# ---------------------------------------------------------------- contacts(filter)


@dataclass
class People:
    """Four contacts that differ in every filterable way; ids by first name."""

    ids: dict[str, str]
    library: Library
    agent_id: str
    admin_id: str


@pytest.fixture
async def people(api: Api, workspace: Workspace, library: Library) -> People:
    agent_id, _ = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    for key, type, extra in (
        ("note", "TEXT", {}),
        ("score", "NUMBER", {}),
        ("birthday", "DATE", {}),
        ("meeting", "DATETIME", {}),
        ("plan", "DROPDOWN", {"options": ["basic", "pro"]}),
        ("vip", "CHECKBOX", {}),
        ("site", "URL", {}),
    ):
        await make_custom_field(api, workspace, key, type, **extra)
    s0, s1 = library.statuses
    src0, src1 = library.sources
    g0, g1 = library.groups
    specs: list[dict[str, Any]] = [
        {
            "firstname": "Ada",
            "lastname": "Lovelace",
            "phone": "+14155552001",
            "email": "ada@example.com",
            "type": "LEAD",
            "statusId": s0,
            "sourceId": src0,
            "groupIds": [g0],
            "assignedAgentId": agent_id,
            "customFields": [
                {"key": "note", "value": "Loves engines"},
                {"key": "score", "value": 10},
                {"key": "birthday", "value": "1990-05-01"},
                {"key": "meeting", "value": "2024-01-10T10:00:00+02:00"},
                {"key": "plan", "value": "pro"},
                {"key": "vip", "value": True},
                {"key": "site", "value": "https://ada.Example.com"},
            ],
        },
        {
            "firstname": "Grace",
            "lastname": "Hopper",
            "phone": "+14155552002",
            "email": "grace@navy.example",
            "type": "CUSTOMER",
            "statusId": s1,
            "sourceId": src0,
            "groupIds": [g1],
            "assignedAgentId": workspace.agent_id,
            "customFields": [
                {"key": "note", "value": "Compiler pioneer"},
                {"key": "score", "value": 25.5},
                {"key": "birthday", "value": "1985-12-09"},
                {"key": "meeting", "value": "2024-03-01T00:00:00Z"},
                {"key": "plan", "value": "basic"},
                {"key": "vip", "value": False},
            ],
        },
        {
            "firstname": "Alan",
            "lastname": "Turing",
            "phone": "+447911123456",
            "email": "alan@bletchley.example",
            "type": "GUEST",
            "statusId": s0,
            "sourceId": src1,
            "groupIds": [g0, g1],
        },
        {
            "firstname": "Adam",
            "lastname": "Smith",
            "phone": "+14155559999",
            "type": "LEAD",
            "statusId": s1,
            "sourceId": src1,
            "customFields": [{"key": "note", "value": "Wealth of nations"}, {"key": "score", "value": -3}],
        },
    ]
    ids = {}
    for month, spec in enumerate(specs, start=1):
        contact = await make_contact(api, workspace, library, **spec)
        await set_stored(contact["id"], created_at=datetime(2024, month, 1, tzinfo=UTC))
        ids[spec["firstname"]] = contact["id"]
    opt_out = await api.ok(SET_OPT_OUT, {"id": ids["Grace"], "optedOut": True}, workspace.token)
    assert opt_out["contact"]["id"] == ids["Grace"]
    return People(ids, library, agent_id, workspace.agent_id)


async def check_filters(
    api: Api, token: str, cases: list[tuple[dict[str, Any], set[str]]]
) -> list[tuple[dict[str, Any], set[str], set[str]]]:
    """Each filter's result, as (filter, expected, got) for those that differ."""
    wrong = []
    for filter, expected in cases:
        connection = (await api.data(CONTACTS, {"filter": filter}, token))["contacts"]
        got = set(names(connection))
        if got != expected or connection["totalCount"] != len(expected):
            wrong.append((filter, expected, got))
    return wrong


EVERYONE = {"Ada", "Grace", "Alan", "Adam"}


async def test_search_by_name_email_and_phone_digits(api: Api, workspace: Workspace, people: People) -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"search": "ada"}, {"Ada", "Adam"}),
        ({"search": "ADA"}, {"Ada", "Adam"}),
        ({"search": "lov"}, {"Ada"}),
        ({"search": "LOVELACE"}, {"Ada"}),
        ({"search": "ada lov"}, {"Ada"}),
        ({"search": "  Ada   Lov "}, {"Ada"}),
        ({"search": "adam smith"}, {"Adam"}),
        ({"search": "ace"}, set()),
        ({"search": "grace@"}, {"Grace"}),
        ({"search": "ALAN@BLETCH"}, {"Alan"}),
        ({"search": "navy"}, {"Grace"}),  # the domain of her email
        ({"search": "2002"}, {"Grace"}),
        ({"search": "4155552"}, {"Ada", "Grace"}),
        ({"search": "+44 7911"}, {"Alan"}),
        ({"search": "7911-123"}, {"Alan"}),
        ({"search": "5550"}, set()),
        ({"search": ".*"}, set()),
        ({"search": "a(b"}, {"Alan"}),  # punctuation separates words: a… and b… (alan@bletchley)
        ({"search": "   "}, EVERYONE),
    ]
    assert await check_filters(api, workspace.token, cases) == []


async def test_filters_on_references_and_flags(api: Api, workspace: Workspace, people: People) -> None:
    lib, ids = people.library, people.ids
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({}, EVERYONE),
        ({"ids": [ids["Ada"], ids["Alan"]]}, {"Ada", "Alan"}),
        ({"ids": [ids["Ada"], "garbage", lib.groups[0]]}, {"Ada"}),
        ({"ids": []}, set()),
        ({"statusIds": [lib.statuses[1]]}, {"Grace", "Adam"}),
        ({"statusIds": lib.statuses}, EVERYONE),
        ({"sourceIds": [lib.sources[1]]}, {"Alan", "Adam"}),
        ({"groupIds": [lib.groups[0]]}, {"Ada", "Alan"}),
        ({"groupIds": lib.groups}, {"Ada", "Grace", "Alan"}),
        ({"types": ["LEAD"]}, {"Ada", "Adam"}),
        ({"types": ["CUSTOMER", "GUEST"]}, {"Grace", "Alan"}),
        ({"assignedAgentIds": [people.agent_id]}, {"Ada"}),
        ({"assignedAgentIds": [people.agent_id, people.admin_id]}, {"Ada", "Grace"}),
        ({"unassigned": True}, {"Alan", "Adam"}),
        ({"unassigned": False}, {"Ada", "Grace"}),
        ({"optedOut": True}, {"Grace"}),
        ({"optedOut": False}, {"Ada", "Alan", "Adam"}),
        ({"createdAfter": "2024-01-15T00:00:00Z"}, {"Grace", "Alan", "Adam"}),
        ({"createdBefore": "2024-02-15T00:00:00+00:00"}, {"Ada", "Grace"}),
        ({"createdAfter": "2024-01-15T00:00:00Z", "createdBefore": "2024-02-15T00:00:00Z"}, {"Grace"}),
        ({"createdAfter": "2024-01-31T23:00:00-02:00"}, {"Alan", "Adam"}),
    ]
    assert await check_filters(api, workspace.token, cases) == []


async def test_filters_combine_with_and(api: Api, workspace: Workspace, people: People) -> None:
    lib = people.library
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"statusIds": [lib.statuses[0]], "types": ["LEAD"]}, {"Ada"}),
        ({"search": "a", "unassigned": True, "optedOut": False}, {"Alan", "Adam"}),
        ({"groupIds": [lib.groups[1]], "optedOut": False}, {"Alan"}),
        ({"search": "ada", "sourceIds": [lib.sources[1]]}, {"Adam"}),
        ({"search": "ada", "sourceIds": [lib.sources[1]], "types": ["CUSTOMER"]}, set()),
        (
            {"createdAfter": "2024-01-15T00:00:00Z", "customFields": [{"key": "score", "gte": 0}]},
            {"Grace"},
        ),
        (
            {"customFields": [{"key": "score", "gte": 10}, {"key": "vip", "eq": False}]},
            {"Grace"},
        ),
    ]
    assert await check_filters(api, workspace.token, cases) == []


def on(key: str, **condition: Any) -> dict[str, Any]:
    return {"customFields": [{"key": key, **condition}]}


CUSTOM_FILTERS: dict[str, list[tuple[dict[str, Any], set[str]]]] = {
    "TEXT": [
        (on("note", eq="Loves engines"), {"Ada"}),
        (on("note", eq="loves engines"), set()),
        (on("note", **{"in": ["Compiler pioneer", "Wealth of nations"]}), {"Grace", "Adam"}),
        (on("note", contains="ENGINE"), {"Ada"}),
        (on("note", contains="o"), {"Ada", "Grace", "Adam"}),
        (on("note", contains=".*"), set()),
        (on("note", exists=True), {"Ada", "Grace", "Adam"}),
        (on("note", exists=False), {"Alan"}),
        (on("note", eq=None), {"Alan"}),
        (on("note", contains="pion", exists=True), {"Grace"}),
    ],
    "NUMBER": [
        (on("score", eq=10), {"Ada"}),
        (on("score", eq=10.0), {"Ada"}),
        (on("score", **{"in": [10, 25.5]}), {"Ada", "Grace"}),
        (on("score", gte=10), {"Ada", "Grace"}),
        (on("score", lte=10), {"Ada", "Adam"}),
        (on("score", gte=0, lte=20), {"Ada"}),
        (on("score", lte=-3), {"Adam"}),
        (on("score", exists=False), {"Alan"}),
    ],
    "DATE": [
        (on("birthday", eq="1990-05-01"), {"Ada"}),
        (on("birthday", gte="1986-01-01"), {"Ada"}),
        (on("birthday", lte="1986-01-01"), {"Grace"}),
        (on("birthday", gte="1985-12-09", lte="1990-05-01"), {"Ada", "Grace"}),
        (on("birthday", exists=False), {"Alan", "Adam"}),
    ],
    "DATETIME": [
        (on("meeting", eq="2024-01-10T08:00:00Z"), {"Ada"}),
        (on("meeting", gte="2024-01-10T09:00:00+01:00"), {"Ada", "Grace"}),
        (on("meeting", gte="2024-01-10T08:00:00.001Z"), {"Grace"}),
        (on("meeting", lte="2024-01-10T10:00:00+02:00"), {"Ada"}),
        (on("meeting", exists=True), {"Ada", "Grace"}),
    ],
    "DROPDOWN": [
        (on("plan", eq="pro"), {"Ada"}),
        (on("plan", **{"in": ["basic", "pro"]}), {"Ada", "Grace"}),
        (on("plan", exists=True), {"Ada", "Grace"}),
        (on("plan", exists=False), {"Alan", "Adam"}),
    ],
    "CHECKBOX": [
        (on("vip", eq=True), {"Ada"}),
        (on("vip", eq=False), {"Grace"}),
        (on("vip", **{"in": [True, False]}), {"Ada", "Grace"}),
        (on("vip", exists=False), {"Alan", "Adam"}),
    ],
    "URL": [
        (on("site", contains="EXAMPLE.com"), {"Ada"}),
        (on("site", eq="https://ada.Example.com"), {"Ada"}),
        (on("site", exists=False), {"Grace", "Alan", "Adam"}),
    ],
}


@pytest.mark.parametrize("type", CUSTOM_FILTERS)
async def test_custom_field_filters(api: Api, workspace: Workspace, people: People, type: str) -> None:
    assert await check_filters(api, workspace.token, CUSTOM_FILTERS[type]) == []


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ({"key": "shoe_size", "eq": 42}, "INVALID"),
        ({"key": "score", "contains": "1"}, "INVALID"),
        ({"key": "note", "gte": "a"}, "INVALID"),
        ({"key": "score", "eq": "12"}, "INVALID"),
        ({"key": "plan", "eq": "enterprise"}, "INVALID"),
        ({"key": "birthday", "gte": "31/01/2024"}, "INVALID"),
        ({"key": "meeting", "lte": "2024-01-10T10:00:00"}, "INVALID"),
        ({"key": "vip", "eq": "yes"}, "INVALID"),
        ({"key": "note", "eq": "x", "exists": False}, "INVALID"),
    ],
)
async def test_bad_custom_field_filter_is_a_top_level_error(
    api: Api, workspace: Workspace, people: People, condition: dict[str, Any], code: str
) -> None:
    body = await api.gql(CONTACTS, {"filter": {"customFields": [condition]}}, workspace.token)
    assert top_level_code(body) == code
    assert body["errors"][0]["extensions"]["field"][:3] == ["filter", "customFields", "0"]


@pytest.mark.parametrize(
    ("filter", "code", "field"),
    [
        ({"search": "a" * 101}, "INVALID", ["filter", "search"]),
        ({"ids": ["x"] * 501}, "LIMIT_EXCEEDED", ["filter", "ids"]),
        ({"groupIds": ["x"] * 501}, "LIMIT_EXCEEDED", ["filter", "groupIds"]),
        (
            {"customFields": [{"key": "note", "exists": True}] * 21},
            "LIMIT_EXCEEDED",
            ["filter", "customFields"],
        ),
    ],
)
async def test_oversized_filters_are_top_level_errors(
    api: Api, workspace: Workspace, library: Library, filter: dict[str, Any], code: str, field: list[str]
) -> None:
    await make_custom_field(api, workspace, "note", "TEXT")
    body = await api.gql(CONTACTS, {"filter": filter}, workspace.token)
    assert top_level_code(body) == code
    assert body["errors"][0]["extensions"]["field"] == field


# ---------------------------------------------------------------- sorting and pages

SORT_PATHS = {
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "FIRSTNAME": "firstname",
    "LASTNAME": "lastname",
    "STATUS_CHANGED_AT": "status_changed_at",
}


@pytest.fixture
async def crowd(api: Api, workspace: Workspace, library: Library) -> list[dict[str, Any]]:
    """Nine contacts with ties on every sort field (names differing only in case included)."""
    t = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        ("Ada", "Lovelace", t, t + timedelta(days=3), t),
        ("ada", "Byron", t, t + timedelta(days=1), t + timedelta(days=2)),
        ("Bob", "lovelace", t + timedelta(days=1), t + timedelta(days=1), t),
        ("Ada", "Smith", t, t + timedelta(days=1), t + timedelta(days=2)),
        ("Zoe", "Byron", t + timedelta(days=2), t + timedelta(days=2), t + timedelta(days=1)),
        ("bob", "Adams", t + timedelta(days=1), t + timedelta(days=3), t),
        ("Carl", "Smith", t - timedelta(days=1), t + timedelta(days=1), t + timedelta(days=2)),
        ("Ada", "Lovelace", t + timedelta(days=2), t + timedelta(days=3), t),
        ("Émile", "Zola", t, t + timedelta(days=1), t + timedelta(days=1)),
    ]
    for i, (first, last, created, updated, status_changed) in enumerate(rows):
        contact = await make_contact(api, workspace, library, firstname=first, lastname=last, phone=phone(i))
        await set_stored(
            contact["id"], created_at=created, updated_at=updated, status_changed_at=status_changed
        )
    return await snapshot()


def expected_order(docs: list[dict[str, Any]], field: str, descending: bool) -> list[str]:
    """Ids in sort order, ties broken by id; names compare case-insensitively."""
    path = SORT_PATHS[field]

    def key(doc: dict[str, Any]) -> tuple[Any, ObjectId]:
        value = doc[path]
        return (value.casefold() if isinstance(value, str) else value), doc["_id"]

    ordered = sorted(docs, key=key, reverse=descending)
    return [encode_id("Contact", doc["_id"]) for doc in ordered]


async def walk_forward(api: Api, token: str, sort: dict[str, str] | None) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(20):
        page = (await api.data(CONTACTS, {"sort": sort, "first": 2, "after": after}, token))["contacts"]
        info = page["pageInfo"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        assert page["totalCount"] == 9
        if not info["hasNextPage"]:
            return seen
        assert len(page["edges"]) == 2
        after = info["endCursor"]
    raise AssertionError("paging did not end")


async def walk_backward(api: Api, token: str, sort: dict[str, str] | None) -> list[str]:
    seen: list[str] = []
    before = None
    for _ in range(20):
        page = (await api.data(CONTACTS, {"sort": sort, "last": 2, "before": before}, token))["contacts"]
        info = page["pageInfo"]
        seen = [edge["node"]["id"] for edge in page["edges"]] + seen
        assert info["hasNextPage"] is (before is not None)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        if not info["hasPreviousPage"]:
            return seen
        assert len(page["edges"]) == 2
        before = info["startCursor"]
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", list(SORT_PATHS))
async def test_sorted_pages_list_every_contact_once_in_order(
    api: Api, workspace: Workspace, crowd: list[dict[str, Any]], field: str, direction: str
) -> None:
    # given
    expected = expected_order(crowd, field, direction == "DESC")
    sort = {"field": field, "direction": direction}
    # when
    forward = await walk_forward(api, workspace.token, sort)
    backward = await walk_backward(api, workspace.token, sort)
    whole = await api.data(CONTACTS, {"sort": sort, "first": 500}, workspace.token)
    # then
    assert len(set(expected)) == 9
    assert forward == expected
    assert backward == expected
    assert [edge["node"]["id"] for edge in whole["contacts"]["edges"]] == expected


async def test_default_order_is_newest_first(
    api: Api, workspace: Workspace, crowd: list[dict[str, Any]]
) -> None:
    expected = expected_order(crowd, "CREATED_AT", descending=True)
    assert await walk_forward(api, workspace.token, None) == expected
    assert await walk_backward(api, workspace.token, None) == expected


async def test_sort_direction_defaults_to_ascending(
    api: Api, workspace: Workspace, crowd: list[dict[str, Any]]
) -> None:
    data = await api.data(CONTACTS, {"sort": {"field": "LASTNAME"}}, workspace.token)
    assert [e["node"]["id"] for e in data["contacts"]["edges"]] == expected_order(crowd, "LASTNAME", False)


async def test_pages_between_two_cursors(api: Api, workspace: Workspace, crowd: list[dict[str, Any]]) -> None:
    # given
    sort = {"field": "FIRSTNAME", "direction": "ASC"}
    expected = expected_order(crowd, "FIRSTNAME", False)
    edges = (await api.data(CONTACTS, {"sort": sort}, workspace.token))["contacts"]["edges"]
    # when
    page = await api.data(
        CONTACTS, {"sort": sort, "after": edges[1]["cursor"], "before": edges[6]["cursor"]}, workspace.token
    )
    # then
    assert [e["node"]["id"] for e in page["contacts"]["edges"]] == expected[2:6]


async def test_paging_skips_nothing_when_a_seen_contact_is_deleted(
    api: Api, workspace: Workspace, crowd: list[dict[str, Any]]
) -> None:
    # given
    sort = {"field": "LASTNAME", "direction": "DESC"}
    expected = expected_order(crowd, "LASTNAME", True)
    first = (await api.data(CONTACTS, {"sort": sort, "first": 3}, workspace.token))["contacts"]
    # when
    deleted = await api.ok(DELETE_CONTACTS, {"ids": [expected[1], expected[2]]}, workspace.token)
    rest = await api.data(
        CONTACTS, {"sort": sort, "first": 10, "after": first["pageInfo"]["endCursor"]}, workspace.token
    )
    # then
    assert deleted["deletedIds"] == expected[1:3]
    assert [e["node"]["id"] for e in rest["contacts"]["edges"]] == expected[3:]


@pytest.mark.parametrize(
    "other_sort",
    [{"field": "FIRSTNAME", "direction": "DESC"}, {"field": "LASTNAME", "direction": "ASC"}, None],
)
async def test_a_cursor_of_another_sort_is_invalid(
    api: Api, workspace: Workspace, crowd: list[dict[str, Any]], other_sort: dict[str, str] | None
) -> None:
    page = await api.data(
        CONTACTS, {"sort": {"field": "FIRSTNAME", "direction": "ASC"}, "first": 2}, workspace.token
    )
    cursor = page["contacts"]["pageInfo"]["endCursor"]
    for argument in ("after", "before"):
        body = await api.gql(CONTACTS, {"sort": other_sort, argument: cursor}, workspace.token)
        assert top_level_code(body) == "INVALID"
        assert body["errors"][0]["extensions"]["field"] == [argument]


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJzIjoxfQ==", "x" * 2000])
async def test_a_malformed_cursor_is_invalid(
    api: Api, workspace: Workspace, library: Library, cursor: str
) -> None:
    await make_contact(api, workspace, library)
    body = await api.gql(CONTACTS, {"after": cursor}, workspace.token)
    assert top_level_code(body) == "INVALID"


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 501}, "LIMIT_EXCEEDED"),
        ({"last": 501}, "LIMIT_EXCEEDED"),
        ({"first": -1}, "INVALID"),
        ({"last": -5}, "INVALID"),
        ({"first": 1, "last": 1}, "INVALID"),
    ],
)
async def test_page_size_limits(
    api: Api, workspace: Workspace, library: Library, variables: dict[str, Any], code: str
) -> None:
    await make_contact(api, workspace, library)
    body = await api.gql(CONTACTS, variables, workspace.token)
    assert top_level_code(body) == code


async def test_first_500_is_allowed_and_first_defaults_to_50(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    for i in range(51):
        await make_contact(api, workspace, library, phone=phone(i))
    # when
    default = await api.data(CONTACTS, {}, workspace.token)
    most = await api.data(CONTACTS, {"first": 500}, workspace.token)
    # then
    assert len(default["contacts"]["edges"]) == 50
    assert default["contacts"]["pageInfo"]["hasNextPage"] is True
    assert len(most["contacts"]["edges"]) == 51
    assert most["contacts"]["pageInfo"]["hasNextPage"] is False
    assert most["contacts"]["totalCount"] == 51


async def test_first_zero_returns_no_edges_but_counts(
    api: Api, workspace: Workspace, library: Library
) -> None:
    for i in range(3):
        await make_contact(api, workspace, library, phone=phone(i))
    data = await api.data(CONTACTS, {"first": 0}, workspace.token)
    assert data["contacts"] == {
        "totalCount": 3,
        "edges": [],
        "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


async def test_empty_list_page_info(api: Api, workspace: Workspace, library: Library) -> None:
    await make_contact(api, workspace, library)
    data = await api.data(CONTACTS, {"filter": {"search": "nobody"}}, workspace.token)
    assert data["contacts"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


async def test_total_count_ignores_the_page(api: Api, workspace: Workspace, people: People) -> None:
    data = await api.data(CONTACTS, {"filter": {"optedOut": False}, "first": 1}, workspace.token)
    assert len(data["contacts"]["edges"]) == 1
    assert data["contacts"]["totalCount"] == 3
    assert data["contacts"]["pageInfo"]["hasNextPage"] is True


# ---------------------------------------------------------------- campaignAudience


async def test_campaign_audience_never_has_opted_out_contacts(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    g0, g1 = library.groups
    a = await make_contact(api, workspace, library, firstname="A", phone=phone(1), groupIds=[g0])
    b = await make_contact(api, workspace, library, firstname="B", phone=phone(2), groupIds=[g0])
    await make_contact(api, workspace, library, firstname="C", phone=phone(3), groupIds=[g1])
    await make_contact(api, workspace, library, firstname="D", phone=phone(4))
    await make_contact(api, workspace, library, firstname="E", phone=phone(5), groupIds=[g0, g1])
    await api.ok(SET_OPT_OUT, {"id": b["id"], "optedOut": True}, workspace.token)
    # when
    everyone = (await api.data(CAMPAIGN_AUDIENCE, {}, workspace.token))["campaignAudience"]
    first_group = (await api.data(CAMPAIGN_AUDIENCE, {"groupIds": [g0]}, workspace.token))["campaignAudience"]
    both_groups = (await api.data(CAMPAIGN_AUDIENCE, {"groupIds": [g0, g1]}, workspace.token))[
        "campaignAudience"
    ]
    # then
    assert sorted(names(everyone)) == ["A", "C", "D", "E"]
    assert everyone["totalCount"] == 4
    assert sorted(names(first_group)) == ["A", "E"]
    assert first_group["totalCount"] == 2
    assert sorted(names(both_groups)) == ["A", "C", "E"]
    assert all(edge["node"]["optedOut"] is False for edge in everyone["edges"])
    # when the opted-out contact opts back in and another opts out
    await api.ok(SET_OPT_OUT, {"id": b["id"], "optedOut": False}, workspace.token)
    await api.ok(SET_OPT_OUT, {"id": a["id"], "optedOut": True}, workspace.token)
    again = (await api.data(CAMPAIGN_AUDIENCE, {"groupIds": [g0]}, workspace.token))["campaignAudience"]
    # then
    assert sorted(names(again)) == ["B", "E"]


async def test_campaign_audience_pages(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    for i in range(5):
        await make_contact(api, workspace, library, firstname=f"P{i}", phone=phone(i))
    # when
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = (await api.data(CAMPAIGN_AUDIENCE, {"first": 2, "after": after}, workspace.token))[
            "campaignAudience"
        ]
        seen += names(page)
        assert page["totalCount"] == 5
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert sorted(seen) == [f"P{i}" for i in range(5)]
    assert len(seen) == 5


async def test_campaign_audience_page_size_limit(api: Api, workspace: Workspace) -> None:
    body = await api.gql(CAMPAIGN_AUDIENCE, {"first": 501}, workspace.token)
    assert top_level_code(body) == "LIMIT_EXCEEDED"


# ---------------------------------------------------------------- CONTACT_VIEW_OWN


@dataclass
class OwnView:
    token: str
    agent_id: str
    mine: dict[str, Any]
    theirs: dict[str, Any]
    nobodys: dict[str, Any]


@pytest.fixture
async def own_view(api: Api, workspace: Workspace, library: Library) -> OwnView:
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN", "CONTACT_EDIT", "CONTACT_DELETE"])
    mine = await make_contact(
        api,
        workspace,
        library,
        firstname="Mine",
        phone=phone(1),
        assignedAgentId=agent_id,
        groupIds=library.groups,
    )
    theirs = await make_contact(
        api,
        workspace,
        library,
        firstname="Theirs",
        phone=phone(2),
        assignedAgentId=workspace.agent_id,
        groupIds=library.groups,
    )
    nobodys = await make_contact(api, workspace, library, firstname="Nobodys", phone=phone(3))
    return OwnView(token, agent_id, mine, theirs, nobodys)


async def test_view_own_agent_lists_only_assigned_contacts(api: Api, own_view: OwnView) -> None:
    # when
    listed = await api.data(CONTACTS, {}, own_view.token)
    filtered = await api.data(
        CONTACTS, {"filter": {"ids": [own_view.theirs["id"], own_view.nobodys["id"]]}}, own_view.token
    )
    unassigned = await api.data(CONTACTS, {"filter": {"unassigned": True}}, own_view.token)
    audience = await api.data(CAMPAIGN_AUDIENCE, {}, own_view.token)
    # then
    assert names(listed["contacts"]) == ["Mine"]
    assert listed["contacts"]["totalCount"] == 1
    assert filtered["contacts"]["totalCount"] == 0
    assert unassigned["contacts"]["edges"] == []
    assert names(audience["campaignAudience"]) == ["Mine"]
    assert audience["campaignAudience"]["totalCount"] == 1


async def test_view_own_agent_looks_up_only_assigned_contacts(api: Api, own_view: OwnView) -> None:
    # when
    mine = await api.data(CONTACT_BY_ID, {"id": own_view.mine["id"]}, own_view.token)
    theirs = await api.data(CONTACT_BY_ID, {"id": own_view.theirs["id"]}, own_view.token)
    mine_by_phone = await api.data(CONTACT_BY_PHONE, {"phone": phone(1)}, own_view.token)
    theirs_by_phone = await api.data(CONTACT_BY_PHONE, {"phone": phone(2)}, own_view.token)
    mine_node = await api.data(NODE, {"id": own_view.mine["id"]}, own_view.token)
    theirs_node = await api.data(NODE, {"id": own_view.theirs["id"]}, own_view.token)
    # then
    assert mine["contact"]["firstname"] == "Mine"
    assert theirs["contact"] is None
    assert mine_by_phone["contact"]["firstname"] == "Mine"
    assert theirs_by_phone["contact"] is None
    assert mine_node["node"]["firstname"] == "Mine"
    assert theirs_node["node"] is None


async def test_view_own_agent_cannot_change_other_contacts(
    api: Api, library: Library, own_view: OwnView
) -> None:
    # given
    before = await snapshot()
    theirs, nobodys = own_view.theirs["id"], own_view.nobodys["id"]
    # when
    update = await api.data(UPDATE_CONTACT, {"id": theirs, "input": {"city": "Rome"}}, own_view.token)
    opt_out = await api.data(SET_OPT_OUT, {"id": theirs, "optedOut": True}, own_view.token)
    grab = await api.data(
        ASSIGN_CONTACTS, {"contactIds": [nobodys], "agentId": own_view.agent_id}, own_view.token
    )
    group = await api.data(
        ADD_TO_GROUP,
        {"groupId": library.groups[0], "contactIds": [own_view.mine["id"], nobodys]},
        own_view.token,
    )
    delete = await api.data(DELETE_CONTACTS, {"ids": [theirs]}, own_view.token)
    # then
    assert update["updateContact"] == {
        "contact": None,
        "userErrors": [
            {"field": ["id"], "code": "NOT_FOUND", "message": "No such contact in this workspace."}
        ],
    }
    assert [e["field"] for e in opt_out["setContactOptOut"]["userErrors"]] == [["id"]]
    assert [e["field"] for e in grab["assignContacts"]["userErrors"]] == [["contactIds", "0"]]
    assert [e["field"] for e in group["addContactsToGroup"]["userErrors"]] == [["contactIds", "1"]]
    assert delete["deleteContacts"]["deletedIds"] == []
    assert [e["code"] for e in delete["deleteContacts"]["userErrors"]] == ["NOT_FOUND"]
    assert await snapshot() == before


async def test_view_own_agent_may_hand_a_contact_over(
    api: Api, workspace: Workspace, own_view: OwnView
) -> None:
    # when
    handed = await api.ok(
        UPDATE_CONTACT,
        {"id": own_view.mine["id"], "input": {"assignedAgentId": workspace.agent_id}},
        own_view.token,
    )
    listed = await api.data(CONTACTS, {}, own_view.token)
    # then
    assert handed["contact"] == {"id": own_view.mine["id"], "assignedAgent": {"id": workspace.agent_id}}
    assert listed["contacts"]["totalCount"] == 0
    stored = await Contact.find_one({"_id": decode_id(own_view.mine["id"], "Contact")})
    assert stored is not None
    assert stored.assigned_agent_id == decode_id(workspace.agent_id, "Agent")

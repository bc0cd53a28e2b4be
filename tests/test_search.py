"""``ContactFilter.search``: people are found by any word of their name, company, email and
city, in any order, without regard to case or accents, and by any run of their phone
digits; exact names come first; the index answers, so a search reads only what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from contactgraph.db import Engine
from contactgraph.models import Contact
from contactgraph.models.search import TERMS_MAX
from contactgraph.services.search_backfill import backfill
from contactgraph.settings import Settings

from .api import Api, Library, Workspace, make_contact, phone
from .checks import oid, top_level_code
from .ws import serve

SEARCH = """
query($filter: ContactFilter, $sort: ContactSort, $first: Int, $after: String, $last: Int, $before: String) {
  contacts(filter: $filter, sort: $sort, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id firstname lastname } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

# a page and nothing else: one round trip for the page besides the one that authenticates
PAGE_ONLY = """
query($search: String!, $first: Int) {
  contacts(filter: {search: $search}, first: $first) { edges { node { firstname lastname } } }
}"""

UPDATE = """
mutation($id: ID!, $input: ContactPatch!) {
  updateContact(id: $id, input: $input) { contact { id } userErrors { field code message } }
}"""


def full_names(connection: dict[str, Any]) -> list[str]:
    return [f"{e['node']['firstname']} {e['node']['lastname']}" for e in connection["edges"]]


async def found(api: Api, token: str, search: str, **variables: Any) -> list[str]:
    data = await api.data(SEARCH, {"filter": {"search": search}, **variables}, token)
    connection = data["contacts"]
    names = full_names(connection)
    assert connection["totalCount"] == len(names) or "first" in variables
    return names


# ---------------------------------------------------------------- what finds whom

ISIK, YILMAZ = "I\u015f\u0131k", "Y\u0131lmaz"  # with the dotless i
TURKISH = {f"{ISIK} {YILMAZ}"}

PEOPLE: list[dict[str, Any]] = [
    {"firstname": "Zoë", "lastname": "Ørsted", "city": "Besançon", "phone": phone(4567)},
    {"firstname": "Zoe", "lastname": "Orsted", "phone": phone(5678)},
    {
        "firstname": "Gracie",
        "lastname": "Hopper",
        "company": "ACME Rockets",
        "email": "grace.hopper+crm@navy.mil",
        "city": "São Paulo",
        "phone": phone(1234),
        "otherPhones": [phone(8910)],
    },
    {"firstname": ISIK, "lastname": YILMAZ, "city": "İstanbul", "phone": phone(3141)},
    {"firstname": "Jürgen", "lastname": "Weiß", "company": "Straße & Söhne", "phone": phone(2718)},
    {"firstname": "小明", "lastname": "王", "city": "北京", "phone": phone(1618)},
    {"firstname": "Ana", "lastname": "Muñoz", "company": "Ñandú S.A.", "phone": phone(1414)},
]

ZOES = {"Zoë Ørsted", "Zoe Orsted"}
GRACIE = {"Gracie Hopper"}


@pytest.fixture
async def people(api: Api, workspace: Workspace, library: Library) -> None:
    for person in PEOPLE:
        await make_contact(api, workspace, library, **person)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        # accents and case, both ways
        ("zoe", ZOES),
        ("ZOË", ZOES),
        ("ørsted", ZOES),
        ("ORSTED zoe", ZOES),
        ("besancon", {"Zoë Ørsted"}),
        ("isik", TURKISH),
        ("IŞIK YILMAZ", TURKISH),
        ("istanbul", TURKISH),
        ("weiss", {"Jürgen Weiß"}),
        ("weiß jurgen", {"Jürgen Weiß"}),
        ("strasse", {"Jürgen Weiß"}),
        ("nandu munoz", {"Ana Muñoz"}),
        # names written without spaces: any character starts a word, the family name comes first
        ("小明", {"小明 王"}),
        ("明", {"小明 王"}),
        ("王小明", {"小明 王"}),
        ("北京", {"小明 王"}),
        # any word order, each word a prefix, every word required
        ("hopper gracie", GRACIE),
        ("Hop GRA", GRACIE),
        ("gracie smith", set()),
        ("opper", set()),  # inside a word, not its start
        # company, city, and the parts of an email
        ("acme", GRACIE),
        ("rockets gracie", GRACIE),
        ("sao paulo", GRACIE),
        ("paulo", GRACIE),
        ("navy", GRACIE),
        ("mil", GRACIE),
        ("crm", GRACIE),
        ("grace.hopper", GRACIE),
        ("grace.hopper+crm@navy.mil", GRACIE),
        # runs of phone digits, however they are spaced, in otherPhones too
        ("4567", {"Zoë Ørsted"}),
        ("200 4567", {"Zoë Ørsted"}),
        ("(415) 200-4567", {"Zoë Ørsted"}),
        (phone(4567), {"Zoë Ørsted"}),
        ("8910", GRACIE),
        ("+1 415 200 8910", GRACIE),
        ("gracie 1234", GRACIE),
        ("45", set()),  # fewer than 3 digits is no run
        ("9999", set()),
        # nothing to look for
        (".*", set()),
    ],
)
@pytest.mark.usefixtures("people")
async def test_search_finds_people(api: Api, workspace: Workspace, search: str, expected: set[str]) -> None:
    assert set(await found(api, workspace.token, search)) == expected


async def test_a_changed_contact_is_found_by_its_new_values_only(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    contact = await make_contact(api, workspace, library, firstname="Ada", lastname="Lovelace", city="London")
    # when
    patch = {
        "lastname": "King",
        "city": "Zürich",
        "otherPhones": [phone(7777)],
        "email": "ada@analytical.org",
    }
    await api.ok(UPDATE, {"id": contact["id"], "input": patch}, workspace.token)
    # then
    for search in ("ada king", "zurich", "7777", "analytical"):
        assert await found(api, workspace.token, search) == ["Ada King"], search
    for search in ("lovelace", "london"):
        assert await found(api, workspace.token, search) == [], search


async def test_a_contact_holds_a_bounded_number_of_search_terms(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: ten words of 17 characters in every text field, and six other phones
    text = " ".join(f"Word{n}abcdefghijkl" for n in range(10))
    contact = await make_contact(
        api,
        workspace,
        library,
        **dict.fromkeys(["firstname", "lastname", "company", "city"], text),
        email="a.b.c.d.e.f.g.h.i.j@example.com",
        phone=phone(1),
        otherPhones=[phone(10 + n) for n in range(6)],
    )
    # then: 8 words a field, 12 characters a word, the phone and the first four other phones
    stored = await Contact.get(oid(contact["id"]))
    assert stored is not None and stored.search_terms is not None
    assert len(stored.search_terms) <= TERMS_MAX
    assert await found(api, workspace.token, "word7abcdefghijkl") == [f"{text} {text}"]
    assert await found(api, workspace.token, "word8") == []
    assert await found(api, workspace.token, phone(13)) == [f"{text} {text}"]
    assert await found(api, workspace.token, phone(14)) == []


async def test_a_view_own_agent_finds_only_its_own_contacts(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given
    agent_id, token = await api.agent_token(workspace, ["CONTACT_VIEW_OWN"])
    await make_contact(api, workspace, library, firstname="Ada", phone=phone(1), assignedAgentId=agent_id)
    await make_contact(
        api,
        workspace,
        library,
        firstname="Ada",
        lastname="King",
        phone=phone(2),
        assignedAgentId=workspace.agent_id,
    )
    await make_contact(api, workspace, library, firstname="Adam", lastname="Smith", phone=phone(3))
    # when / then
    assert await found(api, token, "ada") == ["Ada Lovelace"]
    assert await found(api, token, "king") == []
    assert await found(api, token, phone(2)) == []
    assert await found(api, workspace.token, "ada") == ["Ada King", "Ada Lovelace", "Adam Smith"]


# ---------------------------------------------------------------- what a search reads


async def _reads(
    engine: Engine, api: Api, variables: dict[str, Any], token: str
) -> tuple[int, int, list[str]]:
    trips, documents = engine.round_trips.count, engine.round_trips.documents
    data = await api.data(PAGE_ONLY, variables, token)
    return (
        engine.round_trips.count - trips,
        engine.round_trips.documents - documents,
        full_names(data["contacts"]),
    )


@pytest.mark.parametrize(("first", "shown"), [(2, 2), (4, 4), (50, 5)])
async def test_a_search_reads_only_the_matches_it_shows(
    engine: Engine, api: Api, workspace: Workspace, library: Library, first: int, shown: int
) -> None:
    # given: 3 exact matches, 2 prefix matches, among 30 others
    for n in range(30):
        await make_contact(
            api, workspace, library, firstname="Bob", lastname=f"Filler{n}", phone=phone(100 + n)
        )
    for n, name in enumerate(["Ada", "Adam", "Ada", "Adalbert", "Ada"]):
        await make_contact(api, workspace, library, firstname=name, lastname=f"Match{n}", phone=phone(n))
    # when
    trips, documents, names = await _reads(engine, api, {"search": "ada", "first": first}, workspace.token)
    # then: 1 round trip to authenticate and 1 for the page, both ranks in one aggregation
    assert trips == 1 + 1
    # the token, the contacts shown and one more to tell there are more: all of them matches
    assert len(names) == shown
    assert documents == 1 + shown + (shown < 5)
    assert all(name.startswith("Ada") for name in names)


async def test_contacts_stored_before_search_terms_are_found_once_backfilled(
    settings: Settings, engine: Engine, api: Api, workspace: Workspace, library: Library
) -> None:
    # given: contacts stored without search terms, as they were before them
    old = [
        await make_contact(api, workspace, library, firstname=name, lastname="Old", phone=phone(n))
        for n, name in enumerate(["Ada", "Grace", "Alan"])
    ]
    collection = Contact.get_pymongo_collection()
    await collection.update_many({}, {"$unset": {"search_terms": ""}})
    assert await found(api, workspace.token, "old") == []
    # when: any change of one of them derives its terms, ...
    await api.ok(UPDATE, {"id": old[0]["id"], "input": {"type": "CUSTOMER"}}, workspace.token)
    # ... and the app's start-up gives the others theirs, in batches
    async with serve(settings, engine) as served:
        assert await served.app.state.search_backfill.task == 2
    # then
    assert set(await found(api, workspace.token, "old")) == {"Ada Old", "Grace Old", "Alan Old"}
    stored = await collection.find({}, {"search_terms": 1}).to_list()
    assert all("=old" in doc["search_terms"] for doc in stored)
    assert await backfill() == 0  # a second run finds nothing to do


async def test_backfill_goes_through_every_batch(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    for n in range(7):
        await make_contact(api, workspace, library, firstname=f"P{n}", lastname="Old", phone=phone(n))
    await Contact.get_pymongo_collection().update_many({}, {"$set": {"search_terms": None}})
    # when
    given = await backfill(batch=3)
    # then
    assert given == 7
    assert len(await found(api, workspace.token, "old")) == 7


# ---------------------------------------------------------------- relevance, and paging through it


@dataclass
class Ranked:
    exact: list[str]  # newest first
    prefix: list[str]


@pytest.fixture
async def ranked(api: Api, workspace: Workspace, library: Library) -> Ranked:
    """Contacts found by "ada", made oldest first: whole names, then prefixes of names,
    companies and emails, interleaved in time."""
    specs = [
        ("Ada", "Lovelace", {}),
        ("Adam", "Smith", {}),
        ("Zora", "Áda", {}),
        ("Bob", "Brown", {"company": "Adacorp"}),
        ("Ada", "King", {}),
        ("Carl", "Carlsen", {"email": "adaline@example.com"}),
        ("Adalbert", "Stifter", {}),
        ("Mia", "Ada", {}),
    ]
    exact: list[str] = []
    prefix: list[str] = []
    for n, (first, last, more) in enumerate(specs):
        await make_contact(api, workspace, library, firstname=first, lastname=last, phone=phone(n), **more)
        (exact if "Ada" in (first, last) or last == "Áda" else prefix).insert(0, f"{first} {last}")
    await make_contact(api, workspace, library, firstname="Bob", lastname="Nobody", phone=phone(99))
    return Ranked(exact, prefix)


async def test_without_a_sort_exact_names_come_first_then_the_newest(
    api: Api, workspace: Workspace, ranked: Ranked
) -> None:
    # when
    newest_first = await found(api, workspace.token, "ada")
    by_first_name = await found(api, workspace.token, "ADA", sort={"field": "FIRSTNAME", "direction": "ASC"})
    # then
    assert newest_first == ranked.exact + ranked.prefix
    # a sort asked for is the order, as it is without search (ties by creation)
    assert by_first_name == [
        *["Ada Lovelace", "Ada King", "Adalbert Stifter", "Adam Smith"],
        *["Bob Brown", "Carl Carlsen", "Mia Ada", "Zora Áda"],
    ]


async def test_a_name_with_every_word_whole_comes_first(
    api: Api, workspace: Workspace, library: Library
) -> None:
    # given: the exact name made first, so the oldest
    for n, (first, last) in enumerate([("Ada", "King"), ("Ada", "Kingsley"), ("Adaline", "King")]):
        await make_contact(api, workspace, library, firstname=first, lastname=last, phone=phone(n))
    # when / then
    assert await found(api, workspace.token, "king ada") == ["Ada King", "Adaline King", "Ada Kingsley"]
    assert await found(api, workspace.token, "ada kings") == ["Ada Kingsley"]


async def _walk(api: Api, token: str, size: int, backwards: bool = False, **variables: Any) -> list[str]:
    """Every contact of a search, a page of ``size`` at a time, with the cursors of each page."""
    seen: list[str] = []
    cursor = None
    while True:
        paging = {"last": size, "before": cursor} if backwards else {"first": size, "after": cursor}
        data = await api.data(SEARCH, {**variables, **paging}, token)
        connection = data["contacts"]
        names = full_names(connection)
        seen = names + seen if backwards else seen + names
        info = connection["pageInfo"]
        assert len(names) <= size
        if not (info["hasPreviousPage"] if backwards else info["hasNextPage"]):
            return seen
        cursor = info["startCursor"] if backwards else info["endCursor"]


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("sort", [None, {"field": "LASTNAME", "direction": "DESC"}])
async def test_paging_through_a_search_shows_each_contact_once_in_order(
    api: Api, workspace: Workspace, ranked: Ranked, size: int, sort: dict[str, str] | None
) -> None:
    # given
    search = {"filter": {"search": "ada"}, "sort": sort}
    whole = await found(api, workspace.token, "ada", sort=sort)
    assert len(whole) == 8
    # when / then
    assert await _walk(api, workspace.token, size, **search) == whole
    assert await _walk(api, workspace.token, size, backwards=True, **search) == whole


async def test_a_page_between_two_cursors_spans_the_ranks(
    api: Api, workspace: Workspace, ranked: Ranked
) -> None:
    # given
    data = await api.data(SEARCH, {"filter": {"search": "ada"}}, workspace.token)
    edges = data["contacts"]["edges"]
    # when: after the second exact name, before the second prefix one
    between = await api.data(
        SEARCH,
        {"filter": {"search": "ada"}, "after": edges[1]["cursor"], "before": edges[5]["cursor"]},
        workspace.token,
    )
    # then
    assert full_names(between["contacts"]) == (ranked.exact + ranked.prefix)[2:5]


async def test_a_contact_added_while_paging_is_neither_repeated_nor_skipped_after(
    api: Api, workspace: Workspace, library: Library, ranked: Ranked
) -> None:
    # given: the first page
    first = await api.data(SEARCH, {"filter": {"search": "ada"}, "first": 3}, workspace.token)
    cursor = first["contacts"]["pageInfo"]["endCursor"]
    # when: a newer exact match, which sorts before the cursor, and a newer prefix match after it
    await make_contact(api, workspace, library, firstname="Ada", lastname="Newer", phone=phone(500))
    await make_contact(api, workspace, library, firstname="Adaline", lastname="Newest", phone=phone(501))
    rest = await api.data(SEARCH, {"filter": {"search": "ada"}, "after": cursor}, workspace.token)
    # then
    shown = full_names(first["contacts"]) + full_names(rest["contacts"])
    assert shown == [*ranked.exact, "Adaline Newest", *ranked.prefix]


@pytest.mark.parametrize("argument", ["after", "before"])
async def test_cursors_of_a_search_and_of_a_plain_list_do_not_mix(
    api: Api, workspace: Workspace, ranked: Ranked, argument: str
) -> None:
    # given
    plain = await api.data(SEARCH, {"first": 2}, workspace.token)
    searched = await api.data(SEARCH, {"filter": {"search": "ada"}, "first": 2}, workspace.token)
    # when
    plain_in_search = await api.gql(
        SEARCH,
        {"filter": {"search": "ada"}, argument: plain["contacts"]["pageInfo"]["endCursor"]},
        workspace.token,
    )
    search_in_plain = await api.gql(
        SEARCH, {argument: searched["contacts"]["pageInfo"]["endCursor"]}, workspace.token
    )
    # then
    for body in (plain_in_search, search_in_plain):
        assert top_level_code(body) == "INVALID"
        assert body["errors"][0]["extensions"]["field"] == [argument]


async def test_search_terms_are_never_shown_in_events(
    api: Api, workspace: Workspace, library: Library
) -> None:
    from contactgraph.events import Event

    # given
    contact = await make_contact(api, workspace, library)
    # when
    await api.ok(UPDATE, {"id": contact["id"], "input": {"lastname": "King"}}, workspace.token)
    # then: the events keep the contact without its terms, and do not report them as changed
    events = await Event.find({"contact_id": oid(contact["id"])}).to_list()
    assert len(events) == 2 and all("search_terms" not in e.data["contact"] for e in events)
    assert events[1].data["changed"] == ["lastname"]

"""The in-memory engine's adapter: the PyMongo async interface Beanie 2 calls, and its counter."""

from __future__ import annotations

import copy
from collections import OrderedDict
from datetime import UTC, timedelta, timezone
from typing import Any, get_args, get_origin

import mongomock
import pytest
from bson import ObjectId
from bson.errors import InvalidDocument
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mongomock import helpers as mongomock_helpers
from pymongo import ASCENDING, DeleteOne, IndexModel, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from contactgraph.db import Engine, connect, documents_in
from contactgraph.documents import DOCUMENTS
from contactgraph.memory import MemoryClient, _naive_utc
from contactgraph.memory_index import indexed, indexed_client
from contactgraph.models import Contact
from contactgraph.models.phone_claims import holding


async def test_list_collection_names_takes_the_keyword_arguments_beanie_passes() -> None:
    database = MemoryClient()["db"]
    await database["people"].insert_one({"name": "Ada"})
    names = await database.list_collection_names(authorizedCollections=True, nameOnly=True)
    assert names == ["people"]


async def test_aggregate_is_awaited_before_its_cursor_is_used() -> None:
    collection = MemoryClient()["db"]["people"]
    await collection.insert_many([{"team": "a"}, {"team": "a"}, {"team": "b"}])
    cursor = await collection.aggregate(
        [{"$group": {"_id": "$team", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
    )
    assert await cursor.to_list() == [{"_id": "a", "n": 2}, {"_id": "b", "n": 1}]


async def test_partial_unique_index_applies_only_where_its_filter_holds() -> None:
    collection = MemoryClient()["db"]["people"]
    await collection.create_indexes(
        [
            IndexModel(
                [("email", ASCENDING)], unique=True, partialFilterExpression={"email": {"$type": "string"}}
            )
        ]
    )
    await collection.insert_many([{"email": None}, {"email": None}, {"email": "a@example.com"}])
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"email": "a@example.com"})
    assert await collection.count_documents({}) == 3


async def test_bulk_write_takes_pymongos_write_models_in_one_round_trip() -> None:
    client = MemoryClient()
    collection = client["db"]["people"]
    result = await collection.bulk_write(
        [
            InsertOne({"_id": 1, "n": 1}),
            InsertOne({"_id": 2, "n": 2}),
            UpdateOne({"_id": 1}, {"$set": {"n": 10}}),
            UpdateMany({}, {"$inc": {"n": 1}}),
            ReplaceOne({"_id": 2}, {"n": 20}),
            DeleteOne({"_id": 3}),
        ],
        ordered=False,
    )
    assert result.inserted_count == 2
    assert result.matched_count == 4
    assert await collection.find({}, sort=[("_id", 1)]).to_list() == [
        {"_id": 1, "n": 11},
        {"_id": 2, "n": 20},
    ]
    assert client.round_trips.count == 2


async def test_every_command_counts_as_one_round_trip() -> None:
    client = MemoryClient()
    collection = client["db"]["people"]
    await collection.insert_one({"n": 1})
    await collection.find({}).to_list()
    await (await collection.aggregate([])).to_list()
    await collection.update_one({"n": 1}, {"$set": {"n": 2}})
    await collection.count_documents({})
    assert client.round_trips.count == 5


async def test_unknown_urls_are_refused_and_the_engine_answers_a_ping() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        await connect("postgres://nowhere", "db", [])
    assert await MemoryClient()["db"].command("ping") == {"ok": 1.0}


async def test_documents_returned_are_counted_next_to_round_trips() -> None:
    # given
    client = MemoryClient()
    collection = client["db"]["people"]
    await collection.insert_many([{"n": n, "team": "ab"[n % 2]} for n in range(6)])
    counter = client.round_trips
    # when / then: a cursor counts what it yields, however it is read
    assert len(await collection.find({}).to_list()) == 6
    assert (counter.count, counter.documents) == (2, 6)
    assert [doc["n"] async for doc in collection.find({}).sort("n", -1).limit(2)] == [5, 4]
    assert (counter.count, counter.documents) == (3, 8)
    # a single document, or none
    assert await collection.find_one({"n": 1}) is not None
    assert await collection.find_one({"n": 99}) is None
    assert await collection.find_one_and_update({"n": 2}, {"$set": {"n": 20}}) is not None
    assert (counter.count, counter.documents) == (6, 10)
    # an aggregation returns its result documents, as count_documents does its one $group result
    grouped = await collection.aggregate([{"$group": {"_id": "$team", "n": {"$sum": 1}}}])
    assert len(await grouped.to_list()) == 2
    assert await collection.count_documents({"team": "a"}) == 3
    assert await collection.count_documents({"team": "c"}) == 0
    assert (counter.count, counter.documents) == (9, 13)
    # writes return none
    await collection.update_many({}, {"$set": {"seen": True}})
    await collection.insert_one({"n": 7})
    assert (counter.count, counter.documents) == (11, 13)
    assert counter.seconds > 0


def test_a_real_servers_replies_are_counted_by_their_documents() -> None:
    # given: the replies a MongoDB server sends (as PyMongo's command listener sees them)
    replies = [
        {"cursor": {"id": 1, "ns": "db.people", "firstBatch": [{"_id": 1}, {"_id": 2}]}, "ok": 1},
        {"cursor": {"id": 0, "ns": "db.people", "nextBatch": [{"_id": 3}]}, "ok": 1},
        {"cursor": {"id": 0, "ns": "db.people", "firstBatch": []}, "ok": 1},
        {"lastErrorObject": {"n": 1}, "value": {"_id": 4}, "ok": 1},
        {"lastErrorObject": {"n": 0}, "value": None, "ok": 1},
        {"n": 7, "ok": 1},
    ]
    # when / then
    assert [documents_in(reply) for reply in replies] == [2, 1, 0, 1, 0, 0]


async def test_a_result_beyond_a_servers_first_batch_costs_a_get_more() -> None:
    # given
    client = MemoryClient()
    collection = client["db"]["people"]
    await collection.insert_many([{"n": n} for n in range(150)])
    counter = client.round_trips
    # when / then: 101 documents in the first reply, the rest in one getMore
    before = counter.count
    assert len(await collection.find({}).to_list()) == 150
    assert counter.count - before == 2
    # unless the first reply is asked to hold them all
    before = counter.count
    assert len(await collection.find({}, batch_size=150).to_list()) == 150
    assert counter.count - before == 1
    # an aggregation in batches of 50: the first reply and two getMores
    before = counter.count
    assert len(await (await collection.aggregate([], batchSize=50)).to_list()) == 150
    assert counter.count - before == 3


async def test_union_with_adds_what_a_pipeline_over_another_collection_yields() -> None:
    # given
    database = MemoryClient()["db"]
    await database["people"].insert_many([{"team": "ab"[n % 2], "n": n} for n in range(6)])
    await database["pets"].insert_one({"team": "a", "n": 100})

    # when: the two newest of team a, then the newest of team b, then the pets
    def newest(team: str, limit: int) -> list[dict]:
        return [{"$match": {"team": team}}, {"$sort": {"n": -1}}, {"$limit": limit}]

    pipeline = [
        *newest("a", 2),
        {"$unionWith": {"coll": "people", "pipeline": newest("b", 1)}},
        {"$unionWith": {"coll": "pets", "pipeline": []}},
    ]
    found = await (await database["people"].aggregate(pipeline)).to_list()
    # then
    assert [(doc["team"], doc["n"]) for doc in found] == [("a", 4), ("a", 2), ("b", 5), ("a", 100)]


async def test_count_and_group_by_a_constant_yield_no_document_when_nothing_matches() -> None:
    # given: as MongoDB does
    collection = MemoryClient()["db"]["people"]
    await collection.insert_one({"team": "a"})
    # when
    nothing = [{"$match": {"team": "z"}}]
    counted = await (await collection.aggregate([*nothing, {"$count": "n"}])).to_list()
    grouped = await (
        await collection.aggregate([*nothing, {"$group": {"_id": None, "n": {"$sum": 1}}}])
    ).to_list()
    one = await (await collection.aggregate([{"$count": "n"}])).to_list()
    # then
    assert (counted, grouped, one) == ([], [], [{"n": 1}])


# ---------------------------------------------------------------- unique indexes and look-ups served by hash maps

W1, W2 = ObjectId(), ObjectId()
PHONE_INDEX = {"workspace_id": 1, "phone": 1}
EMAIL_INDEX = {"workspace_id": 1, "email": 1}


async def contacts() -> Any:
    """An empty contacts collection with the contact's indexes."""
    collection = MemoryClient()["db"]["contacts"]
    await collection.create_indexes(Contact.Settings.indexes)
    return collection


def person(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "workspace_id": W1,
        "phone": f"+1555{n:04d}",
        "email": f"p{n}@example.com",
        "other_phones": [],
        "group_ids": [],
        **fields,
    }


def in_step(collection: Any) -> bool:
    """The maps made so far hold what the same maps made afresh from the documents would."""
    store = collection._store  # mongomock's, through mongomock-motor
    return bool(store.maps() == store.maps(afresh=True))


async def phones(collection: Any, query: dict[str, Any]) -> list[str]:
    return [c["phone"] for c in await collection.find(query).to_list()]


async def test_a_unique_index_refuses_a_second_holder_and_names_itself() -> None:
    # given
    collection = await contacts()
    first = person(1)
    await collection.insert_one(first)
    # when
    with pytest.raises(DuplicateKeyError) as refused:
        await collection.insert_one(person(1, email="other@example.com"))
    with pytest.raises(DuplicateKeyError) as same_id:
        await collection.insert_one(person(2, _id=first["_id"]))
    # then: as MongoDB tells it
    assert refused.value.code == 11000
    assert refused.value.details["keyPattern"] == PHONE_INDEX
    assert refused.value.details["keyValue"] == {"workspace_id": W1, "phone": "+15550001"}
    assert "index: workspace_id_1_phone_1 dup key: { workspace_id: ObjectId(" in str(refused.value)
    assert same_id.value.details["keyPattern"] == {"_id": 1}
    # the same number in another workspace is another key
    await collection.insert_one(person(1, workspace_id=W2))
    assert await collection.count_documents({"phone": "+15550001"}) == 2


async def test_a_partial_unique_index_holds_only_where_its_filter_does() -> None:
    # given: contacts with no email, or a null one, are not in the email index
    collection = await contacts()
    without = [{k: v for k, v in person(n).items() if k != "email"} for n in range(100)]
    await collection.insert_many([*without, *(person(100 + n, email=None) for n in range(100))])
    # when: one more, then two sharing an address
    before = collection.examined
    await collection.insert_one(person(300, email=None))
    await collection.insert_one(person(301, email="ada@example.com"))
    with pytest.raises(DuplicateKeyError) as refused:
        await collection.insert_one(person(302, email="ada@example.com"))
    # then: only the refusal looked at documents, the two holding the address; by the email index
    assert collection.examined - before == 2
    assert refused.value.details["keyPattern"] == EMAIL_INDEX
    # an update giving a contact a taken address is refused, and changes nothing
    with pytest.raises(DuplicateKeyError) as moved:
        await collection.update_one(
            {"phone": "+15550001"}, {"$set": {"email": "ada@example.com", "firstname": "X"}}
        )
    assert moved.value.details["keyPattern"] == EMAIL_INDEX
    assert await collection.find_one({"phone": "+15550001"}, {"_id": 0, "email": 1, "firstname": 1}) == {}
    # giving the address up frees it
    await collection.update_one({"email": "ada@example.com"}, {"$set": {"email": None}})
    await collection.insert_one(person(302, email="ada@example.com"))
    assert await phones(collection, {"workspace_id": W1, "email": "ada@example.com"}) == ["+15550302"]
    assert in_step(collection)


async def test_an_equality_on_indexed_keys_examines_only_the_documents_it_finds() -> None:
    # given: 1,000 contacts, ten to a list, each with an other phone
    collection = await contacts()
    groups = [ObjectId() for _ in range(100)]
    people = [person(n, group_ids=[groups[n % 100]], other_phones=[f"+1666{n:04d}"]) for n in range(1000)]
    await collection.insert_many(people)
    ids = [p["_id"] for p in people]
    lookups = {
        "phones": ({"workspace_id": W1, "phone": {"$in": ["+15550003", "+15550500", "+19999"]}}, 2),
        "ids": ({"_id": {"$in": ids[10:15]}}, 5),
        "an id in a workspace": ({"workspace_id": W1, "_id": ids[7]}, 1),
        "an other phone": ({"workspace_id": W1, "other_phones": "+16660042"}, 1),
        "a list's members": ({"workspace_id": W1, "group_ids": groups[7]}, 10),
        "the holder of a number": (holding(W1, "+16660042"), 1),
        "an email, $and": ({"$and": [{"workspace_id": W1}, {"email": "p9@example.com"}]}, 1),
    }
    # when / then: each look-up tests only what it returns
    for name, (query, found) in lookups.items():
        before = collection.examined
        assert len(await collection.find(query).to_list()) == found, name
        assert collection.examined - before == found, name
    # so do counts, updates, deletes and an aggregation that starts with such a $match
    before = collection.examined
    assert await collection.count_documents({"workspace_id": W1, "group_ids": {"$in": groups[:2]}}) == 20
    pipeline = [{"$match": {"workspace_id": W1, "group_ids": groups[3]}}, {"$count": "n"}]
    assert await (await collection.aggregate(pipeline)).to_list() == [{"n": 10}]
    await collection.update_many({"workspace_id": W1, "group_ids": groups[4]}, {"$set": {"city": "Lisbon"}})
    await collection.delete_one({"workspace_id": W1, "phone": "+15550999"})
    assert collection.examined - before == 20 + 10 + 10 + 1
    # a query on no index's keys tests every document, and answers the same
    before = collection.examined
    assert len(await collection.find({"city": {"$ne": "Lisbon"}}).to_list()) == 989
    assert collection.examined - before == 999
    assert in_step(collection)


async def test_an_array_is_found_by_each_of_its_elements_as_it_changes() -> None:
    # given
    collection = await contacts()
    g1, g2, g3 = ObjectId(), ObjectId(), ObjectId()
    await collection.insert_many([person(1, group_ids=[g1, g2], other_phones=["+1777"]), person(2)])
    one = {"phone": "+15550001"}

    async def members(group: ObjectId) -> list[str]:
        return await phones(collection, {"workspace_id": W1, "group_ids": group})

    assert (await members(g1), await members(g3)) == (["+15550001"], [])
    # when: the contact joins one list and leaves another, gains a number, then leaves every list
    await collection.update_one(one, {"$addToSet": {"group_ids": g3}})
    await collection.update_one(one, {"$pull": {"group_ids": g1}})
    joined = (await members(g1), await members(g2), await members(g3))
    await collection.update_one(one, {"$push": {"other_phones": "+1888"}})
    await collection.update_one(one, {"$set": {"group_ids": []}})
    # then
    assert joined == ([], ["+15550001"], ["+15550001"])
    assert await members(g2) == []
    assert await phones(collection, {"workspace_id": W1, "other_phones": {"$in": ["+1777", "+1888"]}}) == [
        "+15550001"
    ]
    assert in_step(collection)


async def test_an_update_moves_its_documents_keys() -> None:
    # given
    collection = await contacts()
    await collection.insert_many([person(1), person(2), person(3)])
    # when: contacts take new numbers and addresses, by each kind of update
    await collection.update_one({"phone": "+15550001"}, {"$set": {"phone": "+15550011"}})
    await collection.find_one_and_update({"phone": "+15550002"}, {"$set": {"phone": "+15550012"}})
    await collection.replace_one({"phone": "+15550003"}, person(13, email="new@example.com"))
    await collection.update_many({"workspace_id": W1, "phone": "+15550011"}, {"$unset": {"email": ""}})
    # then: the new keys are taken and found, the old ones free
    for n in (11, 12, 13):
        with pytest.raises(DuplicateKeyError):
            await collection.insert_one(person(n, email=None))
    assert await phones(collection, {"workspace_id": W1, "phone": {"$in": ["+15550011", "+15550012"]}}) == [
        "+15550011",
        "+15550012",
    ]
    await collection.insert_many([person(1), person(2, email="p2b@example.com"), person(3)])
    assert await collection.count_documents({"workspace_id": W1}) == 6
    # an update_many refused at its second contact keeps the first one's change, as MongoDB does
    with pytest.raises(DuplicateKeyError):
        await collection.update_many(
            {"workspace_id": W1, "phone": {"$in": ["+15550011", "+15550012"]}}, {"$set": {"phone": "+1000"}}
        )
    assert await phones(collection, {"workspace_id": W1, "phone": {"$in": ["+1000", "+15550012"]}}) == [
        "+1000",
        "+15550012",
    ]
    assert in_step(collection)


async def test_a_delete_frees_its_documents_keys() -> None:
    # given
    collection = await contacts()
    await collection.insert_many([person(n) for n in range(5)])
    # when
    await collection.delete_one({"workspace_id": W1, "phone": "+15550000"})
    await collection.delete_many({"workspace_id": W1, "phone": {"$in": ["+15550001", "+15550002"]}})
    await collection.find_one_and_delete({"workspace_id": W1, "email": "p3@example.com"})
    # then: the same numbers and addresses can be had again
    await collection.insert_many([person(n) for n in range(4)])
    assert (
        await collection.count_documents({"workspace_id": W1, "phone": {"$in": ["+15550000", "+15550003"]}})
        == 2
    )
    assert in_step(collection)


async def test_an_upsert_is_indexed_and_refused_as_an_insert_is() -> None:
    # given
    collection = await contacts()
    await collection.insert_one(person(1))
    # when: an upsert creates a contact, another would give a new one a held address
    await collection.update_one(
        {"workspace_id": W1, "phone": "+15550002"}, {"$set": {"email": "p2@example.com"}}, upsert=True
    )
    with pytest.raises(DuplicateKeyError) as refused:
        await collection.update_one(
            {"workspace_id": W1, "phone": "+15550003"}, {"$set": {"email": "p1@example.com"}}, upsert=True
        )
    await collection.replace_one({"workspace_id": W1, "phone": "+15550004"}, person(4), upsert=True)
    # then
    assert refused.value.details["keyPattern"] == EMAIL_INDEX
    assert await phones(
        collection, {"workspace_id": W1, "email": {"$in": ["p2@example.com", "p4@example.com"]}}
    ) == [
        "+15550002",
        "+15550004",
    ]
    assert await collection.count_documents({"workspace_id": W1, "phone": "+15550003"}) == 0
    assert in_step(collection)


async def test_a_bulk_write_refused_in_part_keeps_the_rest_and_names_each_refusal() -> None:
    # given
    collection = await contacts()
    await collection.insert_one(person(1))
    # when: unordered, two of four refused, by a stored contact and by one before it in the batch
    with pytest.raises(BulkWriteError) as unordered:
        await collection.insert_many(
            [person(2), person(1, email=None), person(3), person(3, email=None)], ordered=False
        )
    # then
    problems = unordered.value.details["writeErrors"]
    assert [(p["index"], p["code"], p["keyPattern"]) for p in problems] == [
        (1, 11000, PHONE_INDEX),
        (3, 11000, PHONE_INDEX),
    ]
    assert unordered.value.details["nInserted"] == 2
    assert sorted(await phones(collection, {"workspace_id": W1})) == ["+15550001", "+15550002", "+15550003"]
    # ordered, the first refusal ends it
    with pytest.raises(BulkWriteError) as ordered:
        await collection.insert_many([person(4), person(4, email=None), person(5)])
    assert ordered.value.details["nInserted"] == 1
    assert await collection.count_documents({"workspace_id": W1, "phone": "+15550005"}) == 0
    # a bulk write of every kind: its refused update names the index, the rest is done
    with pytest.raises(BulkWriteError) as mixed:
        await collection.bulk_write(
            [
                UpdateOne({"phone": "+15550002"}, {"$set": {"email": "p1@example.com"}}),
                DeleteOne({"phone": "+15550003"}),
                InsertOne(person(6)),
                ReplaceOne({"phone": "+15550004"}, person(7)),
            ],
            ordered=False,
        )
    details = mixed.value.details
    assert [(p["index"], p["keyPattern"]) for p in details["writeErrors"]] == [(0, EMAIL_INDEX)]
    assert (details["nInserted"], details["nRemoved"], details["nModified"]) == (1, 1, 1)
    await collection.insert_one(person(3))  # deleted: free again
    assert sorted(await phones(collection, {"workspace_id": W1})) == [
        "+15550001",
        "+15550002",
        "+15550003",
        "+15550006",
        "+15550007",
    ]
    assert in_step(collection)


async def test_each_document_an_update_matches_gets_its_own_copy_of_its_values() -> None:
    # given: two contacts given one subdocument by one update (mongomock would share the object)
    collection = await contacts()
    await collection.insert_many([person(1), person(2)])
    await collection.update_many({"workspace_id": W1}, {"$set": {"keys": {"full": "ada"}}})
    # when: one of them changes it
    await collection.update_one({"phone": "+15550001"}, {"$set": {"keys.full": "grace"}})
    # then: the other keeps its own, and each is found by its own
    assert await phones(collection, {"workspace_id": W1, "keys.full": "ada"}) == ["+15550002"]
    assert await phones(collection, {"workspace_id": W1, "keys.full": "grace"}) == ["+15550001"]
    assert in_step(collection)


async def test_a_write_failing_half_way_leaves_the_maps_as_the_documents_are() -> None:
    # given: the in-memory engine has no transactions to abort (Engine.atomically runs the work
    # without one), so a failed piece of work keeps what it wrote before failing, as a standalone
    # mongod does; the maps must follow the documents, whatever they are
    client = MemoryClient()
    engine = Engine(url="memory://", client=client, database=client["db"], round_trips=client.round_trips)
    collection = await contacts()

    async def work(session: Any) -> None:
        assert session is None
        await collection.insert_one(person(1))
        await collection.update_one({"phone": "+15550001"}, {"$set": {"email": "moved@example.com"}})
        await collection.insert_one(person(1, email=None))

    # when
    with pytest.raises(DuplicateKeyError):
        await engine.atomically(work)
    # an update failing half-way, on a value $inc cannot add to (mongomock keeps the $set before it)
    with pytest.raises((TypeError, PyMongoError)):
        await collection.update_one(
            {"phone": "+15550001"}, {"$set": {"phone": "+15550002"}, "$inc": {"email": 1}}
        )
    # then
    assert await phones(collection, {"workspace_id": W1, "email": "moved@example.com"}) == [
        (await collection.find_one({}))["phone"]
    ]
    assert in_step(collection)


def _declared_indexes() -> list[Any]:
    return [
        pytest.param(model, index, id=f"{model.Settings.name}:{index.document['name']}")
        for model in DOCUMENTS
        for index in getattr(model.Settings, "indexes", None) or []
    ]


def _is_array(model: Any, field: str) -> bool:
    info = model.model_fields.get(field)
    annotation = info.annotation if info is not None else None
    options = [annotation, *get_args(annotation)]
    return any(get_origin(option) is list for option in options)


def _document(model: Any, fields: list[str], n: int) -> dict[str, Any]:
    """A document holding key ``n`` in ``fields`` (an array's fields: in its first element, or
    as its first element), and other values besides."""
    document: dict[str, Any] = {}
    for field in fields:
        top, _, rest = field.partition(".")
        value = ObjectId(f"{n:024x}") if field.endswith(("_id", "_ids")) else f"{field}-{n}"
        other = ObjectId() if isinstance(value, ObjectId) else f"{value}-other"
        if not rest:
            document[top] = [value, other] if _is_array(model, top) else value
        elif _is_array(model, top):
            document.setdefault(top, [{}, {}])
            document[top][0][rest], document[top][1][rest] = value, other
        else:
            document.setdefault(top, {})[rest] = value
    return document


@pytest.mark.parametrize(("model", "index"), _declared_indexes())
async def test_every_declared_index_finds_by_its_keys_and_refuses_a_second_holder(
    model: Any, index: Any
) -> None:
    # given: 50 documents, each with keys of its own in the index's fields
    collection = MemoryClient()["db"][model.Settings.name]
    await collection.create_indexes([index])
    pattern = dict(index.document["key"])
    fields = [f for f in pattern if f != "_id"]
    await collection.insert_many([_document(model, fields, n) for n in range(50)])
    # when: an equality on each of the index's fields (up to _id)
    before = collection.examined
    wanted = _document(model, fields, 7)
    query = {f: ObjectId(f"{7:024x}") if f.endswith(("_id", "_ids")) else f"{f}-7" for f in fields}
    found = await collection.find(query).to_list()
    # then: it finds the one document and tests no other
    assert len(found) == 1 and collection.examined - before == 1
    if index.document.get("unique"):
        with pytest.raises(DuplicateKeyError) as refused:
            await collection.insert_one(wanted)
        assert refused.value.details["keyPattern"] == pattern
    assert in_step(collection)


# ---------------------------------------------------------------- answers with and without the maps

OID = ObjectId()
MISSING: Any = object()
SCALARS = st.sampled_from(["a", "b", 1, 1.0, True, 0, None, OID, str(OID)])
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.fixed_dictionaries({"k": SCALARS}))
SUBS = st.one_of(
    st.just(MISSING),
    SCALARS,
    st.fixed_dictionaries({"k": SCALARS}),
    st.lists(st.one_of(st.fixed_dictionaries({"k": SCALARS}), SCALARS), max_size=2),
)
INDEXES: list[tuple[list[tuple[str, int]], dict[str, Any]]] = [
    ([("ws", 1), ("phone", 1)], {"unique": True}),
    ([("ws", 1), ("email", 1)], {"unique": True, "partialFilterExpression": {"email": {"$type": "string"}}}),
    ([("ws", 1), ("tags", 1)], {}),
    ([("ws", 1), ("n", 1), ("_id", 1)], {}),
    ([("sub.k", 1), ("ws", 1)], {}),
    ([("code", 1)], {"unique": True, "sparse": True}),
]


class _CopyingUpdates(mongomock.collection.Collection):
    """mongomock alone, which scans, with the one change the engine makes to its updates: each
    document an update matches gets its own copy of the update's values (mongomock shares one)."""

    def _apply_update_document(
        self, existing_document: Any, spec: Any, document: Any, was_insert: Any
    ) -> Any:
        own = mongomock_helpers.patch_datetime_awareness_in_document(document)
        return super()._apply_update_document(existing_document, spec, own, was_insert)


def _record(_id: int, **fields: Any) -> dict[str, Any]:
    return {"_id": _id, **{k: v for k, v in fields.items() if v is not MISSING}}


RECORDS = st.builds(
    _record,
    st.integers(0, 12),
    ws=st.sampled_from(["w1", "w2", MISSING]),
    phone=st.one_of(
        st.sampled_from(["p1", "p2", "p3", MISSING]), st.lists(st.sampled_from(["p1", "p2"]), max_size=2)
    ),
    email=st.sampled_from(["e1", "e2", None, 3, MISSING]),
    tags=st.one_of(st.just(MISSING), VALUES),
    n=st.sampled_from([0, 1, 1.0, True, "1", MISSING]),
    sub=SUBS,
    code=st.sampled_from(["c1", "c2", None, MISSING]),
)
FIELDS = st.sampled_from(["ws", "phone", "email", "tags", "n", "sub", "sub.k", "code"])
FILTERS = st.one_of(
    st.just({}),
    st.builds(lambda i: {"_id": i}, st.integers(0, 12)),
    st.builds(lambda ids: {"_id": {"$in": ids}}, st.lists(st.integers(0, 12), max_size=3)),
    st.builds(lambda f, v: {f: v}, FIELDS, VALUES),
    st.builds(lambda f, vs: {f: {"$in": vs}}, FIELDS, st.lists(SCALARS, max_size=3)),
    st.builds(lambda w, f, v: {"ws": w, f: v}, st.sampled_from(["w1", "w2", None]), FIELDS, SCALARS),
    st.builds(lambda f, v: {f: {"$eq": v, "$ne": "b"}}, FIELDS, SCALARS),
    st.builds(
        lambda a, b: {"$or": [a, b]},
        st.dictionaries(FIELDS, SCALARS, max_size=2),
        st.dictionaries(FIELDS, SCALARS, max_size=2),
    ),
    st.builds(
        lambda a, b: {"$and": [a, b]},
        st.dictionaries(FIELDS, SCALARS, max_size=2),
        st.dictionaries(FIELDS, SCALARS, max_size=2),
    ),
    st.builds(lambda f: {f: {"$exists": False}}, FIELDS),
    st.builds(lambda v: {"n": {"$gte": v}}, st.sampled_from([0, 1])),
)
UPDATES = st.one_of(
    st.builds(lambda f, v: {"$set": {f: v}}, FIELDS, VALUES),
    st.builds(lambda f: {"$unset": {f: ""}}, FIELDS),
    st.builds(lambda op, v: {op: {"tags": v}}, st.sampled_from(["$addToSet", "$pull", "$push"]), SCALARS),
    st.just({"$inc": {"n": 1}}),
)
OPERATIONS = st.one_of(
    st.tuples(st.just("insert_one"), RECORDS),
    st.tuples(st.just("insert_many"), st.lists(RECORDS, min_size=1, max_size=4), st.booleans()),
    st.tuples(st.sampled_from(["update_one", "update_many"]), FILTERS, UPDATES, st.booleans()),
    st.tuples(st.just("replace_one"), FILTERS, RECORDS, st.booleans()),
    st.tuples(st.sampled_from(["delete_one", "delete_many"]), FILTERS),
    st.tuples(st.just("find_one_and_update"), FILTERS, UPDATES),
    st.tuples(
        st.just("bulk_write"),
        st.lists(
            st.one_of(
                st.builds(InsertOne, RECORDS),
                st.builds(UpdateOne, FILTERS, UPDATES),
                st.builds(UpdateMany, FILTERS, UPDATES),
                st.builds(
                    lambda f, r: ReplaceOne(f, {k: v for k, v in r.items() if k != "_id"}), FILTERS, RECORDS
                ),
                st.builds(DeleteOne, FILTERS),
            ),
            min_size=1,
            max_size=4,
        ),
        st.booleans(),
    ),
)


def _outcome(collection: Any, operation: tuple[Any, ...]) -> Any:
    """What an operation answered, or how it failed (a refusal by its position and code)."""
    name, *arguments = copy.deepcopy(operation)
    try:
        if name == "insert_many":
            return collection.insert_many(arguments[0], ordered=arguments[1]).inserted_ids
        if name in ("update_one", "update_many", "replace_one"):
            result = getattr(collection, name)(arguments[0], arguments[1], upsert=arguments[2])
            return result.matched_count, result.modified_count, result.upserted_id
        if name == "bulk_write":
            return collection.bulk_write(arguments[0], ordered=arguments[1]).bulk_api_result
        result = getattr(collection, name)(*arguments)
        return getattr(result, "inserted_id", getattr(result, "deleted_count", result))
    except BulkWriteError as error:
        problems = [(p["index"], p["code"]) for p in error.details["writeErrors"]]
        return "BulkWriteError", problems, error.details.get("nInserted")
    except Exception as error:
        return type(error).__name__


def _anonymous(value: Any) -> Any:
    """``value`` with the ids an upsert made up (different on each engine) all alike."""
    if isinstance(value, ObjectId) and value != OID:
        return "an id"
    if isinstance(value, dict):
        return {k: _anonymous(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_anonymous(v) for v in value]
    return value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(OPERATIONS, st.lists(FILTERS, max_size=3)), max_size=20))
def test_the_maps_answer_as_mongomocks_scans_do(steps: list[Any]) -> None:
    # given: the same collection, served by the maps and by mongomock alone
    served = indexed(indexed_client()["db"]["people"])
    scanned = mongomock.MongoClient()["db"]["people"]
    scanned.__class__ = _CopyingUpdates
    for keys, options in INDEXES:
        served.create_index(keys, **options)
        scanned.create_index(keys, **options)
    for operation, queries in steps:
        # when
        outcomes = _outcome(served, operation), _outcome(scanned, operation)
        # then: the same answer, the same documents in the same order, the same answers to queries
        assert _anonymous(outcomes[0]) == _anonymous(outcomes[1]), operation
        assert _anonymous(list(served.find())) == _anonymous(list(scanned.find()))
        for query in queries:
            answers = [_outcome(c, ("find_one", query)) for c in (served, scanned)]
            assert _anonymous([*served.find(query)]) == _anonymous([*scanned.find(query)]), query
            assert served.count_documents(query) == scanned.count_documents(query), query
            pipeline = [{"$match": query}, {"$project": {"phone": 1}}]
            assert _anonymous([*served.aggregate(pipeline)]) == _anonymous([*scanned.aggregate(pipeline)]), (
                query
            )
            assert _anonymous(answers[0]) == _anonymous(answers[1]), query
        assert in_step(served)


NESTED = st.recursive(
    st.one_of(
        st.sampled_from(["a", 1, 2.5, True, None, b"x", OID]),
        st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30))])),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from(["k", "l"]), inner, max_size=2),
        st.dictionaries(st.sampled_from(["k", "l"]), inner, max_size=2).map(OrderedDict),
    ),
    max_leaves=8,
)


def _shape(value: Any) -> Any:
    """``value`` with the type of each part beside it."""
    if isinstance(value, dict):
        return type(value), {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value), [_shape(v) for v in value]
    return type(value), value


@given(NESTED)
def test_the_quicker_copy_of_a_stored_document_is_mongomocks(value: Any) -> None:
    # given: mongomock's own helper, put back while it copies
    general = _naive_utc.__defaults__[0]  # type: ignore[index]
    assert mongomock_helpers.patch_datetime_awareness_in_document is _naive_utc
    mongomock_helpers.patch_datetime_awareness_in_document = general
    try:
        expected = general(value)
    finally:
        mongomock_helpers.patch_datetime_awareness_in_document = _naive_utc
    # when / then
    assert _shape(_naive_utc(value)) == _shape(expected)


async def test_a_field_name_with_a_null_character_is_refused_at_any_depth() -> None:
    collection = MemoryClient()["db"]["people"]
    documents = [{"a\0": 1}, {"a": {"b": {"c\0": 1}}}, {"a": OrderedDict({"b\0": 1})}, {"a": [{"b\0": 1}]}]
    for document in documents:
        with pytest.raises(InvalidDocument, match=r"(?i)null"):
            await collection.insert_one(document)
    assert await collection.count_documents({}) == 0

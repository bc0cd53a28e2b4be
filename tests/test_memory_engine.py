"""The in-memory engine's adapter: the PyMongo async interface Beanie 2 calls, and its counter."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING, DeleteOne, IndexModel, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.errors import DuplicateKeyError

from contactgraph.db import connect, documents_in
from contactgraph.memory import MemoryClient


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

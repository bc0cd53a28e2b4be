"""The in-memory engine: mongomock-motor shaped like PyMongo's async client.

Beanie 2 is written against PyMongo's ``AsyncMongoClient``, which differs from the
motor-like interface mongomock-motor imitates in two ways that matter here:
``list_collection_names`` takes extra keyword arguments, and ``aggregate`` is a
coroutine that returns the cursor. A third fix is mongomock's own:
``create_indexes`` drops every index option but ``unique`` and ``sparse``, so a
partial unique index (email, only where present) would reject a second contact
without email. A fourth: newer PyMongo write models hand mongomock's bulk builder a
``sort`` keyword it does not know. A fifth: mongomock has no ``$unionWith`` stage
(MongoDB 4.4+), which reads several index-bounded slices of a collection in one
aggregation; it is added here. A sixth: ``$count`` and ``$group`` by a constant yield
a document (a count of 0) for empty input, where MongoDB yields none. A seventh:
mongomock scans the whole collection for each unique check and each query, so its
collections here are served from hash maps of their indexes (``memory_index``), and a
refusal names its index as MongoDB's does. An eighth: mongomock copies and checks each
document it is given with helpers that test every value against a list of types; quicker
ones with the same results replace them. Everything else passes through unchanged.

The engine also counts its round trips (one per command a server would be sent, the
``getMore`` of a large result included) and the documents it returns, so tests and
benchmarks can show that a page costs a constant number of commands and reads no more
documents than it shows; and, per collection, the documents it examined to answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bson import ObjectId
from bson.errors import InvalidDocument
from mongomock import aggregate as mongomock_aggregate
from mongomock import collection as mongomock_collection
from mongomock import helpers as mongomock_helpers
from mongomock_motor import (
    AsyncCursor,
    AsyncLatentCommandCursor,
    AsyncMongoMockClient,
    AsyncMongoMockCollection,
    AsyncMongoMockDatabase,
)
from pymongo import IndexModel

from .memory_index import indexed, indexed_client

_COUNTED = (
    "count_documents delete_many delete_one distinct estimated_document_count"
    " find_one find_one_and_delete find_one_and_replace find_one_and_update insert_many"
    " insert_one replace_one update_many update_one"
).split()


class RoundTrips:
    """What the engine has served, in total: commands (``count``), documents returned
    (``documents``), and ``seconds`` during which at least one command was under way.
    """

    def __init__(self) -> None:
        self.count = 0
        self.documents = 0
        self.seconds = 0.0
        self._busy = 0
        self._since = 0.0

    def began(self) -> None:
        if self._busy == 0:
            self._since = time.perf_counter()
        self._busy += 1

    def ended(self) -> None:
        self._busy -= 1
        if self._busy == 0:
            self.seconds += time.perf_counter() - self._since

    @contextmanager
    def busy(self) -> Iterator[None]:
        self.began()
        try:
            yield
        finally:
            self.ended()


def _returned(name: str, result: Any) -> int:
    """The documents a real server's reply to this command carries: findAndModify's value, a
    find's one document, or the one ``$group`` result of the aggregation ``count_documents`` runs.
    """
    if name.startswith("find_one"):
        return int(result is not None)
    if name == "count_documents":
        return int(result > 0)
    return 0


def _counted(name: str) -> Any:
    inner = getattr(AsyncMongoMockCollection, name)

    async def method(self: MemoryCollection, *args: Any, **kwargs: Any) -> Any:
        round_trips = self.database.client.round_trips
        round_trips.count += 1
        with round_trips.busy():
            result = await inner(self, *args, **kwargs)
        round_trips.documents += _returned(name, result)
        return result

    method.__name__ = name
    return method


FIRST_BATCH = 101  # documents in a server's first reply to find or aggregate, unless told otherwise


class _Replies:
    """The documents a cursor hands out, and the ``getMore`` round trips a server would need
    for them: past the first batch, one per further batch (of ``batch_size``, or of up to
    16 MB, taken here as all the rest, when none is given)."""

    def __init__(self, round_trips: RoundTrips, batch_size: int | None) -> None:
        self.round_trips = round_trips
        self.batch_size = batch_size or 0
        self.handed = 0

    def hand(self, documents: int) -> None:
        before, self.handed = self.handed, self.handed + documents
        self.round_trips.documents += documents
        self.round_trips.count += self._replies(self.handed) - self._replies(before)

    def _replies(self, documents: int) -> int:
        first = self.batch_size or FIRST_BATCH
        if documents <= first:
            return 1
        if not self.batch_size:
            return 2
        return 1 + -(-(documents - first) // self.batch_size)


class _CountedCursor(AsyncCursor):
    """A ``find`` cursor that counts what it hands out; mongomock does its work as it is read."""

    def __init__(self, cursor: Any, round_trips: RoundTrips, batch_size: int | None) -> None:
        super().__init__(cursor)  # type: ignore[call-arg]
        self._round_trips = round_trips
        self._replies = _Replies(round_trips, batch_size)

    def batch_size(self, batch_size: int) -> _CountedCursor:
        self._replies.batch_size = batch_size
        return self

    async def next(self) -> Any:
        with self._round_trips.busy():
            document = await super().next()
        self._replies.hand(1)
        return document

    __anext__ = next

    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:  # type: ignore[override]
        with self._round_trips.busy():
            documents = await super().to_list(*args, **kwargs)
        self._replies.hand(len(documents))
        return documents


class _CountedCommandCursor(AsyncLatentCommandCursor):
    """An ``aggregate`` cursor that counts what it hands out."""

    def __init__(self, cursor: Any, round_trips: RoundTrips, batch_size: int | None) -> None:
        super().__init__(cursor)  # type: ignore[call-arg]
        self._replies = _Replies(round_trips, batch_size)

    async def next(self) -> Any:
        document = await super().next()
        self._replies.hand(1)
        return document

    __anext__ = next

    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:  # type: ignore[override]
        documents = await super().to_list(*args, **kwargs)
        self._replies.hand(len(documents))
        return documents


def _unwrapped(cursor: Any) -> Any:
    """The mongomock cursor inside one of mongomock-motor's (a private, name-mangled attribute)."""
    return next(value for key, value in vars(cursor).items() if key.endswith("__cursor"))


def _union_with(in_collection: list[Any], database: Any, options: Any) -> list[Any]:
    """``$unionWith``: the documents so far, then those another collection's pipeline yields."""
    if isinstance(options, str):
        options = {"coll": options}
    pipeline = list(options.get("pipeline", []))
    query = pipeline.pop(0)["$match"] if pipeline and "$match" in pipeline[0] else {}
    documents = list(database.get_collection(options["coll"]).find(query))  # copies only the matches
    return [*in_collection, *mongomock_aggregate.process_pipeline(documents, database, pipeline, None)]


def _nothing_from_nothing(handler: Any) -> Any:
    """A stage that, like MongoDB's, yields no document when it is given none."""

    def stage(in_collection: list[Any], database: Any, options: Any) -> list[Any]:
        return handler(in_collection, database, options) if in_collection else []

    return stage


_STAGES = mongomock_aggregate._PIPELINE_HANDLERS
if "$unionWith" not in _STAGES:  # once, however often this module is imported
    _STAGES["$unionWith"] = _union_with
    _STAGES["$count"] = _nothing_from_nothing(_STAGES["$count"])
    _STAGES["$group"] = _nothing_from_nothing(_STAGES["$group"])


_UNCHANGED = frozenset({str, int, float, bool, type(None), ObjectId, bytes})


def _naive_utc(value: Any, _general: Any = mongomock_helpers.patch_datetime_awareness_in_document) -> Any:
    """mongomock's copy of a document it is given (datetimes to naive UTC, in milliseconds), the
    same, but telling a plain value, dict or list by its type at once: a third of the time.
    """
    kind = type(value)
    if kind in _UNCHANGED:
        return value
    if kind is dict:
        return {k: v if type(v) in _UNCHANGED else _naive_utc(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _UNCHANGED else _naive_utc(v) for v in value]
    return _general(value)  # whose own recursion calls this one


def _no_null_in_keys(document: Any) -> None:
    """mongomock's check of the field names of a document it is given, the same, but telling a
    dict or a plain value by its type before asking whether it is a ``Mapping`` (an ABC, slow)."""
    for key, value in document.items():
        if "\0" in key:
            raise InvalidDocument(f"Field names cannot contain the null character (found: {key})")
        kind = type(value)
        if kind is dict or (kind not in _UNCHANGED and kind is not list and isinstance(value, Mapping)):
            _no_null_in_keys(value)


if mongomock_helpers.patch_datetime_awareness_in_document is not _naive_utc:  # once
    mongomock_helpers.patch_datetime_awareness_in_document = _naive_utc
    mongomock_collection._recursive_key_check_null_character = _no_null_in_keys


class _SortlessBulk:
    """mongomock's bulk builder, taking (and refusing) the ``sort`` PyMongo now passes."""

    def __init__(self, bulk: Any) -> None:
        self._bulk = bulk

    def add_update(self, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
        _no_sort(sort)
        return self._bulk.add_update(*args, **kwargs)

    def add_replace(self, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
        _no_sort(sort)
        return self._bulk.add_replace(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bulk, name)


def _no_sort(sort: Any) -> None:
    if sort is not None:
        raise NotImplementedError("the in-memory engine does not sort bulk updates")


class _SortlessRequest:
    def __init__(self, request: Any) -> None:
        self._request = request

    def _add_to_bulk(self, bulk: Any) -> None:
        self._request._add_to_bulk(_SortlessBulk(bulk))


class MemoryCollection(AsyncMongoMockCollection):
    database: MemoryDatabase

    @property
    def round_trips(self) -> RoundTrips:
        return self.database.client.round_trips

    @property
    def examined(self) -> int:
        """The documents this collection has tested against a query or a key, as a server's
        ``docsExamined``: what its indexes' maps did not spare."""
        store: Any = self._store  # mongomock's, which mongomock-motor hands on
        return int(store.examined)

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self.round_trips.count += 1
        cursor = _unwrapped(super().find(*args, **kwargs))
        return _CountedCursor(cursor, self.round_trips, kwargs.get("batch_size"))

    async def aggregate(self, *args: Any, **kwargs: Any) -> AsyncLatentCommandCursor:  # type: ignore[override]
        self.round_trips.count += 1
        with self.round_trips.busy():  # mongomock runs the whole pipeline here
            cursor = _unwrapped(super().aggregate(*args, **kwargs))
            return _CountedCommandCursor(cursor, self.round_trips, kwargs.get("batchSize"))

    async def bulk_write(self, requests: list[Any], **kwargs: Any) -> Any:  # type: ignore[override]
        self.round_trips.count += 1
        with self.round_trips.busy():
            return await super().bulk_write([_SortlessRequest(r) for r in requests], **kwargs)  # type: ignore[misc]

    async def create_indexes(self, indexes: list[IndexModel], **_: Any) -> list[str]:  # type: ignore[override]
        self.round_trips.count += 1
        names = []
        with self.round_trips.busy():
            for index in indexes:
                options = {k: v for k, v in index.document.items() if k != "key"}
                names.append(await super().create_index(list(index.document["key"].items()), **options))
        return names


for _name in _COUNTED:
    setattr(MemoryCollection, _name, _counted(_name))


class MemoryDatabase(AsyncMongoMockDatabase):
    client: MemoryClient

    def get_collection(self, *args: Any, **kwargs: Any) -> MemoryCollection:
        collection = indexed(self.delegate.get_collection(*args, **kwargs))
        return MemoryCollection(self, collection)  # type: ignore[arg-type]

    async def list_collection_names(  # type: ignore[override]
        self, filter: dict[str, Any] | None = None, **_: Any
    ) -> list[str]:
        return self.delegate.list_collection_names(filter=filter)

    async def aggregate(self, *args: Any, **kwargs: Any) -> AsyncLatentCommandCursor:  # type: ignore[override]
        round_trips = self.client.round_trips
        round_trips.count += 1
        with round_trips.busy():
            cursor = _unwrapped(super().aggregate(*args, **kwargs))
            return _CountedCommandCursor(cursor, round_trips, kwargs.get("batchSize"))

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        self.client.round_trips.count += 1
        with self.client.round_trips.busy():
            return await super().command(*args, **kwargs)


class MemoryClient(AsyncMongoMockClient):
    """A fresh, empty in-memory server."""

    def __init__(self) -> None:
        super().__init__(mock_mongo_client=indexed_client(tz_aware=True))
        self.round_trips = RoundTrips()

    def get_database(self, *args: Any, **kwargs: Any) -> MemoryDatabase:
        return MemoryDatabase(self, super().get_database(*args, **kwargs).delegate)

    async def close(self) -> None:  # type: ignore[override]
        """The in-memory server has no connections to close."""

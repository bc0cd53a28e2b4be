"""The in-memory engine: mongomock-motor shaped like PyMongo's async client.

Beanie 2 is written against PyMongo's ``AsyncMongoClient``, which differs from the
motor-like interface mongomock-motor imitates in two ways that matter here:
``list_collection_names`` takes extra keyword arguments, and ``aggregate`` is a
coroutine that returns the cursor. A third fix is mongomock's own:
``create_indexes`` drops every index option but ``unique`` and ``sparse``, so a
partial unique index (email, only where present) would reject a second contact
without email. A fourth: newer PyMongo write models hand mongomock's bulk builder a
``sort`` keyword it does not know. Everything else passes through unchanged.

The engine also counts its round trips (one per command sent to the "server"), so
tests and benchmarks can show that a page costs a constant number of them.
"""

from __future__ import annotations

from typing import Any

from mongomock_motor import (
    AsyncLatentCommandCursor,
    AsyncMongoMockClient,
    AsyncMongoMockCollection,
    AsyncMongoMockDatabase,
)
from pymongo import IndexModel

_COUNTED = (
    "count_documents delete_many delete_one distinct estimated_document_count"
    " find_one find_one_and_delete find_one_and_replace find_one_and_update insert_many"
    " insert_one replace_one update_many update_one"
).split()


class RoundTrips:
    """How many commands the engine has served, in total."""

    def __init__(self) -> None:
        self.count = 0


def _counted(name: str) -> Any:
    inner = getattr(AsyncMongoMockCollection, name)

    async def method(self: MemoryCollection, *args: Any, **kwargs: Any) -> Any:
        self.database.client.round_trips.count += 1
        return await inner(self, *args, **kwargs)

    method.__name__ = name
    return method


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

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self.database.client.round_trips.count += 1
        return super().find(*args, **kwargs)

    async def aggregate(self, *args: Any, **kwargs: Any) -> AsyncLatentCommandCursor:  # type: ignore[override]
        self.database.client.round_trips.count += 1
        return super().aggregate(*args, **kwargs)

    async def bulk_write(self, requests: list[Any], **kwargs: Any) -> Any:  # type: ignore[override]
        self.database.client.round_trips.count += 1
        return await super().bulk_write([_SortlessRequest(r) for r in requests], **kwargs)

    async def create_indexes(self, indexes: list[IndexModel], **_: Any) -> list[str]:
        self.database.client.round_trips.count += 1
        names = []
        for index in indexes:
            options = {k: v for k, v in index.document.items() if k != "key"}
            names.append(await super().create_index(list(index.document["key"].items()), **options))
        return names


for _name in _COUNTED:
    setattr(MemoryCollection, _name, _counted(_name))


class MemoryDatabase(AsyncMongoMockDatabase):
    client: MemoryClient

    def get_collection(self, *args: Any, **kwargs: Any) -> MemoryCollection:
        return MemoryCollection(self, self.delegate.get_collection(*args, **kwargs))

    async def list_collection_names(  # type: ignore[override]
        self, filter: dict[str, Any] | None = None, **_: Any
    ) -> list[str]:
        return self.delegate.list_collection_names(filter=filter)

    async def aggregate(self, *args: Any, **kwargs: Any) -> AsyncLatentCommandCursor:  # type: ignore[override]
        self.client.round_trips.count += 1
        return super().aggregate(*args, **kwargs)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        self.client.round_trips.count += 1
        return await super().command(*args, **kwargs)


class MemoryClient(AsyncMongoMockClient):
    """A fresh, empty in-memory server."""

    def __init__(self) -> None:
        super().__init__(tz_aware=True)
        self.round_trips = RoundTrips()

    def get_database(self, *args: Any, **kwargs: Any) -> MemoryDatabase:
        return MemoryDatabase(self, super().get_database(*args, **kwargs).delegate)

    async def close(self) -> None:
        """The in-memory server has no connections to close."""

"""The in-memory engine's indexes: hash maps over mongomock's documents, kept in step with every write.

mongomock checks a unique index by testing every document of the collection against the
written one's key, and answers every query by testing every document: an import is
quadratic. Here a collection's store keeps, for each prefix of each index (the fields the
index serves equality on), a map from key to the documents that hold it. A query asks
the maps for candidates, a superset of what its equalities, ``$in`` lists, ``$and`` and
``$or`` can match, found as mongomock's matcher finds values (missing as null, each
element of an array); mongomock's own matcher then tests only those, in natural order.
A query the maps cannot narrow is scanned as before, so an answer never differs from
mongomock's: only where it looks does.

Writes reach the maps where mongomock changes a stored document: a document stored or
removed (``IndexedStore``), or edited in place by an update (``IndexedCollection``). A
refusal by a unique index names the index at fault (``keyPattern``, ``keyValue``), as
MongoDB's does, single or in a bulk's ``writeErrors``.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

from bson import ObjectId
from mongomock import aggregate as mongomock_aggregate
from mongomock import helpers
from mongomock.collection import BulkOperationBuilder, Collection, _copy_field
from mongomock.filtering import filter_applies, iter_key_candidates
from mongomock.mongo_client import MongoClient
from mongomock.results import BulkWriteResult
from mongomock.store import CollectionStore, DatabaseStore, ServerStore
from mongomock_motor.patches import _normalize_strings
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError
from sentinels import NOTHING

# Values whose equality is Python's, hash included: a key of one of them finds every equal value.
_PLAIN = (str, int, float, ObjectId, datetime, type(None))
_SCALARS = frozenset({str, int, float, bool, datetime, type(None)})  # the exact types, kept as they are
# Past this many keys in one map (a product of arrays), a document is always a candidate there;
# past this many look-ups in one map (a product of $in lists), a query does not use it.
_MANY_KEYS = 256
_MANY_LOOKUPS = 4_096
_ABSENT = object()

Key = Any  # a value, or a tuple of values for a compound prefix
Keys = set[Key] | None  # None: the document cannot be keyed (an odd type, too many keys): always a candidate


class _Map:
    """One prefix's map: key -> the position of the one document holding it, or the set of those
    holding it. A compound key is held by its first value, then the rest (a workspace's keys
    share it): no tuple per entry."""

    __slots__ = ("always", "buckets", "multikey", "wide")

    def __init__(self, width: int) -> None:
        self.buckets: dict[Key, Any] = {}
        self.wide = width > 1
        self.always: set[int] = set()
        self.multikey: set[int] = set()  # keyed from an array: they match a value they contain

    def _split(self, key: Key) -> tuple[Key, Key]:
        return key[0], key[1] if len(key) == 2 else key[1:]

    def _held(self, key: Key) -> Any:
        if not self.wide:
            return self.buckets.get(key, _ABSENT)
        first, rest = self._split(key)
        table = self.buckets.get(first)
        return _ABSENT if table is None else table.get(rest, _ABSENT)

    def add(self, position: int, keys: Keys, multikey: bool) -> None:
        if keys is None:
            self.always.add(position)
            return
        if multikey:
            self.multikey.add(position)
        for key in keys:
            table = self.buckets
            if self.wide:
                first, key = self._split(key)
                table = table.get(first) or table.setdefault(first, {})
            held = table.get(key, _ABSENT)
            if held is _ABSENT:
                table[key] = position
            elif type(held) is set:
                held.add(position)
            else:
                table[key] = {held, position}

    def remove(self, position: int, keys: Keys) -> None:
        if keys is None:
            self.always.discard(position)
            return
        self.multikey.discard(position)
        for key in keys:
            table = outer = self.buckets
            if self.wide:
                first, key = self._split(key)
                table = outer[first]
            held = table[key]
            if type(held) is set:
                held.discard(position)
                if len(held) == 1:
                    table[key] = next(iter(held))
            else:
                del table[key]
                if self.wide and not table:
                    del outer[first]

    def size(self, keys: Iterable[Key]) -> int:
        count = len(self.always)
        for key in keys:
            held = self._held(key)
            if held is not _ABSENT:
                count += len(held) if type(held) is set else 1
        return count

    def ids(self, keys: Iterable[Key]) -> set[int]:
        found = set(self.always)
        for key in keys:
            held = self._held(key)
            if held is _ABSENT:
                continue
            if type(held) is set:
                found |= held
            else:
                found.add(held)
        return found

    def holds(self, position: int, keys: Iterable[Key]) -> bool:
        """Whether the document at ``position`` may hold one of ``keys``."""
        if position in self.always:
            return True
        for key in keys:
            held = self._held(key)
            if held == position or (type(held) is set and position in held):
                return True
        return False

    def view(self) -> dict[Key, frozenset[int]]:
        flat = self.buckets
        if self.wide:
            flat = {
                (first, *(rest if isinstance(rest, tuple) else (rest,))): held
                for first, table in self.buckets.items()
                for rest, held in table.items()
            }
        return {k: frozenset(v) if type(v) is set else frozenset([v]) for k, v in flat.items()}


def _values(document: Mapping[str, Any], path: str) -> tuple[list[Any] | None, bool]:
    """The values an equality on ``path`` can match in ``document``, as mongomock's matcher finds
    them (missing is None; an array gives each of its elements), and whether an array gave any.
    None for the values when one of them is of a type whose equality is not plain Python's."""
    if "." not in path:
        value = document.get(path)  # missing or null: None either way
        if type(value) in _SCALARS:
            return [value], False
        candidates = [value]
    else:
        candidates = iter_key_candidates(path, document)
    values: list[Any] = []
    multikey = False
    for value in candidates:
        if value is NOTHING:
            values.append(None)
        elif isinstance(value, list | tuple):
            multikey = True
            for item in value:
                if isinstance(item, _PLAIN):
                    values.append(_key(item))
                elif not isinstance(item, dict | list | tuple):  # those never equal a plain value
                    return None, multikey
        elif isinstance(value, _PLAIN):
            values.append(_key(value))
        elif not isinstance(value, dict):
            return None, multikey
    return values, multikey


def _key(value: Any) -> Any:
    """A plain value as the maps hold it: an ObjectId by its bytes, which cache their hash."""
    return value.binary if isinstance(value, ObjectId) else value


def _keys(fields: tuple[str, ...], document: Mapping[str, Any], cache: dict[str, Any]) -> tuple[Keys, bool]:
    """The keys ``document`` holds in the map of ``fields`` (``cache``: each field's values, once)."""
    parts = []
    multikey = False
    for field in fields:
        found = cache.get(field)
        if found is None:
            found = cache[field] = _values(document, field)
        values, many = found
        if values is None:
            return None, False
        multikey |= many
        parts.append(values)
    if len(parts) == 1:
        return set(parts[0]), multikey
    if all(len(values) == 1 for values in parts):
        return {tuple(values[0] for values in parts)}, multikey
    parts = [list(dict.fromkeys(values)) for values in parts]
    if math.prod(len(values) for values in parts) > _MANY_KEYS:
        return None, False
    return set(itertools.product(*parts)), multikey


def _prefixes(indexes: Iterable[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """The field lists the indexes serve equality on: each prefix of each, up to ``_id``
    (the store answers ``_id`` itself); none from a text or geo index."""
    prefixes: dict[tuple[str, ...], None] = {}
    for index in indexes:
        key = list(index["key"])
        if any(direction not in (1, -1, "hashed") for _, direction in key):
            continue
        fields: tuple[str, ...] = ()
        for field, _ in key:
            if field == "_id":
                break
            fields = (*fields, field)
            prefixes[fields] = None
    return list(prefixes)


def _equal_to(condition: Any) -> list[Any] | None:
    """The values a field's condition requires it to equal one of, if the maps can look them up."""
    if isinstance(condition, dict):
        if not condition or not all(isinstance(k, str) and k.startswith("$") for k in condition):
            return None  # equality with an embedded document
        if "$eq" in condition and isinstance(condition["$eq"], _PLAIN):
            return [condition["$eq"]]
        listed = condition.get("$in")
        if isinstance(listed, list | tuple) and all(isinstance(v, _PLAIN) for v in listed):
            return list(listed)
        return None
    if isinstance(condition, ObjectId):
        return [condition, str(condition)]  # mongomock matches an array holding the id's text too
    if isinstance(condition, _PLAIN):
        return [condition]
    return None


def _constraints(
    query: Mapping[str, Any], equalities: dict[str, list[list[Any]]], alternatives: list[Any]
) -> None:
    """Gather what ``query`` requires of its fields: for each, the lists of values it must equal
    one of (an ``$and`` can hold several, which all hold), and its ``$or`` lists."""
    for field, condition in query.items():
        if field == "$and" and isinstance(condition, list):
            for part in condition:
                if isinstance(part, dict):
                    _constraints(part, equalities, alternatives)
        elif field == "$or" and isinstance(condition, list) and condition:
            alternatives.append(condition)
        elif isinstance(field, str) and not field.startswith("$"):
            values = _equal_to(condition)
            if values is not None:
                equalities.setdefault(field, []).append(values)


class IndexedStore(CollectionStore):
    """A collection's documents, and the maps of its indexes' prefixes over them.

    A unique index's map is made with the index; a prefix's other map the first time a query
    has an equality on each of its fields (a prefix that ends in a sort key never is), and
    kept from then on. The maps hold a document by its position in natural order.
    """

    def __init__(self, name: str) -> None:
        self._maps: dict[tuple[str, ...], _Map] = {}
        self._prefixes: list[tuple[str, ...]] = []
        self._position: dict[Any, int] = {}  # each document's _id -> when it was first stored
        self._at: dict[int, Any] = {}  # and back, in natural order
        self._strays: set[int] = set()  # documents whose _id is not the one they are stored by
        self._next = 0
        self.examined = 0  # documents the matcher was run on, as a server's docsExamined
        super().__init__(name)

    @property
    def indexes(self) -> dict[str, Any]:
        return self._indexes

    @indexes.setter
    def indexes(self, indexes: dict[str, Any]) -> None:
        self._indexes = indexes
        self._rebuild()

    def create_index(self, index_name: str, index_dict: dict[str, Any]) -> None:
        super().create_index(index_name, index_dict)
        self._rebuild()

    def drop_index(self, index_name: str) -> None:
        super().drop_index(index_name)
        self._rebuild()

    def drop(self) -> None:
        super().drop()
        self._position.clear()
        self._at.clear()
        self._strays.clear()

    def __setitem__(self, key: Any, document: dict[str, Any]) -> None:
        held = self._documents.get(key, _ABSENT)
        if held is _ABSENT:
            position = self._position[key] = self._next
            self._at[position] = key
            self._next += 1
        else:
            position = self._position[key]
            self._unindex(position, held)
        super().__setitem__(key, document)
        self._index(position, document)

    def __delitem__(self, key: Any) -> None:
        document = self._documents[key]
        super().__delitem__(key)
        position = self._position.pop(key)
        del self._at[position]
        self._unindex(position, document)

    def editing(self, document: dict[str, Any]) -> Any:
        """Around a change made to a stored document in place: its keys leave the maps before it,
        and come back after, whatever the change did (an update can fail half-way)."""
        key = document.get("_id")
        if isinstance(key, dict):
            key = helpers.hashdict(key)
        if self._documents.get(key) is not document:
            # an upsert's new document, not stored yet; or one a failed update left with another _id
            key = (
                next((k for k, d in self._documents.items() if d is document), _ABSENT)
                if self._strays
                else _ABSENT
            )
            if key is _ABSENT:
                return nullcontext()
        return self._editing(self._position[key], document)

    @contextmanager
    def _editing(self, position: int, document: dict[str, Any]) -> Iterator[None]:
        self._unindex(position, document)
        try:
            yield
        finally:
            self._index(position, document)

    def candidates(self, query: Any) -> set[int] | None:
        """A superset of the documents ``query`` matches, or None when no map narrows it."""
        if not isinstance(query, dict):
            return None
        self._remove_expired_documents()
        return self._plan(query, {})

    def in_order(self, positions: set[int]) -> list[dict[str, Any]]:
        """The documents at ``positions``, in natural order."""
        documents, at = self._documents, self._at
        found = [documents[at[p]] for p in sorted(positions)]
        self.examined += len(found)
        return found

    def scanned(self) -> None:
        self.examined += len(self._documents)

    def holders(self, fields: tuple[str, ...], value: Mapping[str, Any]) -> int | None:
        """How many documents at most hold the plain ``value`` (one per field) in ``fields``,
        a unique index's; None when the maps cannot tell."""
        found = self._maps.get(fields)
        if found is None or not all(isinstance(v, _PLAIN) for v in value.values()):
            return None
        keys = [_key(value[f]) for f in fields]
        return found.size([keys[0] if len(keys) == 1 else tuple(keys)])

    def multikey(self, fields: tuple[str, ...]) -> bool:
        """Whether a document may hold an array in one of ``fields``, as far as their map knows."""
        found = self._maps.get(fields)
        return found is None or bool(found.multikey or found.always)

    def maps(self, afresh: bool = False) -> dict[tuple[str, ...], dict[Key, frozenset[Any]]]:
        """What the maps made so far hold, by ``_id``, with those always a candidate (``"always"``)
        and those keyed from an array (``"multikey"``); ``afresh``: what the same maps made now from
        the documents would hold. For tests, which compare the two."""
        at = self._at

        def view(found: _Map) -> dict[Key, frozenset[Any]]:
            return {
                **{key: frozenset(at[p] for p in held) for key, held in found.view().items()},
                "always": frozenset(at[p] for p in found.always),
                "multikey": frozenset(at[p] for p in found.multikey),
            }

        return {fields: view(self._made(fields) if afresh else m) for fields, m in self._maps.items()}

    def _plan(self, query: Mapping[str, Any], inherited: dict[str, list[list[Any]]]) -> set[int] | None:
        equalities = {field: list(values) for field, values in inherited.items()}
        alternatives: list[Any] = []
        _constraints(query, equalities, alternatives)
        best = self._look_up(equalities)
        for branches in alternatives:  # an $or: the union of its branches, each with what encloses it
            union: set[int] | None = set()
            for branch in branches:
                found = self._plan(branch, equalities) if isinstance(branch, dict) else None
                if found is None or union is None:
                    union = None
                    break
                union |= found
            if union is not None and (best is None or len(union) < len(best)):
                best = union
        return best

    def _look_up(self, equalities: dict[str, list[list[Any]]]) -> set[int] | None:
        """The documents the best map can tell hold what ``equalities`` require: those of its
        smallest look-up, less those another equality on the same fields rules out."""
        if not equalities:
            return None
        best: set[int] | None = None
        if "_id" in equalities:
            position, strays = self._position, self._strays
            best = set.intersection(
                *({position[v] for v in vs if v in position} | strays for vs in equalities["_id"])
            )
            if len(best) <= 1:
                return best
        chosen: tuple[_Map, list[tuple[int, list[Key]]]] | None = None
        smallest = len(best) if best is not None else math.inf
        for fields in self._prefixes:
            if not all(f in equalities for f in fields):
                continue
            found = self._maps.get(fields) or self._make(fields)
            lookups = []
            for combination in itertools.islice(itertools.product(*(equalities[f] for f in fields)), 16):
                parts = [[_key(v) for v in values] for values in combination]
                if math.prod(len(p) for p in parts) <= _MANY_LOOKUPS:
                    keys = parts[0] if len(parts) == 1 else list(itertools.product(*parts))
                    lookups.append((found.size(keys), keys))
            lookups.sort(key=lambda lookup: lookup[0])
            if lookups and lookups[0][0] < smallest:
                chosen, smallest = (found, lookups), lookups[0][0]
        if chosen is None:
            return best
        found, lookups = chosen
        ids = found.ids(lookups[0][1])
        for _, keys in lookups[1:]:
            ids = {p for p in ids if found.holds(p, keys)}
        return ids

    def _rebuild(self) -> None:
        self._prefixes = _prefixes(self._indexes.values())
        self._maps = {}
        for index in self._indexes.values():
            fields = tuple(f for f, _ in index["key"])
            if index.get("unique") and fields in self._prefixes:
                self._make(fields)

    def _make(self, fields: tuple[str, ...]) -> _Map:
        found = self._maps[fields] = self._made(fields)
        return found

    def _made(self, fields: tuple[str, ...]) -> _Map:
        found = _Map(len(fields))
        position = self._position
        for key, document in self._documents.items():
            keys, multikey = _keys(fields, document, {})
            found.add(position[key], keys, multikey)
        return found

    def _index(self, position: int, document: dict[str, Any]) -> None:
        if document.get("_id", _ABSENT) != self._at[position]:
            self._strays.add(position)  # mongomock can leave one so when an update fails (a new _id)
        cache: dict[str, Any] = {}
        for fields, found in self._maps.items():
            keys, multikey = _keys(fields, document, cache)
            found.add(position, keys, multikey)

    def _unindex(self, position: int, document: dict[str, Any]) -> None:
        self._strays.discard(position)
        cache: dict[str, Any] = {}
        for fields, found in self._maps.items():
            found.remove(position, _keys(fields, document, cache)[0])


class _IndexedDatabaseStore(DatabaseStore):
    def __getitem__(self, name: str) -> IndexedStore:
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = IndexedStore(name)
        return found


class IndexedServerStore(ServerStore):
    """A server whose collections keep their indexes' maps."""

    def __getitem__(self, name: str) -> DatabaseStore:
        found = self._databases.get(name)
        if found is None:
            found = self._databases[name] = _IndexedDatabaseStore()
        return found


def _shown(value: Any) -> str:
    if isinstance(value, ObjectId):
        return f"ObjectId('{value}')"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "null" if value is None else str(value)


def _duplicate(
    collection: Collection, name: str, pattern: list[Any], value: dict[str, Any]
) -> DuplicateKeyError:
    """A refusal by index ``name``, told as MongoDB tells it."""
    shown = ", ".join(f"{field}: {_shown(v)}" for field, v in value.items())
    message = (
        f"E11000 duplicate key error collection: {collection.database.name}.{collection.name}"
        f" index: {name} dup key: {{ {shown} }}"
    )
    details = {"index": 0, "code": 11000, "errmsg": message, "keyPattern": dict(pattern), "keyValue": value}
    return DuplicateKeyError(message, 11000, details)


def _key_details(error: Exception) -> dict[str, Any]:
    details = getattr(error, "details", None) or {}
    return {k: details[k] for k in ("keyPattern", "keyValue") if k in details}


def _value_at(document: Mapping[str, Any], field: str) -> Any:
    try:
        return helpers.get_value_by_dot(document, field)
    except KeyError:
        return None


class IndexedCollection(Collection):
    """A mongomock collection over an ``IndexedStore``: its look-ups and unique checks ask the maps
    first, and its in-place updates keep them in step."""

    # mongomock-motor patches each collection's instances to turn Beanie's field names into plain
    # strings and to find the index a duplicate broke (by a scan); this class does both itself.
    _patched_by_mongomock_motor = True

    _store: IndexedStore

    def _iter_documents(self, filter: Any) -> Iterator[dict[str, Any]]:
        filter = _normalize_strings(filter)
        if filter == {}:  # every document matches: mongomock would test each all the same
            self._store.scanned()
            return iter(list(self._store.documents))
        ids = None if self._store.is_empty else self._store.candidates(filter)
        if ids is None:
            self._store.scanned()
            return super()._iter_documents(filter)
        documents = self._store.in_order(ids)
        return (document for document in documents if filter_applies(filter, document))

    def _get_dataset(self, spec: Any, sort: Any, fields: Any, as_class: Any) -> Any:
        return super()._get_dataset(spec, _normalize_strings(sort), fields, as_class)

    def _insert(self, data: Any, session: Any = None, ordered: bool = True) -> Any:
        if not isinstance(data, Mapping):
            return self._insert_many(list(data), ordered)
        try:
            return super()._insert(data, session)
        except DuplicateKeyError as error:
            if error.details:
                raise
            raise _duplicate(self, "_id_", [("_id", 1)], {"_id": data["_id"]}) from None

    def _insert_many(self, documents: list[Any], ordered: bool) -> list[Any]:
        """mongomock's, with the index at fault in each refusal."""
        inserted = []
        problems = []
        for index, document in enumerate(documents):
            try:
                inserted.append(self._insert(document))
            except WriteError as error:
                problems.append(
                    {
                        "index": index,
                        "code": error.code,
                        "errmsg": str(error),
                        **_key_details(error),
                        "op": document,
                    }
                )
                if ordered:
                    break
        if problems:
            raise BulkWriteError({"writeErrors": problems, "nInserted": len(inserted)})
        return inserted

    def _ensure_uniques(self, new_data: dict[str, Any]) -> None:
        """mongomock's check (``new_data`` is stored already), asking the maps whether another
        document may share its key, and telling the index at fault."""
        for name, index in self._store.indexes.items():
            if not index.get("unique"):
                continue
            value = {field: _value_at(new_data, field) for field, _ in index["key"]}
            if index.get("sparse") and set(value.values()) == {None}:
                continue
            partial = index.get("partialFilterExpression")
            query = value if partial is None else {"$and": [partial, value]}
            if not self._may_share(tuple(value), value, query, new_data):
                continue
            if len(list(itertools.islice(self._iter_documents(query), 2))) > 1:
                raise _duplicate(self, name, index["key"], value)

    def _may_share(self, fields: tuple[str, ...], value: dict[str, Any], query: Any, document: Any) -> bool:
        """Whether another document than ``document`` may match ``query``, its key's. Not if the
        key's map holds it alone; nor if ``document`` itself does not match it (outside a partial
        index, say) and no document holds an array there: of the others, only one holding plain
        values can match it, as two would have been refused."""
        holders = self._store.holders(fields, value)
        if holders is None:
            return True
        if holders <= 1:
            return False
        return filter_applies(query, document) or self._store.multikey(fields)

    # An update applied to a stored document in place. mongomock sets the same object (a
    # $set's subdocument, say) into each document an update_many matches, so that changing one
    # later changed them all, past the maps: each gets its own copy, as on a server.

    def _apply_update_document(
        self, existing_document: Any, spec: Any, document: Any, was_insert: Any
    ) -> Any:
        own = helpers.patch_datetime_awareness_in_document(document)  # mongomock's copy of it
        with self._store.editing(existing_document):
            return super()._apply_update_document(existing_document, spec, own, was_insert)

    def _apply_update_pipeline(self, existing_document: Any, pipeline: Any, session: Any) -> Any:
        own = helpers.patch_datetime_awareness_in_document(pipeline)
        with self._store.editing(existing_document):
            return super()._apply_update_pipeline(existing_document, own, session)

    def aggregate(self, pipeline: Any, session: Any = None, **kwargs: Any) -> Any:
        """mongomock's, reading only the candidates of a first ``$match`` (which still runs)."""
        first = pipeline[0] if isinstance(pipeline, list) and pipeline else None
        if isinstance(first, dict) and list(first) == ["$match"] and not self._store.is_empty:
            match = helpers.patch_datetime_awareness_in_document(_normalize_strings(first["$match"]))
            ids = self._store.candidates(match)
            if ids is not None:
                documents = [_copy_field(d, dict) for d in self._store.in_order(ids)]
                if self.codec_options.tz_aware:
                    documents = [helpers.make_datetime_timezone_aware_in_document(d) for d in documents]
                return mongomock_aggregate.process_pipeline(documents, self.database, pipeline, session)
        return super().aggregate(pipeline, session, **kwargs)

    def bulk_write(
        self,
        requests: Any,
        ordered: bool = True,
        bypass_document_validation: bool = False,
        session: Any = None,
    ) -> Any:
        if bypass_document_validation or session:
            return super().bulk_write(requests, ordered, bypass_document_validation, session)  # refused there
        bulk = _DetailedBulk(self, ordered=ordered)
        for request in requests:
            request._add_to_bulk(bulk)
        return BulkWriteResult(bulk.execute(), True)

    def with_options(self, *args: Any, **kwargs: Any) -> Any:
        copy = super().with_options(*args, **kwargs)
        copy.__class__ = type(self)
        return copy


class _DetailedBulk(BulkOperationBuilder):
    """mongomock's bulk, whose refusals name the index at fault."""

    def execute(self, write_concern: Any = None) -> Any:
        details: dict[int, dict[str, Any]] = {}
        self.executors = [_keeping_details(i, run, details) for i, run in enumerate(self.executors)]
        try:
            return super().execute(write_concern)
        except BulkWriteError as error:
            for problem in error.details.get("writeErrors", []):
                problem.update(details.get(problem["index"], {}))
            raise


def _keeping_details(
    index: int, run: Callable[[], Any], details: dict[int, dict[str, Any]]
) -> Callable[[], Any]:
    @functools.wraps(run)  # the bulk tells inserts from updates by the name
    def keeping() -> Any:
        try:
            return run()
        except DuplicateKeyError as error:
            details[index] = _key_details(error)
            raise

    return keeping


def indexed_client(**kwargs: Any) -> MongoClient:
    """A mongomock client whose collections keep their indexes' maps."""
    return MongoClient(_store=IndexedServerStore(), **kwargs)


def indexed(collection: Collection) -> IndexedCollection:
    """``collection`` (of an ``indexed_client``), served from its maps.

    mongomock's database makes its collections (and keeps them); this is the same object,
    given this class's methods.
    """
    if not isinstance(collection._store, IndexedStore):
        raise TypeError("the collection is not one of an indexed client")
    if type(collection) is Collection:
        collection.__class__ = IndexedCollection
    return collection  # type: ignore[return-value]

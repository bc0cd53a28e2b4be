"""Telling listeners of each event once its change is committed.

``publish`` reaches the broker of the application serving the current request (set
with ``publishing_to`` around each request), never the broker of another application
in the same process: those hear of the change through their feeder, as a separate
process would. Process-level listeners (``add_listener``) hear every event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .broker import Broker
from .outbox import Event

Listener = Callable[[list[Event]], None]

_listeners: list[Listener] = []
_broker: ContextVar[Broker | None] = ContextVar("contactgraph_broker", default=None)


def add_listener(listener: Listener) -> None:
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


@contextmanager
def publishing_to(broker: Broker) -> Iterator[None]:
    """Within the block (and tasks it starts), ``publish`` and ``current_broker`` mean ``broker``."""
    token = _broker.set(broker)
    try:
        yield
    finally:
        _broker.reset(token)


def current_broker() -> Broker:
    """The broker of the application serving this request."""
    broker = _broker.get()
    if broker is None:
        raise RuntimeError("no broker: the request is not served within publishing_to()")
    return broker


def publish(events: list[Event]) -> None:
    """Hand committed events to the current broker and every listener; none of them blocks."""
    if not events:
        return
    broker = _broker.get()
    if broker is not None:
        broker.deliver(events)
    for listener in list(_listeners):
        listener(events)

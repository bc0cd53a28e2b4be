"""The process's own listeners, told of each event once its change is committed."""

from __future__ import annotations

from collections.abc import Callable

from .outbox import Event

Listener = Callable[[list[Event]], None]

_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def publish(events: list[Event]) -> None:
    """Hand committed events to every listener; listeners must not block."""
    if events:
        for listener in list(_listeners):
            listener(events)

"""Domain events: the outbox written with each change, and how they reach listeners."""

from .outbox import Event, EventType, access_changed, contact_events, record

__all__ = ["Event", "EventType", "access_changed", "contact_events", "record"]

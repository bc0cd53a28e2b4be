"""Domain events: the outbox written with each change, and how they reach listeners."""

from .outbox import Event, EventType, contact_events, record

__all__ = ["Event", "EventType", "contact_events", "record"]

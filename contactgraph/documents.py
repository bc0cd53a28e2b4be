"""Every Beanie document of the service: what ``connect`` binds and the tests empty."""

from beanie import Document

from .events import Event
from .models import DOCUMENTS as MODEL_DOCUMENTS

DOCUMENTS: list[type[Document]] = [*MODEL_DOCUMENTS, Event]

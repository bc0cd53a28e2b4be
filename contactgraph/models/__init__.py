"""Beanie documents and the domain rules of one record."""

from beanie import Document

from .base import WorkspaceDocument, utcnow
from .contact import Contact, ContactType, CustomValue, SearchKeys
from .errors import DomainError, DomainErrors, ErrorCode, Errors
from .library import CustomField, CustomFieldType, Group, LibraryEntry, Source, Status
from .workspace import Agent, ApiToken, InboundDefaults, Permission, Workspace

DOCUMENTS: list[type[Document]] = [
    Workspace,
    Agent,
    ApiToken,
    Status,
    Source,
    Group,
    CustomField,
    Contact,
]

__all__ = [
    "DOCUMENTS",
    "Agent",
    "ApiToken",
    "Contact",
    "ContactType",
    "CustomField",
    "CustomFieldType",
    "CustomValue",
    "DomainError",
    "DomainErrors",
    "ErrorCode",
    "Errors",
    "Group",
    "InboundDefaults",
    "LibraryEntry",
    "Permission",
    "SearchKeys",
    "Source",
    "Status",
    "Workspace",
    "WorkspaceDocument",
    "utcnow",
]

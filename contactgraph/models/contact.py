"""The contact record, its field table, its indexes, and the rules that belong to one contact.

``CONTACT_FIELDS`` declares every field once: its API name, stored name, what it holds,
how a given text is cleaned, and where it takes part (input, merge, copy, CSV export and
import, webhooks). Those surfaces read their field lists from it; ``derive`` computes
the values a change implies, for every writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from .base import WorkspaceDocument, utcnow
from .custom_values import StoredValue
from .errors import DomainError, ErrorCode
from .phones import normalize_phone, normalize_phones
from .search import SOURCES as SEARCHED
from .search import terms_of
from .social import SocialProfile, clean_profiles
from .text import clean_name, clean_text, clean_url, normalize_email, parse_bool


class ContactType(StrEnum):
    LEAD = "LEAD"
    CUSTOMER = "CUSTOMER"
    GUEST = "GUEST"


def parse_type(text: str) -> ContactType:
    try:
        return ContactType(text.strip().upper())
    except ValueError:
        raise DomainError(ErrorCode.INVALID, "type is LEAD, CUSTOMER or GUEST.") from None


class CustomValue(BaseModel):
    """One custom-field value (the attribute pattern: indexed on field and value)."""

    field_id: PydanticObjectId
    value: StoredValue


class SearchKeys(BaseModel):
    """Case-folded names for prefix search and case-insensitive sorting."""

    first: str
    last: str
    full: str

    @classmethod
    def of(cls, firstname: str, lastname: str) -> SearchKeys:
        return cls(
            first=firstname.casefold(),
            last=lastname.casefold(),
            full=f"{firstname} {lastname}".casefold(),
        )


# ---------------------------------------------------------------- the field table


class Kind(StrEnum):
    """What a field holds, which decides how JSON and CSV show it."""

    ID = "id"  # the contact's own id
    TEXT = "text"  # text people type: neutralised in CSV
    PHONE = "phone"  # E.164 numbers, one or a list, shown as they are
    ENUM = "enum"
    REF = "ref"  # ids of ``ref`` records, one or a list: global ids in JSON, names in CSV
    BOOL = "bool"
    TIME = "time"
    CUSTOM = "custom"  # custom values: by key in JSON, a ``customFields.<key>`` column each in CSV
    SOCIAL = "social"  # social profiles: a list of objects in JSON, a ``social.<network>`` column each in CSV
    SHOWN = "shown"  # computed from other fields where it is shown, never stored
    INTERNAL = "internal"  # kept for the server's own use


class Flag(StrEnum):
    """Where a field takes part."""

    INPUT = "input"  # ContactInput and ContactPatch take it (plain values through ``clean``)
    REQUIRED = "required"  # never cleared: a null for it is REQUIRED
    DERIVED = "derived"  # ``derive`` computes it; never reported as a change of its own
    MERGE = "merge"  # a merge choice may name it; an empty primary takes the secondary's
    COPY = "copy"  # duplicateContact copies it
    EXPORT = "export"  # a CSV export column
    IMPORT = "import"  # a CSV import fills it, from its column or one of its aliases
    WEBHOOK = "webhook"  # in the contact a webhook receives


@dataclass(frozen=True)
class ContactField:
    api: str  # as the API spells it: inputs, merge choices, webhook payloads, changed fields
    stored: str | None  # the document's attribute; None for a SHOWN field
    kind: Kind
    flags: frozenset[Flag]
    clean: Callable[..., Any] | None = None  # a given text (or list) as stored (DomainError if invalid)
    limit: int | None = None  # the longest text ``clean`` takes
    ref: str | None = None  # the node type a REF field names
    column: str | None = None  # its CSV column, when not its API name
    aliases: tuple[str, ...] = ()  # other header names an import reads it from
    many: bool = False  # holds a list, which a null clears to []

    def has(self, flag: Flag) -> bool:
        return flag in self.flags

    @property
    def empty(self) -> Any:
        """What the field holds when cleared."""
        return [] if self.many else None

    @property
    def csv_name(self) -> str:
        return self.column or self.api

    @property
    def attribute(self) -> str:
        assert self.stored is not None, self.api
        return self.stored

    def cleaned(self, text: str) -> Any:
        """``text`` as stored; a ``DomainError`` says what is wrong with it."""
        assert self.clean is not None, self.api
        return self.clean(text) if self.limit is None else self.clean(text, max_length=self.limit)


def _field(api: str, stored: str | None, kind: Kind, flags: str, **more: Any) -> ContactField:
    return ContactField(api, stored, kind, frozenset(Flag(f) for f in flags.split()), **more)


# fmt: off
CONTACT_FIELDS: tuple[ContactField, ...] = (
    # API name, stored name, kind, flags; then cleaner and limit, node type, CSV column and aliases
    _field("id", "id", Kind.ID, "export webhook"),
    _field("firstname", "firstname", Kind.TEXT, "input required merge copy export import webhook",
           clean=clean_name, aliases=("first name", "first", "given name", "forename", "prénom", "nome",
                                      "nombre", "vorname", "primeiro nome")),
    _field("lastname", "lastname", Kind.TEXT, "input required merge copy export import webhook",
           clean=clean_name, aliases=("last name", "last", "surname", "family name", "apelido", "nom",
                                      "apellidos", "nachname", "sobrenome", "último nome")),
    _field("fullName", None, Kind.SHOWN, "webhook"),
    _field("phone", "phone", Kind.PHONE, "input required export import webhook", clean=normalize_phone,
           aliases=("phone number", "mobile", "mobile phone", "mobile number", "cell", "cell phone",
                    "telephone", "tel", "whatsapp", "whatsapp number", "wa id", "msisdn",
                    # Google Contacts, Outlook, HubSpot exports; Portuguese, Spanish, French, German
                    "phone 1 - value", "primary phone", "mobile phone number", "home phone", "business phone",
                    "telemóvel", "telemovel", "telefone", "celular", "teléfono", "móvil", "portable",
                    "téléphone", "handy", "telefon")),
    _field("waId", None, Kind.SHOWN, "webhook"),
    _field("otherPhones", "other_phones", Kind.PHONE, "input export import webhook", clean=normalize_phones,
           many=True, aliases=("other phones", "other phone", "phone2", "phone3", "second phone",
                               "secondary phone", "alternate phone", "additional phones",
                               "phone 2 - value", "phone 3 - value", "phone 4 - value", "home phone 2",
                               "business phone 2", "mobile phone 2", "outros telefones")),
    _field("email", "email", Kind.TEXT, "input merge export import webhook", clean=normalize_email,
           aliases=("e-mail", "email address", "e-mail address", "mail", "e-mail 1 - value",
                    "email 1 - value", "correo electrónico", "correio eletrónico", "courriel")),
    _field("type", "type", Kind.ENUM, "input required merge copy export import webhook", clean=parse_type,
           aliases=("contact type",)),
    _field("statusId", "status_id", Kind.REF, "input required merge copy export import webhook",
           ref="ContactStatus", column="status", aliases=("status name", "stage", "lead status", "estado")),
    _field("sourceId", "source_id", Kind.REF, "input required merge copy export import webhook",
           ref="ContactSource", column="source", aliases=("source name", "lead source", "original source",
                                                          "origem", "origen")),
    _field("groupIds", "group_ids", Kind.REF, "input copy export import webhook",
           ref="Group", column="groups", many=True, aliases=("group", "group names", "lists", "list",
                                                                        "grupos")),
    _field("assignedAgentId", "assigned_agent_id", Kind.REF, "input merge copy export webhook",
           ref="Agent", column="assignedAgent"),
    _field("company", "company", Kind.TEXT, "input merge copy export import webhook",
           clean=clean_text, limit=191, aliases=("company name", "organization", "organisation", "org",
                                                 "organization 1 - name", "empresa", "société", "firma")),
    _field("website", "website", Kind.TEXT, "input merge export import webhook",
           clean=clean_url, aliases=("web site", "web", "url", "homepage", "website 1 - value", "web page",
                                     "personal web page", "website url", "site")),
    _field("description", "description", Kind.TEXT, "input merge export import webhook",
           clean=clean_text, limit=10_000, aliases=("notes", "note", "comment", "comments", "notas")),
    _field("country", "country", Kind.TEXT, "input merge copy export import webhook",
           clean=clean_text, limit=100, aliases=("address 1 - country", "country/region",
                                                 "business country/region", "home country/region", "país",
                                                 "pays", "land")),
    _field("city", "city", Kind.TEXT, "input merge copy export import webhook",
           clean=clean_text, limit=191, aliases=("town", "address 1 - city", "business city", "home city",
                                                 "cidade", "localidade", "ciudad", "ville", "stadt")),
    _field("state", "state", Kind.TEXT, "input merge copy export import webhook",
           clean=clean_text, limit=191, aliases=("province", "region", "address 1 - region", "state/region",
                                                 "business state", "home state", "distrito")),
    _field("zip", "zip", Kind.TEXT, "input merge copy export import webhook",
           clean=clean_text, limit=32, aliases=("zip code", "postal code", "postcode", "postal",
                                                "address 1 - postal code", "business postal code",
                                                "home postal code", "código postal", "code postal", "plz")),
    _field("address", "address", Kind.TEXT, "input merge copy export import webhook",
           clean=clean_text, limit=500, aliases=("street", "street address", "address line 1", "address1",
                                                 "address 1 - street", "business street", "home street",
                                                 "morada", "dirección", "adresse")),
    _field("socialProfiles", "social_profiles", Kind.SOCIAL, "input merge export import webhook",
           clean=clean_profiles, many=True),
    _field("customFields", "custom_values", Kind.CUSTOM, "input copy export import webhook", many=True),
    _field("optedOut", "opted_out", Kind.BOOL, "copy export import webhook", clean=parse_bool,
           aliases=("opted out", "opt out", "unsubscribed")),
    _field("optedOutAt", "opted_out_at", Kind.TIME, "derived copy export webhook"),
    _field("statusChangedAt", "status_changed_at", Kind.TIME, "derived webhook"),
    _field("createdAt", "created_at", Kind.TIME, "export webhook"),
    _field("updatedAt", "updated_at", Kind.TIME, "derived export webhook"),
    _field("mergedIds", "merged_ids", Kind.REF, "", ref="Contact", many=True),
    _field("keys", "keys", Kind.INTERNAL, "derived"),
    _field("searchTerms", "search_terms", Kind.INTERNAL, "derived"),
    _field("writeId", "write_id", Kind.INTERNAL, ""),
)
# fmt: on

BY_STORED = {f.stored: f for f in CONTACT_FIELDS if f.stored is not None}


def flagged(flag: Flag) -> tuple[ContactField, ...]:
    """The fields with ``flag``, in table order."""
    return tuple(f for f in CONTACT_FIELDS if f.has(flag))


# The longest value each free-text field of a contact takes.
TEXT_LIMITS = {f.attribute: f.limit for f in CONTACT_FIELDS if f.clean is clean_text and f.limit}


# ---------------------------------------------------------------- the document


def _index(*keys: tuple[str, int], **options: Any) -> IndexModel:
    return IndexModel([("workspace_id", ASCENDING), *keys], **options)


class Contact(WorkspaceDocument):
    firstname: str
    lastname: str
    phone: str
    other_phones: list[str] = Field(default_factory=list)
    email: str | None = None
    type: ContactType = ContactType.LEAD
    status_id: PydanticObjectId
    source_id: PydanticObjectId
    group_ids: list[PydanticObjectId] = Field(default_factory=list)
    assigned_agent_id: PydanticObjectId | None = None
    company: str | None = None
    website: str | None = None
    description: str | None = None
    country: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    address: str | None = None
    custom_values: list[CustomValue] = Field(default_factory=list)
    social_profiles: list[SocialProfile] = Field(default_factory=list)
    opted_out: bool = False
    opted_out_at: datetime | None = None
    status_changed_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    merged_ids: list[PydanticObjectId] = Field(default_factory=list)
    keys: SearchKeys
    # what search finds it by (``models.search``); None until derived (``services.search_backfill``)
    search_terms: list[str] | None = None
    # the last bulk patch that wrote it, so that one can tell which of its guarded writes matched
    write_id: PydanticObjectId | None = Field(default=None, exclude=True)

    class Settings:
        name = "contacts"
        indexes = [
            _index(("phone", ASCENDING), unique=True),
            _index(("other_phones", ASCENDING)),
            _index(
                ("email", ASCENDING),
                unique=True,
                partialFilterExpression={"email": {"$type": "string"}},
            ),
            _index(("status_id", ASCENDING), ("status_changed_at", DESCENDING), ("_id", DESCENDING)),
            _index(("source_id", ASCENDING)),
            _index(("group_ids", ASCENDING)),
            _index(("assigned_agent_id", ASCENDING)),
            _index(("custom_values.field_id", ASCENDING), ("custom_values.value", ASCENDING)),
            _index(("created_at", ASCENDING), ("_id", ASCENDING)),
            _index(("updated_at", ASCENDING), ("_id", ASCENDING)),
            _index(("status_changed_at", ASCENDING), ("_id", ASCENDING)),
            _index(("keys.first", ASCENDING), ("_id", ASCENDING)),
            _index(("keys.last", ASCENDING), ("_id", ASCENDING)),
            _index(("keys.full", ASCENDING)),
            _index(("search_terms", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)),
            _index(("merged_ids", ASCENDING)),
        ]

    @classmethod
    def new(cls, workspace_id: PydanticObjectId, **values: Any) -> Contact:
        """A new contact of ``values`` (as stored), with the values they imply."""
        return cls(workspace_id=workspace_id, **derive(None, values, at=utcnow()))

    def value_of(self, field_id: PydanticObjectId) -> StoredValue:
        for item in self.custom_values:
            if item.field_id == field_id:
                return item.value
        return None

    @staticmethod
    def merge_values(
        current: list[CustomValue], changes: dict[PydanticObjectId, StoredValue]
    ) -> list[CustomValue]:
        """``current`` with ``changes`` applied: a value replaces, None removes."""
        merged = {item.field_id: item.value for item in current}
        merged.update(changes)
        return [CustomValue(field_id=k, value=v) for k, v in merged.items() if v is not None]


# The lists of embedded models a contact holds: compared as models, stored as dicts.
_EMBEDDED: dict[str, type[BaseModel]] = {"custom_values": CustomValue, "social_profiles": SocialProfile}


def derive(before: Contact | None, changes: Mapping[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """``changes`` to ``before`` (None: the values of a new contact) as stored, with what they imply.

    Values ``before`` holds already are dropped (nothing left: ``{}``). Names give the
    sort keys; names, company, email, city and numbers the search terms (a contact stored
    without them gets them with its next change); other phones are kept once each and
    never repeat the phone; opting out or back in sets ``opted_out_at`` unless given;
    custom values and social profiles (models or dicts) are stored as dicts. ``at``, the moment of a write, is
    then its ``updated_at`` and a status change's ``status_changed_at`` (a new contact's
    ``created_at`` too). Deriving derived changes again gives them back.
    """
    values = dict(changes)
    for name in _EMBEDDED.keys() & values.keys():
        values[name] = [_EMBEDDED[name].model_validate(v) for v in values[name]]
    if {"phone", "other_phones"} & values.keys():
        phone = values.get("phone", before.phone if before else None)
        others = values.get("other_phones", before.other_phones if before else [])
        values["other_phones"] = [n for n in dict.fromkeys(others) if n != phone]
    if before is not None:
        values = {k: v for k, v in values.items() if getattr(before, k) != v}
        if not values:
            return {}
    if before is None or {"firstname", "lastname"} & values.keys():
        first = values.get("firstname", before.firstname if before else "")
        last = values.get("lastname", before.lastname if before else "")
        values["keys"] = SearchKeys.of(first, last).model_dump()
    if before is None or before.search_terms is None or not SEARCHED.isdisjoint(values):
        terms = terms_of({name: values.get(name, getattr(before, name, None)) for name in SEARCHED})
        if before is None or terms != before.search_terms:
            values["search_terms"] = terms
    if "opted_out" in values and "opted_out_at" not in changes:
        values["opted_out_at"] = (at or utcnow()) if values["opted_out"] else None
    for name in _EMBEDDED.keys() & values.keys():
        values[name] = [item.model_dump() for item in values[name]]
    if at is not None:
        stamps = ["created_at", "updated_at", "status_changed_at"] if before is None else ["updated_at"]
        if before is not None and "status_id" in values:
            stamps.append("status_changed_at")
        for name in stamps:
            values.setdefault(name, at)
    return values

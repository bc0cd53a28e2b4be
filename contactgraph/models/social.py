"""Social profiles: a network, a handle and an optional https link; at most one per network.

A network is one of the well-known ones (``NETWORKS``, with the spellings people use
for them, such as ``twitter`` for ``x``) or any other clean slug (``mastodon``,
``my-forum``), stored lower-case. In CSV a profile is one ``social.<network>`` column,
its cell the handle, then a space and the URL when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from .errors import DomainError, DomainErrors, ErrorCode
from .text import clean_text, clean_url

NETWORKS = (
    "facebook",
    "instagram",
    "linkedin",
    "x",
    "telegram",
    "tiktok",
    "youtube",
    "whatsapp",
    "github",
    "threads",
    "bluesky",
    "mastodon",
)
_SPELLINGS = {"twitter": "x", "fb": "facebook", "ig": "instagram", "tg": "telegram", "yt": "youtube"}
_SLUG = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
NETWORK_MAX = 32
HANDLE_MAX = 100
PROFILES_MAX = 20
COLUMN_PREFIX = "social."


class SocialProfile(BaseModel):
    network: str
    handle: str
    url: str | None = None

    @property
    def cell(self) -> str:
        """The profile as its ``social.<network>`` CSV cell."""
        return f"{self.handle} {self.url}" if self.url else self.handle


def clean_network(value: str) -> str:
    """A network as stored: a known network's name, or a clean lower-case slug."""
    text = value.strip().lower()
    text = _SPELLINGS.get(text, text)
    if len(text) > NETWORK_MAX or not _SLUG.match(text):
        raise DomainError(
            ErrorCode.INVALID,
            f"A network is a name such as {', '.join(NETWORKS[:5])}, or a slug of at most"
            f" {NETWORK_MAX} lower-case letters, digits, - and _.",
        )
    return text


def clean_profile(given: Mapping[str, Any]) -> SocialProfile:
    """``{network, handle, url}`` checked; a ``DomainErrors`` names each bad part."""
    problems: list[DomainError] = []
    parts: dict[str, Any] = {}
    checks = (
        ("network", clean_network),
        ("handle", lambda v: clean_text(v, max_length=HANDLE_MAX, required=True)),
        ("url", lambda v: clean_url(v, schemes=("https",))),
    )
    for name, clean in checks:
        if given.get(name) is None:
            continue
        try:
            parts[name] = clean(given[name])
        except DomainError as error:
            problems.append(error.at(name))
    if problems:
        raise DomainErrors(problems)
    return SocialProfile(**parts)


def clean_profiles(items: Sequence[Mapping[str, Any]]) -> list[SocialProfile]:
    """A contact's profiles checked, in the order given; at most one per network."""
    if len(items) > PROFILES_MAX:
        raise DomainError(ErrorCode.LIMIT_EXCEEDED, f"At most {PROFILES_MAX} social profiles.")
    problems: list[DomainError] = []
    profiles: list[SocialProfile] = []
    for i, item in enumerate(items):
        try:
            profile = clean_profile(item)
        except DomainErrors as many:
            problems.extend(error.at(i) for error in many.errors)
            continue
        if any(p.network == profile.network for p in profiles):
            message = f"{profile.network!r} is given twice: a contact has one profile per network."
            problems.append(DomainError(ErrorCode.INVALID, message, [i, "network"]))
        profiles.append(profile)
    if problems:
        raise DomainErrors(problems)
    return profiles


def profile_from_cell(network: str, text: str) -> SocialProfile:
    """A ``social.<network>`` cell: ``handle``, ``handle https://…``, or a URL (its last part the handle)."""
    handle, _, url = text.strip().rpartition(" ")
    if not url.lower().startswith(("https://", "http://")):
        handle, url = text, ""
    elif not handle.strip():
        handle = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    try:
        return clean_profile({"network": network, "handle": handle, "url": url or None})
    except DomainErrors as many:
        raise DomainError(many.errors[0].code, many.errors[0].message) from None


def united_profiles(wins: Sequence[SocialProfile], others: Sequence[SocialProfile]) -> list[SocialProfile]:
    """``wins`` with the profiles of ``others`` on networks ``wins`` lacks."""
    taken = {p.network for p in wins}
    return [*wins, *(p for p in others if p.network not in taken)]


def updated_profiles(current: Sequence[SocialProfile], given: Sequence[SocialProfile]) -> list[SocialProfile]:
    """``current`` with each of ``given`` replacing the profile of its network, new networks after."""
    by_network = {p.network: p for p in given}
    kept = [by_network.pop(p.network, p) for p in current]
    return [*kept, *by_network.values()]

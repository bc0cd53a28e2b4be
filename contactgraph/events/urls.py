"""Where a webhook may point: an http(s) URL whose host is a public address.

Checked when the webhook is created and again before every delivery, since what a
name resolves to can change in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ..models import DomainError, ErrorCode

URL_MAX_LENGTH = 2048
HOST_MAX_LENGTH = 253
RESOLVE_TIMEOUT_SECONDS = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_HOST_NAME = re.compile(r"[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*\.?")


def _invalid(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, message)


@dataclass(frozen=True)
class WebhookURL:
    """A URL's parts as deliveries use them; ``ascii_host`` is ``host`` as the resolver is asked for it."""

    scheme: str
    host: str
    ascii_host: str
    port: int


def parse_webhook_url(value: str) -> WebhookURL:
    """An absolute http(s) URL with a host, or INVALID saying what is wrong.

    It is read by urllib and by httpx, which sends deliveries; they must agree on the host,
    so that the host checked is the host called.
    """
    text = value.strip()
    if not text:
        raise DomainError(ErrorCode.REQUIRED, "A webhook needs a URL.")
    if len(text) > URL_MAX_LENGTH:
        raise _invalid(f"Not a valid URL (at most {URL_MAX_LENGTH} characters).")
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in text):
        raise _invalid("Not a valid URL: spaces, control characters and backslashes are not allowed.")
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise _invalid("The URL's host or port is not valid.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _invalid("A webhook URL must start with http:// or https://.")
    if not host:
        raise _invalid("A webhook URL needs a host, e.g. https://example.com/hook.")
    if "@" in parts.netloc:
        raise _invalid("A webhook URL may not carry a user name or password (deliveries are signed).")
    if port == 0:
        raise _invalid("The URL's host or port is not valid.")
    try:
        sent_to = httpx.URL(text)
        ascii_host, sent_host = sent_to.raw_host.decode("ascii"), sent_to.host
    except (httpx.InvalidURL, ValueError):  # ValueError: UnicodeError, IDNAError
        raise _invalid(f"The URL's host {host!r} is not a valid host name.") from None
    if sent_host.lower() != host:
        raise _invalid("Not a valid URL: its host is ambiguous.")
    if not _is_address(ascii_host):
        _check_host_name(host, ascii_host)
    scheme = parts.scheme.lower()
    return WebhookURL(scheme, host, ascii_host, port or (443 if scheme == "https" else 80))


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_host_name(host: str, ascii_host: str) -> None:
    """INVALID unless ``ascii_host`` is a name the resolver takes: labels of 1 to 63 letters,
    digits, hyphens (and underscores), 253 characters in all; and the IDNA codec agrees."""
    problem = f"The URL's host {host!r} is not a valid host name (labels of 1 to 63 characters)."
    if len(ascii_host) > HOST_MAX_LENGTH or not _HOST_NAME.fullmatch(ascii_host.lower()):
        raise _invalid(problem)
    try:
        ascii_host.encode("idna")  # what getaddrinfo runs, and fails on as a UnicodeError
    except UnicodeError:
        raise _invalid(problem) from None


def non_public_kind(address: IPAddress) -> str | None:
    """What makes ``address`` unfit for a webhook (loopback, private, …), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


async def resolve(host: str, port: int, shown_as: str | None = None) -> list[IPAddress]:
    """Every address ``host`` (ASCII) stands for: itself if it is one, else what DNS answers."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, ValueError):  # ValueError: UnicodeError of the IDNA codec, NUL
        raise DomainError(
            ErrorCode.INVALID, f"The host {shown_as or host!r} could not be resolved."
        ) from None
    # an IPv6 answer may carry a scope ("fe80::1%eth0"); the address is what comes before it
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


async def check_destination(url: str, allow_private: bool) -> str:
    """``url`` trimmed, once it is known to point at public addresses only (unless allowed)."""
    parts = parse_webhook_url(url)
    if not allow_private:
        host = parts.host
        for address in await resolve(parts.ascii_host, parts.port, host):
            kind = non_public_kind(address)
            if kind is not None:
                raise DomainError(
                    ErrorCode.INVALID,
                    f"Webhook URLs may not point at loopback, link-local or private addresses: "
                    f"{host!r} is {address} ({kind}).",
                )
    return url.strip()

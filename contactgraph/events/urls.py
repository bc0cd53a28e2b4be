"""Where a webhook may point: an http(s) URL whose host is a public address.

Checked when the webhook is created and again before every delivery, since what a
name resolves to can change in between.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from ..models import DomainError, ErrorCode

URL_MAX_LENGTH = 2048
RESOLVE_TIMEOUT_SECONDS = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_webhook_url(value: str) -> SplitResult:
    """The parts of an absolute http(s) URL with a host, or INVALID saying what is wrong."""
    text = value.strip()
    if not text:
        raise DomainError(ErrorCode.REQUIRED, "A webhook needs a URL.")
    if len(text) > URL_MAX_LENGTH or any(c.isspace() for c in text):
        raise DomainError(ErrorCode.INVALID, f"Not a valid URL (at most {URL_MAX_LENGTH} characters).")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise DomainError(ErrorCode.INVALID, "A webhook URL must start with http:// or https://.")
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise DomainError(ErrorCode.INVALID, "The URL's host or port is not valid.") from None
    if not host:
        raise DomainError(ErrorCode.INVALID, "A webhook URL needs a host, e.g. https://example.com/hook.")
    return parts


def non_public_kind(address: IPAddress) -> str | None:
    """What makes ``address`` unfit for a webhook (loopback, private, …), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` stands for: itself if it is one, else what DNS answers."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        raise DomainError(ErrorCode.INVALID, f"The host {host!r} could not be resolved.") from None
    # an IPv6 answer may carry a scope ("fe80::1%eth0"); the address is what comes before it
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]


async def check_destination(url: str, allow_private: bool) -> str:
    """``url`` trimmed, once it is known to point at public addresses only (unless allowed)."""
    parts = parse_webhook_url(url)
    if not allow_private:
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        for address in await resolve(host, port):
            kind = non_public_kind(address)
            if kind is not None:
                raise DomainError(
                    ErrorCode.INVALID,
                    f"Webhook URLs may not point at loopback, link-local or private addresses: "
                    f"{host!r} is {address} ({kind}).",
                )
    return url.strip()

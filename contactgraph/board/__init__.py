"""``GET /board``: the reference kanban board, a page the API serves itself.

The page is one HTML file, one script and one style sheet from this package: no build
step, nothing fetched from another host. It holds no data and reads none: it asks for an
API token, keeps it in the tab's session storage, and reads and moves contacts through
``/graphql`` with it, where the access policy guards every field as for any client. So
these routes need no row in ``access.OPERATIONS``. Their Content-Security-Policy lets the
page load and reach this server alone (its own origin, and its WebSocket).
"""

from __future__ import annotations

import re
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

ASSETS = {
    "index.html": "text/html; charset=utf-8",
    "board.js": "text/javascript; charset=utf-8",
    "board.css": "text/css; charset=utf-8",
}
# A Host header as a browser sends it: a name or address, maybe a port; anything else is left out.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def content_security_policy(host: str | None) -> str:
    """Scripts, styles, images and connections from this server only; no forms, frames or plugins."""
    connect = "'self'"
    if host and _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"  # 'self' covers them in CSP 3; older browsers need them named
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def board_routes() -> list[BaseRoute]:
    """``/board`` (the page) and ``/board/board.js``, ``/board/board.css``."""
    package = files(__name__)
    bodies = {name: package.joinpath(name).read_bytes() for name in ASSETS}

    def serve(name: str) -> Route:
        async def asset(request: Request) -> Response:
            headers = {
                "Content-Security-Policy": content_security_policy(request.headers.get("host")),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            }
            return Response(bodies[name], media_type=ASSETS[name], headers=headers)

        path = "/board" if name == "index.html" else f"/board/{name}"
        return Route(path, asset, methods=["GET", "HEAD"])

    return [serve(name) for name in ASSETS]

"""GraphiQL's page, its scripts and styles served from this server when they are installed.

Strawberry's page loads them from unpkg.com, pinned and with their integrity hashes.
``make graphiql`` (or the Docker build) fetches the same files once from the npm
registry into a folder laid out as unpkg lays them out (``react@18.2.0/umd/…``); with
every file there the page names them under ``/graphiql/`` instead, hashes kept, and
works offline. With any missing it is Strawberry's page as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

PREFIX = "/graphiql/"
_ON_CDN = re.compile(r'(?<=")https://unpkg\.com/([^"]+)(?=")')


def cdn_assets(html: str | None = None) -> list[str]:
    """The page's files as unpkg names them: ``<package>@<version>/<path>``."""
    return _ON_CDN.findall(html if html is not None else get_graphql_ide_html("graphiql"))


class GraphiQL:
    def __init__(self, assets: str | Path | None) -> None:
        html = get_graphql_ide_html("graphiql")
        folder = Path(assets) if assets else None
        wanted = {name: folder / name for name in cdn_assets(html)} if folder else {}
        self.files = wanted if wanted and all(file.is_file() for file in wanted.values()) else {}
        self.html = _ON_CDN.sub(lambda m: PREFIX + m[1], html) if self.files else html

    @property
    def local(self) -> bool:
        return bool(self.files)

    async def asset(self, request: Request) -> Response:
        file = self.files.get(request.path_params["path"])
        if file is None:
            return PlainTextResponse("Not Found", status_code=404)
        # the version is in the path: a new one is a new URL
        return FileResponse(file, headers={"Cache-Control": "public, max-age=31536000, immutable"})

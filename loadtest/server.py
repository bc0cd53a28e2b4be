"""The API under load: uvicorn in a process of its own, on a free port of 127.0.0.1.

The parent (``Server``) starts ``python -m loadtest.server`` with the settings in its
environment and reads the port from its first line of output. On SIGINT uvicorn shuts
the application down as in production (lifespan, delivery worker, feeder); the child
then writes every collection to a file, which the parent reads back, so the invariants
are checked against what the database holds whatever engine it runs on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from bson import json_util

HOST = "127.0.0.1"
PROJECT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0
STOP_SECONDS = 30.0

Collections = dict[str, list[dict[str, Any]]]


# ---------------------------------------------------------------- the child


class _Server(uvicorn.Server):
    """uvicorn's server, whose SIGINT shuts it down and then lets the collections be written.

    (uvicorn raises the signal again once it has shut down, which would end the process first.)
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def _serve(dump: Path, sock: socket.socket) -> None:
    from contactgraph.app import create_app
    from contactgraph.db import connect
    from contactgraph.documents import DOCUMENTS
    from contactgraph.settings import Settings

    settings = Settings()
    engine = await connect(settings.mongodb_url, settings.database, DOCUMENTS)
    app = create_app(settings, engine=engine)
    server = _Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=10))
    await server.serve(sockets=[sock])
    collections: Collections = {}
    for model in DOCUMENTS:
        cursor = model.get_pymongo_collection().find({}).sort("_id", 1)
        collections[model.get_collection_name()] = [doc async for doc in cursor]
    text = json_util.dumps(collections, json_options=json_util.CANONICAL_JSON_OPTIONS)
    await asyncio.to_thread(dump.write_text, text)
    if not engine.in_memory:
        await engine.client.drop_database(settings.database)
    await engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="serve the API for the load test (started by Server)")
    parser.add_argument("--dump", type=Path, required=True, help="where to write the collections at exit")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    try:
        import uvloop

        factory: Any = uvloop.new_event_loop  # what uvicorn.run picks, as `contactgraph serve` runs
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(args.dump, sock))


# ---------------------------------------------------------------- the parent


class Server:
    """A running server: its base URL, and after ``stop`` what its database held."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, dump: Path) -> None:
        self.process = process
        self.port = port
        self.dump = dump

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/graphql"

    async def wait_ready(self) -> None:
        async with asyncio.timeout(START_SECONDS), httpx.AsyncClient(base_url=self.url) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.process.returncode} while starting")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)

    async def stop(self) -> Collections:
        """Shut the server down gracefully (as SIGINT does in production); the collections it left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(asyncio.to_thread(self.process.wait), STOP_SECONDS)
        except TimeoutError:
            self.process.kill()
            raise RuntimeError("the server did not stop within 30 s") from None
        if self.process.returncode != 0:
            raise RuntimeError(f"the server exited with {self.process.returncode}")
        options = json_util.JSONOptions(tz_aware=True, tzinfo=UTC)
        return json_util.loads(self.dump.read_text(), json_options=options)  # type: ignore[no-any-return]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@asynccontextmanager
async def running(
    environment: dict[str, str], workdir: Path, profile: Path | None = None
) -> AsyncIterator[Server]:
    """The server with ``CONTACTGRAPH_*`` settings from ``environment``; killed if still up at the end.

    With ``profile``, it runs under cProfile and writes its statistics there.
    """
    dump = workdir / "collections.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACTGRAPH_")} | environment
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    process = subprocess.Popen(  # noqa: ASYNC220 (its pipe is read in a thread; it is waited for in one)
        [sys.executable, *profiler, "-m", "loadtest.server", "--dump", str(dump)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=PROJECT,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), START_SECONDS)
        if not line:
            raise RuntimeError("the server exited before it bound its port")
        server = Server(process, json.loads(line)["port"], dump)
        await server.wait_ready()
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    main()

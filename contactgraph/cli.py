"""The ``contactgraph`` command."""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Sequence

from pydantic import SecretStr

from .csv_cli import add_commands as add_csv_commands


def _serve(args: argparse.Namespace) -> int:
    import gc
    import logging

    import uvicorn

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from .app import create_app
    from .settings import Settings

    settings = Settings()
    seed = None
    if args.demo:
        from .demo import seed_demo

        if settings.admin_key is None:
            settings.admin_key = SecretStr(secrets.token_urlsafe(24))
        seed = seed_demo
    app = create_app(settings, seed=seed, public_url=f"http://{args.host}:{args.port}/graphql")
    # What start-up built (modules, the schema) lives as long as the process: frozen, the
    # collector's full passes skip it. Each pass over it stalls every request some 100 ms,
    # and a running import makes passes frequent (bench/import_isolation.py, README).
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from .schema import sdl

    sys.stdout.write(sdl() + "\n")
    return 0


def _permissions(args: argparse.Namespace) -> int:
    from .access import permissions_table

    sys.stdout.write(permissions_table())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contactgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="create a demo workspace and print its token")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)
    schema = commands.add_parser("schema", help="print the served GraphQL SDL")
    schema.set_defaults(run=_schema)
    permissions = commands.add_parser("permissions", help="print the access policy as a Markdown table")
    permissions.set_defaults(run=_permissions)
    add_csv_commands(commands)  # import, export
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())

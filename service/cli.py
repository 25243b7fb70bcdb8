"""The ``motcua`` command: ``demo`` loads the demo catalogue, ``openapi`` writes the spec, ``simulate`` runs a
scenario, ``worker`` delivers webhooks and raises deadline warnings, ``webhook-echo`` prints received webhooks
(see ``motcua <command> --help``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

DEFAULT_URL = "sqlite:///./data/motcua.db"


def _database_url(args: argparse.Namespace) -> str:
    return args.database_url or os.environ.get("MOTCUA_DATABASE_URL") or DEFAULT_URL


def cmd_demo(args: argparse.Namespace) -> int:
    from service.demo import load_demo

    created = load_demo(_database_url(args))
    print("demo catalogue loaded: " + ", ".join(f"{k} +{v}" for k, v in created.items()))
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from service import openapi

    return openapi.main(["--check"] if args.check else [])


def cmd_simulate(args: argparse.Namespace) -> int:
    from service.simulation import cli

    return cli.run(args)


def cmd_worker(args: argparse.Namespace) -> int:
    """Deliver webhooks, raise the deadline warnings and send notices until SIGINT/SIGTERM (settings from the
    environment, as the app reads them; run the API with MOTCUA_WORKER=false)."""
    from service.events.worker import run_forever
    from service.settings import Settings

    overrides = {"database_url": args.database_url} if args.database_url else {}
    run_forever(Settings(**overrides))  # type: ignore[arg-type]
    return 0


def cmd_webhook_echo(args: argparse.Namespace) -> int:
    from service.events.echo import serve

    serve(args.port, args.secret)
    return 0




def cmd_serve(args: argparse.Namespace) -> int:
    from service.server import serve

    if args.database_url:
        os.environ["MOTCUA_DATABASE_URL"] = args.database_url
    serve(host=args.host, port=args.port, workers=args.workers)
    return 0


COMMANDS = {"demo": cmd_demo, "openapi": cmd_openapi, "simulate": cmd_simulate, "worker": cmd_worker,
            "webhook-echo": cmd_webhook_echo, "serve": cmd_serve}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="Một Cửa: one-stop-shop simulator tools")
    parser.add_argument("--database-url", help="defaults to $MOTCUA_DATABASE_URL or " + DEFAULT_URL)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="load the demo catalogue, agencies and accounts (idempotent)")
    openapi = sub.add_parser("openapi", help="write openapi/openapi.json")
    openapi.add_argument("--check", action="store_true", help="fail if the committed spec is out of date")
    sub.add_parser("worker", help="deliver webhooks, raise due-soon/overdue events and send notices (a process of "
                                  "its own; several may run)")
    echo = sub.add_parser("webhook-echo", help="a local webhook receiver that checks signatures and prints events")
    echo.add_argument("--port", type=int, default=8001)
    echo.add_argument("--secret", required=True, help="the subscription's secret")
    serve = sub.add_parser("serve", help="serve the API (settings from MOTCUA_* variables; see service.server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    from service.simulation.cli import add_parser

    add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    handler = COMMANDS[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())

"""``motcua simulate``: run a scenario on a database and print the summary.

    motcua simulate --scenario commune|province|path.toml [--seed N] [--year 2025] [--limit N]
                    [--database-url URL] [--sign-results] [--workers N] [--json summary.json]

The database is migrated first (Alembic, as ``make migrate``) and must not hold dossiers yet. The exit status
is 1 when the report invariant fails on any row.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_URL = "sqlite:///./data/simulation.db"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "simulate", help="run a simulation scenario (a commune desk, a province) through the real rules",
        description="Play a scenario on the simulated legal clock through the dossier rules, then print "
                    "dossiers by status, on-time and online rates, the Decision 766 index and the slowest "
                    "procedures. The same scenario and seed give the same dossiers and statistics.")
    parser.add_argument("--scenario", default="commune",
                        help="'commune' (~20,000 dossiers/year), 'province' (~500,000/year) or a TOML file")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    parser.add_argument("--year", type=int, default=None,
                        help="simulate this calendar year (default: the scenario's)")
    parser.add_argument("--limit", type=int, default=None,
                        help="stop arrivals after N dossiers; the run then ends with that day "
                             "(to measure speed)")
    parser.add_argument("--database-url", default=argparse.SUPPRESS,
                        help=f"target database (default: $MOTCUA_DATABASE_URL or {DEFAULT_URL}); "
                             "must hold no dossier")
    signing = parser.add_mutually_exclusive_group()
    signing.add_argument("--sign-results", action="store_true", default=None,
                         help="sign each result PDF on approval (slow, ~0.05–0.1 s a dossier: small scenarios "
                              "only); default: the scenario's [results] sign")
    signing.add_argument("--no-sign-results", dest="sign_results", action="store_false",
                         help="do not sign results even if the scenario says so (fast; indicators 4.1/4.2 "
                              "are then 0)")
    parser.add_argument("--batch", type=int, default=5000,
                        help="actions written per transaction, at the end of a simulated day (default 5000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes playing the scenario's shards (default: the number of CPUs); any "
                             "number gives the same rows; a run that signs results plays in one")
    parser.add_argument("--json", metavar="PATH", help="also write the summary as JSON to PATH")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--no-migrate", action="store_true", help="do not run the Alembic migrations first")
    parser.add_argument("--force", action="store_true",
                        help="run even if the database already holds dossiers (codes and figures then "
                             "differ)")


def migrate(url: str) -> None:
    """``alembic upgrade head`` on ``url`` (idempotent)."""
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command
    from alembic.config import Config


    root = Path(__file__).resolve().parents[2]
    ini = root / "alembic.ini"
    if not ini.is_file():
        raise SystemExit(f"alembic.ini not found next to the package ({ini}); migrate the database yourself "
                         "and pass --no-migrate")
    config = Config(str(ini))
    config.set_main_option("script_location", str(root / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")


def _signing_settings(url: str) -> Any:
    from pydantic import ValidationError

    from service.settings import Settings

    try:
        return Settings(database_url=url)
    except ValidationError as exc:
        raise SystemExit("signing results (--sign-results, or the scenario's [results] sign) needs the signing "
                         "settings of the app that will serve this database "
                         "(MOTCUA_ENV=dev, or MOTCUA_SECRET_KEY / MOTCUA_CA_KEY_PASSPHRASE): "
                         f"{exc.errors()[0]['msg']}") from None


def run(args: argparse.Namespace) -> int:
    from service.db import Database
    from service.simulation.engine import tuned_sqlite
    from service.simulation.progress import ProgressBar
    from service.simulation.scenario import ScenarioError, load
    from service.simulation.shards import simulate_and_read
    from service.simulation.summary import read_statistics, render, summarize

    try:
        scenario = load(args.scenario)
    except ScenarioError as exc:
        raise SystemExit(f"scenario error: {exc}") from None
    if args.year:
        scenario = scenario.with_year(args.year)
    url = getattr(args, "database_url", None) or os.environ.get("MOTCUA_DATABASE_URL") or DEFAULT_URL
    if not args.no_migrate:
        migrate(url)
    sign = scenario.results.sign if args.sign_results is None else args.sign_results
    settings = _signing_settings(url) if sign else None
    db = Database(url)
    try:
        with tuned_sqlite(db):
            # The summary's statistics are read while the run rebuilds its indexes (SQLite), else after it.
            result, statistics = simulate_and_read(
                db, scenario, read_statistics, seed=args.seed, limit=args.limit, sign_results=sign,
                batch_size=args.batch, progress=ProgressBar(enabled=not args.no_progress), settings=settings,
                force=args.force, workers=max(1, args.workers))
            summary = summarize(db, result, statistics)
    finally:
        db.dispose()
    print(render(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2, default=str),
                                   encoding="utf-8")
    return 0 if summary.invariant_holds else 1

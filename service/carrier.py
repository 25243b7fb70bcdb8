"""The simulated postal carrier: ``python -m service.carrier [--failure-rate 0.05] [--seed N]``.

Delivers every result in transit whose J+n level has passed on the legal clock (the simulated clock row when
``MOTCUA_SIMULATION=true``, else real time), through the webhook's own logic
(:func:`service.operations.postal.run_carrier`). ``--every SECONDS`` keeps it running as a background process.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time

log = logging.getLogger("motcua.carrier")


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a probability between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service.carrier", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="defaults to $MOTCUA_DATABASE_URL or the app's default")
    parser.add_argument("--failure-rate", type=_probability, default=0.05,
                        help="probability that a delivery fails (default 0.05)")
    parser.add_argument("--late-rate", type=_probability, default=0.0,
                        help="probability that the carrier misses its J+n level (default 0)")
    parser.add_argument("--seed", type=int, help="random seed, for a reproducible run")
    parser.add_argument("--limit", type=int, help="at most this many shipments per pass")
    parser.add_argument("--every", type=float, help="run again every SECONDS (real time) until interrupted")
    return parser


def run_once(args: argparse.Namespace, rng: random.Random) -> int:
    from service.bootstrap import compose_effects
    from service.clock import LegalClock
    from service.db import Database
    from service.operations.postal import run_carrier
    from service.settings import Settings

    default_url = Settings.model_fields["database_url"].default
    url = args.database_url or os.environ.get("MOTCUA_DATABASE_URL") or default_url
    simulation = os.environ.get("MOTCUA_SIMULATION", "true").lower() in ("1", "true", "yes")
    db = Database(url)
    try:
        with db.transaction(read_only=True) as session:
            now = LegalClock(simulation=simulation).now(session)
        run = run_carrier(db, now, args.failure_rate, rng, effects=compose_effects(None), late_rate=args.late_rate,
                          limit=args.limit)
    finally:
        db.dispose()
    print(f"{now.isoformat()} delivered={run.delivered} failed={run.failed} carrier_late={run.late}")
    return run.delivered + run.failed


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    rng = random.Random(args.seed)
    run_once(args, rng)
    while args.every:
        time.sleep(args.every)
        run_once(args, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())

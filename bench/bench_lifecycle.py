"""Dossier lifecycle under load, and lookup / list latency as the dossier table grows.

Run (SQLite only)::

    .venv/bin/python bench/bench_lifecycle.py

Run (SQLite and PostgreSQL; each URL names a scratch database whose ``public`` schema is dropped)::

    .venv/bin/python bench/bench_lifecycle.py \\
        --pg-url postgresql://postgres@127.0.0.1:5432/bench_a --pg-url-large postgresql://postgres@127.0.0.1:5432/bench_b

Every server is the real app under uvicorn (``service.main:app``, one worker, 127.0.0.1, a free port,
``MOTCUA_ENV=dev``, ``MOTCUA_SIMULATION=true``) on a fresh database created by ``alembic upgrade head``.

1. Throughput (per backend): a load generator of ``--workers`` threads, each with its own keep-alive
   ``httpx.Client``, lodges online dossiers as a citizen and has the desk receive each one
   (``POST /dossiers`` then ``POST /dossiers/{code}/actions/receive``), bounded by ``--dossiers`` and
   ``--seconds``. ``GET /health`` runs under the same concurrency on the same server, before and after.
   Prints dossiers/s, requests/s, p50/p99 of each request, and the ratios to ``/health``.
2. Scale (per backend): two servers side by side, one on a table of ``--small`` dossiers, one on ``--large``
   (rows inserted directly with SQLAlchemy Core ``executemany`` for 20 agencies, then ``ANALYZE``). One client
   alternates between them request by request (so load on the shared machine hits both alike) and times
   ``GET /dossiers/{code}`` (random codes of the officer's agency), the first list page, a page deep behind a
   cursor, and a status-filtered page. Prints p50/p99 and the large ÷ small ratio of the medians (goal ≤ 1.5).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing

from _server import ADMIN, PASSWORD, app_server, fresh_database, ok, token  # noqa: E402
from sqlalchemy import text  # noqa: E402

from service.db import create_db_engine  # noqa: E402
from service.dossiers.queries import encode_cursor  # noqa: E402
from service.dossiers.submission import secret_hash  # noqa: E402
from service.models import Dossier  # noqa: E402

PYTHON = sys.executable
CITIZEN_ID = "022090001234"
PROVINCE = "000.00.00.H49"
AGENCIES = [f"000.00.{61 + i:02d}.H49" for i in range(20)]
COMMUNE = AGENCIES[0]
PROCEDURE = "1.001193.000.00.{}.H49"
STATUSES = (
    ["received"] * 2 + ["processing"] * 4 + ["awaiting_supplement"] + ["result_ready"] + ["returned"] * 2
)
PER_AGENCY_DAY = 500


# ------------------------------------------------------------------------------------------- servers



@contextmanager
def server(url: str) -> Iterator[str]:
    with app_server(url) as running:
        yield running.base


def build_world(base: str, agencies: list[str]) -> dict[str, dict[str, str]]:
    """The province, the communes (one level-4 procedure each), a desk for the first commune, one citizen."""
    with httpx.Client(base_url=base, timeout=60) as client:
        admin = token(client, *ADMIN)
        ok(client.put("/api/v1/sim/clock", json={"now": "2026-03-02T08:00:00+07:00"}, headers=admin))
        ok(
            client.post(
                "/api/v1/agencies",
                json={"code": PROVINCE, "name": "Ủy ban nhân dân tỉnh Quảng Ninh", "level": "province"},
                headers=admin,
            ),
            201,
        )
        for i, code in enumerate(agencies):
            ok(
                client.post(
                    "/api/v1/agencies",
                    headers=admin,
                    json={
                        "code": code,
                        "name": f"Ủy ban nhân dân xã số {i + 1}",
                        "level": "commune",
                        "parent_code": PROVINCE,
                    },
                ),
                201,
            )
            ok(
                client.post(
                    "/api/v1/procedures",
                    headers=admin,
                    json={
                        "code": procedure_code(code),
                        "name": "Đăng ký khai sinh",
                        "agency_code": code,
                        "service_level": 4,
                        "processing_time": {"value": 3, "unit": "working_days"},
                        "fee_vnd": 0,
                        "postal_allowed": False,
                        "required_documents": [
                            {"code": "TP01", "name": "Tờ khai đăng ký khai sinh", "mandatory": True}
                        ],
                    },
                ),
                201,
            )
        headers = {"admin": admin}
        for role, username in (("receiver", "tiepnhan"), ("processor", "chuyenvien")):
            ok(
                client.post(
                    "/api/v1/users",
                    headers=admin,
                    json={
                        "username": username,
                        "password": PASSWORD,
                        "full_name": f"Cán bộ {username}",
                        "role": role,
                        "agency_code": COMMUNE,
                    },
                ),
                201,
            )
            headers[role] = token(client, username, PASSWORD)
        ok(
            client.post(
                "/api/v1/auth/register",
                json={"national_id": CITIZEN_ID, "full_name": "Lê Văn Hùng", "password": PASSWORD},
            ),
            201,
        )
        headers["citizen"] = token(client, CITIZEN_ID, PASSWORD)
        return headers


def procedure_code(agency: str) -> str:
    return PROCEDURE.format(agency.split(".")[2])


# ------------------------------------------------------------------------------------------- figures


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def describe(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 0.50):7.1f} ms   p99 {percentile(samples, 0.99):7.1f} ms   "
        f"mean {statistics.fmean(samples):7.1f} ms   n={len(samples)}"
    )


@dataclass
class Load:
    seconds: float = 0.0
    done: int = 0
    samples: dict[str, list[float]] = field(default_factory=dict)


def load(
    base: str, workers: int, total: int, limit_s: float, job: Callable[[httpx.Client, Load], None]
) -> Load:
    """Run ``job`` from ``workers`` threads until ``total`` jobs are done or ``limit_s`` seconds passed."""
    result, lock = Load(), threading.Lock()
    barrier = threading.Barrier(workers + 1)
    deadline: list[float] = []

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            while True:
                with lock:
                    if result.done >= total or time.perf_counter() > deadline[0]:
                        return
                    result.done += 1
                job(client, result)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline.append(began + limit_s)
    barrier.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def timed(result: Load, name: str, call: Callable[[], httpx.Response], status: int = 200) -> Any:
    began = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - began) * 1000
    body = ok(response, status)
    result.samples.setdefault(name, []).append(elapsed)  # list.append is atomic under the GIL
    return body


# ------------------------------------------------------------------------------------------- 1. throughput


def throughput(backend: str, url: str, args: argparse.Namespace) -> None:
    fresh_database(url)
    with server(url) as base:
        headers = build_world(base, [COMMUNE])
        body = {
            "procedure_code": procedure_code(COMMUNE),
            "channel": "online",
            "result_delivery": "counter",
            "documents": [{"code": "TP01"}],
        }

        def health(client: httpx.Client, result: Load) -> None:
            timed(result, "health", lambda: client.get("/health"))

        def submit_and_receive(client: httpx.Client, result: Load) -> None:
            began = time.perf_counter()
            created = timed(
                result,
                "submit",
                lambda: client.post("/api/v1/dossiers", json=body, headers=headers["citizen"]),
                201,
            )
            timed(
                result,
                "receive",
                lambda: client.post(
                    f"/api/v1/dossiers/{created['code']}/actions/receive",
                    json={},
                    headers=headers["receiver"],
                ),
            )
            result.samples.setdefault("pair", []).append((time.perf_counter() - began) * 1000)

        load(base, args.workers, 20, 30, submit_and_receive)  # warm-up
        before = load(base, args.workers, args.health_requests, args.seconds, health)
        work = load(base, args.workers, args.dossiers, args.seconds, submit_and_receive)
        after = load(base, args.workers, args.health_requests, args.seconds, health)

    health_samples = before.samples["health"] + after.samples["health"]
    health_rate = (before.done + after.done) / (before.seconds + after.seconds)
    dossier_rate = work.done / work.seconds
    print(
        f"\n== throughput, {backend}: {args.workers} concurrent clients, {work.done} dossiers in "
        f"{work.seconds:.1f} s =="
    )
    print(f"submit + receive: {dossier_rate:8.1f} dossiers/s ({2 * dossier_rate:.1f} requests/s)")
    print(f"  POST /dossiers           {describe(work.samples['submit'])}")
    print(f"  POST …/actions/receive   {describe(work.samples['receive'])}")
    print(f"  the pair                 {describe(work.samples['pair'])}")
    print(
        f"GET /health:      {health_rate:8.1f} requests/s (before {before.done / before.seconds:.1f}, after "
        f"{after.done / after.seconds:.1f})"
    )
    print(f"  GET /health              {describe(health_samples)}")
    p50_health = percentile(health_samples, 0.5)
    print(
        f"ratios: submit p50 / health p50 = {percentile(work.samples['submit'], 0.5) / p50_health:.1f}x, "
        f"receive p50 / health p50 = {percentile(work.samples['receive'], 0.5) / p50_health:.1f}x, "
        f"health requests/s ÷ dossier requests/s = {health_rate / (2 * dossier_rate):.1f}x"
    )


# ------------------------------------------------------------------------------------------- 2. scale


def bulk_insert(url: str, first: int, last: int) -> float:
    """Rows ``first``..``last - 1`` of the synthetic dossier table, straight into the database, spread over
    the 20 communes, ``PER_AGENCY_DAY`` a day each.

    SQLAlchemy Core ``executemany`` (``Connection.exec_driver_sql`` with lists of plain tuples, 5,000 a
    batch, one transaction): the per-value type layer is skipped, which makes a million rows much faster.
    Instants are given exactly as the ``UTCDateTime`` column stores them (UTC; naive text on SQLite,
    ``timestamptz`` on PostgreSQL); :func:`scale` reads one back through the API to check it."""
    engine = create_db_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    began = time.perf_counter()
    with engine.begin() as conn:
        procedures = dict(conn.execute(text("SELECT agency_code, id FROM procedure")).all())
        creator = conn.execute(text("SELECT id FROM user_account WHERE username = 'tiepnhan'")).scalar_one()
    columns = [column.name for column in Dossier.__table__.columns if column.name != "id"]  # type: ignore[attr-defined]
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    statement = f"INSERT INTO dossier ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"

    def stored(moment: datetime | None) -> Any:
        """An instant (UTC already) as the column stores it."""
        if moment is None or not sqlite:
            return moment
        return f"{moment:%Y-%m-%d %H:%M:%S.%f}"

    secret = secret_hash("bulk")
    day0 = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    rng = random.Random(first)
    batch: list[dict[str, Any]] = []

    connection = engine.connect()
    transaction = connection.begin()  # one transaction for the whole load
    if sqlite:  # a bigger page cache for this loading connection only: nine indexes to maintain
        connection.exec_driver_sql("PRAGMA cache_size=-262144")

    def flush() -> None:
        if list(batch[0]) != columns:
            raise SystemExit("the synthetic row no longer matches the dossier table: update bulk_insert")
        connection.exec_driver_sql(statement, [tuple(row.values()) for row in batch])
        batch.clear()

    for i in range(first, last):
        agency = AGENCIES[i % len(AGENCIES)]
        per_day = len(AGENCIES) * PER_AGENCY_DAY
        day, seq = i // per_day, (i // len(AGENCIES)) % PER_AGENCY_DAY + 1
        moment = day0 + timedelta(days=day, seconds=seq * 50)
        received = stored(moment)
        status = STATUSES[rng.randrange(len(STATUSES))]
        finished = stored(moment + timedelta(days=2)) if status in ("result_ready", "returned") else None
        batch.append(
            {
                "code": f"{agency}-{moment + timedelta(hours=7):%y%m%d}-{seq:04d}",
                "procedure_id": procedures[agency],
                "procedure_code": procedure_code(agency),
                "procedure_version": 1,
                "agency_code": agency,
                "channel": "counter",
                "result_delivery": "counter",
                "delivery_address": None,
                "status": status,
                "applicant_user_id": None,
                "applicant_national_id": f"0220{i:08d}",
                "applicant_full_name": "Nguyễn Văn An",
                "applicant_name_normalised": "nguyen van an",
                "applicant_phone": None,
                "applicant_address": None,
                "submitted_at": received,
                "received_at": received,
                "due_at": stored(moment + timedelta(days=3)),
                "original_due_at": None,
                "clock_started_at": received,
                "paused_at": stored(moment + timedelta(days=1)) if status == "awaiting_supplement" else None,
                "paused_remaining_minutes": 960.0 if status == "awaiting_supplement" else None,
                "finished_at": finished,
                "returned_at": finished if status == "returned" else None,
                "withdrawn_at": None,
                "timeliness": "on_time" if finished else None,
                "supplement_count": 1 if status == "awaiting_supplement" else 0,
                "extension_count": 0,
                "fee_vnd": 0,
                "payment_amount_vnd": None,
                "paid": False,
                "paid_online": False,
                "assisted": False,
                "digitised": False,
                "assignee_id": None,
                "processing_value": 3,
                "processing_unit": "working_days",
                "supplement_policy": "restart",
                "service_level": 4,
                "tracking_secret_hash": secret,
                "created_by_id": creator,
                "version": 1,
                "created_at": received,
                "updated_at": received,
            }
        )
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    transaction.commit()
    connection.close()
    # Planner statistics, as autovacuum (PostgreSQL) or a DBA (SQLite) would have them.
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - began


def scale(backend: str, small_url: str, large_url: str, args: argparse.Namespace) -> None:
    print(f"\n== lookup and list latency, {backend}: {args.small:,} vs {args.large:,} dossiers ==")
    for url, rows in ((small_url, args.small), (large_url, args.large)):
        fresh_database(url)
        with server(url) as base:
            build_world(base, AGENCIES)
        seconds = bulk_insert(url, 0, rows)
        print(f"inserted {rows:,} rows (Core executemany, 20 agencies, then ANALYZE) in {seconds:.1f} s")
    # ids: row i has id i + 1; the officer's agency holds every 20th row.
    mine = {
        name: list(range(0, rows, len(AGENCIES)))
        for name, rows in (("small", args.small), ("large", args.large))
    }
    per_day = len(AGENCIES) * PER_AGENCY_DAY
    day0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)  # the local reading of the first receipt, as in codes

    def deep_cursor(i: int) -> str:
        """The cursor after row ``i`` (id ``i + 1``) in the default newest-received-first order."""
        day, seq = i // per_day, (i // len(AGENCIES)) % PER_AGENCY_DAY + 1
        received = datetime(2025, 6, 2, 1, 0, tzinfo=UTC) + timedelta(days=day, seconds=seq * 50)
        return encode_cursor("-received_at", received, i + 1)

    def code_of(i: int) -> str:
        day, seq = i // per_day, (i // len(AGENCIES)) % PER_AGENCY_DAY + 1
        return f"{COMMUNE}-{day0 + timedelta(days=day, seconds=seq * 50):%y%m%d}-{seq:04d}"

    with server(small_url) as small_base, server(large_url) as large_base:
        clients = {}
        for name, base in (("small", small_base), ("large", large_base)):
            client = httpx.Client(base_url=base, timeout=60)
            clients[name] = (client, token(client, "tiepnhan", PASSWORD))
            # The bulk rows read back as the app writes them: row 0 received 08:00:50 local, due 3 days on.
            first = ok(client.get(f"/api/v1/dossiers/{code_of(0)}", headers=clients[name][1]))
            if (first["received_at"], first["due_at"]) != (
                "2025-06-02T08:00:50+07:00",
                "2025-06-05T08:00:50+07:00",
            ):
                raise SystemExit(f"bulk rows read back wrong: {first['received_at']} {first['due_at']}")
        rng = random.Random(7)
        samples: dict[tuple[str, str], list[float]] = {}

        def probe(kind: str, name: str) -> None:
            client, headers = clients[name]
            rows = mine[name]
            if kind == "lookup":
                path, params = f"/api/v1/dossiers/{code_of(rows[rng.randrange(len(rows))])}", {}
            elif kind == "first page":
                path, params = "/api/v1/dossiers", {"limit": 50}
            elif kind == "deep page":
                path, params = (
                    "/api/v1/dossiers",
                    {
                        "limit": 50,
                        "cursor": deep_cursor(rows[rng.randrange(min(50 + len(rows) // 4, len(rows) - 1),
                                                                  len(rows))]),
                    },
                )
            else:
                path, params = "/api/v1/dossiers", {"limit": 50, "status": "processing"}
            began = time.perf_counter()
            body = ok(client.get(path, params=params, headers=headers))
            samples.setdefault((kind, name), []).append((time.perf_counter() - began) * 1000)
            if kind in ("first page", "deep page") and len(body["items"]) != 50:
                raise SystemExit(f"{kind}: {len(body['items'])} items instead of 50")

        kinds = ["lookup", "first page", "deep page", "status filter"]
        for _ in range(10):  # warm-up
            for kind in kinds:
                for name in ("small", "large"):
                    probe(kind, name)
        samples.clear()
        for _ in range(args.probes):
            for kind in kinds:
                for name in ("small", "large") if rng.random() < 0.5 else ("large", "small"):
                    probe(kind, name)
        for client, _ in clients.values():
            client.close()

    for kind in kinds:
        small, large = samples[(kind, "small")], samples[(kind, "large")]
        ratio = statistics.median(large) / statistics.median(small)
        print(f"{kind:13s} {args.small:>9,}: {describe(small)}")
        print(f"{'':13s} {args.large:>9,}: {describe(large)}")
        print(f"{'':13s} ratio of medians {ratio:.2f} (goal ≤ 1.5) {'ok' if ratio <= 1.5 else 'OVER GOAL'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8, help="concurrent clients of the load generator")
    parser.add_argument("--dossiers", type=int, default=400, help="submit-and-receive pairs (upper bound)")
    parser.add_argument(
        "--health-requests", type=int, default=2000, help="GET /health per phase (upper bound)"
    )
    parser.add_argument("--seconds", type=float, default=60, help="time bound of each load phase")
    parser.add_argument("--small", type=int, default=10_000, help="dossiers in the small table")
    parser.add_argument("--large", type=int, default=1_000_000, help="dossiers in the large table")
    parser.add_argument("--probes", type=int, default=200, help="timed requests per kind and table")
    parser.add_argument("--pg-url", help="a scratch PostgreSQL database (throughput, then the small table)")
    parser.add_argument("--pg-url-large", help="a second scratch PostgreSQL database (the large table)")
    parser.add_argument("--skip-scale", action="store_true", help="only the throughput part")
    args = parser.parse_args()
    if bool(args.pg_url) != bool(args.pg_url_large) and not args.skip_scale:
        parser.error("--pg-url and --pg-url-large go together (or use --skip-scale)")

    print("command: " + " ".join([Path(PYTHON).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; server: uvicorn, 1 worker, 127.0.0.1")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as tmp:
        backends = [
            (
                "sqlite",
                f"sqlite:///{Path(tmp) / 'load.db'}",
                f"sqlite:///{Path(tmp) / 'small.db'}",
                f"sqlite:///{Path(tmp) / 'large.db'}",
            )
        ]
        if args.pg_url:
            backends.append(("postgresql", args.pg_url, args.pg_url, args.pg_url_large))
        for backend, load_url, small_url, large_url in backends:
            throughput(backend, load_url, args)
            if not args.skip_scale:
                scale(backend, small_url, large_url, args)
    print(f"\ntotal run time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()

"""CPU and function calls per request of the hot path, in-process: load-independent figures for a shared machine.

Run::

    .venv/bin/python bench/bench_cpu_per_request.py [--database-url postgresql://postgres@127.0.0.1:5432/<scratch>]
    .venv/bin/python bench/bench_cpu_per_request.py --source /tmp/before   # another checkout's code, same script

The app (``service.main.create_app``) is served by Starlette's ``TestClient`` on a fresh database (SQLite in a
temporary directory unless ``--database-url`` names a scratch database, whose ``public`` schema is dropped), with
the world of ``bench_hotpath.py`` (an agency, a procedure, a desk, a processor; the clock frozen on a working
morning). Requests are sent one after the other, each POST with a fresh ``Idempotency-Key``: ``GET /health``, the
desk's counter submission, then ``assign``, ``request_supplement`` and ``supplement`` on the dossiers just lodged.

Two figures per request kind, each the median of ``--rounds`` rounds of ``--requests`` requests:

- **CPU ms per request**: ``time.process_time`` over the round ÷ requests (the whole process: the test client's own
  work included, so compare kinds and commits, not absolute values);
- **function calls per request**: Python and C function calls in every thread (``sys.setprofile`` and
  ``threading.setprofile``, on a second app started with the profiler set), the client's included. This does not
  move with the machine's load: the figure to compare commits by.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a scratch database (PostgreSQL: its public schema is dropped)")
    parser.add_argument("--requests", type=int, default=100, help="requests per round of each kind")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per kind for the CPU figure")
    parser.add_argument("--source", type=Path, help="measure the code of this checkout instead")
    parser.add_argument("--no-calls", action="store_true", help="CPU only (no profiled second app)")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements one request of each kind sends (after the warm-up)")
    return parser.parse_args()


ARGS = arguments()
SOURCE = (ARGS.source or ROOT).resolve()
sys.path.insert(0, str(SOURCE))
os.environ.setdefault("MOTCUA_ENV", "dev")

from fastapi.testclient import TestClient  # noqa: E402

from service.main import create_app  # noqa: E402
from service.security import passwords  # noqa: E402
from service.served import empty_database  # noqa: E402
from service.settings import Settings  # noqa: E402

# Argon2 at production cost would dominate setting up users; the measured requests never hash a password.
passwords.use_hasher(passwords.Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1))

ADMIN = ("admin", "Bench@123456")
PASSWORD = "Bench@123456"
PROVINCE = "000.00.00.H49"
AGENCY = "000.00.61.H49"
PROCEDURE = "1.001193.000.00.61.H49"
CLOCK = "2026-03-10T08:30:00+07:00"
SUBMISSION = {"procedure_code": PROCEDURE, "channel": "counter", "result_delivery": "counter",
              "applicant": {"national_id": "022090001234", "full_name": "Lê Văn Hùng", "phone": "0912345678"},
              "documents": [{"code": "TP01"}]}


def ok(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url} → {response.status_code}: "
                         f"{response.text[:500]}")
    return response.json() if response.content else None


def migrate(url: str) -> None:
    empty_database(url)
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "PYTHONPATH": str(SOURCE)}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=SOURCE, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def settings(url: str, tmp: Path) -> Settings:
    return Settings(env="dev", database_url=url, secret_key=secrets.token_urlsafe(48), admin_username=ADMIN[0],
                    admin_password=ADMIN[1], simulation=True, ca_key_passphrase=secrets.token_urlsafe(24),
                    upload_dir=tmp / "uploads", worker=False)  # type: ignore[call-arg]


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    body = ok(client.post("/api/v1/auth/token", data={"username": username, "password": password}))
    return {"Authorization": f"Bearer {body['access_token']}"}


def build_world(client: TestClient) -> dict[str, dict[str, str]]:
    admin = login(client, *ADMIN)
    ok(client.put("/api/v1/sim/clock", headers=admin, json={"now": CLOCK}))
    ok(client.post("/api/v1/agencies", headers=admin, json={
        "code": PROVINCE, "name": "Ủy ban nhân dân tỉnh Quảng Ninh", "level": "province"}), 201)
    ok(client.post("/api/v1/agencies", headers=admin, json={
        "code": AGENCY, "name": "Ủy ban nhân dân xã Tiên Yên", "level": "commune", "parent_code": PROVINCE}), 201)
    ok(client.post("/api/v1/procedures", headers=admin, json={
        "code": PROCEDURE, "name": "Đăng ký khai sinh", "agency_code": AGENCY, "service_level": 4,
        "processing_time": {"value": 3, "unit": "working_days"}, "fee_vnd": 0, "postal_allowed": False,
        "required_documents": [{"code": "TP01", "name": "Tờ khai đăng ký khai sinh", "mandatory": True}]}), 201)
    headers = {}
    for role, username in (("receiver", "tiepnhan"), ("processor", "chuyenvien")):
        ok(client.post("/api/v1/users", headers=admin, json={
            "username": username, "password": PASSWORD, "full_name": f"Cán bộ {username}", "role": role,
            "agency_code": AGENCY}), 201)
        headers[role] = login(client, username, PASSWORD)
    return headers


class Kinds:
    """Each request kind as a function of one call: the next dossier of the previous step is acted on."""

    def __init__(self, client: TestClient, headers: dict[str, dict[str, str]]) -> None:
        self.client, self.headers = client, headers
        self.pools: dict[str, list[str]] = {"submit": [], "assign": [], "request_supplement": [], "supplement": []}
        self.taken: dict[str, int] = {name: 0 for name in self.pools}

    def post(self, path: str, role: str, body: Any) -> Any:
        headers = {**self.headers[role], "Idempotency-Key": secrets.token_hex(12)}
        response = self.client.post(path, headers=headers, json=body)
        return ok(response, 201 if path.endswith("/dossiers") else 200)

    def health(self) -> None:
        ok(self.client.get("/health"))

    def submit(self) -> None:
        self.pools["submit"].append(self.post("/api/v1/dossiers", "receiver", SUBMISSION)["code"])

    def _act(self, name: str, source: str, role: str, body: Any) -> None:
        code = self.pools[source][self.taken[source]]
        self.taken[source] += 1
        self.post(f"/api/v1/dossiers/{code}/actions/{name}", role, body)
        self.pools[name].append(code)

    def assign(self) -> None:
        self._act("assign", "submit", "receiver", {"assignee": "chuyenvien"})

    def request_supplement(self) -> None:
        self._act("request_supplement", "assign", "processor",
                  {"reason": "Thiếu bản sao giấy chứng sinh", "missing_documents": ["TP01"]})

    def supplement(self) -> None:
        self._act("supplement", "request_supplement", "receiver", {})

    def order(self) -> list[tuple[str, Callable[[], None]]]:
        return [("health", self.health), ("submit", self.submit), ("assign", self.assign),
                ("request_supplement", self.request_supplement), ("supplement", self.supplement)]


def cpu_figures(url: str, tmp: Path) -> dict[str, list[float]]:
    migrate(url)
    out: dict[str, list[float]] = {}
    with TestClient(create_app(settings(url, tmp))) as client:
        kinds = Kinds(client, build_world(client))
        for _name, call in kinds.order():  # warm-up: the first requests of a kind pay for imports and caches
            for _ in range(10):
                call()
        for _ in range(ARGS.rounds):
            for name, call in kinds.order():
                began = time.process_time()
                for _ in range(ARGS.requests):
                    call()
                out.setdefault(name, []).append(1000 * (time.process_time() - began) / ARGS.requests)
    return out


CALLS = [0]


def count(frame: Any, event: str, arg: Any) -> None:
    if event == "call" or event == "c_call":
        CALLS[0] += 1


def call_figures(url: str, tmp: Path) -> dict[str, float]:
    migrate(url)
    out: dict[str, float] = {}
    threading.setprofile(count)  # the test client's portal thread and anyio's workers start after this
    sys.setprofile(count)
    try:
        with TestClient(create_app(settings(url, tmp))) as client:
            kinds = Kinds(client, build_world(client))
            for _name, call in kinds.order():
                for _ in range(10):
                    call()
            requests = max(20, ARGS.requests // 2)
            for name, call in kinds.order():
                before = CALLS[0]
                for _ in range(requests):
                    call()
                out[name] = (CALLS[0] - before) / requests
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    return out


def print_statements(url: str, tmp: Path) -> None:
    """The statements one request of each kind sends (SQLAlchemy's cursor executions; ``BEGIN`` and ``COMMIT``
    are counted as the engine's transaction events), after the warm-up."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sent: list[str] = []

    def on_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(("executemany " if executemany else "") + " ".join(statement.split())[:150])

    def marker(word: str) -> Callable[[Any], None]:
        return lambda conn: sent.append(word)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", on_execute), ("begin", marker("BEGIN")), ("commit", marker("COMMIT")),
        ("rollback", marker("ROLLBACK"))]
    migrate(url)
    with TestClient(create_app(settings(url, tmp))) as client:
        kinds = Kinds(client, build_world(client))
        for _name, call in kinds.order():
            for _ in range(10):
                call()
        for name, listener in listeners:
            event.listen(Engine, name, listener)
        try:
            for name, call in kinds.order():
                sent.clear()
                call()
                print(f"== {name}: {len(sent)} statements")
                for statement in sent:
                    print(f"   {statement}")
        finally:
            for name, listener in listeners:
                event.remove(Engine, name, listener)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cpu-per-request-") as tmp_name:
        tmp = Path(tmp_name)
        url = ARGS.database_url or f"sqlite:///{tmp / 'bench.db'}"
        if ARGS.statements:
            print_statements(url, tmp)
            return
        cpu = cpu_figures(url, tmp)
        # The second app on a database of its own (a fresh SQLite file: the first app's pool may still hold one).
        second = ARGS.database_url or f"sqlite:///{tmp / 'bench-calls.db'}"
        calls = {} if ARGS.no_calls else call_figures(second, tmp)
    print(f"source {SOURCE}  database {url.split('@')[-1]}  {ARGS.rounds} × {ARGS.requests} requests per kind")
    print(f"{'request':20s} {'CPU ms (median)':>16s} {'rounds':>22s} {'calls':>9s} {'calls - health':>15s}")
    for name, values in cpu.items():
        rounds = " ".join(f"{v:.2f}" for v in values)
        calls_text = f"{calls[name]:9.0f} {calls[name] - calls['health']:15.0f}" if calls else ""
        print(f"{name:20s} {statistics.median(values):16.2f} {rounds:>22s} {calls_text}")


if __name__ == "__main__":
    main()

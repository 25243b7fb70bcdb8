"""The hot path under load: ``/health`` against a desk's submissions and the officers' actions, on the same server.

Run (``make bench-hotpath`` installs Debian's ``wrk`` first; ``PG_URL=…`` adds PostgreSQL)::

    .venv/bin/python bench/bench_hotpath.py [--pg-url postgresql://postgres@127.0.0.1:5432/speed_bench]

Each server is ``motcua serve`` (``service.server``: uvicorn, the production options) on a fresh database built by
``alembic upgrade head`` (a PostgreSQL URL names a scratch database whose ``public`` schema is dropped), with
``MOTCUA_ENV=dev``, the simulated clock frozen on a working morning and ``MOTCUA_WORKER=false`` (the API process
as in production: no webhook worker beside it). The load generator is ``wrk`` (``-t 2``, ``--connections``
keep-alive connections, one request kind per run, driven by ``bench/hotpath.lua``): it costs little CPU, which
matters as it shares the two cores with the server.

Per backend, in this order on one server, with a ``GET /health`` phase (``--health-seconds``, 5; one ``SELECT 1``
on a pooled connection, no auth: the ceiling of the HTTP stack) before the first and after each of these (at
most ``--seconds``, 10): ``POST /dossiers`` by the desk at the counter (received on the spot); ``assign`` (desk →
processor), ``request_supplement`` (processor) and ``supplement`` (desk) on the dossiers just lodged, each once;
``approve`` (leader: renders and signs the result PDF; shown for information, at most ``--approvals``) and
``return_result`` (desk) on the approved ones. The ratio of a phase is its requests/s ÷ the mean of the
``/health`` phases on either side (the machine is shared: its load drifts within a run).

Every POST carries ``Idempotency-Key`` (as the pages and the TypeScript client send it) and must answer 2xx: any
other status is counted and printed. CPU% is the server processes' user+system time over the phase's wall time
(100 % = one core); "wrk CPU %" is the load generator's, and on PostgreSQL "PG CPU %" is that of every
``postgres`` process of the machine: the three share the two cores. With ``--pg-url`` PostgreSQL is measured
with 1 worker and then with ``--pg-workers`` (the scaling claim: health, submit and assign; the 2-worker server
shares out connections with ``SO_REUSEPORT``).

``--scaling-rounds N`` measures only that claim, interleaved: N rounds, each a 1-worker server then a
``--pg-workers`` server on a fresh database (health, submit, assign), and prints each round's ratios and their
median. The machine's speed drifts over minutes; one 1-worker run followed by one 2-worker run reads that drift
as scaling, alternating them several times shows how far the ratio moves.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from _server import ADMIN, PASSWORD, environment, fresh_database, ok, token  # noqa: E402

LUA = ROOT / "hotpath.lua"
PROVINCE = "000.00.00.H49"
AGENCY = "000.00.61.H49"
PROCEDURE = "1.001193.000.00.61.H49"
CLOCK = "2026-03-10T08:30:00+07:00"  # a Tuesday morning: every action is allowed
_FIRST_PORT = int(os.environ.get("MOTCUA_BENCH_PORT", "8100"))
PORTS = range(_FIRST_PORT, _FIRST_PORT + 100)
"""Where the servers listen: ``MOTCUA_BENCH_PORT`` and the 99 ports after it (a shared machine's own range)."""
SUBMISSION = {"procedure_code": PROCEDURE, "channel": "counter", "result_delivery": "counter",
              "applicant": {"national_id": "022090001234", "full_name": "Lê Văn Hùng", "phone": "0912345678"},
              "documents": [{"code": "TP01"}]}


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {PORTS.start}–{PORTS.stop - 1}")



# ------------------------------------------------------------------------------------------- processes


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """CPU seconds of every process named ``postgres`` on the machine (the server and its backends): the share
    of the two cores the database takes beside the API (0 with SQLite, which runs inside the API's process)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue  # ended meanwhile
    return total


def children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have ended and been waited for: after a phase, its ``wrk``
    (and its profiler, with ``--profile``); the servers are counted only once they stop."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Served:
    base: str
    port: int
    pid: int
    workers: int

    def processes(self) -> list[int]:
        """The processes that serve requests: the workers (or the one process when it has none)."""
        return children(self.pid) or [self.pid]


SOURCE: dict[str, Path | None] = {"dir": None}
"""``--source``: serve another checkout's code (e.g. the commit before issue 19) with this benchmark."""


@contextmanager
def serve(url: str, workers: int = 1, *, access_log: Path | None = None) -> Iterator[Served]:
    """``motcua serve`` on ``url``; its standard output (uvicorn's access log, one line a response) goes to
    ``access_log`` when given, else nowhere."""
    port = free_port()
    source = SOURCE.get("dir") or ROOT.parent
    env = environment(url) | {"MOTCUA_WORKER": "false", "PYTHONPATH": str(source)}
    stdout = access_log.open("wb") if access_log else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--workers", str(workers)], cwd=source, env=env,
                               stdout=stdout)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200 and \
                        len(children(process.pid) or [process.pid]) >= (workers if workers > 1 else 1):
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit("the server exited during start-up")
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer /health within 90 s")
            time.sleep(0.3)
        time.sleep(1.0 if workers > 1 else 0.2)  # every worker listening
        yield Served(base, port, process.pid, workers)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if access_log:
            stdout.close()


def build_world(base: str) -> dict[str, str]:
    """An agency, a procedure, a desk officer, a processor and a leader; the clock frozen on a working morning.
    Returns the bearer token of each role."""
    with httpx.Client(base_url=base, timeout=60) as client:
        admin = token(client, *ADMIN)
        ok(client.put("/api/v1/sim/clock", headers=admin, json={"now": CLOCK}))
        ok(client.post("/api/v1/agencies", headers=admin, json={
            "code": PROVINCE, "name": "Ủy ban nhân dân tỉnh Quảng Ninh", "level": "province"}), 201)
        ok(client.post("/api/v1/agencies", headers=admin, json={
            "code": AGENCY, "name": "Ủy ban nhân dân xã Tiên Yên", "level": "commune", "parent_code": PROVINCE}),
           201)
        ok(client.post("/api/v1/procedures", headers=admin, json={
            "code": PROCEDURE, "name": "Đăng ký khai sinh", "agency_code": AGENCY, "service_level": 4,
            "processing_time": {"value": 3, "unit": "working_days"}, "fee_vnd": 0, "postal_allowed": False,
            "required_documents": [{"code": "TP01", "name": "Tờ khai đăng ký khai sinh", "mandatory": True}]}),
           201)
        tokens = {"admin": admin["Authorization"].split()[1]}
        for role, username in (("receiver", "tiepnhan"), ("processor", "chuyenvien"), ("approver", "lanhdao")):
            ok(client.post("/api/v1/users", headers=admin, json={
                "username": username, "password": PASSWORD, "full_name": f"Cán bộ {username}", "role": role,
                "agency_code": AGENCY}), 201)
            tokens[role] = token(client, username, PASSWORD)["Authorization"].split()[1]
        return tokens


# ------------------------------------------------------------------------------------------- wrk


@dataclass
class Figures:
    name: str
    ok: int
    other: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu: list[float]  # % of one core, per server process
    socket_errors: int = 0
    database_cpu: float = 0.0  # % of one core, PostgreSQL's processes
    load_cpu: float = 0.0  # % of one core, wrk's

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def run_wrk(server: Served, name: str, *, method: str = "GET", path: str = "/health", body: Any = None,
            bearer: str = "", codes: list[str] | None = None, save: Path | None = None, seconds: float,
            connections: int, tmp: Path, count: int | None = None) -> Figures:
    threads = 2
    codes_file = ""
    if codes is not None:
        codes_path = tmp / f"codes-{name}.txt"
        codes_path.write_text("\n".join(codes) + "\n")
        codes_file = str(codes_path)
    out = tmp / f"out-{name}.json"
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_PATH": path,
           "BENCH_BODY": json.dumps(body, ensure_ascii=False) if body is not None else "",
           "BENCH_TOKEN": bearer, "BENCH_CODES": codes_file, "BENCH_THREADS": str(threads),
           "BENCH_SAVE": str(save) if save else "", "BENCH_OUT": str(out),
           "BENCH_COUNT": str(count) if count else ""}
    pids = server.processes()
    cpu_before = [cpu_seconds(pid) for pid in pids]
    database_before = database_cpu_seconds()
    load_before = children_cpu_seconds()
    profiler = None
    if PROFILE.get("dir") and name in PROFILE["phases"]:
        output = Path(PROFILE["dir"]) / f"{PROFILE['label']}-{name}.txt"
        profiler = subprocess.Popen(
            [str(PY_SPY), "record", "--nonblocking", "--gil", "--format", "raw", "-r", "200",
             "-d", f"{max(1, seconds - 1):g}", "-o", str(output), "-p", str(pids[0])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began = time.monotonic()
    subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
                    "--timeout", "30s",
                    "-s", str(LUA), server.base], env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - began
    if profiler is not None:
        profiler.wait(timeout=60)
    figures = json.loads(out.read_text())
    # Over the span requests were answered (a phase that used up its dossiers early idles for the rest of -d).
    span = min(wall, figures["seconds"]) or wall
    cpu = [100 * (cpu_seconds(pid) - before) / span for pid, before in zip(pids, cpu_before, strict=True)]
    database_cpu = 100 * (database_cpu_seconds() - database_before) / span
    load_cpu = 100 * (children_cpu_seconds() - load_before) / wall
    return Figures(name, figures["ok"], figures["other"], figures["seconds"], figures["p50_ms"],
                   figures["p99_ms"], cpu, figures["socket_errors"], database_cpu, load_cpu)


PROFILE: dict[str, Any] = {"dir": None, "phases": ("submit", "assign"), "label": "sqlite"}
IDLE = ("Condition.wait (", "EpollSelector.select (", "Lock.acquire (", "FifoLock.acquire (")
"""Top frames of a thread that waits: for work, for events, or in the writers' line (``service.db.FifoLock``)."""
PY_SPY = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def profile_summary(path: Path, top: int = 25) -> None:
    """The functions most present in py-spy's samples (``--format raw``: one collapsed stack a line, then its
    count): inclusive share (the function anywhere on the stack) and own share (on top)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # One entry per function (py-spy names a frame "function (file:line)": the line is dropped).
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        if frames[-1].startswith(IDLE):
            continue  # a thread waiting for work, or the event loop waiting for events
        total += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    print(f"\n-- profile {path.name}: {total} samples of active threads; inclusive % (own %) --")
    shown = 0
    for frame, count in sorted(inclusive.items(), key=lambda item: -item[1]):
        if "/site-packages/" in frame and not any(k in frame for k in ("sqlalchemy", "pydantic", "jose",
                                                                      "psycopg", "sqlite")):
            continue
        print(f"{100 * count / total:5.1f} ({100 * own.get(frame, 0) / total:4.1f})  {frame[:150]}")
        shown += 1
        if shown >= top:
            break
    print(f"-- own % (on top of the stack), the first {top} --")
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        print(f"{100 * count / total:5.1f}  {frame[:150]}")


def saved_codes(prefix: Path) -> list[str]:
    codes: list[str] = []
    for file in sorted(prefix.parent.glob(prefix.name + "*.txt")):
        codes += [line for line in file.read_text().splitlines() if line]
        file.unlink()
    return codes


def hot_path(server: Served, args: argparse.Namespace, tmp: Path, *, full: bool) -> list[Figures]:
    """The phases of the module docstring on one served database (``full``: every action; else health, submit and
    assign), each action phase between two ``/health`` phases (the machine is shared: the ratio of a phase is
    taken to the health runs on either side of it)."""
    tokens = build_world(server.base)
    common = {"seconds": args.seconds, "connections": args.connections, "tmp": tmp}
    health = {**common, "seconds": args.health_seconds}
    # Warm-up: the first requests of each kind pay for imports and caches.
    run_wrk(server, "warm-health", seconds=2, connections=args.connections, tmp=tmp)
    run_wrk(server, "warm-submit", method="POST", path="/api/v1/dossiers", body=SUBMISSION,
            bearer=tokens["receiver"], seconds=3, connections=args.connections, tmp=tmp)
    out = [run_wrk(server, "health", **health)]
    lodged = tmp / "lodged-"
    out.append(run_wrk(server, "submit", method="POST", path="/api/v1/dossiers", body=SUBMISSION,
                       bearer=tokens["receiver"], save=lodged, **common))
    out.append(run_wrk(server, "health", **health))
    codes = saved_codes(lodged)

    def action(name: str, role: str, payload: dict[str, Any], pool: list[str], *, shown: bool = True) -> list[str]:
        done = tmp / f"{name}-"
        out.append(run_wrk(server, name, method="POST", path=f"/api/v1/dossiers/{{code}}/actions/{name}",
                           body=payload, bearer=tokens[role], codes=pool, save=done, **common))
        if shown:
            out.append(run_wrk(server, "health", **health))
        return saved_codes(done)

    assigned = action("assign", "receiver", {"assignee": "chuyenvien"}, codes)
    if full:
        asked = action("request_supplement", "processor",
                       {"reason": "Thiếu bản sao giấy chứng sinh", "missing_documents": ["TP01"]}, assigned)
        supplemented = action("supplement", "receiver", {}, asked)
        approved = action("approve", "approver", {}, supplemented[: args.approvals])
        action("return_result", "receiver", {}, approved)
    return out


# ------------------------------------------------------------------------------------------- report


def table(title: str, rows: list[Figures], *, database: bool = False) -> None:
    """``database``: a column with the CPU % of PostgreSQL's processes (the machine's cores are shared)."""
    print(f"\n== {title} ==")
    print(f"{'endpoint':20s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'÷ health':>9s} {'n':>6s} {'non-2xx':>8s}"
          + "  wrk CPU %" + ("  PG CPU %" if database else "") + "  CPU % per server process")
    for i, r in enumerate(rows):
        if r.name == "health":
            ratio = ""
        else:
            around = [h.rate for h in (rows[i - 1], rows[i + 1] if i + 1 < len(rows) else rows[i - 1])
                      if h.name == "health"]
            ratio = f"{r.rate / (sum(around) / len(around)):9.2f}"
        cpu = " ".join(f"{c:5.0f}" for c in r.cpu)
        print(f"{r.name:20s} {r.rate:8.1f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} {ratio:>9s} {r.ok:6d} "
              f"{r.other + r.socket_errors:8d}  {r.load_cpu:9.0f}" + (f"  {r.database_cpu:8.0f}" if database else "")
              + f"  {cpu}")


def rates(rows: list[Figures]) -> dict[str, float]:
    """Requests/s by phase name (health: the mean of its runs)."""
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r.name, []).append(r.rate)
    return {name: sum(values) / len(values) for name, values in out.items()}


def scaling_rounds(args: argparse.Namespace) -> None:
    """``--scaling-rounds``: alternate a 1-worker and a ``--pg-workers`` server, each on a fresh database, and
    print each round's ratios of submit and assign (2 workers ÷ 1) and their median."""
    kinds = ("health", "submit", "assign")
    ratios: dict[str, list[float]] = {name: [] for name in kinds}
    with tempfile.TemporaryDirectory(prefix="bench-hotpath-") as name:
        tmp = Path(name)
        for round_ in range(1, args.scaling_rounds + 1):
            measured: dict[int, dict[str, float]] = {}
            for workers in (1, args.pg_workers):
                fresh_database(args.pg_url)
                with serve(args.pg_url, workers) as server:
                    rows = hot_path(server, args, tmp, full=False)
                table(f"round {round_}, PostgreSQL, {workers} worker{'s' if workers > 1 else ''}", rows,
                      database=True)
                measured[workers] = rates(rows)
            for kind in kinds:
                ratios[kind].append(measured[args.pg_workers][kind] / measured[1][kind])
            print(f"round {round_}: " + ", ".join(f"{kind} {ratios[kind][-1]:.2f}x" for kind in kinds))
    print(f"\n== PostgreSQL, {args.pg_workers} workers ÷ 1 worker, {args.scaling_rounds} interleaved rounds ==")
    for kind in kinds:
        values = " ".join(f"{value:.2f}" for value in ratios[kind])
        print(f"{kind:22s} median {statistics.median(ratios[kind]):5.2f}x   rounds: {values}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="time bound of each measured action phase")
    parser.add_argument("--health-seconds", type=float, default=5, help="length of each /health phase")
    parser.add_argument("--connections", type=int, default=16, help="wrk's keep-alive connections")
    parser.add_argument("--approvals", type=int, default=400,
                        help="dossiers approved (PDF + signature, slow) for the return_result phase")
    parser.add_argument("--pg-url", help="a scratch PostgreSQL database (its public schema is dropped)")
    parser.add_argument("--pg-workers", type=int, default=2, help="workers of the second PostgreSQL server")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--scaling-rounds", type=int, default=0, metavar="N",
                        help="only the PostgreSQL scaling claim: N interleaved rounds of 1 and --pg-workers "
                             "workers (needs --pg-url)")
    parser.add_argument("--source", type=Path, help="serve the code of this checkout instead (the 'before' figures: "
                        "`git archive 6cd18f7 | tar -x -C /tmp/before`)")
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy records the submit and assign phases (raw collapsed stacks into DIR)")
    args = parser.parse_args()
    SOURCE["dir"] = args.source.resolve() if args.source else None
    if args.profile:
        if PY_SPY is None:
            raise SystemExit("py-spy is missing (make install brings it: a dev dependency)")
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        PROFILE["dir"] = args.profile
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make wrk` installs it (Debian's package)")
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; wrk -t 2 -c {args.connections}")
    began = time.monotonic()
    if args.scaling_rounds:
        if not args.pg_url:
            raise SystemExit("--scaling-rounds needs --pg-url")
        scaling_rounds(args)
        print(f"\nload average after: {os.getloadavg()[0]:.2f}; total run time {time.monotonic() - began:.0f} s")
        return
    results: list[tuple[str, list[Figures]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-hotpath-") as name:
        tmp = Path(name)
        if not args.skip_sqlite:
            url = f"sqlite:///{tmp / 'hotpath.db'}"
            fresh_database(url)
            with serve(url) as server:
                results.append(("SQLite, 1 worker", hot_path(server, args, tmp, full=True)))
            table(*results[-1])
        if args.pg_url:
            fresh_database(args.pg_url)
            PROFILE["label"] = "postgresql"
            with serve(args.pg_url) as server:
                results.append(("PostgreSQL, 1 worker", hot_path(server, args, tmp, full=True)))
            table(*results[-1], database=True)
            fresh_database(args.pg_url)
            PROFILE["label"] = f"postgresql-{args.pg_workers}-workers"
            with serve(args.pg_url, args.pg_workers) as server:
                results.append((f"PostgreSQL, {args.pg_workers} workers", hot_path(server, args, tmp, full=False)))
            table(*results[-1], database=True)
            one, many = rates(results[-2][1]), rates(results[-1][1])
            print(f"\n== PostgreSQL, {args.pg_workers} workers ÷ 1 worker ==")
            for name_ in ("health", "submit", "assign"):
                print(f"{name_:22s} {many[name_] / one[name_]:5.2f}x")
    if args.profile:
        for path in sorted(Path(args.profile).glob("*.txt")):
            profile_summary(path)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}; total run time {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()

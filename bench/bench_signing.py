"""Approval latency with digital signing, against a plain lifecycle transition, on the same server in one
run.

Run: ``.venv/bin/python bench/bench_signing.py [--dossiers 40] [--database-url URL]``.

Starts the real app under uvicorn (one worker, a fresh SQLite file unless ``--database-url`` names a scratch
database, migrated with Alembic), builds a commune with a desk, then for every dossier times, through HTTP:

* ``assign`` (received → processing): a plain transition (state change + control-slip row);
* ``approve`` (processing → result_ready): the same plus rendering the result PDF (reportlab, QR code),
  signing it as PAdES with the approver's P-256 key (pyHanko), storing the blob and the result row — one
  transaction.

The two are interleaved dossier by dossier so that load on the (shared) machine hits both alike. The very
first approval, which also creates the root CA, the issuing CA and the approver's certificate, is reported
apart. Prints median / mean / p90 / max of both, and the ratio approve ÷ assign (goal: under 10×).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _server import ADMIN, PASSWORD, app_server, migrate, ok, token

PROVINCE, COMMUNE = "000.00.00.H49", "000.00.61.H49"
PROCEDURE = "1.001193.000.00.00.H49"


def _world(client: httpx.Client) -> dict[str, dict[str, str]]:
    admin = token(client, *ADMIN)
    ok(client.put("/api/v1/sim/clock", json={"now": "2026-03-02T08:00:00+07:00"}, headers=admin))
    for body in ({"code": PROVINCE, "name": "Ủy ban nhân dân tỉnh Quảng Ninh", "level": "province"},
                 {"code": COMMUNE, "name": "Ủy ban nhân dân xã Tiên Yên", "level": "commune",
                  "parent_code": PROVINCE}):
        ok(client.post("/api/v1/agencies", json=body, headers=admin), 201)
    headers = {"admin": admin}
    for role, username, name in (("receiver", "tiepnhan", "Nguyễn Thị Lan"),
                                 ("processor", "chuyenvien", "Trần Văn Minh"),
                                 ("approver", "lanhdao", "Phạm Quốc Hưng")):
        ok(client.post("/api/v1/users", headers=admin, json={
            "username": username, "password": PASSWORD, "full_name": name, "role": role,
            "agency_code": COMMUNE}), 201)
        headers[role] = token(client, username, PASSWORD)
    ok(client.post("/api/v1/procedures", headers=admin, json={
        "code": PROCEDURE, "name": "Đăng ký khai sinh", "agency_code": COMMUNE, "service_level": 4,
        "processing_time": {"value": 3, "unit": "working_days"}, "fee_vnd": 0, "postal_allowed": False,
        "required_documents": [{"code": "TP01", "name": "Tờ khai đăng ký khai sinh", "mandatory": True}],
    }), 201)
    return headers


def _submit(client: httpx.Client, receiver: dict[str, str], n: int) -> list[str]:
    codes = []
    for i in range(n):
        body = {"procedure_code": PROCEDURE, "channel": "counter", "result_delivery": "counter",
                "applicant": {"national_id": f"0220900{i:05d}", "full_name": "Lê Văn Hùng",
                              "phone": "0912345678"},
                "documents": [{"code": "TP01"}]}
        codes.append(ok(client.post("/api/v1/dossiers", json=body, headers=receiver), 201)["code"])
    return codes


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _timed(call: Callable[[], httpx.Response], pid: int, cpu: list[float]) -> float:
    """Wall milliseconds of one request; the server's CPU seconds for it are added to ``cpu[0]``."""
    began, used = time.perf_counter(), _server_cpu(pid)
    ok(call())
    cpu[0] += _server_cpu(pid) - used
    return (time.perf_counter() - began) * 1000


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = statistics.quantiles(ordered, n=10)[-1] if len(ordered) > 1 else ordered[0]
    return (f"median {statistics.median(ordered):7.1f} ms   mean {statistics.fmean(ordered):7.1f} ms   "
            f"p90 {p90:7.1f} ms   max {ordered[-1]:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description="Approval latency with signing vs a plain transition.")
    parser.add_argument("--dossiers", type=int, default=40, help="measured dossiers (after 3 warm-up ones)")
    parser.add_argument("--database-url", help="a scratch database (default: a new SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-signing-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate(url)
        with app_server(url) as server, httpx.Client(base_url=server.base, timeout=60) as client:
            headers = _world(client)
            warm, measured = 3, args.dossiers
            codes = _submit(client, headers["receiver"], warm + measured)

            assign_cpu, approve_cpu, scratch = [0.0], [0.0], [0.0]

            def assign(code: str, cpu: list[float] = scratch) -> float:
                return _timed(lambda: client.post(f"/api/v1/dossiers/{code}/actions/assign",
                                                  json={"assignee": "chuyenvien"},
                                                  headers=headers["receiver"]), server.pid, cpu)

            def approve(code: str, cpu: list[float] = scratch) -> float:
                return _timed(lambda: client.post(f"/api/v1/dossiers/{code}/actions/approve", json={},
                                                  headers=headers["approver"]), server.pid, cpu)

            for code in codes[:warm]:
                assign(code)
            first_approval = approve(codes[0])  # creates root CA, issuing CA, approver certificate
            for code in codes[1:warm]:
                approve(code)
            assigns, approves = [], []
            for code in codes[warm:]:
                assigns.append(assign(code, assign_cpu))
                approves.append(approve(code, approve_cpu))

            result = client.get(f"/api/v1/dossiers/{codes[-1]}/result/document",
                                headers=headers["approver"])
            check = ok(client.post("/api/v1/signatures/verify",
                                    files={"file": ("kq.pdf", result.content, "application/pdf")}))

    backend = url.split(":", 1)[0]
    print(f"server: uvicorn, 1 worker, {backend}; {measured} dossiers measured after {warm} warm-up ones")
    print(f"first approval (creates root CA + issuing CA + approver certificate): {first_approval:7.1f} ms")
    print(f"assign  (plain transition):              {_summary(assigns)}")
    print(f"approve (render + PAdES sign + store):   {_summary(approves)}")
    ratio_median = statistics.median(approves) / statistics.median(assigns)
    ratio_mean = statistics.fmean(approves) / statistics.fmean(assigns)
    print(f"ratio approve / assign: {ratio_median:.1f}x (medians), {ratio_mean:.1f}x (means); goal < 10x")
    if assign_cpu[0] > 0:
        print(f"server CPU per request: assign {assign_cpu[0] / measured * 1000:.1f} ms, approve "
              f"{approve_cpu[0] / measured * 1000:.1f} ms; ratio {approve_cpu[0] / assign_cpu[0]:.1f}x "
              "(CPU time ignores waiting for a core on a shared machine; 10 ms tick granularity)")
    print(f"last result ({len(result.content):,} bytes) verifies: valid={check['valid']} "
          f"signer={check['signer']!r} signed_at={check['signed_at']}")


if __name__ == "__main__":
    main()

"""``motcua serve --workers 2``: each worker listens on its own ``SO_REUSEPORT`` socket, so kept-alive connections
are shared out among the workers (uvicorn's shared socket let one worker take a whole burst), and SIGTERM stops
them all."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.server import reuseport_socket

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with reuseport_socket("127.0.0.1", 0) as sock:
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def established_sockets(port: int) -> set[str]:
    """Inodes of the server side of the established TCP connections on ``port`` (``/proc/net/tcp``)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def owned(pid: int, inodes: set[str]) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_two_workers_share_the_connections_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MOTCUA_ENV": "dev", "MOTCUA_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
           "MOTCUA_SECRET_KEY": secrets.token_urlsafe(48), "MOTCUA_WORKER": "false", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) for _ in range(16)]
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline:  # both workers up: every one of 16 fresh connections is answered
            try:
                workers = [pid for pid in children(server.pid) if Path(f"/proc/{pid}/cmdline").read_bytes()
                           .find(b"multiprocessing") >= 0 and b"resource_tracker" not in
                           Path(f"/proc/{pid}/cmdline").read_bytes()]
                if len(workers) == 2 and all(
                        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
                        for _ in range(16)):
                    break
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.3)
        time.sleep(1)
        for client in clients:  # 16 kept-alive connections
            assert client.get("/health").status_code == 200
        inodes = established_sockets(port)
        shares = [owned(pid, inodes) for pid in workers]
        assert sum(shares) == 16 and min(shares) >= 1, shares  # all on one worker: (1/2)^15 by chance
    finally:
        for client in clients:
            client.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_workers_connections_send_each_answer_at_once() -> None:
    """Accepted connections have Nagle's algorithm off (TCP_NODELAY), as uvicorn's own socket gives them: with it
    on, a response written in two parts waited for the client's delayed ACK, 40 ms or more per answer."""
    import asyncio
    import socket

    async def accepted_nodelay() -> int:
        flags: list[int] = []

        async def on_connection(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            flags.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connection, sock=reuseport_socket("127.0.0.1", 0))
        async with server:
            _reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
            while not flags:
                await asyncio.sleep(0.01)
            writer.close()
        return flags[0]

    assert asyncio.run(accepted_nodelay()) != 0

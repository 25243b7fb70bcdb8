"""How the service is served: ``motcua serve`` (``make run`` and the container use it).

uvicorn's defaults are tuned for convenience, not for a hostile network; these are not:

- ``proxy_headers`` off: uvicorn would otherwise rewrite the client address from ``X-Forwarded-For`` for any
  connection from 127.0.0.1, so a client on the same host bypassed every per-address limit by rotating the
  header. The application decides whom to believe (``MOTCUA_TRUSTED_PROXIES``, see
  ``service.security.clientaddress``).
- A request head must arrive whole within :data:`HEADER_TIMEOUT_SECONDS` of the connection opening (or of the
  previous response): a client that sends half a header and stops used to hold its connection forever.
- Idle keep-alive connections close after :data:`KEEP_ALIVE_SECONDS`; a request head larger than
  :data:`MAX_HEAD_BYTES` is refused by h11 (400).

Several workers (``motcua serve --workers N``) each listen on a socket of their own bound with ``SO_REUSEPORT``,
so the kernel shares out *connections* among them (by a hash of each connection's addresses). uvicorn's own
multi-process mode shares one listening socket, and the worker that wakes first accepts: under keep-alive one
worker could take every connection of a burst while the other sat idle. The parent only starts the workers,
restarts one that dies, and passes SIGTERM / SIGINT on (each worker then shuts down gracefully).

Each serving process caps glibc's malloc arenas at :data:`MALLOC_ARENAS` (unless ``MALLOC_ARENA_MAX`` is set):
by default every thread that allocates may get an arena of its own (up to 8 per core), and the request
handlers run on anyio's 40 threads, so freed memory sat in arenas other threads could not reuse and a worker's
resident set kept growing under load (``bench/bench_memory.py``).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import socket
import time
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
MAX_HEAD_BYTES = 16 * 1024
GRACEFUL_SHUTDOWN_SECONDS = 15
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head does not complete in time."""

    header_timeout: float = HEADER_TIMEOUT_SECONDS
    _head_timer: asyncio.TimerHandle | None = None

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection whose request head did not arrive in %.0f s",
                             self.header_timeout)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is complete: the request is being served
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)


def server_options() -> dict[str, object]:
    """The uvicorn options every way of serving the app uses."""
    return {
        "proxy_headers": False,
        "server_header": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "http": HeadTimeoutH11Protocol,
    }


def limit_malloc_arenas() -> None:
    """At most :data:`MALLOC_ARENAS` malloc arenas in this process (glibc only; ``MALLOC_ARENA_MAX`` wins)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    libc = ctypes.util.find_library("c")
    if libc is None:
        return
    mallopt = getattr(ctypes.CDLL(libc), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def serve(*, host: str, port: int, workers: int) -> None:
    limit_malloc_arenas()
    if workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        serve_reuseport(host=host, port=port, workers=workers)
        return
    uvicorn.run("service.main:app", host=host, port=port, workers=workers, **server_options())  # type: ignore[arg-type]


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that other sockets with ``SO_REUSEPORT`` may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol named, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose ``proto`` is
    # IPPROTO_TCP. With 0, Nagle held back each response's last segment until the client's delayed ACK: every
    # answer of a worker took 40 ms or more (a two-worker `/health` at 350 req/s with its CPU idle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)  # uvicorn's backlog
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int) -> None:
    limit_malloc_arenas()
    sock = reuseport_socket(host, port)
    config = uvicorn.Config("service.main:app", **server_options())  # type: ignore[arg-type]
    uvicorn.Server(config).run(sockets=[sock])


def serve_reuseport(*, host: str, port: int, workers: int) -> None:
    """``workers`` processes, each serving on its own ``SO_REUSEPORT`` socket (see the module docstring)."""
    # Bind once here first: a port already taken fails now, in the foreground, with the usual error.
    reuseport_socket(host, port).close()
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> Any:
        process = spawn.Process(target=_worker, args=(host, port), daemon=False)
        process.start()
        return process

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes = [start() for _ in range(workers)]
    while not stopping:
        time.sleep(0.5)
        for i, process in enumerate(processes):
            if not stopping and not process.is_alive():
                processes[i] = start()
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn shuts the worker down gracefully
    for process in processes:
        process.join(GRACEFUL_SHUTDOWN_SECONDS + 5)
        if process.is_alive():
            process.kill()

"""Local servers the event tests talk to: a webhook receiver that can fail, hang and recover, and a free port."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A free loopback port: from ``MOTCUA_TEST_PORT_RANGE`` (e.g. ``8150-8159``) when set, else the kernel's."""
    wanted = os.environ.get("MOTCUA_TEST_PORT_RANGE")
    candidates = range(int(wanted.split("-")[0]), int(wanted.split("-")[1]) + 1) if wanted else [0]
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError(f"no free port in {wanted}")


@dataclass
class Arrival:
    event: dict[str, Any]
    signature_ok: bool
    content_type: str
    answered: int | None


@dataclass
class Receiver:
    """Answers each POST as ``behaviour(n)`` says for the n-th request (from 1): ``"ok"`` (204), ``"fail"`` (500),
    ``"hang"`` (sleeps ``hang_seconds`` first, then 204 — too late for the sender)."""

    secret: str
    behaviour: Callable[[int], str] = lambda n: "ok"
    hang_seconds: float = 2.0
    arrivals: list[Arrival] = field(default_factory=list)
    count: int = 0
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        """The events answered with a 2xx in time, in arrival order."""
        with self.lock:
            return [a.event for a in self.arrivals if a.answered == 204]


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
            with receiver.lock:
                receiver.count += 1
                n = receiver.count
            what = receiver.behaviour(n)
            arrival = Arrival(json.loads(body), hmac.compare_digest(expected, self.headers.get(
                "X-Motcua-Signature", "")), self.headers.get("Content-Type", ""), None)
            if what == "hang":
                time.sleep(receiver.hang_seconds)
            status = 500 if what == "fail" else 204
            if what != "hang":
                arrival.answered = status
            with receiver.lock:
                receiver.arrivals.append(arrival)
            try:
                self.send_response(status)
                self.end_headers()
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def wait_until(condition: Callable[[], Any], *, seconds: float = 30, every: float = 0.05) -> Any:
    """Poll ``condition`` until it is truthy (and return it) or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {seconds} s")
        time.sleep(every)

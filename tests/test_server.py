"""The served application (``service.server``), on a real socket: what the in-process client cannot show."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from service import server
from service.main import create_app
from tests.conftest import empty_tables, make_settings


class Served:
    def __init__(self, app: FastAPI) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", **server.server_options())  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> FastAPI:
    empty_tables(database_url)
    application = create_app(make_settings(database_url, tmp_path, public_rate_limit=5))

    @application.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("boom")

    return application


def test_x_forwarded_for_from_an_untrusted_peer_does_not_buy_a_fresh_limit(app: FastAPI) -> None:
    """uvicorn believes ``X-Forwarded-For`` from 127.0.0.1 by default: rotating it bypassed the lookup limit."""
    with Served(app) as served, httpx.Client(base_url=served.url) as http:
        statuses = [http.get("/api/v1/public/dossiers/X", params={"secret": "s"},
                             headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(8)]
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429] * 3


def test_a_request_head_that_never_finishes_is_closed(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.HeadTimeoutH11Protocol, "header_timeout", 0.5)
    with Served(app) as served, socket.create_connection(("127.0.0.1", served.port), timeout=5) as raw:
        raw.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        assert raw.recv(1024) == b""  # the server closed the connection
        assert time.monotonic() - started < 4


def test_a_kept_alive_connection_serves_many_requests(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.HeadTimeoutH11Protocol, "header_timeout", 0.5)
    with Served(app) as served, httpx.Client(base_url=served.url) as http:
        for _ in range(3):
            assert http.get("/health").status_code == 200
            time.sleep(0.7)  # longer than the head timeout, shorter than keep-alive: idle is not slow


def test_after_an_unexpected_error_the_connection_answers_cleanly_and_stays_usable(app: FastAPI) -> None:
    with Served(app) as served, socket.create_connection(("127.0.0.1", served.port), timeout=5) as raw:
        raw.sendall(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        deadline = time.monotonic() + 5
        while b'{"status":"ok"}' not in received and time.monotonic() < deadline:
            chunk = raw.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 500 ")
    assert b"INTERNAL_ERROR" in received
    assert b"HTTP/1.1 200 " in received and b'{"status":"ok"}' in received

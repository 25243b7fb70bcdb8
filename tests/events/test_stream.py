"""``GET /events/stream``: Server-Sent Events from a real server, fed by another app instance through the
database, resumed with ``Last-Event-ID``, with heart-beats while nothing happens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tests.builders import World, build_world
from tests.events.receivers import free_port, wait_until


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[str, FastAPI]]:
    """Another app instance on the same database (and token key) as ``client``, served for real."""
    app = create_app(settings.model_copy(update={"sse_heartbeat_seconds": 0.3, "worker_poll_seconds": 0.05}))
    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    wait_until(lambda: instance.started, seconds=10)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        instance.should_exit = True
        thread.join(10)


@pytest.fixture
def server(served: tuple[str, FastAPI]) -> str:
    return served[0]


class Listener:
    """Reads a stream in the background: ``messages`` are ``{"id","event","data"}``, ``comments`` the rest."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.messages: list[dict[str, str]] = []
        self.comments: list[str] = []
        self.content_type = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        with httpx.stream("GET", url, headers=headers, timeout=30) as response:
            self.content_type = response.headers["content-type"]
            message: dict[str, str] = {}
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.comments.append(line)
                elif line == "":
                    if "data" in message:
                        self.messages.append(message)
                    message = {}
                else:
                    field, _, value = line.partition(": ")
                    message[field] = value

    def close(self) -> None:
        self._stop.set()


def test_the_stream_delivers_events_written_by_another_process_and_resumes(
        server: str, client: TestClient) -> None:
    world: World = build_world(client)
    token = world.as_("receiver")
    code = world.submit()["code"]
    first = Listener(f"{server}/api/v1/events/stream", token)
    try:
        wait_until(lambda: len(first.messages) == 2, seconds=10)
        world.act(code, "assign", "receiver", {"assignee": "chuyenvien"})
        wait_until(lambda: len(first.messages) == 3, seconds=10)
        wait_until(lambda: first.comments and any("heart-beat" in c for c in first.comments), seconds=10)
    finally:
        first.close()
    assert first.content_type.startswith("text/event-stream")
    assert [m["event"] for m in first.messages] == ["motcua.dossier.submit", "motcua.dossier.receive",
                                                    "motcua.dossier.assign"]
    feed = client.get("/api/v1/events", headers=token).json()["items"]
    assert [json.loads(m["data"]) for m in first.messages] == feed
    resume_from = first.messages[1]["id"]
    second = Listener(f"{server}/api/v1/events/stream", {**token, "Last-Event-ID": resume_from})
    try:
        wait_until(lambda: second.messages, seconds=10)
        time.sleep(0.3)
    finally:
        second.close()
    assert [m["event"] for m in second.messages] == ["motcua.dossier.assign"]
    other_agency = Listener(f"{server}/api/v1/events/stream", world.as_("receiver.ql"))
    try:
        wait_until(lambda: other_agency.comments and len(other_agency.comments) > 1, seconds=10)
    finally:
        other_agency.close()
    assert other_agency.messages == []


def test_the_stream_needs_a_token_and_a_valid_cursor(server: str, client: TestClient) -> None:
    world = build_world(client)
    assert httpx.get(f"{server}/api/v1/events/stream", timeout=10).status_code == 401
    response: Any = httpx.get(f"{server}/api/v1/events/stream", timeout=10,
                              headers={**world.as_("admin"), "Last-Event-ID": "forged"})
    assert response.status_code == 422 and response.json()["code"] == "INVALID_CURSOR"


def test_idle_streams_share_one_reader_and_see_only_what_they_may(served: tuple[str, FastAPI],
                                                                  client: TestClient) -> None:
    """Twenty idle streams of another agency add no database reads: one reader per process fans events out,
    each stream keeping what its reader may see (the busy desk all of its agency's, a citizen only their own
    dossiers', the other agency nothing)."""
    server, app = served
    world = build_world(client)
    idle = [Listener(f"{server}/api/v1/events/stream", world.as_("receiver.ql")) for _ in range(20)]
    desk = Listener(f"{server}/api/v1/events/stream", world.as_("receiver"))
    citizen = Listener(f"{server}/api/v1/events/stream", world.as_("citizen"))
    streams = [*idle, desk, citizen]
    try:
        wait_until(lambda: all(s.content_type for s in streams), seconds=60)
        live = app.state.context.extras["live_feed"]
        reads_before, began = live.reads, time.monotonic()
        stranger = {"national_id": "001099012345", "full_name": "Trần Văn Nam"}
        codes = [world.submit(applicant=stranger)["code"] for _ in range(3)]
        mine = world.submit("citizen", channel="online")["code"]
        wait_until(lambda: len(desk.messages) == 3 * 2 + 1 and citizen.messages, seconds=30)
        time.sleep(0.5)
        polls = (time.monotonic() - began) / 0.05
        reads = live.reads - reads_before
    finally:
        for stream in streams:
            stream.close()
    assert reads <= polls + 5, (reads, polls)  # one reader, not one per stream (22 streams would be ~22×)
    assert {json.loads(m["data"])["subject"] for m in desk.messages} == {*codes, mine}
    assert [json.loads(m["data"])["subject"] for m in citizen.messages] == [mine]
    assert all(s.messages == [] for s in idle)
    ids = [m["id"] for m in desk.messages]
    assert len(set(ids)) == len(ids)

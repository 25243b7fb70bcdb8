"""A serving process takes its start-up heap out of the garbage collector's view (``service.runtime``), so a full
collection no longer stalls every request in flight for the time it takes to walk every module, route and
model of the app."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.conftest import make_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the app's objects become collectable again once the test is done with it


def test_a_served_app_freezes_what_start_up_built(database_url: str, tmp_path: Path, unfrozen: None) -> None:
    settings = make_settings(database_url, tmp_path, freeze_startup_heap=True)
    with TestClient(create_app(settings)) as client:
        frozen = gc.get_freeze_count()
        tracked = len(gc.get_objects())
        assert client.get("/health").status_code == 200
    # Everything the process had built by then, not a handful: the routes, schemas and mappers.
    assert frozen > 50_000
    assert tracked < frozen


def test_the_test_suites_apps_stay_collectable(database_url: str, tmp_path: Path, unfrozen: None) -> None:
    with TestClient(create_app(make_settings(database_url, tmp_path))) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() == 0

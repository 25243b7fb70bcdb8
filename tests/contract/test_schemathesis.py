"""Schemathesis over the whole OpenAPI document, in-process, as an admin and as a citizen: no 5xx, and every
response matches its documented status code, content type and schema."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service.context import AppContext
from service.main import create_app
from service.settings import Settings
from tests.builders import build_world
from tests.conftest import empty_tables, make_settings

warnings.filterwarnings("ignore", message=".*httpx2.*")


# The schema is read at import time, before the test database exists: the app is built with a placeholder
# context that the fixture below swaps for the real one (handlers read ``app.state.context`` per request).
app = create_app(Settings(env="test", secret_key="s" * 40, simulation=True, database_url="sqlite://",
                          worker=False))
app.openapi()  # built once here: schemathesis fetches it with a 10-second timeout, which a loaded machine can miss
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
WORLD_NOW = "2026-03-02T08:00:00+07:00"


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict]]:
    empty_tables(database_url)
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    # Keep the login rate limit out of the way: Schemathesis hammers /auth/token with random credentials.
    settings = make_settings(database_url, tmp, login_failure_limit=10**6, public_rate_limit=10**6)
    app.state.context = AppContext.from_settings(settings)
    with TestClient(app) as client:
        world = build_world(client, now=WORLD_NOW)
        world.submit()
        world.submit(who="citizen", channel="online", applicant=None)
        yield app, world.headers


EXAMPLES = int(os.environ.get("MOTCUA_SCHEMATHESIS_EXAMPLES", "10"))
"""Examples per operation and role: small in CI; a deeper run sets e.g. ``MOTCUA_SCHEMATHESIS_EXAMPLES=200``."""

# One pytest item per operation and role, each with its own id, so pytest (and pytest-xdist) counts and
# reports every one; ``schema.parametrize()`` gave every item the same id and xdist kept only one per test.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
CLOCK_PATH = "/api/v1/sim/clock"


def _call(case: schemathesis.Case, headers: dict[str, str], admin: dict[str, str]) -> None:
    # Business rules (MISSING_DOCUMENTS, AGENCY_REQUIRED, …) rightly refuse some schema-valid bodies with a 422,
    # so the "schema-valid data must be accepted" check does not apply; every other default check runs.
    try:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
    finally:
        if case.operation.path == CLOCK_PATH and case.method == "PUT":
            # The clock may move anywhere in the calendar's years; put it back so each example sees the same world.
            TestClient(app).put(CLOCK_PATH, json={"now": WORLD_NOW}, headers=admin)


@pytest.mark.parametrize("role", ["admin", "citizen"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_api(operation: Any, role: str, world: tuple[FastAPI, dict]) -> None:
    headers = world[1][role]

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def examples(case: schemathesis.Case) -> None:
        _call(case, headers, world[1]["admin"])

    examples()


STEPS = int(os.environ.get("MOTCUA_SCHEMATHESIS_STEPS", "10"))


@pytest.mark.parametrize("role", ["receiver", "citizen"])
def test_dossier_workflows(role: str, world: tuple[FastAPI, dict]) -> None:
    """The stateful phase: sequences that follow the OpenAPI links from a lodged dossier to its actions, its
    history and the history's verification (so a transition is fuzzed on a dossier that really exists)."""
    headers, admin = world[1][role], world[1]["admin"]
    followed: list[str] = []

    class DossierWorkflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            if case.operation.path.startswith("/api/v1/dossiers/{code}"):
                followed.append(case.operation.path)
            return {"headers": headers}

        def validate_response(self, response: Any, case: schemathesis.Case, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            try:
                case.validate_response(response, excluded_checks=[positive_data_acceptance])
            finally:
                if case.operation.path == CLOCK_PATH and case.method == "PUT":
                    TestClient(app).put(CLOCK_PATH, json={"now": WORLD_NOW}, headers=admin)

    DossierWorkflow.run(settings=settings(max_examples=STEPS, stateful_step_count=6, deadline=None,
                                          suppress_health_check=list(HealthCheck), database=None))
    assert followed, "no sequence followed a link from a lodged dossier"

"""The TypeScript client generated from openapi/openapi.json (clients/typescript), run against a served copy.

``make test`` runs ``make client-ts`` first: ``npm ci`` with the committed lock file, the pinned
openapi-typescript generator, and ``tsc --noEmit``. Here the flow script is compiled and run: a citizen
registers, lodges online and looks the dossier up; an officer receives and assigns it through the typed
per-action paths.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.builders import PASSWORD, World, build_world
from tests.conftest import ROOT

CLIENT = ROOT / "clients" / "typescript"
SCHEMA = CLIENT / "generated" / "schema.d.ts"


@pytest.fixture(scope="module")
def generated() -> str:
    if shutil.which("node") is None or not (CLIENT / "node_modules").is_dir() or not SCHEMA.exists():
        pytest.skip("TypeScript client not generated: `make client-ts` (part of `make test`) needs npm")
    return SCHEMA.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def world(served: str, generated: str) -> Iterator[World]:
    with httpx.Client(base_url=served, timeout=30) as client:
        yield build_world(client)  # type: ignore[arg-type]


def _block(text: str, name: str) -> str:
    match = re.search(rf"^    {re.escape(name)}: \{{\n(.*?)^    \}};$", text, re.S | re.M)
    assert match, name
    return match.group(1)


def test_the_generated_action_types_have_no_unknown_or_any(generated: str) -> None:
    actions = re.findall(r'"/api/v1/dossiers/\{code\}/actions/([a-z_]+)"', generated)
    assert len(set(actions)) == 17  # the contract's 15, transfer and return_for_correction
    for action in set(actions):
        operation = _block(generated, f"{action}_dossier")
        request = operation.split("responses:")[0]
        body_schema = re.search(r'components\["schemas"\]\["(\w+In)"\]', request)
        assert body_schema, action
        schema = re.search(rf"^        {body_schema.group(1)}: \{{\n(.*?)^        \}};$", generated, re.S | re.M)
        assert schema, body_schema.group(1)
        for text in (request, schema.group(1)):
            assert not re.search(r"\b(unknown|any)\b", text), (action, text)


def test_a_citizen_and_an_officer_walk_their_flow_with_the_typed_client(world: World, served: str) -> None:
    build = subprocess.run(["npm", "run", "--silent", "build"], cwd=CLIENT, capture_output=True, text=True,
                           timeout=180)
    assert build.returncode == 0, build.stdout + build.stderr
    run = subprocess.run(["node", "dist/src/flow.js", served, "1.001193.000.00.00.H49", "tiepnhan", "chuyenvien",
                          PASSWORD], cwd=CLIENT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["public_status"] == "submitted" and outcome["received_status"] == "received"
    assert outcome["status"] == "processing" and outcome["assignee"] == "chuyenvien"
    assert outcome["due_at"].endswith("+07:00")
    assert outcome["invalid_detail"].startswith("Dữ liệu không hợp lệ: Số định danh cá nhân")
    assert outcome["invalid_loc"] == ["body", "national_id"]

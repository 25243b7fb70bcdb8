"""A served copy of the app (uvicorn in a child process) and Debian's Chromium driven by Playwright.

No browser is downloaded: Playwright launches the system's ``/usr/bin/chromium`` (``make test`` and ``.ci/run``
install the ``chromium`` package with apt-get when it is missing). Screenshots go to ``test-artefacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.served import served_copy
from tests.conftest import ADMIN, ROOT, WEBHOOK_SECRET, empty_tables

CHROMIUM = os.environ.get("MOTCUA_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = ROOT / "test-artefacts" / "screenshots"


def _free_port() -> int:
    """``MOTCUA_E2E_PORT`` plus the xdist worker's number when set (a shared machine's own port range), else a
    port the system picks."""
    wanted = os.environ.get("MOTCUA_E2E_PORT")
    if wanted:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        return int(wanted) + int(worker.removeprefix("gw") or 0)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of the app served by uvicorn on loopback, on the suite's database (emptied first)."""
    empty_tables(database_url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MOTCUA_ENV": "test", "MOTCUA_DATABASE_URL": database_url,
           "MOTCUA_SECRET_KEY": "e2e-secret-key-0123456789abcdefghijklmnop", "MOTCUA_SIMULATION": "true",
           "MOTCUA_ADMIN_USERNAME": ADMIN[0], "MOTCUA_ADMIN_PASSWORD": ADMIN[1],
           "MOTCUA_POSTAL_WEBHOOK_SECRET": WEBHOOK_SECRET, "MOTCUA_CA_KEY_PASSPHRASE": "e2e-ca-passphrase-0123456789",
           "MOTCUA_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")), "MOTCUA_PUBLIC_BASE_URL": base,
           "MOTCUA_PUBLIC_RATE_LIMIT": "1000"}
    with served_copy(env, port, access_log=True, start_seconds=120) as copy:
        yield copy.base


@pytest.fixture(scope="module")
def browser(served: str) -> Iterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (`make test` installs Debian's chromium "
                    "package with apt-get; no package manager was available here)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield launched
        finally:
            launched.close()


def screenshot(page: object, name: str, *, full_page: bool = True) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path

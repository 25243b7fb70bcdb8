"""A browser frontend on another origin may read the headers it needs (issue 18): the file name of a download
(``Content-Disposition``), ``ETag`` for conditional reads, ``Location`` and ``Retry-After``."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.main import create_app
from tests.conftest import make_settings

FRONTEND = "http://localhost:5173"


def test_a_frontend_origin_can_read_the_download_name_and_the_etag(database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(database_url, tmp_path, cors_origins=FRONTEND))
    with TestClient(app) as client:
        answer = client.get("/api/v1/procedures", headers={"Origin": FRONTEND})
        exposed = {h.strip().lower() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
        assert answer.headers["Access-Control-Allow-Origin"] == FRONTEND
        assert {"content-disposition", "etag", "location", "retry-after"} <= exposed
        stranger = client.get("/api/v1/procedures", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in stranger.headers

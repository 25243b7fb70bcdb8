"""service.signing is infrastructure: no web framework, no database, no other service layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIGNING = Path(__file__).resolve().parents[2] / "service" / "signing"
FORBIDDEN = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "httpx",
    "uvicorn",
    "requests",
    "aiohttp",
}


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(SIGNING.glob("*.py")), ids=lambda p: p.name)
def test_signing_module_is_framework_free(path: Path) -> None:
    imported = _imported_modules(path)
    assert not {name.split(".")[0] for name in imported} & FORBIDDEN
    assert not {
        name for name in imported if name.startswith("service.") and not name.startswith("service.signing")
    }

"""The layers hold: service/domain imports only the standard library, ``holidays`` and itself; the application
layer imports nothing of FastAPI or Starlette; routers hold no SQL."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parent.parent / "service" / "domain"
FORBIDDEN = {"fastapi", "starlette", "sqlalchemy", "sqlmodel", "pydantic", "alembic", "httpx", "uvicorn"}
ALLOWED_THIRD_PARTY = {"holidays"}
MODULES = sorted(DOMAIN.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(DOMAIN.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> list[str]:
    parts = _module_name(path).split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def _imports(path: Path) -> list[tuple[int, str]]:
    return _imports_in(path.read_text(encoding="utf-8"), _package_of(path), str(path))


def _imports_in(source: str, package: list[str], filename: str = "<probe>") -> list[tuple[int, str]]:
    """Absolute names of everything ``source`` imports (relative imports resolved, dynamic imports
    included)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _violation(name: str) -> str | None:
    top = name.split(".")[0]
    if top in FORBIDDEN:
        return f"imports {name} (web/database layer)"
    if top == "service":
        if name == "service.domain" or name.startswith("service.domain."):
            return None
        return f"imports {name} (service.* outside service.domain)"
    if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY or top == "__future__":
        return None
    return f"imports {name} (only the standard library and {sorted(ALLOWED_THIRD_PARTY)} are allowed)"


def test_domain_has_modules() -> None:
    names = {p.name for p in MODULES}
    assert {"calendar.py", "deadlines.py", "timeliness.py", "holidays_vn.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_module_is_pure(path: Path) -> None:
    problems = [
        f"{path.relative_to(DOMAIN.parent.parent)}:{line}: {message}"
        for line, name in _imports(path)
        if (message := _violation(name))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import fastapi", True),
        ("from sqlalchemy.orm import Session", True),
        ("from starlette import status", True),
        ("import sqlmodel", True),
        ("from service.models import Dossier", True),
        ("from .. import db", True),
        ("from ..clock import LegalClock", True),
        ("import importlib\nimportlib.import_module('service.db')", True),
        ("__import__('fastapi')", True),
        ("import requests", True),
        ("from . import calendar", False),
        ("from .calendar import VN_TZ", False),
        ("from service.domain.errors import RuleViolation", False),
        ("import holidays\nfrom datetime import date", False),
    ],
)
def test_the_checker_itself(source: str, bad: bool) -> None:
    found = [_violation(name) for _, name in _imports_in(source, ["service", "domain"])]
    assert any(found) is bad


# ---------------------------------------------------------------- the application layer and the routers

SERVICE = DOMAIN.parent
WEB = {"fastapi", "starlette"}
SQL = {"sqlalchemy", "sqlmodel"}
APPLICATION = sorted(
    [*(SERVICE / "dossiers").rglob("*.py"), *(SERVICE / "operations").rglob("*.py"),
     *(SERVICE / "simulation").rglob("*.py"), *(SERVICE / "signing").rglob("*.py"),
     *(SERVICE / name for name in ("bootstrap.py", "bulk.py", "context.py", "errors.py", "validation.py",
                                   "clock.py", "db.py"))]
)
ROUTERS = sorted((SERVICE / "routers").glob("*.py"))
SESSION_CALLS = {"exec", "execute", "scalar", "scalars", "add", "flush", "commit", "delete", "begin_nested"}


def _rel(path: Path) -> str:
    return str(path.relative_to(SERVICE.parent))


@pytest.mark.parametrize("path", APPLICATION, ids=_rel)
def test_application_layer_imports_nothing_of_the_web_framework(path: Path) -> None:
    parts = path.relative_to(SERVICE.parent).with_suffix("").parts
    problems = [f"{_rel(path)}:{line}: imports {name}" for line, name in
                _imports_in(path.read_text(encoding="utf-8"), list(parts[:-1]), str(path))
                if name.split(".")[0] in WEB]
    assert not problems, "\n".join(problems)


def _sql_in_router(source: str, filename: str = "<probe>") -> list[str]:
    """SQL in a router: an import of the database toolkit, or a query or write on a session."""
    problems = [f"{line}: imports {name}" for line, name in _imports_in(source, ["service", "routers"], filename)
                if name.split(".")[0] in SQL]
    for node in ast.walk(ast.parse(source, filename=filename)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SESSION_CALLS
                and isinstance(node.func.value, ast.Name) and "session" in node.func.value.id):
            problems.append(f"{node.lineno}: {node.func.value.id}.{node.func.attr}(…)")
    return problems


@pytest.mark.parametrize("path", ROUTERS, ids=_rel)
def test_routers_hold_no_sql(path: Path) -> None:
    problems = _sql_in_router(path.read_text(encoding="utf-8"), str(path))
    assert not problems, "\n".join(f"{_rel(path)}:{p}" for p in problems)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from sqlmodel import select", True),
        ("import sqlalchemy as sa", True),
        ("def f(session):\n    return session.exec(q)", True),
        ("def f(write_session):\n    write_session.add(row)", True),
        ("from service.operations import accounts\ndef f(session):\n    return accounts.get_agency(session, 'x')",
         False),
        ("def f(params):\n    return params.get('x')", False),
    ],
)
def test_the_router_checker_itself(source: str, bad: bool) -> None:
    assert bool(_sql_in_router(source)) is bad

"""The OpenAPI document: every error is documented as ``application/problem+json`` with the Problem schema."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.schemas.common import Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
ERROR_DESCRIPTIONS = {
    "400": "Malformed request body",
    "401": "Missing or invalid token",
    "403": "Role may not do this (FORBIDDEN_ROLE)",
    "404": "Not found, or not yours",
    "409": "State conflict",
    "412": "Version mismatch (If-Match)",
    "413": "Payload too large",
    "415": "Unsupported media type",
    "422": "Invalid input",
    "429": "Rate limited",
    "500": "Unexpected error (no details; see X-Request-ID)",
    "503": "Database unavailable",
}


def _problem(code: str) -> dict[str, Any]:
    return {"description": ERROR_DESCRIPTIONS.get(code, "Error"),
            "content": {"application/problem+json": {"schema": PROBLEM_REF}}}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, summary=app.summary,
                           description=app.description, routes=app.routes)
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path_item in spec.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                codes = {"404", "422", "500"}
                if "requestBody" in operation:
                    codes.add("400")
                if operation.get("security"):
                    codes |= {"401", "403"}
                codes |= {c for c in responses if c[:1] in "45"}
                for code in codes:
                    responses[code] = _problem(code)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]

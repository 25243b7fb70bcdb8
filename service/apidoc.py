"""The OpenAPI document: every error is documented as ``application/problem+json`` with the Problem schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from service import api_examples
from service.deps import needs_user, oauth2_scheme
from service.schemas.actions import ACTION_BODIES
from service.schemas.common import Problem
from service.schemas.dossiers import ActionIn, RatingIn

API_DESCRIPTION = """
Một Cửa simulates Vietnam's one-stop-shop (cơ chế một cửa, Decree 61/2018/NĐ-CP): citizens lodge **dossiers**
(hồ sơ) for **procedures** (thủ tục hành chính) online, at the desk or by post; the desk receives them and promises
a due date in working time; officers process them; a leader approves and signs the result; the result goes back.

## Auth flow
1. `POST /api/v1/auth/token` (OAuth2 password form) or `POST /api/v1/auth/login` (JSON `{"username","password"}`)
   → `{"access_token","token_type":"bearer","expires_in","refresh_token","refresh_expires_in"}`. Failed attempts
   are limited per username (429 with `Retry-After`).
2. Send `Authorization: Bearer <access_token>` on every call that needs a user.
3. Before it expires, `POST /api/v1/auth/refresh` `{"refresh_token"}` → a new pair. Each refresh token works
   once; replaying a spent one revokes every token of that sign-in.
4. `POST /api/v1/auth/password` changes the password and revokes all refresh tokens.

Citizens register with `POST /api/v1/auth/register`; staff accounts are created by an admin.

## Conventions
- Every datetime is ISO 8601 with the `+07:00` offset (legal time, Asia/Ho_Chi_Minh); a request datetime
  without an offset is a 422.
- Errors are `application/problem+json` with a stable `code`; validation errors add `errors[]` of
  `{"loc","msg","type"}`. `detail` and `msg` are Vietnamese, English with `Accept-Language: en`.
- Checks run in this order: token (401), visibility (404 — also for what is not yours), role (403), state (409),
  version (412, `If-Match: "<version>"`), body (422).
- `ETag` on dossier and list reads; `If-None-Match` gives 304. `Idempotency-Key` makes a submission or an
  action safe to retry.
- Lists are keyset-paginated: pass `next_cursor` back as `cursor`.

## Glossary
| term | meaning |
| --- | --- |
| dossier (hồ sơ) | one application for one procedure; its `code` is `<agency>-YYMMDD-NNNN` |
| procedure (thủ tục hành chính) | what can be applied for; `service_level` 2–4 says what is online |
| receiver (cán bộ tiếp nhận) | the one-stop desk officer: receives dossiers, returns results |
| processor (chuyên viên) | handles the dossier, asks for papers or fees |
| approver (lãnh đạo) | approves (signs) or refuses, extends the due date once |
| control slip (phiếu kiểm soát) | the hash-chained history of a dossier: `GET /dossiers/{code}/history` |
| tracking secret (mã tra cứu) | returned once at submission; with the code it opens the public lookup |
| supplement (bổ sung) | papers asked for after receipt; the clock stops meanwhile |
| timeliness | `early`, `on_time` or `late`, set when the dossier is finished |
| national status code | the status number exchanged with the National Public Service Portal |
"""

# Summaries people read in Swagger UI, ReDoc and generated clients (FastAPI would title-case the function name,
# e.g. "Processing Csv"), and descriptions for the operations whose handler has no docstring.
OPERATION_DOCS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("get", "/health"): ("Health check", "`{\"status\":\"ok\"}` when the database answers; no token needed."),
    ("get", "/api/v1/agencies"): ("List agencies", None),
    ("post", "/api/v1/agencies"): ("Create an agency (admin)", "`code` is an electronic agency identifier "
                                   "(Decision 20/2020/QĐ-TTg); 409 `AGENCY_EXISTS`, 404 for an unknown parent."),
    ("get", "/api/v1/agencies/{code}"): ("Get an agency", "One agency by its code; 404 `AGENCY_NOT_FOUND`."),
    ("get", "/api/v1/users"): ("List users (admin)", "Every account, staff and citizens."),
    ("post", "/api/v1/users"): ("Create a user (admin)", "Staff roles need an `agency_code`; 409 `USER_EXISTS`."),
    ("post", "/api/v1/users/{username}/certificate/revoke"): ("Revoke an officer's signing certificate", None),
    ("get", "/api/v1/calendar/days"): ("List calendar days", None),
    ("get", "/api/v1/calendar/due-date"): ("Compute a due date", None),
    ("get", "/api/v1/calendar/overrides"): ("List calendar overrides", None),
    ("put", "/api/v1/calendar/overrides/{day}"): ("Set a calendar override (admin)", None),
    ("delete", "/api/v1/calendar/overrides/{day}"): ("Remove a calendar override (admin)",
                                                     "The built-in calendar applies to that day again."),
    ("get", "/api/v1/procedures"): ("Search procedures", "The public catalogue (procedures are public by law), "
                                    "filtered by `service_level`, `agency_code` and a text `q`."),
    ("post", "/api/v1/procedures"): ("Create a procedure (admin)", "Version 1 of a procedure; 409 when the code "
                                     "exists (publish a new version with PUT)."),
    ("get", "/api/v1/procedures/{code}"): ("Get a procedure", "The version in force."),
    ("put", "/api/v1/procedures/{code}"): ("Publish a new procedure version (admin)", None),
    ("get", "/api/v1/dossiers"): ("List dossiers", None),
    ("post", "/api/v1/dossiers"): ("Lodge a dossier", None),
    ("get", "/api/v1/dossiers/{code}"): ("Get a dossier", None),
    ("get", "/api/v1/dossiers/{code}/history"): ("Read the control slip", None),
    ("get", "/api/v1/dossiers/{code}/history/verify"): ("Verify the control slip's hash chain",
                                                        "`valid` is false when any row was altered."),
    ("put", "/api/v1/dossiers/{code}/documents/{document_code}"): ("Upload a paper", None),
    ("get", "/api/v1/dossiers/{code}/apology-letter"): ("Download the apology letter (Mẫu 04)", None),
    ("get", "/api/v1/dossiers/{code}/rating"): ("Read the applicant's rating", None),
    ("post", "/api/v1/dossiers/{code}/rating"): ("Rate the service (applicant)", None),
    ("get", "/api/v1/dossiers/{code}/receipt"): ("Download the receipt (Mẫu 01)", None),
    ("get", "/api/v1/dossiers/{code}/result"): ("Get the result's record", None),
    ("get", "/api/v1/dossiers/{code}/result/document"): ("Download the signed result", None),
    ("get", "/api/v1/public/dossiers/{code}"): ("Track a dossier (public)", None),
    ("post", "/api/v1/signatures/verify"): ("Verify a signed PDF", None),
    ("get", "/api/v1/pki/certificates"): ("List certificates", None),
    ("post", "/api/v1/pki/certificates/{serial}/revoke"): ("Revoke a certificate (admin)", None),
    ("get", "/api/v1/pki/crl.der"): ("Download the certificate revocation list", None),
    ("get", "/api/v1/pki/root.pem"): ("Download the root certificate", None),
    ("post", "/api/v1/postal/events"): ("Carrier webhook: delivered or failed", None),
    ("get", "/api/v1/sim/clock"): ("Read the simulated clock", "The legal \"now\" every dossier rule uses."),
    ("put", "/api/v1/sim/clock"): ("Set the simulated clock (admin)", None),
    ("get", "/api/v1/stats/processing"): ("Processing report", None),
    ("get", "/api/v1/stats/processing.csv"): ("Processing report as CSV", None),
    ("get", "/api/v1/stats/index"): ("Service index (Decision 766)", None),
    ("get", "/api/v1/stats/postal"): ("Postal delivery statistics", None),
}

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


def _problem(code: str, examples: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": PROBLEM_REF}
    if code in examples:
        media["example"] = examples[code]
    return {"description": ERROR_DESCRIPTIONS.get(code, "Error"), "content": {"application/problem+json": media}}


def _add_example(media: dict[str, Any], examples: dict[str, Any]) -> None:
    """The recorded answer (:mod:`service.api_examples`) of the response's schema, or of its items' schema."""
    schema = media.get("schema", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    item = schema.get("items", {}).get("$ref", "").rsplit("/", 1)[-1] if schema.get("type") == "array" else ""
    if name in examples:
        media["example"] = examples[name]
    elif item in examples:
        recorded = examples[item]
        media["example"] = recorded if isinstance(recorded, list) else [recorded]


def _checks_role(dependant: Dependant) -> bool:
    return bool(getattr(dependant.call, "forbids_other_roles", False)) or any(
        _checks_role(d) for d in dependant.dependencies)


def _header_parameters(operation: dict[str, Any]) -> set[str]:
    return {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}


def error_codes(operation: dict[str, Any], method: str, path: str, role_checked: bool) -> set[str]:
    """The errors an operation can really answer: 500 always; 400 and 422 with a body (422 also with
    parameters); 404 with a path parameter; 401 with a token; 403 with a role check; plus what the route lists,
    except what it cannot answer: 412 (:class:`~service.errors.VersionMismatch`) only comes from an ``If-Match``
    header, and 409 (:class:`~service.errors.Conflict`, a state conflict) only from a write — a read changes
    nothing, so it never conflicts."""
    codes = {"500"} | {c for c in operation.get("responses", {}) if c[:1] in "45"}
    if "if-match" not in _header_parameters(operation):
        codes.discard("412")
    if method == "get":
        codes.discard("409")
    if "requestBody" in operation:
        codes |= {"400", "422"}
    if operation.get("parameters"):
        codes.add("422")
    if "{" in path:
        codes.add("404")
    if operation.get("security"):
        codes.add("401")
        if role_checked:
            codes.add("403")
    return codes


def install_openapi(app: FastAPI, documented_routes: Sequence[BaseRoute] | None = None) -> None:
    """The app's ``openapi.json``, its paths in the order of ``documented_routes`` (default: the order in which
    requests are matched, ``app.routes``)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        documented = list(documented_routes) if documented_routes is not None else app.routes
        # Each operation's dependencies, by (method, path): included routers are walked through FastAPI's route
        # contexts (``app.routes`` holds a router per ``include_router``, not its routes).
        dependants = {(method.lower(), context.path_format): context.dependant
                      for context in iter_route_contexts(documented) if isinstance(context.original_route, APIRoute)
                      for method in context.methods}
        spec = get_openapi(title=app.title, version=app.version, summary=app.summary,
                           description=API_DESCRIPTION.strip(), routes=documented)
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for model in (Problem, ActionIn, RatingIn, *ACTION_BODIES.values()):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        # Authentication is not a dependency FastAPI would find (service.deps.get_current_user reads the header):
        # the scheme and each route that needs a user are declared here.
        scheme = oauth2_scheme.scheme_name
        spec["components"]["securitySchemes"] = {
            scheme: jsonable_encoder(oauth2_scheme.model, by_alias=True, exclude_none=True)}
        recorded = api_examples.load()
        for path, path_item in spec.get("paths", {}).items():
            for method, operation in path_item.items():
                summary, description = OPERATION_DOCS.get((method, path), (None, None))
                if summary:
                    operation["summary"] = summary
                if description and not operation.get("description"):
                    operation["description"] = description
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    if "$ref" in media.get("schema", {}):
                        media["schema"] = {"$ref": media["schema"]["$ref"]}
                responses = operation.setdefault("responses", {})
                for answer in responses.values():  # a file route (CSV, PDF): FastAPI also lists an empty JSON body
                    content = answer.get("content", {})
                    if len(content) > 1 and content.get("application/json", {}).get("schema") == {}:
                        del content["application/json"]
                    if "application/json" in content:
                        _add_example(content["application/json"], recorded["schemas"])
                dependant = dependants.get((method, path))
                if dependant is not None and needs_user(dependant):
                    operation["security"] = [{scheme: []}]
                listed = error_codes(operation, method, path, dependant is not None and _checks_role(dependant))
                for code in [c for c in responses if c[:1] in "45" and c not in listed]:
                    del responses[code]
                for code in listed:
                    responses[code] = _problem(code, recorded["problems"])
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]

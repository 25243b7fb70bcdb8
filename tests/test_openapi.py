"""The committed spec describes the app exactly (regenerate with ``python -m service.openapi``)."""

from typing import Any

from pydantic import BaseModel

from service.openapi import SPEC_PATH, build_spec, render


def test_committed_openapi_matches_the_app() -> None:
    assert SPEC_PATH.read_text(encoding="utf-8") == render(build_spec()), (
        "openapi/openapi.json is stale: run `python -m service.openapi`"
    )


def _operations() -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    spec = build_spec()
    return [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def test_every_operation_has_a_written_summary_and_a_description() -> None:
    for method, path, operation in _operations():
        assert operation.get("description"), (method, path)
        summary = operation.get("summary", "")
        generated = operation["operationId"].split("_api_v1")[0].replace("_", " ").title()
        assert summary and summary != generated, (method, path, summary)


def test_each_action_has_its_own_path_and_request_schema_in_components() -> None:
    spec = build_spec()
    schemas = spec["components"]["schemas"]
    assert "ActionIn" in schemas
    actions = {path.rsplit("/", 1)[1]: item["post"] for path, item in spec["paths"].items()
               if path.startswith("/api/v1/dossiers/{code}/actions/")}
    assert "{action}" not in actions and len(actions) == 17  # 15 of the contract, transfer, return_for_correction
    body = actions["assign"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AssignIn"}
    assert schemas["AssignIn"]["required"] == ["assignee"]
    assert schemas["ExtendIn"]["required"] == ["new_due_at", "reason"]


def test_only_csv_is_declared_as_csv_and_the_info_explains_the_auth_flow() -> None:
    spec = build_spec()
    csv = spec["paths"]["/api/v1/stats/processing.csv"]["get"]["responses"]["200"]["content"]
    assert list(csv) == ["text/csv"]
    assert "POST /api/v1/auth/refresh" in spec["info"]["description"]
    assert "## Glossary" in spec["info"]["description"]
    for method, path, operation in _operations():
        if not path.endswith(".csv"):
            for answer in operation["responses"].values():
                assert "text/csv" not in answer.get("content", {}), (method, path)


def test_operations_list_only_the_errors_they_can_answer() -> None:
    spec = build_spec()

    def errors(method: str, path: str) -> set[str]:
        return {code for code in spec["paths"][path][method]["responses"] if code[:1] in "45"}

    assert errors("get", "/api/v1/auth/me") == {"401", "500"}
    assert errors("get", "/health") == {"500", "503"}  # 503: the database does not answer
    assert errors("get", "/api/v1/procedures") == {"422", "500"}  # public: no token, no role, no path id
    assert errors("get", "/api/v1/users") - {"422"} == {"401", "403", "500"}
    assert errors("post", "/api/v1/dossiers/{code}/actions/extend") == {
        "400", "401", "403", "404", "409", "412", "422", "500"}


def test_no_operation_lists_an_error_nothing_in_it_can_produce() -> None:
    """Reads list neither 409 nor 412; 412 only where an ``If-Match`` is taken; 401 only behind credentials; every
    listed status is one the app's errors (or its edge checks and server) really answer with."""
    from service.problems import STATUS

    produced = {status for _, status in STATUS}  # the problems the app's errors become
    produced |= {400, 500}  # any other error (a malformed body), an unexpected error (the last-resort handler)
    checked = 0
    for method, path, operation in _operations():
        listed = {code for code in operation["responses"] if code[:1] in "45"}
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if method == "get":
            assert not listed & {"409", "412"}, (method, path, listed)
        assert ("412" in listed) == ("If-Match" in headers), (method, path)
        if "401" in listed:  # a token, or credentials checked by the operation itself (sign-in, a signed webhook)
            assert operation.get("security") or path.startswith("/api/v1/auth/") or \
                any(h.endswith("Signature") for h in headers), (method, path)
        assert {int(code) for code in listed} <= produced, (method, path, listed - {str(c) for c in produced})
        checked += 1
    assert checked > 80


def _response_models() -> dict[str, Any]:
    """The response models by their OpenAPI component name (``Page[DossierOut]`` is ``Page_DossierOut_``)."""
    import importlib
    import pkgutil

    import service.routers
    import service.schemas
    from service.schemas.common import Page

    found: dict[str, Any] = {}
    modules = [f"service.schemas.{m.name}" for m in pkgutil.iter_modules(service.schemas.__path__)]
    modules += [f"service.routers.{m.name}" for m in pkgutil.iter_modules(service.routers.__path__)]
    for name in modules:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, type) and issubclass(value, BaseModel):
                found.setdefault(value.__name__, value)
    for name in list(found):
        found[f"Page_{name}_"] = Page[found[name]]  # type: ignore[valid-type]
    return found


def test_response_examples_are_valid_answers_and_cover_the_main_reads() -> None:
    """The recorded examples (``python -m service.api_examples``) parse as the schemas they illustrate, and the
    main reads and errors show one."""
    from pydantic import TypeAdapter

    from service.api_examples import load
    from service.schemas.common import Problem

    recorded = load()
    models = _response_models()
    for name, example in recorded["schemas"].items():
        model = models[name]
        TypeAdapter(list[model] if isinstance(example, list) else model).validate_python(example)  # type: ignore[valid-type]
    for status, example in recorded["problems"].items():
        assert Problem.model_validate(example).status == int(status)
    spec = build_spec()
    main = ("/api/v1/dossiers", "/api/v1/dossiers/{code}", "/api/v1/worklist", "/api/v1/events",
            "/api/v1/subscriptions", "/api/v1/stats/processing", "/api/v1/stats/index", "/api/v1/stats/ranking",
            "/api/v1/dossiers/{code}/actions/approve")
    for path in main:
        for method, operation in spec["paths"][path].items():
            for status, answer in operation["responses"].items():
                for media_type, media in answer.get("content", {}).items():
                    if media_type in ("application/json", "application/problem+json") and status not in {
                            "400", "413", "415", "500", "503"}:
                        assert "example" in media, (method, path, status)
    unrecorded = {("post", "/api/v1/postal/events"),  # needs the carrier's signed call on a posted result
                  ("post", "/api/v1/subscriptions/{subscription_id}/deliveries/{event_id}/redeliver")}  # given up
    for path, path_item in spec["paths"].items():
        for method, operation in path_item.items():
            for status, answer in operation["responses"].items():
                media = answer.get("content", {}).get("application/json")
                if status.startswith("2") and media is not None and (method, path) not in unrecorded:
                    assert "example" in media, (method, path, status)
    approve = spec["paths"]["/api/v1/dossiers/{code}/actions/approve"]["post"]["responses"]
    assert approve["412"]["content"]["application/problem+json"]["example"]["code"] == "VERSION_MISMATCH"


def test_operations_behind_a_token_or_a_role_list_401_and_403_without_declaring_them() -> None:
    """The document finds each operation's dependencies through the included routers: a route that needs a user
    is secured by the bearer scheme and answers 401; one that also checks the role answers 403."""
    from fastapi import APIRouter, FastAPI

    from service.apidoc import install_openapi
    from service.deps import AdminUser, CurrentUser

    router = APIRouter()

    @router.get("/mine", summary="Mine")
    def mine(user: CurrentUser) -> str:
        return user.username

    @router.get("/admins", summary="Admins")
    def admins(user: AdminUser) -> str:
        return user.username

    @router.get("/open", summary="Open")
    def open_() -> str:
        return "ok"

    app = FastAPI()
    app.include_router(router, prefix="/api/v1")
    install_openapi(app)
    paths = app.openapi()["paths"]

    def errors(path: str) -> set[str]:
        return {code for code in paths[path]["get"]["responses"] if code[:1] in "45"}

    assert paths["/api/v1/admins"]["get"]["security"] == paths["/api/v1/mine"]["get"]["security"] == \
        [{"OAuth2PasswordBearer": []}]
    assert errors("/api/v1/admins") == {"401", "403", "500"}
    assert errors("/api/v1/mine") == {"401", "500"}
    assert "security" not in paths["/api/v1/open"]["get"] and errors("/api/v1/open") == {"500"}

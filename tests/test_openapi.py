"""The committed spec describes the app exactly (regenerate with ``python -m service.openapi``)."""

from service.openapi import SPEC_PATH, build_spec, render


def test_committed_openapi_matches_the_app() -> None:
    assert SPEC_PATH.read_text(encoding="utf-8") == render(build_spec()), (
        "openapi/openapi.json is stale: run `python -m service.openapi`"
    )

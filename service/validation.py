"""Bodies checked after the contract's earlier checks (token, visibility, role, state, version): one helper
turns a model's validation failure into :class:`~service.errors.InvalidBody` (422 ``VALIDATION_ERROR``, the same
answer FastAPI gives for a body it validates itself)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from service.errors import InvalidBody

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], payload: Any, *, raw_json: bool = False) -> M:
    """``payload`` (a decoded JSON value, ``None`` read as ``{}``; or raw JSON bytes with ``raw_json``) as
    ``model``; field errors are located under ``body`` as FastAPI locates them."""
    try:
        if raw_json:
            return model.model_validate_json(payload)
        return model.model_validate({} if payload is None else payload)
    except ValidationError as exc:
        raise InvalidBody([{**err, "loc": ["body", *err.get("loc", ())]}
                           for err in exc.errors(include_url=False)]) from None

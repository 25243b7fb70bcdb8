"""Errors raised by the pure rules. Each carries a stable machine code and a Vietnamese message."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request. ``code`` is stable; ``detail`` is read by officers and citizens."""

    code = "DOMAIN_ERROR"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class RuleConflict(DomainError):
    """The request is well formed but the dossier's state does not allow it (HTTP 409)."""

    code = "STATE_CONFLICT"


class RuleViolation(DomainError):
    """The request breaks a rule of the procedure or the law (HTTP 422)."""

    code = "RULE_VIOLATION"


class InvalidTransition(RuleConflict):
    code = "INVALID_TRANSITION"


class NotPermitted(DomainError):
    """The actor's role may not perform this action at all (HTTP 403)."""

    code = "FORBIDDEN_ROLE"

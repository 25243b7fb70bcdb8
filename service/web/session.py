"""The staff pages' session: a signed access token in an HttpOnly, SameSite=Strict cookie, and CSRF tokens.

The cookie is only ever read by the pages (``/mot-cua``, ``/thong-ke``); the API itself accepts bearer tokens
only, so a browser's ambient cookie can never act on the API. Every page form that changes state carries a CSRF
token: before sign-in, the double-submit kind (a random cookie echoed in a hidden field); after it, an HMAC of
the session token under the server key, which only a page the server rendered for that session can know
(OWASP CSRF Prevention Cheat Sheet, "synchronizer token" and "signed double-submit cookie" patterns).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION_COOKIE = "motcua_session"
LOGIN_CSRF_COOKIE = "motcua_login_csrf"


def session_csrf(secret_key: str, session_token: str) -> str:
    """The CSRF token of the forms shown to the holder of ``session_token``."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing value never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())

"""Access tokens. The only module that touches python-jose.

python-jose accepts any ``alg`` when no allow-list is given (CVE-2024-33663), does not require ``exp`` by default
and ignores ``crit`` (mpdavis/python-jose#413). This wrapper fixes all three: one algorithm, every registered
claim required, dangerous headers refused before the signature is even checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jose import JWTError, jwt

ALGORITHM = "HS256"
MAX_TOKEN_BYTES = 4096
ALLOWED_HEADERS = frozenset({"alg", "typ", "kid"})
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "iss")
VERIFIED_KEPT = 1024
"""How many verified tokens an issuer remembers (:meth:`TokenIssuer.verify`)."""


class InvalidToken(Exception):
    """The token is malformed, expired, tampered with or not ours."""


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    issuer: str
    audience: str
    ttl: timedelta
    _verified: dict[str, tuple[str, int]] = field(default_factory=dict, compare=False, repr=False)
    """Token → (subject, ``exp``) of the tokens this process verified: a signed-in client sends the same token
    on every request, and checking its header, signature and claims again cost ~5 % of a write request's CPU."""

    def issue(self, subject: str, *, now: datetime, role: str) -> str:
        claims = {
            "sub": subject,
            "role": role,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM, headers={"typ": "JWT"})

    def verify(self, token: str) -> str:
        """Return the subject of a valid token, else raise :class:`InvalidToken`.

        A token verified before is only checked for expiry (against real time, as python-jose does: valid up to
        and including its ``exp`` second): the same bytes under the same secret verify the same way, and expiry
        is the only one of its checks that changes with time."""
        known = self._verified.get(token)
        if known is not None:
            subject, expires = known
            if expires >= int(time.time()):
                return subject
            self._verified.pop(token, None)
            raise InvalidToken("Signature has expired.")
        subject, expires = self._verify_signed(token)
        if len(self._verified) >= VERIFIED_KEPT:
            self._forget_some()
        self._verified[token] = (subject, expires)
        return subject

    def _forget_some(self) -> None:
        """Make room: drop the expired tokens, or when none has expired the older half (in the order verified)."""
        now = int(time.time())
        expired = [token for token, (_, expires) in list(self._verified.items()) if expires < now]
        for token in expired or list(self._verified)[:VERIFIED_KEPT // 2]:
            self._verified.pop(token, None)

    def _verify_signed(self, token: str) -> tuple[str, int]:
        """The subject and expiry (``exp``) of a valid token, its header, signature and claims checked."""
        if len(token.encode()) > MAX_TOKEN_BYTES:
            raise InvalidToken("token too large")
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise InvalidToken("malformed header") from exc
        if not isinstance(header, dict) or set(header) - ALLOWED_HEADERS:
            raise InvalidToken("forbidden header")
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm not allowed")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={f"require_{claim}": True for claim in REQUIRED_CLAIMS} | {"leeway": 0},
            )
        except JWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("missing subject")
        return subject, int(claims["exp"])

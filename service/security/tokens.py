"""Access tokens. The only module that touches python-jose.

python-jose accepts any ``alg`` when no allow-list is given (CVE-2024-33663), does not require ``exp`` by default
and ignores ``crit`` (mpdavis/python-jose#413). This wrapper fixes all three: one algorithm, every registered
claim required, dangerous headers refused before the signature is even checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jose import JWTError, jwt

ALGORITHM = "HS256"
MAX_TOKEN_BYTES = 4096
ALLOWED_HEADERS = frozenset({"alg", "typ", "kid"})
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "iss")


class InvalidToken(Exception):
    """The token is malformed, expired, tampered with or not ours."""


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    issuer: str
    audience: str
    ttl: timedelta

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
        """Return the subject of a valid token, else raise :class:`InvalidToken`."""
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
        return subject

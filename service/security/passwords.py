"""Password hashing with Argon2 (pwdlib)."""

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))
# A fixed hash verified when the user does not exist, so a failed login costs the same either way.
_DUMMY_HASH = _hasher.hash("motcua-timing-equaliser")


def use_hasher(hasher: Argon2Hasher) -> None:
    """Replace the Argon2 parameters (the test suite uses the minimum cost)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHash((hasher,))
    _DUMMY_HASH = _hasher.hash("motcua-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


__all__ = ["Argon2Hasher", "hash_password", "use_hasher", "verify_password"]

"""Password hashing with Argon2 (pwdlib), with the hashing work bounded per process.

Argon2 is memory-hard on purpose (~64 MiB per hash at the production cost): forty concurrent logins were forty
hashes at once, 2 GB of memory and a stalled process. Two bounds keep that out:

- :data:`hashing_slots` — at most ``MOTCUA_PASSWORD_HASHING_CONCURRENCY`` (2) hashes run at once in a process,
  whoever asks (login, registration, account creation); the rest wait their turn.
- :class:`HashingGate` — async routes wait for a slot *before* taking a worker thread, so waiting logins hold no
  thread and ``/health`` and every other route keep their threads.

A login for an unknown user verifies a fixed dummy hash, so it costs the same as a wrong password (no user
enumeration by timing) — and, like any other hash, inside the bound.
"""

from __future__ import annotations

import threading

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from service.gates import AsyncGate

_hasher = PasswordHash((Argon2Hasher(),))
# A fixed hash verified when the user does not exist, so a failed login costs the same either way.
_DUMMY_HASH = _hasher.hash("motcua-timing-equaliser")

DEFAULT_CONCURRENCY = 2
hashing_slots = threading.BoundedSemaphore(DEFAULT_CONCURRENCY)
"""The process-wide bound on concurrent hashes (see :func:`set_concurrency`)."""


def set_concurrency(slots: int) -> None:
    """Set the process-wide bound (at start-up, before any request)."""
    global hashing_slots
    hashing_slots = threading.BoundedSemaphore(slots)


def use_hasher(hasher: Argon2Hasher) -> None:
    """Replace the Argon2 parameters (the test suite uses the minimum cost)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHash((hasher,))
    _DUMMY_HASH = _hasher.hash("motcua-timing-equaliser")


def hash_password(password: str) -> str:
    with hashing_slots:
        return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    with hashing_slots:
        if password_hash is None:
            _hasher.verify(password, _DUMMY_HASH)
            return False
        return _hasher.verify(password, password_hash)


class HashingGate(AsyncGate):
    """Hashing for async routes, within the process-wide bound (:data:`hashing_slots`)."""

    async def verify(self, password: str, password_hash: str | None) -> bool:
        return await self.run(verify_password, password, password_hash)

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)


__all__ = ["Argon2Hasher", "HashingGate", "hash_password", "set_concurrency", "use_hasher",
           "verify_password"]

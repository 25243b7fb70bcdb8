"""Everything a request handler needs that lives as long as the app: settings, database, clock, token issuer, and
the effects of actions (composed once, :func:`service.bootstrap.compose_effects`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from service.bootstrap import compose_effects
from service.clock import LegalClock
from service.db import Database
from service.dossiers.effects import Effects
from service.gates import AsyncGate
from service.security.passwords import HashingGate
from service.security.sessions import AccountCache
from service.security.tokens import TokenIssuer
from service.settings import Settings

LOGIN_BOOKKEEPING_SLOTS = 4


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: LegalClock
    tokens: TokenIssuer
    effects: Effects
    hashing: HashingGate
    login_bookkeeping: AsyncGate
    """Login attempts' rate-limit writes, a few at a time: a flood of logins queues here holding no thread and no
    database connection, so ``/health`` and every other route keep theirs."""
    writes: AsyncGate
    """The units of work that write, a few at a time (``MOTCUA_CONCURRENT_WRITES``,
    :func:`service.deps.get_session`)."""
    accounts: AccountCache = field(default_factory=AccountCache)
    """The accounts access tokens name, kept briefly (:mod:`service.security.sessions`)."""
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        return cls(
            settings=settings,
            db=Database(settings.database_url, writer_connection=True, pool_size=settings.database_pool_size),
            clock=LegalClock(simulation=settings.simulation),
            tokens=TokenIssuer(
                secret=settings.secret_key,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl=timedelta(minutes=settings.access_token_minutes),
            ),
            effects=compose_effects(settings),
            hashing=HashingGate(settings.password_hashing_concurrency),
            login_bookkeeping=AsyncGate(LOGIN_BOOKKEEPING_SLOTS),
            accounts=AccountCache(settings.account_cache_seconds),
            writes=AsyncGate(settings.concurrent_writes),
        )

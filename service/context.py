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
from service.security.tokens import TokenIssuer
from service.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: LegalClock
    tokens: TokenIssuer
    effects: Effects
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            clock=LegalClock(simulation=settings.simulation),
            tokens=TokenIssuer(
                secret=settings.secret_key,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl=timedelta(minutes=settings.access_token_minutes),
            ),
            effects=compose_effects(settings),
        )

"""Everything a request handler needs that lives as long as the app: settings, database, clock, token issuer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from service.clock import LegalClock
from service.db import Database
from service.security.tokens import TokenIssuer
from service.settings import SETTINGS_KEY, Settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: LegalClock
    tokens: TokenIssuer
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        return cls(
            settings=settings,
            db=Database(settings.database_url, info={SETTINGS_KEY: settings}),
            clock=LegalClock(simulation=settings.simulation),
            tokens=TokenIssuer(
                secret=settings.secret_key,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                ttl=timedelta(minutes=settings.access_token_minutes),
            ),
        )

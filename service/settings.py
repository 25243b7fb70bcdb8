"""Application settings, read from the environment (prefix ``MOTCUA_``) and validated at startup."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.security.clientaddress import IPNetwork, parse_trusted

WEAK_SECRETS = frozenset({"", "secret", "changeme", "change-me", "dev", "password", "motcua"})
MIN_SECRET_LENGTH = 32



class Settings(BaseSettings):
    """Every knob of the service. ``create_app(settings)`` takes one of these."""

    model_config = SettingsConfigDict(env_prefix="MOTCUA_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "prod"
    database_url: str = "sqlite:///./data/motcua.db"
    secret_key: str = ""
    admin_username: str | None = None
    admin_password: str | None = None
    simulation: bool = False
    postal_webhook_secret: str = ""
    cors_origins: str = ""
    ca_key_passphrase: str = ""

    jwt_issuer: str = "motcua"
    jwt_audience: str = "motcua-api"
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    account_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    """``MOTCUA_ACCOUNT_CACHE_SECONDS``: how long a request may rely on an account row another process read
    (:mod:`service.security.sessions`; 0: read it on every request). Changes made in the same process apply at
    once."""
    concurrent_writes: int = Field(default=4, ge=1, le=32)
    """``MOTCUA_CONCURRENT_WRITES``: requests of a process inside a unit of work that writes (POST, PUT, PATCH,
    DELETE) at once; the others wait on the event loop, holding no thread, connection or lock
    (:func:`service.deps.get_session`). Below anyio's 40 handler threads, so a writer holding SQLite's write lock
    always finds a thread to finish on."""
    database_pool_size: int = Field(default=40, ge=1, le=1000)
    """``MOTCUA_DATABASE_POOL_SIZE``: PostgreSQL connections kept per process, as many as the threads that
    run request handlers (anyio's default: 40), so no handler waits for a connection while holding a thread. SQLite
    keeps at most 8 (``service.db.SQLITE_POOL_SIZE``: its writers take turns anyway)."""

    login_failure_limit: int = Field(default=5, ge=1)
    """Failed logins per (client address, username) in the window; then that pair gets 429."""
    login_address_failure_limit: int = Field(default=20, ge=1)
    """Failed logins per client address (any usernames) in the window; then that address gets 429."""
    login_failure_window_seconds: int = Field(default=900, ge=1)
    password_hashing_concurrency: int = Field(default=2, ge=1, le=64)
    """Password hashes (Argon2, ~64 MiB each) computed at once per process; more requests wait their turn."""
    public_rate_limit: int = Field(default=30, ge=1)
    public_rate_window_seconds: int = Field(default=60, ge=1)

    upload_dir: Path = Path("./data/uploads")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    """Largest JSON or form body; larger is 413 before it is parsed (uploads keep ``max_upload_bytes``)."""
    trusted_proxies: str = ""
    """Comma-separated addresses whose ``X-Forwarded-For`` is believed; anyone else's is ignored."""
    public_base_url: str = "http://127.0.0.1:8000"
    due_soon_working_hours: float = Field(default=8.0, ge=0, le=1000)
    """A running dossier is "due soon" with at most this much working time left (contract, Version 2)."""

    freeze_startup_heap: bool = True
    """``MOTCUA_FREEZE_STARTUP_HEAP``: once start-up is done, the objects alive then (modules, routes, schemas,
    mappers) move to the garbage collector's permanent generation, so its full collections stop walking them
    (see ``service.runtime``). The test suite turns it off: it builds hundreds of apps in one process."""

    # Events (service/events/): who delivers, how webhooks are retried, when a dossier is "due soon".
    worker: bool = True
    """``MOTCUA_WORKER``: the app process itself delivers webhooks, raises the deadline warnings and sends the
    notices; ``false`` leaves that to ``motcua worker`` processes."""
    webhook_allow_private: bool = False
    webhook_retry_base_seconds: float = Field(default=10, gt=0, le=86_400)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60)
    webhook_concurrency: int = Field(default=16, ge=1, le=256)
    worker_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    scan_interval_seconds: float = Field(default=2, gt=0, le=60)
    sse_heartbeat_seconds: float = Field(default=15, gt=0, le=300)
    smtp_url: str = ""
    """``smtp://[user:password@]host:port`` (``?starttls=true`` to upgrade) or ``smtps://…``; empty: e-mail
    notices are recorded only."""
    smtp_from: str = "Một Cửa <no-reply@motcua.local>"
    sms_gateway_url: str = ""
    """An SMS gateway's webhook (JSON ``{"to","text","reference"}``, signed like our webhooks); empty: SMS
    notices are recorded only."""
    sms_gateway_secret: str = ""

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        if self.env == "dev":
            if not self.secret_key:
                self.secret_key = "dev-only-secret-key-not-for-production-use!"
            if not self.ca_key_passphrase:
                self.ca_key_passphrase = "dev-only-ca-passphrase"
            return self
        if self.secret_key.lower() in WEAK_SECRETS or len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"MOTCUA_SECRET_KEY is missing or weak: use at least {MIN_SECRET_LENGTH} random characters "
                "(or set MOTCUA_ENV=dev for local development)"
            )
        if not self.ca_key_passphrase:
            self.ca_key_passphrase = self.secret_key
        return self

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_trusted(address.strip() for address in self.trusted_proxies.split(",") if address.strip())

    @model_validator(mode="after")
    def _check_trusted_proxies(self) -> Settings:
        try:
            self.trusted_proxy_networks  # noqa: B018 - parsed once, at start-up
        except ValueError as exc:
            raise ValueError(f"MOTCUA_TRUSTED_PROXIES: {exc}") from exc
        return self

    @cached_property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

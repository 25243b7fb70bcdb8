"""Application settings, read from the environment (prefix ``MOTCUA_``) and validated at startup."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    login_failure_limit: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    public_rate_limit: int = Field(default=30, ge=1)
    public_rate_window_seconds: int = Field(default=60, ge=1)

    upload_dir: Path = Path("./data/uploads")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    public_base_url: str = "http://127.0.0.1:8000"
    due_soon_working_hours: float = Field(default=8, gt=0, le=1000)

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
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

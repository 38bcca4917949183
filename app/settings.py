"""Service settings, read from environment variables (and an optional `.env`).

Every variable is documented in the README's Configuration section.
"""

import ipaddress
from decimal import Decimal
from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_MIN_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/standards-bridge.db",
        description="SQLAlchemy URL of the store: a SQLite file, or "
        "postgresql+psycopg://user@host:5432/db",
    )
    host: str = Field(default="127.0.0.1", description="Interface the server binds")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server binds")
    base_url: str | None = Field(
        default=None,
        description="Public URL of the tool as the LMS reaches it "
        "(default http://HOST:PORT); LTI redirect and JWKS URLs are built from it",
    )
    mastery_threshold: Decimal = Field(
        default=Decimal("0.80"),
        gt=0,
        le=1,
        description="Share of the maximum score (0-1] at or above which the most "
        "recent score counts as mastery",
    )
    lti_clock_leeway_seconds: int = Field(
        default=30,
        ge=0,
        le=300,
        description="Seconds of clock difference tolerated on id_token iat/exp",
    )
    lti_nonce_ttl_seconds: int = Field(
        default=3600,
        ge=60,
        description="How long a used launch nonce is remembered",
    )
    lti_jwks_cache_seconds: int = Field(
        default=3600,
        ge=0,
        description="How long a platform's public keys are cached",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1",
        description="Comma-separated IPs or CIDR ranges of reverse proxies whose "
        "X-Forwarded-Proto and X-Forwarded-Host headers set the tool's public "
        "scheme and host (empty: trust none)",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_json: bool = Field(default=False, description="Write logs as JSON lines")
    readiness_cache_seconds: int = Field(
        default=10,
        ge=0,
        le=3600,
        description="How long /readyz reuses its answer on whether schema "
        "migrations are pending (the database itself is asked on every probe)",
    )
    api_token_ttl_seconds: int = Field(
        default=900,
        ge=60,
        le=86400,
        description="Lifetime of the access tokens /oauth/token issues to API clients",
    )
    evidence_bulk_chunk_rows: int = Field(
        default=1000,
        ge=1,
        le=10000,
        description="Rows of a bulk evidence upload stored and committed together; "
        "memory per upload grows with it, not with the upload",
    )
    crosswalk_exact_match_hops: int = Field(
        default=1,
        ge=0,
        le=5,
        description="How many exactMatchOf/isPeerOf links evidence may travel to "
        "count toward a competency of another framework (0 turns it off)",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Secret from which the keys encrypting stored credentials "
        "(CASE source API keys and client secrets) and the tool's private signing "
        "keys are derived; changing it makes them unreadable",
    )
    case_sync_reload_seconds: int = Field(
        default=60,
        ge=5,
        le=3600,
        description="How often the worker re-reads CASE sources to follow "
        "schedule changes",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str) -> str:
        # Operators paste libpq-style URLs; the store talks psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_store(cls, value: str) -> str:
        if value.startswith(("sqlite:///", "postgresql+psycopg://")):
            return value
        raise ValueError(
            "must start with sqlite:/// or postgresql+psycopg:// "
            "(postgresql:// is read as postgresql+psycopg://)"
        )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as error:
                raise ValueError(f"'{entry}' is not an IP address or CIDR") from error
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Encryption keys are derived from it; a short secret is guessable.
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value().strip()) < SECRET_KEY_MIN_LENGTH:
            raise ValueError(
                f"must be at least {SECRET_KEY_MIN_LENGTH} characters of random "
                "text, for example the output of `standards-bridge keys new-secret`"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""The one typed settings object; every field is documented in docs/operations.md (tested)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class NodeLevel(StrEnum):
    """Where a node sits in the platform network (N1): the role is configuration."""

    national = "national"
    provincial = "provincial"
    city = "city"


class Settings(BaseSettings):
    """Platform configuration, read from the environment with prefix ``RONGXIN_``."""

    model_config = SettingsConfigDict(env_prefix="RONGXIN_", env_file=None, extra="ignore")

    environment: Environment = Field(
        Environment.development, description="development, test or production."
    )
    database_url: str = Field(
        "sqlite:///var/rongxin.db",
        description="SQLAlchemy URL. SQLite (default, embedded) or postgresql+psycopg://…",
    )
    database_echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    node_id: str = Field(
        "national",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="This node's id; stamped on every record that originates here.",
    )
    node_level: NodeLevel = Field(
        NodeLevel.national, description="national, provincial or city (N1)."
    )
    node_region: str = Field(
        "000000",
        pattern=r"^\d{6}$",
        description="GB/T 2260 code of the region this node serves (000000 = the whole country).",
    )
    catalog_path: Path | None = Field(
        None,
        description="A catalog file (YAML or JSON) that replaces the shipped default catalog.",
    )
    uscc_allowlist_path: Path | None = Field(
        None,
        description="A file of legacy USCCs admitted although they fail the position-18 check.",
    )
    ingest_max_bytes: int = Field(
        4 * 1024**3, ge=1024, description="Largest file accepted by POST /api/v1/ingest/{item}."
    )
    data_dir: Path = Field(Path("var"), description="Where the node keeps its files.")
    secret_key: str | None = Field(
        None,
        description="Signing key for sessions and tokens. Required outside development.",
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = Field(
        False, description="Write logs as JSON lines (production) instead of console text."
    )
    host: str = Field("127.0.0.1", description="Address `rongxin serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `rongxin serve` listens on.")
    default_locale: str = Field(
        "zh-CN", pattern=r"^(zh-CN|en)$", description="UI language when none is chosen."
    )
    security_controls_path: Path | None = Field(
        None,
        description="A security-control file that replaces the shipped institution controls.",
    )
    push_batch_size: int = Field(
        10_000, ge=1, le=1_000_000, description="Most records in one batch-push delivery (V3)."
    )
    push_max_attempts: int = Field(
        8,
        ge=1,
        le=100,
        description="Attempts (webhook POST, file write) before a push delivery fails (V3).",
    )

    login_max_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="Failed sign-ins (or real-name checks) in a row before a lockout.",
    )
    login_lockout_minutes: int = Field(
        15, ge=1, le=24 * 60, description="How long a lockout lasts, in minutes."
    )
    access_token_minutes: int = Field(
        15,
        ge=1,
        le=24 * 60,
        description="Lifetime of OAuth2 client-credentials access tokens, in minutes.",
    )

    provider_endpoints_path: Path | None = Field(
        None,
        description="YAML file: provider code → base URL, secret file and timeout of the "
        "provider services called for interface items and verification (M2, M3).",
    )

    audit_checkpoint_every: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="Sign an audit-log checkpoint after this many new entries (Z3).",
    )

    abuse_rules_path: Path | None = Field(
        None,
        description="An abuse-rule file that replaces the shipped abuse_rules.yaml "
        "(thresholds of the access-log monitoring rules, Z3).",
    )
    consent_purposes_path: Path | None = Field(
        None,
        description="A purpose-template file that replaces the shipped consent_purposes.yaml "
        "(caps on what an enterprise authorization may ask for).",
    )
    consent_notice_dir: Path | None = Field(
        None,
        description="A directory of risk_notice_<version>.md files that replaces the shipped "
        "risk notice shown before an enterprise authorizes.",
    )
    rating_features_path: Path | None = Field(
        None,
        description="A rating-feature file that replaces the shipped rating_features.yaml.",
    )
    indicator_system_path: Path | None = Field(
        None,
        description="An indicator-system file that replaces the shipped indicator_system.yaml "
        "(dimensions, indicators, weights, vetoes, grades; E1).",
    )
    rights_rules_path: Path | None = Field(
        None,
        description="A rights-rule file that replaces the shipped rights_rules.yaml (objection "
        "deadlines, publicity periods of credit repair, the repair review deadline; G4).",
    )
    holiday_calendar_path: Path | None = Field(
        None,
        description="A holiday-calendar file that replaces the shipped holiday_calendar.yaml: "
        "days off and weekend workdays the holidays package does not know yet.",
    )
    commitment_dir: Path | None = Field(
        None,
        description="A directory of credit_commitment_<version>.md files that replaces the "
        "shipped credit commitment (信用承诺书) enterprises sign.",
    )
    rights_attachment_max_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="Largest evidence file an enterprise may attach to a case, in bytes.",
    )
    spark_master: str | None = Field(
        None,
        description="Spark master URL for --engine spark (default: local mode on this machine).",
    )
    spark_driver_memory: str = Field(
        "2g", pattern=r"^[0-9]+[kmgt]$", description="Spark driver memory (e.g. 2g, 8g)."
    )

    @model_validator(mode="after")
    def _secrets_outside_development(self) -> Self:
        if self.environment is Environment.production and not self.secret_key:
            raise ValueError("RONGXIN_SECRET_KEY must be set when RONGXIN_ENVIRONMENT=production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Read settings from the environment (called at the edges: CLI, app factory)."""
    return Settings()

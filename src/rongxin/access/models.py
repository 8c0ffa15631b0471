"""API keys for systems, person accounts, and the counters behind lockouts.

API keys (providers, institutions, operators): the key is also an OAuth2 client (client_id =
key id, client_secret = the secret part).

Only a SHA-256 of the secret is stored (the secret is 32 random bytes, so a slow hash adds
nothing); the full token is shown once, at creation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow


class ApiKey(Base):
    __tablename__ = "api_key"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    principal_kind: Mapped[str] = mapped_column(String(16), index=True)
    principal_code: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserAccount(Base):
    """A person who signs in to the web pages (operator, regulator, institution or provider
    staff, an enterprise's representative).

    The password is kept as an argon2id hash; the TOTP secret is encrypted (AES-GCM with a key
    derived from ``Settings.secret_key``) and ``totp_last_step`` remembers the last accepted
    time step so that a code cannot be used twice.
    """

    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    principal_kind: Mapped[str] = mapped_column(String(16), index=True)
    principal_code: Mapped[str] = mapped_column(String(64), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(200), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AccessThrottle(Base):
    """Failed attempts of one kind against one subject (a USCC, a hashed client address), and
    the lockout they caused — the rate limit of real-name registration checks."""

    __tablename__ = "access_throttle"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

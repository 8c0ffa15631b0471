from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class PrincipalKind(StrEnum):
    provider = "provider"  # 数据提供单位
    institution = "institution"  # 接入机构
    operator = "operator"  # 平台运营方
    regulator = "regulator"  # 监管部门


class Principal(BaseModel):
    """Who is calling: the kind of party and its code (provider code, institution code …)."""

    model_config = ConfigDict(frozen=True)

    kind: PrincipalKind
    code: str
    key_id: str | None = None


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_id: str
    principal_kind: PrincipalKind
    principal_code: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    token: str  # shown once

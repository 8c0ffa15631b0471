from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict


class PrincipalKind(StrEnum):
    provider = "provider"  # 数据提供单位
    institution = "institution"  # 接入机构
    operator = "operator"  # 平台运营方
    regulator = "regulator"  # 监管部门
    enterprise = "enterprise"  # 信息主体 (a market entity; code = its USCC)


class Purpose(StrEnum):
    """Why information is used (purpose limitation, Z2); every access names one."""

    pre_loan = "pre_loan"  # 贷前审查
    in_loan = "in_loan"  # 贷中审批
    post_loan = "post_loan"  # 贷后管理
    self_query = "self_query"  # 信息主体自查
    public_inquiry = "public_inquiry"  # 公开查询
    supervision = "supervision"  # 监管统计


PURPOSE_NAMES: Final[dict[Purpose, tuple[str, str]]] = {
    Purpose.pre_loan: ("贷前审查", "Pre-loan review"),
    Purpose.in_loan: ("贷中审批", "Loan approval"),
    Purpose.post_loan: ("贷后管理", "Post-loan management"),
    Purpose.self_query: ("信息主体自查", "Self-query by the information subject"),
    Purpose.public_inquiry: ("公开查询", "Public inquiry"),
    Purpose.supervision: ("监管统计", "Supervision and statistics"),
}

#: the purposes for which institutions may use information: financing only (Z2)
FINANCING_PURPOSES: Final = frozenset({Purpose.pre_loan, Purpose.in_loan, Purpose.post_loan})


class Principal(BaseModel):
    """Who is calling: the kind of party and its code (provider code, institution code, the
    enterprise's USCC …), the credential used and, for people, the user account."""

    model_config = ConfigDict(frozen=True)

    kind: PrincipalKind
    code: str
    key_id: str | None = None
    user_id: str | None = None


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

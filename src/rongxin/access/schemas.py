from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field


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


# ---- person accounts ----------------------------------------------------------------------------


class UserStatus(StrEnum):
    active = "active"
    disabled = "disabled"


class UserRead(BaseModel):
    """A person account as shown to operators (never its password hash or TOTP secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    principal_kind: PrincipalKind
    principal_code: str
    status: UserStatus
    totp_enrolled: bool
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None


class TotpEnrolment(BaseModel):
    """A new TOTP secret as an ``otpauth://`` URI for an authenticator app — shown once."""

    username: str
    provisioning_uri: str


class UserCreated(UserRead):
    totp_provisioning_uri: str | None = None  # shown once, when a TOTP secret was made


# ---- OAuth2 client credentials ------------------------------------------------------------------


class AccessToken(BaseModel):
    """RFC 6749 §5.1 access-token response."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token type name, not a secret
    expires_in: int


# ---- enterprise real-name registration ----------------------------------------------------------


class RegistrationRequest(BaseModel):
    """A person claims to be the legal representative of ``uscc`` and asks for an account.

    The claimed name and ID number are personal data: they are left out of ``repr`` (so out of
    tracebacks and logs) and are never stored or echoed back."""

    uscc: str = Field(min_length=1, max_length=40)
    legal_rep_name: str = Field(min_length=1, max_length=50, repr=False)
    legal_rep_id_number: str = Field(min_length=1, max_length=40, repr=False)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024, repr=False)
    display_name: str = Field("", max_length=100)


class RegistrationResult(StrEnum):
    verified = "verified"
    not_verified = "not_verified"


class RegistrationOutcome(BaseModel):
    """Only whether the claim matched — never the stored values — and, if so, the account."""

    result: RegistrationResult
    message: str
    user: UserRead | None = None

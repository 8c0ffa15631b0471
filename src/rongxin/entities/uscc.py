"""统一社会信用代码 (USCC) per GB 32100-2015, with the organization code check of GB 11714.

Every rejection names the check that failed. Codes on the operator's allow-list (early pilot
codes that are legal but fail the position-18 check) are admitted with a note.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from rongxin.entities import reference

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_VALUE = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


class Check(StrEnum):
    """The named checks, in the order they are applied."""

    length = "length"
    alphabet = "alphabet"
    registration_authority = "registration_authority"
    entity_category = "entity_category"
    region = "region"
    organization_code = "organization_code"
    check_character = "check_character"


@dataclass(frozen=True, slots=True)
class UsccResult:
    code: str
    valid: bool
    check: Check | None = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "valid": self.valid, "reason": self.reason}
        if self.check is not None:
            out["check"] = self.check.value
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def normalize(code: str) -> str:
    """Full-width to half-width, strip blanks, upper-case: what people paste is often like that."""
    return unicodedata.normalize("NFKC", code).strip().replace(" ", "").upper()


def check_character(first17: str) -> str:
    """Position-18 check character for 17 valid characters."""
    total = sum(VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organization_check_character(body8: str) -> str:
    """GB 11714 check character for the 8-character organization code body."""
    total = sum(ORG_VALUE[c] * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def _fail(code: str, check: Check, reason: str) -> UsccResult:
    return UsccResult(code=code, valid=False, check=check, reason=reason)


def validate(raw: str, *, allow_list: Iterable[str] = ()) -> UsccResult:
    """Validate one code; the result names the first check that failed."""
    code = normalize(raw)
    if len(code) != 18:
        return _fail(code, Check.length, f"长度应为18位，实为{len(code)}位 (length must be 18)")
    bad = [(i + 1, c) for i, c in enumerate(code) if c not in VALUE]
    if bad:
        pos, ch = bad[0]
        return _fail(
            code,
            Check.alphabet,
            f"第{pos}位字符“{ch}”不在代码字符集内（不使用I、O、Z、S、V）"
            f" (position {pos}: '{ch}' is not in the GB 32100 character set)",
        )
    categories = reference.uscc_categories()
    dept = categories.get(code[0])
    if dept is None:
        return _fail(
            code,
            Check.registration_authority,
            f"第1位登记管理部门代码“{code[0]}”无效 (position 1: unknown registration authority)",
        )
    if code[1] not in dept.categories:
        return _fail(
            code,
            Check.entity_category,
            f"第2位机构类别代码“{code[1]}”不属于登记管理部门“{dept.name}”"
            f" (position 2: category not defined for authority {code[0]})",
        )
    if not code[2:8].isdigit():
        return _fail(
            code,
            Check.region,
            "第3–8位登记管理机关行政区划码应为6位数字 (positions 3-8 must be digits, GB/T 2260)",
        )
    notes: list[str] = []
    body, org_check = code[8:16], code[16]
    expected_org = organization_check_character(body)
    if org_check != expected_org:
        return _fail(
            code,
            Check.organization_code,
            f"第17位组织机构代码校验码应为“{expected_org}”，实为“{org_check}”"
            f" (position 17: GB 11714 check character should be {expected_org})",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        if code in set(allow_list):
            notes.append(
                "列入试点地区存量代码允许清单：第18位校验码不符 (allow-listed legacy code)"
            )
        else:
            return _fail(
                code,
                Check.check_character,
                f"第18位校验码应为“{expected}”，实为“{code[17]}”"
                f" (position 18: check character should be {expected})",
            )
    if reference.region(code[2:8]) is None:
        notes.append(
            f"行政区划码{code[2:8]}不在现行区划表中（可能为已撤并区划）"
            " (region code not in the current GB/T 2260 table)"
        )
    return UsccResult(code=code, valid=True, notes=tuple(notes))


# ---- vectorized helpers (synthetic data, bulk validation) -------------------------------------

_ALPHA_ARR = np.array(list(ALPHABET))
_WEIGHTS_ARR = np.array(WEIGHTS, dtype=np.int64)
_ORG_WEIGHTS_ARR = np.array(ORG_WEIGHTS, dtype=np.int64)
_ORG_CHECK_ARR = np.array(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0"])


def check_characters(values17: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Position-18 check characters for an (n, 17) matrix of character values."""
    total = values17 @ _WEIGHTS_ARR
    result: npt.NDArray[np.str_] = _ALPHA_ARR[(31 - total % 31) % 31]
    return result


def organization_check_values(body_values: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """GB 11714 check characters for an (n, 8) matrix of organization-code character values."""
    r = 11 - (body_values @ _ORG_WEIGHTS_ARR) % 11
    result: npt.NDArray[np.str_] = _ORG_CHECK_ARR[r]
    return result


_CODEPOINTS = 128  # every valid character is ASCII; anything above maps to "not in alphabet"
_CP_VALUE = np.full(_CODEPOINTS, -1, dtype=np.int64)
_CP_ORG_VALUE = np.zeros(_CODEPOINTS, dtype=np.int64)
for _c, _v in VALUE.items():
    _CP_VALUE[ord(_c)] = _v
for _c, _v in ORG_VALUE.items():
    _CP_ORG_VALUE[ord(_c)] = _v
_ORG_CHECK_CP = np.array([ord(c) for c in _ORG_CHECK_ARR], dtype=np.int64)


def _category_table() -> npt.NDArray[np.bool_]:
    """(31, 31) table: True where positions 1–2 form a defined authority/category pair."""
    table = np.zeros((len(ALPHABET), len(ALPHABET)), dtype=np.bool_)
    for dept_code, dept in reference.uscc_categories().items():
        for cat_code in dept.categories:
            if dept_code in VALUE and cat_code in VALUE:
                table[VALUE[dept_code], VALUE[cat_code]] = True
    return table


def valid_mask(codes: Sequence[str], *, allow_list: Iterable[str] = ()) -> npt.NDArray[np.bool_]:
    """Vectorized :func:`validate`: True where an already *normalized* code passes every check.

    Meant for bulk paths (imports): find the failing rows here, then ask :func:`validate` why
    for the few that failed.
    """
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    lengths = np.fromiter((len(c) for c in codes), dtype=np.int64, count=n)
    text = np.asarray(codes, dtype="<U18")
    cps = np.minimum(text.view(np.uint32).reshape(n, 18).astype(np.int64), _CODEPOINTS - 1)
    values = _CP_VALUE[cps]
    ok = (lengths == 18) & (values >= 0).all(axis=1)
    v = np.where(values >= 0, values, 0)
    ok &= _category_table()[v[:, 0], v[:, 1]]
    ok &= (v[:, 2:8] < 10).all(axis=1)
    org_r = 11 - (_CP_ORG_VALUE[cps[:, 8:16]] @ _ORG_WEIGHTS_ARR) % 11
    ok &= _ORG_CHECK_CP[org_r] == cps[:, 16]
    check_ok = (31 - (v[:, :17] @ _WEIGHTS_ARR) % 31) % 31 == v[:, 17]
    allowed = [a for a in allow_list if len(a) == 18]
    if allowed:
        check_ok |= np.isin(text, np.asarray(allowed, dtype="<U18")) & (lengths == 18)
    result: npt.NDArray[np.bool_] = ok & check_ok
    return result

"""Masking (脱敏) of personal and sensitive values, DOMAIN.md §3.

Which fields are masked is data — a catalog field's ``mask`` — and whether they are masked is
decided per viewer by the policy (the information subject itself sees everything). The rules
keep just enough to recognise a value the viewer already knows:

========== =============================== ==========================
kind       rule                            example
========== =============================== ==========================
person     keep the first character        段正淳 → 段**
ID number  keep the first 6 and last 4     110105********002X
mobile     keep the first 3 and last 4     180****1999
bank card  keep the first 4 and last 4     6222 **** **** 3256
address    hide the last 8 characters      北京市海淀区马********
account    keep the first 4 and last 4     3501********7788
========== =============================== ==========================

``account`` (utility and insurance account numbers, JR/T 0197 C2 account data) follows the
bank-card rule without its grouping; it is this project's default, not a cited convention.

Masking never reveals the length of a short value beyond the rule: values too short to keep
their prefix and suffix are masked entirely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from rongxin.catalog.schemas import MaskKind

STAR: Final = "*"


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return STAR * len(value)
    return value[:head] + STAR * (len(value) - head - tail) + value[len(value) - tail :]


def mask_person_name(value: str) -> str:
    """段正淳 → 段**; a one-character name becomes *."""
    return _keep(value, 1, 0) if len(value) > 1 else STAR * len(value)


def mask_id_number(value: str) -> str:
    """18-digit 居民身份证号 (and 15-digit): first 6 and last 4 kept; other documents: 1 and 2."""
    if len(value) in (15, 18):
        return _keep(value, 6, 4)
    return _keep(value, 1, 2)


def mask_mobile(value: str) -> str:
    """18012341999 → 180****1999."""
    return _keep(value, 3, 4)


def mask_bank_card(value: str) -> str:
    """6222021234563256 → 6222 **** **** 3256 (grouped in fours, as printed on receipts)."""
    digits = value.replace(" ", "")
    if len(digits) <= 8:
        return STAR * len(digits)
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_address(value: str) -> str:
    """Hide the last 8 characters (all of a shorter address)."""
    if len(value) <= 8:
        return STAR * len(value)
    return value[:-8] + STAR * 8


def mask_account_number(value: str) -> str:
    """3501000012347788 → 3501********7788."""
    return _keep(value, 4, 4)


MASKERS: Final[dict[MaskKind, Callable[[str], str]]] = {
    MaskKind.person_name: mask_person_name,
    MaskKind.id_number: mask_id_number,
    MaskKind.mobile: mask_mobile,
    MaskKind.bank_card: mask_bank_card,
    MaskKind.address: mask_address,
    MaskKind.account_number: mask_account_number,
}


def mask(kind: MaskKind, value: object) -> object:
    """``value`` masked by ``kind``; ``None`` stays ``None``; non-strings are masked as text."""
    if value is None:
        return None
    return MASKERS[kind](str(value))

"""The risk notice (风险提示, note 3 of the policy): versioned text the enterprise reads first.

Each version is one UTF-8 file ``risk_notice_<version>.md`` (``rongxin.kit.versioned_text``);
``Settings.consent_notice_dir`` names a directory of an operator's own. The SHA-256 of the text
is what an approval must echo and what the approved authorization stores.
"""

from __future__ import annotations

from pathlib import Path

from rongxin.consent.errors import ConsentDataError
from rongxin.consent.schemas import RiskNoticeRead
from rongxin.kit import versioned_text
from rongxin.kit.versioned_text import normalized, sha256_of

__all__ = ["FILE_PREFIX", "RiskNotices", "load_notices", "normalized", "parse_notice", "sha256_of"]

FILE_PREFIX = "risk_notice_"
WHAT = "risk notice"

RiskNotices = versioned_text.Versions[RiskNoticeRead]


def parse_notice(raw: str, *, source: str) -> RiskNoticeRead:
    """One notice file; errors name the file and the line."""
    return versioned_text.parse(
        raw, RiskNoticeRead, source=source, what=WHAT, error=ConsentDataError
    )


def load_notices(directory: Path | None = None) -> RiskNotices:
    """The operator's notices (every ``risk_notice_*.md`` in ``directory``), else the shipped."""
    return versioned_text.load(
        RiskNoticeRead, prefix=FILE_PREFIX, directory=directory, what=WHAT, error=ConsentDataError
    )

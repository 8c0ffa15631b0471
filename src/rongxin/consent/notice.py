"""The risk notice (风险提示, note 3 of the policy): versioned text the enterprise reads first.

Each version is one UTF-8 file ``risk_notice_<version>.md``: a front matter block (``version``,
``effective_date``, ``title``) between ``---`` lines, then the text shown — zh-CN first, then
English. The shipped files are in ``rongxin/data``; ``Settings.consent_notice_dir`` names a
directory of an operator's own. The SHA-256 of the text (UTF-8, ``\\n`` line ends, one final
newline) is what an approval must echo and what the approved authorization stores.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rongxin.consent.errors import ConsentDataError
from rongxin.consent.schemas import RiskNoticeRead

FILE_PREFIX = "risk_notice_"
FILE_SUFFIX = ".md"


class _FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=32)
    effective_date: date
    title: str = Field(min_length=1)


def normalized(text: str) -> str:
    """The text exactly as shown and hashed: ``\\n`` line ends, no trailing blanks, one
    final newline."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n") + "\n"


def sha256_of(text: str) -> str:
    return hashlib.sha256(normalized(text).encode("utf-8")).hexdigest()


def parse_notice(raw: str, *, source: str) -> RiskNoticeRead:
    """One notice file; errors name the file and the line."""
    lines = raw.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise ConsentDataError(f"{source}:1: a risk notice starts with a '---' front matter block")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ConsentDataError(
            f"{source}:1: the front matter block is not closed with '---'"
        ) from None
    try:
        meta: Any = yaml.safe_load("\n".join(lines[1:end]))
        front = _FrontMatter.model_validate(meta)
    except yaml.YAMLError as exc:
        raise ConsentDataError(f"{source}:2: front matter is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(front matter)"
        raise ConsentDataError(f"{source}:2: {field}: {err['msg']}") from exc
    text = normalized("\n".join(lines[end + 1 :]))
    if not text.strip():
        raise ConsentDataError(f"{source}:{end + 2}: the notice has no text after the front matter")
    return RiskNoticeRead(
        version=front.version,
        effective_date=front.effective_date,
        title=front.title,
        text=text,
        sha256=sha256_of(text),
    )


class RiskNotices:
    """Every known version; the one in force at a moment is the latest effective by then."""

    def __init__(self, notices: list[RiskNoticeRead]) -> None:
        if not notices:
            raise ConsentDataError("no risk notice found (risk_notice_<version>.md)")
        versions = [n.version for n in notices]
        dupes = sorted({v for v in versions if versions.count(v) > 1})
        if dupes:
            raise ConsentDataError(f"risk notice versions found twice: {dupes}")
        self._notices = sorted(notices, key=lambda n: (n.effective_date, n.version))

    @property
    def all(self) -> list[RiskNoticeRead]:
        return list(self._notices)

    def in_force(self, at: datetime | date) -> RiskNoticeRead:
        day = at.date() if isinstance(at, datetime) else at
        candidates = [n for n in self._notices if n.effective_date <= day]
        if not candidates:
            raise ConsentDataError(f"no risk notice is in force on {day.isoformat()}")
        return candidates[-1]

    def version(self, version: str) -> RiskNoticeRead | None:
        return next((n for n in self._notices if n.version == version), None)


@cache
def _shipped() -> RiskNotices:
    folder = resources.files("rongxin") / "data"
    found = [
        parse_notice(f.read_text(encoding="utf-8"), source=f"rongxin/data/{f.name}")
        for f in folder.iterdir()
        if f.name.startswith(FILE_PREFIX) and f.name.endswith(FILE_SUFFIX)
    ]
    return RiskNotices(found)


def load_notices(directory: Path | None = None) -> RiskNotices:
    """The operator's notices (every ``risk_notice_*.md`` in ``directory``), else the shipped."""
    if directory is None:
        return _shipped()
    if not directory.is_dir():
        raise ConsentDataError(f"{directory}: not a directory of risk_notice_*.md files")
    found = []
    for path in sorted(directory.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")):
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConsentDataError(f"{path}: cannot read the risk notice (UTF-8): {exc}") from exc
        found.append(parse_notice(raw, source=str(path)))
    return RiskNotices(found)

"""Versioned texts a party reads and accepts: the risk notice before an authorization, the credit
commitment (信用承诺书) behind self-reported data, objections and repair.

Each version is one UTF-8 file ``<prefix><version>.md``: a front matter block (``version``,
``effective_date``, ``title``) between ``---`` lines, then the text shown — zh-CN first, then
English. Shipped files are in ``rongxin/data``; an operator names a directory of their own. The
SHA-256 of the text (UTF-8, ``\\n`` line ends, one final newline) is what an acceptance echoes
and what the accepting record stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rongxin.kit import data_files
from rongxin.kit.data_files import DataFileError

FILE_SUFFIX = ".md"


class VersionedText(BaseModel):
    version: str
    effective_date: date
    title: str
    text: str = Field(description="The exact text shown (zh-CN, then English).")
    sha256: str


T = TypeVar("T", bound=VersionedText)


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


def parse(raw: str, model: type[T], *, source: str, what: str, error: DataFileError) -> T:
    """One text file; errors name the file and the line."""
    lines = raw.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise error(f"{source}:1: a {what} starts with a '---' front matter block", file=source)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise error(
            f"{source}:1: the front matter block is not closed with '---'", file=source
        ) from None
    try:
        meta: Any = yaml.safe_load("\n".join(lines[1:end]))
        front = _FrontMatter.model_validate(meta)
    except yaml.YAMLError as exc:
        raise error(f"{source}:2: front matter is not valid YAML: {exc}", file=source) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(front matter)"
        raise error(f"{source}:2: {field}: {err['msg']}", file=source) from exc
    text = normalized("\n".join(lines[end + 1 :]))
    if not text.strip():
        raise error(
            f"{source}:{end + 2}: the {what} has no text after the front matter", file=source
        )
    return model(
        version=front.version,
        effective_date=front.effective_date,
        title=front.title,
        text=text,
        sha256=sha256_of(text),
    )


class Versions(Generic[T]):
    """Every known version; the one in force at a moment is the latest effective by then."""

    def __init__(self, texts: list[T], *, what: str, error: DataFileError) -> None:
        self._what, self._error = what, error
        if not texts:
            raise error(f"no {what} found")
        versions = [n.version for n in texts]
        dupes = sorted({v for v in versions if versions.count(v) > 1})
        if dupes:
            raise error(f"{what} versions found twice: {dupes}")
        self._texts = sorted(texts, key=lambda n: (n.effective_date, n.version))

    @property
    def all(self) -> list[T]:
        return list(self._texts)

    def in_force(self, at: datetime | date) -> T:
        day = at.date() if isinstance(at, datetime) else at
        candidates = [n for n in self._texts if n.effective_date <= day]
        if not candidates:
            raise self._error(f"no {self._what} is in force on {day.isoformat()}")
        return candidates[-1]

    def version(self, version: str) -> T | None:
        return next((n for n in self._texts if n.version == version), None)


def load(
    model: type[T], *, prefix: str, directory: Path | None, what: str, error: DataFileError
) -> Versions[T]:
    """Every ``<prefix>*.md`` in ``directory`` (an operator's), else the shipped ones; read
    once per process and directory (restart to apply a change)."""
    return cast(Versions[T], _load(model, prefix, directory, what, cast(Hashable, error)))


@cache
def _load(
    model: type[T], prefix: str, directory: Path | None, what: str, hashable_error: Hashable
) -> Versions[T]:
    error = cast(DataFileError, hashable_error)
    found: list[T] = []
    if directory is None:
        folder = resources.files("rongxin") / "data"
        for f in folder.iterdir():
            if f.name.startswith(prefix) and f.name.endswith(FILE_SUFFIX):
                raw = f.read_text(encoding="utf-8")
                found.append(
                    parse(raw, model, source=f"rongxin/data/{f.name}", what=what, error=error)
                )
        return Versions(found, what=what, error=error)
    if not directory.is_dir():
        raise error(f"{directory}: not a directory of {prefix}<version>.md files")
    for path in sorted(directory.glob(f"{prefix}*{FILE_SUFFIX}")):
        raw = data_files.read_text(path, what=f"the {what}", error=error)
        found.append(parse(raw, model, source=str(path), what=what, error=error))
    return Versions(found, what=what, error=error)

"""Versioned data files (YAML or JSON) validated by a pydantic model, with errors that name the
file, the line and the field — the catalog, consent purpose templates, security controls.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(Protocol):
    """The error class a domain raises for its files (a ``RongxinError`` taking details)."""

    def __call__(self, message: str, **details: Any) -> Exception: ...


def node_line(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest one that exists)."""
    node, line = root, None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def parse(text: str, model: type[M], *, source: str, error: DataFileError) -> M:
    """Parse YAML/JSON ``text`` into ``model``; every problem names source, line and field
    (``error(message, problems=[{file, line, field, reason}, …])``)."""
    try:
        data: Any = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise error(f"{where}: not valid YAML/JSON: {exc}", file=source) from exc
    if not isinstance(data, dict):
        raise error(f"{source}: the file must be a mapping at the top", file=source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function")]
            line = node_line(root, loc)
            field = ".".join(str(p) for p in loc) or "(top)"
            problems.append({"file": source, "line": line, "field": field, "reason": err["msg"]})
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise error(
            f"{first['file']}:{first['line']}: {first['field']}: {first['reason']}{more}",
            problems=problems,
        ) from exc


def read_text(path: Path, *, what: str, error: DataFileError) -> str:
    """A data file's UTF-8 text, or ``error`` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: {what} must be UTF-8 ({exc.reason})", file=str(path)) from exc


def shipped_or_file(
    model: type[M],
    *,
    shipped: str,
    path: Path | None,
    what: str,
    error: DataFileError,
    remember: bool = False,
) -> M:
    """The operator's file at ``path`` when given, else the file ``shipped`` with the package
    (``rongxin/data/<shipped>``, parsed once per process); errors name the file, line and
    field. With ``remember`` the operator's file too is read once per process (restart to apply
    a change; a file that fails validation is not remembered)."""
    if path is None:
        return cast(M, _shipped(model, shipped, cast(Hashable, error)))
    if remember:
        return cast(M, _remembered(model, path, what, cast(Hashable, error)))
    return _operator_file(model, path, what, error)


def _operator_file(model: type[M], path: Path, what: str, error: DataFileError) -> M:
    return parse(read_text(path, what=what, error=error), model, source=str(path), error=error)


@cache
def _remembered(model: type[M], path: Path, what: str, error: Hashable) -> M:
    return _operator_file(model, path, what, cast(DataFileError, error))


@cache
def _shipped(model: type[M], name: str, error: Hashable) -> M:
    text = (resources.files("rongxin") / "data" / name).read_text(encoding="utf-8")
    return parse(text, model, source=f"rongxin/data/{name}", error=cast(DataFileError, error))

"""Generate docs/cli.md from the CLI's own --help (``make docs``; ``--check`` in ``make lint``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _walk(cmd: Any, path: list[str]) -> list[str]:
    """Help text of ``cmd`` and its sub-commands (a click command, as Typer builds it)."""
    ctx = cmd.context_class(
        cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100
    )
    out = [
        f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`",
        "",
        "```text",
        cmd.get_help(ctx).rstrip(),
        "```",
        "",
    ]
    if hasattr(cmd, "list_commands"):
        for name in sorted(cmd.list_commands(ctx)):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _walk(sub, [*path, name])
    return out


def render() -> str:
    import os

    os.environ["TERM"] = "dumb"
    os.environ["NO_COLOR"] = "1"
    os.environ["COLUMNS"] = "100"
    from rongxin.cli import app

    head = [
        "# rongxin command line",
        "",
        "Generated from the commands' own `--help` by `make docs`; `make lint` fails when it is",
        "out of date. Every command exits 0 on success, 1 when it reports invalid input it was",
        "asked to check (`rongxin uscc check`), and 2 on any error (message on stderr).",
        "",
    ]
    return "\n".join(head + _walk(typer.main.get_command(app), ["rongxin"])) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print("docs/cli.md is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

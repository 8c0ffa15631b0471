"""Generate docs/cli.md from the CLI's own --help (``make docs``; ``--check`` in ``make lint``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "TERMINAL_WIDTH": "100"}


def _help(app: typer.Typer, path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=ENV, prog_name="rongxin")
    if result.exit_code != 0:
        raise RuntimeError(f"`rongxin {' '.join(path)} --help` failed: {result.output}")
    lines = [line.rstrip() for line in result.output.splitlines()]
    return "\n".join(lines).strip("\n")


def _walk(app: typer.Typer, cmd: Any, path: list[str]) -> list[str]:
    title = " ".join(["rongxin", *path])
    out = [f"{'#' * min(len(path) + 2, 4)} `{title}`", "", "```text", _help(app, path), "```", ""]
    if not hasattr(cmd, "list_commands"):
        return out
    ctx = typer.Context(cmd, info_name=title)  # groups may load their commands on demand
    for name in sorted(cmd.list_commands(ctx)):
        sub = cmd.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            out += _walk(app, sub, [*path, name])
    return out


def render() -> str:
    from rongxin.cli import app

    head = [
        "# rongxin command line",
        "",
        "Generated from the commands' own `--help` by `make docs`; `make lint` fails when it is",
        "out of date. Every command exits 0 on success, 1 when it reports invalid input it was",
        "asked to check (`rongxin uscc check`), and 2 on any error (message on stderr).",
        "",
    ]
    return "\n".join(head + _walk(app, typer.main.get_command(app), [])) + "\n"


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

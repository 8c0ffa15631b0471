"""Server-rendered pages (Jinja2 + HTMX). Pages call services, never the database."""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"

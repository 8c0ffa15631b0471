"""Fixtures of the provider tests (defined in provider_factories, importable from any test)."""

from __future__ import annotations

from provider_factories import (  # noqa: F401 - pytest fixtures, registered by import
    catalog,
    provider_client,
    providers,
    scripted_url,
    slow_url,
)

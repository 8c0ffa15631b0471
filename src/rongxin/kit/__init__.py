"""Tiny generic helpers — nothing domain-specific lives here."""

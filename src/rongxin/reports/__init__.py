"""Standardized credit reports (V2): assembly, rendering, issuance log, usage feedback (V1)."""

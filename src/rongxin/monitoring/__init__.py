"""Abuse monitoring of the access log (Z3): rules, alerts, escalation to suspension."""

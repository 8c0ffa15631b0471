"""Batch push of new and changed records to institutions, by region, industry and category (V3)."""

"""Physical aggregation (物理归集): parsing, validation, upsert, batches and data quality."""

"""Credit records (信用记录) with provenance, versions and a change sequence.

Only the access-policy choke point (a later domain) and the ingest service may select these
tables; every other module goes through them.
"""

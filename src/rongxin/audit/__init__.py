"""The append-only, tamper-evident access log (V1, Z3): a hash chain with signed checkpoints."""

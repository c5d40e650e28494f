"""Software-defined assets, one per warehouse table (raw, normalized, history, analytics)."""

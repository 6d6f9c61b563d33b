"""Ledger and lock backends: SQLite (local, the default) and Kubernetes (in-cluster)."""

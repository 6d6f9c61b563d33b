"""Benchmarks of ship against the sandbox: see bench/README.md."""

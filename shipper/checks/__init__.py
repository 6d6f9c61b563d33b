"""Regression checks: adapters that measure one side of a release during a bake.

Each module here implements `shipper.ports.Check` over a vendor protocol (HTTP probes,
the Prometheus query API). `factory.build_checks` turns a pipeline's `verify.checks` into
them. Nothing here is imported by the core or by `ship --help`: httpx loads only when a
command actually builds checks.
"""

"""The configured preflight checks: the migration's hard-won lessons (the database
connection budget, resources, environment parity, the concurrency shape), read from the
platforms and the database and judged by `shipper.core.budget` and `shipper.core.lessons`."""

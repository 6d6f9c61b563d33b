"""The Heroku side of ship: the Platform API adapter and the platform status gate.

Kept import-light on purpose: `ship --help` imports this package's parent, and httpx is
only imported by the modules that speak HTTP (`api`, `status_gate`, `factory`).
"""

"""Local stand-ins for Heroku, Kubernetes, the status page and the application.

They speak the real wire protocols on 127.0.0.1 only, so the real adapters are what runs
against them. Nothing here is imported by `ship` itself unless `ship sandbox` is used,
and importing this package imports none of its servers.
"""

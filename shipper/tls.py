"""One TLS context for every HTTP client of a process.

httpx builds a fresh SSL context, loading and parsing the whole CA bundle, for each
client made without one, and a release makes five (the Heroku API, its output streams,
container images, the status page, the checks) before the lock is even taken. They share
this one instead, built once on first use with httpx's own defaults (certifi, or
SSL_CERT_FILE / SSL_CERT_DIR when set), so what is trusted is the same for every client.
"""

from __future__ import annotations

import ssl
import threading

_context: list[ssl.SSLContext] = []
_guard = threading.Lock()


def shared_context() -> ssl.SSLContext:
    with _guard:
        if not _context:
            import httpx

            _context.append(httpx.create_ssl_context())
        return _context[0]

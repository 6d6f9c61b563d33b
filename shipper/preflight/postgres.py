"""Reading a PostgreSQL server's connection limits: the only module that imports psycopg.

The URL comes from an environment variable the pipeline names and is never printed,
logged or put in an error: a failure says which variable, and what went wrong with
every part of the URL removed. The session is read-only and short-lived.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from shipper.core.estate import DatabaseLimits
from shipper.errors import PlatformUnavailable

_QUERY = """
SELECT
  current_setting('max_connections')::int,
  current_setting('superuser_reserved_connections')::int
    + COALESCE((SELECT setting::int FROM pg_settings WHERE name = 'reserved_connections'), 0),
  (SELECT count(*) FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int
"""


def _secrets_of(url: str) -> list[str]:
    """Every part of `url` that could be secret, longest first, for scrubbing."""
    parts = [url]
    try:
        split = urlsplit(url)
        for raw in (split.password, split.username):
            if raw:
                parts += [raw, unquote(raw)]
    except ValueError:
        pass
    parts += re.findall(r"password\s*=\s*(\S+)", url)
    return sorted({p for p in parts if len(p) >= 3}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    for secret in _secrets_of(url):
        text = text.replace(secret, "***")
    return text


def read_limits(url: str, env_name: str, connect_timeout: int = 5) -> DatabaseLimits:
    """max_connections, the reserved slots and the client connections open now (this one
    not counted). PlatformUnavailable, naming `env_name` and never the URL, when the
    database can't be reached or read."""
    import psycopg  # only this check needs the driver

    try:
        with psycopg.connect(
            url,
            connect_timeout=connect_timeout,
            application_name="ship-preflight",
            options="-c default_transaction_read_only=on",
            autocommit=True,
        ) as conn:
            row = conn.execute(_QUERY).fetchone()
    except psycopg.Error as exc:
        reason = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else "", url)
        raise PlatformUnavailable(
            f"could not read the connection limits of the database in ${env_name}: "
            f"{reason or type(exc).__name__}"
        ) from None
    if row is None:
        raise PlatformUnavailable(f"the database in ${env_name} returned no settings")
    return DatabaseLimits(int(row[0]), int(row[1]), int(row[2]))

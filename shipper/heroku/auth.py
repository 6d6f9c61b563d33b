"""Where ship finds its Heroku token, and a value type that never shows it.

The order follows DESIGN.md and the Heroku CLI: a netrc file named in the pipeline
(`heroku.netrc`) wins when set, because a pipeline that names one means it; else
`HEROKU_API_KEY`; else the user's `~/.netrc`, looked up by the host of the API URL first
and then as `machine api.heroku.com` (where `heroku login` stores its token, as the
`password`), so an API URL pointed elsewhere (a proxy) still finds the CLI's token.
"""

from __future__ import annotations

import netrc
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from shipper.errors import PlatformAuthError

HEROKU_HOST = "api.heroku.com"  # the machine `heroku login` writes to ~/.netrc


@dataclass(frozen=True)
class Token:
    """A bearer token. Its repr and str never contain it, so no log or traceback can."""

    value: str = field(repr=False)
    source: str = ""  # where it came from, safe to show: "HEROKU_API_KEY", "~/.netrc"

    def __str__(self) -> str:
        return f"<Heroku token from {self.source}>"

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the token replaced (defence in depth)."""
        if self.value and self.value in text:
            return text.replace(self.value, "[redacted]")
        return text


def resolve_token(api_url: str, env: Mapping[str, str], netrc_file: str | None = None) -> Token:
    """The token to use for `api_url`, or PlatformAuthError saying where ship looked."""
    host = urlsplit(api_url).hostname or HEROKU_HOST
    if netrc_file:
        found = _from_netrc(Path(netrc_file), host)
        if found is None:
            raise PlatformAuthError(
                f"the netrc file {netrc_file} (heroku.netrc) has no password for machine "
                f"{host}; add one with `heroku login` or fix heroku.netrc"
            )
        return Token(found, f"netrc file {netrc_file}")
    key = env.get("HEROKU_API_KEY", "").strip()
    if key:
        return Token(key, "HEROKU_API_KEY")
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    default = home / ".netrc"
    found = None
    if default.exists():
        found = _from_netrc(default, host)
        if found is None and host != HEROKU_HOST:
            found = _from_netrc(default, HEROKU_HOST)
    if found is None:
        raise PlatformAuthError(
            f"no Heroku credentials: set HEROKU_API_KEY, or run `heroku login` so that "
            f"~/.netrc has machine {host}"
            + (f" or machine {HEROKU_HOST}" if host != HEROKU_HOST else "")
        )
    return Token(found, "~/.netrc")


def _from_netrc(path: Path, host: str) -> str | None:
    problem = ""
    try:
        parsed = netrc.netrc(str(path))
    except FileNotFoundError:
        problem = f"the netrc file {path} does not exist; fix heroku.netrc"
    except netrc.NetrcParseError as exc:
        # Only the file and line: the parser's message may quote a token, so the
        # error is raised outside this block and carries no context to print.
        problem = f"cannot parse the netrc file {path} (line {exc.lineno}); fix its syntax"
    except OSError as exc:
        problem = f"cannot read the netrc file {path}: {exc.strerror}"
    if problem:
        raise PlatformAuthError(problem)
    entry = parsed.authenticators(host)
    if entry is None:
        return None
    password = entry[2]
    return password.strip() or None

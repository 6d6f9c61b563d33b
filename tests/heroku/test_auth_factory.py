"""Where the token comes from, and the factory the CLI calls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shipper.errors import BadInput, PipelineError, PlatformAuthError
from shipper.heroku.auth import Token, resolve_token
from shipper.heroku.factory import (
    build_heroku_migration_runner,
    build_heroku_platform,
    build_status_gate,
)
from shipper.heroku.status_gate import HerokuStatusGate
from shipper.pipeline import parse_pipeline
from tests.fakes.clock import FakeClock
from tests.heroku.conftest import CANARY, Leaks
from tests.heroku.fake_heroku import FakeHeroku

PIPELINE = """
name: web
heroku:
  apps: [acme-web]
  artifact: {type: source, url: "https://codeload.example.com/{version}.tgz"}
"""


def _netrc(path: Path, host: str, password: str) -> str:
    path.write_text(f"machine {host}\n  login me@example.com\n  password {password}\n")
    path.chmod(0o600)
    return str(path)


def test_env_key_is_used_when_no_netrc_is_configured(tmp_path: Path) -> None:
    """HEROKU_API_KEY is the token when the pipeline names no netrc file."""
    token = resolve_token(
        "https://api.heroku.com", {"HEROKU_API_KEY": CANARY, "HOME": str(tmp_path)}
    )
    assert token.value == CANARY and token.source == "HEROKU_API_KEY"


def test_pipeline_netrc_wins_over_the_env_key(tmp_path: Path) -> None:
    """A netrc file named by heroku.netrc wins over HEROKU_API_KEY."""
    path = _netrc(tmp_path / "netrc", "api.heroku.com", "from-file")
    token = resolve_token("https://api.heroku.com", {"HEROKU_API_KEY": CANARY}, path)
    assert token.value == "from-file"


def test_home_netrc_is_read_by_the_api_host(tmp_path: Path) -> None:
    """Without the env key, ~/.netrc is read for the API URL's host (here a local stand-in)."""
    _netrc(tmp_path / ".netrc", "127.0.0.1", "local-token")
    token = resolve_token("http://127.0.0.1:5555", {"HOME": str(tmp_path)})
    assert token.value == "local-token" and token.source == "~/.netrc"


def test_home_netrc_falls_back_to_the_heroku_cli_machine(tmp_path: Path) -> None:
    """An API URL on another host (a proxy) with no netrc entry of its own still finds the
    token `heroku login` stored under machine api.heroku.com; its own host comes first."""
    (tmp_path / ".netrc").write_text(
        "machine api.heroku.com\n  login me@example.com\n  password cli-token\n"
    )
    (tmp_path / ".netrc").chmod(0o600)
    token = resolve_token("https://heroku-proxy.internal", {"HOME": str(tmp_path)})
    assert token.value == "cli-token" and token.source == "~/.netrc"
    with (tmp_path / ".netrc").open("a") as more:
        more.write("machine heroku-proxy.internal\n  login me\n  password proxy-token\n")
    token = resolve_token("https://heroku-proxy.internal", {"HOME": str(tmp_path)})
    assert token.value == "proxy-token"


def test_missing_credentials_are_bad_configuration(tmp_path: Path) -> None:
    """No token anywhere is exit 2 (configuration to fix), never 1 ("rolled back")."""
    with pytest.raises(PlatformAuthError) as raised:
        resolve_token("https://heroku-proxy.internal", {"HOME": str(tmp_path)})
    assert raised.value.exit_code == 2
    assert "machine heroku-proxy.internal or machine api.heroku.com" in str(raised.value)


def test_missing_credentials_say_where_ship_looked(tmp_path: Path) -> None:
    """No env key and no netrc entry is an auth error naming both places."""
    with pytest.raises(PlatformAuthError, match=r"HEROKU_API_KEY.*~/.netrc"):
        resolve_token("https://api.heroku.com", {"HOME": str(tmp_path)})


def test_unparseable_netrc_error_does_not_quote_the_file(tmp_path: Path, leaks: Leaks) -> None:
    """A broken netrc file is named with its line, never quoted (it may hold a token)."""
    path = tmp_path / "netrc"
    path.write_text(f"machine api.heroku.com\n  {CANARY} password\n")
    with pytest.raises(PlatformAuthError, match="cannot parse") as caught:
        resolve_token("https://api.heroku.com", {}, str(path))
    leaks.add(caught.value)


def test_token_repr_hides_the_value() -> None:
    """A Token's repr and str never show the token itself."""
    token = Token(CANARY, "HEROKU_API_KEY")
    assert CANARY not in repr(token) and CANARY not in str(token)


def test_factory_uses_the_api_url_override(tmp_path: Path) -> None:
    """SHIP_HEROKU_API_URL replaces heroku.api_url, and the netrc lookup follows its host."""
    _netrc(tmp_path / ".netrc", "127.0.0.1", "sandbox-token")
    pipeline = parse_pipeline(PIPELINE, "web.yaml")
    side = build_heroku_platform(
        pipeline,
        clock=FakeClock(),
        env={"SHIP_HEROKU_API_URL": "http://127.0.0.1:5555", "HOME": str(tmp_path)},
    )
    assert str(side.api._client.base_url) == "http://127.0.0.1:5555"
    assert [t.name for t in side.targets()] == ["acme-web"]


def test_factory_refuses_a_bad_api_url_override() -> None:
    """A SHIP_HEROKU_API_URL that is not a URL is bad input (exit 2)."""
    pipeline = parse_pipeline(PIPELINE, "web.yaml")
    with pytest.raises(BadInput, match="SHIP_HEROKU_API_URL"):
        build_heroku_platform(
            pipeline, clock=FakeClock(), env={"SHIP_HEROKU_API_URL": "nope", "HEROKU_API_KEY": "k"}
        )


def test_status_gate_is_none_without_its_section() -> None:
    """No gates.heroku_status in the pipeline means no gate."""
    assert build_status_gate(parse_pipeline(PIPELINE, "web.yaml"), env={}) is None


def test_status_gate_url_override() -> None:
    """SHIP_HEROKU_STATUS_URL replaces gates.heroku_status.url."""
    text = PIPELINE + "gates:\n  heroku_status: {systems: [Apps]}\n"
    gate = build_status_gate(
        parse_pipeline(text, "web.yaml"),
        env={"SHIP_HEROKU_STATUS_URL": "http://127.0.0.1:9/api/v4/current-status"},
    )
    assert isinstance(gate, HerokuStatusGate)
    assert gate._url == "http://127.0.0.1:9/api/v4/current-status"


def test_package_import_stays_light() -> None:
    """Importing shipper.heroku loads neither httpx nor kubernetes (ship --help stays fast)."""
    code = (
        "import sys, shipper.heroku; "
        "print(any(m.split('.')[0] in ('httpx', 'kubernetes') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_factory_platform_sends_the_env_token_as_bearer(heroku: FakeHeroku, tmp_path: Path) -> None:
    """The factory's platform authenticates with HEROKU_API_KEY (the fake refuses otherwise)."""
    pipeline = parse_pipeline(PIPELINE, "web.yaml")
    side = build_heroku_platform(
        pipeline, clock=FakeClock(), env={"HEROKU_API_KEY": CANARY, "HOME": str(tmp_path)}
    )
    assert side.snapshot()[0].version == "v41"
    assert heroku.requests[0].headers["Authorization"] == f"Bearer {CANARY}"


def test_heroku_migration_runner_refuses_with_the_reason() -> None:
    """runner heroku is refused as bad input, saying a one-off dyno runs the current release."""
    text = PIPELINE + "migrations: {command: [bin/rails, db:migrate], runner: heroku}\n"
    with pytest.raises(PipelineError, match="current release"):
        build_heroku_migration_runner(parse_pipeline(text, "web.yaml"), clock=FakeClock(), env={})


def test_every_client_of_a_release_shares_one_tls_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Heroku API, its streams, images, the status page and the checks share one SSL
    context: each one httpx builds loads the whole CA bundle (20 to 30 ms)."""
    import ssl

    from shipper import tls
    from shipper.checks.factory import build_checks

    built: list[object] = []
    plain = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(1)
        return plain(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    monkeypatch.setattr(tls, "_context", [])
    text = (
        PIPELINE
        + "gates:\n  heroku_status: {systems: [Apps]}\n"
        + "verify:\n  checks:\n    - {name: up, side: heroku, http: {url: 'https://x.example/h'}}\n"
    )
    pipeline = parse_pipeline(text, "web.yaml")
    env = {"HEROKU_API_KEY": "k", "HOME": str(tmp_path)}
    side = build_heroku_platform(pipeline, clock=FakeClock(), env=env)
    gate = build_status_gate(pipeline, env=env)
    checks = build_checks(pipeline, env=env, clock=FakeClock())
    assert side is not None and gate is not None and checks
    assert len(built) == 1

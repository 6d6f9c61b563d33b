"""Bad and hostile input to the `ship` command (in-process, with typer's CliRunner):
whatever the pipeline file or the version string holds, `ship` exits 2 with one line
that names the problem, never a traceback, and never runs anything the input smuggles in.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from shipper.cli import app
from shipper.core.config import DEFAULT_VERSION_PATTERN, ReleasePolicy, VerifyPolicy
from tests.reliability.tally import Tally

GOOD: dict[str, Any] = {
    "name": "web",
    "heroku": {
        "api_url": "http://127.0.0.1:9",
        "apps": ["acme-web"],
        "artifact": {"type": "source", "url": "https://x.invalid/{version}.tgz"},
    },
    "kubernetes": {
        "context": "prod",
        "namespace": "web",
        "image": "ghcr.io/acme/web:{version}",
        "workloads": ["deployment/web"],
        "rollout_timeout": "10m",
    },
    "migrations": {"paths": ["db/migrate/**"], "command": ["bin/rails", "db:migrate"]},
    "verify": {
        "bake": "5m",
        "interval": "15s",
        "checks": [
            {"name": "up", "side": "heroku", "http": {"url": "https://acme.invalid/health"}},
        ],
    },
    "lock": {"backend": "sqlite", "ttl": "15m"},
}
PROPS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SAFE_VERSION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # an image tag


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "web.yaml").write_text(yaml.safe_dump(GOOD))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HEROKU_API_KEY", "hk-bad-input-canary-0f3e")
    yield tmp_path
    assert not (tmp_path / "pwned").exists()


def ship(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def one_line_exit_2(result: Result, *, naming: str = "") -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in result.stderr
    assert naming in lines[0]


# --- pipeline files ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


ALL_PATHS = _paths(GOOD)[1:]


@st.composite
def mutated_pipelines(draw: st.DrawFn) -> str:
    """The good pipeline with a few keys replaced, deleted or added, as YAML text."""
    data = copy.deepcopy(GOOD)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = data
        try:
            for step in path[:-1]:
                parent = parent[step]
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not isinstance(parent, dict | list):
            continue
        if action == "delete" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
        else:
            try:
                parent[path[-1]] = draw(json_values)
            except (IndexError, TypeError):
                continue
    return yaml.safe_dump(data, allow_unicode=True)


pipeline_texts = st.one_of(mutated_pipelines(), st.text(max_size=300))


@PROPS
@given(text=pipeline_texts)
def test_any_pipeline_file_validates_or_exits_2_with_one_line(
    project: Path, tally: Tally, text: str
) -> None:
    """Any pipeline file is either valid (exit 0) or refused with exit 2 and one line that
    names the file; never a traceback."""
    tally.faults += 1
    path = project / "pipelines" / "web.yaml"
    path.write_text(text, encoding="utf-8")
    result = ship("validate", "-p", "web")
    if result.exit_code == 0:
        return
    one_line_exit_2(result, naming="pipelines/web.yaml")


# --- version strings ---------------------------------------------------------------------

POLICY = ReleasePolicy(
    pipeline="web",
    verify=VerifyPolicy(bake_seconds=1, interval_seconds=1, failure_limit=1),
    version_pattern=DEFAULT_VERSION_PATTERN,
)


@PROPS
@given(raw=st.text(max_size=200))
def test_a_version_string_is_accepted_only_when_it_is_plain(tally: Tally, raw: str) -> None:
    """Any version string is either refused with a reason or a plain image tag: letters,
    digits, . _ and -, at most 128 characters, not starting with . or -."""
    tally.faults += 1
    checked = POLICY.check_version(raw)
    if checked == raw:
        assert SAFE_VERSION.fullmatch(raw) and len(raw) <= 128
    else:
        assert isinstance(checked, str) and "\n" not in checked


@PROPS
@given(raw=st.text(min_size=1, max_size=200).filter(lambda v: not v.startswith("-")))
def test_a_refused_version_exits_2_with_one_line(project: Path, tally: Tally, raw: str) -> None:
    """`ship deploy V` with any version ship refuses exits 2 with one line, before touching
    the ledger or a platform."""
    if POLICY.check_version(raw) == raw:
        return
    tally.faults += 1
    one_line_exit_2(ship("deploy", raw, "-p", "web", "--yes"), naming="version")
    assert not (project / "state" / "web.sqlite3").exists()


HOSTILE_VERSIONS = [
    "1.0; rm -rf /",
    "1.0 && touch pwned",
    "$(touch pwned)",
    "`touch pwned`",
    "{version.__class__}",
    "{0.__class__.__mro__}",
    "v1\nv2",
    "v1\x00",
    "v" * 129,
    "ünïcode",
    "",
]


@pytest.mark.parametrize("raw", HOSTILE_VERSIONS)
def test_hostile_version_exits_2_and_runs_nothing(project: Path, tally: Tally, raw: str) -> None:
    """A version that tries shell or template tricks exits 2 with one line; nothing runs."""
    tally.faults += 1
    one_line_exit_2(ship("deploy", raw, "-p", "web", "--yes"))


# --- hostile pipeline files ----------------------------------------------------------------


def _write(project: Path, text: str | bytes) -> None:
    path = project / "pipelines" / "web.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


@pytest.mark.parametrize(
    "key,value",
    [
        ("image", "ghcr.io/acme/web:{version.__class__}"),
        ("image", "ghcr.io/acme/web:{version!r}"),
        ("image", "ghcr.io/acme/web:{0}{version}"),
        ("image", "ghcr.io/acme/web:{version:>{width}}"),
    ],
)
def test_template_that_tries_to_escape_is_refused(
    project: Path, tally: Tally, key: str, value: str
) -> None:
    """A template using anything but a plain {version} is refused at load, exit 2."""
    tally.faults += 1
    data = copy.deepcopy(GOOD)
    data["kubernetes"][key] = value
    _write(project, yaml.safe_dump(data))
    one_line_exit_2(ship("validate", "-p", "web"), naming="kubernetes.image")


HOSTILE_FILES: dict[str, str | bytes] = {
    "huge": "name: web\n" + "# padding\n" * 200_000,
    "deep-lists": "name: web\nx: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-maps": "name: web\nx: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
    "python-apply": 'name: !!python/object/apply:os.system ["touch pwned"]\n',
    "python-name": "name: web\nx: !!python/name:os.system\n",
    "python-object": "name: web\nx: !!python/object:subprocess.Popen {args: [touch, pwned]}\n",
    "custom-tag": "name: !Ref web\n",
    "not-utf8": b"name: web\nheroku: \xff\xfe\n",
    "nul-bytes": "name: web\x00\n",
    "alias-bomb": "name: web\nx:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(
        f"  {n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_hostile_pipeline_file_exits_2_quickly(project: Path, tally: Tally, name: str) -> None:
    """Huge files, deep nesting, object-constructing YAML tags, bad encodings and alias
    bombs exit 2 with one line naming the file, within seconds, constructing nothing."""
    tally.faults += 1
    _write(project, HOSTILE_FILES[name])
    started = time.monotonic()
    result = ship("validate", "-p", "web")
    assert time.monotonic() - started < 5
    one_line_exit_2(result, naming="pipelines/web.yaml")
    assert not (project / "pwned").exists()

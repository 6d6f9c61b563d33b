"""DESIGN.md's exit-code table, walked row by row with the real `ship` command, and
configuration found wrong before any change (credentials, kube context, state dir) is 2."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipper import errors

SHIP = str(Path(sys.executable).parent / "ship")
README = Path(__file__).parents[2] / "README.md"

WEB = """\
name: web
heroku:
  api_url: http://127.0.0.1:9/
  apps: [acme-web]
  artifact: {type: source, url: "https://x.invalid/{version}.tgz"}
"""
KUBE = """\
name: kube
kubernetes:
  kubeconfig: kubeconfig
  context: prod
  namespace: web
  image: "ghcr.io/acme/web:{version}"
  workloads: [deployment/web]
"""
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: staging, context: {cluster: c, user: u}}]
current-context: staging
"""


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A project with two pipelines, its own state dir and HOME (no ~/.netrc), no secrets."""
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "web.yaml").write_text(WEB)
    (tmp_path / "pipelines" / "kube.yaml").write_text(KUBE)
    (tmp_path / "pipelines" / "kubeconfig").write_text(KUBECONFIG)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHIP_", "HEROKU_", "KUBECONFIG", "GITHUB_", "CI"))
    }
    env |= {"HOME": str(tmp_path), "SHIP_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
    env["HEROKU_API_KEY"] = "canary-0123456789abcdef"
    env["PWD"] = str(tmp_path)
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHIP, *args], cwd=env["PWD"], env=env, capture_output=True, text=True, timeout=60
    )


def test_every_error_class_exits_with_a_code_of_the_table() -> None:
    """Each ShipError class carries one of the table's codes, and the table is README's."""
    table = {int(m) for m in re.findall(r"^\| (\d+) \|", README.read_text(), re.M)}
    assert table == {0, 1, 2, 3, 4, 130}
    stack: list[type[errors.ShipError]] = [errors.ShipError]
    while stack:
        cls = stack.pop()
        assert cls.exit_code in table, cls
        stack.extend(cls.__subclasses__())


def test_0_done(home: dict[str, str]) -> None:
    """0: the command did what was asked (a valid pipeline is valid)."""
    assert run(home, "validate", "-p", "web").returncode == 0


def test_1_not_confirmed_nothing_changed(home: dict[str, str]) -> None:
    """1: failed with nothing changed (the prompt of a terminal answered no)."""
    code, seen = on_terminal(home, ["deploy", "v2", "-p", "web", "--no-migrations"], b"n\r")
    assert code == 1, seen
    assert b"not confirmed; nothing was changed" in seen


def test_2_bad_input(home: dict[str, str]) -> None:
    """2: a version string that is not one."""
    done = run(home, "deploy", "v 2", "-p", "web", "--yes")
    assert done.returncode == 2 and "version" in done.stderr


def test_2_missing_heroku_credentials_names_the_fix(home: dict[str, str]) -> None:
    """2: no HEROKU_API_KEY and no ~/.netrc entry, found before any change; the fix is named."""
    del home["HEROKU_API_KEY"]
    done = run(home, "deploy", "v2", "-p", "web", "--no-migrations", "--yes", "-o", "json")
    assert done.returncode == 2, done.stderr
    assert "HEROKU_API_KEY" in done.stderr.splitlines()[-1]
    assert "recording where" not in done.stderr


def test_2_wrong_kube_context_names_the_fix(home: dict[str, str]) -> None:
    """2: a kube context the kubeconfig does not have, named with the ones it has."""
    done = run(home, "deploy", "v2", "-p", "kube", "--no-migrations", "--yes", "-o", "json")
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert "kubernetes.context" in last and "staging" in last


def test_2_unwritable_state_dir_names_the_fix(home: dict[str, str], tmp_path: Path) -> None:
    """2: a state dir ship can't write, with SHIP_STATE_DIR named as the fix."""
    if os.geteuid() == 0:
        home["SHIP_STATE_DIR"] = "/proc/ship-cannot-write-here"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        home["SHIP_STATE_DIR"] = str(locked)
    done = run(home, "deploy", "v2", "-p", "web", "--no-migrations", "--yes", "-o", "json")
    assert done.returncode == 2, done.stderr
    assert "SHIP_STATE_DIR" in done.stderr.splitlines()[-1]


def test_3_blocked_by_a_freeze(home: dict[str, str]) -> None:
    """3: the lock is held (a freeze); nothing changed."""
    assert run(home, "lock", "acquire", "--reason", "Black Friday", "-p", "web").returncode == 0
    done = run(home, "deploy", "v2", "-p", "web", "--no-migrations", "--yes", "-o", "json")
    assert done.returncode == 3 and "Black Friday" in done.stderr


def test_4_ledger_unreadable(home: dict[str, str]) -> None:
    """4: state unknown (a damaged ledger): a person must act; it is never reset."""
    state = Path(home["SHIP_STATE_DIR"])
    state.mkdir()
    (state / "web.sqlite3").write_bytes(b"not a database" * 200)
    assert run(home, "history", "-p", "web").returncode == 4


def test_130_ctrl_c_during_lock_wait(home: dict[str, str]) -> None:
    """130: Ctrl-C while waiting for the lock; no release began, so none is "recorded"."""
    assert run(home, "lock", "acquire", "--reason", "freeze", "-p", "web").returncode == 0
    proc = subprocess.Popen(
        [SHIP, "deploy", "v2", "-p", "web", "--no-migrations", "--yes", "--lock-wait", "5m"],
        cwd=home["PWD"],
        env=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # JSON lines: wait until it says it waits
        if '"lock_waiting"' in line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "recording where the release stopped" not in err
    assert "nothing was changed" in err


def test_130_ctrl_c_at_the_prompt(home: dict[str, str]) -> None:
    """130: Ctrl-C at the confirmation prompt of a terminal; nothing was changed."""
    code, seen = on_terminal(home, ["deploy", "v2", "-p", "web", "--no-migrations"], b"\x03")
    assert code == 130, seen
    assert b"interrupted before any release began; nothing was changed" in seen


def on_terminal(env: dict[str, str], args: list[str], keys: bytes) -> tuple[int, bytes]:
    """Run ship on a pseudo-terminal, type `keys` at its question; its exit code and output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: ship on a terminal
        os.chdir(env["PWD"])
        os.execve(SHIP, [SHIP, *args], env)
    seen = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            seen += os.read(fd, 1024)
    os.write(fd, keys)
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen

"""A real PostgreSQL server for the tests: Debian's package, started on loopback in a
temporary directory with a small `max_connections`, stopped at the end.

Root can't run postgres, so as root the server runs as the `postgres` user (or `nobody`)
through runuser. Without the server binaries the tests skip, saying why, except in CI
(CI=true), where they fail: CI installs PostgreSQL, so a missing binary is a broken CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MAX_CONNECTIONS = 20
RESERVED = 3


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    pytest.fail("running as root with neither a postgres nor a nobody user to run the server")


@dataclass(frozen=True)
class Server:
    port: int
    user: str = "ship"

    def url(self, password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/postgres"


def need_binaries() -> Path:
    bindir = _bin_dir()
    if bindir is not None:
        return bindir
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("PostgreSQL's server binaries are missing in CI: .ci/run installs them")
    pytest.skip("PostgreSQL's server binaries are not installed (apt-get install postgresql)")


def start(folder: Path) -> Iterator[Server]:
    bindir = need_binaries()
    run_as = _as_user()
    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if run_as:
        owner = pwd.getpwnam(run_as[2])
        folder.chmod(0o777)
        for parent in folder.parents:  # pytest's temp folders are 0700: let the user in
            if str(parent).startswith(("/tmp", os.environ.get("TMPDIR", "/tmp"))):
                parent.chmod(parent.stat().st_mode | 0o011)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "ship",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
        f"-c max_connections={MAX_CONNECTIONS} -c superuser_reserved_connections={RESERVED} "
        "-c fsync=off"
    )
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-o",
            options,
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield Server(port)
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )

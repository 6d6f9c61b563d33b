"""What the stand-in serves beside the Platform API: build and release-phase output
streams, and source tarballs for `source_blob.url`.

Both live at capability URLs that need no token, as on Heroku: a stream answers 404
until its command has started, then stays open while the command runs (its output comes
when it ends), and a client that lost it resumes with `Range: bytes=N-`.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import time
from collections.abc import Iterator
from typing import Any

from shipper.sandbox.heroku_records import Build, Release
from shipper.sandbox.heroku_world import HerokuWorld
from shipper.sandbox.web import Answer, Request

STREAM_HOLD = 120.0  # the longest a stream stays open before it ends anyway
STREAM_LOOK = 0.02  # how often an open stream looks whether its command has ended
STREAM = re.compile(r"^/streams/(?P<kind>builds|releases)/(?P<ident>[0-9a-f-]+)\.log$")
ARTIFACT = re.compile(r"^/artifacts/(?P<version>[A-Za-z0-9._+@-]+)\.tar\.gz$")


class OutputStreams:
    """The output streams of one `HerokuWorld`'s builds and release commands."""

    def __init__(self, world: HerokuWorld) -> None:
        self.world = world

    def answer(self, kind: str, ident: str, request: Request) -> Answer:
        """The build or release-phase log: 404 until the command has started, then open
        for as long as the command runs (its output comes when it ends)."""
        with self.world.lock:
            found = self._streamed(kind, ident)
            if found is None:
                return Answer.of_text(404, "stream not found\n")
            if self.world.clock() < found.created_at + self.world.timings.stream_start:
                return Answer.of_text(404, "stream not started\n")
            pending = found.status == "pending"
            text = _log_text(found)
        skip = _byte_offset(request.header("Range"))
        status = 206 if skip else 200
        content_type = "text/plain; charset=utf-8"
        if not pending:
            return Answer(status, text.encode()[skip:], content_type)
        return Answer(status, b"", content_type, more=self._rest_of(kind, ident, skip))

    def _streamed(self, kind: str, ident: str) -> Build | Release | None:
        self.world.settle()
        found: Build | Release | None = None
        for app in self.world.apps.values():
            pool: list[Any] = app.builds if kind == "builds" else app.releases
            found = next((x for x in pool if x.id == ident), found)
        if found is None or (isinstance(found, Release) and not found.has_phase):
            return None
        return found

    def _rest_of(self, kind: str, ident: str, skip: int) -> Iterator[bytes]:
        """The output once the command has ended; after STREAM_HOLD seconds the stream
        ends anyway (the client then looks at the resource and reconnects or polls)."""
        until = time.monotonic() + STREAM_HOLD
        while time.monotonic() < until:
            time.sleep(STREAM_LOOK)
            with self.world.lock:
                found = self._streamed(kind, ident)
                if found is None or found.status != "pending":
                    text = _log_text(found) if found is not None else ""
                    yield text.encode()[skip:]
                    return


def _log_text(found: Build | Release) -> str:
    lines = list(found.log) or ["-----> Running..."]
    if found.status == "pending":
        return ""  # a running command's output arrives when it ends
    return "\n".join(lines) + "\n"


def _byte_offset(header: str | None) -> int:
    match = re.fullmatch(r"bytes=(\d+)-", (header or "").strip())
    return int(match.group(1)) if match else 0


def tarball(version: str) -> Answer:
    """A small, real source tarball for `version`, as a source_blob.url would serve."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in (
            ("Procfile", "web: bin/web\nworker: bin/worker\nrelease: bin/release\n"),
            ("VERSION", f"{version}\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(f"app-{version}/{name}")
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return Answer(200, gzip.compress(buffer.getvalue(), mtime=0), "application/gzip")

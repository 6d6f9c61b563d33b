"""Waiting on a build or release command through its output stream, not by polling.

Heroku keeps a build's (and a release command's) `output_stream_url` open while the
command runs and ends it when the command ends. Following the stream tells ship the
moment a 40-second build finishes, where polling notices it up to one interval later,
and it spends nothing of the account's 4,500 calls an hour (the stream is not the
Platform API). The stream never decides anything: when it ends, the caller reads the
resource, whose `status` is the verdict (reference: "decide pass/fail from the
resource's status, never from the stream").

Best effort, as the reference asks: a 404 means "not started yet" and is retried for a
few seconds; a stream cut after some output is resumed with `Range`; anything else ends
the watch and the caller goes back to polling. The reading runs in a daemon thread, so
the caller notices a cancellation or its deadline within `PAUSE_STEP`, however quiet the
stream is.
"""

from __future__ import annotations

import logging
import math
import threading

from shipper.errors import PlatformError, PlatformNotFound
from shipper.heroku.api import HerokuApi
from shipper.ports import Operation

log = logging.getLogger("shipper.heroku")

PAUSE_STEP = 0.1  # how quickly a wait on the stream notices a cancellation (real time)
NOT_STARTED_LOOKS = 50  # a 404 (not started yet) is asked again this many times ...
NOT_STARTED_PAUSE = 0.1  # ... this far apart (not Platform API calls: no budget spent)
RESUMES = 3  # a stream cut after some output is resumed this many times in a row
QUIET = 120.0  # a build step may print nothing for minutes (assets, say): not a cut


class StreamWatch:
    """One output stream read to its end in the background."""

    def __init__(self, api: HerokuApi, url: str) -> None:
        self._api = api
        self._url = url
        self._ended = threading.Event()  # the stream reached its end
        self._over = threading.Event()  # the reader stopped, at the end or not
        self._stop = threading.Event()
        self.bytes = 0
        thread = threading.Thread(target=self._read, name="heroku-stream", daemon=True)
        thread.start()

    @property
    def alive(self) -> bool:
        """Still reading: its end will say when the command has ended."""
        return not self._over.is_set()

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def wait(self, op: Operation, seconds: float) -> bool:
        """Up to `seconds` for the reader to stop; True when the stream reached its end.
        Returns early once `op` is cancelled."""
        for _ in range(max(1, math.ceil(seconds / PAUSE_STEP))):
            if self._over.wait(PAUSE_STEP) or op.cancelled:
                break
        return self._ended.is_set()

    def close(self) -> None:
        """Stop reading at the next chunk; a reader blocked on a quiet stream is a daemon
        and ends with the stream or the process."""
        self._stop.set()

    def _read(self) -> None:
        try:
            if self._follow():
                self._ended.set()
        except Exception:  # best effort: the caller polls instead
            log.info("an output stream could not be followed", exc_info=True)
        finally:
            self._over.set()

    def _follow(self) -> bool:
        not_started, resumes = 0, 0
        while not self._stop.is_set():
            before = self.bytes
            try:
                for chunk in self._api.stream_chunks(self._url, self.bytes, quiet=QUIET):
                    self.bytes += len(chunk)
                    if self._stop.is_set():
                        return False
                return True
            except PlatformNotFound:
                if self.bytes or not_started >= NOT_STARTED_LOOKS:
                    return False
                not_started += 1
                self._stop.wait(NOT_STARTED_PAUSE)
            except PlatformError as exc:
                resumes = resumes + 1 if self.bytes == before else 1
                if not self.bytes or resumes > RESUMES:
                    log.info("output stream given up: %s", exc)
                    return False
        return False

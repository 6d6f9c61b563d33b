"""Scripted failures, chosen by the version's name.

A version string that contains one of these words misbehaves on purpose, so a newcomer
can watch `ship` handle each failure without editing anything. The Kubernetes stand-in
reads the same words from the image tag, so the naming is shared and must not change:

| word         | what happens                                                            |
| ------------ | ----------------------------------------------------------------------- |
| `broken`     | ships fine on both sides, then fails its health checks on both sides:   |
|              | `/health` answers 503 and the error rate climbs to 35 %                 |
| `crashloop`  | the Kubernetes pods crash-loop (CrashLoopBackOff); Heroku runs it fine  |
| `badmigrate` | the migration Job exits 1                                               |
| `badrelease` | the Heroku release phase fails; the previous release stays current      |
| `badbuild`   | the Heroku build fails; no slug, no release                             |
| `crashdyno`  | the Heroku dynos of the new release crash; Kubernetes runs it fine      |
| `slowbuild`  | the Heroku build takes ten times as long as usual                       |
| `stuckrelease` | the Heroku release phase never finishes (stays `pending`)             |

Anything else (`v2`, `1.4.0`) is a good version.
"""

from __future__ import annotations

BROKEN = "broken"
CRASHLOOP = "crashloop"
BAD_MIGRATE = "badmigrate"
BAD_RELEASE = "badrelease"
BAD_BUILD = "badbuild"
CRASH_DYNO = "crashdyno"
SLOW_BUILD = "slowbuild"
STUCK_RELEASE = "stuckrelease"

ALL = (
    BROKEN,
    CRASHLOOP,
    BAD_MIGRATE,
    BAD_RELEASE,
    BAD_BUILD,
    CRASH_DYNO,
    SLOW_BUILD,
    STUCK_RELEASE,
)
SLOW_BUILD_FACTOR = 10.0
STUCK_SECONDS = 3600.0

HEALTHY_ERROR_RATE = 0.002
BROKEN_ERROR_RATE = 0.35


def _has(version: str | None, word: str) -> bool:
    return version is not None and word in version.lower()


def fails_health(version: str | None) -> bool:
    """The application answers its health check with an error once it runs."""
    return _has(version, BROKEN)


def crash_loops(version: str | None) -> bool:
    """Kubernetes containers of this image exit at once, over and over."""
    return _has(version, CRASHLOOP)


def fails_migration(version: str | None) -> bool:
    """The migration command of this version exits non-zero."""
    return _has(version, BAD_MIGRATE)


def fails_release_phase(version: str | None) -> bool:
    """The Heroku release command of this version's slug exits non-zero."""
    return _has(version, BAD_RELEASE)


def fails_build(version: str | None) -> bool:
    """The Heroku build of this version fails before producing a slug."""
    return _has(version, BAD_BUILD)


def crashes_dynos(version: str | None) -> bool:
    """Heroku dynos running this version crash after boot."""
    return _has(version, CRASH_DYNO)


def build_factor(version: str | None) -> float:
    """How many times longer than usual the Heroku build of this version takes."""
    return SLOW_BUILD_FACTOR if _has(version, SLOW_BUILD) else 1.0


def release_phase_stuck(version: str | None) -> bool:
    """The Heroku release phase of this version never finishes (an hour, as Heroku's
    own release-phase timeout)."""
    return _has(version, STUCK_RELEASE)


def error_rate(version: str | None) -> float:
    """The fraction of requests answered with a 5xx while `version` serves traffic."""
    return BROKEN_ERROR_RATE if fails_health(version) else HEALTHY_ERROR_RATE

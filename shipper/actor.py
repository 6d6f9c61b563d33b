"""Who is releasing: the actor written to the ledger, the lock and every notification.

A CI job is named after the person who triggered it and the run that did it, so that
`ship history` and a lock message answer "who, and where do I look": on-call can go from
`octocat (github acme/web run 4242)` straight to the run's log. Outside CI it is
`user@host`, like a lock holder on a shared bastion.

The value comes from environment variables other people set, and ends up in GitHub
workflow commands, Slack messages and terminal rows, so it is cleaned of control
characters and capped in length.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping

MAX_LENGTH = 120
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")

Detector = Callable[[Mapping[str, str]], str | None]


def detect_actor(env: Mapping[str, str], *, host: str | None = None) -> str:
    """The actor for a release started in this environment.

    `SHIP_ACTOR` wins when set (a wrapper script that knows better). Then the first CI
    system recognised from its own variables, else `user@host`. `host` is for tests;
    by default it is this machine's hostname.
    """
    explicit = env.get("SHIP_ACTOR", "").strip()
    if explicit:
        return _clean(explicit)
    for detector in _DETECTORS:
        found = detector(env)
        if found:
            return _clean(found)
    user = env.get("USER") or env.get("LOGNAME") or env.get("USERNAME") or _login()
    return _clean(f"{user}@{host if host is not None else _hostname()}")


def _github(env: Mapping[str, str]) -> str | None:
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    who = env.get("GITHUB_TRIGGERING_ACTOR") or env.get("GITHUB_ACTOR") or "github-actions"
    return _describe(who, "github", env.get("GITHUB_REPOSITORY"), "run", env.get("GITHUB_RUN_ID"))


def _gitlab(env: Mapping[str, str]) -> str | None:
    if env.get("GITLAB_CI") != "true":
        return None
    who = env.get("GITLAB_USER_LOGIN") or env.get("GITLAB_USER_NAME") or "gitlab"
    return _describe(
        who, "gitlab", env.get("CI_PROJECT_PATH"), "pipeline", env.get("CI_PIPELINE_ID")
    )


def _circleci(env: Mapping[str, str]) -> str | None:
    if env.get("CIRCLECI") != "true":
        return None
    who = env.get("CIRCLE_USERNAME") or "circleci"
    owner, repo = env.get("CIRCLE_PROJECT_USERNAME"), env.get("CIRCLE_PROJECT_REPONAME")
    project = f"{owner}/{repo}" if owner and repo else repo
    return _describe(who, "circleci", project, "build", env.get("CIRCLE_BUILD_NUM"))


def _buildkite(env: Mapping[str, str]) -> str | None:
    if env.get("BUILDKITE") != "true":
        return None
    who = (
        env.get("BUILDKITE_BUILD_CREATOR")
        or env.get("BUILDKITE_BUILD_CREATOR_EMAIL")
        or env.get("BUILDKITE_BUILD_AUTHOR")
        or "buildkite"
    )
    return _describe(
        who,
        "buildkite",
        env.get("BUILDKITE_PIPELINE_SLUG"),
        "build",
        env.get("BUILDKITE_BUILD_NUMBER"),
    )


def _jenkins(env: Mapping[str, str]) -> str | None:
    if not (env.get("JENKINS_URL") or env.get("JENKINS_HOME")):
        return None
    # BUILD_USER_ID comes from the build-user-vars plugin; without it the job is the actor.
    who = env.get("BUILD_USER_ID") or env.get("BUILD_USER") or "jenkins"
    return _describe(who, "jenkins", env.get("JOB_NAME"), "build", env.get("BUILD_NUMBER"))


_DETECTORS: tuple[Detector, ...] = (_github, _gitlab, _circleci, _buildkite, _jenkins)


def _describe(who: str, system: str, project: str | None, unit: str, number: str | None) -> str:
    where = " ".join(p for p in (system, project, f"{unit} {number}" if number else None) if p)
    return f"{who} ({where})"


def _clean(text: str) -> str:
    flat = _UNPRINTABLE.sub(" ", text).strip()
    return flat if len(flat) <= MAX_LENGTH else flat[: MAX_LENGTH - 1] + "…"


def _login() -> str:
    """The account this process runs as, when the environment does not say (cron, sudo -i)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name or "unknown"
    except (ImportError, KeyError, OSError):
        return "unknown"


def _hostname() -> str:
    return socket.gethostname().split(".")[0] or "localhost"

"""Slack: one message when a release starts and one when it ends, via an incoming webhook.

Two rules shape this module. A notification is a courtesy: if Slack is down or the
webhook is wrong, the release goes on and the operator gets a warning, never a failed
release. And the webhook URL is a credential (anyone holding it can post to the
channel): it is read from the environment variable the pipeline names, kept in this
object, and never written anywhere, including in warnings, since httpx's own error
messages contain the URL and are therefore never shown.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from shipper.core.events import ReleaseFinished, ReleaseStarted, Stamped
from shipper.core.model import JSON, JSONDict
from shipper.errors import ExitCode
from shipper.report import fmt
from shipper.report.summary import facts, phase_line
from shipper.report.view import ReleaseView

if TYPE_CHECKING:
    import httpx

OUTCOME_EMOJI = {
    "shipped": ":white_check_mark:",
    "applied": ":white_check_mark:",
    "restored": ":white_check_mark:",
    "already running": ":white_check_mark:",
    "rolled back": ":leftwards_arrow_with_hook:",
    "blocked": ":no_entry:",
    "rollback failed": ":rotating_light:",
    "failed": ":x:",
    "interrupted": ":double_vertical_bar:",
    "running": ":hourglass_flowing_sand:",
}
TIMEOUT_SECONDS = 5.0


class SlackSink:
    """Posts the start and the end of a release to a Slack incoming webhook."""

    def __init__(
        self,
        webhook_url: str | None,
        *,
        source: str = "the webhook variable",
        warn: Callable[[str], None] | None = None,
        client: httpx.Client | None = None,
        timeout: float = TIMEOUT_SECONDS,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._url = webhook_url
        self._redact = redact
        self._source = source
        self._warn = warn or (lambda message: None)
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self.view = ReleaseView()
        self._started_sent = False
        self._ended_sent = False
        self._warned_missing = False
        self._guard = threading.Lock()

    @classmethod
    def from_env(
        cls,
        variable: str,
        env: Mapping[str, str],
        *,
        warn: Callable[[str], None] | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> SlackSink:
        """A sink posting to the URL in `env[variable]` (warning once when it is not set)."""
        url = env.get(variable, "").strip() or None
        return cls(url, source=variable, warn=warn, redact=redact)

    def emit(self, event: Stamped) -> None:
        with self._guard:
            self.view.apply(event)
            if isinstance(event.event, ReleaseStarted) and not self._started_sent:
                self._started_sent = True
                self._send(start_message(self.view))
            elif isinstance(event.event, ReleaseFinished) and not self._ended_sent:
                if self.view.kind == "migration" and event.event.exit_code == ExitCode.OK:
                    return  # a deploy's code release follows: its end is the run's end
                self._ended_sent = True
                self._send(end_message(self.view))

    def close(self) -> None:
        with self._guard:
            if self._started_sent and not self._ended_sent:
                # A migration release alone ends here; so does a run that was killed after
                # the start was announced (which the message says rather than going quiet).
                self._ended_sent = True
                self._send(end_message(self.view))
            if self._client is not None and self._owns_client:
                self._client.close()
                self._client = None

    def _send(self, payload: JSONDict) -> None:
        if self._url is None:
            if not self._warned_missing:
                self._warned_missing = True
                self._warn(f"{self._source} is not set; no Slack message was sent")
            return
        if not self._url.startswith(("https://", "http://")):
            self._warn(f"{self._source} is not an http(s) URL; no Slack message was sent")
            return
        body = json.dumps(payload, ensure_ascii=False)
        if self._redact is not None:
            body = self._redact(body)
        try:
            client = self._http()
            response = client.post(
                self._url,
                content=body.encode("utf-8"),
                headers={"Content-Type": "application/json"},
                timeout=self._timeout,
            )
        except Exception as exc:  # any failure to notify is a warning, never a failure
            # str(exc) of an httpx error names the URL: only the kind of failure is shown.
            self._warn(f"could not reach Slack ({type(exc).__name__}); no message was sent")
            return
        if response.status_code >= 300:
            self._warn(f"Slack answered {response.status_code}; the message was not posted")

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx  # only a run that notifies pays for it

            from shipper.tls import shared_context

            self._client = httpx.Client(
                timeout=self._timeout, follow_redirects=False, verify=shared_context()
            )
        return self._client


def start_message(view: ReleaseView) -> JSONDict:
    """The message a release's start posts."""
    number = f" #{view.release}" if view.release is not None else ""
    what = f"{view.kind} {view.version}".strip()
    if view.kind == "migration" and view.migrations:
        what = f"{view.version} (the migration release first, then the code)"
    text = f":rocket: *{_esc(view.pipeline)}*: release{number} started: {_esc(what)}"
    if view.actor:
        text += f" by {_esc(view.actor)}"
    if view.reason:
        text += f" ({_esc(view.reason)})"
    plain = f"ship {view.pipeline}: release{number} started: {what} by {view.actor}"
    return _payload(plain, text, [])


def end_message(view: ReleaseView) -> JSONDict:
    """The message a release's end posts: outcome, durations, what failed and why."""
    outcome = view.outcome if view.finished is not None else "did not finish"
    emoji = OUTCOME_EMOJI.get(view.outcome, ":grey_question:")
    number = f" #{view.release}" if view.release is not None else ""
    what = f"{view.kind} {view.version}".strip()
    took = ""
    if view.finished is not None and view.last_time is not None:
        took = f" in {fmt.duration(view.elapsed(view.last_time))}"
    head = f"{emoji} *{_esc(view.pipeline)}*: {_esc(what)} {outcome}{took} (release{number})"
    details = [f"*actor* {_esc(view.actor)}"] if view.actor else []
    details += [f"*{label}* {_esc(text)}" for label, text in facts(view)]
    phases = phase_line(view)
    context = [f"phases: {_esc(phases)}"] if phases else []
    plain = f"ship {view.pipeline}: {what} {outcome}{took} (release{number})"
    return _payload(plain, head + ("\n" + "\n".join(details) if details else ""), context)


def _payload(plain: str, text: str, context: list[str]) -> JSONDict:
    blocks: list[JSON] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if context:
        elements: list[JSON] = [{"type": "mrkdwn", "text": c} for c in context]
        blocks.append({"type": "context", "elements": elements})
    return {"text": plain, "blocks": blocks}


def _esc(text: str) -> str:
    """Slack mrkdwn control characters, escaped as Slack documents it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

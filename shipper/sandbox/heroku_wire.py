"""Heroku's transport conventions, as the stand-in answers them: error bodies, the rate
limit bucket, conditional GETs and Range-paginated lists.

Every rule here is one api.heroku.com applies to every endpoint, so the endpoints in
`heroku_api` only say what they answer and these functions say how.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from shipper.sandbox.heroku_records import _iso
from shipper.sandbox.ranges import paginate, parse_range
from shipper.sandbox.web import Answer, Request

BUCKET_SIZE = 4500
REFILL_PER_SECOND = 4500 / 3600

RATE_LIMIT_MESSAGE = (
    "Your account reached the API rate limit. Please wait a few minutes before making new requests"
)


class RateBucket:
    """The account's token bucket: 4,500 calls, refilled at 4,500 an hour. A 304 spends
    a token like any answer (whether Heroku spares it is unconfirmed: the stand-in
    assumes the dearer case)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._guard = threading.Lock()
        self.size = BUCKET_SIZE
        self._tokens = float(BUCKET_SIZE)
        self._filled_at = clock()

    def spend(self, cost: int) -> int:
        """Take `cost` tokens; what is left, or -1 when the bucket was empty."""
        with self._guard:
            now = self._clock()
            refill = (now - self._filled_at) * REFILL_PER_SECOND
            self._tokens = min(float(self.size), self._tokens + refill)
            self._filled_at = now
            if self._tokens < cost:
                return -1
            self._tokens -= cost
            return int(self._tokens)

    def set(self, size: int, tokens: int | None = None) -> None:
        with self._guard:
            self.size = size
            self._tokens = float(size if tokens is None else tokens)
            self._filled_at = self._clock()


def error(
    status: int, error_id: str, message: str, headers: dict[str, str] | None = None
) -> Answer:
    """Heroku's error body: `{id, message}` (and the docs `url` of a rate limit)."""
    body: dict[str, Any] = {"id": error_id, "message": message}
    if error_id == "rate_limit":
        body["url"] = "https://devcenter.heroku.com/articles/platform-api-reference#rate-limits"
    return Answer.of_json(status, body, headers)


def conditional(request: Request, answer: Answer) -> Answer:
    """ETag on every successful GET; 304 with no body when the client already has it."""
    if request.method != "GET" or answer.status not in (200, 206):
        return answer
    tag = '"' + hashlib.sha1(answer.body, usedforsecurity=False).hexdigest() + '"'
    answer.headers["ETag"] = tag
    if request.header("If-None-Match") == tag:
        return Answer(304, b"", answer.content_type, answer.headers)
    return answer


def answer_list(
    request: Request,
    items: list[Any],
    fields: tuple[str, ...],
    default: str,
    render: Callable[[Any], dict[str, Any]],
) -> Answer:
    """A list endpoint's answer: the page the Range header asks for, 206 and Next-Range
    when it leaves items out, 200 when it is complete; Accept-Ranges names `fields`."""
    wanted = parse_range(request.header("Range"), fields, default)
    page, following = paginate(items, wanted, range_key)
    body = [render(item) for item in page]
    headers = {"Accept-Ranges": ", ".join(fields)}
    if page:
        first, last = range_key(page[0], wanted.field), range_key(page[-1], wanted.field)
        headers["Content-Range"] = f"{wanted.field} {first}..{last}"
    if following is None:
        return Answer.of_json(200, body, headers)
    headers["Next-Range"] = following.render()
    return Answer.of_json(206, body, headers)


def range_key(item: Any, field: str) -> str | int:
    """An item's value of a Range field (a record's, or a rendered dyno's)."""
    if isinstance(item, dict):
        value = item[field]
    elif field == "version":
        value = item.number
    elif field == "created_at":
        value = _iso(item.created_at)
    else:
        value = getattr(item, field)
    return value if isinstance(value, int) else str(value)

"""The HTTP plumbing every stand-in shares: loopback-only servers and plain answers.

Each stand-in is an `Endpoint`: a function from a `Request` to an `Answer`, with no
sockets in it, so its behaviour can be read (and tested) apart from the transport. The
one handler class here turns HTTP/1.1 into those calls and applies the fault plan
(latency, error bursts, hangs, resets, malformed bodies) that the reliability suite
drives, uniformly for every stand-in.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from shipper.errors import BadInput
from shipper.sandbox import arrival
from shipper.sandbox.faults import Fault, FaultPlan

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def require_loopback(host: str) -> str:
    """Refuse any bind address but loopback: the stand-ins accept dummy credentials,
    so they must never be reachable from another machine."""
    if host not in LOOPBACK_HOSTS:
        raise BadInput(f"ship sandbox binds 127.0.0.1 only, not {host}; drop the --host option")
    return "127.0.0.1" if host == "localhost" else host


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return str(value) if value is not None else None

    def json(self) -> Any:
        """The JSON body, or None when there is none. ValueError when it is not JSON."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # A streamed answer (chunked): `body` goes first, then each piece as it comes, and
    # the response ends when the iterator does. Output streams are served this way.
    more: Iterator[bytes] | None = None

    @classmethod
    def of_json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
        body = json.dumps(data, separators=(",", ":")).encode()
        return cls(status, body, "application/json", dict(headers or {}))

    @classmethod
    def of_text(cls, status: int, text: str, content_type: str = "text/plain") -> Answer:
        return cls(status, text.encode(), f"{content_type}; charset=utf-8")


class Endpoint(Protocol):
    """One stand-in: answers requests, and says how a fault's error body looks there."""

    faults: FaultPlan

    def handle(self, request: Request) -> Answer: ...

    def fault_answer(self, fault: Fault) -> Answer: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = socket.SOMAXCONN  # as a real service: no SYN dropped, no 1 s retry

    def __init__(self, address: tuple[str, int], endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real services and httpx expect
    # Headers and body go out as two writes; with Nagle on, the body waits for the
    # client's delayed ACK (40 ms on Linux), a delay no real service adds.
    disable_nagle_algorithm = True
    server_version = "ship-sandbox"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        arrival.mark()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
        )
        endpoint = self.server.endpoint
        plan = endpoint.faults
        if plan.latency > 0:
            time.sleep(plan.latency)
        fault = plan.take(request.method, request.path)
        if fault is None:
            self._write(self._answer(endpoint, request), request.method)
            return
        if fault.kind == "slow":
            time.sleep(fault.delay)
            self._write(self._answer(endpoint, request), request.method)
            return
        if fault.commit:
            # The ambiguous failure: the change happened, the client never hears of it.
            self._answer(endpoint, request)
        if fault.kind in ("hang", "reset"):
            if fault.kind == "hang":
                time.sleep(fault.delay)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault.kind == "malformed":
            self._write(Answer(200, b'{"id": "truncated', "application/json"), request.method)
            return
        self._write(endpoint.fault_answer(fault), request.method)

    def _answer(self, endpoint: Endpoint, request: Request) -> Answer:
        try:
            return endpoint.handle(request)
        except Exception:
            log.exception("stand-in failed on %s %s", request.method, request.path)
            return Answer.of_json(500, {"id": "internal", "message": "stand-in error"})

    def _write(self, answer: Answer, method: str) -> None:
        if answer.more is not None and method != "HEAD":
            self._write_chunked(answer)
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.status != 304:
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(0 if answer.status == 304 else len(answer.body)))
        self.end_headers()
        if method != "HEAD" and answer.status != 304:
            self.wfile.write(answer.body)

    def _write_chunked(self, answer: Answer) -> None:
        assert answer.more is not None
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for piece in itertools.chain([answer.body], answer.more):
                if piece:
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away mid-stream: nothing to answer to
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


@dataclass
class Served:
    """A stand-in listening on loopback, served from a daemon thread."""

    name: str
    server: _Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(name: str, endpoint: Endpoint, host: str = "127.0.0.1", port: int = 0) -> Served:
    """Start `endpoint` on `host:port` (0: a free port) in a daemon thread."""
    server = _Server((require_loopback(host), port), endpoint)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return Served(name, server, thread)

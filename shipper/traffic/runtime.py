"""The HAProxy runtime API adapter: one connection per command, over the stats socket
(a unix socket path) or its TCP form (`host:port`).

The API answers a mutating command with an empty line when it did it and with a message
when it did not (`entry not found.`, `No such server.`, `Unknown map identifier...`), so
any text in the answer to `set`, `add` or `del` is a refusal.
"""

from __future__ import annotations

import csv
import logging
import socket
from pathlib import Path

from shipper.core.model import Side
from shipper.errors import Blocked
from shipper.traffic import maps
from shipper.traffic.model import LiveReading, ServerReading, ServerState
from shipper.traffic.ports import Command

log = logging.getLogger(__name__)

_ADMIN_DRAIN = 0x08 | 0x10  # SRV_ADMF_DRAIN | SRV_ADMF_IDRAIN
_ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20  # forced, inherited, config, resolution maint
MAX_ANSWER = 8 * 1024 * 1024


class ProxyUnreachable(Blocked):
    """The runtime API did not answer: nothing was sent (exit 3)."""


class ProxyRefused(Blocked):
    """HAProxy answered a command with an error instead of doing it (exit 3)."""


class HAProxyRuntime:
    """`TrafficProxy` over HAProxy's runtime API."""

    def __init__(self, address: str, maps_dir: Path, timeout: float = 5.0) -> None:
        self._address = address
        self._maps_dir = maps_dir
        self._timeout = timeout

    @property
    def address(self) -> str:
        return self._address

    def map_name(self, name: str) -> str:
        """A map as the runtime API knows it: the path the configuration loaded it from."""
        return str(self._maps_dir / name)

    def send(self, line: str) -> str:
        """One command, one connection; the whole answer (HAProxy closes after it)."""
        if "\n" in line or ";" in line:
            raise ValueError(f"one command per call, got {line!r}")
        try:
            with self._connect() as sock:
                sock.sendall(line.encode("utf-8") + b"\n")
                chunks: list[bytes] = []
                size = 0
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_ANSWER:
                        break
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ProxyUnreachable(
                f"cannot reach HAProxy's runtime API at {self._address}: {reason}; "
                "check traffic.runtime and that HAProxy runs"
            ) from None
        answer = b"".join(chunks).decode("utf-8", "replace")
        log.debug("haproxy %s -> %r", line, answer[:200])
        return answer

    def _connect(self) -> socket.socket:
        if "/" in self._address:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: str | tuple[str, int] = self._address
        else:
            host, _, port = self._address.rpartition(":")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = (host, int(port))
        sock.settimeout(self._timeout)
        try:
            sock.connect(target)
        except OSError:
            sock.close()
            raise
        return sock

    def apply(self, command: Command) -> None:
        answer = self.send(command.line).strip()
        if answer:
            first = answer.splitlines()[0].rstrip(".")
            raise ProxyRefused(f'HAProxy refused "{command.line}": {first}')

    def _read_map(self, name: str) -> dict[str, str]:
        answer = self.send(f"show map {self.map_name(name)}")
        entries: dict[str, str] = {}
        for line in answer.splitlines():
            if not line.strip():
                continue
            ref, _, rest = line.partition(" ")
            if not ref.startswith("0x"):
                raise ProxyRefused(
                    f"HAProxy does not know the map {self.map_name(name)} "
                    f"({line.strip().rstrip('.')}); is it running the configuration "
                    "`ship traffic render` writes for this pipeline?"
                )
            key, _, value = rest.partition(" ")
            entries.setdefault(key, value.strip())
        return entries

    def server_state(self) -> str:
        return self.send("show servers state")

    def read(self) -> LiveReading:
        entries = {name: self._read_map(name) for name in maps.MAPS}
        admin = _admin_states(self.server_state())
        servers = _servers(self.send("show stat"), admin)
        drained = _drained_side(servers)
        state = maps.state_from_maps(entries, drained)
        pid = _pid(self.send("show info"))
        return LiveReading(state=state, servers=tuple(servers), pid=pid, entries=entries)


def _admin_states(text: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(backend, server) -> (operational state, admin state bits) from `show servers state`."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 7 or line.startswith("#") or not parts[0].isdigit():
            continue
        try:
            out[(parts[1], parts[3])] = (int(parts[5]), int(parts[6]))
        except ValueError:
            continue
    return out


def _servers(stat_csv: str, admin: dict[tuple[str, str], tuple[int, int]]) -> list[ServerReading]:
    text = stat_csv.lstrip("# ")
    out: list[ServerReading] = []
    for row in csv.DictReader(text.splitlines()):
        backend, server = row.get("pxname", ""), row.get("svname", "")
        if backend not in maps.SIDES:
            continue
        if server in ("FRONTEND", "BACKEND"):
            continue
        op, bits = admin.get((backend, server), (2, 0))
        if bits & _ADMIN_MAINT:
            state = ServerState.MAINT
        elif bits & _ADMIN_DRAIN:
            state = ServerState.DRAIN
        elif op != 2 or row.get("status", "").startswith("DOWN"):
            state = ServerState.DOWN
        else:
            state = ServerState.UP
        out.append(
            ServerReading(
                backend=backend,
                server=server,
                state=state,
                check=row.get("check_status", "") or "",
                requests=_int(row.get("stot")),
                errors=_int(row.get("hrsp_5xx")) + _int(row.get("econ")) + _int(row.get("eresp")),
            )
        )
    return out


def _drained_side(servers: list[ServerReading]) -> Side | None:
    for side in Side:
        mine = [s for s in servers if s.backend == side.value]
        if mine and all(s.state is ServerState.DRAIN for s in mine):
            return side
    return None


def _pid(info: str) -> int | None:
    for line in info.splitlines():
        if line.startswith("Pid:"):
            return _int(line.split(":", 1)[1])
    return None


def _int(raw: str | None) -> int:
    try:
        return int((raw or "0").strip() or 0)
    except ValueError:
        return 0

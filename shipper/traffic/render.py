"""`ship traffic render`: a complete HAProxy configuration for a pipeline's `traffic:`.

The routing, in order (the first rule that matches wins):
1. a side with no usable server (failing its health check, or drained) gets nothing:
   everything goes to the other side;
2. a blocked site goes to Heroku (a block wins over a pin);
3. a pinned site goes where it is pinned;
4. a request whose key's bucket (`crc32(1),mod(100)` of the site cookie, else of the
   pipeline's key cookie or header, else of the client address) is below the percentage
   goes to Kubernetes;
5. everything else goes to Heroku.
The percentage is one entry of `settings.map`, compared at request time, so `ship traffic
set` changes one map entry through the runtime API and nothing is reloaded.

These rules are two-sided by nature, so the configuration names both backends: one side
takes the other's traffic, the percentage is Kubernetes' share and Heroku is the default.
"""

from __future__ import annotations

from pathlib import Path

from shipper.pipeline import TrafficBackend, TrafficSection
from shipper.traffic import maps
from shipper.traffic.hashing import HAPROXY_CONVERTERS

SERVER_PREFIX = "app"

# The log line names the side, the server, the site, its bucket, and the termination
# state (%tsc): `sH--` is a backend that did not answer within the timeout (Heroku's H12).
LOG_FORMAT = (
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc "
    "site=%[var(txn.site)] bucket=%[var(txn.bucket)] %{+Q}r"
)


def runtime_bind(runtime: str) -> str:
    """The `stats socket` address for the pipeline's runtime API: a unix socket path, or
    `ipv4@host:port` for its TCP form."""
    return runtime if "/" in runtime else f"ipv4@{runtime}"


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _servers(side: str, backend: TrafficBackend, section: TrafficSection) -> list[str]:
    lines = []
    for i, address in enumerate(backend.servers, start=1):
        options = [
            "check",
            f"inter {_ms(section.health_interval)}",
            "fall 2",
            "rise 2",
            "resolvers dns",
            "resolve-prefer ipv4",
            "init-addr last,libc,none",
        ]
        if backend.tls:
            options.append("ssl verify required ca-file @system-ca")
            if backend.host:
                options.append(f"sni str({backend.host}) check-sni {backend.host}")
        lines.append(f"  server {SERVER_PREFIX}{i} {address} {' '.join(options)}")
    return lines


def _backend(side: str, backend: TrafficBackend, section: TrafficSection) -> list[str]:
    out = [f"backend {side}", "  option httpchk"]
    check = f"  http-check send meth GET uri {backend.health}"
    if backend.host:
        check += f" hdr Host {backend.host}"
        out.append(check)
        out.append(f"  http-request set-header Host {backend.host}")
    else:
        out.append(check)
    out.append("  http-check expect status 200")
    out.extend(_servers(side, backend, section))
    return out


def _resolvers(section: TrafficSection) -> list[str]:
    out = ["resolvers dns"]
    if section.resolvers:
        out += [f"  nameserver ns{i} {ns}" for i, ns in enumerate(section.resolvers, start=1)]
    else:
        out.append("  parse-resolv-conf")
    out += [
        "  resolve_retries 3",
        "  timeout resolve 1s",
        "  timeout retry 1s",
        "  hold valid 10s",
        "  hold obsolete 30s",
    ]
    return out


def _log(section: TrafficSection) -> str:
    if section.log == "stdout":
        return "  log stdout format raw local0"
    return f"  log {section.log} local0"


def render_config(section: TrafficSection, pipeline: str) -> str:
    """The whole configuration. Map and state files are named by absolute path: the
    runtime API knows a map by the name the configuration gave it."""
    folder = Path(section.maps_dir)
    settings, pins, blocks = (folder / maps.SETTINGS, folder / maps.PINS, folder / maps.BLOCKS)
    if section.key.cookie is not None:
        key_fetch = f"req.cook({section.key.cookie})"
    else:
        key_fetch = f"req.hdr({section.key.header})"
    cookie = section.site_cookie
    lines = [
        f"# HAProxy configuration of pipeline {pipeline}, rendered by `ship traffic render`.",
        "# `ship traffic` changes the split live through the runtime API and writes the same",
        f"# state to the files in {folder}, so a restart or a reload keeps it.",
        "global",
        f"  stats socket {runtime_bind(section.runtime)} mode 600 level admin",
        "  stats timeout 30s",
        f"  server-state-file {folder / maps.SERVER_STATE}",
        _log(section),
        "",
        *_resolvers(section),
        "",
        "defaults",
        "  mode http",
        "  log global",
        f'  log-format "{LOG_FORMAT}"',
        "  option redispatch",
        "  retries 2",
        "  load-server-state-from-file global",
        f"  timeout connect {_ms(section.connect_timeout)}",
        "  timeout client 60s",
        f"  timeout server {_ms(section.timeout)}",
        "  timeout http-request 10s",
        "  timeout http-keep-alive 30s",
        "  timeout check 5s",
        f"  errorfile 504 {folder / maps.TIMEOUT_PAGE}",
        "",
        "frontend ship",
        f"  bind {section.bind}",
        f"  http-request set-var(txn.site) req.cook({cookie}) "
        f"if {{ req.cook({cookie}) -m len gt 0 }}",
        "  http-request set-var(txn.key) var(txn.site) if { var(txn.site) -m found }",
        f"  http-request set-var(txn.key) {key_fetch} "
        f"if !{{ var(txn.key) -m found }} {{ {key_fetch} -m len gt 0 }}",
        "  http-request set-var(txn.key) src if !{ var(txn.key) -m found }",
        f"  http-request set-var(txn.bucket) var(txn.key),{HAPROXY_CONVERTERS}",
        f"  http-request set-var(txn.pct) str({maps.PERCENT_KEY}),map({settings},0)",
        "  acl heroku_unusable nbsrv(heroku) eq 0",
        "  acl kubernetes_unusable nbsrv(kubernetes) eq 0",
        f"  acl blocked var(txn.site),map({blocks}) -m found",
        f"  acl pinned var(txn.site),map({pins}) -m found",
        "  acl in_split var(txn.bucket),sub(txn.pct) lt 0",
        "  use_backend kubernetes if heroku_unusable !kubernetes_unusable",
        "  use_backend heroku if kubernetes_unusable !heroku_unusable",
        "  use_backend heroku if blocked",
        f"  use_backend %[var(txn.site),map({pins})] if pinned",
        "  use_backend kubernetes if in_split",
        "  default_backend heroku",
        "",
        *_backend("heroku", section.heroku, section),
        "",
        *_backend("kubernetes", section.kubernetes, section),
        "",
    ]
    return "\n".join(lines)


def support_files(section: TrafficSection) -> dict[Path, str]:
    """Files the configuration names besides the maps: the timeout page."""
    return {Path(section.maps_dir) / maps.TIMEOUT_PAGE: maps.timeout_page()}

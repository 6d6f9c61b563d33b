"""`ship traffic render` and the pipeline's traffic: section."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shipper.errors import PipelineError
from shipper.pipeline import parse_pipeline
from shipper.pipeline.schema import TrafficSection
from shipper.traffic.files import MapFiles
from shipper.traffic.model import TrafficState
from shipper.traffic.render import render_config, support_files
from tests.traffic.harness import haproxy_or_skip

PRODUCTION = """\
name: web
heroku:
  apps: [acme-web]
  artifact: {{type: source, url: "https://x.invalid/{{version}}.tgz"}}
traffic:
  runtime: {runtime}
  maps_dir: {maps}
  heroku: {{servers: ["acme-web.herokuapp.com:443"], tls: true, host: acme-web.herokuapp.com}}
  kubernetes: {{servers: ["web.prod.svc.cluster.local:8080"], health: /healthz}}
"""


def _section(tmp_path: Path, runtime: str = "/run/haproxy/admin.sock") -> TrafficSection:
    text = PRODUCTION.format(runtime=runtime, maps=tmp_path / "maps")
    section = parse_pipeline(text, "web.yaml").traffic
    assert section is not None
    return section


def test_rendered_production_config_is_valid_for_haproxy(tmp_path: Path) -> None:
    """The rendered configuration (TLS to Heroku, DNS names, resolvers) passes `haproxy -c`."""
    binary = haproxy_or_skip()
    section = _section(tmp_path, runtime=str(tmp_path / "admin.sock"))
    config = tmp_path / "haproxy.cfg"
    config.write_text(render_config(section, "web"))
    MapFiles(tmp_path / "maps").ensure(TrafficState(), support_files(section))
    checked = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_render_has_the_heroku_router_habits(tmp_path: Path) -> None:
    """Health checks on both backends with resolvers, a 30 s server timeout answered as a
    503, a log line naming backend, site and termination state."""
    text = render_config(_section(tmp_path), "web")
    assert "timeout server 30000ms" in text
    assert "errorfile 504" in text
    assert text.count(" check inter ") == 2 and text.count("resolvers dns") == 3
    assert "parse-resolv-conf" in text
    assert "%b/%s" in text and "site=%[var(txn.site)]" in text and "%tsc" in text
    assert "sni str(acme-web.herokuapp.com)" in text
    assert "http-check send meth GET uri /healthz" in text
    assert "crc32(1),mod(100)" in text


def test_runtime_host_port_is_the_tcp_form(tmp_path: Path) -> None:
    """A runtime of host:port renders as HAProxy's ipv4@ stats socket."""
    text = render_config(_section(tmp_path, runtime="127.0.0.1:9999"), "web")
    assert "stats socket ipv4@127.0.0.1:9999 mode 600 level admin" in text


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ('heroku: {servers: ["no-port"]}', "is not host:port"),
        ("key: {cookie: a, header: B}", "exactly one of cookie or header"),
        ("timeout: soon", "expected a duration"),
        ("on_regression: reroute", "on_regression"),  # drain or none only
    ],
)
def test_bad_traffic_section_names_file_line_and_key(bad: str, said: str) -> None:
    """A wrong traffic: key is a PipelineError naming the key."""
    text = PRODUCTION.format(runtime="/s", maps="/m")
    key = bad.split(":", 1)[0]
    lines = [line for line in text.splitlines() if not line.startswith(f"  {key}:")]
    lines.append(f"  {bad}")
    with pytest.raises(PipelineError, match=said):
        parse_pipeline("\n".join(lines) + "\n", "web.yaml")

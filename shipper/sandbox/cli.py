"""`ship sandbox`: start, inspect, steer and stop the local stand-ins.

Mounted by `shipper.cli` as `ship sandbox`. It imports nothing heavy at import time (no
httpx, no kubernetes client, no servers): `ship --help` stays fast. The stand-ins run in
one detached process; these commands talk to it through its control endpoint.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from shipper.errors import ShipError

if TYPE_CHECKING:
    from shipper.sandbox.files import Layout

sandbox_app = typer.Typer(
    name="sandbox",
    help="Local stand-ins for Heroku, Kubernetes and the status page: try ship with no accounts.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def layout() -> Layout:
    """The state directory: $SHIP_SANDBOX_DIR, else .ship/sandbox under the cwd."""
    from shipper.sandbox.files import Layout

    configured = os.environ.get("SHIP_SANDBOX_DIR")
    state = Path(configured).expanduser() if configured else Path.cwd() / ".ship" / "sandbox"
    return Layout(state=state.absolute(), project=Path.cwd())


@contextmanager
def _reported() -> Iterator[None]:
    """A ShipError becomes one stderr line and its exit code, as everywhere in ship."""
    try:
        yield
    except ShipError as exc:
        typer.echo(f"ship: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@sandbox_app.command()
def up(
    host: str = typer.Option("127.0.0.1", help="Bind address; only loopback is accepted."),
    latency: str = typer.Option("0s", help="Latency added to every request, e.g. 50ms."),
    gitignore: bool = typer.Option(
        False, "--gitignore", help="Add the files it writes here to this folder's .gitignore."
    ),
) -> None:
    """Start every stand-in in the background and write the sandbox pipeline."""
    from shipper.pipeline import parse_duration
    from shipper.sandbox import files, haproxy, process
    from shipper.sandbox.web import require_loopback

    with _reported():
        require_loopback(host)
        try:
            delay = parse_duration(latency)
        except ValueError as exc:
            raise process.SandboxError(f"--latency: {exc}") from None
        where = layout()
        pid = process.running_pid(where)
        if pid is not None:
            if not where.project_pipeline.exists() and where.path(files.PIPELINE).exists():
                _write_project_pipeline(where)
            typer.echo(f"sandbox already running (pid {pid}); `ship sandbox status` shows it")
            return
        orphan = process.stop(where)  # one that lost its pid file would keep the old world
        if orphan is not None:
            typer.echo(f"stopped a sandbox that had lost its pid file (pid {orphan})")
        for stale in (files.DATABASE, f"{files.DATABASE}-wal", f"{files.DATABASE}-shm"):
            where.path(stale).unlink(missing_ok=True)
        heroku_token, kube_token = process.new_token(), process.new_token()
        pid, endpoints = process.start(where, delay, heroku_token, kube_token)
        _write_files(where, endpoints, heroku_token, kube_token)
        typer.echo(f"sandbox up (pid {pid}): both sides run v1; state in {_show(where.state)}")
        typer.echo(f"  pipeline   {_show(where.project_pipeline)}")
        typer.echo(f"  heroku     {endpoints['heroku_api']}  (apps shop-web, shop-worker)")
        typer.echo(f"  kubernetes {endpoints['kubernetes_api']}  (namespace shop)")
        typer.echo(f"  status     {endpoints['status']}/api/v4/current-status")
        typer.echo(haproxy.said(where.path(files.ENDPOINTS)))
        _say_where(where, gitignore)
        typer.echo("next: ship deploy v2 -p sandbox --migrations")


def _say_where(where: Layout, add: bool) -> None:
    """Say which files it wrote into this folder; add them to .gitignore only if asked."""
    from shipper.sandbox import gitignore

    patterns = gitignore.written(where)
    typer.echo(f"  wrote      {', '.join(p.lstrip('/') for p in patterns)} in {where.project}")
    if add:
        added = gitignore.add(where.project, patterns)
        said = f"added {', '.join(added)} to" if added else "already in"
        typer.echo(f"  gitignore  {said} {where.project / '.gitignore'}")
        return
    left = gitignore.missing(where.project, patterns)
    if left:
        typer.echo(
            f"  gitignore  not listed there: {', '.join(left)}; "
            "`ship sandbox up --gitignore` adds them"
        )


def _write_files(where: Layout, endpoints: dict[str, str], heroku: str, kube: str) -> None:
    from shipper.sandbox import files
    from shipper.sandbox.stack import SandboxSpec

    spec = SandboxSpec()
    files.write_private(
        where.path(files.KUBECONFIG),
        files.kubeconfig_text(endpoints["kubernetes_api"], kube, spec.namespace),
    )
    files.write_private(where.path(files.NETRC), files.netrc_text(endpoints["heroku_api"], heroku))
    text = files.pipeline_text(
        endpoints, spec.apps, spec.namespace, spec.image, _workloads(spec), Path()
    )
    files.write_private(where.path(files.PIPELINE), text)
    _write_project_pipeline(where)


def _workloads(spec: Any) -> tuple[str, ...]:
    return tuple(f"{kind}/{name}" for kind, name, _ in spec.workloads)


def _write_project_pipeline(where: Layout) -> None:
    from shipper.sandbox import files, process

    endpoints = process.read_endpoints(where)
    if endpoints is None:
        return
    from shipper.sandbox.stack import SandboxSpec

    spec = SandboxSpec()
    folder = where.project_pipeline.parent
    folder.mkdir(parents=True, exist_ok=True)
    seen_from = files.relative_to(where.state, folder)
    text = files.pipeline_text(
        endpoints, spec.apps, spec.namespace, spec.image, _workloads(spec), seen_from
    )
    files.write_private(where.project_pipeline, text)


@sandbox_app.command()
def down() -> None:
    """Stop every stand-in; nothing is left running."""
    from shipper.sandbox import process

    with _reported():
        pid = process.stop(layout())
        typer.echo("sandbox stopped" if pid is not None else "sandbox was not running")


@sandbox_app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the whole state as JSON."),
) -> None:
    """What each stand-in runs now, the status colours, and where to reach them."""
    from shipper.sandbox import process

    with _reported():
        where = layout()
        endpoints = process.read_endpoints(where)
        if process.running_pid(where) is None or endpoints is None:
            raise process.SandboxError("the sandbox is not running; start it with ship sandbox up")
        state = process.call(endpoints["control"], "GET", "/state")
        if as_json:
            typer.echo(json.dumps(state, indent=2))
            return
        typer.echo(_render(state))


def _render(state: dict[str, Any]) -> str:
    heroku = state["heroku"]["apps"]
    kube = state["kubernetes"]["workloads"]
    lines = ["heroku"]
    lines += [
        f"  {name:<28} {app['version']}  (release v{app['release']})"
        for name, app in heroku.items()
    ]
    lines.append("kubernetes")
    for name, item in kube.items():
        serving = f"  (serving {item['serving']})" if item.get("serving") else ""
        lines.append(f"  {name:<28} {item['version']}{serving}")
    colours = ", ".join(f"{k} {v}" for k, v in state["status"].items())
    lines.append(f"status page  {colours}")
    lines.append("endpoints")
    lines += [f"  {name:<28} {url}" for name, url in state["endpoints"].items()]
    return "\n".join(lines)


@sandbox_app.command("set-status")
def set_status(
    colour: str = typer.Argument(..., help="green, yellow or red."),
    system: list[str] = typer.Option(
        None, "--system", help="Apps, Data or Tools; repeat for several (default: all)."
    ),
) -> None:
    """Switch the status page (all systems, or those named) to a colour."""
    from shipper.sandbox import process

    with _reported():
        where = layout()
        endpoints = process.read_endpoints(where)
        if process.running_pid(where) is None or endpoints is None:
            raise process.SandboxError("the sandbox is not running; start it with ship sandbox up")
        body: dict[str, Any] = {"colour": colour}
        if system:
            body["systems"] = list(system)
        colours = process.call(endpoints["control"], "PUT", "/status", body)
        typer.echo("status page: " + ", ".join(f"{k} {v}" for k, v in colours.items()))


@sandbox_app.command()
def purge() -> None:
    """Stop the sandbox and delete its state directory (ledger included)."""
    from shipper.sandbox import process

    with _reported():
        where = layout()
        process.stop(where)
        if where.state.exists():
            shutil.rmtree(where.state)
        where.project_pipeline.unlink(missing_ok=True)
        typer.echo(f"sandbox stopped; removed {_show(where.state)}")


if __name__ == "__main__":  # `python -m shipper.sandbox.cli up`, without the ship command
    sandbox_app()

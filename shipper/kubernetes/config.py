"""Where the Kubernetes credentials come from: kubeconfig first, then in-cluster.

Order: `kubernetes.kubeconfig` from the pipeline when set (already anchored to the
pipeline file), else `KUBECONFIG` (a colon-separated list, merged as kubectl does),
else `~/.kube/config`; the context is `kubernetes.context`, else the kubeconfig's
current one. With no kubeconfig file at all and `KUBERNETES_SERVICE_HOST` set, the pod's
service account is used (ship running as a CI Job in the cluster). The environment is
passed in, never read from `os.environ` here, so tests are hermetic.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client
from kubernetes.config import ConfigException
from kubernetes.config.incluster_config import (
    SERVICE_CERT_FILENAME,
    SERVICE_TOKEN_FILENAME,
    InClusterConfigLoader,
)
from kubernetes.config.kube_config import list_kube_config_contexts, load_kube_config

from shipper.errors import PipelineError, PlatformAuthError
from shipper.kubernetes.errors import Where

IN_CLUSTER = "in-cluster"


@dataclass(frozen=True)
class Connection:
    """A configured client and what error messages should call it."""

    configuration: client.Configuration
    where: Where


def kubeconfig_paths(configured: str | None, env: Mapping[str, str]) -> list[Path]:
    """The kubeconfig files to read, in kubectl's order of precedence."""
    if configured:
        return [Path(configured).expanduser()]
    listed = env.get("KUBECONFIG", "")
    if listed:
        return [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
    home = env.get("HOME")
    base = Path(home) if home else Path.home()
    return [base / ".kube" / "config"]


def connect(
    *,
    kubeconfig: str | None,
    context: str | None,
    namespace: str,
    env: Mapping[str, str],
) -> Connection:
    """Build a client configuration, or raise a one-line error saying what is missing."""
    paths = kubeconfig_paths(kubeconfig, env)
    existing = [p for p in paths if p.is_file()]
    configuration = client.Configuration()
    if existing:
        joined = os.pathsep.join(str(p) for p in existing)
        try:
            contexts, current = list_kube_config_contexts(config_file=joined)  # type: ignore[no-untyped-call]
            names = [c["name"] for c in contexts or []]
            if context is not None and context not in names:
                raise PipelineError(
                    f'kubernetes.context: the kubeconfig ({joined}) has no context "{context}"'
                    f"; it has: {', '.join(names) or 'none'}"
                )
            load_kube_config(  # type: ignore[no-untyped-call]
                config_file=joined,
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
        except ConfigException as exc:
            raise PlatformAuthError(
                f"cannot use the kubeconfig {joined}: {' '.join(str(exc).split())[:200]}"
            ) from None
        used = context or (current or {}).get("name") or "current"
    elif kubeconfig is None and env.get("KUBERNETES_SERVICE_HOST"):
        try:
            InClusterConfigLoader(  # type: ignore[no-untyped-call]
                token_filename=SERVICE_TOKEN_FILENAME,
                cert_filename=SERVICE_CERT_FILENAME,
                environ=dict(env),
            ).load_and_set(configuration)
        except ConfigException as exc:
            raise PlatformAuthError(
                f"cannot use the in-cluster service account: {' '.join(str(exc).split())[:200]}"
            ) from None
        used = IN_CLUSTER
    else:
        shown = ", ".join(str(p) for p in paths)
        raise PlatformAuthError(
            f"no kubeconfig found ({shown}) and not running in a cluster; set KUBECONFIG "
            "or kubernetes.kubeconfig in the pipeline"
        )
    # ship retries what is safe to retry itself (shipper.kubernetes.retry); urllib3's own
    # retries would also repeat a POST after a read timeout.
    configuration.retries = False
    throttle_refresh(configuration)
    return Connection(configuration, Where(used, namespace, configuration.host))


REFRESH_EVERY = 1.0  # seconds between two runs of the credentials' refresh hook


def throttle_refresh(
    configuration: client.Configuration, clock: Callable[[], float] = time.monotonic
) -> None:
    """Run the loader's credential refresh at most once every `REFRESH_EVERY` seconds.

    The client runs `refresh_api_key_hook` before every request, and the loaders' hook
    sets the server address again each time, which makes the client read the proxy
    settings from the whole environment again: a fifth of a millisecond a request, a
    third of what ship spent on each of 75 workloads before the rollback's last patch
    went out. The hook renews a token well before it expires (a kubeconfig's five
    minutes before, an in-cluster token file every minute), so once a second keeps
    every credential as fresh as before."""
    hook = configuration.refresh_api_key_hook
    if hook is None:
        return
    guard = threading.Lock()
    last = [float("-inf")]

    def refresh(config: client.Configuration) -> None:
        now = clock()
        with guard:
            if now - last[0] < REFRESH_EVERY:
                return
            last[0] = now
        hook(config)

    configuration.refresh_api_key_hook = refresh

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
from collections.abc import Mapping
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
    return Connection(configuration, Where(used, namespace, configuration.host))

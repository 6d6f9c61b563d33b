"""Where the adapter gets its credentials, and how client errors are worded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipper.errors import PipelineError, PlatformAuthError, PlatformNotFound, PlatformRejected
from shipper.kubernetes.config import IN_CLUSTER, connect, kubeconfig_paths, throttle_refresh
from shipper.kubernetes.errors import KubeConflict, KubeUnavailable, Where, translate
from shipper.sandbox.kubeapi import FakeKubeApiServer

WHERE = Where("prod", "web", "https://k8s.example")


class FakeApiException:
    """What the client's ApiException carries: status, body, headers."""

    def __init__(self, status: int, message: str = "", headers: dict[str, str] | None = None):
        self.status = status
        self.body = json.dumps({"kind": "Status", "message": message})
        self.headers = headers or {}
        self.reason = ""


def test_pipeline_kubeconfig_wins_over_the_environment(tmp_path: Path) -> None:
    """kubernetes.kubeconfig is used even when KUBECONFIG is set."""
    paths = kubeconfig_paths(str(tmp_path / "k"), {"KUBECONFIG": "/elsewhere"})
    assert paths == [tmp_path / "k"]


def test_kubeconfig_env_is_a_list(tmp_path: Path) -> None:
    """KUBECONFIG is split on the path separator, as kubectl reads it."""
    assert kubeconfig_paths(None, {"KUBECONFIG": "/a:/b"}) == [Path("/a"), Path("/b")]


def test_default_is_home_kube_config() -> None:
    """Without either, ~/.kube/config under HOME is read."""
    assert kubeconfig_paths(None, {"HOME": "/home/ci"}) == [Path("/home/ci/.kube/config")]


def test_connect_uses_the_named_context(kube: FakeKubeApiServer, tmp_path: Path) -> None:
    """The configured context's server and namespace are used; errors will name the context."""
    path = kube.write_kubeconfig(tmp_path / "config", context="staging", namespace="web")
    connection = connect(
        kubeconfig=None, context="staging", namespace="web", env={"KUBECONFIG": str(path)}
    )
    assert connection.configuration.host == kube.url
    assert connection.where.context == "staging"


def test_the_credentials_refresh_runs_at_most_once_a_second(
    kube: FakeKubeApiServer, tmp_path: Path
) -> None:
    """The client asks for a refresh before every request; the loader's hook runs once a
    second at most, and the token it set stays in use between runs."""
    path = kube.write_kubeconfig(tmp_path / "config")
    connection = connect(kubeconfig=str(path), context=None, namespace="web", env={})
    configuration = connection.configuration
    runs: list[float] = []
    now = [100.0]
    setattr(configuration, "refresh_api_key_hook", lambda config: runs.append(now[0]))  # noqa: B010
    throttle_refresh(configuration, clock=lambda: now[0])
    for _ in range(50):
        settings = configuration.auth_settings()
    assert runs == [100.0]
    assert str(settings["BearerToken"]["value"]).startswith("Bearer ")
    now[0] += 0.5
    configuration.auth_settings()
    now[0] += 0.6
    configuration.auth_settings()
    assert runs == [100.0, 101.1]


def test_connect_throttles_the_loaders_refresh(kube: FakeKubeApiServer, tmp_path: Path) -> None:
    """A kubeconfig with a token gets the loader's hook, wrapped."""
    path = kube.write_kubeconfig(tmp_path / "config")
    connection = connect(kubeconfig=str(path), context=None, namespace="web", env={})
    hook = connection.configuration.refresh_api_key_hook
    assert hook is not None and hook.__qualname__.startswith("throttle_refresh")


def test_unknown_context_is_a_pipeline_error(kube: FakeKubeApiServer, tmp_path: Path) -> None:
    """A context the kubeconfig lacks is reported with the contexts it has."""
    path = kube.write_kubeconfig(tmp_path / "config", context="staging")
    with pytest.raises(PipelineError, match='no context "prod"; it has: staging'):
        connect(kubeconfig=str(path), context="prod", namespace="web", env={})


def test_no_kubeconfig_and_no_cluster_says_what_to_set(tmp_path: Path) -> None:
    """With nothing to read, the error says to set KUBECONFIG or kubernetes.kubeconfig."""
    with pytest.raises(PlatformAuthError, match="set KUBECONFIG"):
        connect(kubeconfig=None, context=None, namespace="web", env={"HOME": str(tmp_path)})


def test_in_cluster_without_a_token_is_refused(tmp_path: Path) -> None:
    """In a pod without a readable service account token, the error says so (in-cluster path)."""
    env = {
        "HOME": str(tmp_path),
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
    }
    with pytest.raises(PlatformAuthError, match="in-cluster service account"):
        connect(kubeconfig=None, context=None, namespace="web", env=env)
    assert IN_CLUSTER == "in-cluster"


def test_403_names_context_and_rbac() -> None:
    """A 403 becomes PlatformAuthError naming the context and pointing at RBAC."""
    err = translate(FakeApiException(403, "forbidden"), "patch deployment web", WHERE)
    assert isinstance(err, PlatformAuthError)
    assert "context prod" in str(err) and "RBAC" in str(err)


def test_404_names_the_workload() -> None:
    """A 404 names the missing workload and the namespace."""
    err = translate(FakeApiException(404), "read", WHERE, subject="deployment/web")
    assert isinstance(err, PlatformNotFound)
    assert str(err).startswith("deployment/web not found in namespace web")


def test_409_is_a_conflict() -> None:
    """A 409 becomes KubeConflict with the server's message."""
    err = translate(FakeApiException(409, "the object has been modified"), "patch", WHERE)
    assert isinstance(err, KubeConflict) and "has been modified" in str(err)


def test_422_carries_the_server_message() -> None:
    """A 422 becomes PlatformRejected with the API server's own words."""
    err = translate(FakeApiException(422, 'Deployment.apps "web" is invalid: x'), "patch", WHERE)
    assert isinstance(err, PlatformRejected) and "is invalid: x" in str(err)


def test_429_is_retryable_and_keeps_retry_after() -> None:
    """A 429 is KubeUnavailable (retryable) and remembers Retry-After."""
    err = translate(FakeApiException(429, headers={"Retry-After": "3"}), "list pods", WHERE)
    assert isinstance(err, KubeUnavailable) and err.retry_after == 3.0


def test_messages_are_one_line() -> None:
    """A multi-line server message is folded into one line."""
    err = translate(FakeApiException(422, "a\nb"), "patch", WHERE)
    assert "\n" not in str(err)

"""Resources, environment parity, Heroku-only variables and the concurrency shape."""

from __future__ import annotations

from typing import TypedDict

from shipper.core.budget import Concurrency
from shipper.core.estate import Container, Dynos, HerokuApp, Workload
from shipper.core.lessons import (
    check_cpu,
    check_heroku_only_reads,
    check_parity,
    check_resources,
    concurrency_shape,
    pairs,
)
from shipper.core.model import Severity


class Resources(TypedDict):
    """The resource fields of a `Container`, to pass as keywords."""

    cpu_request: str
    memory_request: str
    memory_limit: str


FULL: Resources = {"cpu_request": "500m", "memory_request": "512Mi", "memory_limit": "1Gi"}


def heroku(size: str = "Performance-L", names: frozenset[str] = frozenset()) -> HerokuApp:
    return HerokuApp(
        "acme-web",
        (Dynos("acme-web", "web", 8, size), Dynos("acme-web", "worker", 0, "Standard-1X")),
        names or frozenset({"DATABASE_URL", "SECRET_KEY_BASE", "PAPERTRAIL_API_TOKEN"}),
        False,
    )


def kube(*containers: Container, replicas: int = 75) -> Workload:
    return Workload("deployment/web", replicas, containers=containers)


def test_a_container_without_requests_or_memory_limit_blocks_naming_what_is_missing() -> None:
    """Each gap is named per container; the migration Job borrowing them is said."""
    w = kube(Container("web", **FULL), Container("proxy", ships=False, cpu_request="100m"))
    [finding] = check_resources([w], Severity.BLOCK, migration_from="deployment/web")
    assert finding.severity is Severity.BLOCK
    assert "proxy has no memory request, no memory limit" in finding.message
    assert "migration Job" in finding.message and "web has" not in finding.message


def test_an_init_container_without_resources_is_a_warning() -> None:
    """It runs to completion before the pod serves: WARN, named as an init container."""
    w = kube(Container("web", **FULL), Container("assets", init=True))
    [finding] = check_resources([w], Severity.BLOCK)
    assert finding.severity is Severity.WARN and "init container assets" in finding.message


def test_complete_resources_find_nothing() -> None:
    assert check_resources([kube(Container("web", **FULL))], Severity.BLOCK) == []


def test_a_cpu_limit_far_below_the_dyno_warns() -> None:
    """Performance-L (about 8 cores) against a 250m limit warns; 4 cores does not."""
    low = kube(Container("web", cpu_limit="250m", **FULL))
    found = check_cpu(pairs([heroku()], [low], []), Severity.WARN, 0.25)
    assert len(found) == 1 and "250m" in found[0].message and "Performance-L" in found[0].message
    fine = kube(Container("web", cpu_limit="4", **FULL))
    assert check_cpu(pairs([heroku()], [fine], []), Severity.WARN, 0.25) == []


def test_env_parity_reports_names_on_one_side_only_and_what_could_not_be_read() -> None:
    """Names only, both ways, grouped per app and workload; an unreadable Secret is said."""
    w = kube(
        Container(
            "web",
            env_names=frozenset({"DATABASE_URL", "SECRET_KEY_BASE", "OTEL_ENDPOINT"}),
            unread=("secret app-secrets (no right to read it)",),
        ),
        Container("proxy", ships=False, env_names=frozenset({"PROXY_ONLY"})),
    )
    [finding] = check_parity(pairs([heroku()], [w], []), Severity.WARN, ignore=["IGNORED"])
    assert "only on Heroku acme-web: PAPERTRAIL_API_TOKEN" in finding.message
    assert "only on Kubernetes: OTEL_ENDPOINT" in finding.message
    assert "secret app-secrets" in finding.message and "PROXY_ONLY" not in finding.message


def test_heroku_only_variables_the_code_reads_warn_unless_kubernetes_sets_them() -> None:
    w = kube(Container("web", env_names=frozenset({"PORT"})))
    found = check_heroku_only_reads(
        {"DYNO": ["app/jobs.rb:3"], "PORT": ["config/puma.rb:1"]}, [w], Severity.WARN
    )
    assert len(found) == 1 and "DYNO" in found[0].message and "app/jobs.rb:3" in found[0].message


def test_concurrency_shape_gives_the_capacity_ratio() -> None:
    """8 dynos x 4 x 7 = 224 against 75 pods x 1 x 12 = 900: a ratio of 4.02, INFO."""
    spec = Concurrency("web", "web", (), 4, 7, "deployment/web", 1, 12)
    w = kube(Container("web", **FULL))
    [finding] = concurrency_shape(pairs([heroku()], [w], [spec]), [spec])
    assert finding.severity is Severity.INFO
    assert finding.table[1] == (
        "web / deployment/web",
        "8 × 4 × 7 = 224",
        "75 × 1 × 12 = 900",
        "4.02",
    )

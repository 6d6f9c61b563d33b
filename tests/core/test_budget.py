"""The connection budget's arithmetic: where the peak comes from, and the decision."""

from __future__ import annotations

from shipper.core.budget import (
    BudgetPolicy,
    Concurrency,
    Pooler,
    judge_budget,
    limit_of,
    peak_rows,
)
from shipper.core.estate import (
    Container,
    DatabaseLimits,
    Dynos,
    HerokuApp,
    Workload,
    millicores,
    surge_pods,
)
from shipper.core.model import Severity

WEB = Concurrency(
    "web",
    heroku_type="web",
    heroku_processes="WEB_CONCURRENCY",
    heroku_threads=5,
    kubernetes="deployment/web",
    kubernetes_processes=1,
    kubernetes_threads="RAILS_MAX_THREADS",
)


def app(preboot: bool = True) -> HerokuApp:
    return HerokuApp(
        "acme-web",
        (Dynos("acme-web", "web", 2, "Standard-2X"), Dynos("acme-web", "worker", 1, "Standard-1X")),
        frozenset({"WEB_CONCURRENCY", "DATABASE_URL"}),
        preboot,
        {"WEB_CONCURRENCY": 2},
    )


def web(replicas: int = 4, surge: int | str | None = "25%", hpa_max: int | None = None) -> Workload:
    return Workload(
        "deployment/web",
        replicas,
        max_surge=surge,
        hpa_max=hpa_max,
        containers=(Container("web", numbers={"RAILS_MAX_THREADS": 3}),),
    )


def test_surge_rounds_a_percentage_up_and_has_none_for_recreate_or_statefulsets() -> None:
    """maxSurge 25% of 3 pods is 1 (rounded up, as the controller does); Recreate and
    StatefulSets never run extra pods."""
    assert surge_pods(web(3, "25%")) == 1
    assert surge_pods(web(10, 2)) == 2
    assert surge_pods(web(4, None)) == 1
    assert surge_pods(Workload("deployment/web", 4, "Recreate", 2)) == 0
    assert surge_pods(Workload("statefulset/db", 4, max_surge=2)) == 0


def test_cpu_quantities_read_as_millicores() -> None:
    """250m, 1 and 0.5 are 250, 1000 and 500 millicores; junk is None."""
    assert [millicores(x) for x in ("250m", "1", "0.5", None, "x")] == [250, 1000, 500, None, None]


def test_peak_rows_double_preboot_web_and_count_surge_migration_and_release_phase() -> None:
    """Heroku web under preboot counts twice (2 dynos x 2 processes from WEB_CONCURRENCY x
    5 threads = 40), workers once (1x1x1 assumed, and said), the release phase 1, four
    pods plus one surge x 3 threads = 15, the migration Job 2."""
    rows, assumed = peak_rows([app()], [web()], [WEB], BudgetPolicy(migration=2))
    by = {r.where: r.connections for r in rows}
    assert by == {
        "acme-web/web": 40,
        "acme-web/worker": 1,
        "acme-web/release": 1,
        "deployment/web": 15,
        "job": 2,
    }
    assert any("acme-web/worker: no concurrency declared" in a for a in assumed)


def test_under_the_limit_is_an_info_finding_with_the_table() -> None:
    """Peak 59 against max_connections 100 - 3 reserved - 10% margin: INFO, with the
    arithmetic as a table."""
    rows, _ = peak_rows([app()], [web()], [WEB], BudgetPolicy(migration=2))
    limit = limit_of(rows, BudgetPolicy(), DatabaseLimits(100, 3, 10))
    assert limit is not None and limit.allowed == 100 - 3 - 10
    [finding] = judge_budget(rows, limit, Severity.BLOCK)
    assert finding.severity is Severity.INFO
    assert finding.table[0][0] == "side" and any("preboot" in row[2] for row in finding.table)


def test_over_the_limit_blocks_and_suggests_a_pooler() -> None:
    """Peak 59 against max_connections 60: over, BLOCK, naming the biggest source."""
    rows, _ = peak_rows([app()], [web()], [WEB], BudgetPolicy(migration=2))
    limit = limit_of(rows, BudgetPolicy(), DatabaseLimits(60, 3, 0))
    assert limit is not None
    [finding] = judge_budget(rows, limit, Severity.BLOCK)
    assert finding.severity is Severity.BLOCK
    assert "pgbouncer" in finding.message and "heroku acme-web/web" in finding.message


def test_connections_open_now_count_only_beyond_the_apps_own() -> None:
    """Steady state of this app is 2x2x5 + 1 + 4x3 = 33; 50 open now means 17 others."""
    rows, _ = peak_rows([app()], [web()], [WEB], BudgetPolicy())
    limit = limit_of(rows, BudgetPolicy(margin=0), DatabaseLimits(200, 3, 50))
    assert limit is not None and limit.others == 17 and limit.allowed == 200 - 3 - 17


def test_a_declared_pooler_is_the_limit() -> None:
    """With pgbouncer declared, its max_client_conn (less the margin) is what counts."""
    rows, _ = peak_rows([app()], [web()], [WEB], BudgetPolicy())
    policy = BudgetPolicy(margin=5, pooler=Pooler("pgbouncer", 500))
    limit = limit_of(rows, policy, DatabaseLimits(20, 3, 15))
    assert limit is not None and limit.allowed == 495


def test_autoscaler_maximum_over_the_limit_is_a_warning() -> None:
    """Fits at 4 replicas, not at the HPA's 30: INFO plus a WARN about maxReplicas."""
    policy = BudgetPolicy()
    rows, _ = peak_rows([app(False)], [web(hpa_max=30)], [WEB], policy)
    hpa, _ = peak_rows([app(False)], [web(hpa_max=30)], [WEB], policy, at_hpa_max=True)
    limit = limit_of(rows, policy, DatabaseLimits(100, 3, 0))
    assert limit is not None
    found = judge_budget(rows, limit, Severity.BLOCK, hpa_rows=hpa)
    assert [f.severity for f in found] == [Severity.INFO, Severity.WARN]

"""PrometheusCheck against Prometheus HTTP API answers scripted with respx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from shipper.checks.prometheus import PrometheusCheck, PrometheusCredentials
from shipper.core.model import JSON, MeasurementStatus, Side, Version

BASE = "http://prometheus.example.test:9090"
ENDPOINT = BASE + "/api/v1/query"
V42 = Version("v42")
TOKEN = "s3cr3t-bearer-token"
PASSWORD = "s3cr3t-password"


def make(**kwargs: Any) -> PrometheusCheck:
    options: dict[str, Any] = {"maximum": 0.01, "query": "job:errors:ratio"}
    options.update(kwargs)
    return PrometheusCheck(
        "kube-errors",
        Side.KUBERNETES,
        url=str(options.pop("url", BASE)),
        client=httpx.Client(),
        **options,
    )


def vector(*values: str) -> dict[str, JSON]:
    result: list[JSON] = [
        {"metric": {"pod": f"web-{i}"}, "value": [1764158400.0, v]} for i, v in enumerate(values)
    ]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def scalar(value: str) -> dict[str, JSON]:
    return {"status": "success", "data": {"resultType": "scalar", "result": [1764158400.0, value]}}


def test_vector_below_max_passes(respx_mock: respx.MockRouter) -> None:
    """Every sample under `max` is a successful measurement showing the highest value."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("0.002", "0.004"))
    m = make().measure(V42)
    assert (m.status, m.value) == (MeasurementStatus.SUCCESSFUL, "0.004")


def test_vector_at_max_passes(respx_mock: respx.MockRouter) -> None:
    """A sample exactly at `max` passes: thresholds are inclusive."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("0.01"))
    assert make().measure(V42).status is MeasurementStatus.SUCCESSFUL


def test_vector_above_max_fails(respx_mock: respx.MockRouter) -> None:
    """A sample above `max` fails, naming the value, the threshold and the series."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("0.002", "0.05"))
    m = make().measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert m.value == "0.05"
    assert m.message == '0.05 > max 0.01 for {pod="web-1"} of 2 series'


def test_any_series_above_max_fails(respx_mock: respx.MockRouter) -> None:
    """One bad series among good ones fails the measurement (not just result[0])."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("0.0", "0.0", "0.2"))
    assert make().measure(V42).status is MeasurementStatus.FAILED


def test_scalar_below_min_fails(respx_mock: respx.MockRouter) -> None:
    """A scalar answer below `min` fails."""
    respx_mock.get(ENDPOINT).respond(200, json=scalar("0.97"))
    m = make(maximum=None, minimum=0.99).measure(V42)
    assert m.status is MeasurementStatus.FAILED
    assert m.message == "0.97 < min 0.99"


def test_scalar_at_min_passes(respx_mock: respx.MockRouter) -> None:
    """A scalar exactly at `min` passes."""
    respx_mock.get(ENDPOINT).respond(200, json=scalar("0.99"))
    assert make(maximum=None, minimum=0.99).measure(V42).status is MeasurementStatus.SUCCESSFUL


def test_empty_result_is_inconclusive_by_default(respx_mock: respx.MockRouter) -> None:
    """An empty vector is inconclusive by default, never a pass."""
    respx_mock.get(ENDPOINT).respond(200, json=vector())
    m = make().measure(V42)
    assert m.status is MeasurementStatus.INCONCLUSIVE
    assert "no data" in m.message


@pytest.mark.parametrize(
    ("on_empty", "status"),
    [("pass", MeasurementStatus.SUCCESSFUL), ("fail", MeasurementStatus.FAILED)],
)
def test_empty_result_follows_on_empty(
    respx_mock: respx.MockRouter, on_empty: str, status: MeasurementStatus
) -> None:
    """`on_empty` decides what an empty result counts as when the file sets it."""
    respx_mock.get(ENDPOINT).respond(200, json=vector())
    assert make(on_empty=on_empty).measure(V42).status is status


def test_nan_is_handled_as_no_data(respx_mock: respx.MockRouter) -> None:
    """A NaN-only answer (a ratio with no traffic) is inconclusive, like an empty one."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("NaN"))
    m = make().measure(V42)
    assert (m.status, m.value) == (MeasurementStatus.INCONCLUSIVE, "NaN")


def test_nan_series_are_left_out(respx_mock: respx.MockRouter) -> None:
    """NaN samples next to real ones are ignored and the real ones decide."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("NaN", "0.5"))
    assert make().measure(V42).status is MeasurementStatus.FAILED


def test_positive_infinity_breaks_max(respx_mock: respx.MockRouter) -> None:
    """+Inf (a quantile beyond the last bucket) is above any max."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("+Inf"))
    m = make(maximum=0.5).measure(V42)
    assert (m.status, m.value) == (MeasurementStatus.FAILED, "+Inf")


def test_negative_infinity_breaks_min(respx_mock: respx.MockRouter) -> None:
    """-Inf is below any min."""
    respx_mock.get(ENDPOINT).respond(200, json=scalar("-Inf"))
    assert make(maximum=None, minimum=0.0).measure(V42).status is MeasurementStatus.FAILED


def test_error_status_is_inconclusive(respx_mock: respx.MockRouter) -> None:
    """A 400 `status: error` answer is inconclusive and quotes Prometheus' error."""
    respx_mock.get(ENDPOINT).respond(
        400,
        json={"status": "error", "errorType": "bad_data", "error": "parse error at char 5"},
    )
    m = make().measure(V42)
    assert m.status is MeasurementStatus.INCONCLUSIVE
    assert m.message == "Prometheus answered 400: bad_data: parse error at char 5"


def test_server_error_is_inconclusive(respx_mock: respx.MockRouter) -> None:
    """A 503 from Prometheus is inconclusive: no reading, not a bad reading."""
    respx_mock.get(ENDPOINT).respond(
        503, json={"status": "error", "errorType": "unavailable", "error": "overloaded"}
    )
    assert make().measure(V42).status is MeasurementStatus.INCONCLUSIVE


def test_timeout_is_inconclusive(respx_mock: respx.MockRouter) -> None:
    """A request timeout is inconclusive and measure() does not raise."""
    respx_mock.get(ENDPOINT).mock(side_effect=httpx.ReadTimeout("timed out"))
    m = make(timeout=2.0).measure(V42)
    assert m.status is MeasurementStatus.INCONCLUSIVE
    assert m.message == f"Prometheus: no answer from {ENDPOINT} within 2s"


def test_non_json_answer_is_inconclusive(respx_mock: respx.MockRouter) -> None:
    """A proxy's HTML page instead of JSON is inconclusive, with the start of the page."""
    respx_mock.get(ENDPOINT).respond(502, text="<html><body>Bad Gateway</body></html>")
    m = make().measure(V42)
    assert m.status is MeasurementStatus.INCONCLUSIVE
    assert "not JSON" in m.message and "Bad Gateway" in m.message


def test_range_vector_is_inconclusive_with_advice(respx_mock: respx.MockRouter) -> None:
    """A matrix answer is not compared; the message says how to make the query instant."""
    body = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    respx_mock.get(ENDPOINT).respond(200, json=body)
    m = make().measure(V42)
    assert m.status is MeasurementStatus.INCONCLUSIVE
    assert "max_over_time" in m.message


def test_query_and_evaluation_timeout_are_sent(respx_mock: respx.MockRouter) -> None:
    """The query is rendered with the version and sent with Prometheus' own timeout."""
    route = respx_mock.get(ENDPOINT).respond(200, json=vector("0"))
    make(query='errors{version="{version}"}', timeout=2.5).measure(V42)
    params = route.calls.last.request.url.params
    assert params["query"] == 'errors{version="v42"}'
    assert params["timeout"] == "2500ms"


def test_url_with_path_prefix_keeps_it(respx_mock: respx.MockRouter) -> None:
    """A Prometheus behind a path prefix is queried under that prefix."""
    route = respx_mock.get("https://mon.example.test/prometheus/api/v1/query").respond(
        200, json=vector("0")
    )
    make(url="https://mon.example.test/prometheus/").measure(V42)
    assert route.called


def test_bearer_token_is_sent(respx_mock: respx.MockRouter) -> None:
    """A bearer token goes into the Authorization header."""
    route = respx_mock.get(ENDPOINT).respond(200, json=vector("0"))
    make(credentials=PrometheusCredentials(bearer_token=TOKEN, source="PROM_TOKEN")).measure(V42)
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_basic_auth_is_sent(respx_mock: respx.MockRouter) -> None:
    """A username and password go out as HTTP basic auth."""
    route = respx_mock.get(ENDPOINT).respond(200, json=vector("0"))
    creds = PrometheusCredentials(username="ship", password=PASSWORD, source="PROM_USER")
    make(credentials=creds).measure(V42)
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")


def test_refused_credentials_name_the_variable_not_the_value(
    respx_mock: respx.MockRouter,
) -> None:
    """A 401 names the env variable to check and never the token itself."""
    respx_mock.get(ENDPOINT).respond(401, json={"status": "error", "error": f"bad {TOKEN}"})
    creds = PrometheusCredentials(bearer_token=TOKEN, source="PROM_TOKEN")
    m = make(credentials=creds).measure(V42)
    assert m.status is MeasurementStatus.INCONCLUSIVE
    assert "PROM_TOKEN" in m.message
    assert TOKEN not in m.message + m.value


def test_secret_echoed_by_the_server_is_redacted(respx_mock: respx.MockRouter) -> None:
    """A server error quoting the password shows *** in its place."""
    respx_mock.get(ENDPOINT).respond(
        500, json={"status": "error", "errorType": "internal", "error": f"pw {PASSWORD}"}
    )
    creds = PrometheusCredentials(username="ship", password=PASSWORD, source="PROM_PASSWORD")
    m = make(credentials=creds).measure(V42)
    assert PASSWORD not in m.message
    assert "pw ***" in m.message


def test_credentials_repr_hides_values() -> None:
    """repr() of credentials names the source only."""
    creds = PrometheusCredentials(bearer_token=TOKEN, source="PROM_TOKEN")
    assert TOKEN not in repr(creds)


def test_threshold_text() -> None:
    """The threshold says both bounds and the empty-result policy."""
    check = make(maximum=0.5, minimum=0.1)
    assert check.threshold == "every series >= 0.1 and <= 0.5 (no data: inconclusive)"


# --- probe: one query before any change (ship validate --online, the deploy's preflight) ---


def test_probe_with_data_names_the_query_and_the_value(respx_mock: respx.MockRouter) -> None:
    """A query that returns data is reached and ok; the finding names URL, query and value."""
    respx_mock.get(ENDPOINT).respond(200, json=vector("0.002"))
    probe = make().probe(V42)
    assert (probe.reached, probe.ok) == (True, True)
    assert ENDPOINT in probe.where and "job:errors:ratio" in probe.where
    assert "0.002" in probe.answer


def test_probe_without_data_says_no_data(respx_mock: respx.MockRouter) -> None:
    """An empty answer is reached and ok, and says "no data" (there may be no traffic yet)."""
    respx_mock.get(ENDPOINT).respond(200, json=vector())
    probe = make().probe(V42)
    assert (probe.reached, probe.ok) == (True, True)
    assert "no data" in probe.answer


def test_probe_of_a_bad_query_is_reached_but_not_ok(respx_mock: respx.MockRouter) -> None:
    """Prometheus refusing the query is an answer (reached) ship can't use (not ok)."""
    respx_mock.get(ENDPOINT).respond(
        400, json={"status": "error", "errorType": "bad_data", "error": "parse error"}
    )
    probe = make().probe(V42)
    assert (probe.reached, probe.ok) == (True, False)
    assert "parse error" in probe.answer


def test_probe_that_cannot_connect_names_the_url_without_credentials(
    respx_mock: respx.MockRouter,
) -> None:
    """No connection is not reached; the URL is shown without its user:password."""
    url = "http://admin:s3cr3t-password@prometheus.example.test:9090"
    respx_mock.get(url + "/api/v1/query").mock(side_effect=httpx.ConnectError(f"no {url}"))
    probe = make(url=url).probe(V42)
    assert probe.reached is False
    assert probe.where.startswith(ENDPOINT)
    assert "s3cr3t" not in probe.where + probe.answer
    m = make(url=url).measure(V42)
    assert f"could not connect to {ENDPOINT}" in m.message and "s3cr3t" not in m.message

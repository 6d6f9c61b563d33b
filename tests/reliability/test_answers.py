"""Property-based attacks at the HTTP boundary: whatever Heroku, the status page,
Prometheus or the Kubernetes API answer, `ship` fails safely and never crashes.

Heroku runs behind respx (the scripted Heroku of the adapter tests, on a fake clock, so
retries cost nothing); the status page and Prometheus behind httpx's MockTransport; the
Kubernetes rollout reading gets arbitrary objects, as a broken or hostile API server
could send them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shipper.checks.prometheus import PrometheusCheck
from shipper.core.model import MeasurementStatus, Side, Verdict, Version
from shipper.errors import ShipError
from shipper.heroku.api import HerokuApi
from shipper.heroku.auth import Token
from shipper.heroku.platform import HerokuPlatform
from shipper.heroku.status_gate import HerokuStatusGate
from shipper.kubernetes import rollout
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import SOURCE
from tests.heroku.fake_heroku import API, STREAMS, FakeHeroku
from tests.reliability.tally import Tally

CANARY = "hk-RELIABILITY-CANARY-5d0c9e"
APPS = ["acme-web", "acme-worker"]
V42 = Version("v42")
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


# --- Heroku: random faults on every route, never two builds -----------------------------

Answer = Callable[[httpx.Request, FakeHeroku], httpx.Response]


def _status(code: int, retry_after: str | None = None) -> Answer:
    def answer(request: httpx.Request, fake: FakeHeroku) -> httpx.Response:
        headers = {"Retry-After": retry_after} if retry_after else {}
        return httpx.Response(code, json={"id": "scripted", "message": "x"}, headers=headers)

    return answer


def _raise(kind: type[httpx.TransportError], commit: bool = False) -> Answer:
    def answer(request: httpx.Request, fake: FakeHeroku) -> httpx.Response:
        if commit:
            fake._route(request)  # Heroku did it; the answer is lost
        raise kind("scripted", request=request)

    return answer


def _malformed(request: httpx.Request, fake: FakeHeroku) -> httpx.Response:
    return httpx.Response(
        200, content=b'{"id": "trunc', headers={"Content-Type": "application/json"}
    )


def _garbage(body: Any) -> Answer:
    def answer(request: httpx.Request, fake: FakeHeroku) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(body).encode())

    return answer


answers = st.one_of(
    st.sampled_from(
        [
            _status(429),
            _status(429, "1"),
            _status(500),
            _status(502),
            _status(503),
            _status(404),
            _status(422),
            _raise(httpx.ReadTimeout),
            _raise(httpx.ReadTimeout, commit=True),
            _raise(httpx.ConnectError),
            _raise(httpx.RemoteProtocolError, commit=True),
            _malformed,
        ]
    ),
    json_values.map(_garbage),
)
routes = st.sampled_from(
    [
        ("GET", r"/releases$"),
        ("GET", r"/releases/"),
        ("GET", r"/builds$"),
        ("GET", r"/builds/"),
        ("POST", r"/builds$"),
        ("GET", r"/dynos"),
    ]
)
scripts = st.lists(st.tuples(routes, st.lists(answers, min_size=1, max_size=4)), max_size=5)


def _deploy_under(script: list[tuple[tuple[str, str], list[Answer]]]) -> tuple[FakeHeroku, Any]:
    clock = FakeClock()
    fake = FakeHeroku(APPS, clock, CANARY)
    for (method, path), scripted in script:
        fake.fail(method, path, *[lambda r, a=a: a(r, fake) for a in scripted])
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.route(url__startswith=API).mock(side_effect=fake.handle)
        router.route(url__startswith=STREAMS).mock(side_effect=fake.stream)
        api = HerokuApi(httpx.Client(base_url=API), Token(CANARY, "HEROKU_API_KEY"), clock=clock)
        op = RecordingOperation(version=V42, clock=clock, budget=600.0)
        try:
            results: Any = HerokuPlatform(api, APPS, SOURCE).deploy(V42, op)
        except ShipError as exc:
            results = exc
    return fake, results


@FAST
@given(script=scripts)
def test_heroku_faults_never_make_two_builds_or_a_crash(
    tally: Tally, script: list[tuple[tuple[str, str], list[Answer]]]
) -> None:
    """Under any mix of 429s, 5xx, timeouts, resets, lost answers and junk bodies, a Heroku
    deploy ends in per-app verdicts or a ShipError, with at most one build per app, and a
    SUCCEEDED app really runs v42."""
    tally.faults += sum(len(a) for _, a in script)
    tally.attempted += 1
    fake, results = _deploy_under(script)
    builds = {app: len(fake.builds_of(app, "v42")) for app in APPS}
    duplicates = sum(1 for n in builds.values() if n > 1)
    tally.duplicates += duplicates
    assert duplicates == 0, builds
    text = repr(results) + str(results)
    leaked = int(CANARY in text)
    tally.leaks += leaked
    assert not leaked
    if isinstance(results, ShipError):
        tally.converged += 1
        return
    for result in results:
        assert result.verdict in tuple(Verdict)
        if result.verdict is Verdict.SUCCEEDED:
            app = result.target.name
            assert fake.current(app)["description"] == "Deploy v42", (app, fake.current(app))
    tally.converged += 1


# --- the status page: fail closed on anything but a readable green -----------------------

systems = st.sampled_from(["Apps", "Data", "Tools", "apps", "", "Other"])
colours = st.one_of(st.sampled_from(["green", "yellow", "red", "Green ", "blue"]), json_values)
v4_bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "status": st.lists(
                st.fixed_dictionaries({"system": systems, "status": colours}), max_size=4
            ),
            "incidents": st.one_of(st.lists(json_values, max_size=3), json_values),
        }
    ),
    json_values,
)


@FAST
@given(
    code=st.sampled_from([200, 200, 200, 301, 404, 429, 500, 503]),
    body=v4_bodies,
    raw=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_status_page_answers_never_open_the_gate_unless_green(
    tally: Tally, code: int, body: Any, raw: bytes | None
) -> None:
    """Any answer of the status page reads as a gate reading; the gate is open only for a
    200 whose status list names Apps and Tools green."""
    tally.faults += 1
    content = raw if raw is not None else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, content=content)

    gate = HerokuStatusGate(
        "http://status.invalid/api/v4/current-status",
        ["Apps", "Tools"],
        httpx.Client(transport=httpx.MockTransport(handler)),
        trust_fallback=None,
    )
    reading = gate.read()
    if reading.is_open:
        assert code == 200
        parsed = json.loads(content)
        colours_seen = {
            e["system"]: e["status"].strip().lower()
            for e in parsed["status"]
            if isinstance(e.get("status"), str)
        }
        assert colours_seen.get("Apps") == colours_seen.get("Tools") == "green"


# --- Prometheus: only a clean number under the threshold passes -------------------------

samples = st.fixed_dictionaries(
    {
        "metric": st.one_of(st.dictionaries(st.text(max_size=5), st.text(max_size=5)), json_values),
        "value": st.one_of(
            st.tuples(
                st.floats(0, 2e9),
                st.one_of(
                    st.floats(allow_nan=True, allow_infinity=True).map(str),
                    st.sampled_from(["NaN", "+Inf", "-Inf", "0.01", "1e-9", "abc", ""]),
                ),
            ).map(list),
            json_values,
        ),
    }
)
prom_bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["success", "error", "Success"]),
            "data": st.one_of(
                st.fixed_dictionaries(
                    {
                        "resultType": st.sampled_from(["vector", "scalar", "matrix", "string"]),
                        "result": st.one_of(st.lists(samples, max_size=3), json_values),
                    }
                ),
                json_values,
            ),
        }
    ),
    json_values,
)


@FAST
@given(
    code=st.sampled_from([200, 200, 400, 401, 422, 500, 503]),
    body=prom_bodies,
    raw=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_prometheus_answers_pass_only_a_clean_number_under_the_threshold(
    tally: Tally, code: int, body: Any, raw: bytes | None
) -> None:
    """Any Prometheus answer becomes a measurement; it is SUCCESSFUL only for a 200 success
    answer whose every finite sample is at most the threshold."""
    tally.faults += 1
    content = raw if raw is not None else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, content=content)

    check = PrometheusCheck(
        "errors",
        Side.KUBERNETES,
        url="http://prometheus.invalid",
        query="error_ratio",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        maximum=0.05,
    )
    measured = check.measure(V42)
    assert measured.status in tuple(MeasurementStatus)
    if measured.status is MeasurementStatus.SUCCESSFUL:
        assert code == 200
        parsed = json.loads(content)
        values = []
        for sample in parsed["data"]["result"] if parsed["data"]["resultType"] == "vector" else []:
            values.append(float(sample["value"][1]))
        if parsed["data"]["resultType"] == "scalar":
            values.append(float(parsed["data"]["result"][1]))
        finite = [v for v in values if not math.isnan(v)]
        assert finite and max(finite) <= 0.05


# --- Kubernetes: any object the API server could send reads as a verdict ----------------

# The API server enforces the schema's types, so fields are integers (any size, also
# negative), missing or null; conditions are objects of strings.
counts = st.one_of(st.none(), st.integers(-5, 5), st.integers(-(2**63), 2**63 - 1))
texts = st.one_of(st.none(), st.text(max_size=20))
conditions = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["Progressing", "Available", "ReplicaFailure", "Complete", "Failed", "Weird"]
            ),
            "status": st.sampled_from(["True", "False", "Unknown"]),
        },
        optional={
            "reason": st.sampled_from(
                ["ProgressDeadlineExceeded", "NewReplicaSetAvailable", "BackoffLimitExceeded", ""]
            ),
            "message": texts,
        },
    ),
    max_size=4,
)
workloads = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.fixed_dictionaries({}, optional={"generation": counts}),
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "replicas": counts,
                "completions": counts,
                "backoffLimit": counts,
                "parallelism": counts,
            },
        ),
        "status": st.fixed_dictionaries(
            {},
            optional={
                "observedGeneration": counts,
                "replicas": counts,
                "updatedReplicas": counts,
                "availableReplicas": counts,
                "readyReplicas": counts,
                "currentReplicas": counts,
                "updatedRevision": texts,
                "currentRevision": texts,
                "active": counts,
                "succeeded": counts,
                "failed": counts,
                "conditions": st.one_of(st.none(), conditions),
            },
        ),
    },
)


@FAST
@given(obj=workloads, generation=st.integers(0, 5))
def test_any_workload_object_reads_as_a_verdict(
    tally: Tally, obj: dict[str, Any], generation: int
) -> None:
    """A Deployment, StatefulSet or Job object of any shape the API server allows reads as
    a Verdict, never an exception."""
    tally.faults += 1
    for read in (rollout.read_deployment, rollout.read_statefulset):
        assert read(obj, generation).verdict in tuple(Verdict)
    assert rollout.read_job(obj).verdict in tuple(Verdict)

"""The Heroku Platform API stand-in over real HTTP: conventions, lifecycle, schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shipper.sandbox.faults import Fault
from tests.sandbox.conftest import HEADERS, HerokuStandIn
from tests.sandbox.schema import validate

APP = "shop-web"
SEEDED = 8  # the releases of a seeded app's history (git pushes, a rollback, a promotion, ...)
NEXT = SEEDED + 1  # the number of the next release


def _build(h: HerokuStandIn, version: str, app: str = APP) -> dict[str, Any]:
    blob = {"url": f"http://127.0.0.1/artifacts/{version}.tar.gz", "version": version}
    answer = h.client.post(f"/apps/{app}/builds", json={"source_blob": blob})
    assert answer.status_code == 201
    build: dict[str, Any] = answer.json()
    return build


def _current(h: HerokuStandIn, app: str = APP) -> dict[str, Any]:
    releases = h.client.get(f"/apps/{app}/releases").json()
    return next(r for r in releases if r["current"])


def test_request_without_token_is_refused(heroku: HerokuStandIn) -> None:
    """Without a Bearer token the API answers 401 `unauthorized` with a message."""
    answer = httpx.get(f"{heroku.served.url}/apps", headers={"Accept": HEADERS["Accept"]})
    assert answer.status_code == 401
    assert answer.json()["id"] == "unauthorized"
    assert answer.json()["message"]


def test_wrong_token_is_refused(heroku: HerokuStandIn) -> None:
    """A token other than the sandbox's own is refused like a revoked key."""
    headers = {**HEADERS, "Authorization": "Bearer not-the-token"}
    assert heroku.client.get("/apps", headers=headers).status_code == 401


def test_missing_accept_is_406(heroku: HerokuStandIn) -> None:
    """Without the version=3 Accept header the API answers 406 `not_acceptable`."""
    answer = heroku.client.get("/apps", headers={"Accept": "application/json"})
    assert (answer.status_code, answer.json()["id"]) == (406, "not_acceptable")


def test_every_answer_carries_a_request_id(heroku: HerokuStandIn) -> None:
    """Successful and failed answers alike carry a Request-Id header."""
    good = heroku.client.get("/apps")
    bad = heroku.client.get("/apps/nope")
    assert good.headers["Request-Id"] and bad.headers["Request-Id"]
    assert bad.status_code == 404


def test_rate_limit_remaining_counts_down(heroku: HerokuStandIn) -> None:
    """Each call spends one token, shown in RateLimit-Remaining."""
    first = int(heroku.client.get("/apps").headers["RateLimit-Remaining"])
    second = int(heroku.client.get("/apps").headers["RateLimit-Remaining"])
    assert second == first - 1


def test_empty_bucket_answers_429(heroku: HerokuStandIn) -> None:
    """Once the account's bucket is empty, calls answer 429 `rate_limit`."""
    heroku.api.set_bucket(4500, tokens=0)
    answer = heroku.client.get("/apps")
    assert (answer.status_code, answer.json()["id"]) == (429, "rate_limit")


def test_seeded_apps_run_v1(heroku: HerokuStandIn) -> None:
    """A fresh stand-in runs v1 on every app, in a succeeded current release."""
    for app in ("shop-web", "shop-worker"):
        current = _current(heroku, app)
        assert current["status"] == "succeeded"
        assert heroku.world.running_version(app) == "v1"


def test_build_is_pending_then_succeeded_with_a_release(heroku: HerokuStandIn) -> None:
    """A build starts pending and, once built, names its slug and release."""
    build = _build(heroku, "v2")
    assert (build["status"], build["release"]) == ("pending", None)
    heroku.clock.advance(1.0)
    done = heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()
    assert done["status"] == "succeeded"
    assert done["release"]["id"] and done["slug"]["id"]


def test_current_moves_only_when_release_phase_succeeds(heroku: HerokuStandIn) -> None:
    """While release phase runs, the old release stays current; after it, the new one is."""
    build = _build(heroku, "v2")
    heroku.clock.advance(0.85)
    release_id = heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()["release"]["id"]
    pending = heroku.client.get(f"/apps/{APP}/releases/{release_id}").json()
    assert (pending["status"], pending["current"]) == ("pending", False)
    heroku.clock.advance(0.5)
    done = heroku.client.get(f"/apps/{APP}/releases/{release_id}").json()
    assert (done["status"], done["current"]) == ("succeeded", True)
    assert heroku.world.running_version(APP) == "v2"


def test_badbuild_fails_without_a_release(heroku: HerokuStandIn) -> None:
    """A `badbuild` version's build fails, leaves no release, and logs why."""
    build = _build(heroku, "v2-badbuild")
    heroku.clock.advance(1.0)
    done = heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()
    assert (done["status"], done["release"]) == ("failed", None)
    log = httpx.get(done["output_stream_url"]).text
    assert "failed to compile" in log
    assert heroku.world.running_version(APP) == "v1"


def test_badrelease_fails_release_phase_and_keeps_old_release(heroku: HerokuStandIn) -> None:
    """A `badrelease` version's release phase fails and the previous release stays live."""
    _build(heroku, "v2-badrelease")
    heroku.clock.advance(2.0)
    newest = heroku.client.get(
        f"/apps/{APP}/releases", headers={"Range": "version ..; max=1, order=desc"}
    ).json()[0]
    assert (newest["status"], newest["current"]) == ("failed", False)
    assert heroku.world.running_version(APP) == "v1"


def test_slug_release_runs_release_phase(heroku: HerokuStandIn) -> None:
    """Releasing a slug by id creates a pending release that then goes live."""
    build = _build(heroku, "v2")
    heroku.clock.advance(2.0)
    slug = heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()["slug"]["id"]
    answer = heroku.client.post(
        "/apps/shop-worker/releases", json={"slug": slug, "description": "ship: v2 (release 3)"}
    )
    assert answer.status_code == 201
    assert (answer.json()["status"], answer.json()["description"]) == (
        "pending",
        "ship: v2 (release 3)",
    )
    heroku.clock.advance(1.0)
    assert heroku.world.running_version("shop-worker") == "v2"


def test_rollback_makes_a_new_release_of_the_old_slug(heroku: HerokuStandIn) -> None:
    """POST releases {"release": id} makes `Rollback to vN` live with that release's slug."""
    old = _current(heroku)
    _build(heroku, "v2")
    heroku.clock.advance(2.0)
    answer = heroku.client.post(f"/apps/{APP}/releases", json={"release": old["id"]})
    assert answer.status_code == 201
    rollback = answer.json()
    assert rollback["description"] == f"Rollback to v{old['version']}"
    assert rollback["slug"] == old["slug"]
    heroku.clock.advance(1.0)
    assert heroku.world.running_version(APP) == "v1"


def test_rollback_to_a_failed_release_is_refused(heroku: HerokuStandIn) -> None:
    """A release whose release phase failed cannot be rolled back to (422)."""
    _build(heroku, "v2-badrelease")
    heroku.clock.advance(2.0)
    failed = heroku.client.get(f"/apps/{APP}/releases/{NEXT}").json()
    answer = heroku.client.post(f"/apps/{APP}/releases", json={"release": failed["id"]})
    assert (answer.status_code, answer.json()["id"]) == (422, "invalid_params")


def test_range_pages_newest_first_with_next_range(heroku: HerokuStandIn) -> None:
    """A truncated list answers 206 with Next-Range; following it returns the rest."""
    first = heroku.client.get(
        f"/apps/{APP}/releases", headers={"Range": "version ..; max=1, order=desc"}
    )
    assert first.status_code == 206
    assert [r["version"] for r in first.json()] == [SEEDED]
    rest = heroku.client.get(
        f"/apps/{APP}/releases",
        headers={"Range": first.headers["Next-Range"].replace("max=1", "max=200")},
    )
    assert rest.status_code == 200
    assert [r["version"] for r in rest.json()] == list(range(SEEDED - 1, 0, -1))


def test_bad_range_is_416(heroku: HerokuStandIn) -> None:
    """A Range on a field the list cannot order by answers 416."""
    answer = heroku.client.get(f"/apps/{APP}/releases", headers={"Range": "name ..; max=1"})
    assert answer.status_code == 416


def test_unchanged_resource_answers_304(heroku: HerokuStandIn) -> None:
    """If-None-Match with the current ETag answers 304 with an empty body."""
    first = heroku.client.get(f"/apps/{APP}/releases/2")
    again = heroku.client.get(
        f"/apps/{APP}/releases/2", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert (again.status_code, again.content) == (304, b"")


def test_changed_resource_answers_200_despite_if_none_match(heroku: HerokuStandIn) -> None:
    """A build that moved on since its ETag answers in full."""
    build = _build(heroku, "v2")
    first = heroku.client.get(f"/apps/{APP}/builds/{build['id']}")
    heroku.clock.advance(1.0)
    again = heroku.client.get(
        f"/apps/{APP}/builds/{build['id']}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 200


def test_docker_image_needs_the_docker_releases_variant(heroku: HerokuStandIn) -> None:
    """A formation PATCH with docker_image under plain version=3 is refused (422)."""
    body = {"updates": [{"type": "web", "docker_image": "registry.invalid/shop:v2"}]}
    answer = heroku.client.patch(f"/apps/{APP}/formation", json=body)
    assert answer.status_code == 422


def test_docker_image_release_goes_live(heroku: HerokuStandIn) -> None:
    """With the docker-releases variant, a formation PATCH releases the image."""
    body = {"updates": [{"type": "web", "docker_image": "registry.invalid/shop:v3"}]}
    headers = {"Accept": "application/vnd.heroku+json; version=3.docker-releases"}
    answer = heroku.client.patch(f"/apps/{APP}/formation", json=body, headers=headers)
    assert answer.status_code == 200
    heroku.clock.advance(1.0)
    assert heroku.world.running_version(APP) == "v3"


def test_scaling_creates_no_release(heroku: HerokuStandIn) -> None:
    """Scaling a process type changes the quantity and releases nothing."""
    answer = heroku.client.patch(f"/apps/{APP}/formation/web", json={"quantity": 3})
    assert answer.json()["quantity"] == 3
    assert len(heroku.client.get(f"/apps/{APP}/releases").json()) == SEEDED


def test_dynos_start_then_run(heroku: HerokuStandIn) -> None:
    """The dynos of a new release are `starting` at first and `up` after booting; with
    preboot on (the first app), the old release's web dynos serve on beside them for a
    while, then only the new release's dynos are left."""
    _build(heroku, "v2")
    heroku.clock.advance(1.25)
    dynos = heroku.client.get(f"/apps/{APP}/dynos").json()
    new = [d for d in dynos if d["release"]["version"] == NEXT]
    old = [d for d in dynos if d["release"]["version"] == SEEDED]
    assert {d["state"] for d in new} == {"starting"}
    assert [(d["type"], d["state"]) for d in old] == [("web", "up")]
    heroku.clock.advance(1.0)
    dynos = heroku.client.get(f"/apps/{APP}/dynos").json()
    assert {d["state"] for d in dynos} == {"up"}
    assert {d["release"]["version"] for d in dynos} == {NEXT}


def test_the_preboot_feature_reads_as_the_schema_says(heroku: HerokuStandIn) -> None:
    """`GET /apps/{app}/features/preboot` answers an app-feature: on for the first app."""
    on = heroku.client.get(f"/apps/{APP}/features/preboot").json()
    off = heroku.client.get("/apps/shop-worker/features/preboot").json()
    assert (on["name"], on["enabled"], off["enabled"]) == ("preboot", True, False)


def test_crashdyno_dynos_crash(heroku: HerokuStandIn) -> None:
    """The dynos of a `crashdyno` version end up `crashed`."""
    _build(heroku, "v2-crashdyno")
    heroku.clock.advance(3.0)
    assert {d["state"] for d in heroku.client.get(f"/apps/{APP}/dynos").json()} == {"crashed"}


def test_release_stream_is_404_until_started(heroku: HerokuStandIn) -> None:
    """A release's output stream answers 404 until the release command starts."""
    build = _build(heroku, "v2")
    heroku.clock.advance(0.8)
    release_id = heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()["release"]["id"]
    url = heroku.client.get(f"/apps/{APP}/releases/{release_id}").json()["output_stream_url"]
    assert httpx.get(url).status_code == 404
    heroku.clock.advance(1.0)
    assert "Release command finished" in httpx.get(url).text


def test_counts_builds_and_releases_per_app_and_version(heroku: HerokuStandIn) -> None:
    """What ship sent is counted per app and version, for duplicate detection."""
    _build(heroku, "v2")
    _build(heroku, "v2", app="shop-worker")
    _build(heroku, "v2")
    assert heroku.world.summary()["received"]["builds"] == {"shop-web@v2": 2, "shop-worker@v2": 1}


@pytest.mark.parametrize(
    ("definition", "path"),
    [
        ("app", "/apps/shop-web"),
        ("release", "/apps/shop-web/releases/2"),
        ("formation", "/apps/shop-web/formation/web"),
        ("rate-limit", "/account/rate-limits"),
    ],
)
def test_answers_fit_the_official_schema(heroku: HerokuStandIn, definition: str, path: str) -> None:
    """Info answers validate against their definition in Heroku's schema."""
    validate(definition, heroku.client.get(path).json())


def test_build_slug_and_dyno_fit_the_official_schema(heroku: HerokuStandIn) -> None:
    """A finished build, its slug and the dynos it started validate against the schema."""
    build = _build(heroku, "v2")
    validate("build", build)
    heroku.clock.advance(3.0)
    done = heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()
    validate("build", done)
    validate("slug", heroku.client.get(f"/apps/{APP}/slugs/{done['slug']['id']}").json())
    for dyno in heroku.client.get(f"/apps/{APP}/dynos").json():
        validate("dyno", dyno)


def test_source_tarball_is_served(heroku: HerokuStandIn) -> None:
    """The artifact URL the sandbox pipeline builds from serves a gzipped tarball."""
    answer = httpx.get(f"{heroku.served.url}/artifacts/v2.tar.gz")
    assert answer.status_code == 200
    assert answer.content[:2] == b"\x1f\x8b"


# --- faults -----------------------------------------------------------------------------


def test_429_fault_carries_retry_after(heroku: HerokuStandIn) -> None:
    """A 429 fault answers rate_limit with the Retry-After it was armed with."""
    heroku.api.faults.add(Fault("status", status=429, retry_after=2))
    answer = heroku.client.get("/apps")
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "2")
    assert answer.json()["id"] == "rate_limit"


def test_429_fault_without_retry_after(heroku: HerokuStandIn) -> None:
    """A 429 fault armed without Retry-After sends none."""
    heroku.api.faults.add(Fault("status", status=429))
    answer = heroku.client.get("/apps")
    assert answer.status_code == 429
    assert "Retry-After" not in answer.headers


def test_5xx_burst_ends_after_its_count(heroku: HerokuStandIn) -> None:
    """A burst of two 503s is followed by normal answers."""
    heroku.api.faults.add(Fault("status", status=503, times=2))
    codes = [heroku.client.get("/apps").status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_fault_matches_method_and_path(heroku: HerokuStandIn) -> None:
    """A fault armed on POST builds leaves other calls alone."""
    heroku.api.faults.add(Fault("status", method="POST", path=r"/builds$", status=500))
    assert heroku.client.get("/apps").status_code == 200
    blob = {"source_blob": {"url": "http://x/v2.tar.gz", "version": "v2"}}
    assert heroku.client.post(f"/apps/{APP}/builds", json=blob).status_code == 500


def test_malformed_fault_answers_broken_json(heroku: HerokuStandIn) -> None:
    """A malformed fault answers 200 with a body that is not JSON."""
    heroku.api.faults.add(Fault("malformed"))
    answer = heroku.client.get("/apps")
    with pytest.raises(ValueError):
        answer.json()


def test_committed_hang_creates_the_build_the_client_never_hears_of(
    heroku: HerokuStandIn,
) -> None:
    """A POST that times out after being handled has still created its build."""
    heroku.api.faults.add(Fault("hang", method="POST", path="/builds", delay=0.5, commit=True))
    blob = {"source_blob": {"url": "http://x/v2.tar.gz", "version": "v2"}}
    with pytest.raises(httpx.TransportError):
        heroku.client.post(f"/apps/{APP}/builds", json=blob, timeout=0.2)
    assert heroku.world.summary()["received"]["builds"] == {"shop-web@v2": 1}


def test_reset_fault_drops_the_connection(heroku: HerokuStandIn) -> None:
    """A reset fault closes the connection without an answer."""
    heroku.api.faults.add(Fault("reset"))
    with pytest.raises(httpx.TransportError):
        heroku.client.get("/apps")


def test_latency_is_added_to_every_request(heroku: HerokuStandIn) -> None:
    """An injected latency delays each answer by at least that much."""
    heroku.api.faults.latency = 0.1
    answer = heroku.client.get("/apps")
    assert answer.elapsed.total_seconds() >= 0.1


def test_slowbuild_takes_ten_times_as_long(heroku: HerokuStandIn) -> None:
    """A `slowbuild` version is still pending when a normal build would be done."""
    build = _build(heroku, "v2-slowbuild")
    heroku.clock.advance(2.0)
    assert heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()["status"] == "pending"
    heroku.clock.advance(8.0)
    assert heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()["status"] == "succeeded"


def test_stuckrelease_stays_pending(heroku: HerokuStandIn) -> None:
    """A `stuckrelease` version's release phase is still pending after ten minutes."""
    _build(heroku, "v2-stuckrelease")
    heroku.clock.advance(600.0)
    newest = heroku.client.get(f"/apps/{APP}/releases/{NEXT}").json()
    assert (newest["status"], newest["current"]) == ("pending", False)


def test_cancelled_build_never_releases(heroku: HerokuStandIn) -> None:
    """A build cancelled while pending fails and never makes a release."""
    build = _build(heroku, "v2")
    answer = heroku.client.delete(f"/apps/{APP}/builds/{build['id']}")
    assert answer.json()["status"] == "failed"
    heroku.clock.advance(5.0)
    assert heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()["release"] is None
    assert heroku.world.running_version(APP) == "v1"


def test_uncancelled_build_releases_after_its_caller_gave_up(heroku: HerokuStandIn) -> None:
    """A build nobody waits for any more still goes live when it finishes, as on Heroku."""
    _build(heroku, "v2")
    heroku.clock.advance(5.0)
    assert heroku.world.running_version(APP) == "v2"


def test_a_running_builds_stream_stays_open_until_the_build_ends(heroku: HerokuStandIn) -> None:
    """As Heroku's do: the output stream of a running build is open until the build ends,
    then carries its output and closes (ship waits on that end instead of polling)."""
    import threading

    build = _build(heroku, "v2")
    heroku.clock.advance(0.2)  # the build has started: the stream exists
    got: dict[str, str] = {}

    def read() -> None:
        got["text"] = httpx.get(build["output_stream_url"], timeout=10).text

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=0.5)
    assert reader.is_alive(), "the stream of a running build ended early"
    heroku.clock.advance(1.0)
    reader.join(timeout=5)
    assert not reader.is_alive()
    done = heroku.client.get(f"/apps/{APP}/builds/{build['id']}").json()
    assert done["status"] == "succeeded"
    assert got["text"].strip()

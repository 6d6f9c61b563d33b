"""What the adapter reads once and uses again: the snapshot's releases list as a
deploy's live-state check, within FRESH_SECONDS and once only."""

from __future__ import annotations

from shipper.core.model import Verdict, Version
from shipper.heroku.api import HerokuApi
from shipper.ports import FRESH_SECONDS
from tests.fakes.clock import FakeClock
from tests.fakes.operation import RecordingOperation
from tests.heroku.conftest import platform
from tests.heroku.fake_heroku import FakeHeroku

V42 = Version("v42")
RELEASES = r"^/apps/acme-web/releases$"


def test_a_deploy_right_after_the_snapshot_does_not_list_the_releases_again(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """The snapshot read the releases under this lock a moment ago: the deploy checks
    live state with that list, and still lists the builds (a build of the version
    under way is adopted, never made twice)."""
    side = platform(api, apps=["acme-web"])
    side.snapshot()
    heroku.requests.clear()
    [result] = side.deploy(V42, op)
    assert result.verdict is Verdict.SUCCEEDED, result.message
    assert heroku.calls("GET", RELEASES) == []
    assert len(heroku.calls("GET", r"^/apps/acme-web/builds$")) == 1


def test_an_old_snapshot_is_read_again(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation, clock: FakeClock
) -> None:
    """A snapshot older than FRESH_SECONDS is not trusted: the deploy lists the releases."""
    side = platform(api, apps=["acme-web"])
    side.snapshot()
    clock.advance(FRESH_SECONDS + 1)
    heroku.requests.clear()
    side.deploy(V42, op)
    assert len(heroku.calls("GET", RELEASES)) == 1


def test_the_snapshot_list_serves_one_deploy_only(
    heroku: FakeHeroku, api: HerokuApi, op: RecordingOperation
) -> None:
    """A second deploy after the first (which changed the app) reads the releases again,
    and finds the version already running instead of building it twice."""
    side = platform(api, apps=["acme-web"])
    side.snapshot()
    side.deploy(V42, op)
    heroku.requests.clear()
    [again] = side.deploy(V42, op)
    assert "already runs" in again.message
    assert len(heroku.calls("GET", RELEASES)) == 1
    assert heroku.calls("POST", r"/builds$") == []

"""Verify checks tried once before any change: one that cannot connect refuses the deploy."""

from __future__ import annotations

from shipper.core.model import Probe, Side, Version
from shipper.core.reach import CheckReach, reach_checks
from shipper.ports import ProbedCheck
from tests.core.conftest import World
from tests.fakes.ports import FakeCheck


class ProbedFakeCheck(FakeCheck):
    """A fake check with a scripted probe (the HTTP and Prometheus checks have one)."""

    def __init__(self, name: str, side: Side, probe: Probe) -> None:
        super().__init__(name, side)
        self.answer = probe
        self.probed: list[Version] = []

    def probe(self, version: Version) -> Probe:
        self.probed.append(version)
        return self.answer


DOWN = Probe(False, False, "https://acme-web.example.test/health", "could not connect")
UP = Probe(True, True, "https://acme-web.example.test/health", "answered HTTP 200 in 0.010s")


def _probed(world: World, probe: Probe) -> ProbedFakeCheck:
    check = ProbedFakeCheck("heroku-http", Side.HEROKU, probe)
    check.clock = world.clock
    world.checks[0] = check
    return check


def test_a_check_that_cannot_connect_refuses_the_deploy_before_any_change(world: World) -> None:
    """Exit 3 (not a rollback and exit 4): no migration, no deploy, the finding names the URL."""
    check = _probed(world, DOWN)
    outcome = world.deploy("v2", migrations=True)
    assert outcome.exit_code == 3
    assert "heroku-http" in outcome.message and DOWN.where in outcome.message
    assert world.heroku.deploys == [] and world.kube.deploys == [] and world.runner.starts == 0
    assert check.probed == ["v2"] and check.measured == []
    found = [e.event.fields() for e in world.sink.events if e.event.name == "preflight_finding"]
    assert [(f["check"], f["severity"]) for f in found] == [("check_reachable", "block")]


def test_a_reachable_check_is_an_info_finding_and_the_deploy_goes_on(world: World) -> None:
    """An answering check is said (URL and answer) as info and the release ships."""
    _probed(world, UP)
    outcome = world.deploy("v2")
    assert outcome.exit_code == 0
    found = [e.event.fields() for e in world.sink.events if e.event.name == "preflight_finding"]
    assert [f["severity"] for f in found] == ["info"]
    assert UP.where in str(found[0]["message"]) and "HTTP 200" in str(found[0]["message"])


def test_an_answer_ship_cannot_use_is_a_warning() -> None:
    """Reached but not ok (a 401, a bad query) warns and does not block."""
    check = ProbedFakeCheck("kube-errors", Side.KUBERNETES, Probe(True, False, "q", "401"))
    (finding,) = CheckReach([check]).run(Version("v2"))
    assert finding.severity.value == "warn"


def test_only_checks_that_can_be_probed_are_probed() -> None:
    """A check without a probe is left out; with none, there is no reach check at all."""
    plain = FakeCheck("plain", Side.HEROKU)
    assert not isinstance(plain, ProbedCheck)
    assert reach_checks([plain]) == []
    probed = ProbedFakeCheck("p", Side.HEROKU, UP)
    (reach,) = reach_checks([plain, probed])
    assert [f.message for f in reach.run(Version("v2"))] == [
        f"check p (heroku): {UP.where}: {UP.answer}"
    ]

"""The pure parts of traffic: hashing, the state, map contents, planning commands."""

from __future__ import annotations

import pytest

from shipper.core.model import Side
from shipper.errors import BadInput
from shipper.traffic import maps
from shipper.traffic.change import Action, Change
from shipper.traffic.hashing import bucket, full_hash, in_split
from shipper.traffic.model import TrafficState, check_site
from shipper.traffic.plan import plan_commands

SERVERS = {Side.HEROKU: ["app1"], Side.KUBERNETES: ["app1", "app2"]}


def _name(name: str) -> str:
    return f"/m/{name}"


def test_bucket_is_stable_and_in_range() -> None:
    """A key always lands in the same bucket, one of 0-99."""
    assert bucket("acme-1") == bucket("acme-1") == 38
    assert all(0 <= bucket(f"site-{i}") < 100 for i in range(2000))


def test_full_hash_matches_known_haproxy_values() -> None:
    """full_hash is HAProxy's: crc32(1) of "acme-1" is 3277480238 on HAProxy 2.6."""
    import zlib

    assert full_hash(zlib.crc32(b"acme-1")) == 3277480238


def test_buckets_spread_evenly() -> None:
    """Over 10,000 site ids every bucket gets between 0.5% and 1.5% of them."""
    counts = [0] * 100
    for i in range(10_000):
        counts[bucket(f"site-{i:05d}")] += 1
    assert min(counts) > 50 and max(counts) < 150


def test_raising_the_percentage_only_moves_sites_to_kubernetes() -> None:
    """Going from 20% to 25% moves exactly the sites of buckets 20-24, none back."""
    sites = [f"s{i}" for i in range(3000)]
    at20 = {s for s in sites if in_split(s, 20)}
    at25 = {s for s in sites if in_split(s, 25)}
    assert at20 < at25
    assert all(20 <= bucket(s) < 25 for s in at25 - at20)


def test_block_wins_over_pin_and_drain_wins_over_all() -> None:
    """Blocked goes to Heroku even when pinned; a drain sends everything to the other side."""
    state = TrafficState(percent=100, pins={"a": Side.KUBERNETES}, blocks=frozenset({"a"}))
    assert state.side_of("a", 5) is Side.HEROKU
    assert state.side_of("b", 5) is Side.KUBERNETES
    assert state.with_drain(Side.KUBERNETES).side_of("b", 5) is Side.HEROKU


@pytest.mark.parametrize("bad", ["", "a b", "a;b", "x" * 129, "-lead", "a\nb", "é"])
def test_bad_site_ids_are_refused(bad: str) -> None:
    """A site id that could not be a map key is bad input, never mangled."""
    with pytest.raises(BadInput, match="not a site id"):
        check_site(bad)


@pytest.mark.parametrize("percent", [-1, 101, 1000])
def test_percent_outside_range_is_refused(percent: int) -> None:
    """--percent must be 0-100."""
    with pytest.raises(BadInput, match="0 to 100"):
        Change.of(Action.SET, percent=percent)


def test_unblocking_a_site_that_is_not_blocked_is_bad_input() -> None:
    """Unblock of an unknown site says so instead of doing nothing silently."""
    with pytest.raises(BadInput, match="unknown site nope"):
        Change.of(Action.UNBLOCK, site="nope").applied_to(TrafficState())


def test_state_round_trips_through_json() -> None:
    """What the ledger stores reads back as the same state."""
    state = TrafficState(25, {"a": Side.KUBERNETES}, frozenset({"b"}), Side.HEROKU)
    assert TrafficState.from_json(state.to_json()) == state


def test_map_files_round_trip() -> None:
    """The map files written for a state read back as that state."""
    state = TrafficState(25, {"a": Side.KUBERNETES, "c": Side.HEROKU}, frozenset({"b"}))
    parsed = {name: maps.parse_map(text) for name, text in maps.render_maps(state).items()}
    assert maps.state_from_maps(parsed, None) == state


def test_percent_change_is_one_set_command() -> None:
    """25 -> 50 is a single `set map` of one entry: atomic, nothing reloaded."""
    live = maps.map_entries(TrafficState(25))
    commands = plan_commands(live, None, TrafficState(50), _name, SERVERS)
    assert [c.line for c in commands] == ["set map /m/settings.map percent 50"]


def test_new_pin_is_added_and_existing_pin_is_set() -> None:
    """A key HAProxy lacks is added (add on an existing key would duplicate it)."""
    live = maps.map_entries(TrafficState(0, {"a": Side.HEROKU}))
    wanted = TrafficState(0, {"a": Side.KUBERNETES, "b": Side.KUBERNETES})
    lines = [c.line for c in plan_commands(live, None, wanted, _name, SERVERS)]
    assert lines == [
        "set map /m/pins.map a kubernetes",
        "add map /m/pins.map b kubernetes",
    ]


def test_unblock_deletes_the_entry() -> None:
    """Unblocking deletes the site's entry from blocks.map."""
    live = maps.map_entries(TrafficState(0, blocks=frozenset({"a"})))
    lines = [c.line for c in plan_commands(live, None, TrafficState(0), _name, SERVERS)]
    assert lines == ["del map /m/blocks.map a"]


def test_switching_a_drain_readies_before_draining() -> None:
    """Moving a drain from kubernetes to heroku readies kubernetes first."""
    live = maps.map_entries(TrafficState(0))
    wanted = TrafficState(0, drained=Side.HEROKU)
    lines = [c.line for c in plan_commands(live, Side.KUBERNETES, wanted, _name, SERVERS)]
    assert lines == [
        "set server kubernetes/app1 state ready",
        "set server kubernetes/app2 state ready",
        "set server heroku/app1 state drain",
    ]


def test_nothing_to_do_plans_nothing() -> None:
    """A change already in effect sends no command."""
    state = TrafficState(30, {"a": Side.KUBERNETES})
    assert plan_commands(maps.map_entries(state), None, state, _name, SERVERS) == []

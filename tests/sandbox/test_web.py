"""The shared HTTP plumbing: loopback only, faults parsed from control requests."""

from __future__ import annotations

import pytest

from shipper.errors import BadInput
from shipper.sandbox.faults import Fault
from shipper.sandbox.web import require_loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_non_loopback_bind_is_refused(host: str) -> None:
    """Any bind address but loopback is refused with exit code 2."""
    with pytest.raises(BadInput, match=r"127\.0\.0\.1 only") as caught:
        require_loopback(host)
    assert caught.value.exit_code == 2


def test_localhost_binds_ipv4_loopback() -> None:
    """`localhost` is taken to mean 127.0.0.1."""
    assert require_loopback("localhost") == "127.0.0.1"


def test_fault_from_json_refuses_unknown_keys() -> None:
    """A control request with a misspelt fault key is refused, not half-applied."""
    with pytest.raises(ValueError, match="unknown fault keys: statu"):
        Fault.from_json({"kind": "status", "statu": 503})


def test_fault_from_json_reads_a_burst() -> None:
    """A JSON fault description becomes the same Fault as one built in code."""
    assert Fault.from_json({"kind": "status", "status": 502, "times": 3}) == Fault(
        "status", status=502, times=3
    )

"""`ship preflight` and `ship validate --online`: the preflight alone, read-only.

The same phase `ship deploy` runs after its snapshot (every side's own preflight and the
pipeline's checks, with its severities), without a lock, a ledger row or any change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipper.core.model import Version
from shipper.core.preflight import PreflightResult, run_preflight

if TYPE_CHECKING:
    from shipper.wiring import Wiring

DEFAULT_VERSION = Version("current")  # the image tag only picks containers by repository


def preflight(wiring: Wiring, version: Version | None = None) -> PreflightResult:
    from shipper.core.reach import reach_checks

    return run_preflight(
        wiring.platforms(quick=True),
        [*wiring.preflight_checks(), *reach_checks(wiring.checks())],
        wiring.pipeline.policy().preflight,
        version or DEFAULT_VERSION,
    )

"""The domain's values under one name: everything a port, an adapter or a report needs
to speak the core's language, importable from `shipper.core.model`.

The values themselves live by concept: `target` (versions, sides, targets, snapshots),
`verdict` (results and measurements), `findings` (preflight findings, probes),
`releases` (the ledger's records) and `lock` (the stored lock). This module only
gathers them, so an adapter imports the domain from one place.
"""

from __future__ import annotations

from shipper.core.findings import Finding, Probe, Severity
from shipper.core.lock import Holder, LockInfo, LockLease
from shipper.core.releases import (
    LedgerEntry,
    Phase,
    PhaseVerdict,
    Release,
    ReleaseKind,
    ReleaseNo,
    ReleaseState,
)
from shipper.core.target import (
    JSON,
    MIN_SHA_PREFIX,
    JSONDict,
    Side,
    Snapshot,
    Target,
    TargetState,
    Version,
    names_version,
)
from shipper.core.verdict import Measurement, MeasurementStatus, TargetResult, Verdict

__all__ = [
    "JSON",
    "MIN_SHA_PREFIX",
    "Finding",
    "Holder",
    "JSONDict",
    "LedgerEntry",
    "LockInfo",
    "LockLease",
    "Measurement",
    "MeasurementStatus",
    "Phase",
    "PhaseVerdict",
    "Probe",
    "Release",
    "ReleaseKind",
    "ReleaseNo",
    "ReleaseState",
    "Severity",
    "Side",
    "Snapshot",
    "Target",
    "TargetResult",
    "TargetState",
    "Verdict",
    "Version",
    "names_version",
]

"""The ports, as adapters and reports import them.

The core owns its Protocols (`shipper.core.ports`); adapters import them from here so they
depend on the ports, not on where the core keeps them. Nothing in `shipper.core` imports
this module.
"""

from __future__ import annotations

from shipper.core.ports import (
    FRESH_SECONDS,
    Check,
    Clock,
    EventSink,
    GateReading,
    Ledger,
    Lock,
    MigrationResult,
    MigrationRunner,
    Operation,
    Platform,
    PreflightCheck,
    ProbedCheck,
    SourceHistory,
    StatusGate,
    TrafficControl,
    TrafficMove,
    TrafficShare,
)

__all__ = [
    "FRESH_SECONDS",
    "Check",
    "Clock",
    "EventSink",
    "GateReading",
    "Ledger",
    "Lock",
    "MigrationResult",
    "MigrationRunner",
    "Operation",
    "Platform",
    "PreflightCheck",
    "ProbedCheck",
    "SourceHistory",
    "StatusGate",
    "TrafficControl",
    "TrafficMove",
    "TrafficShare",
]

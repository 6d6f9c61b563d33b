"""Is a lock holder's process still alive? Only answerable on the same host."""

from __future__ import annotations

import os
import socket


def this_host() -> str:
    return socket.gethostname()


def process_exists(pid: int) -> bool:
    """True if a process with this pid exists here (signal 0 probes without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True

"""The fast exit: a finished command leaves without the interpreter's teardown.

Tearing down every loaded module (the Kubernetes client alone brings hundreds) is work a
person or a CI job would wait for after the result is out, for nothing: the process ends
anyway, and what must be kept (the ledger, the output) is already written.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def leave(code: int) -> NoReturn:
    """Exit now. Nothing is lost by skipping the teardown: every ledger write was committed
    when made, the lock is released, threads still working (a check's last request, say)
    are waited for as the interpreter would, and stdout, stderr and the log are flushed."""
    import logging
    import threading

    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    try:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: nothing more can be said anyway
        pass
    os._exit(code)

"""The question before a production deploy or rollback: asked of a person, never of CI.

A prompt in a job with no terminal would hang the job until its timeout, or read an
empty stdin and refuse; neither is what a CI author meant. So the question is only asked
when someone can answer it; `--yes` skips it; and anything but an explicit yes declines.
"""

from __future__ import annotations

from typing import TextIO


def confirm(prompt: str, *, assume_yes: bool, is_tty: bool, stdin: TextIO, stderr: TextIO) -> bool:
    """True to go ahead.

    `assume_yes` (`--yes`) and a non-interactive run go ahead without asking; on a
    terminal the prompt goes to stderr (stdout may be JSON) and only `y` or `yes`
    proceeds. End of input or Ctrl-D declines; Ctrl-C is not an answer: it interrupts
    (KeyboardInterrupt propagates, and the command exits 130).
    """
    if assume_yes or not is_tty:
        return True
    stderr.write(f"{prompt} [y/N] ")
    stderr.flush()
    try:
        answer = stdin.readline()
    except EOFError:
        answer = ""
    except KeyboardInterrupt:
        stderr.write("\n")
        raise
    if not answer.endswith("\n"):
        stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")

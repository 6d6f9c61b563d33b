"""The confirmation prompt: asked of a person, never of CI."""

from __future__ import annotations

import io

from shipper.report.confirm import confirm


def _ask(answer: str, *, assume_yes: bool = False, is_tty: bool = True) -> tuple[bool, str]:
    err = io.StringIO()
    ok = confirm(
        "Deploy v42 to production?",
        assume_yes=assume_yes,
        is_tty=is_tty,
        stdin=io.StringIO(answer),
        stderr=err,
    )
    return ok, err.getvalue()


def test_yes_proceeds_on_a_terminal() -> None:
    """Answering y at the prompt proceeds."""
    assert _ask("y\n") == (True, "Deploy v42 to production? [y/N] ")


def test_anything_else_declines() -> None:
    """An empty answer declines (the default is no)."""
    assert _ask("\n")[0] is False


def test_end_of_input_declines() -> None:
    """Ctrl-D at the prompt declines."""
    assert _ask("")[0] is False


def test_assume_yes_never_asks() -> None:
    """--yes proceeds without writing a prompt."""
    assert _ask("", assume_yes=True) == (True, "")


def test_not_interactive_never_asks() -> None:
    """With no terminal the prompt is never written and the command proceeds."""
    assert _ask("n\n", is_tty=False) == (True, "")

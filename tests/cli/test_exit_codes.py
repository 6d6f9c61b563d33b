"""Exit codes have one source, `shipper.errors.ExitCode`: no module of shipper/ spells one
as a bare integer where a command ends or a status is judged."""

from __future__ import annotations

import ast
from pathlib import Path

import shipper

ROOT = Path(shipper.__file__).parent
LEAVING = {"Exit", "exit", "_exit", "leave"}  # typer.Exit, sys.exit, os._exit, leave


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _is_int(node: ast.AST | None) -> bool:
    if isinstance(node, ast.IfExp):
        return _is_int(node.body) or _is_int(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(_is_int(v) for v in node.values)
    return isinstance(node, ast.Constant) and type(node.value) is int


def _literal_exit_codes(path: Path) -> list[str]:
    return _literals(path.read_text(), path.name)


def _literals(source: str, name: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Call) and _name(node) in LEAVING:
            args = [*node.args, *(k.value for k in node.keywords if k.arg == "code")]
            found += [f"{name}:{node.lineno}" for a in args if _is_int(a)]
        elif isinstance(node, ast.FunctionDef) and node.name in {"exit_code", "main"}:
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and _is_int(ret.value):
                    found.append(f"{name}:{ret.lineno}")
    return found


def test_no_command_ends_with_a_literal_exit_code() -> None:
    """typer.Exit, sys.exit, os._exit, leave, every `exit_code` and every process's `main`
    are given ExitCode members (or a value that came from one), never an integer written
    in place."""
    offenders = [
        where
        for path in sorted(ROOT.rglob("*.py"))
        if path.name != "errors.py"
        for where in _literal_exit_codes(path)
    ]
    assert offenders == []


def test_the_guard_finds_a_literal() -> None:
    """The check above would see `raise typer.Exit(code=4)`, `return 1 if x else 0` and a
    process's `main` returning 2."""
    source = (
        "def exit_code(self):\n    return 1 if x else 0\nraise typer.Exit(code=4)\n"
        "def main():\n    return 2\n"
    )
    assert sorted(_literals(source, "probe.py")) == ["probe.py:2", "probe.py:3", "probe.py:5"]

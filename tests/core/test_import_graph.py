"""The core's import graph: no cycles, and nothing of `shipper` outside the core and the
error tree. Type-only imports (under `if TYPE_CHECKING:`) and imports inside functions
count: a cycle hidden from the interpreter is still one a reader has to untangle."""

from __future__ import annotations

import ast
from pathlib import Path

import shipper.core

CORE = Path(shipper.core.__file__).parent
ALLOWED_OUTSIDE = {"shipper.errors"}


def _module(path: Path) -> str:
    return "shipper.core" if path.stem == "__init__" else f"shipper.core.{path.stem}"


def _imports(path: Path) -> set[str]:
    """Every `shipper` module `path` imports anywhere in its text."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("shipper"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("shipper"):
                continue
            for alias in node.names:  # `from shipper.core import machine` names a module
                sub = f"{node.module}.{alias.name}"
                found.add(
                    sub
                    if (CORE / f"{alias.name}.py").exists() and node.module == "shipper.core"
                    else node.module
                )
    return found


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in sorted(CORE.glob("*.py"))}


def test_the_core_imports_nothing_of_shipper_outside_itself_and_errors() -> None:
    """No core module imports an adapter, a report, the CLI or `shipper` itself."""
    outside = {
        (module, target)
        for module, targets in _graph().items()
        for target in targets
        if not target.startswith("shipper.core") and target not in ALLOWED_OUTSIDE
    }
    assert outside == set()


def test_the_core_import_graph_has_no_cycle() -> None:
    """Following the core's imports from any module never leads back to it."""
    graph = {m: {t for t in ts if t.startswith("shipper.core.")} for m, ts in _graph().items()}
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []

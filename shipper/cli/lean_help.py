"""Loading typer's help renderer without the rich renderers ship's help never draws.

`typer.rich_utils`, which draws every help page and usage error, imports rich's
Markdown and Traceback renderers when it loads: Markdown (with markdown-it) for the
"markdown" markup mode and Traceback (with rich's syntax highlighting and pretty printer)
for pretty exceptions. ship uses the "rich" markup mode and turns pretty exceptions off,
so neither is drawn, yet they are the larger part of what the renderer loads.

`load_help_renderer` imports `typer.rich_utils` while those two modules are stand-ins
whose names stand for the real classes: used at all, one imports the real module and
behaves as the real class would. The stand-ins are gone from `sys.modules` once the
renderer is loaded, so any later `import rich.markdown` gets the real module. The page
drawn is the same, character for character (tests/cli/test_startup.py compares them).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

DEFERRED = ("rich.markdown", "rich.traceback")


class _Forwarding(type):
    """A stand-in class: calling it or reading an attribute loads the real class."""

    _module: str
    _name: str

    def _real(cls) -> Any:
        return getattr(importlib.import_module(cls._module), cls._name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, attr: str) -> Any:
        return getattr(cls._real(), attr)

    def __instancecheck__(cls, instance: object) -> bool:
        module = sys.modules.get(cls._module)
        if module is None or isinstance(module, _StandIn):
            return False  # no instance of a class never loaded can exist
        return isinstance(instance, cls._real())


class _StandIn(types.ModuleType):
    """A module whose every name is a `_Forwarding` stand-in for the real one's."""

    def __getattr__(self, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        stand_in = _Forwarding(name, (), {"_module": self.__name__, "_name": name})
        setattr(self, name, stand_in)
        return stand_in


def load_help_renderer() -> None:
    """Import `typer.rich_utils` with the Markdown and Traceback renderers deferred.

    Does nothing when the renderer is already loaded, or when a deferred module already
    is (then the real one costs nothing more)."""
    if "typer.rich_utils" in sys.modules or any(name in sys.modules for name in DEFERRED):
        return
    for name in DEFERRED:
        sys.modules[name] = _StandIn(name)
    try:
        import typer.rich_utils  # noqa: F401  (loaded now, under the stand-ins)
    finally:
        for name in DEFERRED:
            if isinstance(sys.modules.get(name), _StandIn):
                del sys.modules[name]


def asks_for_help(args: list[str]) -> bool:
    """Whether a command line will print a help page (`ship`, `ship -h`, `... --help`)."""
    return not args or "--help" in args or "-h" in args

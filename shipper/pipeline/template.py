"""Version templates (`ghcr.io/acme/web:{version}`): checked when a pipeline loads,
rendered by the adapters. Plain substitution, never str.format.
"""

from __future__ import annotations

import re

_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


def check_template(raw: str) -> str:
    """A template must contain `{version}` and no other placeholder: rendering is plain
    substitution, never str.format (which would let `{version.__class__}` reach Python)."""
    fields = _TEMPLATE_FIELD.findall(raw)
    others = [f for f in fields if f != "version"]
    if others:
        raise ValueError(f'only {{version}} may be used in a template, got "{{{others[0]}}}"')
    if "version" not in fields:
        raise ValueError(f'template must contain {{version}}, got "{raw[:80]}"')
    return raw


def render(template: str, version: str) -> str:
    return template.replace("{version}", version)

"""Keep secrets out of everything ship prints or writes.

Defence in depth: adapters never put a token in a message, and this still scrubs the
values of secret-looking environment variables (and those a pipeline names) from every
line the CLI prints and every crash file it writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|WEBHOOK|CREDENTIAL)", re.I)
_MIN_LENGTH = 6  # shorter values would redact ordinary words


class Redactor:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._values: set[str] = {
            v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= _MIN_LENGTH
        }

    def add_env(self, name: str) -> None:
        value = self._env.get(name, "")
        if len(value) >= _MIN_LENGTH:
            self._values.add(value)

    def add(self, value: str) -> None:
        if len(value) >= _MIN_LENGTH:
            self._values.add(value)

    def clean(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, "[redacted]")
        return text

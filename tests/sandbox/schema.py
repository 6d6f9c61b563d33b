"""Validate stand-in answers against Heroku's official JSON hyper-schema."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = Path(__file__).parents[1] / "data" / "heroku-platform-api-schema.json"


@functools.cache
def _definitions() -> dict[str, Any]:
    return dict(json.loads(SCHEMA.read_text())["definitions"])


def validate(definition: str, answer: Any) -> None:
    """Raise jsonschema.ValidationError unless `answer` fits `definitions/<definition>`."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _definitions()}
    jsonschema.Draft4Validator(schema).validate(answer)

"""Reading a pipeline file: YAML with line numbers, size, depth and alias-expansion guards
(a tiny file must not expand into billions of values), and errors of one line that name
file, line and key (`pipelines/web.yaml:14: verify.bake: expected a duration ...`), which
the CLI prints as is with exit 2. It never returns a half-valid pipeline.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shipper.errors import PipelineError
from shipper.pipeline.locate import display_path
from shipper.pipeline.schema import Pipeline
from shipper.pipeline.values import dotted, line_for, show_value

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 20
MAX_NODES = 100_000  # YAML aliases can expand a tiny file into billions of values


class _LineLoader(yaml.SafeLoader):
    """SafeLoader: plain data only. Tags that would construct objects are errors."""


def _lines(
    node: yaml.Node,
    path: tuple[str | int, ...],
    out: dict[tuple[str | int, ...], int],
    depth: int = 0,
) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if len(out) > MAX_NODES:
        raise ValueError(f"more than {MAX_NODES} values once YAML aliases are expanded")
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            out[(*path, key)] = key_node.start_mark.line + 1
            _lines(value_node, (*path, key), out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out, depth + 1)


def _duplicate_keys(node: yaml.Node, path: str = "") -> tuple[str, int] | None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            where = f"{path}.{key}" if path else key
            if key in seen:
                return where, key_node.start_mark.line + 1
            seen.add(key)
            found = _duplicate_keys(value_node, where)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_keys(item, f"{path}[{i}]")
            if found:
                return found
    return None


def load_pipeline(path: Path) -> Pipeline:
    """Read, parse and validate one pipeline file, or raise PipelineError (one line)."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PipelineError(f"{shown}: no such pipeline file") from None
    except OSError as exc:
        raise PipelineError(f"{shown}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise PipelineError(f"{shown}: {len(raw)} bytes is too large for a pipeline file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineError(f"{shown}: not UTF-8 text") from None
    return _anchor_paths(parse_pipeline(text, shown), path.parent.resolve())


def parse_pipeline(text: str, shown: str) -> Pipeline:
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        if node is None:
            raise PipelineError(f"{shown}: the file is empty")
        lines: dict[tuple[str | int, ...], int] = {}
        _lines(node, (), lines)
        dup = _duplicate_keys(node)
        if dup:
            raise PipelineError(f"{shown}:{dup[1]}: {dup[0]}: key appears twice")
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise PipelineError(f"{shown}{line}: YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise PipelineError(f"{shown}: YAML: {str(exc).splitlines()[0]}") from None
    except (ValueError, RecursionError) as exc:
        raise PipelineError(f"{shown}: {exc}") from None
    if not isinstance(data, dict):
        raise PipelineError(f"{shown}:1: the file must be a mapping of keys, like name: web")
    try:
        pipeline = Pipeline.model_validate(data)
    except ValidationError as exc:
        raise PipelineError(_first_error(exc, shown, lines)) from None
    pipeline._source, pipeline._lines = shown, lines
    return pipeline


def _anchor_paths(pipeline: Pipeline, folder: Path) -> Pipeline:
    """Make the file paths a pipeline names relative to the pipeline file, not the cwd."""
    if pipeline.heroku and pipeline.heroku.netrc:
        heroku = pipeline.heroku.model_copy(
            update={"netrc": str(folder / Path(pipeline.heroku.netrc).expanduser())}
        )
        pipeline = pipeline.model_copy(update={"heroku": heroku})
    if pipeline.kubernetes and pipeline.kubernetes.kubeconfig:
        kube = pipeline.kubernetes.model_copy(
            update={"kubeconfig": str(folder / Path(pipeline.kubernetes.kubeconfig).expanduser())}
        )
        pipeline = pipeline.model_copy(update={"kubernetes": kube})
    if pipeline.traffic is not None:
        traffic = pipeline.traffic
        # normalised (`a/../b` is `b`): HAProxy knows a map by the exact path it loaded
        update = {"maps_dir": os.path.normpath(folder / Path(traffic.maps_dir).expanduser())}
        if "/" in traffic.runtime or not re.fullmatch(r"[^:]+:\d+", traffic.runtime):
            update["runtime"] = os.path.normpath(folder / Path(traffic.runtime).expanduser())
        moved_traffic = traffic.model_copy(update=update)
        pipeline = pipeline.model_copy(update={"traffic": moved_traffic})
    for section in ("ledger", "lock"):
        current = getattr(pipeline, section)
        if current.path:
            moved = current.model_copy(
                update={"path": str(folder / Path(current.path).expanduser())}
            )
            pipeline = pipeline.model_copy(update={section: moved})
    return pipeline


def _first_error(exc: ValidationError, shown: str, lines: dict[tuple[str | int, ...], int]) -> str:
    err = exc.errors(include_url=False)[0]
    # pydantic may put validator or union tags in loc (`function-after[...]`); keep keys.
    key_path = [p for p in err["loc"] if isinstance(p, int) or "[" not in p]
    line = line_for(tuple(key_path), lines)
    key = dotted(key_path)
    message = _message(err)
    where = f"{shown}:{line}" if line else shown
    return f"{where}: {key}: {message}" if key else f"{where}: {message}"


def _message(err: Any) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling against pipelines/example.yaml)"
    if kind == "missing":
        return "required key is missing"
    if kind == "too_short":
        return "must not be empty"
    text = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    text = f"{text[0].lower()}{text[1:]}"
    if kind.startswith(
        ("int_", "float_", "string_", "bool_", "list_", "tuple_", "dict_", "model_", "literal_")
    ):
        return f"{text}, got {show_value(value)}"
    return text

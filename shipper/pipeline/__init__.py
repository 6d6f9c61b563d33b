"""Pipeline files: YAML in, validated models out, errors that name file, line and key.

schema.py holds the models (checks.py the verify: section, values.py the shared value
types), load.py reads a file into them, locate.py finds the file a
command means, template.py checks and renders `{version}` templates. The names below are
what the rest of ship imports.
"""

from shipper.pipeline.checks import CheckSpec, HttpCheck, PrometheusAuth, PrometheusCheck
from shipper.pipeline.load import load_pipeline, parse_pipeline
from shipper.pipeline.locate import display_path, find_project_root, resolve_pipeline_path
from shipper.pipeline.schema import (
    WORKLOAD_KINDS,
    Artifact,
    HerokuSection,
    KubernetesSection,
    Pipeline,
    TrafficBackend,
    TrafficKey,
    TrafficSection,
    parse_workload,
    workload_key,
)
from shipper.pipeline.template import check_template, render
from shipper.pipeline.values import Duration, parse_duration

__all__ = [
    "WORKLOAD_KINDS",
    "Artifact",
    "CheckSpec",
    "Duration",
    "HerokuSection",
    "HttpCheck",
    "KubernetesSection",
    "Pipeline",
    "PrometheusAuth",
    "PrometheusCheck",
    "TrafficBackend",
    "TrafficKey",
    "TrafficSection",
    "check_template",
    "display_path",
    "find_project_root",
    "load_pipeline",
    "parse_duration",
    "parse_pipeline",
    "parse_workload",
    "render",
    "resolve_pipeline_path",
    "workload_key",
]

"""The Zero to JupyterHub values file for a class of 300, checked as far as it can be without a cluster.

Helm merges the chart's defaults (``deploy/z2jh-chart-defaults.yaml``) with our values and checks
the result against the chart's values schema (``deploy/z2jh-values.schema.json``); both are copies
from the chart's repository (provenance in their first lines). The test does the same merge and
check, then the class-specific choices: a pinned image built from environment.yml with nbgitpuller,
resource requests that hold a learner as measured, idle culling, and the LTI authenticator.
Nothing is installed: no cluster, no container build here (see deploy/README.md).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
#: Measured by benchmarks/bench_class.py: a lesson kernel's RSS, and a learner's server with Voila.
KERNEL_MB, SERVER_MB = 115, 100


def helm_merge(defaults: dict, values: dict) -> dict:
    """Helm's merge of user values over chart defaults: maps merged, lists replaced, null removes."""
    merged = copy.deepcopy(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def megabytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([KMGT]i?)?", str(quantity)).groups()
    factor = {None: 1e-6, "K": 1e-3, "M": 1, "G": 1e3, "T": 1e6, "Ki": 1.024e-3, "Mi": 1.048576,
              "Gi": 1073.741824, "Ti": 1099511.627776}[unit]
    return float(number) * factor


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((DEPLOY / "z2jh-values.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((DEPLOY / "z2jh-values.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def defaults():
    return yaml.safe_load((DEPLOY / "z2jh-chart-defaults.yaml").read_text(encoding="utf-8"))


def test_values_merged_with_the_chart_defaults_pass_the_chart_schema(values, defaults, validator):
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(helm_merge(defaults, values))]
    assert errors == []


def test_the_schema_catches_a_misspelt_key(values, defaults, validator):
    wrong = copy.deepcopy(values)
    wrong["singleuser"]["memroy"] = wrong["singleuser"].pop("memory")
    assert any("memroy" in e.message for e in validator.iter_errors(helm_merge(defaults, wrong)))


def test_a_learner_fits_in_the_requests_and_the_class_in_the_nodes_named(values):
    single = values["singleuser"]
    guarantee, limit = megabytes(single["memory"]["guarantee"]), megabytes(single["memory"]["limit"])
    assert guarantee >= KERNEL_MB + SERVER_MB, "the guarantee must hold one lesson kernel and the server"
    assert limit >= guarantee + KERNEL_MB * 2, "room for a second and third open lesson"
    assert 0 < single["cpu"]["guarantee"] <= 0.1 and single["cpu"]["limit"] >= 1
    assert values["scheduling"]["userPlaceholder"]["replicas"] >= 300 // 10


def test_the_image_is_pinned_and_built_from_environment_yml_with_nbgitpuller(values):
    image = values["singleuser"]["image"]
    assert image["tag"] not in ("latest", "") and image["name"]
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "environment.yml" in dockerfile and "nbgitpuller" in dockerfile and "jupyterhub=5.5" in dockerfile


def test_idle_servers_and_kernels_are_culled_and_the_lms_launch_is_lti13(values):
    assert values["cull"]["enabled"] and values["cull"]["timeout"] <= 3600 and values["cull"]["maxAge"] > 0
    culling = values["singleuser"]["extraFiles"]["culling"]["data"]["MappingKernelManager"]
    assert culling["cull_idle_timeout"] > 0 and culling["cull_interval"] > 0
    config = values["hub"]["config"]
    assert config["JupyterHub"]["authenticator_class"] == "ltiauthenticator.lti13.auth.LTI13Authenticator"
    assert {"issuer", "authorize_url", "jwks_endpoint", "client_id"} <= set(config["LTI13Authenticator"])

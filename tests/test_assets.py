"""Content files: every built-in one is valid; a broken one is named precisely."""

import pytest

import kms_teach as k
from kms_teach._assets import AssetError
from kms_teach.cases import load_case
from kms_teach.parameters import load_parameters
from kms_teach.treatments import load_treatments


@pytest.mark.parametrize("name", k.case_names())
def test_every_built_in_case_loads_with_citations(name):
    case = load_case(name)
    assert case.name == name
    assert case.citations and case.narrative and case.weight_kg > 0


@pytest.mark.parametrize("name, parameter", list(load_parameters().items()))
def test_every_parameter_has_unit_range_label_evidence_and_citation(name, parameter):
    assert parameter.unit and parameter.label and parameter.citation
    assert parameter.evidence in ("V", "M", "D")
    assert parameter.low <= parameter.value <= parameter.high


@pytest.mark.parametrize("name, treatment", list(load_treatments().items()))
def test_every_treatment_has_dose_harms_and_citation(name, treatment):
    assert treatment.dose and treatment.harms and treatment.citation
    assert treatment.kinetics in ("literature", "illustrative")


def test_defaults_exist_in_one_place_only():
    # the model reads its defaults from the parameter table; no second copy in code
    assert k.default_parameters() == {n: p.value for n, p in load_parameters().items()}


def test_case_written_by_an_educator_is_accepted_by_path(tmp_path):
    with open(load_case("khe-kms").path, encoding="utf-8") as handle:
        text = handle.read()
    path = tmp_path / "my-case.yaml"
    path.write_text(text.replace("name: khe-kms", "name: my-case").replace("severity: 1.0", "severity: 0.5"))
    mine = k.simulate(str(path), days=1)
    assert mine.case == "my-case"
    assert mine.labs_at(0)["platelets"] > k.simulate("khe-kms", days=1).labs_at(0)["platelets"]


CASE = """name: broken
title: t
description: d
diagnosis: x
driver: tumour
age_days: 42
weight_kg: 4
starting_state: equilibrium
narrative: n
activity:
  severity: 1
citations: ["c"]
"""


@pytest.mark.parametrize(
    "change, fragment",
    [
        (("age_days: 42", "age_days: old"), "broken: age_days: must be a number"),
        (("driver: tumour", "driver: magic"), "broken: driver: must be one of tumour"),
        (("  severity: 1", "  severity: -1"), "broken activity: severity: must lie between 0 and 5"),
        (("citations: [\"c\"]", "citations: []"), "broken: citations"),
        (("weight_kg: 4\n", ""), "broken: weight_kg: is missing"),
        (("activity:\n  severity: 1", "parameters:\n  platelet_trapping: 50\nactivity:\n  severity: 1"),
         "broken parameters: platelet_trapping: must lie between"),
    ],
)
def test_invalid_case_file_names_file_case_and_field(tmp_path, change, fragment):
    path = tmp_path / "broken.yaml"
    path.write_text(CASE.replace(*change))
    with pytest.raises(AssetError) as info:
        load_case(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_invalid_treatment_file_names_treatment_and_field(tmp_path):
    path = tmp_path / "treatments.yaml"
    path.write_text("wonder-drug:\n  kind: potion\n")
    with pytest.raises(AssetError, match=r"treatments.yaml:2: wonder-drug: kind: must be one of drug"):
        load_treatments(path)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("x:\n  value: 5\n  unit: u\n  range: [0, 1]\n  label: l\n  evidence: V\n  citation: c\n", "x: value: 5 lies outside"),
        ("x:\n  value: 0.5\n  unit: u\n  range: [1]\n  label: l\n  evidence: V\n  citation: c\n", "x: range: must be [low, high]"),
        ("x:\n  value: 0.5\n  unit: u\n  range: [0, 1]\n  label: l\n  evidence: Q\n  citation: c\n", "x: evidence: must be one of V, M, D"),
        ("x:\n  value: 0.5\n  unit: u\n  range: [0, 1]\n  label: l\n  evidence: V\n", "x: citation: is missing"),
    ],
)
def test_invalid_parameter_file_names_parameter_and_field(tmp_path, text, fragment):
    path = tmp_path / "parameters.yaml"
    path.write_text(text)
    with pytest.raises(AssetError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        load_parameters(path)

"""The shipped question bank: valid, balanced, cited, and consistent with the model."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from kms_teach import load_bank
from kms_teach._assets import assets_dir
from kms_teach.check import check_paths
from kms_teach.questions import case_panel, consequence, expected_value

BANK = load_bank()
REFERENCES = yaml.safe_load((assets_dir() / "references.yaml").read_text(encoding="utf-8"))
TOPICS = {"pathophysiology", "lab_interpretation", "differential", "workup", "treatment", "supportive_care",
          "recovery_prognosis"}


def test_the_whole_assets_folder_checks_clean():
    assert [str(p) for p in check_paths([assets_dir()])] == []


def test_the_bank_loads_without_problems_and_holds_at_least_60_items():
    assert BANK.problems == ()
    assert len(BANK) >= 60


def test_every_topic_in_the_brief_has_items():
    counts = Counter(q.topic for q in BANK)
    assert set(counts) == TOPICS
    assert min(counts.values()) >= 6


def test_every_item_type_is_used():
    counts = Counter(q.type for q in BANK)
    assert counts["multiple_choice"] >= 30
    assert min(counts[t] for t in ("many_choice", "numeric", "ordering")) >= 3


@pytest.mark.parametrize("lesson", range(5))
def test_every_lesson_has_a_quiz(lesson):
    assert len(BANK.select(lesson=lesson)) >= 3


def test_every_misconception_in_the_reference_pack_is_targeted():
    assert {q.misconception for q in BANK if q.misconception} == set(range(1, 17))


@pytest.mark.parametrize("question", list(BANK), ids=lambda q: q.id)
def test_every_citation_names_a_listed_source(question):
    for citation in question.citations:
        assert any(ref["match"] in citation for ref in REFERENCES), citation


CASE_ITEMS = [q for q in BANK if q.case is not None]


@pytest.mark.parametrize("question", CASE_ITEMS, ids=lambda q: q.id)
def test_case_based_items_show_a_model_panel(question):
    panel = case_panel(question)
    assert len(list(panel)) == 6


NUMERIC = [q for q in BANK if q.type == "numeric"]


@pytest.mark.parametrize("question", NUMERIC, ids=lambda q: q.id)
def test_numeric_items_accept_their_own_answer_and_refuse_a_far_one(question):
    from kms_teach import grade

    target = expected_value(question)
    assert grade(question, target).correct
    assert not grade(question, target + 5 * question.tolerance + 1).correct


PLANNED = [q for q in BANK if any(o.plan for o in q.options)]


def test_enough_items_show_model_consequences():
    assert len(PLANNED) >= 8


@pytest.mark.parametrize("question", PLANNED, ids=lambda q: q.id)
def test_every_plan_in_an_option_runs_and_gives_finite_labs(question):
    import numpy as np

    for i, option in enumerate(question.options):
        outcome = consequence(question, i)
        if option.plan:
            assert outcome is not None and outcome.summary
            assert all(np.isfinite(getattr(outcome.chosen, lab)).all() for lab in ("platelets", "fibrinogen"))
        else:
            assert outcome is None


TRANSFUSION_OPTIONS = [(q, i) for q in PLANNED for i, o in enumerate(q.options)
                       if o.plan == ("platelet-transfusion@0",) and q.case.name in ("khe-kms", "ta-kms")]


@pytest.mark.parametrize("question, index", TRANSFUSION_OPTIONS, ids=lambda v: getattr(v, "id", str(v)))
def test_a_platelet_transfusion_option_shows_the_rise_lost_within_two_days(question, index):
    """What the feedback tells learners (Ji 2020; O'Rafferty 2015) is what the model shows them."""
    outcome = consequence(question, index)
    day, platelets = outcome.chosen.day - question.case.day, outcome.chosen.platelets
    peak = float(platelets.max())
    assert peak > 2 * float(outcome.untreated.platelets[0])
    assert float(platelets[day <= 2][-1]) < 0.5 * peak


def test_answer_keys_are_spread_over_positions():
    single = [q for q in BANK if q.type == "multiple_choice"]
    positions = Counter(q.correct_indices[0] for q in single)
    assert max(positions.values()) / len(single) <= 0.3
    assert len(positions) >= 4

"""The class results report on a synthetic class drawn from a known item-response model.

200 learners answer 20 single-best-answer items of the real bank under a
two-parameter logistic model (ability ~ N(0, 1); P(right) = 1 / (1 + exp(-a (ability - b)))).
One item is planted with a negative slope: the able learners get it wrong
more often. The report must recover the items' difficulty order, flag that
item and only it, and give the same Cronbach's alpha as an independent
computation; then the format details: first attempts only, learners seeing
different items, corrupt and foreign files, hashed ids, pre/post, cases.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from kms_teach import cli
from kms_teach.progress import Answers
from kms_teach.questions import load_bank
from kms_teach.report import (build_report, complete_block, cronbach_alpha, hashed_id, item_statistics,
                              report_panel)

LEARNERS = 200
PARTIAL_LEARNERS = 30  # saw a random 15 of the 20 items
SEED = 20261201
PLANTED = 7  # index of the item with a negative slope
BANK_VERSION = "sha256:0123456789abcdef"


@dataclass
class SyntheticClass:
    folder: Path
    item_ids: list[str]
    difficulty: np.ndarray
    slope: np.ndarray
    scores: np.ndarray  # learners x items, NaN where not shown
    learner_ids: list[str]


def _items(bank, count=20):
    return [q for q in bank if q.type == "multiple_choice" and len(q.options) >= 3][:count]


def _write(folder: Path, name: str, answers: Answers) -> Path:
    path = folder / name
    path.write_text(answers.dumps(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, bank) -> SyntheticClass:
    rng = np.random.default_rng(SEED)
    items = _items(bank)
    k = len(items)
    assert k == 20, "the bank holds fewer single-best-answer items than the synthetic class needs"
    difficulty = np.linspace(-2.0, 2.0, k)
    rng.shuffle(difficulty)
    slope = np.full(k, 1.7)
    slope[PLANTED] = -1.7
    ability = rng.normal(0.0, 1.0, LEARNERS)
    p_right = 1.0 / (1.0 + np.exp(-slope * (ability[:, None] - difficulty[None, :])))
    right = rng.random((LEARNERS, k)) < p_right
    shown = np.ones((LEARNERS, k), dtype=bool)
    for row in range(LEARNERS - PARTIAL_LEARNERS, LEARNERS):
        shown[row, rng.choice(k, size=k - 15, replace=False)] = False
    folder = tmp_path_factory.mktemp("class")
    ids = [f"student-{n:03d}" for n in range(LEARNERS)]
    for row, learner_id in enumerate(ids):
        answers = Answers(learner_id=learner_id)
        for col, question in enumerate(items):
            if not shown[row, col]:
                continue
            key = question.correct_indices[0]
            wrong = [i for i in range(len(question.options)) if i != key]
            response = key if right[row, col] else int(rng.choice(wrong))
            answers.record_attempt("lesson-review", question.id, response, float(right[row, col]),
                                   bool(right[row, col]), bank_version=BANK_VERSION, lesson=5,
                                   time=f"2026-12-01T09:{col:02d}:00.000Z")
            if not right[row, col]:  # a later, right attempt that must not count
                answers.record_attempt("lesson-review", question.id, key, 1.0, True, bank_version=BANK_VERSION,
                                       time=f"2026-12-01T10:{col:02d}:00.000Z")
        _write(folder, f"{learner_id}.json", answers)
    scores = np.where(shown, right.astype(float), np.nan)
    return SyntheticClass(folder, [q.id for q in items], difficulty, slope, scores, ids)


@pytest.fixture(scope="module")
def class_report(synthetic, bank):
    return build_report([synthetic.folder], bank=bank)


# ----------------------------------------------------------------------------- the synthetic class


def test_report_recovers_the_difficulty_order(class_report, synthetic):
    facility = [class_report.item(i).facility for i in synthetic.item_ids]
    rho = spearmanr(facility, -synthetic.difficulty).statistic
    assert rho >= 0.9, f"Spearman {rho:.3f}"
    assert len(class_report.learners) == LEARNERS


def test_report_flags_the_planted_item_and_only_it(class_report, synthetic):
    planted = class_report.item(synthetic.item_ids[PLANTED])
    assert planted.discrimination_index < 0
    assert any("negative discrimination" in flag for flag in planted.flags)
    others = [class_report.item(i) for n, i in enumerate(synthetic.item_ids) if n != PLANTED]
    assert all(s.discrimination_index > 0 for s in others)
    assert not any("negative discrimination" in f for s in others for f in s.flags)
    assert "negative: check the key" in planted.discrimination_reading
    html = class_report.to_html()
    assert synthetic.item_ids[PLANTED] in html and "negative discrimination" in html


def test_alpha_matches_an_independent_computation(class_report, synthetic):
    complete = synthetic.scores[~np.isnan(synthetic.scores).any(axis=1)]
    assert complete.shape == (LEARNERS - PARTIAL_LEARNERS, 20)
    # Independent: alpha from the covariance matrix, k/(k-1) (1 - trace / sum of all covariances)
    covariance = np.cov(complete, rowvar=False)
    k = covariance.shape[0]
    expected = k / (k - 1) * (1 - np.trace(covariance) / covariance.sum())
    assert class_report.alpha == pytest.approx(expected, abs=1e-9)
    assert (class_report.alpha_items, class_report.alpha_learners) == (20, LEARNERS - PARTIAL_LEARNERS)


def test_first_attempts_only_and_option_shares_match_the_facility(class_report, synthetic):
    for n, item_id in enumerate(synthetic.item_ids):
        stats = class_report.item(item_id)
        column = synthetic.scores[:, n]
        assert stats.attempts == int((~np.isnan(column)).sum())
        # later right attempts exist for every wrong first one; they must not lift the facility
        assert stats.facility == pytest.approx(100 * np.nanmean(column))
        shares = [share for _text, _key, share in stats.option_shares]
        assert sum(shares) == pytest.approx(1.0)
        assert [share for _t, key, share in stats.option_shares if key] == [pytest.approx(stats.facility / 100)]


def test_discrimination_uses_the_rest_score_over_shared_items(class_report, synthetic):
    """Recomputed by hand for one item: correlation with the mean of each learner's other answered items."""
    n = 3
    scores = synthetic.scores
    rows = ~np.isnan(scores[:, n])
    others = np.delete(scores, n, axis=1)[rows]
    rest = np.nanmean(others, axis=1)
    expected = 100 * np.corrcoef(scores[rows, n], rest)[0, 1]
    assert class_report.item(synthetic.item_ids[n]).discrimination_index == pytest.approx(expected)


def test_learner_ids_are_hashed_unless_asked(class_report, synthetic, bank):
    html, grades = class_report.to_html(), class_report.grades_csv()
    assert not any(i in html or i in grades for i in synthetic.learner_ids[:20])
    assert hashed_id("student-000") in grades
    shown = build_report([synthetic.folder / "student-000.json"], bank=bank, reveal_ids=True)
    assert "student-000" in shown.grades_csv() and "student-000" in shown.to_html()


def test_html_figures_have_alt_text_and_no_scripts(class_report):
    html = class_report.to_html()
    images = re.findall(r"<img [^>]*>", html)
    assert images
    for image in images:
        alt = re.search(r'alt="([^"]*)"', image)
        assert alt and len(alt.group(1)) > 40, image[:80]
    assert "<script" not in html.lower()
    assert "Histogram of 200 learners" in html


def test_grades_csv_has_one_row_per_learner_and_item_columns(class_report, synthetic):
    lines = class_report.grades_csv().splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["learner", "files", "items_answered", "score_percent"]
    assert sorted(header[4:]) == sorted(synthetic.item_ids)
    assert len(lines) == 1 + LEARNERS
    items = class_report.items_csv().splitlines()
    assert len(items) == 1 + 20 and items[0].startswith("item,attempts,facility_index")


# ----------------------------------------------------------------------------- statistics by hand


def test_discriminative_efficiency_is_100_when_the_item_orders_learners_perfectly():
    # item 0 is right exactly for the learners with the best rest score
    matrix = np.array([[1, 1, 1], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=float)
    stats = item_statistics(matrix, ["a", "b", "c"])
    assert stats[0].discriminative_efficiency == pytest.approx(100.0)
    assert stats[0].facility == pytest.approx(50.0)
    assert 0 < stats[0].discrimination_index <= 100


def test_alpha_of_identical_items_is_one_and_block_drops_the_least_answered_item():
    matrix = np.array([[1, 1, np.nan], [0, 0, np.nan], [1, 1, 1], [0, 0, np.nan]], dtype=float)
    rows, columns = complete_block(matrix)
    assert columns == [0, 1] and rows == [0, 1, 2, 3]
    assert cronbach_alpha(matrix[np.ix_(rows, columns)]) == pytest.approx(1.0)
    assert cronbach_alpha(np.ones((5, 3))) is None  # totals do not vary


# ----------------------------------------------------------------------------- files and learners


def _answers(learner_id, quiz_id, results, bank, *, start="2026-12-01T09:00:00.000Z"):
    answers = Answers(learner_id=learner_id)
    for question, right in results:
        key = question.correct_indices[0]
        answers.record_attempt(quiz_id, question.id, key if right else (key + 1) % len(question.options),
                               float(right), right, bank_version=BANK_VERSION, time=start)
    return answers


def test_corrupt_and_foreign_files_are_listed_and_skipped(tmp_path, bank):
    items = _items(bank, 3)
    _write(tmp_path, "good.json", _answers("ana", "lesson-02", [(items[0], True), (items[1], False)], bank))
    (tmp_path / "broken.json").write_text('{"format": "kms-teach-answers", "format_version": "2.0", "quiz', "utf-8")
    (tmp_path / "notebook.json").write_text(json.dumps({"cells": [], "nbformat": 4}), "utf-8")
    (tmp_path / "future.json").write_text(json.dumps({"format": "kms-teach-answers", "format_version": "3.0",
                                                      "quizzes": {}}), "utf-8")
    report = build_report([tmp_path, tmp_path / "missing.json"], bank=bank)
    skipped = dict((Path(name).name, reason) for name, reason in report.skipped)
    assert set(skipped) == {"broken.json", "notebook.json", "future.json", "missing.json"}
    assert "not valid JSON" in skipped["broken.json"]
    assert "not a kms-teach answers file" in skipped["notebook.json"]
    assert "newer kms-teach" in skipped["future.json"]
    assert len(report.learners) == 1
    assert "broken.json" in report.to_html()


def test_one_learners_files_are_merged_and_earliest_attempt_counts(tmp_path, bank):
    items = _items(bank, 3)
    _write(tmp_path, "a.json", _answers("ana", "lesson-02", [(items[0], True)], bank))
    _write(tmp_path, "b.json", _answers("ana", "lesson-04", [(items[1], False)], bank))
    # the same item answered again in another quiz later: the earlier attempt is the first one
    _write(tmp_path, "c.json", _answers("ana", "lesson-05", [(items[0], False)], bank,
                                        start="2026-12-02T09:00:00.000Z"))
    report = build_report([tmp_path], bank=bank)
    assert len(report.learners) == 1
    learner = report.learners[0]
    assert len(learner.sources) == 3 and set(learner.items) == {items[0].id, items[1].id}
    assert learner.items[items[0].id].score == 1.0


def test_pre_post_pairs_by_quiz_id_on_shared_items(tmp_path, bank):
    items = _items(bank, 3)
    for n, (before, after) in enumerate([((False, False), (True, True)), ((True, False), (True, True)),
                                         ((False, False), (False, True))]):
        answers = _answers(f"l{n}", "lesson-02-pre", list(zip(items[:2], before)), bank)
        answers.merge(_answers(f"l{n}", "lesson-02", list(zip(items[:2], after)) + [(items[2], True)], bank,
                               start="2026-12-01T10:00:00.000Z"))
        _write(tmp_path, f"l{n}.json", answers)
    report = build_report([tmp_path], bank=bank)
    (pair,) = report.pre_post
    assert (pair.pre, pair.post, pair.learners) == ("lesson-02-pre", "lesson-02", 3)
    assert pair.pre_mean == pytest.approx(1 / 6) and pair.post_mean == pytest.approx(5 / 6)
    assert pair.improved_share == 1.0
    assert pair.normalised_gain == pytest.approx((5 / 6 - 1 / 6) / (5 / 6))
    assert [i for i, _b, _a in pair.items] == sorted(q.id for q in items[:2])  # items[2] not shared


def test_branching_case_decisions_on_first_runs(tmp_path, bank):
    for n, (diagnosis, right) in enumerate([("khe-kms", True), ("khe-kms", True), ("sepsis", False)]):
        answers = Answers(learner_id=f"c{n}")
        answers.record_decision("khe-workup", "tests", ["platelets", "fibrinogen"], case_version=BANK_VERSION,
                                time="2026-12-01T09:00:00.000Z")
        answers.record_decision("khe-workup", "diagnosis", diagnosis, case_version=BANK_VERSION, correct=right,
                                time="2026-12-01T09:01:00.000Z")
        answers.record_case_score("khe-workup", 1.0 if right else 0.4)
        if not right:  # a second run, right this time: shown as the latest run
            answers.record_decision("khe-workup", "diagnosis", "khe-kms", case_version=BANK_VERSION, correct=True,
                                    new_run=True, time="2026-12-01T09:05:00.000Z")
        _write(tmp_path, f"c{n}.json", answers)
    report = build_report([tmp_path], bank=bank)
    (case,) = report.cases
    steps = {step: (choices, first, latest) for step, choices, first, latest in case.steps}
    assert dict(steps["diagnosis"][0]) == {"khe-kms": pytest.approx(2 / 3), "sepsis": pytest.approx(1 / 3)}
    assert steps["diagnosis"][1] == pytest.approx(2 / 3) and steps["diagnosis"][2] == 1.0
    assert dict(steps["tests"][0]) == {"platelets": 1.0, "fibrinogen": 1.0}
    assert case.first_score == pytest.approx(0.8)


def test_objective_ids_and_misconceptions_when_present_else_the_objective_sentence(tmp_path, bank):
    items = _items(bank, 2)

    @dataclass(frozen=True)
    class Tagged:  # a bank item with the coming `objectives` / `misconceptions` lists
        base: object
        objectives: tuple = ()
        misconceptions: tuple = ()

        def __getattr__(self, name):
            return getattr(self.base, name)

    tagged = [Tagged(items[0], ("L02.3",), ("M4",)), Tagged(items[1], (), ())]  # the second has no ids
    _write(tmp_path, "a.json", _answers("ana", "q", [(items[0], True), (items[1], False)], bank))
    _write(tmp_path, "b.json", _answers("bo", "q", [(items[0], False), (items[1], False)], bank))
    report = build_report([tmp_path], bank=tagged)
    objectives = {m.tag: m for m in report.objectives}
    assert set(objectives) == {"L02.3", items[1].objective}
    assert objectives["L02.3"].mean_score == 0.5 and objectives["L02.3"].mastered_share == 0.5
    assert {m.tag for m in report.misconceptions} >= {"M4"}
    assert "L02.3: " in report.to_html()  # the id is shown with its objective's sentence


def test_learner_id_with_markup_is_escaped(tmp_path, bank):
    items = _items(bank, 1)
    _write(tmp_path, "x.json", _answers("<img src=x onerror=alert(1)>", "q", [(items[0], True)], bank))
    html = build_report([tmp_path], bank=bank, reveal_ids=True).to_html()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# ----------------------------------------------------------------------------- command line and widget


def test_cli_report_writes_html_and_csv(synthetic, tmp_path, capsys):
    out, grades, items = tmp_path / "r.html", tmp_path / "g.csv", tmp_path / "i.csv"
    code = cli.main(["report", str(synthetic.folder), "--output", str(out), "--csv", str(grades),
                     "--items-csv", str(items)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "200 learners, 20 items" in stdout and "negative discrimination" in stdout
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert len(grades.read_text("utf-8").splitlines()) == 201
    assert len(items.read_text("utf-8").splitlines()) == 21


def test_cli_report_with_only_unreadable_files_fails_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{", "utf-8")
    code = cli.main(["report", str(bad)])
    _out, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1 and "no answers could be read" in err and "bad.json" in err


def test_widget_builds_the_report_from_uploads(synthetic):
    panel = report_panel()
    uploads = [{"name": p.name, "type": "application/json", "size": p.stat().st_size,
                "last_modified": datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc),
                "content": memoryview(p.read_bytes())}
               for p in sorted(synthetic.folder.glob("*.json"))[:12]]
    upload = panel.children[1]
    upload.set_trait("value", tuple(uploads))
    panel.build()
    status, output = panel.children[4].value, panel.children[5].value
    assert "12 learners" in status and 'download="grades.csv"' in status
    assert "Facility index" in output and "<script" not in output.lower()

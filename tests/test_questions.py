"""The question bank: loading, the item-writing rules, grading and content safety."""

from __future__ import annotations

import re
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kms_teach import load_bank, simulate
from kms_teach.check import check_paths
from kms_teach.markup import to_html
from kms_teach.questions import (
    Question,
    consequence,
    expected_value,
    grade,
    lint_bank,
    read_question_file,
)

GOOD_ITEM = {
    "id": "demo-first",
    "objective": "Pick the first-line treatment",
    "difficulty": "easy",
    "bloom": "remember",
    "objectives": ["L04.1"],
    "type": "multiple_choice",
    "question": "Which drug is given first for KMP in most current practice?",
    "answers": [
        {"answer": "Sirolimus", "correct": True, "feedback": "Right."},
        {"answer": "Propranolol", "correct": False, "feedback": "Works for IH, rarely for KHE."},
        {"answer": "Interferon", "correct": False, "feedback": "Avoided in infants."},
    ],
    "explanation": "Sirolimus is first line.",
    "citations": ["Ji Y et al. Blood 2022;139:1619-30"],
}


def write_bank_file(tmp_path, items, topic="demo"):
    path = tmp_path / f"{topic}.yaml"
    path.write_text(yaml.safe_dump({"topic": topic, "title": "Demo", "questions": items}, sort_keys=False))
    return path


def with_changes(**changes):
    item = yaml.safe_load(yaml.safe_dump(GOOD_ITEM))
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def only_question(tmp_path, **changes):
    questions, problems = read_question_file(write_bank_file(tmp_path, [with_changes(**changes)]))
    return questions, problems


# ---------------------------------------------------------------- loading and checking


def test_a_valid_item_loads_with_no_problems(tmp_path):
    questions, problems = only_question(tmp_path)
    assert problems == []
    assert [q.id for q in questions] == ["demo-first"]
    assert questions[0].correct_indices == (0,)


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"difficulty": "tricky"}, "difficulty", "must be one of easy, medium, hard"),
        ({"citations": []}, "citations", "must not be empty"),
        ({"explanation": None}, "explanation", "is missing"),
        ({"colour": "red"}, "colour", "unknown field colour"),
        ({"type": "essay"}, "type", "must be one of"),
        ({"question": "Which of these is NOT a cause?"}, "question", "negative stem"),
        ({"question": "Pick the treatment."}, "question", "ending in '?'"),
        ({"question": "Which <script>alert(1)</script> drug?"}, "question", "raw HTML"),
        ({"case": {"name": "no-such-case"}}, "case.name", "valid cases: "),
    ],
)
def test_a_malformed_item_is_reported_by_file_line_item_and_field(tmp_path, changes, field, words):
    questions, problems = only_question(tmp_path, **changes)
    assert questions == []  # the bad item is left out
    assert problems, "expected a problem"
    text = [str(p) for p in problems if p.field == field]
    assert text, [str(p) for p in problems]
    assert any(words in t for t in text), text
    problem = next(p for p in problems if p.field == field)
    assert problem.path.endswith("demo.yaml") and problem.item == "demo-first" and problem.line >= 4
    assert str(problem).startswith(f"{problem.path}:{problem.line}: demo-first: {field}: ")


@pytest.mark.parametrize(
    "answers, words",
    [
        ([{"answer": "A drug", "correct": True, "feedback": "x"}, {"answer": "B drug", "feedback": "y"}],
         "needs 3 to 5 options"),
        ([{"answer": o, "correct": True, "feedback": "x"} for o in ("Sirolimus", "Vincristine", "Propranolol")],
         "exactly one correct option"),
        ([{"answer": "Sirolimus", "correct": True, "feedback": "x"},
          {"answer": "Vincristine", "feedback": "x"}, {"answer": "All of the above", "feedback": "x"}],
         "all/none of the above"),
        ([{"answer": "Sirolimus", "correct": True, "feedback": "x"}, {"answer": "Vincristine", "feedback": "x"},
          {"answer": "Propranolol given at a high dose twice daily for a very long time indeed", "feedback": "x"}],
         "not homogeneous"),
        ([{"answer": "Sirolimus", "correct": True, "feedback": "x", "plan": ["sirolimus@0"]},
          {"answer": "Vincristine", "feedback": "x"}, {"answer": "Propranolol", "feedback": "x"}],
         "need a `case`"),
    ],
)
def test_item_writing_rules_reject_a_flawed_option_set(tmp_path, answers, words):
    _questions, problems = only_question(tmp_path, answers=answers)
    assert any(words in str(p) for p in problems), [str(p) for p in problems]


def test_an_unknown_treatment_in_a_plan_lists_the_valid_names(tmp_path):
    answers = [dict(a) for a in GOOD_ITEM["answers"]]
    answers[0]["plan"] = ["sirolimuss@0"]
    _questions, problems = only_question(tmp_path, answers=answers, case={"name": "khe-kms"})
    message = next(str(p) for p in problems if p.field == "answers.0.plan")
    assert "sirolimuss" in message and "sirolimus" in message.split("sirolimuss", 1)[1]


def test_broken_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text("topic: demo\ntitle: Demo\nquestions:\n  - id: [unclosed\n")
    questions, problems = read_question_file(path)
    assert questions == []
    assert len(problems) == 1 and problems[0].line >= 4 and "not valid YAML" in problems[0].message


def test_one_bad_item_does_not_lose_the_rest_of_the_bank(tmp_path):
    bad = with_changes(id="demo-second", difficulty="???")
    write_bank_file(tmp_path, [with_changes(), bad])
    bank = load_bank(tmp_path)
    assert [q.id for q in bank] == ["demo-first"]
    assert [p.item for p in bank.problems] == ["demo-second"]


def test_duplicate_ids_across_files_are_reported(tmp_path):
    write_bank_file(tmp_path, [with_changes()], topic="demo")
    write_bank_file(tmp_path, [with_changes()], topic="other")
    problems = check_paths([tmp_path])
    assert any(p.field == "id" and "duplicate id" in p.message for p in problems)


def make_question(correct_at: int, lengths=(10, 10, 10, 10)) -> Question:
    from kms_teach.questions import Option

    options = tuple(Option("x" * n + str(i), i == correct_at, "f") for i, n in enumerate(lengths))
    return Question(id=f"demo-q{correct_at}-{lengths}", topic="demo", type="multiple_choice", question="?",
                    objective="o", difficulty="easy", explanation="e", citations=("c",), options=options)


def test_bank_lint_catches_the_correct_answer_always_in_one_position():
    bank = [make_question(0, lengths=(10, 10 + k, 12, 14)) for k in range(12)]
    problems = lint_bank(bank)
    assert any("option 1 is correct in 100%" in p.message for p in problems)


def test_bank_lint_catches_the_correct_answer_always_longest():
    bank = [make_question(k % 4, lengths=tuple(30 if i == k % 4 else 10 for i in range(4))) for k in range(12)]
    problems = lint_bank(bank)
    assert any("is the longest in 100%" in p.message for p in problems)
    assert not any(" is correct in " in p.message for p in problems)  # positions are balanced


# ---------------------------------------------------------------- grading


def question_of(tmp_path, **changes) -> Question:
    questions, problems = only_question(tmp_path, **changes)
    assert problems == [], [str(p) for p in problems]
    return questions[0]


def test_a_wrong_single_best_answer_scores_zero_and_gives_its_own_feedback(tmp_path):
    q = question_of(tmp_path)
    wrong = grade(q, 1)
    assert (wrong.score, wrong.correct) == (0.0, False)
    assert wrong.feedback == ("Works for IH, rarely for KHE.",)
    right = grade(q, 0)
    assert (right.score, right.correct) == (1.0, True)


MANY = [
    {"answer": "Fibrinogen", "correct": True, "feedback": "a"},
    {"answer": "D-dimer", "correct": True, "feedback": "b"},
    {"answer": "Sweat chloride", "feedback": "c"},
    {"answer": "Serum ferritin", "feedback": "d"},
]


@pytest.mark.parametrize(
    "ticked, score, correct",
    [
        ([0, 1], 1.0, True),
        ([0], 0.5, False),  # half the right ticks
        ([0, 1, 2], 0.5, False),  # one wrong tick cancels one right tick
        ([0, 2], 0.0, False),
        ([0, 1, 2, 3], 0.0, False),  # ticking everything earns nothing
        ([2, 3], 0.0, False),  # floored at zero
        ([], 0.0, False),
    ],
)
def test_multiple_select_partial_credit_follows_the_documented_rule(tmp_path, ticked, score, correct):
    q = question_of(tmp_path, type="many_choice", answers=MANY,
                    question="Which tests detect consumption of clotting factors?")
    result = grade(q, ticked)
    assert result.score == pytest.approx(score)
    assert result.correct is correct


@pytest.mark.parametrize(
    "order, score, correct",
    [
        ([0, 1, 2, 3], 1.0, True),
        ([1, 0, 2, 3], 5 / 6, False),  # one swap of neighbours
        ([3, 2, 1, 0], 0.0, False),
    ],
)
def test_ordering_scores_the_share_of_pairs_in_the_right_order(tmp_path, order, score, correct):
    steps = [{"answer": s, "feedback": f"{s} goes elsewhere"} for s in ("History", "CBC", "Coagulation", "MRI")]
    q = question_of(tmp_path, type="ordering", answers=steps, question="In what order is the workup done?")
    result = grade(q, order)
    assert result.score == pytest.approx(score)
    assert result.correct is correct
    assert result.expected == "History -> CBC -> Coagulation -> MRI"


def test_an_ordering_answer_must_use_every_step_once(tmp_path):
    steps = [{"answer": s, "feedback": "x"} for s in ("History", "CBC", "MRI")]
    q = question_of(tmp_path, type="ordering", answers=steps, question="In what order?")
    with pytest.raises(ValueError, match="each of the 3 steps once"):
        grade(q, [0, 0, 1])


NUMERIC = dict(type="numeric", answers=None, unit="g/L", answer={"value": 1.5, "tolerance": 0.2},
               question="What is the lower limit of fibrinogen at this age?",
               feedback=[{"range": [0, 1.0], "feedback": "That is the cryoprecipitate threshold."}])


@pytest.mark.parametrize(
    "typed, correct, feedback",
    [
        ("1.5", True, "Correct."),
        ("1,65", True, "Correct."),  # a decimal comma is accepted
        (1.71, False, "Not quite."),
        ("0.9", False, "That is the cryoprecipitate threshold."),
    ],
)
def test_numeric_answers_are_right_within_tolerance_only(tmp_path, typed, correct, feedback):
    q = question_of(tmp_path, **NUMERIC)
    result = grade(q, typed)
    assert result.correct is correct
    assert result.feedback == (feedback,)


@pytest.mark.parametrize("typed", ["", "abc", "nan", "inf", True])
def test_a_numeric_answer_that_is_not_a_number_is_refused_clearly(tmp_path, typed):
    q = question_of(tmp_path, **NUMERIC)
    with pytest.raises(ValueError, match="number"):
        grade(q, typed)


def test_a_case_based_numeric_answer_comes_from_the_model(tmp_path):
    q = question_of(tmp_path, **{**NUMERIC, "feedback": None, "answer": {"lab": "fibrinogen", "tolerance": 0.05},
                                 "case": {"name": "khe-kms", "day": 0}})
    modelled = simulate("khe-kms", days=1).labs_at(0)["fibrinogen"]
    assert expected_value(q) == pytest.approx(modelled, rel=1e-6)
    assert grade(q, modelled + 0.04).correct
    assert not grade(q, modelled + 0.2).correct


def test_choosing_a_platelet_transfusion_shows_a_brief_rise_that_is_lost(tmp_path):
    answers = [dict(a) for a in GOOD_ITEM["answers"]]
    answers[0]["plan"] = ["sirolimus@0", "prednisolone@0"]
    answers[1]["plan"] = ["platelet-transfusion@0"]
    q = question_of(tmp_path, answers=answers, case={"name": "khe-kms", "day": 0}, consequence_days=3)
    transfused = consequence(q, 1)
    platelets = transfused.chosen.platelets
    assert platelets.max() > 2 * platelets[-1]  # a rise ...
    assert platelets[-1] < 1.2 * transfused.untreated.platelets[-1]  # ... lost within days
    assert "rose to" in transfused.summary and "fell back" in transfused.summary
    treated = consequence(q, 0)
    assert treated.chosen.platelets[-1] > treated.untreated.platelets[-1]
    assert consequence(q, 2) is None  # no plan, no simulation


# ---------------------------------------------------------------- content safety

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<iframe src='https://example.org'></iframe>",
    "<a href='x' onclick='alert(1)'>y</a>",
    "$<script>alert(1)</script>$",
    "<svg/onload=alert(1)>",
    "[x](JaVaScRiPt:alert(1))",
    "<<script>script>alert(1)<</script>/script>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_rendered_content_cannot_carry_markup_or_script(text):
    out = to_html(text)
    tags = {m.lower() for m in re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", out)}
    assert tags <= {"p", "strong", "em", "span", "div", "code", "a", "del"}, out
    assert "javascript:" not in out.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", out), out  # no event-handler attribute on a real tag


@pytest.mark.parametrize("text", HOSTILE)
def test_the_checker_rejects_hostile_text_in_any_field(tmp_path, text):
    answers = [dict(a) for a in GOOD_ITEM["answers"]]
    answers[2]["feedback"] = text
    _questions, problems = only_question(tmp_path, answers=answers)
    assert any(p.field == "answers.2.feedback" for p in problems), text


def test_markdown_and_maths_still_render():
    out = to_html("Platelets **low**; $t_{1/2} = 4$ days.")
    assert "<strong>low</strong>" in out and "t_{1/2} = 4" in out


# ---------------------------------------------------------------- fuzzing the loader

yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(list(GOOD_ITEM) + ["case", "answer", "x"]),
                                               children, max_size=6)),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=yaml_values)
def test_fuzzed_question_files_give_problems_never_a_crash(tmp_path, value):
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump({"topic": "demo", "title": "T", "questions": [value]}))
    questions, problems = read_question_file(path)
    assert questions or problems


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_fuzzed_raw_text_gives_problems_never_a_crash(tmp_path, text):
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    questions, problems = read_question_file(path)
    assert questions == [] and problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=st.fixed_dictionaries({}, optional={k: yaml_values for k in GOOD_ITEM}))
def test_fuzzed_items_built_from_real_fields_never_crash(tmp_path, item):
    merged = {**with_changes(), **item}
    path = write_bank_file(tmp_path, [merged])
    read_question_file(path)


def test_check_reports_broken_case_and_parameter_files(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "mine.yaml").write_text(textwrap.dedent("""\
        name: mine
        title: T
        description: D
        diagnosis: KHE
        driver: tumour
        age_days: 30
        weight_kg: 4
        starting_state: equilibrium
        narrative: N
        activity:
          severity: plenty
        citations: [x]
        """))
    (tmp_path / "parameters.yaml").write_text("platelet_production:\n  value: 35\n")
    lines = [str(p) for p in check_paths([tmp_path])]
    assert any(line.startswith(f"{cases / 'mine.yaml'}:11: mine activity: severity: must be a number") for line in lines), lines
    assert any(str(tmp_path / "parameters.yaml") in line for line in lines), lines


@pytest.mark.parametrize(
    "plan, offset, shifted",
    [
        (["sirolimus@0"], 0, ("sirolimus@0",)),
        (["sirolimus@0-30", "platelet-transfusion@2"], 14, ("sirolimus@14-44", "platelet-transfusion@16")),
        (["prednisolone"], 7, ("prednisolone@7",)),
    ],
)
def test_a_plan_written_from_the_decision_day_moves_onto_the_case_timeline(plan, offset, shifted):
    from kms_teach.treatments import shift_plan

    assert shift_plan(plan, offset) == shifted

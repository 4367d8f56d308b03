"""Learner experience: honest predictions, first-attempt scores, branching-case debrief."""

from __future__ import annotations

import json

import pytest
import yaml

from kms_teach import load_bank, progress
from kms_teach.predictions import load_predictions, prediction
from kms_teach.quiz import Quiz, format_score
from kms_teach.widgets import PredictReveal
from kms_teach._assets import AssetError


@pytest.fixture(autouse=True)
def fresh_kernel(monkeypatch):
    """Each test is a new kernel with no answers recorded."""
    monkeypatch.setattr(progress, "_BOOKS", {})


# ----------------------------------------------------------------------------- predictions


def page_text(widget) -> str:
    """Everything a browser would be sent for a widget tree (the state of every model in it)."""
    seen, parts, stack = set(), [], [widget]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        state = node.get_state()
        parts.append(json.dumps(state, default=str))
        for key in ("children",):
            stack.extend(getattr(node, key, ()) or ())
    return "\n".join(parts)


def test_every_prediction_has_a_right_answer_among_its_options_and_a_citation():
    found = load_predictions()
    assert {"activity-doubles", "day21-clotting-times", "nait-versus-kmp", "first-to-recover",
            "transfusion-next-day", "rebound-after-stopping"} <= set(found)
    for p in found.values():
        assert 0 <= p.answer < len(p.options) and p.citation and p.explanation
        assert p.quiz_id == f"predictions-lesson-{p.lesson:02d}"


def test_the_answer_and_explanation_are_not_on_the_page_before_reveal():
    p = prediction("activity-doubles")
    widget = PredictReveal("activity-doubles")
    before = page_text(widget.widget)
    assert "what happens to the platelet count" in before  # the question is shown
    assert p.explanation[:40] not in before and p.citation not in before and "Right." not in before
    wrong = next(i for i in range(len(p.options)) if i != p.answer)
    widget.predict(wrong)
    assert p.explanation[:40] not in page_text(widget.widget)
    widget.reveal()
    after = page_text(widget.widget)
    assert "Not right." in after and p.answer_text in after and p.explanation[:40] in after
    # the verdict comes before the explanation
    assert widget.feedback.value.index("Not right.") < widget.feedback.value.index(p.explanation[:40])


def test_a_prediction_is_judged_once_recorded_and_locked():
    p = prediction("transfusion-next-day")
    widget = PredictReveal("transfusion-next-day")
    assert widget.button.disabled  # nothing to reveal before a choice
    widget.predict(p.answer_text)
    assert not widget.button.disabled
    widget.button.click()
    assert widget.verdict is True and "Right." in widget.feedback.value
    assert widget.choice.disabled and widget.button.disabled
    book = progress.answer_book("answers-lesson-04.json")
    first = book.answers.first_attempts("predictions-lesson-04")["transfusion-next-day"]
    assert first["response"] == p.answer and first["correct"] is True
    widget.choice.value = (p.answer + 1) % len(p.options)  # a changed mind after the answer is out
    widget.reveal()
    entry = book.answers.quizzes["predictions-lesson-04"]["items"]["transfusion-next-day"]
    assert entry["later_attempts"] == [] and widget.verdict is True


def test_the_observation_appears_only_after_reveal_and_is_built_then():
    built = []

    def demonstration():
        import ipywidgets as w
        built.append(True)
        return w.HTML("the demonstration")

    widget = PredictReveal("nait-versus-kmp", observe=demonstration)
    assert built == [] and widget.observation.children == ()
    widget.predict(0)
    widget.reveal()
    assert built == [True] and "the demonstration" in page_text(widget.widget)


def test_a_loaded_answers_file_shows_the_first_prediction_as_judged():
    p = prediction("first-to-recover")
    book = progress.answer_book("answers-lesson-04.json")
    widget = PredictReveal("first-to-recover")
    other = progress.Answers()
    wrong = (p.answer + 1) % len(p.options)
    other.record_attempt(p.quiz_id, p.id, wrong, 0.0, False, bank_version="unknown")
    book.merge_in(other)
    assert widget.revealed and widget.verdict is False and "Not right." in widget.feedback.value


def test_the_old_constructor_still_works_but_neither_judges_nor_records():
    with pytest.warns(PendingDeprecationWarning):
        widget = PredictReveal("Which?", ["One", "Two"], "Because two.")
    widget.predict("Two")
    widget.reveal()
    assert widget.verdict is None and "Because two." in widget.feedback.value and widget.choice.disabled


def test_an_unknown_prediction_id_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid ids: .*activity-doubles"):
        PredictReveal("no-such-prediction")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["predictions"][0].update(answer="Not an option"), "activity-doubles: answer: 'Not an option' is not one"),
    (lambda d: d["predictions"][1].update(id="activity-doubles"), "activity-doubles: id: is used twice"),
    (lambda d: d["predictions"][0].pop("citation"), "activity-doubles: citation: is missing"),
    (lambda d: d["predictions"][0].update(options=["Only one"]), "options: must be a list of at least 2"),
])
def test_a_broken_predictions_file_gives_one_line_naming_item_and_field(tmp_path, change, message):
    from kms_teach.predictions import predictions_path
    data = yaml.safe_load(predictions_path().read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "predictions.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(AssetError) as caught:
        load_predictions(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


# ----------------------------------------------------------------------------- first-attempt scores

ITEMS = [
    {"id": f"demo-{n}", "objective": "Pick the first-line treatment", "difficulty": "easy",
     "type": "multiple_choice",
     "question": f"Infant {n} has KMP and is not bleeding. What is the best first treatment?",
     "answers": [{"answer": "Sirolimus", "correct": True, "feedback": "Treats the tumour."},
                 {"answer": "Platelet transfusion", "feedback": "Trapped within hours."},
                 {"answer": "Heparin infusion", "feedback": "Not recommended."},
                 {"answer": "Observation alone", "feedback": "Leaves the coagulopathy."}],
     "explanation": "Treat the tumour.", "citations": ["Ji Y et al. Orphanet J Rare Dis 2020"]}
    for n in range(3)
] + [
    {"id": "demo-many", "objective": "Choose coagulation tests", "difficulty": "easy", "type": "many_choice",
     "question": "Which tests show the consumption of clotting factors?",
     "answers": [{"answer": "Fibrinogen", "correct": True, "feedback": "Falls early."},
                 {"answer": "D-dimer", "correct": True, "feedback": "Rises with fibrinolysis."},
                 {"answer": "Platelet count", "correct": True, "feedback": "Falls with trapping."},
                 {"answer": "Serum ferritin", "feedback": "Iron stores."}],
     "explanation": "Fibrinogen and D-dimer are the sensitive markers.",
     "citations": ["Ryan C et al. Eur J Haematol 2010;84:97-104"]},
]


@pytest.fixture()
def bank(tmp_path):
    (tmp_path / "demo.yaml").write_text(yaml.safe_dump({"topic": "demo", "title": "Demo", "questions": ITEMS}))
    loaded = load_bank(tmp_path)
    assert not loaded.problems, [str(p) for p in loaded.problems]
    return loaded


def go_to(quiz, question_id):
    quiz.go([q.id for q in quiz.questions].index(question_id))


def test_format_score_rounds_to_one_decimal_without_trailing_zero():
    assert format_score(3.833333) == "3.8"
    assert format_score(5.5) == "5.5"
    assert format_score(2.0) == "2"
    assert format_score(0.333333) == "0.3"


def test_only_the_first_attempt_scores_and_a_change_of_answer_is_practice(bank):
    quiz = Quiz(bank=bank, seed=0, shuffle=False)
    go_to(quiz, "demo-0")
    quiz.answer(1)  # wrong
    assert not quiz.check().correct
    quiz.answer(0)  # now right
    assert quiz.check().correct
    assert quiz.total_score == 0
    assert "Practice attempt: not scored" in quiz.feedback.value
    assert "Score (first attempts only): 0 of 1 answered" in quiz.score.value
    assert "1 practice attempt" in quiz.score.value
    entry = quiz.answers.quizzes[quiz.quiz_id]["items"]["demo-0"]
    assert entry["first_attempt"]["correct"] is False and entry["later_attempts"][0]["correct"] is True


def test_a_retry_or_a_rerun_cell_does_not_reset_the_score(bank):
    quiz = Quiz(bank=bank, seed=0, shuffle=False)
    go_to(quiz, "demo-1")
    quiz.answer(1)
    quiz.check()
    quiz.retry()
    go_to(quiz, "demo-1")
    quiz.answer(0)
    quiz.check()
    assert quiz.total_score == 0 and "Practice attempt" in quiz.feedback.value
    again = Quiz(bank=bank, seed=0, shuffle=False)  # the learner re-runs the quiz's cell
    go_to(again, "demo-1")
    again.answer(0)
    again.check()
    assert again.total_score == 0 and "Practice attempt" in again.feedback.value


def test_scores_are_shown_rounded(bank):
    quiz = Quiz(bank=bank, seed=0, shuffle=False)
    go_to(quiz, "demo-many")
    quiz.answer([0, 1, 3])  # 2 of 3 right, 1 wrong: a fractional score
    result = quiz.check()
    assert 0 < result.score < 1
    assert f"Score (first attempts only): {format_score(result.score)} of 1" in quiz.score.value
    text = quiz.score.value
    assert not any(len(part) > 3 for part in text.replace("(", " ").split() if part[:1].isdigit() and "." in part)


# ----------------------------------------------------------------------------- branching case

ESSENTIAL = ("cbc", "pt-aptt", "fibrinogen", "d-dimer", "mri")


def run_workup(tests, diagnosis="khe-kmp", plan="sirolimus-prednisolone"):
    from kms_teach.workup import WorkupSession
    session = WorkupSession()
    session.order_tests(tests)
    session.choose_diagnosis(diagnosis)
    session.choose_plan(plan)
    return session.debrief()


def test_the_essential_work_up_scores_full_marks_without_filling_the_budget():
    sensible = run_workup(ESSENTIAL)
    padded = run_workup(ESSENTIAL + ("doppler", "blood-culture"))
    assert sensible.score == pytest.approx(1.0) and padded.score == pytest.approx(1.0)
    assert sensible.lost == ()


def test_helpful_tests_cannot_make_up_for_a_missed_essential_one():
    missing = tuple(t for t in ESSENTIAL if t != "fibrinogen")
    debrief = run_workup(missing + ("doppler", "blood-culture"))
    assert debrief.sections["tests"] == (8.0, 10.0)


def test_the_debrief_says_which_test_and_which_decision_lost_points():
    tests = tuple(t for t in ESSENTIAL if t != "mri") + ("biopsy",)
    debrief = run_workup(tests, diagnosis="sepsis-dic", plan="sirolimus")
    lost = "\n".join(debrief.lost)
    assert "MRI" in lost and "not ordered but is essential" in lost and "\u22122 of the 10" in lost
    assert "biopsy" in lost.lower() and "harmful" in lost
    assert "Diagnosis: Sepsis" in lost and "Plan:" in lost and "0.6 of 1" in lost


# ----------------------------------------------------------------------------- Voila pre-heating


def test_kms_teach_voila_can_preheat_one_kernel_per_lesson(capsys):
    from kms_teach.cli import main

    assert main(["voila", "notebooks", "--port", "9124", "--print-command", "--preheat"]) == 0
    command = capsys.readouterr().out
    assert "--preheat_kernel=True" in command and "--pool_size=1" in command
    assert main(["voila", "notebooks", "--port", "9124", "--print-command"]) == 0
    assert "preheat" not in capsys.readouterr().out


def test_text_and_lab_panels_can_be_the_observation():
    import kms_teach as kt

    panel = kt.simulate("khe-onset", days=30).lab_panel(21)
    widget = PredictReveal("day21-clotting-times", observe=[panel, "PT and aPTT within range."])
    assert widget.observation.children == ()
    widget.predict(prediction("day21-clotting-times").answer)
    widget.reveal()
    shown = page_text(widget.widget)
    assert "Right." in widget.feedback.value and "PT and aPTT within range." in shown and "Platelets" in shown


def test_kms_teach_check_reads_the_predictions_file(tmp_path):
    from kms_teach.check import check_paths
    from kms_teach.predictions import predictions_path

    assert check_paths([predictions_path()]) == []
    data = yaml.safe_load(predictions_path().read_text(encoding="utf-8"))
    data["predictions"][2]["answer"] = "Something else"
    bad = tmp_path / "predictions.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    problems = [str(p) for p in check_paths([bad])]
    assert len(problems) == 1 and "nait-versus-kmp" in problems[0] and "answer" in problems[0]

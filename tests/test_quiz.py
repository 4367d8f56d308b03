"""The quiz widget driven from Python, as a keyboard user would drive it."""

from __future__ import annotations

import ipywidgets as w
import pytest
import yaml

from kms_teach import load_bank
from kms_teach.quiz import Quiz
from kms_teach.widgets import KEYS_CLASS, RadioGroup

ITEMS = [
    {
        "id": "demo-transfuse",
        "objective": "Decide on platelet transfusion",
        "difficulty": "medium",
        "type": "multiple_choice",
        "question": "She is not bleeding. What is the best next step?",
        "case": {"name": "khe-kms", "day": 0},
        "consequence_days": 3,
        "answers": [
            {"answer": "Start sirolimus and prednisolone", "correct": True, "feedback": "Treats the tumour.",
             "plan": ["sirolimus@0", "prednisolone@0"]},
            {"answer": "Transfuse platelets now", "feedback": "Trapped within hours.",
             "plan": ["platelet-transfusion@0"]},
            {"answer": "Start heparin infusion", "feedback": "Not recommended.", "plan": ["heparin@0"]},
        ],
        "explanation": "Treat the tumour; transfuse only for bleeding or a procedure.",
        "citations": ["Ji Y et al. Orphanet J Rare Dis 2020"],
    },
    {
        "id": "demo-tests",
        "objective": "Choose coagulation tests",
        "difficulty": "easy",
        "type": "many_choice",
        "question": "Which tests show the consumption of clotting factors?",
        "answers": [
            {"answer": "Fibrinogen", "correct": True, "feedback": "Falls early."},
            {"answer": "D-dimer", "correct": True, "feedback": "Rises with fibrinolysis."},
            {"answer": "Serum ferritin", "feedback": "Iron stores."},
        ],
        "explanation": "Fibrinogen and D-dimer are the sensitive markers.",
        "citations": ["Ryan C et al. Eur J Haematol 2010;84:97-104"],
    },
    {
        "id": "demo-fibrinogen",
        "objective": "Read fibrinogen",
        "difficulty": "easy",
        "type": "numeric",
        "question": "What is this infant's fibrinogen, in g/L?",
        "unit": "g/L",
        "case": {"name": "khe-kms"},
        "answer": {"lab": "fibrinogen", "tolerance": 0.1},
        "explanation": "Read it from the panel.",
        "citations": ["Liu Q et al. Exp Ther Med 2022;24:621"],
    },
    {
        "id": "demo-order",
        "objective": "Order the workup",
        "difficulty": "hard",
        "type": "ordering",
        "question": "In what order are these done?",
        "answers": [{"answer": s, "feedback": f"{s} is out of place."} for s in ("Examine", "Blood count", "MRI")],
        "explanation": "Bedside first, then blood, then imaging.",
        "citations": ["Drolet BA et al. J Pediatr 2013;163:285-91"],
    },
]


@pytest.fixture()
def bank(tmp_path):
    (tmp_path / "demo.yaml").write_text(yaml.safe_dump({"topic": "demo", "title": "Demo", "questions": ITEMS}))
    loaded = load_bank(tmp_path)
    assert not loaded.problems, [str(p) for p in loaded.problems]
    return loaded


def go_to(quiz, question_id):
    quiz.go([q.id for q in quiz.questions].index(question_id))
    assert quiz.question.id == question_id


def test_the_same_seed_deals_the_same_quiz_and_another_seed_may_not(bank):
    one, two = Quiz(bank=bank, seed=3), Quiz(bank=bank, seed=3)
    assert [q.id for q in one.questions] == [q.id for q in two.questions]
    assert one.orders == two.orders
    others = [Quiz(bank=bank, seed=s) for s in range(6)]
    assert len({tuple(q.id for q in o.questions) for o in others}) > 1


def test_a_wrong_choice_scores_wrong_and_shows_its_feedback_and_citation(bank):
    quiz = Quiz(bank=bank, seed=0)
    go_to(quiz, "demo-transfuse")
    quiz.answer(2)  # heparin
    quiz.check_button.click()
    assert quiz.results["demo-transfuse"].score == 0
    assert "Not right" in quiz.feedback.value and "Not recommended." in quiz.feedback.value
    assert "Orphanet J Rare Dis 2020" in quiz.feedback.value
    assert 'role="status"' in quiz.feedback.value and 'aria-live="polite"' in quiz.feedback.value


def test_a_transfusion_choice_runs_the_model_and_shows_the_rise_lost(bank):
    quiz = Quiz(bank=bank, seed=0)
    go_to(quiz, "demo-transfuse")
    assert quiz.consequence_image.value == ""
    quiz.answer(1)
    quiz.check()
    image = quiz.consequence_image.value
    assert image.startswith("<img") and "alt=" in image
    assert "rose to" in image and "fell back" in image  # the alt text says what happened
    assert "What the model shows" in quiz.feedback.value
    quiz.answer(0)
    quiz.check()
    assert quiz.consequence_image.value != image  # a different choice, a different course
    assert quiz.results["demo-transfuse"].correct


def test_the_case_panel_shown_comes_from_the_model(bank):
    from kms_teach import simulate

    quiz = Quiz(bank=bank, seed=0)
    go_to(quiz, "demo-fibrinogen")
    value = simulate("khe-kms", days=1).labs_at(0)["fibrinogen"]
    assert f"{value:.2f}" in quiz.panel.value
    quiz.answer(f"{value:.2f}")
    assert quiz.check().correct
    quiz.answer("2.7")
    assert not quiz.check().correct


def test_multiple_select_is_graded_with_partial_credit(bank):
    quiz = Quiz(bank=bank, seed=0)
    go_to(quiz, "demo-tests")
    assert all(isinstance(c, w.Checkbox) for c in quiz.ticks)
    quiz.answer([0])
    result = quiz.check()
    assert result.score == pytest.approx(0.5) and not result.correct
    assert "Partly right" in quiz.feedback.value and "(missed)" in quiz.feedback.value


def test_ordering_is_done_with_select_and_move_buttons(bank):
    quiz = Quiz(bank=bank, seed=0)
    go_to(quiz, "demo-order")
    shown = quiz.response()
    assert shown != [0, 1, 2]  # never dealt in the right order
    # put it right using only the move buttons, as a keyboard user would
    for target, step in enumerate([0, 1, 2]):
        quiz.sequence.value = step
        while quiz.response().index(step) > target:
            quiz.move(-1)
    assert quiz.response() == [0, 1, 2]
    assert quiz.check().correct


def test_an_unanswered_check_asks_for_an_answer_and_grades_nothing(bank):
    quiz = Quiz(bank=bank, seed=0)
    go_to(quiz, "demo-transfuse")
    assert quiz.check() is None
    assert "Choose an answer first" in quiz.feedback.value
    go_to(quiz, "demo-fibrinogen")
    quiz.answer("about one")
    assert quiz.check() is None and "number" in quiz.feedback.value
    assert quiz.results == {}


def test_score_summary_retry_and_navigation(bank):
    quiz = Quiz(bank=bank, seed=0)
    assert quiz.previous_button.disabled and not quiz.next_button.disabled
    for _ in range(len(quiz.questions)):
        q = quiz.question
        quiz.answer({"multiple_choice": 0, "many_choice": [0, 1], "numeric": "0.75", "ordering": [0, 1, 2]}[q.type])
        quiz.check()
        quiz.next_button.click()
    assert quiz.next_button.disabled
    assert "Finished" in quiz.score.value
    first_order = [q.id for q in quiz.questions]
    quiz.retry_button.click()
    assert quiz.results == {} and "Finished" not in quiz.score.value
    assert quiz.attempt == 1
    assert sorted(q.id for q in quiz.questions) == sorted(first_order)


def test_answers_saved_to_a_file_restore_into_a_new_quiz(bank, tmp_path):
    quiz = Quiz(bank=bank, seed=0, progress_file=str(tmp_path / "mine.json"))
    go_to(quiz, "demo-transfuse")
    quiz.answer(0)
    quiz.check()
    assert quiz.save() and "Saved 1 answer" in quiz.file_status.value
    fresh = Quiz(bank=bank, seed=5, progress_file=str(tmp_path / "mine.json"))
    assert fresh.load()
    assert fresh.results["demo-transfuse"].correct


def test_loading_a_foreign_file_is_reported_and_keeps_it(bank, tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "notes"}')
    quiz = Quiz(bank=bank, seed=0, progress_file=str(notes))
    assert not quiz.load() and "not a kms-teach answers file" in quiz.file_status.value
    quiz.answer(quiz.question.options and 0 or "1")
    assert not quiz.save() and "Not saved" in quiz.file_status.value
    assert notes.read_text() == '{"my": "notes"}'


def test_every_control_has_a_visible_label(bank):
    quiz = Quiz(bank=bank, seed=0)
    for question in list(quiz.questions):
        go_to(quiz, question.id)
        for control in quiz.controls.children:
            if isinstance(control, (RadioGroup, w.Text, w.Select)):
                assert control.description
            if isinstance(control, w.Checkbox):
                assert control.description
        for button in (quiz.check_button, quiz.next_button, quiz.previous_button, quiz.save_button):
            assert button.description and button.tooltip


def test_an_empty_selection_lists_the_topics():
    with pytest.raises(ValueError, match="topics in the bank"):
        Quiz(topics=["no-such-topic"])


def test_text_view_is_deterministic(bank):
    assert repr(Quiz(bank=bank, seed=1)) == "<Quiz: 4 question(s); run the notebook to take it>"


def test_choices_are_a_keyboard_safe_radio_group_and_the_order_buttons_have_distinct_names(bank):
    quiz = Quiz(bank=bank, seed=0)
    go_to(quiz, "demo-transfuse")
    assert isinstance(quiz.choice, RadioGroup) and quiz.choice.description == "Your answer"
    quiz.choice._on_choose(quiz.choice, {"choose": 0}, [])  # a choice made with the arrow keys
    assert quiz.choice.value == quiz.orders["demo-transfuse"][0] and quiz.response() == quiz.choice.value
    go_to(quiz, "demo-tests")
    assert all(KEYS_CLASS in box._dom_classes for box in quiz.ticks)
    go_to(quiz, "demo-order")
    assert KEYS_CLASS in quiz.sequence._dom_classes
    buttons = [c for row in quiz.controls.children if isinstance(row, w.HBox) for c in row.children]
    assert [b.description for b in buttons] == ["Move up", "Move down"]
    assert all(b.layout.width == "auto" for b in buttons)  # never cut to the same prefix

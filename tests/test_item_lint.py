"""The item-writing lint of issue 14: each rule fails a flawed item and passes its repaired version.

The flawed examples are the patterns an NBME-trained reviewer found in version 0.1.0 of the bank
(../shared/reviews/items-review.md): absolute distractors against a hedged key, a stem word that
only the key repeats, a key that is the longest option far more often than chance, near-duplicate
stems, and a flagged lab panel in an item that asks which results are abnormal.
"""

from __future__ import annotations

import copy

import yaml

from kms_teach.check import check_paths
from kms_teach.cli import main
from kms_teach.questions import (
    OBJECTIVES,
    CaseRef,
    Option,
    Question,
    bank_stats,
    format_stats,
    key_length_shares,
    lint_absolute_terms,
    lint_bank,
    lint_bloom,
    lint_coverage,
    lint_flagged_panel,
    lint_hedged_key,
    lint_objectives,
    lint_stem_key_repetition,
    lint_stem_overlap,
    panel_text,
    read_question_file,
)


def item(options, key=0, stem="A 6-week-old girl with a thigh KHE has platelets of 14 x10^9/L. Which plan is best?",
         qid="demo-item", **extra) -> Question:
    """A single-best-answer item whose ``key``-th option is correct."""
    fields = dict(id=qid, topic="demo", type="multiple_choice", question=stem, objective="o", difficulty="easy",
                  explanation="e", citations=("c",), bloom="apply", objectives=("L04.3",),
                  options=tuple(Option(text, i == key, "f") for i, text in enumerate(options)))
    fields.update(extra)
    return Question(**fields)


# ---------------------------------------------------------------- one item at a time


def test_absolute_terms_in_distractors_but_not_in_the_key_are_reported():
    flawed = item(["A debated adjunct given with cryoprecipitate", "Proven in a randomised trial",
                   "Required before every platelet transfusion"])
    problems = lint_absolute_terms(flawed)
    assert [p.field for p in problems] == ["answers.1.answer", "answers.2.answer"]  # "Proven", "every"
    repaired = item(["A debated adjunct given with cryoprecipitate", "Tested in a randomised trial",
                     "Required before a platelet transfusion"])
    assert lint_absolute_terms(repaired) == []


def test_the_same_absolute_term_in_the_key_is_no_cue():
    balanced = item(["Only when she bleeds", "Only when the count is below 50", "Only before the MRI"])
    assert lint_absolute_terms(balanced) == []


def test_a_key_that_is_the_only_hedged_option_is_reported():
    flawed = item(["KHE metastasises early", "Complete removal is rarely feasible", "The tumour regrows"], key=1)
    problems = lint_hedged_key(flawed)
    assert len(problems) == 1 and "'rarely'" in problems[0].message
    repaired = item(["KHE usually metastasises early", "Complete removal is rarely feasible",
                     "The tumour regrows"], key=1)
    assert lint_hedged_key(repaired) == []


def test_a_stem_word_repeated_only_in_the_key_is_reported():
    stem = "A 7-week-old has KMP and a fibrinogen of 0.7 g/L before a procedure. Which product suits her fibrinogen?"
    flawed = item(["Plasma", "Fibrinogen concentrate", "Red cells"], key=1, stem=stem)
    problems = lint_stem_key_repetition(flawed)
    assert len(problems) == 1 and "'fibrinogen'" in problems[0].message
    repaired = item(["Plasma", "Cryoprecipitate", "Red cells"], key=1, stem=stem)
    assert lint_stem_key_repetition(repaired) == []


def test_a_flagged_panel_in_an_item_that_asks_what_is_abnormal_is_reported():
    stem = "This 4-week-old boy's panel is shown above. Which results lie outside the range for his age?"
    flawed = item(["Platelets", "PT", "aPTT"], stem=stem, case=CaseRef("khe-onset", 28.0))
    assert [p.field for p in lint_flagged_panel(flawed)] == ["case.flags"]
    repaired = item(["Platelets", "PT", "aPTT"], stem=stem, case=CaseRef("khe-onset", 28.0), show_flags=False)
    assert lint_flagged_panel(repaired) == []
    other_lead_in = item(["Platelets", "PT", "aPTT"], case=CaseRef("khe-onset", 28.0))
    assert lint_flagged_panel(other_lead_in) == []  # "which plan is best?" may show the flags


def test_an_item_without_a_known_objective_or_bloom_level_is_reported():
    assert [p.field for p in lint_objectives(item(["a1", "b2", "c3"], objectives=()))] == ["objectives"]
    assert "L09.1" in lint_objectives(item(["a1", "b2", "c3"], objectives=("L09.1",)))[0].message
    assert lint_objectives(item(["a1", "b2", "c3"], objectives=("L06.2",))) == []
    assert [p.field for p in lint_bloom(item(["a1", "b2", "c3"], bloom=""))] == ["bloom"]


def test_an_unknown_objective_id_in_a_file_names_the_valid_ids(tmp_path):
    path = tmp_path / "demo.yaml"
    raw = {"id": "demo-one", "objective": "o", "difficulty": "easy", "bloom": "apply", "objectives": ["L06.9"],
           "type": "multiple_choice", "question": "Which drug is first line?", "explanation": "e",
           "citations": ["Ji Y et al. Blood 2022"],
           "answers": [{"answer": "Sirolimus", "correct": True, "feedback": "f"},
                       {"answer": "Propranolol", "feedback": "f"}, {"answer": "Interferon", "feedback": "f"}]}
    path.write_text(yaml.safe_dump({"topic": "demo", "title": "Demo", "questions": [raw]}))
    questions, problems = read_question_file(path)
    assert questions == []
    assert [(p.item, p.field) for p in problems] == [("demo-one", "objectives.0")]
    assert "L06.1-L06.6" in problems[0].message


# ---------------------------------------------------------------- the bank as a whole


def longest_key_bank(n=12):
    """Items whose key is always the longest option: the cue the review measured."""
    return [item([f"Plan {k} with a long, careful, complete description", "Short plan", "Other plan",
                  "Third plan"], key=0, qid=f"demo-long-{k}",
                 stem=f"Infant number {k} with KHE ({'abcdefghijklmnop'[k]}) needs a plan. Which plan is best?")
            for k in range(n)]


def test_the_key_length_rank_far_above_chance_is_reported():
    shares = key_length_shares(longest_key_bank())
    assert shares["strict"] == 1.0 and shares["strict_chance"] == 0.25
    messages = [p.message for p in lint_bank(longest_key_bank()) if p.item == "(bank)"]
    assert any("strictly the longest option in 100%" in m and "25%" in m for m in messages)
    assert any("within 5 characters of it in 100%" in m for m in messages)


def test_keys_of_ordinary_length_pass_the_key_length_rule():
    bank = [item(["Plan one", "Plan two!", "Plan three", "Plan four"], key=k % 4, qid=f"demo-even-{k}",
                 stem=f"Infant number {k} ({'abcdefghijklmnop'[k]}) needs one. Which plan is best?")
            for k in range(12)]
    assert not [p for p in lint_bank(bank) if "longest" in p.message]


def test_two_items_with_nearly_the_same_stem_are_reported_as_likely_duplicates():
    first = item(["a1", "b2", "c3"], qid="demo-first", stem="A well 7-week-old girl has petechiae, platelets "
                 "18 x10^9/L, fibrinogen 0.9 g/L, a very high D-dimer and no skin lesion. Which diagnosis fits?")
    second = item(["a1", "b2", "c3"], qid="demo-second", stem="A well 5-week-old girl has petechiae, platelets "
                  "18 x10^9/L, fibrinogen 0.9 g/L, a very high D-dimer and no skin lesion. Which next step fits?")
    different = item(["a1", "b2", "c3"], qid="demo-third", stem="A 3-month-old boy on weekly vincristine has not "
                     "opened his bowels for four days. Which cause is most likely?")
    problems = lint_stem_overlap([first, second, different])
    assert [(p.item, p.field) for p in problems] == [("demo-second", "question")]
    assert "demo-first" in problems[0].message


def test_an_objective_assessed_by_fewer_than_two_items_is_reported():
    covered = [item(["a1", "b2", "c3"], qid=f"demo-{i}", objectives=(o,)) for i, o in enumerate(OBJECTIVES)]
    problems = lint_coverage(covered + covered, "bank")
    assert problems == []
    problems = lint_coverage(covered + covered[1:], "bank")
    assert len(problems) == 1 and "L00.1 (1)" in problems[0].message


def test_only_a_whole_bank_is_held_to_objective_coverage(tmp_path):
    path = tmp_path / "questions" / "demo.yaml"
    path.parent.mkdir()
    raw = {"id": "demo-one", "objective": "o", "difficulty": "easy", "bloom": "remember", "objectives": ["L04.1"],
           "type": "multiple_choice", "question": "Which drug is first line?", "explanation": "e",
           "citations": ["Ji Y et al. Blood 2022"],
           "answers": [{"answer": "Sirolimus", "correct": True, "feedback": "f"},
                       {"answer": "Propranolol", "feedback": "f"}, {"answer": "Interferon", "feedback": "f"}]}
    path.write_text(yaml.safe_dump({"topic": "demo", "title": "Demo", "questions": [raw]}))
    assert check_paths([path]) == [] and check_paths([path.parent]) == []  # one item: a class's own bank
    # deep copies: items sharing one answers list would be written with YAML aliases, which are refused
    many = [{**copy.deepcopy(raw), "id": f"demo-item{i}", "question": f"Which drug is first line for infant {i}?"}
            for i in range(2 * len(OBJECTIVES))]
    path.write_text(yaml.safe_dump({"topic": "demo", "title": "Demo", "questions": many}))
    coverage = [p for p in check_paths([path.parent]) if p.item == "(bank)" and p.field == "objectives"]
    assert len(coverage) == 1 and "L00.1 (0)" in coverage[0].message
    assert not [p for p in check_paths([path]) if p.item == "(bank)" and p.field == "objectives"]


# ---------------------------------------------------------------- statistics and the unflagged panel


def test_stats_report_positions_shares_bloom_and_coverage():
    bank = longest_key_bank(4)
    stats = bank_stats(bank)
    assert stats["key_positions"] == {"A": 4}
    assert stats["bloom"]["apply"] == 4 and stats["coverage"]["L04.3"] == 4
    text = format_stats(stats)
    assert "Key positions (4 single-best-answer items): A 4 (100%)" in text
    assert "Key strictly the longest option: 100.0% (chance 25.0%" in text
    assert "apply or analyze 4/4 = 100%" in text and "L04.3 4" in text


def test_check_stats_prints_the_figures_for_the_shipped_bank(capsys):
    code = main(["check", "--stats"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Key positions" in out and "chance" in out and "Bloom:" in out and "L06.6" in out
    assert out.rstrip().endswith(".")  # the usual "No problems found in ..." line still closes the report


def test_an_unflagged_panel_shows_values_without_flags_ranges_or_summary(tmp_path):
    from kms_teach.questions import load_bank
    from kms_teach.quiz import Quiz

    flagged = item(["Platelets", "PT", "aPTT"], case=CaseRef("khe-onset", 28.0))
    bare = item(["Platelets", "PT", "aPTT"], case=CaseRef("khe-onset", 28.0), show_flags=False)
    assert "Flag" in panel_text(flagged) and "Reference range" in panel_text(flagged)
    text = panel_text(bare)
    assert "Flag" not in text and "Reference range" not in text and "–" not in text
    assert "Platelet" in text and "Fibrinogen" in text and "flags and ranges hidden" in text

    quiz = Quiz(bank=load_bank(), ids=["lab_interpretation-abnormal-for-age"], answers_file=str(tmp_path / "a.json"))
    assert "Laboratory results" in quiz.panel.value
    assert "Flag" not in quiz.panel.value and "Within the range for age" not in quiz.panel.value

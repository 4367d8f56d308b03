"""Lesson sources (kms_teach/lessons.py): MyST files, objective ids, one bibliography, checks, sync.

The lessons themselves are executed by nbval (pyproject's pytest options); here the machinery
that keeps their sources, citations and notebooks honest is tested, on copies in tmp_path.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from kms_teach import labs
from kms_teach.check import check_paths
from kms_teach.lessons import (FALLBACK_ITEMS, all_objectives, check_lesson, cited_short_forms, is_lesson_source, lesson_quiz,
                               main, read_lesson, references_markdown, refresh_references, short_forms, sync_lesson)
from kms_teach.questions import load_bank

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
REFERENCES = ROOT / "assets" / "references.yaml"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))

#: The shared contract with the question bank (/work/prompts/objectives.md): ids per lesson.
OBJECTIVE_COUNTS = {0: 4, 1: 5, 2: 5, 3: 5, 4: 5, 5: 4, 6: 6}


@pytest.fixture
def lesson_copy(tmp_path):
    """Lesson 00's source and executed notebook, copied so they can be edited."""
    for suffix in (".md", ".ipynb"):
        shutil.copy(NOTEBOOKS / f"00_start_here{suffix}", tmp_path / f"00_start_here{suffix}")
    return tmp_path / "00_start_here.md"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def messages(problems) -> str:
    return "\n".join(str(p) for p in problems)


# --------------------------------------------------------------------------- the lessons as shipped


def test_every_lesson_has_a_source_and_the_objective_ids_of_the_contract():
    assert [p.stem[:2] for p in SOURCES] == ["00", "01", "02", "03", "04", "05", "06"]
    for path in SOURCES:
        lesson = read_lesson(path)
        expected = [f"L{lesson.number:02d}.{k}" for k in range(1, OBJECTIVE_COUNTS[lesson.number] + 1)]
        assert [o.id for o in lesson.objectives] == expected, path.name
        assert all(len(o.text) > 20 for o in lesson.objectives), path.name
    ids = all_objectives(NOTEBOOKS)
    assert len(ids) == sum(OBJECTIVE_COUNTS.values()) and list(ids)[0] == "L00.1" and list(ids)[-1] == "L06.6"


@pytest.mark.parametrize("path", SOURCES + [NOTEBOOKS / "instructor_notes.md"], ids=lambda p: p.stem)
def test_each_lesson_passes_its_own_check(path):
    assert check_lesson(path, REFERENCES) == []


def test_kms_teach_check_covers_the_lesson_folder():
    problems = check_paths([NOTEBOOKS])
    assert problems == [], messages(problems)


def test_lesson_04_teaches_the_supportive_care_policy_once_with_its_sources():
    text = (NOTEBOOKS / "04_treatment_and_recovery.md").read_text(encoding="utf-8")
    policy = text[text.index("## 6. Supportive care"):text.index("## 7. A virtual trial")]
    for fact in ("below about 30 ×10^9/L (Ji 2020)", "5–10 mL/kg", "50–100 ×10^9/L",
                 "fibrinogen below 1.0 g/L", "definitions vary between centres", "1–2 units per 10 kg",
                 "0.6–1.0 g/L", "10–15 mL/kg raises factor levels by about 15–20%", "7–8 g/dL",
                 "(approximate)", "2–3 g/dL", "heparin may worsen bleeding", "do not treat a\nnumber",
                 "(O'Rafferty\n2015", "AccessPediatrics", "**Pain**"):
        assert fact in policy, fact


def test_warning_signs_are_written_for_infants_and_complete():
    text = (NOTEBOOKS / "01_the_tumour_and_the_patient.md").read_text(encoding="utf-8")
    signs = " ".join(text[text.index("## 7. Warning signs"):text.index("## 8. Outlook")].split())
    for sign in ("pale", "poor feeding", "lethargy", "fast breathing or a fast heartbeat", "new bruises",
                 "petechiae", "oozing", "stool", "urine", "vomit", "swelling, tense abdomen",
                 "bulging fontanelle", "seizures", "drowsiness", "rapid swelling", "noisy breathing",
                 "head, neck or chest"):
        assert sign in signs, sign
    assert "irregular heartbeat" not in signs


def test_lesson_06_rebound_numbers_are_the_validation_reports():
    """The shares lesson 06 prints are the ones docs/validation.md reports for S9 and S10."""
    report = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    notebook = nbformat.read(NOTEBOOKS / "06_the_long_course.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    for checkpoint in ("S9", "S10"):
        row = re.search(rf"^\| {checkpoint}: (.+?) \|.*?\| ([\d.]+) share \|", report, re.M)
        assert row, checkpoint
        title, share = row.group(1), float(row.group(2))
        shown = re.search(rf"{re.escape(title)}: ([\d.]+)%", printed)
        assert shown, f"lesson 06 does not print {title!r}"
        assert float(shown.group(1)) == pytest.approx(100 * share, abs=0.06)


def test_fibrinogen_lower_limit_at_three_to_six_months_is_andrews_boundary():
    for age in (90, 135, 180):
        low, _high = labs.reference_limits("fibrinogen", np.array([age]))
        assert float(np.atleast_1d(low)[0]) == pytest.approx(1.50), age
    assert labs.reference_range("fibrinogen", 90).approximate, "unverifiable limits stay marked approximate"


def test_the_lab_report_footnotes_speak_to_learners():
    import kms_teach as kt

    report = str(kt.simulate("khe-kms", days=1).lab_panel(0))
    assert "memory" not in report and "source pack" not in report
    assert "unrounded" in report


COMMITTED = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_each_notebook_carries_the_full_language_info_and_kernelspec(path):
    """JupyterLab writes the kernel's language_info into a notebook when the kernel starts and
    marks it changed unless the stored one is equal: the committed one is ipykernel's, complete."""
    metadata = nbformat.read(path, as_version=4).metadata
    assert metadata["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    info = dict(metadata["language_info"])
    assert re.fullmatch(r"3\.\d+\.\d+", info.pop("version", "")), "language_info needs the kernel's Python version"
    assert info == {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                    "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                    "pygments_lexer": "ipython3"}


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_each_notebook_stores_only_text_outputs_so_jupyter_trusts_it(path):
    """Jupyter signs a notebook on save only when the notary trusts every cell: a rich output
    (widget view, HTML, even text/plain as a result) makes it refuse. Stored outputs are text."""
    from nbformat.sign import NotebookNotary

    notebook = nbformat.read(path, as_version=4)
    assert NotebookNotary().check_cells(notebook), f"{path.name} stores a rich output; run the lesson's sync"
    kinds = {o.output_type for c in notebook.cells if c.cell_type == "code" for o in c.outputs}
    assert kinds <= {"stream"}, kinds


def test_plain_outputs_keeps_the_text_form_of_rich_results():
    import nbformat.v4 as v4

    from kms_teach.lessons import plain_outputs

    outputs = [v4.new_output("stream", name="stdout", text="a\n"),
               v4.new_output("execute_result", {"text/plain": "<Quiz: 2 question(s)>",
                                                "application/vnd.jupyter.widget-view+json": {"model_id": "x"}},
                             execution_count=1),
               v4.new_output("display_data", {"text/html": "<b>x</b>"})]
    plain = plain_outputs(outputs)
    assert [(o.output_type, o.name, o.text) for o in plain] == [("stream", "stdout", "a\n"),
                                                                ("stream", "stdout", "<Quiz: 2 question(s)>\n")]


#: Markdown that tells the learner to run cells: it reads wrong in Voila, where every cell has
#: already run and the code is hidden, unless it sits in a ``lesson-notebook-only`` element
#: (hidden by the kms Voila template).
RUN_INSTRUCTION = re.compile(
    r"\bnext cell\b|\bcells? (?:below|above)\b|shift\s*\+\s*enter|\brun all\b|restart kernel"
    r"|\bbefore (?:you )?run(?:ning)?\b"
    r"|\b(?:re-?run|run|execute)\s+(?:(?:the|this|that|each|every|all|these|a|your)\s+)?(?:(?:next|code)\s+)?cells?\b",
    re.I)
NOTEBOOK_ONLY = re.compile(r'<(div|span|p)\s+class="lesson-notebook-only">.*?</\1>', re.S)


def learner_markdown(path: Path) -> list[str]:
    """The Markdown of a lesson as Voila shows it: without its lesson-notebook-only elements."""
    return [NOTEBOOK_ONLY.sub("", cell.source) for cell in nbformat.read(path, as_version=4).cells
            if cell.cell_type == "markdown"]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_lesson_text_tells_no_one_to_run_a_cell_outside_notebook_only_elements(path):
    found = [match.group(0) for text in learner_markdown(path) for match in RUN_INSTRUCTION.finditer(text)]
    assert not found, (f"{path.name}: {found}; write for Voila too ('Below, the model ...') or put a "
                       'notebook-only sentence in <div class="lesson-notebook-only">')


def test_the_run_instruction_check_catches_the_old_wording():
    for text in ("Run the next cell first.", "Run each cell and read the story.", "Before you run the cell, predict",
                 "**Think! Before running:**", "press **Shift+Enter**", "then run the next cell to check",
                 "Run the cells from the top."):
        assert RUN_INSTRUCTION.search(text), text
    hidden = '<div class="lesson-notebook-only">\n\nRun the next cell first.\n\n</div>\n\nBelow, the model prints'
    assert not RUN_INSTRUCTION.search(NOTEBOOK_ONLY.sub("", hidden))


def test_voila_template_hides_notebook_only_text():
    template = (ROOT / "share" / "jupyter" / "voila" / "templates" / "kms" / "index.html.j2").read_text(encoding="utf-8")
    assert re.search(r"\.lesson-notebook-only\s*\{\s*display:\s*none", template)


def test_lesson_text_is_held_to_about_100_characters_in_every_front_end():
    """Voila: the kms template's CSS; JupyterLab and Notebook 7: the package's PageStyle, on every
    page with an explorer or a quiz. The browser tests measure the lines at 1920 px."""
    from kms_teach.widgets import PageStyle

    template = (ROOT / "share" / "jupyter" / "voila" / "templates" / "kms" / "index.html.j2").read_text(encoding="utf-8")
    for css in (template, PageStyle._css):
        rule = re.search(r"(\.jp-MarkdownOutput p,[^{]*)\{\s*max-width:\s*(\d+)ch", css)
        assert rule and int(rule.group(2)) <= 80, "a max-width in ch for the Markdown text blocks"
        assert all(f".jp-MarkdownOutput {tag}" in rule.group(1) for tag in ("li", "blockquote", "summary", "h2"))
        assert ".jp-OutputArea" not in rule.group(1), "widgets and figures keep their own width"


#: A Markdown link or image target: [text](target) or ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)")


@pytest.mark.parametrize("path", SOURCES + [NOTEBOOKS / "instructor_notes.md"], ids=lambda p: p.stem)
def test_links_work_in_voila_and_in_a_server_started_in_the_notebooks_folder(path):
    """Voila (kms-teach voila) and `jupyter lab notebooks/` serve only the notebooks folder: a
    link is absolute (https), an anchor in the page, or a file inside that folder."""
    text = "\n".join(cell.source for cell in read_lesson(path).notebook.cells if cell.cell_type == "markdown")
    for target in LINK.findall(text):
        if re.match(r"(https?|mailto):", target) or target.startswith("#"):
            continue
        assert not target.startswith(("/", "..")) and "://" not in target, f"{path.name}: link to {target!r}"
        assert (NOTEBOOKS / target.split("#")[0]).resolve().is_relative_to(NOTEBOOKS.resolve())
        assert (NOTEBOOKS / target.split("#")[0]).is_file(), f"{path.name}: link to a missing file {target!r}"


def test_the_link_check_refuses_a_path_out_of_the_notebooks_folder():
    assert LINK.findall("is [docs/educator-guide.md](../docs/educator-guide.md), see [S](#sec) and ![x](f.png)") == [
        "../docs/educator-guide.md", "#sec", "f.png"]


# --------------------------------------------------------------------------- one bibliography


def test_each_short_form_names_exactly_one_entry_and_no_key_was_lost():
    entries = yaml.safe_load(REFERENCES.read_text(encoding="utf-8"))
    shorts = [e["short"] for e in entries if "short" in e]
    assert len(shorts) == len(set(shorts))
    keys = {e["key"] for e in entries}
    assert {"andrew1987", "ji2020", "ji2022", "ijc2023", "orafferty2015", "accesspediatrics"} <= keys
    assert short_forms(REFERENCES)["Ji 2022"]["key"] == "ji2022"


def test_short_forms_are_found_as_whole_phrases_even_across_a_line_break():
    shorts = short_forms(REFERENCES)
    text = "as shown (Ji\n2022; O'Rafferty 2015), unlike Ji 20221 or xJi 2020"
    assert cited_short_forms(text, shorts) == ["Ji 2022", "O'Rafferty 2015"]


def test_the_reference_list_is_generated_in_alphabetical_order():
    text = references_markdown("(Toulon 2016) and (Andrew 1987; Léauté-Labrèze 2015)", REFERENCES)
    lines = text.splitlines()
    assert lines[0] == "## References"
    assert [line[2:8] for line in lines[2:]] == ["Andrew", "Léauté", "Toulon"]


# --------------------------------------------------------------------------- the checks fail when they should


def test_a_clean_copy_passes(lesson_copy):
    assert check_lesson(lesson_copy, REFERENCES) == []


@pytest.mark.parametrize("old, new, expected", [
    ("print(kt.NOTICE)", "def helper():\n    return 1\n\nprint(kt.NOTICE)", "defines a function"),
    ("print(kt.NOTICE)", "import numpy\nprint(kt.NOTICE)", "imports 'numpy'"),
    ("such as (Croteau 2013).", "such as (Smith 2019).", "'Smith 2019' names no short form"),
    ("in the blood (O'Rafferty 2015; Ji 2020).", "in the blood (reference pack §3.1).", "is not a source for learners"),
    ("- id: L00.4", "- id: L00.5", "expected L00.4"),
    ("**Name** the keys", "**Press** the keys", "must state this objective"),
    ("## Key points", "## Summary", "Key points"),
    ("about 15 minutes", "a quarter of an hour", "about N minutes"),
])
def test_a_broken_lesson_gives_one_clear_line(lesson_copy, old, new, expected):
    edit(lesson_copy, old, new)
    problems = check_lesson(lesson_copy, REFERENCES)
    assert problems, "the check should fail"
    assert expected in messages(problems)
    assert all(str(p).startswith(str(lesson_copy)) for p in problems)


def test_an_edited_source_is_out_of_sync_until_synced(lesson_copy):
    edit(lesson_copy, "## How the lessons work", "## How these lessons work")
    assert "out of sync" in messages(check_lesson(lesson_copy, REFERENCES))


def test_a_new_citation_needs_a_refreshed_reference_list(lesson_copy):
    edit(lesson_copy, "such as (Croteau 2013).", "such as (Croteau 2013; Adams 2016).")
    assert "reference list does not match" in messages(check_lesson(lesson_copy, REFERENCES))
    assert refresh_references(lesson_copy, REFERENCES)
    assert "Adams DM" in lesson_copy.read_text(encoding="utf-8")
    assert not refresh_references(lesson_copy, REFERENCES), "a second refresh changes nothing"


def test_sync_writes_and_executes_the_paired_notebook(tmp_path):
    source = tmp_path / "09_tiny.md"
    text = (NOTEBOOKS / "00_start_here.md").read_text(encoding="utf-8")
    front = text[:text.index("\n---\n") + 5]
    source.write_text(front + "\n# Tiny\n\n```{code-cell}\nimport kms_teach as kt\n\nprint(kt.NOTICE)\n```\n",
                      encoding="utf-8")
    written = sync_lesson(source)
    notebook = nbformat.read(written, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code[0].execution_count == 1 and "not for clinical decisions" in code[0].outputs[0]["text"].lower()
    assert notebook.cells[-1].source.startswith("## References")
    assert "kms_teach" in source.read_text(encoding="utf-8"), "the front matter keeps the lesson metadata"
    problems = check_lesson(source, REFERENCES)
    assert "out of sync" not in messages(problems) and "not executed" not in messages(problems)


def test_check_paths_classifies_only_paired_markdown_as_lessons(tmp_path, lesson_copy):
    (lesson_copy.parent / "README.md").write_text("# Notes\n\n(Smith 2019)\n", encoding="utf-8")
    assert is_lesson_source(lesson_copy) and not is_lesson_source(lesson_copy.parent / "README.md")
    edit(lesson_copy, "such as (Croteau 2013).", "such as (Smith 2019).")
    problems = check_paths([lesson_copy.parent])
    assert [p for p in problems if "Smith 2019" in str(p)]
    assert not [p for p in problems if "README" in str(p)]


def test_the_command_line_names_a_bad_path_in_one_line(tmp_path, capsys):
    assert main(["sync", str(tmp_path / "missing.md")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.md" in err[0] and "not a lesson source" in err[0]
    assert main([]) == 2


# --------------------------------------------------------------------------- the lesson quiz


def test_lesson_quiz_uses_tagged_items_then_falls_back():
    bank = load_bank()
    assert len(lesson_quiz(4, bank=bank)._pool) == len(bank.select(lesson=4))
    quiz = lesson_quiz(6, bank=bank)
    tagged = bank.select(lesson=6)
    if tagged:
        assert len(quiz._pool) == len(tagged)
    else:
        assert {q.id for q in quiz._pool} == {i for i in FALLBACK_ITEMS[6] if i in {q.id for q in bank}}
    with pytest.raises(ValueError, match="lesson 9"):
        lesson_quiz(9, bank=bank)


def test_a_lesson_front_matter_with_an_alias_bomb_is_refused_in_one_line(tmp_path):
    from kms_teach.lessons import read_lesson

    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
    path = tmp_path / "07_bomb.md"
    path.write_text(f"---\njupytext:\n  formats: ipynb,md:myst\n{bomb}---\n\n# Lesson\n", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        read_lesson(path)
    assert "\n" not in str(caught.value) and "07_bomb.md" in str(caught.value)

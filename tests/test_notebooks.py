"""Lesson notebooks: thin, complete anatomy, committed in the executed state nbval checks."""

import json
import pathlib
import re

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["00_start_here", "01_the_tumour_and_the_patient", "02_platelet_trapping",
            "03_consuming_clotting_factors", "04_treatment_and_recovery", "05_review", "06_the_long_course"]
LESSONS = [p for p in NOTEBOOKS if p.stem != "05_review"]


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def cells(path, kind):
    return [c for c in load(path)["cells"] if c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"])


def test_the_lessons_and_the_review_exist_in_order():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_thin(path):
    for cell in cells(path, "code"):
        text = source(cell)
        assert not re.search(r"^\s*(def|class)\s", text, re.M), text
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", text, re.M)
        assert all(name.split(".")[0] == "kms_teach" for name in imports), imports


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_anatomy(path):
    markdown = [source(c) for c in cells(path, "markdown")]
    first = markdown[0].lower()
    assert "not for clinical decisions" in first
    assert "objective" in first and re.search(r"\d+\s*min", first)
    joined = "\n".join(markdown)
    assert "Key points" in joined
    assert "## References" in joined



@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_each_lesson_ends_with_its_own_quiz(path):
    heading = [c for c in cells(path, "markdown") if "quiz" in c.get("metadata", {}).get("tags", [])]
    assert len(heading) == 1 and source(heading[0]).startswith("## Quiz")
    lesson = int(path.stem[:2])
    calls = [source(c) for c in cells(path, "code") if "Quiz(" in source(c) or "lesson_quiz(" in source(c)]
    # lesson_quiz(N) is Quiz(lesson=N) that still works while no item is tagged for a new lesson.
    assert len(calls) == 1 and (f"Quiz(lesson={lesson}," in calls[0] or f"lesson_quiz({lesson}," in calls[0])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_executed_without_errors(path):
    code = cells(path, "code")
    assert code
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "commit the executed notebook so nbval compares outputs"
    assert counts == list(range(1, len(counts) + 1)), "run top to bottom after a kernel restart"
    for cell in code:
        assert all(o.get("output_type") != "error" for o in cell.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_has_its_markdown_source_in_sync(path):
    from kms_teach.lessons import check_lesson

    source_file = path.with_suffix(".md")
    assert source_file.is_file(), f"{path.name} has no MyST source {source_file.name}"
    assert check_lesson(source_file) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_learner_text_cites_no_internal_source(path):
    text = "\n".join(source(c) for c in load(path)["cells"]).lower()
    for phrase in ("reference pack", "source pack", "docs/model.md", "from memory", "registration", "regionalderm"):
        assert phrase not in text, f"{path.name} cites {phrase!r}"
    assert "kms" not in re.sub(r"khe-kms|ta-kms|kms_teach|kms-teach|\(kms\)", "", text), f"{path.name}: use KMP"

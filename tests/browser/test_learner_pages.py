"""Learner experience in Voila, in Chromium: honest predictions, first-attempt scores, schematic pictures.

One Voila (127.0.0.1, its own port) serves a temporary folder holding one page that uses the new
APIs the lessons will switch to: a prediction by id, a two-item quiz and the schematic explorer.
The tests check that:

- the prediction's answer and explanation are nowhere in the page before *Reveal*; a wrong choice
  is judged "Not right." before the explanation appears, and the choice is then locked;
- a quiz item answered wrong and then right scores 0 (the second answer is shown as practice);
- the blood film and lesion pictures are drawn, described by alt text, and follow the day slider.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import PAGE_TIMEOUT_MS, SCREENSHOTS, VOILA_FLAGS, open_page, start_server

NOTEBOOK = "learner-demo.ipynb"
WIDGETS_JS = "() => document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length"


def quiz_item_ids() -> list[str]:
    """Two single-best-answer items of the installed bank without a case panel (first in bank order)."""
    from kms_teach import load_bank

    items = [q for q in load_bank().questions if q.type == "multiple_choice" and q.case is None]
    return [q.id for q in items[:2]]


def write_notebook(path: Path, ids: list[str]) -> None:
    cells = [
        "from kms_teach import widgets\nfrom kms_teach.quiz import Quiz",
        'widgets.PredictReveal("activity-doubles")',
        f'Quiz(ids={ids!r}, shuffle=False, title="First attempts")',
        'widgets.SchematicExplorer("khe-kms", ["sirolimus@0", "prednisolone@0"], days=84)',
    ]
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{n}", "metadata": {},
                           "outputs": [], "source": source} for n, source in enumerate(cells)],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")


@pytest.fixture(scope="module")
def learner_page(browser, jupyter_env, tmp_path_factory):
    """The demo page, loaded once in Voila (one server for the module, stopped by its handle)."""
    root = tmp_path_factory.mktemp("learner-root")
    ids = quiz_item_ids()
    write_notebook(root / NOTEBOOK, ids)
    log = tmp_path_factory.mktemp("logs") / "voila-learner.log"

    def argv(port):
        return [sys.executable, "-m", "voila", str(root), f"--port={port}", "--template=kms", *VOILA_FLAGS]

    server, base = start_server("Voila (learner)", argv, cwd=root, env=jupyter_env, ready_path="/", log_path=log)
    page, recorder = open_page(browser)
    try:
        page.goto(f"{base}/voila/render/{NOTEBOOK}", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(f"() => ({WIDGETS_JS})() >= 3", timeout=PAGE_TIMEOUT_MS, polling=100)
        yield page, recorder, ids
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "voila-learner-demo.png"), full_page=True)
    finally:
        page.context.close()
        server.stop()


def wait_text(page, text: str) -> None:
    page.wait_for_function("(t) => document.body.innerText.includes(t)", arg=text, timeout=20_000)


def test_prediction_is_judged_before_the_explanation_and_was_not_on_the_page(learner_page):
    from kms_teach.predictions import prediction

    page, recorder, _ids = learner_page
    p = prediction("activity-doubles")
    html_before = page.content()
    assert p.question[:30].replace("'", "&#x27;") in html_before or p.question[:30] in page.inner_text("body")
    assert p.explanation[:50] not in html_before and "Harker 1977" not in html_before
    wrong = next(text for i, text in enumerate(p.options) if i != p.answer)
    page.get_by_label(wrong).check()
    page.get_by_role("button", name="Reveal").click()
    wait_text(page, "Not right.")
    text = page.inner_text("body")
    assert text.index("Not right.") < text.index(p.explanation[:50])
    assert p.answer_text in text and "Harker 1977" in text
    assert page.get_by_label(p.answer_text).is_disabled()  # the prediction is locked once revealed
    assert page.get_by_role("button", name="Reveal").is_disabled()
    assert recorder.errors() == [] and recorder.external == []


def test_only_the_first_attempt_at_a_quiz_item_scores(learner_page):
    from kms_teach import load_bank

    page, _recorder, ids = learner_page
    item = load_bank().select(ids=ids[:1])[0]
    right = next(i for i, o in enumerate(item.options) if o.correct)
    wrong = next(i for i, o in enumerate(item.options) if not o.correct)
    def option(index):  # not shuffled: option i is shown as letter i ("A. ...")
        return page.get_by_role("radio", name=re.compile(rf"^{'ABCDEFGH'[index]}\. "))

    check = page.get_by_role("button", name="Check answer")
    option(wrong).check()
    check.click()
    wait_text(page, "Score (first attempts only): 0 of 1 answered")
    option(right).check()
    check.click()
    wait_text(page, "Practice attempt: not scored")
    text = page.inner_text("body")
    assert "Correct." in text and "Score (first attempts only): 0 of 1 answered" in text
    assert "1 practice attempt" in text


def test_schematic_pictures_are_drawn_described_and_follow_the_day(learner_page):
    page, _recorder, _ids = learner_page
    film = page.locator('img[alt^="Schematic blood film"]')
    lesion = page.locator('img[alt^="Schematic lesion"]')
    assert film.count() == 1 and lesion.count() == 1
    for image in (film, lesion):
        assert image.evaluate("i => i.complete && i.naturalWidth > 200")
    assert "day 0:" in film.get_attribute("alt") and "deep purple" in lesion.get_attribute("alt")
    before = lesion.get_attribute("src")
    slider = page.locator(".kms-slider", has_text="Day").last.locator("input[type=range]")
    slider.focus()
    page.keyboard.press("End")  # the last day: the tumour has shrunk on treatment
    page.wait_for_function("() => { const i = document.querySelector('img[alt^=\"Schematic lesion\"]');"
                           " return i && i.alt.includes('day 84'); }", timeout=20_000)
    assert lesion.get_attribute("src") != before
    assert "day 84" in film.get_attribute("alt")
    assert "schematic" in page.inner_text("body").lower()

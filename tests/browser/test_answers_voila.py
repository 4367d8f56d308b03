"""Answers in Voila, in Chromium: saved by download, loaded by upload, never a server path, never shared.

One Voila (127.0.0.1, its own port) serves a temporary folder holding one page with two practice
quizzes that share an answers file, as lesson 05 does. Two learners (two browser contexts) use it
at the same time. The test checks that:

- no control on the page takes a path (no text box in the answers controls; one file input each);
- *Save answers* arrives as a browser download (Playwright's download event), made in memory;
- each learner's download holds only their own answers, and uploading a file restores the answers
  of every quiz on the page;
- a file named like a server path is read as uploaded bytes only, and the message says nothing
  about the server;
- the server's notebook folder (Voila's working folder, the kernels' working folder) gains no file.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import (
    PAGE_TIMEOUT_MS,
    SCREENSHOTS,
    VOILA_FLAGS,
    open_page,
    start_server,
)

NOTEBOOK = "answers-demo.ipynb"
QUIZ_A = ("differential-venous-malformation-lic", "differential-lic-versus-kmp")
QUIZ_B = ("lab_interpretation-platelet-units", "lab_interpretation-d-dimer-newborn")
CELLS = [
    "from kms_teach.quiz import Quiz",
    f'Quiz(ids={list(QUIZ_A)!r}, shuffle=False, title="Practice A")',
    f'Quiz(ids={list(QUIZ_B)!r}, shuffle=False, title="Practice B")',
]
QUIZZES_JS = "() => document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets .kms-answers').length"


def write_notebook(path: Path) -> None:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"cell-{n}", "metadata": {}, "outputs": [],
              "source": source} for n, source in enumerate(CELLS)]
    notebook = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")


def snapshot(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` (relative name -> size)."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def answers_voila(jupyter_env, tmp_path_factory):
    """Voila serving a folder with only the demo page; the folder is also Voila's working folder."""
    root = tmp_path_factory.mktemp("answers-root")
    write_notebook(root / NOTEBOOK)
    log = tmp_path_factory.mktemp("logs") / "voila-answers.log"

    def argv(port):
        return [sys.executable, "-m", "voila", str(root), f"--port={port}", "--template=kms", *VOILA_FLAGS]

    server, base = start_server("Voila (answers)", argv, cwd=root, env=jupyter_env, ready_path="/", log_path=log)
    server.base_url, server.root = base, root
    yield server
    server.stop()


def open_learner(browser, server):
    page, recorder = open_page(browser)
    page.goto(f"{server.base_url}/voila/render/{NOTEBOOK}", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_function(f"() => ({QUIZZES_JS})() >= 2", timeout=PAGE_TIMEOUT_MS, polling=100)
    return page, recorder


def quiz(page, title: str):
    return page.locator(".jp-OutputArea-output > .jupyter-widgets").filter(has_text=title).filter(
        has=page.locator(".kms-answers"))


def answer_first_item(page, title: str) -> None:
    """Choose the first option of the quiz's first item and check it; wait until the link holds it."""
    box = quiz(page, title)
    link = box.locator("a.kms-answers-download")
    before = link.get_attribute("href")
    box.locator("input[type=radio]").first.check()
    box.get_by_role("button", name="Check answer").click()
    deadline = time.monotonic() + 20  # the link is redrawn by the kernel after the check
    while link.get_attribute("href") == before:
        assert time.monotonic() < deadline, "the Save answers link never took the new answer"
        page.wait_for_timeout(100)


def download(page, title: str, folder: Path, name: str) -> dict:
    """Press the quiz's *Save answers* and return the downloaded file's JSON (saved under ``folder``)."""
    with page.expect_download(timeout=20_000) as info:
        quiz(page, title).get_by_role("link", name="Save answers").click()
    arrived = info.value
    assert arrived.suggested_filename == "answers-practice.json"
    target = folder / name
    arrived.save_as(target)
    return json.loads(target.read_text(encoding="utf-8"))


def upload(page, title: str, files) -> None:
    """Press the quiz's *Load answers* and choose ``files`` in the browser's file chooser."""
    with page.expect_file_chooser(timeout=20_000) as chooser:
        quiz(page, title).locator(".widget-upload").click()
    chooser.value.set_files(files)


def answered(data: dict) -> dict[str, set[str]]:
    return {quiz_id: set(entry["items"]) for quiz_id, entry in data["quizzes"].items() if entry["items"]}


def test_voila_answers_are_downloads_and_uploads_per_learner_and_never_touch_the_server(
        browser, answers_voila, tmp_path):
    server_files = snapshot(answers_voila.root)
    ana, ana_log = open_learner(browser, answers_voila)
    ben, ben_log = open_learner(browser, answers_voila)
    try:
        for page in (ana, ben):  # nothing takes a path: no text box, one upload per quiz
            assert page.locator(".kms-answers input[type=text], .kms-answers textarea").count() == 0
            assert page.locator(".kms-answers .widget-upload").count() == 2  # ipywidgets' FileUpload button

        # learner 1 answers one item of each quiz and saves: a browser download, never a server file
        answer_first_item(ana, "Practice A")
        answer_first_item(ana, "Practice B")
        ana_file = download(ana, "Practice A", tmp_path, "ana.json")
        assert answered(ana_file) == {"practice-a": {QUIZ_A[0]}, "practice-b": {QUIZ_B[0]}}
        first = ana_file["quizzes"]["practice-a"]["items"][QUIZ_A[0]]["first_attempt"]
        assert first["response"] == 0 and first["time"].endswith("Z")

        # learner 2, on the same server at the same time, holds nothing of learner 1's
        assert answered(download(ben, "Practice B", tmp_path, "ben-before.json")) == {}

        # learner 2 uploads learner 1's file (say, their own from yesterday): both quizzes restored
        upload(ben, "Practice A", str(tmp_path / "ana.json"))
        quiz(ben, "Practice A").get_by_text("Loaded ana.json").wait_for()
        for title in ("Practice A", "Practice B"):  # the first option of each first item is chosen again
            expect(quiz(ben, title).locator("input[type=radio]").first).to_be_checked()
        assert answered(download(ben, "Practice B", tmp_path, "ben-after.json")) == answered(ana_file)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        quiz(ben, "Practice A").screenshot(path=str(SCREENSHOTS / "voila-answers-loaded.png"))

        # a file named like a server path is only bytes from the browser; the answer says nothing of the server
        upload(ben, "Practice B", {"name": "passwd", "mimeType": "application/json",
                                   "buffer": b"root:x:0:0:root:/root:/bin/sh\n"})
        status = quiz(ben, "Practice B").locator(".kms-answers [role=status]")
        status.get_by_text("Not loaded.").wait_for()
        assert status.inner_text().strip() == "Not loaded. passwd: not valid JSON (line 1)"

        # and learner 1's page still holds only learner 1's answers
        assert answered(download(ana, "Practice B", tmp_path, "ana-again.json")) == answered(ana_file)
        for recorder in (ana_log, ben_log):
            assert recorder.errors() == []
    finally:
        for page in (ana, ben):
            page.context.close()
    assert snapshot(answers_voila.root) == server_files  # no file created, none changed

"""A lesson opened in Notebook 7, run from the top and worked with the keyboard, in Chromium.

Notebook 7 reads keys on the whole page before they reach a control (capture phase), unlike
JupyterLab, so a control that only stops its keys from bubbling still loses them here. Same
checks as in JupyterLab (see test_jupyterlab.py) on the lesson with the most controls.
"""

from __future__ import annotations

from conftest import check_lesson_by_keyboard

NOTEBOOK = "02_platelet_trapping.ipynb"


def test_lesson_runs_and_works_by_keyboard_in_notebook7(notebook7_server, browser, screenshots):
    explorers = check_lesson_by_keyboard("notebook", notebook7_server, browser, screenshots, NOTEBOOK)
    assert explorers >= 1, "the lesson checked in Notebook 7 must have a slider"

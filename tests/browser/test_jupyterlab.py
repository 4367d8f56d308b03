"""Every lesson opened in JupyterLab 4, run from the top and worked with the keyboard, in Chromium.

One JupyterLab server for this module serves a copy of the lessons (nothing is ever saved
into the repository) on 127.0.0.1 with a token; the news toast is disabled and every cell is
kept in the page (windowing off) through settings in the temporary Jupyter config folder.

In each lesson: Run All gives no error output, no traceback and no browser error; the day
slider of every explorer moves with ArrowRight, End, Home and PageUp while keeping the focus
(JupyterLab's notebook shortcuts must not take these keys), and the figure and the written
summary follow; the first quiz is answered with Space, the arrow keys and Enter, and its
feedback appears. Each lesson's kernel is shut down before the next one opens.
"""

from __future__ import annotations

import pytest

from conftest import LESSONS, check_lesson_by_keyboard


@pytest.mark.parametrize("notebook", LESSONS)
def test_lesson_runs_and_works_by_keyboard_in_jupyterlab(jupyterlab_server, browser, screenshots, notebook):
    check_lesson_by_keyboard("jupyterlab", jupyterlab_server, browser, screenshots, notebook)

"""One lesson opened in JupyterLab and run from the top, in Chromium, with no error output.

JupyterLab serves a copy of the lessons (so nothing is ever saved into the repository) on
127.0.0.1 with a token; the news toast is disabled and every cell is kept in the page
(windowing off) through settings in the temporary Jupyter config folder.
"""

from __future__ import annotations

import re

from conftest import (
    ERROR_OUTPUTS,
    ERROR_TEXT,
    PAGE_TIMEOUT_MS,
    code_cells,
    expected_widget_views,
    open_page,
)

NOTEBOOK = "02_platelet_trapping.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

#: JavaScript: every code cell of the open notebook has run (an execution count, no "*").
ALL_RUN_JS = """([panel, cells]) => {
  const prompts = [...document.querySelectorAll(panel + ' .jp-CodeCell .jp-InputPrompt')]
      .map(p => p.textContent.trim());
  return prompts.length === cells && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""


def test_lesson_runs_all_cells_in_jupyterlab_without_errors(jupyterlab_server, browser, screenshots):
    page, recorder = open_page(browser)
    try:
        page.goto(f"{jupyterlab_server.base_url}/lab/tree/{NOTEBOOK}?reset&token={jupyterlab_server.token}",
                  timeout=PAGE_TIMEOUT_MS)
        panel = page.locator(PANEL)
        panel.locator(".jp-CodeCell").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        # the kernel is up before Run All: the toolbar names it and its indicator reads idle
        # (before the kernel starts the indicator also says idle, beside "No Kernel")
        page.wait_for_function("""(panel) => {
            const name = document.querySelector(panel + ' .jp-KernelName');
            const state = document.querySelector(panel + ' .jp-Notebook-ExecutionIndicator');
            return name && state && name.textContent.trim() !== 'No Kernel' && state.dataset.status === 'idle';
          }""", arg=PANEL, timeout=PAGE_TIMEOUT_MS, polling=100)

        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

        cells = len(code_cells(NOTEBOOK))
        try:
            page.wait_for_function(ALL_RUN_JS, arg=[PANEL, cells], timeout=PAGE_TIMEOUT_MS, polling=250)
        except Exception as exc:
            page.screenshot(path=str(screenshots / f"jupyterlab-{NOTEBOOK[:-6]}-timeout.png"))
            prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            raise AssertionError(f"Run All did not finish within {PAGE_TIMEOUT_MS / 1000:.0f} s; prompts: "
                                 f"{prompts}; browser errors: {recorder.errors()}") from exc
        # every widget drawn, the explorer's figure among them
        top_level = f"{PANEL} .jp-Cell-outputArea .jp-OutputArea-output > .jupyter-widgets"
        page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n",
                               arg=[top_level, expected_widget_views(NOTEBOOK)], timeout=PAGE_TIMEOUT_MS)
        figure = page.locator(f"{top_level} .widget-html img").first
        figure.wait_for(timeout=PAGE_TIMEOUT_MS)
        figure.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"jupyterlab-{NOTEBOOK[:-6]}.png"))

        errors = panel.locator(ERROR_OUTPUTS)
        assert errors.count() == 0, ("error output in JupyterLab:\n"
                                     + "\n---\n".join(errors.all_inner_texts())[:3000])
        text = panel.locator(".jp-Notebook").inner_text()
        assert not ERROR_TEXT.search(text), "traceback text in the notebook"
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        numbers = [int(re.sub(r"\D", "", p)) for p in prompts]
        assert numbers == list(range(1, cells + 1)), f"cells ran out of order or twice: {prompts}"
        assert recorder.errors() == [], "browser console errors in JupyterLab"
    finally:
        page.context.close()

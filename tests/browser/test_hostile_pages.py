"""Hostile content in Chromium: no script runs in Voila, in the HTML handout or in the jupyterquiz page.

Every payload in tests/data/hostile_strings.txt that could run sets ``window.__kms_pwned``. Many
strings go on one page (the whole corpus per page), not one page per string:

- Voila (started and stopped by this module on 127.0.0.1, serving one generated notebook): one
  quiz holding every string in every field (answered in the kernel, so the feedback is on
  screen), stepped through item by item, plus the branching case with every string, driven to
  its debrief. MathJax is Voila's own.
- The HTML handout and its answer key, opened as file:// pages.
- The jupyterquiz export shown by the real jupyterquiz package (its ``display_quiz`` output in a
  page), with every option clicked and every numeric answer entered so every feedback is shown.

On each page, after every step: the flag is unset, no element has an ``on*`` attribute, no
``href``/``src`` has a scheme other than http, https or mailto (or the project's own
``data:image/png`` figures), and no ``<script>`` sits inside the content. Every element also
receives mouse-over, pointer and focus events, so handlers would fire if any had survived. A
control payload (outside the content) proves each page would have run script.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path

import nbformat
import pytest

from conftest import (
    ACTION_TIMEOUT_MS,
    PAGE_TIMEOUT_MS,
    VIEWPORT,
    ROOT,
    VOILA_FLAGS,
    open_page,
    start_server,
)

HOSTILE_CORPUS = ROOT / "tests" / "hostile_corpus.py"
ITEM_TIMEOUT_MS = 20_000

_spec = importlib.util.spec_from_file_location("hostile_corpus", HOSTILE_CORPUS)
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

#: JavaScript: what in ``root`` could run script; also fires mouse, pointer and focus events on
#: every element so that a surviving handler would run. Returns a list of findings.
AUDIT_JS = r"""([selector, allowOwnFigures]) => {
  const found = [];
  const allowed = /^(https?|mailto):/i;
  const roots = [...document.querySelectorAll(selector)];
  for (const root of roots) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'object', 'embed', 'frame', 'base', 'meta', 'link'].includes(tag)) {
        found.push('<' + tag + '> element');
      }
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        if (name.startsWith('on')) found.push(name + ' attribute on <' + tag + '>');
        if (['href', 'src', 'xlink:href', 'action', 'formaction', 'srcdoc', 'data'].includes(name)) {
          const url = attr.value.replace(/[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/g, '');
          // the project's own figures, and the base64 JSON answers file that *Save answers* offers in Voila
          const own = allowOwnFigures && ((tag === 'img' && name === 'src' && url.startsWith('data:image/png;base64,'))
            || (tag === 'a' && name === 'href' && /^data:application\/json;base64,[A-Za-z0-9+\/=]*$/.test(url)
                && el.hasAttribute('download')));
          if (!own && !allowed.test(url)) found.push(name + '="' + attr.value.slice(0, 60) + '" on <' + tag + '>');
        }
      }
      for (const type of ['mouseover', 'mouseenter', 'pointerover', 'pointerenter', 'focus', 'focusin']) {
        try { el.dispatchEvent(new Event(type, {bubbles: false})); } catch (e) { /* keep going */ }
      }
    }
  }
  return {found, elements: roots.length};
}"""

#: JavaScript: click the "Next question" button of every hostile quiz that has one enabled.
CLICK_NEXT_JS = """() => [...document.querySelectorAll('.kms-hostile-quiz button')]
  .filter(b => b.textContent.trim() === 'Next question' && !b.disabled).forEach(b => b.click())"""
#: JavaScript: resolves once the content under a selector has not changed for 150 ms (at most 5 s).
STABLE_JS = """(selector) => new Promise(resolve => {
  const size = () => [...document.querySelectorAll(selector)].map(e => e.innerHTML.length).join(',');
  let last = size(), since = Date.now();
  const started = Date.now();
  const timer = setInterval(() => {
    const now = size();
    if (now !== last) { last = now; since = Date.now(); }
    if (Date.now() - since >= 150 || Date.now() - started > 5000) { clearInterval(timer); resolve(); }
  }, 50);
})"""
PWNED_JS = "() => window.__kms_pwned === undefined ? null : String(window.__kms_pwned)"
CONTROL_JS = "() => window.__kms_control === 1"


def _audit(page, selector: str, *, own_figures: bool = False) -> list[str]:
    result = page.evaluate(AUDIT_JS, [selector, own_figures])
    assert result["elements"], f"nothing matched {selector}: the page did not render"
    return result["found"]


def open_file_page(browser):
    """A page for file:// documents: every network request is blocked (conftest's open_page blocks
    file:// too). Returns the page and its list of uncaught errors."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.route(re.compile(r"^(https?|wss?|ftp)://"), lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def _settle(page, seconds: float = 1.0) -> None:
    """Give error/load events, MathJax and timers time to run (bounded)."""
    page.wait_for_timeout(int(seconds * 1000))


# ----------------------------------------------------------------------------- Voila


NOTEBOOK_CODE = [
    # the control: not content, written here to prove that handlers run on this page
    "from IPython.display import HTML\nHTML('<img src=\"x\" alt=\"\" onerror=\"window.__kms_control=1\">')",
    """import importlib.util
spec = importlib.util.spec_from_file_location("hostile_corpus", {CORPUS_PATH!r})
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)
from kms_teach.questions import Bank
from kms_teach.quiz import Quiz
import ipywidgets
strings = corpus.load()
items = corpus.hostile_questions(strings)
quizzes = []
for k in range({QUIZZES}):  # side by side, so that the browser steps through them together
    quiz = Quiz(bank=Bank(questions=tuple(items[k::{QUIZZES}]), titles={{"hostile": strings[k]}}), shuffle=False,
                title=strings[k + 1])
    for position, q in enumerate(quiz.questions):
        quiz.go(position)
        quiz.answer(list(range(len(q.options))) if q.type == "many_choice" else "4")
        quiz.check()
    quiz.go(0)
    quiz.widget.add_class("kms-hostile-quiz")
    quizzes.append(quiz.widget)
ipywidgets.VBox(quizzes)""",
    """from kms_teach import workup_widget
from kms_teach.workup import load_workup
import ipywidgets
base = load_workup()
views = []
for n, group in enumerate(corpus.chunks(strings, corpus.workup_slots(base))):
    hostile = corpus.hostile_workup(base, group)
    workup_widget.load_workup = lambda _name, hostile=hostile: hostile
    view = workup_widget.CaseWorkup("hostile")
    corpus.drive_workup(view, n)
    views.append(view.widget)
ipywidgets.VBox(views).add_class("kms-hostile-workups")""",
]

#: Quizzes shown side by side on the page (the items are dealt round-robin between them).
QUIZZES = 6


@pytest.fixture(scope="module")
def hostile_voila(jupyter_env, tmp_path_factory):
    """Voila on 127.0.0.1 serving one generated notebook of hostile content; stopped by its handle."""
    folder = tmp_path_factory.mktemp("hostile-notebooks")
    cells = [code.replace("{CORPUS_PATH!r}", repr(str(HOSTILE_CORPUS))).replace("{QUIZZES}", str(QUIZZES))
             .replace("{{", "{").replace("}}", "}") for code in NOTEBOOK_CODE]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in cells])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                       "name": "python3"}
    nbformat.write(notebook, folder / "hostile.ipynb")
    log = tmp_path_factory.mktemp("logs") / "voila-hostile.log"

    def argv(port):
        import sys

        return [sys.executable, "-m", "voila", str(folder), f"--port={port}", "--template=kms", *VOILA_FLAGS]

    server, base = start_server("Voila (hostile content)", argv, cwd=folder, env=jupyter_env, ready_path="/",
                                log_path=log)
    server.base_url = base
    yield server
    server.stop()



def test_no_script_runs_in_voila_from_hundreds_of_hostile_items(browser, hostile_voila):
    started = time.monotonic()
    page, recorder = open_page(browser)
    try:
        page.goto(f"{hostile_voila.base_url}/voila/render/hostile.ipynb", timeout=PAGE_TIMEOUT_MS)
        try:
            page.wait_for_function(
                f"() => document.querySelectorAll('.kms-hostile-quiz').length === {QUIZZES} && "
                "document.querySelector('.kms-hostile-workups') !== null",
                timeout=PAGE_TIMEOUT_MS * 2, polling=200)
        except Exception as exc:
            text = page.locator("body").inner_text()[-1500:]
            raise AssertionError(f"the hostile page did not finish: page errors {recorder.errors()[:5]}; "
                                 f"page text ends:\n{text}\nserver log:\n{hostile_voila.log_tail()}") from exc
        loaded = time.monotonic() - started
        _settle(page, 2.0)
        assert page.evaluate(CONTROL_JS), "the control handler did not run: this page would not show a payload"
        items = len(corpus.hostile_questions(corpus.load()))
        lengths = [len(range(k, items, QUIZZES)) for k in range(QUIZZES)]
        rounds = max(lengths)
        typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        found = _audit(page, ".jp-OutputArea-output > .jupyter-widgets", own_figures=True)  # everything, once
        next_buttons = page.locator(".kms-hostile-quiz").get_by_role("button", name="Next question")
        assert next_buttons.count() == QUIZZES
        for shown in range(2, rounds + 1):
            page.evaluate(CLICK_NEXT_JS)  # every quiz's Next button at once (a learner's click each)
            expected = [min(shown, length) for length in lengths]
            page.wait_for_function(
                """(expected) => [...document.querySelectorAll('.kms-hostile-quiz')].every((q, k) =>
                     q.textContent.includes('Question ' + expected[k] + ' of '))""",
                arg=expected, timeout=ITEM_TIMEOUT_MS, polling=50)
            page.evaluate(STABLE_JS, ".kms-hostile-quiz")  # MathJax has typeset the new items
            found += [f"round {shown}: {f}" for f in _audit(page, ".kms-hostile-quiz", own_figures=True)]
            pwned = page.evaluate(PWNED_JS)
            assert pwned is None, f"window.__kms_pwned was set at round {shown}"
        _settle(page, 1.5)
        assert page.evaluate(PWNED_JS) is None, "window.__kms_pwned was set"
        assert not found, "\n".join(found[:20])
        print(f"\nVoila: {items} quiz items in {QUIZZES} quizzes ({rounds} steps) and the branching case, "
              f"{len(corpus.load())} strings; MathJax typeset {typeset} expressions on the first screen; page ready in {loaded:.0f} s, "
              f"{time.monotonic() - started:.0f} s in all")
        assert typeset > 0, "MathJax did not run on the page: the maths payloads were not tried"
        assert not recorder.page_errors, recorder.page_errors[:5]
    finally:
        page.context.close()


# ----------------------------------------------------------------------------- the handout


CONTROL_HTML = '<img src="x" alt="" onerror="window.__kms_control=1">'


@pytest.mark.parametrize("answer_key", [False, True], ids=["handout", "answer key"])
def test_no_script_runs_in_the_handout_with_every_hostile_string(browser, tmp_path, answer_key):
    from kms_teach.export import to_html_handout

    strings = corpus.load()
    text = to_html_handout(corpus.hostile_questions(strings), answer_key=answer_key, title=strings[3])
    assert "<script" not in text.lower()
    path = tmp_path / "handout.html"
    path.write_text(text.replace("</main>", f"</main>{CONTROL_HTML}"), encoding="utf-8")
    page, errors = open_file_page(browser)
    try:
        page.goto(path.as_uri(), timeout=PAGE_TIMEOUT_MS)
        _settle(page)
        assert page.evaluate(CONTROL_JS), "the control handler did not run: this page would not show a payload"
        found = _audit(page, "main")
        _settle(page)
        assert page.evaluate(PWNED_JS) is None, "window.__kms_pwned was set"
        assert not found, "\n".join(found[:20])
        assert not errors, errors[:5]
    finally:
        page.context.close()


# ----------------------------------------------------------------------------- jupyterquiz

#: JavaScript: click every option and enter every numeric answer; audit each feedback as shown.
JUPYTERQUIZ_DRIVE_JS = r"""(audit) => {
  const check = new Function('return ' + audit)();
  const found = [];
  let shown = 0;
  for (const wrap of document.querySelectorAll('.Quiz')) {
    const fb = wrap.querySelector('.Feedback') || wrap;
    for (const label of wrap.querySelectorAll('.MCButton')) {
      label.click();
      shown += 1;
      found.push(...check(['#' + CSS.escape(wrap.id), false]).found);
    }
    for (const input of wrap.querySelectorAll('input.Input-text')) {
      for (const value of ['2', '4', '9']) {
        input.value = value;
        input.onkeypress.call(input, {which: 13, keyCode: 13});
        shown += 1;
        found.push(...check(['#' + CSS.escape(wrap.id), false]).found);
      }
    }
  }
  return {found, shown};
}"""


def test_no_script_runs_in_the_jupyterquiz_page_with_every_hostile_string(browser, tmp_path, monkeypatch):
    pytest.importorskip("jupyterquiz")
    from jupyterquiz.dynamic import display as jq_display

    from kms_teach.export import to_jupyterquiz

    items = json.loads(to_jupyterquiz(corpus.hostile_questions(corpus.load())))
    shown = []
    monkeypatch.setattr(jq_display, "display", lambda obj: shown.append(obj))
    jq_display.display_quiz(items, shuffle_answers=False)  # the package's own HTML and script
    container, script = shown[0].data, shown[1].data
    path = tmp_path / "jupyterquiz.html"
    path.write_text(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>jupyterquiz</title></head>'
                    f"<body>{container}</div>{CONTROL_HTML}</body></html>", encoding="utf-8")
    page, errors = open_file_page(browser)
    try:
        page.goto(path.as_uri(), timeout=PAGE_TIMEOUT_MS)
        page.add_script_tag(content=script)
        page.wait_for_function(f"() => document.querySelectorAll('.Quiz').length >= {len(items)}",
                               timeout=PAGE_TIMEOUT_MS, polling=100)
        _settle(page)
        assert page.evaluate(CONTROL_JS), "the control handler did not run: this page would not show a payload"
        found = _audit(page, ".Quiz")
        driven = page.evaluate(JUPYTERQUIZ_DRIVE_JS, AUDIT_JS)
        _settle(page, 1.5)
        assert driven["shown"] >= len(items), driven["shown"]
        assert page.evaluate(PWNED_JS) is None, "window.__kms_pwned was set"
        found += driven["found"]
        assert not found, "\n".join(found[:20])
        assert not errors, errors[:5]
    finally:
        page.context.close()

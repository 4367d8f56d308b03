"""The branching case as an ipywidgets view (the logic lives in :mod:`kms_teach.workup`).

The learner ticks tests and orders them, reads the results (the model's lab
panel as text, written findings for imaging and procedures), picks a
diagnosis, picks a plan and sees its course beside no treatment, then reads
the debrief. Every control is a core widget reached with Tab and worked with
Space, Enter or the arrow keys; feedback appears in live regions that screen
readers announce; the figure's alt text is its written summary.

Drive it from Python (as the tests do): tick ``view.tests[ID].value = True``,
``view.order_button.click()``, set ``view.diagnosis.value = ID``, click
``view.diagnosis_button``, and so on.
"""

from __future__ import annotations

import html

import ipywidgets as w

from .answers_bar import AnswersBar
from .markup import escape_text, plain_text, to_html, to_text
from .plots import CourseFigure, png_img_tag
from .progress import AnswerBook, answer_book, content_version, default_answers_file
from .widgets import KEYS_CLASS, PageStyle, _Explorer, _summary_html, _text_block
from .workup import WorkupSession, load_workup

__all__ = ["CaseWorkup"]

_STYLE = {"description_width": "initial"}
_VERDICT_WORDS = {
    "essential": "essential",
    "helpful": "helpful",
    "unhelpful": "not useful here",
    "harmful": "harmful now",
    "missed": "missed (essential, not ordered)",
    "correct": "correct",
    "incorrect": "not the best answer",
    "best": "best choice",
    "acceptable": "acceptable",
    "poor": "poor choice",
}


def _status(inner: str) -> str:
    return f'<div role="status" aria-live="polite">{inner}</div>'


def _cites(citations) -> str:
    return f"<p><em>Sources: {escape_text('; '.join(citations))}</em></p>" if citations else ""


class CaseWorkup(_Explorer):
    """Work up an infant step by step: tests, diagnosis, treatment, course, debrief.

    Parameters
    ----------
    name : str
        A built-in work-up (``assets/workups/NAME.yaml``) or the path of a work-up file.
    answers_file : str, optional
        Where the decisions are saved with the quizzes' answers (default
        ``answers-practice.json``; see :class:`kms_teach.quiz.Quiz`).
    """

    LABS = ("platelets", "fibrinogen", "d_dimer", "hemoglobin")

    def __init__(self, name: str = "khe-workup", *, answers_file: str | None = None):
        self.workup = load_workup(name)
        self.session = WorkupSession(self.workup)
        self.book: AnswerBook = answer_book(answers_file or default_answers_file(None))
        self.case_version = content_version(self.workup)
        self._new_run = True  # the next decision starts a new run of the case
        self.figure = None  # built on the first plan, then reused
        wk = self.workup
        self.header = w.HTML(f"<h3>{escape_text(wk.title)}</h3>{to_html(wk.presentation)}")

        self.tests = {t.id: w.Checkbox(value=False, description=to_text(t.label), indent=False,
                                       layout=w.Layout(width="auto")) for t in wk.tests}
        for box in self.tests.values():
            box.observe(self._on_tick, names="value")
        self.count = w.HTML()
        self.order_button = w.Button(description="Order the ticked tests", layout=w.Layout(width="auto"),
                                     tooltip=f"Send the ticked tests (up to {wk.budget}) and see their results")
        self.order_button.on_click(self.order)
        self.results = w.HTML()

        self.diagnosis = w.RadioButtons(options=[(to_text(o.label), o.id) for o in wk.diagnosis.options], value=None,
                                        description="Your diagnosis", style=_STYLE, layout=w.Layout(width="auto"),
                                        _dom_classes=(KEYS_CLASS,))  # arrow keys work in JupyterLab too
        self.diagnosis_button = w.Button(description="Confirm this diagnosis", layout=w.Layout(width="auto"),
                                         tooltip="Commit to the diagnosis chosen above and read the feedback")
        self.diagnosis_button.on_click(self.confirm_diagnosis)
        self.diagnosis_feedback = w.HTML()

        self.plan = w.RadioButtons(options=[(to_text(o.label), o.id) for o in wk.plans.options], value=None,
                                   description="Your plan", style=_STYLE, layout=w.Layout(width="auto"),
                                        _dom_classes=(KEYS_CLASS,))  # arrow keys work in JupyterLab too
        self.plan_button = w.Button(description="Start this treatment plan", layout=w.Layout(width="auto"),
                                    tooltip=f"Simulate {wk.course_days:g} days on the chosen plan beside no treatment")
        self.plan_button.on_click(self.start_plan)
        self.plan_feedback = w.HTML()
        self.image = w.HTML()
        self.summary = w.HTML()

        self.debrief_button = w.Button(description="Show the debrief", layout=w.Layout(width="auto"),
                                       tooltip="Every decision judged, with reasons, sources and a score")
        self.debrief_button.on_click(self.show_debrief)
        self.debrief_view = w.HTML()
        self.restart = w.Button(description="Start again", layout=w.Layout(width="auto"),
                                tooltip="Clear every choice and begin the case again")
        self.restart.on_click(self.reset)
        self.status = w.HTML()
        self.debrief = None
        self.answers_bar = AnswersBar(self.book, describe=self._describe_restore)

        self.widget = w.VBox([
            self.header,
            w.HTML(f"<h4>Step 1. Order tests</h4><p>Tick up to {wk.budget} tests, then order them.</p>"),
            w.VBox(list(self.tests.values())), self.count, self.order_button, self.results,
            w.HTML(f"<h4>Step 2. Diagnosis</h4>{to_html(wk.diagnosis.prompt)}"),
            self.diagnosis, self.diagnosis_button, self.diagnosis_feedback,
            w.HTML(f"<h4>Step 3. Treatment</h4>{to_html(wk.plans.prompt)}"),
            self.plan, self.plan_button, self.plan_feedback, self.image, self.summary,
            w.HTML("<h4>Step 4. Debrief</h4>"),
            self.debrief_button, self.debrief_view, self.status, self.restart,
            self.answers_bar.widget, PageStyle(),
        ])
        self.reset()

    def __repr__(self) -> str:  # deterministic text for notebook checks
        return (f"<CaseWorkup {self.workup.id!r}: {self.workup.title}; "
                "branching case, run the notebook to use it>")

    # -- state of the controls
    def _enable(self) -> None:
        step = self.session.step
        for box in self.tests.values():
            box.disabled = step != "tests"
        self.order_button.disabled = step != "tests"
        self.diagnosis.disabled = self.diagnosis_button.disabled = step != "diagnosis"
        self.plan.disabled = self.plan_button.disabled = step != "plan"
        self.debrief_button.disabled = step not in ("debrief", "done")

    def _say(self, text: str) -> None:
        self.status.value = _status(f"<p>{escape_text(text)}</p>") if text else ""

    def _on_tick(self, _change=None) -> None:
        n = sum(box.value for box in self.tests.values())
        budget = self.workup.budget
        extra = f" That is {n - budget} too many: untick some." if n > budget else ""
        self.count.value = _status(f"<p>{n} of {budget} tests chosen.{html.escape(extra)}</p>")

    # -- steps (each is also a button handler)
    def order(self, _button=None) -> None:
        """Order the ticked tests and show their results."""
        ids = [test_id for test_id, box in self.tests.items() if box.value]
        try:
            results = self.session.order_tests(ids)
        except ValueError as exc:
            self._say(str(exc))
            return
        parts = []
        for r in results:
            block = f"<h5>{escape_text(r.test.label)}</h5>"
            if r.panel is not None:
                block += _text_block(plain_text(str(r.panel)))
            if r.finding:
                block += to_html(r.finding)
            parts.append(block)
        if not parts:
            parts.append("<p>You ordered no tests: you will have to decide on the history and examination alone.</p>")
        self._record("tests", [r.test.id for r in results])
        self.results.value = _status("".join(parts))
        self._say(f"{len(results)} test result{'s' if len(results) != 1 else ''} shown. Now choose a diagnosis.")
        self._enable()

    def confirm_diagnosis(self, _button=None) -> None:
        """Commit to the chosen diagnosis and show its feedback."""
        if self.diagnosis.value is None:
            self._say("Choose a diagnosis first (arrow keys move between the options).")
            return
        fb = self.session.choose_diagnosis(self.diagnosis.value)
        self._record("diagnosis", self.diagnosis.value, correct=bool(fb.correct))
        verdict = "Correct." if fb.correct else "Not the best answer."
        self.diagnosis_feedback.value = _status(f"<p><strong>{verdict}</strong></p>{to_html(fb.text)}{_cites(fb.citations)}")
        self._say("Now choose a treatment plan.")
        self._enable()

    def start_plan(self, _button=None) -> None:
        """Start the chosen plan: simulate it beside no treatment and draw the course."""
        if self.plan.value is None:
            self._say("Choose a treatment plan first (arrow keys move between the options).")
            return
        course = self.session.choose_plan(self.plan.value)
        self._record("plan", self.plan.value, verdict=course.feedback.verdict)
        if self.figure is None:
            self.figure = CourseFigure(self.LABS, columns=2, width_px=820, main_label="with your plan",
                                       comparison_label="untreated")
        png = self.figure.render(course.result, course.end_day, comparison=course.untreated)
        self.image.value = png_img_tag(png, course.summary)
        self.summary.value = _summary_html(plain_text(course.summary))
        fb = course.feedback
        self.plan_feedback.value = _status(f"<p><strong>{html.escape(_VERDICT_WORDS[fb.verdict].capitalize())}."
                                           f"</strong></p>{to_html(fb.text)}{_cites(fb.citations)}")
        self._say("The course is drawn below. Open the debrief when you are ready.")
        self._enable()

    def show_debrief(self, _button=None) -> None:
        """Show every decision judged, with reasons and sources, and the score."""
        try:
            self.debrief = self.session.debrief()
        except ValueError as exc:
            self._say(str(exc))
            return
        if not self._new_run:
            self.book.answers.record_case_score(self.workup.id, self.debrief.score)
            self.book.changed()
        items = []
        for e in self.debrief.entries:
            items.append(f"<li><strong>{escape_text(e.step.capitalize())}: {escape_text(e.label)}</strong> "
                         f"({html.escape(_VERDICT_WORDS[e.verdict])}){to_html(e.reason)}{_cites(e.citations)}</li>")
        self.debrief_view.value = _status(f"<ul>{''.join(items)}</ul><p><strong>{html.escape(self.debrief.score_text)}"
                                          "</strong></p>")
        self._say(self.debrief.score_text)
        self._enable()

    def reset(self, _button=None) -> None:
        """Start again: clear every choice and result."""
        self.session.reset()
        self._new_run = True
        for box in self.tests.values():
            box.disabled = False
            box.value = False
        self.diagnosis.value = None
        self.plan.value = None
        for view in (self.results, self.diagnosis_feedback, self.plan_feedback, self.image, self.summary,
                     self.debrief_view, self.status):
            view.value = ""
        self.debrief = None
        self._on_tick()
        self._enable()

    # -- answers file: every decision is kept with its time (the first run is the scored one)
    def _record(self, step: str, choice, **details) -> None:
        self.book.answers.record_decision(self.workup.id, step, choice, case_version=self.case_version,
                                          title=self.workup.title, new_run=self._new_run, **details)
        self._new_run = False
        self.book.changed()

    def _describe_restore(self, book: AnswerBook) -> str:
        runs = len(book.answers.cases.get(self.workup.id, {}).get("runs", []))
        return (f"{runs} run{'' if runs == 1 else 's'} of this case kept (decisions are kept, "
                "not replayed on screen).")

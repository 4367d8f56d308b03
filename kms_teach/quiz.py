"""The quiz widget: questions from the bank, graded in Python, with cited feedback.

One question is shown at a time. Every control is a core ipywidget reachable
with Tab and operated with the keyboard (arrow keys in the option list, Space
on a tick box, Enter on a button). Feedback appears in a live region so screen
readers announce it. For treatment and transfusion items the quiz runs the
model under the learner's choice and shows the course beside no treatment.

Grading and shuffling live in :mod:`kms_teach.questions`, the answers format
in :mod:`kms_teach.progress` and the save/load controls in
:mod:`kms_teach.answers_bar`; this module only wires them to controls.
"""

from __future__ import annotations

import html
import random
import re
from typing import Iterable, Sequence

import ipywidgets as w

from .describe import describe_panel
from .markup import escape_text, to_html, to_text
from .plots import CourseFigure, png_img_tag
from .answers_bar import AnswersBar
from .progress import AnswerBook, Answers, answer_book, content_version, default_answers_file
from .questions import Bank, Question, case_panel, consequence, grade, load_bank, panel_text, parse_number
from .widgets import KEYS_CLASS, REPORT_PRE_STYLE, PageStyle, RadioGroup, _Explorer

__all__ = ["Quiz"]

_STYLE = {"description_width": "initial"}
_LETTERS = "ABCDEFGH"


def _status(inner: str) -> str:
    return f'<div role="status" aria-live="polite">{inner}</div>'


class Quiz(_Explorer):
    """A quiz over items of the question bank.

    Parameters
    ----------
    lesson : int, optional
        Use the items tagged for this lesson (0-6).
    topics : iterable of str, optional
        Use the items of these topics (e.g. ``["treatment"]``).
    ids : sequence of str, optional
        Use exactly these items, in this order before shuffling.
    difficulty : str or sequence of str, optional
        Keep only items of these difficulties (``easy``, ``medium``, ``hard``).
    n : int, optional
        Draw this many items (default: all selected).
    seed : int
        Seed for drawing and shuffling; the same seed gives the same quiz.
    shuffle : bool
        Shuffle the order of items and of their options.
    title : str
        Heading shown above the quiz.
    answers_file : str, optional
        The answers file (default ``answers-lesson-NN.json`` for a lesson,
        else ``answers-practice.json``). In Jupyter it is written next to the
        notebook, merged with what it holds; in Voila it is only the name of
        the downloaded file. Quizzes sharing a file share their answers.
    quiz_id : str, optional
        The id under which this quiz's answers are saved (default
        ``lesson-NN`` for a whole lesson, else made from the title).
    bank : Bank, optional
        A bank other than the installed one (for educators' own files).
    progress_file : str, optional
        Old name of ``answers_file`` (kms-teach 0.1.0).
    """

    def __init__(self, *, lesson: int | None = None, topics: Iterable[str] | None = None,
                 ids: Sequence[str] | None = None, difficulty: str | Sequence[str] | None = None,
                 n: int | None = None, seed: int = 0,
                 shuffle: bool = True, title: str = "Quiz", answers_file: str | None = None,
                 quiz_id: str | None = None, bank: Bank | None = None, progress_file: str | None = None):
        self.bank = bank if bank is not None else load_bank()
        pool = self.bank.select(topics=topics, lesson=lesson, ids=ids, difficulty=difficulty)
        if not pool:
            raise ValueError("no questions match these filters; topics in the bank: " + ", ".join(self.bank.topics))
        self._pool = pool
        self._n = len(pool) if n is None else max(1, min(int(n), len(pool)))
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.title = title
        self.lesson = lesson
        self.quiz_id = quiz_id or _default_quiz_id(lesson, title, topics, ids, difficulty, n, seed)
        self.book: AnswerBook = answer_book(answers_file or progress_file or default_answers_file(lesson))
        self.book.on_restore(self._restore)
        self.attempt = 0
        self.figure = None  # created on the first consequence: most items never need it

        self.heading = w.HTML()
        self.counter = w.HTML()
        self.panel = w.HTML()
        self.stem = w.HTMLMath()
        self.controls = w.VBox()
        self.check_button = w.Button(description="Check answer", button_style="primary",
                                     tooltip="Grade your answer and show feedback")
        self.check_button.on_click(self.check)
        self.feedback = w.HTMLMath()
        self.consequence_image = w.HTML()
        self.previous_button = w.Button(description="Previous question", tooltip="Go back one question")
        self.next_button = w.Button(description="Next question", tooltip="Go on to the next question")
        self.previous_button.on_click(lambda _b: self.go(self.position - 1))
        self.next_button.on_click(lambda _b: self.go(self.position + 1))
        self.score = w.HTML()
        self.retry_button = w.Button(description="Retry with new order", tooltip="Clear your answers and reshuffle",
                                     layout=w.Layout(width="auto"))  # the default width cuts the name
        self.retry_button.on_click(self.retry)
        self.answers_bar = AnswersBar(self.book, describe=self._describe_restore)
        self.file_status = self.answers_bar.status
        # Jupyter only (None in Voila, where saving is a download link and loading an upload)
        self.save_button, self.load_button = self.answers_bar.save_button, self.answers_bar.load_button
        problems = ""
        if self.bank.problems:
            listed = "".join(f"<li>{escape_text(str(p))}</li>" for p in self.bank.problems[:10])
            problems = (f"<details><summary>{len(self.bank.problems)} question(s) could not be loaded and "
                        f"are left out</summary><ul>{listed}</ul></details>")
        self.widget = w.VBox([
            self.heading, w.HTML(problems), self.counter, self.panel, self.stem, self.controls,
            self.check_button, self.feedback, self.consequence_image,
            w.HBox([self.previous_button, self.next_button]), self.score,
            w.HBox([self.retry_button]), self.answers_bar.widget, PageStyle(),
        ])
        self._deal()

    # ------------------------------------------------------------------ state

    def _deal(self) -> None:
        """Draw and order the items and their options for this attempt."""
        rng = random.Random(self.seed + 1000 * self.attempt)
        pool = list(self._pool)
        if self.shuffle:
            rng.shuffle(pool)
        self.questions: list[Question] = pool[: self._n]
        self.orders: dict[str, list[int]] = {}
        for q in self.questions:
            order = list(range(len(q.options)))
            if self.shuffle or q.type == "ordering":  # an ordering item in file order gives the answer away
                rng.shuffle(order)
                if q.type == "ordering" and order == sorted(order) and len(order) > 1:
                    order[0], order[1] = order[1], order[0]
            self.orders[q.id] = order
        self.results: dict[str, object] = {}
        self.responses: dict[str, object] = {}
        self.position = 0
        self.heading.value = (f"<h3>{escape_text(self.title)}</h3><p>{len(self.questions)} question(s). "
                              "Use Tab to move between controls, the arrow keys or Space to choose, "
                              "and Enter on <em>Check answer</em>.</p>")
        self._show()

    @property
    def question(self) -> Question:
        """The question on screen."""
        return self.questions[self.position]

    def go(self, position: int) -> None:
        """Show question number ``position`` (0-based), keeping answers already given."""
        self.position = max(0, min(len(self.questions) - 1, int(position)))
        self._show()

    def retry(self, _button=None) -> None:
        """Clear the answers on screen and deal a new order (the next seed in sequence).

        Attempts already made stay recorded (the first attempt at each item is the scored one).
        """
        self.attempt += 1
        self._deal()

    # ------------------------------------------------------------------ display

    def _show(self) -> None:
        q = self.question
        self.counter.value = (f"<p><strong>Question {self.position + 1} of {len(self.questions)}</strong> "
                              f"&middot; {escape_text(self.bank.titles.get(q.topic, q.topic))} "
                              f"&middot; {escape_text(q.difficulty)}</p>")
        if q.case is not None:
            # Items that ask what is abnormal show bare values: the flags and summary would answer them.
            summary = f"<p>{escape_text(describe_panel(case_panel(q)))}</p>" if q.show_flags else ""
            self.panel.value = (f"<p><strong>Laboratory results</strong> (simulated, day {q.case.day:g})</p>"
                                f'<pre style="{REPORT_PRE_STYLE}">{escape_text(panel_text(q))}</pre>'
                                + summary)
        else:
            self.panel.value = ""
        self.stem.value = to_html(q.question)
        self.controls.children = self._make_controls(q)
        self.previous_button.disabled = self.position == 0
        self.next_button.disabled = self.position == len(self.questions) - 1
        if q.id in self.results:
            self._show_feedback(q, self.results[q.id], self.responses[q.id])
        else:
            self.feedback.value = _status("")
            self.consequence_image.value = ""
        self._show_score()

    def _option_label(self, q: Question, index: int, shown_at: int) -> str:
        return f"{_LETTERS[shown_at]}. {to_text(q.options[index].text)}"

    def _make_controls(self, q: Question):
        order = self.orders[q.id]
        previous = self.responses.get(q.id)
        if q.type == "multiple_choice":
            # RadioGroup, not ipywidgets' RadioButtons: its arrow keys stay in the group in
            # JupyterLab and Notebook 7 instead of moving the notebook to another cell
            self.choice = RadioGroup(
                options=[(self._option_label(q, i, k), i) for k, i in enumerate(order)],
                value=previous, description="Your answer")
            return (self.choice,)
        if q.type == "many_choice":
            chosen = set(previous or ())
            self.ticks = [w.Checkbox(value=i in chosen, description=self._option_label(q, i, k), indent=False,
                                     layout=w.Layout(width="auto"), _dom_classes=(KEYS_CLASS,))
                          for k, i in enumerate(order)]
            return (w.HTML("<p><em>Tick every option that applies.</em></p>"), *self.ticks)
        if q.type == "numeric":
            self.number = w.Text(value="" if previous is None else f"{previous:g}",
                                 description=f"Your answer ({to_text(q.unit)})", placeholder="a number",
                                 style=_STYLE, continuous_update=False)
            return (self.number,)
        current = list(previous) if previous is not None else list(order)
        self.sequence = w.Select(options=[(to_text(q.options[i].text), i) for i in current],
                                 value=current[0], rows=len(current), description="Order (first at top)",
                                 style=_STYLE, layout=w.Layout(width="auto"),
                                 _dom_classes=(KEYS_CLASS,))  # arrow keys stay in the list in JupyterLab
        # short, distinct names: longer ones were cut to the same "Move selected step..."
        up = w.Button(description="Move up", tooltip="Move the selected step one place earlier",
                      layout=w.Layout(width="auto"))
        down = w.Button(description="Move down", tooltip="Move the selected step one place later",
                        layout=w.Layout(width="auto"))
        up.on_click(lambda _b: self.move(-1))
        down.on_click(lambda _b: self.move(+1))
        return (w.HTML("<p><em>Select a step, then move it; the first step goes at the top.</em></p>"),
                self.sequence, w.HBox([up, down]))

    def move(self, offset: int) -> None:
        """Move the selected step of an ordering item by ``offset`` places."""
        items = [value for _label, value in self.sequence.options]
        selected = self.sequence.value
        i = items.index(selected)
        j = max(0, min(len(items) - 1, i + offset))
        items.insert(j, items.pop(i))
        q = self.question
        self.sequence.options = [(to_text(q.options[k].text), k) for k in items]
        self.sequence.value = selected

    # ------------------------------------------------------------------ answering

    def response(self):
        """The learner's current answer, in the form :func:`kms_teach.grade` takes (None if none)."""
        q = self.question
        if q.type == "multiple_choice":
            return self.choice.value
        if q.type == "many_choice":
            order = self.orders[q.id]
            return [order[k] for k, box in enumerate(self.ticks) if box.value]
        if q.type == "numeric":
            return self.number.value.strip() or None
        return [value for _label, value in self.sequence.options]

    def answer(self, response) -> None:
        """Set the controls to ``response`` (file-order indices or a number), as a learner would."""
        q = self.question
        if q.type == "multiple_choice":
            self.choice.value = response
        elif q.type == "many_choice":
            order = self.orders[q.id]
            wanted = set(response)
            for k, box in enumerate(self.ticks):
                box.value = order[k] in wanted
        elif q.type == "numeric":
            self.number.value = str(response)
        else:
            self.sequence.options = [(to_text(q.options[k].text), k) for k in response]
            self.sequence.value = response[0]

    def check(self, _button=None):
        """Grade the current answer and show feedback; returns the :class:`Grade` (None if unanswered)."""
        q = self.question
        response = self.response()
        if response is None or (q.type == "many_choice" and not response):
            self.feedback.value = _status("<p><strong>Choose an answer first.</strong></p>")
            return None
        if q.type == "numeric":
            try:
                response = parse_number(response)
            except ValueError as exc:
                self.feedback.value = _status(f"<p><strong>{html.escape(str(exc)).capitalize()}.</strong></p>")
                return None
        result = grade(q, response)
        self.results[q.id] = result
        self.responses[q.id] = response
        self.answers.record_attempt(self.quiz_id, q.id, response, result.score, result.correct,
                                    bank_version=self.bank_version, title=self.title, lesson=self.lesson)
        self.book.changed()
        self._show_feedback(q, result, response)
        self._show_score()
        return result

    def _show_feedback(self, q: Question, result, response) -> None:
        if result.correct:
            verdict = "Correct."
        elif result.score > 0:
            verdict = f"Partly right: {result.score:.0%} of the marks."
        else:
            verdict = "Not right."
        parts = [f"<p><strong>{verdict}</strong></p>"]
        if q.type == "multiple_choice":
            parts.append(to_html(result.feedback[0]))
        elif q.type == "many_choice":
            for i in response:
                mark = "right to tick" if q.options[i].correct else "should not be ticked"
                parts.append(f"<p><em>{html.escape(to_text(q.options[i].text))}</em> ({mark}): "
                             f"{to_html(q.options[i].feedback)}</p>")
            missed = [i for i in q.correct_indices if i not in response]
            for i in missed:
                parts.append(f"<p><em>{html.escape(to_text(q.options[i].text))}</em> (missed): "
                             f"{to_html(q.options[i].feedback)}</p>")
        elif q.type == "numeric":
            parts.append(to_html(result.feedback[0]))
            parts.append(f"<p>Expected: {escape_text(result.expected)}.</p>")
        else:
            if not result.correct:
                parts.append("<p>The right order: " + escape_text(result.expected) + ".</p>")
                parts.extend(to_html(text) for text in result.feedback)
        parts.append("<p><strong>Explanation.</strong></p>" + to_html(q.explanation))
        cites = "; ".join(escape_text(c) for c in q.citations)
        parts.append(f"<p><small>Source{'s' if len(q.citations) > 1 else ''}: {cites}</small></p>")
        self._show_consequence(q, response, parts)
        self.feedback.value = _status("".join(parts))

    def _show_consequence(self, q: Question, response, parts: list[str]) -> None:
        if q.type != "multiple_choice":
            self.consequence_image.value = ""
            return
        outcome = consequence(q, response)
        if outcome is None:
            self.consequence_image.value = ""
            return
        if self.figure is None:
            self.figure = CourseFigure(("platelets", "fibrinogen"), columns=2, width_px=720,
                                       main_label="your choice", comparison_label="no treatment")
        png = self.figure.render(outcome.chosen, float(outcome.chosen.day[-1]), comparison=outcome.untreated)
        self.consequence_image.value = png_img_tag(png, outcome.summary)
        parts.insert(1, f"<p><strong>What the model shows:</strong> {html.escape(outcome.summary)}</p>")

    def _show_score(self) -> None:
        answered = len(self.results)
        total = sum(r.score for r in self.results.values())
        text = f"Score: {total:g} of {answered} answered ({len(self.questions)} in this quiz)."
        if answered == len(self.questions):
            text += f" Finished: {total / answered:.0%}."
        self.score.value = f"<p>{html.escape(text)}</p>"

    @property
    def total_score(self) -> float:
        """Sum of the scores of the answered questions."""
        return sum(r.score for r in self.results.values())

    # ------------------------------------------------------------------ answers files

    @property
    def answers(self) -> Answers:
        """Every answer this kernel holds for this quiz's answers file (all attempts, all quizzes in it)."""
        return self.book.answers

    @property
    def bank_version(self) -> str:
        """A hash of the bank's items, saved with the answers so a report can tell bank versions apart."""
        version = getattr(self.bank, "_answers_version", None)
        if version is None:
            version = content_version(sorted(self.bank.questions, key=lambda q: q.id))
            try:
                self.bank._answers_version = version  # computed once per loaded bank
            except AttributeError:
                pass
        return version

    def save(self, _button=None) -> bool:
        """Jupyter: merge the answers into the answers file next to the notebook; True on success."""
        return self.answers_bar.save()

    def load(self, _button=None) -> bool:
        """Jupyter: read the answers file back into every quiz using it; True on success."""
        return self.answers_bar.load()

    def upload(self, content: bytes, name: str = "answers.json") -> bool:
        """Load an uploaded answers file's content, as *Load answers* does in Voila; True on success."""
        return self.answers_bar.load_bytes(content, name)

    def _restorable(self, q: Question, response) -> bool:
        """True if a saved response fits the item as it is now (else it was saved for another version)."""
        n = len(q.options)
        if q.type == "numeric":
            return isinstance(response, (int, float)) and not isinstance(response, bool)
        if q.type == "multiple_choice":
            return isinstance(response, int) and not isinstance(response, bool) and 0 <= response < n
        if not isinstance(response, list) or not all(isinstance(r, int) and 0 <= r < n for r in response):
            return False
        return sorted(response) == list(range(n)) if q.type == "ordering" else len(set(response)) == len(response)

    def _restore(self, book: AnswerBook) -> None:
        """Show the last saved answer to each item of this quiz (0.1.0 answers if the quiz has none)."""
        saved = {**book.answers.migrated_latest(), **book.answers.latest(self.quiz_id)}
        self._restored = 0
        for q in self.questions:
            attempt = saved.get(q.id)
            if attempt is None or not self._restorable(q, attempt["response"]):
                continue
            try:
                result = grade(q, attempt["response"])
            except (ValueError, TypeError, KeyError, IndexError, OverflowError):
                continue  # saved for another version of the item
            self.results[q.id] = result
            self.responses[q.id] = attempt["response"]
            self._restored += 1
        self._show()

    def _describe_restore(self, _book: AnswerBook) -> str:
        count = getattr(self, "_restored", 0)
        return f"{count} answer{'' if count == 1 else 's'} restored in this quiz."

    def __repr__(self) -> str:
        return f"<Quiz: {self._n} question(s); run the notebook to take it>"


def _default_quiz_id(lesson, title, topics, ids, difficulty, n, seed) -> str:
    """``lesson-NN`` for a whole lesson's quiz, else the title made into an id (or a hash of the filters)."""
    if lesson is not None and not topics and not ids and not difficulty:
        return f"lesson-{int(lesson):02d}"
    slug = re.sub(r"[^a-z0-9]+", "-", str(title).lower()).strip("-")[:80]
    if slug and slug != "quiz":
        return slug
    # the seed and n only change the deal, not which quiz this is
    selection = [lesson, sorted(topics or []), sorted(ids or []), difficulty]
    return "quiz-" + content_version(selection).split(":")[1][:8]

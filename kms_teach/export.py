"""Export quiz items for other tools: Moodle GIFT, jupyterquiz JSON and a printable HTML handout.

Case-based items carry the model's lab panel as text in the stem, computed at
export time, so an exported item shows what the quiz shows. Ordering items
have no GIFT or jupyterquiz form and are left out of those two formats; the
caller is told which. The HTML handout and its answer key are static: no
script, no external files, safe to print or put on a learning platform.
Pure Python: no plotting and no widgets.
"""

from __future__ import annotations

import decimal
import html
import json
import math
import random
import re
from typing import Iterable, Sequence

from . import NOTICE
from .markup import escape_text, plain_text, to_html
from .questions import Bank, Question, expected_value, panel_text

__all__ = ["select_questions", "to_gift", "to_jupyterquiz", "to_html_handout", "FORMATS", "not_exportable"]

FORMATS = ("gift", "jupyterquiz", "html")
_LETTERS = "ABCDEFGH"


def select_questions(bank: Bank, *, topics: Iterable[str] | None = None, ids: Sequence[str] | None = None,
                     difficulty: Iterable[str] | None = None, lesson: int | None = None,
                     n: int | None = None, seed: int = 0) -> list[Question]:
    """Items matching every filter, in bank order; ``n`` draws that many with ``seed``.

    Raises
    ------
    ValueError
        When a filter names something the bank does not hold, or nothing matches.
    """
    chosen = bank.select(topics=topics or None, ids=ids or None, difficulty=difficulty or None, lesson=lesson)
    if not chosen:
        raise ValueError("no questions match these filters; topics in the bank: " + ", ".join(bank.topics))
    if n is not None and n < len(chosen):
        keep = set(q.id for q in random.Random(seed).sample(chosen, n))
        chosen = [q for q in chosen if q.id in keep]
    return chosen


def not_exportable(questions: Iterable[Question], fmt: str) -> list[str]:
    """Ids of items that ``fmt`` cannot represent (ordering items in GIFT and jupyterquiz)."""
    if fmt == "html":
        return []
    return [q.id for q in questions if q.type == "ordering"]


def _panel_text(q: Question) -> str:
    if q.case is None:
        return ""
    day = _finite(q, "case.day", q.case.day, "an export")
    return f"Laboratory results (simulated, day {day:g}):\n\n" + panel_text(q)


def _sources(q: Question) -> str:
    return "Sources: " + "; ".join(q.citations)


# --------------------------------------------------------------------------- numbers


def _finite(q: Question, field: str, value: float, fmt: str) -> float:
    """``value`` if it is a finite number; otherwise one clear line naming the item and field."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"item {q.id}: {field} is {value!r}, not a finite number; "
                         f"{fmt} cannot hold it (fix the question file, `kms-teach check` names it)")
    return number


def _numbers(q: Question, fmt: str) -> tuple[float, float, list[tuple[float, float, str]]]:
    """Expected value, tolerance and feedback bands of a numeric item, all checked finite."""
    value = _finite(q, "the expected answer", expected_value(q), fmt)
    tolerance = _finite(q, "tolerance", q.tolerance, fmt)
    bands = [(_finite(q, f"range_feedback.{i}.low", low, fmt), _finite(q, f"range_feedback.{i}.high", high, fmt),
              text) for i, (low, high, text) in enumerate(q.range_feedback)]
    return value, tolerance, bands


def _decimal(value: float) -> str:
    """Shortest exact decimal, never exponent notation (gift-pegjs reads no exponents)."""
    text = format(decimal.Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --------------------------------------------------------------------------- GIFT

# Every character sequence that some GIFT reader (Moodle reads lines, gift-pegjs a grammar)
# could take as a line break.
_LINE_BREAKS = re.compile("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _gift_escape(text: str) -> str:
    """Escape GIFT's control characters and keep a field on one line (line breaks as ``\\n``)."""
    for ch in "\\~=#{}:":
        text = text.replace(ch, "\\" + ch)
    return _LINE_BREAKS.sub("\n", text.strip()).replace("\n", "\\n")


def _gift_comment(text: str) -> str:
    """Text for a ``//`` comment line: one line, whatever the content holds."""
    return " ".join(plain_text(text).split())


def _gift_weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _panel_html(q: Question) -> str:
    panel = _panel_text(q)
    return f"<pre>{escape_text(panel)}</pre>" if panel else ""


def to_gift(questions: Iterable[Question]) -> str:
    """Moodle GIFT text for the items (ordering items are skipped: see :func:`not_exportable`).

    Every text field is sanitised HTML (``[html]``, see :mod:`kms_teach.markup`) with GIFT's
    special characters escaped and line breaks written as ``\\n``, so no content can end a
    field, a question or a comment. Multiple-select weights follow the quiz's own rule: each
    right option is worth 100/k percent and each wrong one takes the same away.

    Raises
    ------
    ValueError
        When a numeric item holds a value that is not a finite number (one line naming it).
    """
    blocks = [f"// kms-teach question export. {NOTICE}", ""]
    for q in questions:
        if q.type == "ordering":
            continue
        stem = _panel_html(q) + to_html(q.question)
        lines = [f"// {_gift_comment(' | '.join((q.id, q.topic, q.difficulty, q.objective)))}",
                 f"::{_gift_escape(q.id)}::[html]{_gift_escape(stem)}{{"]
        if q.type == "multiple_choice":
            for option in q.options:
                mark = "=" if option.correct else "~"
                lines.append(f"\t{mark}{_gift_escape(to_html(option.text))}#{_gift_escape(to_html(option.feedback))}")
        elif q.type == "many_choice":
            share = 100.0 / len(q.correct_indices)
            for option in q.options:
                weight = _gift_weight(share if option.correct else -share)
                lines.append(f"\t~%{weight}%{_gift_escape(to_html(option.text))}"
                             f"#{_gift_escape(to_html(option.feedback))}")
        elif q.type == "numeric":
            value, tolerance, bands = _numbers(q, "GIFT")
            lines[-1] = lines[-1][:-1] + "{#"
            lines.append(f"\t={_decimal(value)}:{_decimal(tolerance)}#{_gift_escape(to_html(q.feedback_correct))}")
            for low, high, text in bands:
                lines.append(f"\t=%0%{_decimal(low)}..{_decimal(high)}#{_gift_escape(to_html(text))}")
        general = to_html(q.explanation) + f"<p>{escape_text(_sources(q))}</p>"
        lines.append(f"\t####{_gift_escape(general)}")
        lines.append("}")
        blocks.extend(lines + [""])
    return "\n".join(blocks)


# --------------------------------------------------------------------------- jupyterquiz


def _jupyterquiz_html(fragment: str) -> str:
    """Sanitised HTML made inert for jupyterquiz's ``jaxify``, which turns ``[a](b)``, ``<http...>``
    and ``$`` in the string into links and maths before it sets ``innerHTML``: brackets and
    dollars become character references, which the browser shows as the same characters."""
    return fragment.replace("[", "&#91;").replace("]", "&#93;").replace("$", "&#36;")


def _inline(fragment: str) -> str:
    """A single rendered paragraph without its ``<p>`` (option labels are inline in jupyterquiz)."""
    if fragment.startswith("<p>") and fragment.endswith("</p>") and fragment.count("<p>") == 1:
        return fragment[3:-4]
    return fragment


def to_jupyterquiz(questions: Iterable[Question]) -> str:
    """jupyterquiz JSON (a list of questions) for Jupyter Book and static sites.

    jupyterquiz puts every text into the page as HTML, so every text here is sanitised HTML
    (see :mod:`kms_teach.markup`) made inert for its link and maths rewriting; the lab panel
    is escaped text. Explanations and sources are appended to the feedback of every answer,
    because jupyterquiz shows feedback only. Ordering items are skipped.

    Raises
    ------
    ValueError
        When a numeric item holds a value that is not a finite number (one line naming it).
    """
    out = []
    for q in questions:
        if q.type == "ordering":
            continue
        tail = to_html(q.explanation) + f"<p>{escape_text(_sources(q))}</p>"

        def feedback(text: str) -> str:
            return _jupyterquiz_html(to_html(text) + tail)

        item = {"question": _jupyterquiz_html(to_html(q.question)), "type": q.type}
        panel = _panel_text(q)
        if panel:
            # jupyterquiz shows `code` (as HTML, without rewriting) in a preformatted block under the question
            item["code"] = escape_text(panel)
        if q.type in ("multiple_choice", "many_choice"):
            item["answers"] = [{"answer": _jupyterquiz_html(_inline(to_html(o.text))), "correct": o.correct,
                                "feedback": feedback(o.feedback)} for o in q.options]
        else:
            value, tolerance, bands = _numbers(q, "jupyterquiz")
            answers = [{"type": "range", "range": [value - tolerance, value + tolerance], "correct": True,
                        "feedback": feedback(q.feedback_correct)}]
            answers += [{"type": "range", "range": [low, high], "correct": False, "feedback": feedback(text)}
                        for low, high, text in bands]
            answers.append({"type": "default", "feedback": feedback(q.feedback_default)})
            item["answers"] = answers
            item["precision"] = 3
        out.append(item)
    return json.dumps(out, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- HTML


_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 48em; margin: 2em auto; line-height: 1.45;
       color: #111; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.1em; margin-top: 1.8em; }
.notice { border: 2px solid #111; padding: 0.5em 0.8em; font-weight: bold; }
.item { page-break-inside: avoid; border-top: 1px solid #999; padding-top: 0.6em; }
.meta { font-size: 0.85em; color: #444; }
pre { font-size: 0.85em; background: #f4f4f4; padding: 0.5em; overflow-x: auto; }
ol.options { list-style-type: upper-alpha; }
.blank { display: inline-block; min-width: 8em; border-bottom: 1px solid #111; }
.glance { line-height: 1.8; }
.key-item { page-break-inside: avoid; font-size: 0.9em; margin: 0.3em 0 0.6em; }
.key-item p { margin: 0.2em 0; }
@media print { body { margin: 0; } a { color: #111; } }
"""


def _text(value: str) -> str:
    """Content shown as text, escaped (quotes need no escaping outside attributes)."""
    return html.escape(plain_text(value), quote=False)


def _page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="notice">{html.escape(NOTICE)}</p>',
        *body,
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


def _ordering_shown(q: Question, seed: int) -> list[int]:
    order = list(range(len(q.options)))
    random.Random(f"{seed}:{q.id}").shuffle(order)
    if order == sorted(order):
        order[0], order[1] = order[1], order[0]
    return order


def to_html_handout(questions: Sequence[Question], *, answer_key: bool = False, seed: int = 0,
                    title: str = "Kasabach-Merritt syndrome: questions") -> str:
    """A printable handout (``answer_key=False``) or its separate, compact answer key.

    Items are numbered the same way in both, so a lecturer can hand out one and
    keep the other. The handout shows no item ids, topics or difficulty (an id
    such as ``differential-nait`` would name the answer); the key keeps them,
    opens with every answer letter on one line, and sets the items close
    together so that several fit on a printed page. Neither page contains
    script or loads anything from the web.
    """
    body = []
    if answer_key:
        title = f"{title}: answer key"
        glance = " &middot; ".join(f"<strong>{number}</strong>&nbsp;{_text(_key_letters(q, seed))}"
                                   for number, q in enumerate(questions, start=1))
        body.append(f'<p class="glance">{glance}</p>')
    else:
        body.append("<p>Choose the single best answer unless the question says otherwise. "
                    "For ordering questions, write the letters in order.</p>")
    for number, q in enumerate(questions, start=1):
        if answer_key:
            body.extend(_html_key(q, seed, number))
            continue
        parts = [f'<section class="item" id="q{number}">', f"<h2>Question {number}</h2>"]
        panel = _panel_text(q)
        if panel:
            parts.append(f"<pre>{_text(panel)}</pre>")
        parts.append(to_html(q.question))
        parts.extend(_html_answers(q, seed))
        parts.append("</section>")
        body.extend(parts)
    return _page(title, body)


def _html_answers(q: Question, seed: int) -> list[str]:
    if q.type == "numeric":
        return [f'<p>Answer: <span class="blank"></span> {escape_text(q.unit)}</p>']
    if q.type == "ordering":
        order = _ordering_shown(q, seed)
        items = "".join(f"<li>{to_html(q.options[i].text)}</li>" for i in order)
        return ["<p><em>Put these steps in order.</em></p>", f'<ol class="options">{items}</ol>',
                '<p>Order: <span class="blank"></span></p>']
    lead = "<p><em>Choose every option that applies.</em></p>" if q.type == "many_choice" else ""
    items = "".join(f"<li>{to_html(o.text)}</li>" for o in q.options)
    return [lead, f'<ol class="options">{items}</ol>']


def _key_letters(q: Question, seed: int) -> str:
    """The answer in letters (or the number), as printed in the key's first line."""
    if q.type == "numeric":
        value, _tolerance, _bands = _numbers(q, "the answer key")
        return f"{value:.3g} {q.unit}".strip()
    if q.type == "ordering":
        shown = _ordering_shown(q, seed)
        return ", ".join(_LETTERS[shown.index(i)] for i in range(len(q.options)))
    return ", ".join(_LETTERS[i] for i in q.correct_indices)


def _html_key(q: Question, seed: int, number: int) -> list[str]:
    if q.type == "numeric":
        value, tolerance, _bands = _numbers(q, "the answer key")
        answer = f"{value:.3g} {q.unit} (accepted within ±{tolerance:g})"
    elif q.type == "ordering":
        answer = _key_letters(q, seed)
    else:
        answer = ", ".join(f"{_LETTERS[i]} ({q.options[i].text})" for i in q.correct_indices)
    meta = f"{escape_text(q.topic.replace('_', ' '))}, {escape_text(q.difficulty)} &middot; {escape_text(q.id)}"
    return [f'<section class="key-item" id="{html.escape(q.id)}">',
            f'<p><strong>{number}.</strong> <span class="meta">{meta}</span> '
            f"<strong>Answer:</strong> {_text(answer)}</p>",
            to_html(q.explanation),
            f'<p class="meta">{_text(_sources(q))}</p>',
            "</section>"]

"""Hostile content through every render path, checked on the Python side.

The corpus (tests/data/hostile_strings.txt, >= 300 strings: script, event handlers, script URLs
in every encoding and split form, unclosed tags, Markdown link tricks, MathJax commands, unicode
controls, GIFT control characters) goes, with the loader bypassed, through: the quiz widget,
the branching case, the HTML handout and answer key, the jupyterquiz export as jupyterquiz's
``jaxify`` rewrites it (and through the real package's ``display_quiz``), and the GIFT export as
npm's gift-pegjs parses it. Every HTML result is audited for script-capable elements, ``on*``
attributes, URLs with a scheme other than http/https/mailto, surviving MathJax link/HTML commands
and invisible characters. The browser side is tests/browser/test_hostile_pages.py.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import ipywidgets as w
import pytest
import yaml

import hostile_corpus as corpus
from kms_teach.check import check_paths
from kms_teach.export import to_gift, to_html_handout, to_jupyterquiz
from kms_teach.markup import content_problem, escape_text, to_html, to_text
from kms_teach.questions import Bank, Option, Problem, Question

ROOT = Path(__file__).resolve().parents[1]
GIFT_PEGJS = ROOT / ".ci" / "node" / "node_modules" / "gift-pegjs"
GIFT_PEGJS_INSTALL = "npm install --prefix .ci/node gift-pegjs"

STRINGS = corpus.load()
ITEMS = corpus.hostile_questions(STRINGS)
#: Render paths tried per string (for the closing count printed by test_counts).
PATHS_TRIED: dict[str, int] = {}


def _tried(path: str, n: int) -> None:
    PATHS_TRIED[path] = PATHS_TRIED.get(path, 0) + n


def _widget_texts(widget) -> tuple[list[str], list[str]]:
    """(HTML values, plain-text labels) of a widget tree, as the front end would show them."""
    fragments, labels = [], []
    stack = [widget]
    while stack:
        current = stack.pop()
        if isinstance(current, (w.HTML, w.HTMLMath)):
            fragments.append(current.value)
        if getattr(current, "description", ""):
            labels.append(current.description)
        if getattr(current, "tooltip", None):
            labels.append(current.tooltip)
        if isinstance(current, (w.RadioButtons, w.Select, w.Dropdown)):
            labels.extend(str(label) for label in current._options_labels)
        stack.extend(getattr(current, "children", ()))
    return fragments, labels


def _problems_of(fragments, labels, *, where: str) -> list[str]:
    found = []
    for fragment in fragments:
        found += [f"{where}: {p}: {fragment[:120]!r}" for p in corpus.audit_html(fragment, own_figures=True)]
    for label in labels:
        found += [f"{where}: {p}: {label[:120]!r}" for p in corpus.audit_text(label)]
    return found


# ----------------------------------------------------------------------------- the corpus


def test_the_corpus_is_large_and_covers_every_kind_of_attack():
    assert len(STRINGS) >= 300 and len(set(STRINGS)) == len(STRINGS)
    assert STRINGS == corpus.generate(), "tests/data/hostile_strings.txt is stale: run python tests/hostile_corpus.py"
    kinds = {
        "script element": "<script>", "event handler": "onerror=", "unclosed tag": "<img src=x onerror=window",
        "tab in scheme": "java\tscript:", "newline in scheme": "java\nscript:", "entity scheme": "&#106;avascript:",
        "named entity colon": "javascript&colon;", "percent scheme": "%6Aavascript:", "mixed case": "JaVaScRiPt:",
        "vbscript": "vbscript:", "data html": "data:text/html", "control character": "\x01javascript:",
        "Markdown title": '"t\\" onmouseover', "reference link": "[r1]: ", "autolink": "<javascript:",
        "MathJax href": "\\href{", "MathJax url": "\\url{", "MathJax class": "\\class{", "MathJax style": "\\style{",
        "MathJax unicode": "\\unicode", "MathJax cssId": "\\cssId", "MathJax html": "\\html{", "MathJax def": "\\def",
        "bidi override": "\u202e", "zero width": "\u200b", "GIFT break-out": "::injected-question::",
    }
    missing = [kind for kind, marker in kinds.items() if not any(marker in s for s in STRINGS)]
    assert not missing


def test_every_string_renders_to_clean_markup_and_labels():
    problems = []
    for text in STRINGS:
        problems += [f"to_html: {p}: {text!r}" for p in corpus.audit_html(to_html(text))]
        problems += [f"escape_text: {p}: {text!r}" for p in corpus.audit_html(escape_text(text))]
        problems += [f"to_text: {p}: {text!r}" for p in corpus.audit_text(to_text(text))]
    _tried("markup (to_html, escape_text, to_text)", 3 * len(STRINGS))
    assert not problems, "\n".join(problems[:20])


def test_links_keep_only_http_https_and_mailto_and_a_safe_rel():
    assert to_html("[a](https://example.org/x?y=1)") == (
        '<p><a href="https://example.org/x?y=1" target="_blank" rel="noopener noreferrer">a</a></p>')
    assert 'href="mailto:a@example.org"' in to_html("[a](mailto:a@example.org)")
    for hostile in ("[a](java\tscript:x)", "[a](ftp://example.org)", "[a](relative/page.html)", "[a](//example.org)",
                    "[a](&#x6A;avascript:x)", "[a](\x01https://example.org)"):
        rendered = to_html(hostile)
        assert "href" not in rendered or 'href="https://example.org"' in rendered, (hostile, rendered)
    assert "⧵href" in to_html("$\\href{https://example.org}{x}$")  # the command is gone, the text stays


# ----------------------------------------------------------------------------- the quiz widget


def test_the_quiz_widget_shows_no_executable_html_for_any_hostile_string():
    from kms_teach.quiz import Quiz

    titles = {"hostile": STRINGS[0] + STRINGS[1]}
    problems_listed = tuple(Problem("x.yaml", 1, s[:30], "question", s) for s in STRINGS[:10])
    bank = Bank(questions=tuple(ITEMS), problems=problems_listed, titles=titles)
    quiz = Quiz(bank=bank, shuffle=False, title=STRINGS[2])
    found = []
    started = time.monotonic()
    for position, q in enumerate(quiz.questions):
        quiz.go(position)
        answers = [list(range(len(q.options)))] if q.type == "many_choice" else ["2", "4", "9"]
        for answer in answers:
            quiz.answer(answer)
            assert quiz.check() is not None
            found += _problems_of(*_widget_texts(quiz.widget), where=q.id)
    _tried("quiz widget", len(STRINGS))
    assert time.monotonic() - started < 30
    assert not found, "\n".join(found[:20])


# ----------------------------------------------------------------------------- the branching case


def test_the_branching_case_shows_no_executable_html_for_any_hostile_string(monkeypatch):
    from kms_teach import workup_widget
    from kms_teach.workup import load_workup

    base = load_workup()
    found = []
    for n, group in enumerate(corpus.chunks(STRINGS, corpus.workup_slots(base))):
        hostile = corpus.hostile_workup(base, group)
        monkeypatch.setattr(workup_widget, "load_workup", lambda _name, hostile=hostile: hostile)
        view = workup_widget.CaseWorkup("hostile")
        corpus.drive_workup(view, n)
        assert view.debrief is not None
        found += _problems_of(*_widget_texts(view.widget), where=f"work-up {n}")
    _tried("branching case", len(STRINGS))
    assert not found, "\n".join(found[:20])


# ----------------------------------------------------------------------------- the HTML handout


@pytest.mark.parametrize("answer_key", [False, True], ids=["handout", "answer key"])
def test_the_handout_and_key_hold_no_script_for_any_hostile_string(answer_key):
    page = to_html_handout(ITEMS, answer_key=answer_key, title=STRINGS[3])
    head, body = page.split("<main>", 1)
    assert head.count("<style>") == 1 and "<script" not in page.lower()  # the page's own head: one style sheet
    found = corpus.audit_html(body.rsplit("</main>", 1)[0])
    _tried("HTML answer key" if answer_key else "HTML handout", len(STRINGS))
    assert not found, found[:20]
    assert "<script" not in page.lower()


# ----------------------------------------------------------------------------- jupyterquiz


def test_the_jaxify_port_matches_the_installed_jupyterquiz():
    jupyterquiz = pytest.importorskip("jupyterquiz")
    helpers = (Path(jupyterquiz.__file__).parent / "js" / "helpers.js").read_text(encoding="utf-8")
    for line in (r"mystring = mystring.replace(/<http(.*?)>/g, '<a href=\"http$1\" target=\"_blank\" "
                 r"class=\"Quiz JQLink\">http$1</a>');",
                 r"mystring = mystring.replace(/\[(.*?)\]\((.*?)\)/g, '<a href=\"$2\" target=\"_blank\" "
                 r"class=\"Quiz JQLink\">$1</a>');"):
        assert line.replace('\\"', '"') in helpers, "jupyterquiz's jaxify changed: update hostile_corpus.jaxify"
    # the port turns Markdown links into links, as the package does: so the export must not hold any
    assert 'href="javascript:x"' in corpus.jaxify("[a](javascript:x)")


def test_the_jupyterquiz_export_is_inert_after_jupyterquiz_rewrites_it():
    data = json.loads(to_jupyterquiz(ITEMS))
    found = []
    for item in data:
        shown = [corpus.jaxify(item["question"]), item.get("code", "")]  # code goes in as innerHTML, unrewritten
        for answer in item["answers"]:
            shown += [corpus.jaxify(answer.get("answer", "")), corpus.jaxify(answer.get("feedback", ""))]
        for fragment in shown:
            found += [f"{p}: {fragment[:120]!r}" for p in corpus.audit_html(fragment)]
    _tried("jupyterquiz export (jaxify + innerHTML)", len(STRINGS))
    assert not found, "\n".join(found[:20])


def test_the_real_jupyterquiz_package_accepts_the_export(monkeypatch):
    pytest.importorskip("jupyterquiz")
    from jupyterquiz.dynamic import display as jq_display

    shown = []
    monkeypatch.setattr(jq_display, "display", lambda obj: shown.append(obj))
    jq_display.display_quiz(json.loads(to_jupyterquiz(ITEMS)), shuffle_answers=False)
    html_part, script = shown[0].data, shown[1].data
    assert html_part.startswith("<div id=") and "show_questions(" in script
    assert "javascript:" not in html_part


# ----------------------------------------------------------------------------- GIFT


def _gift_pegjs_parse(text: str) -> list[dict]:
    node = shutil.which("node")
    if node is None or not (GIFT_PEGJS / "package.json").is_file():
        missing = "node" if node is None else "gift-pegjs"
        pytest.skip(f"{missing} is missing; install gift-pegjs with: {GIFT_PEGJS_INSTALL}")
    program = ("const g=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d);"
               "process.stdin.on('end',()=>{process.stdout.write(JSON.stringify(g.parse(s)))});")
    result = subprocess.run([node, "-e", program, str(GIFT_PEGJS)], input=text, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def gift_form(fragment: str) -> str:
    """A field as GIFT carries it: every kind of line break written as one newline."""
    return re.sub("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", "\n", fragment).strip()


def test_the_gift_export_cannot_be_broken_out_of_and_holds_no_script():
    text = to_gift(ITEMS)
    parsed = _gift_pegjs_parse(text)
    assert [q["title"] for q in parsed] == [q.id for q in ITEMS]  # no injected or swallowed question
    found = []
    for q, item in zip(ITEMS, parsed):
        assert item["stem"]["format"] == "html" and item["stem"]["text"] == gift_form(to_html(q.question)), q.id
        fields = [item["stem"]["text"], (item.get("globalFeedback") or {}).get("text", "")]
        for choice in item["choices"]:
            if isinstance(choice["text"], dict) and "format" in choice["text"]:
                fields.append(choice["text"]["text"])
            fields.append((choice.get("feedback") or {}).get("text", ""))
        if q.type == "many_choice":
            assert [c["text"]["text"] for c in item["choices"]] == [gift_form(to_html(o.text)) for o in q.options]
            assert [c["feedback"]["text"] for c in item["choices"]] == [gift_form(to_html(o.feedback))
                                                                         for o in q.options]
        for fragment in fields:
            found += [f"{q.id}: {p}: {fragment[:120]!r}" for p in corpus.audit_html(fragment)]
    _tried("GIFT export (gift-pegjs)", len(STRINGS))
    assert not found, "\n".join(found[:20])


def test_a_multi_line_objective_stays_inside_its_comment():
    q = Question(id="demo-objective", topic="demo", type="multiple_choice", question="Which?", difficulty="easy",
                 objective="two\n\n::injected::Injected?{=yes}\r\u2028lines", explanation="e", citations=("c",),
                 options=(Option("a", True, "f"), Option("b", False, "f")))
    comment = [line for line in to_gift([q]).splitlines() if line.startswith("// demo-objective")]
    assert comment and "::injected::" in comment[0]
    assert sum(line.startswith("::") for line in to_gift([q]).splitlines()) == 1


# ----------------------------------------------------------------------------- nan and inf


def _numeric(**changes) -> Question:
    base = dict(id="demo-numeric", topic="demo", type="numeric", question="How many?", objective="o",
                difficulty="easy", explanation="e", citations=("c",), unit="g/L", value=2.0, tolerance=0.5,
                range_feedback=((3.0, 5.0, "band"),))
    base.update(changes)
    return Question(**base)


@pytest.mark.parametrize("changes, field", [
    ({"tolerance": float("inf")}, "tolerance"), ({"tolerance": float("nan")}, "tolerance"),
    ({"value": float("nan")}, "expected answer"), ({"value": float("-inf")}, "expected answer"),
    ({"range_feedback": ((float("-inf"), 1.0, "b"),)}, "range_feedback.0.low"),
    ({"range_feedback": ((1.0, float("nan"), "b"),)}, "range_feedback.0.high"),
])
@pytest.mark.parametrize("export", [to_gift, to_jupyterquiz, lambda qs: to_html_handout(qs, answer_key=True)],
                         ids=["gift", "jupyterquiz", "answer key"])
def test_exports_refuse_nan_and_inf_in_one_line(changes, field, export):
    with pytest.raises(ValueError) as caught:
        export([_numeric(**changes)])
    message = str(caught.value)
    assert "\n" not in message and "demo-numeric" in message and field in message and "finite" in message


def test_gift_numbers_are_positional_and_exact():
    text = to_gift([_numeric(value=123456789.0, tolerance=1e-7)])
    assert "=123456789:0.0000001#" in text and "e+" not in text and "e-" not in text


# ----------------------------------------------------------------------------- kms-teach check


def _question_file(tmp_path, text: str) -> Path:
    source = yaml.safe_load((ROOT / "assets" / "questions" / "differential.yaml").read_text(encoding="utf-8"))
    item = next(i for i in source["questions"] if i.get("type") == "multiple_choice" and "case" not in i)
    item = dict(item, question=text)
    path = tmp_path / "questions" / "hostile.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump({k: v for k, v in source.items() if k != "questions"} | {"questions": [item]},
                                   allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("text, words", [
    ("Which? $\\href{java\nscript:alert(1)}{the reference}$", "javascript"),
    ("Which? $\\href{https://example.org}{x}$", "\\href"),
    ("Which? $\\class{x}{y}$ and $\\unicode{x41}$", "\\class"),
    ("Which? [hover me](x\" onmouseover=\"alert(1))", "link-like text"),
    ("Which? <img src=x onerror=alert(1)", "raw HTML"),
    ("Which? [x](jav&#x09;ascript:alert(1))", "entities"),
    ("Which? [x](%6Aavascript:alert(1))", "javascript"),
    ("Which? [x][r]\n\n[r]: vbscript:msgbox", "vbscript"),
    ("Which \u202eoption?", "U+202E"),
])
def test_check_names_the_unsafe_construct(tmp_path, text, words):
    problems = check_paths([_question_file(tmp_path, text)])
    assert any(words in p.message and p.field == "question" for p in problems), [str(p) for p in problems]


def test_check_refuses_most_of_the_corpus_and_the_rest_renders_inert():
    refused = [s for s in STRINGS if content_problem(s)]
    accepted = [s for s in STRINGS if not content_problem(s)]
    # Accepted strings are plain text (GIFT characters, quotes, template syntax): the renderer
    # still has to make them inert, which the tests above check for every string.
    assert len(refused) >= 0.85 * len(STRINGS)
    assert not [s for s in accepted if "<script" in s.lower() or "\\href" in s or "javascript:" in s]
    assert content_problem("Platelets < 20 ×10^9/L; see [the guideline](https://example.org \"title\") "
                           "and <https://example.org>; $\\frac{1}{2}$ & more") is None


def test_check_also_names_unsafe_text_in_a_topic_title(tmp_path):
    path = _question_file(tmp_path, "Which diagnosis is most likely?")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["title"] = "Differential <script>alert(1)</script>"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert any(p.field == "title" and "raw HTML" in p.message for p in check_paths([path]))


def test_counts(capsys):
    """Print the closing numbers: hostile strings x render paths tried (filled by the tests above)."""
    with capsys.disabled():
        total = sum(PATHS_TRIED.values())
        print(f"\nhostile strings: {len(STRINGS)}; render paths tried: {len(PATHS_TRIED)}; "
              f"string x path renders: {total}")
        for path, n in PATHS_TRIED.items():
            print(f"  {path}: {n}")

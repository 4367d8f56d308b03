"""Exports: GIFT and jupyterquiz read back to the same items; the HTML handout is static and safe."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import nbformat
import pytest

from kms_teach import load_bank
from kms_teach.cli import main
from kms_teach.export import select_questions, to_gift, to_html_handout, to_jupyterquiz
from kms_teach.markup import to_html
from kms_teach.questions import Option, Question, expected_value

BANK = load_bank()
EXPORTABLE = [q for q in BANK if q.type != "ordering"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- GIFT, read back


def gift_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def parse_gift(text: str) -> dict[str, dict]:
    """A small GIFT reader: enough of the format to check what we write."""
    items = {}
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if not line.startswith("//")]
        if not lines:
            continue
        head = re.match(r"::(.+?)::\[html\](.*)\{#?$", lines[0])
        assert head, lines[0]
        qid = gift_unescape(head.group(1))
        answers = []
        general = None
        for line in lines[1:-1]:
            line = line.strip()
            if line.startswith("####"):
                general = gift_unescape(line[4:])
                continue
            mark, rest = line[0], line[1:]
            weight = None
            m = re.match(r"%(-?[\d.]+)%(.*)", rest)
            if m:
                weight, rest = float(m.group(1)), m.group(2)
            text_part, _, feedback = re.split(r"(?<!\\)(#)", rest, maxsplit=1)
            answers.append({"mark": mark, "weight": weight, "text": gift_unescape(text_part),
                            "feedback": gift_unescape(feedback)})
        assert lines[-1] == "}"
        items[qid] = {"stem": gift_unescape(head.group(2)), "answers": answers, "general": general}
    return items


def test_gift_reads_back_to_the_same_answer_keys():
    parsed = parse_gift(to_gift(BANK))
    assert set(parsed) == {q.id for q in EXPORTABLE}
    for q in EXPORTABLE:
        item = parsed[q.id]
        assert item["stem"].endswith(to_html(q.question))
        assert html.escape(q.citations[0]) in item["general"]
        if q.type == "multiple_choice":
            right = [a["text"] for a in item["answers"] if a["mark"] == "="]
            assert right == [to_html(q.options[q.correct_indices[0]].text)]
            assert [a["feedback"] for a in item["answers"]] == [to_html(o.feedback) for o in q.options]
        elif q.type == "many_choice":
            weights = [a["weight"] for a in item["answers"]]
            assert sum(w for w in weights if w > 0) == pytest.approx(100, abs=0.01)
            assert [w > 0 for w in weights] == [o.correct for o in q.options]
        else:
            value, tolerance = item["answers"][0]["text"].split(":")
            assert float(value) == pytest.approx(expected_value(q), rel=1e-5)
            assert float(tolerance) == pytest.approx(q.tolerance)


def test_gift_shows_the_model_panel_for_case_items():
    q = next(q for q in EXPORTABLE if q.case is not None)
    stem = parse_gift(to_gift([q]))[q.id]["stem"]
    assert "Laboratory results (simulated" in stem and "Platelets" in stem


def test_gift_escapes_its_control_characters():
    q = Question(id="demo-escape", topic="demo", type="multiple_choice", question="Is a = b {x} #1: ~ ok?",
                 objective="o", difficulty="easy", explanation="e", citations=("c",),
                 options=(Option("a = b", True, "yes #1"), Option("{c}", False, "no ~"), Option("d:e", False, "n")))
    item = parse_gift(to_gift([q]))["demo-escape"]
    assert item["stem"] == to_html(q.question)
    assert [a["text"] for a in item["answers"]] == ["<p>a = b</p>", "<p>{c}</p>", "<p>d:e</p>"]
    assert item["answers"][0]["feedback"] == "<p>yes #1</p>"


# ---------------------------------------------------------------- jupyterquiz, read back


def test_jupyterquiz_json_reads_back_to_the_same_items():
    data = json.loads(to_jupyterquiz(BANK))
    assert len(data) == len(EXPORTABLE)
    for q, item in zip(EXPORTABLE, data):
        assert html.unescape(item["question"]) == html.unescape(to_html(q.question)) and item["type"] == q.type
        if q.type == "numeric":
            right = [a for a in item["answers"] if a.get("correct")]
            low, high = right[0]["range"]
            assert low <= expected_value(q) <= high
            assert item["answers"][-1]["type"] == "default"
        else:
            assert [text_of(a["answer"]) for a in item["answers"]] == [text_of(to_html(o.text)) for o in q.options]
            assert [a["correct"] for a in item["answers"]] == [o.correct for o in q.options]
        assert ("code" in item) == (q.case is not None)


def text_of(fragment: str) -> str:
    """The words a reader sees in an HTML fragment."""
    words = []
    parser = HTMLParser()
    parser.handle_data = words.append
    parser.feed(fragment)
    return " ".join("".join(words).split())


# ---------------------------------------------------------------- HTML handout


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)


def tags_of(page: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(page)
    return collector


@pytest.mark.parametrize("answer_key", [False, True])
def test_the_handout_and_key_are_static_pages(answer_key):
    page = to_html_handout(list(BANK), answer_key=answer_key)
    found = tags_of(page)
    assert not {"script", "iframe", "object", "embed", "link", "img"} & set(found.tags)
    assert not [name for name, _ in found.attributes if name.startswith("on")]
    assert not [value for name, value in found.attributes if name in ("src", "href") and value and
                value.startswith(("http", "//", "javascript"))]
    assert "not for clinical decisions" in page
    # Ids can name the answer (e.g. differential-nait): only the key carries them.
    assert all((f'id="{q.id}"' in page) == answer_key for q in BANK)
    assert all((q.id in page) == answer_key for q in BANK)


def test_the_handout_hides_answers_and_the_key_gives_them():
    q = next(q for q in BANK if q.type == "multiple_choice")
    handout = to_html_handout([q])
    key = to_html_handout([q], answer_key=True)
    right = q.options[q.correct_indices[0]]
    assert right.feedback[:40] not in handout and "Answer:" not in handout
    assert "Answer:" in key and right.text in key and q.citations[0] in key


def test_ordering_letters_in_the_key_match_the_handout():
    q = next(q for q in BANK if q.type == "ordering")
    handout, key = to_html_handout([q], seed=3), to_html_handout([q], answer_key=True, seed=3)
    shown = re.findall(r"<li><p>(.*?)</p></li>", handout)
    letters = re.search(r"<strong>Answer:</strong> ([A-F, ]+)</p>", key).group(1).split(", ")
    assert [shown["ABCDEF".index(letter)] for letter in letters] == [o.text for o in q.options]


def test_hostile_text_is_escaped_in_the_handout():
    q = Question(id="demo-hostile", topic="demo", type="multiple_choice",
                 question="<script>alert(1)</script> Which? [x](javascript:alert(1))", objective="o",
                 difficulty="easy", explanation="<img src=x onerror=alert(1)>", citations=("c",),
                 options=(Option("<b>a</b>", True, "f"), Option("b", False, "f"), Option("c", False, "f")))
    for page in (to_html_handout([q]), to_html_handout([q], answer_key=True)):
        found = tags_of(page)
        assert "script" not in found.tags and "img" not in found.tags and "b" not in found.tags
        assert not [v for name, v in found.attributes if v and "javascript:" in v.lower()]


# ---------------------------------------------------------------- selection and the command line


def test_selection_filters_combine_and_draws_are_seeded():
    easy_treatment = select_questions(BANK, topics=["treatment"], difficulty=["easy"])
    assert easy_treatment and all(q.topic == "treatment" and q.difficulty == "easy" for q in easy_treatment)
    one = select_questions(BANK, n=10, seed=4)
    assert len(one) == 10 and one == select_questions(BANK, n=10, seed=4)
    assert one != select_questions(BANK, n=10, seed=5)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["export", "gift", "--topic", "astrology"], "topics in the bank: "),
        (["export", "gift", "--id", "no-such-item"], "no question with id 'no-such-item'"),
        (["export", "gift", "--answer-key"], "html format only"),
        (["export", "pdf"], "invalid choice"),
        (["quiz", "--output", "quiz.txt"], "ending in .ipynb"),
    ],
)
def test_bad_export_requests_get_one_clear_line(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert words in err and len(err.strip().splitlines()) == 1


def test_export_writes_files_and_notes_what_it_left_out(capsys, tmp_path):
    target = tmp_path / "bank.gift"
    code, out, err = run(capsys, "export", "gift", "--output", str(target))
    assert code == 0 and out == f"wrote {target}\n"
    assert "ordering item(s) have no gift form" in err
    assert len(parse_gift(target.read_text(encoding="utf-8"))) == len(EXPORTABLE)
    code, out, _ = run(capsys, "export", "html", "--answer-key", "--topic", "workup")
    assert code == 0 and out.startswith("<!DOCTYPE html>") and "answer key" in out


def test_quiz_command_lists_and_writes_a_runnable_notebook(capsys, tmp_path):
    code, out, _ = run(capsys, "quiz", "--topic", "differential", "--difficulty", "hard", "--list")
    ids = [line.split()[0] for line in out.splitlines()]
    assert code == 0 and ids == [q.id for q in select_questions(BANK, topics=["differential"], difficulty=["hard"])]
    path = tmp_path / "my-quiz.ipynb"
    code, _, _ = run(capsys, "quiz", "--topic", "differential", "--difficulty", "hard", "--output", str(path))
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code_cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert len(code_cells) == 1 and all(repr(i) in code_cells[0] for i in ids)
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[1].outputs
    assert outputs and all(o.get("output_type") != "error" for o in outputs)
    assert f"<Quiz: {len(ids)} question(s)" in json.dumps(outputs)

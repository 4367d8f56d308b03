"""Answers files: one versioned format that merges, keeps every attempt, and never loses or clobbers a file.

Covers the format (schema, first and later attempts, branching-case decisions, 0.1.0 files),
the file rules (atomic, merged, foreign or newer files untouched, size and depth bounds) and the
two deliveries of the save/load controls (Jupyter: the lesson's file next to the notebook; Voila:
download and upload only, no server path anywhere).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import stat

import ipywidgets as w
import jsonschema
import pytest

from kms_teach import progress
from kms_teach.answers_bar import LEGACY_FILE
from kms_teach.progress import (
    MAX_LATER_ATTEMPTS,
    Answers,
    AnswersError,
    answer_book,
    delivery,
    load_answers,
    parse_answers,
    save_answers,
    schema_path,
)
from kms_teach.quiz import Quiz
from kms_teach.workup_widget import CaseWorkup

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
BANK = "sha256:0123456789abcdef"


@pytest.fixture(autouse=True)
def fresh_kernel(monkeypatch, tmp_path):
    """Each test: a kernel with no answers yet, Jupyter delivery, working in its own folder."""
    monkeypatch.setattr(progress, "_BOOKS", {})
    for name in ("KMS_TEACH_DELIVERY", "SERVER_SOFTWARE", "VOILA_PREHEAT", "VOILA_BASE_URL", "VOILA_SERVER_URL",
                 "VOILA_KERNEL_ID", "KMS_TEACH_LEARNER_ID", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def schema_validator():
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def right(q):
    """The right response to an item, in the form grade() takes."""
    if q.type == "multiple_choice":
        return q.correct_indices[0]
    if q.type == "many_choice":
        return list(q.correct_indices)
    if q.type == "numeric":
        return q.value
    return list(range(len(q.options)))


def wrong(q):
    if q.type == "multiple_choice":
        return next(i for i in range(len(q.options)) if i not in q.correct_indices)
    if q.type == "many_choice":
        return [i for i in range(len(q.options)) if i not in q.correct_indices] or [0]
    if q.type == "numeric":
        return q.value + 100 * (q.tolerance + 1)
    return list(reversed(range(len(q.options))))


def answer(quiz, response_for) -> None:
    """Answer every item of ``quiz`` with ``response_for(question)`` and check it."""
    for position in range(len(quiz.questions)):
        quiz.go(position)
        quiz.answer(response_for(quiz.question))
        assert quiz.check() is not None


def two_attempts() -> Answers:
    answers = Answers()
    answers.record_attempt("lesson-00", "item-a", 1, 0.0, False, bank_version=BANK, time="2026-12-01T10:00:00.000Z")
    answers.record_attempt("lesson-00", "item-a", 2, 1.0, True, bank_version=BANK, time="2026-12-01T10:01:00.000Z")
    return answers


# ----------------------------------------------------------------------------- format


def test_first_attempt_is_kept_and_later_attempts_are_appended_with_utc_times():
    quiz = Quiz(lesson=0, seed=0)
    answer(quiz, wrong)
    quiz.retry()  # a new deal clears the screen, never the record
    answer(quiz, right)
    answer(quiz, right)
    items = quiz.answers.quizzes["lesson-00"]["items"]
    assert set(items) == {q.id for q in quiz.questions}
    for entry in items.values():
        assert entry["first_attempt"]["correct"] is False  # the wrong first try stays the scored one
        assert [a["correct"] for a in entry["later_attempts"]] == [True, True]
        times = [entry["first_attempt"]["time"], *(a["time"] for a in entry["later_attempts"])]
        assert all(ISO_UTC.match(t) for t in times) and times == sorted(times)
    assert quiz.answers.quizzes["lesson-00"]["bank_version"] == quiz.bank_version
    assert quiz.bank_version.startswith("sha256:")


def test_later_attempts_are_bounded_and_the_first_never_dropped():
    answers = Answers()
    for k in range(MAX_LATER_ATTEMPTS + 10):
        answers.record_attempt("q", "item", k % 3, 0.0, False, bank_version=BANK,
                               time=f"2026-12-01T10:{k // 60:02d}:{k % 60:02d}.000Z")
    entry = answers.quizzes["q"]["items"]["item"]
    assert entry["first_attempt"]["time"] == "2026-12-01T10:00:00.000Z"
    assert len(entry["later_attempts"]) == MAX_LATER_ATTEMPTS
    assert entry["later_attempts"][-1]["time"] == f"2026-12-01T10:00:{MAX_LATER_ATTEMPTS + 9}.000Z"


def test_schema_validates_real_output_of_quizzes_and_the_branching_case(tmp_path, monkeypatch):
    monkeypatch.setenv("KMS_TEACH_LEARNER_ID", "student-17")
    quiz = Quiz(lesson=1, seed=0, answers_file="answers-practice.json")
    answer(quiz, wrong)
    answer(quiz, right)
    case = CaseWorkup("khe-workup")  # the same default file: answers-practice.json
    for test_id in list(case.tests)[:3]:
        case.tests[test_id].value = True
    case.order()
    case.diagnosis.value = case.workup.diagnosis.options[0].id
    case.confirm_diagnosis()
    case.plan.value = case.workup.plans.options[0].id
    case.start_plan()
    case.show_debrief()
    assert quiz.save()
    data = json.loads((tmp_path / "answers-practice.json").read_text(encoding="utf-8"))
    errors = [e.message for e in schema_validator().iter_errors(data)]
    assert errors == []
    assert data["format"] == "kms-teach-answers" and data["format_version"] == "2.0"
    assert data["learner_id"] == "student-17"
    assert set(data["quizzes"]) == {"lesson-01"}
    run = data["cases"]["khe-workup"]["runs"][0]
    assert [d["step"] for d in run["decisions"]] == ["tests", "diagnosis", "plan"]
    assert run["decisions"][0]["choice"] == list(case.tests)[:3]
    assert isinstance(run["decisions"][1]["correct"], bool) and run["decisions"][2]["verdict"]
    assert 0 <= run["score"] <= 1
    assert data["cases"]["khe-workup"]["case_version"].startswith("sha256:")


def test_starting_the_case_again_opens_a_new_run_and_keeps_the_first():
    case = CaseWorkup("khe-workup")
    case.order()
    case.reset()
    case.tests[list(case.tests)[0]].value = True
    case.order()
    runs = case.book.answers.cases["khe-workup"]["runs"]
    assert [r["decisions"][0]["choice"] for r in runs] == [[], [list(case.tests)[0]]]


# ----------------------------------------------------------------------------- merging


def test_saving_merges_with_other_quizzes_already_in_the_file(tmp_path):
    # review-review H4: the second quiz's save wiped the first quiz's answers
    first = Quiz(lesson=0, seed=0, answers_file="shared.json")
    answer(first, right)
    assert first.save()
    progress._BOOKS.clear()  # a later session: a new kernel, nothing loaded
    second = Quiz(lesson=1, seed=0, answers_file="shared.json")
    answer(second, wrong)
    assert second.save() and "were kept" in second.file_status.value
    data = load_answers(tmp_path / "shared.json")
    assert set(data.quizzes) == {"lesson-00", "lesson-01"}
    assert len(data.quizzes["lesson-00"]["items"]) == len(first.questions)
    assert len(data.quizzes["lesson-01"]["items"]) == len(second.questions)


def test_merging_two_sessions_unites_attempts_and_keeps_the_earliest_first(tmp_path):
    path = tmp_path / "answers.json"
    save_answers(two_attempts(), path)
    other = Answers()
    other.record_attempt("lesson-00", "item-a", 0, 0.0, False, bank_version=BANK, time="2026-12-01T09:00:00.000Z")
    other.record_attempt("lesson-00", "item-b", 1, 1.0, True, bank_version=BANK, time="2026-12-01T09:05:00.000Z")
    save_answers(other, path)
    save_answers(other, path)  # saving the same answers again adds nothing
    entry = load_answers(path).quizzes["lesson-00"]["items"]
    assert entry["item-a"]["first_attempt"]["time"] == "2026-12-01T09:00:00.000Z"
    assert [a["response"] for a in entry["item-a"]["later_attempts"]] == [1, 2]
    assert set(entry) == {"item-a", "item-b"}


def test_a_new_bank_version_tags_older_attempts_instead_of_dropping_them(tmp_path):
    path = save_answers(two_attempts(), tmp_path / "answers.json")
    newer = Answers()
    newer.record_attempt("lesson-00", "item-a", 2, 1.0, True, bank_version="sha256:fedcba9876543210",
                         time="2026-12-02T08:00:00.000Z")
    save_answers(newer, path)
    quiz = load_answers(path).quizzes["lesson-00"]
    assert quiz["bank_version"] == "sha256:fedcba9876543210"
    entry = quiz["items"]["item-a"]
    assert entry["first_attempt"]["bank_version"] == BANK
    assert "bank_version" not in entry["later_attempts"][-1]
    assert len(entry["later_attempts"]) == 2


def test_two_learners_answers_never_mix(tmp_path):
    path = tmp_path / "answers.json"
    save_answers(Answers(learner_id="ana"), path)
    before = path.read_bytes()
    with pytest.raises(AnswersError, match="learner 'ana'") as caught:
        save_answers(Answers(learner_id="ben"), path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert path.read_bytes() == before


def test_loading_restores_every_quiz_of_the_page_and_the_retry_first_attempt(tmp_path):
    one = Quiz(lesson=0, seed=0, answers_file="answers-practice.json", title="Practice one")
    two = Quiz(lesson=1, seed=0, answers_file="answers-practice.json", title="Practice two")
    answer(one, right)
    answer(two, wrong)
    assert one.save()
    progress._BOOKS.clear()  # a new kernel: the learner comes back another day
    one_again = Quiz(lesson=0, seed=3, answers_file="answers-practice.json", title="Practice one")
    two_again = Quiz(lesson=1, seed=3, answers_file="answers-practice.json", title="Practice two")
    assert not one_again.results and not two_again.results
    assert one_again.load()  # one press restores both quizzes
    assert {k: r.correct for k, r in one_again.results.items()} == {q.id: True for q in one.questions}
    assert {k: r.correct for k, r in two_again.results.items()} == {q.id: False for q in two.questions}
    assert f"{len(one.questions)} answers restored in this quiz" in one_again.file_status.value


# ----------------------------------------------------------------------------- old files


LEGACY = {"format": "kms-teach-progress", "version": 1,
          "answers": {"ITEM": {"response": None, "score": 1.0, "correct": True}}}


def test_a_0_1_0_progress_file_loads_migrated_and_restores_the_quiz(tmp_path):
    quiz = Quiz(lesson=0, seed=0)
    q = quiz.questions[0]
    legacy = json.loads(json.dumps(LEGACY).replace("ITEM", q.id))
    legacy["answers"][q.id]["response"] = right(q)
    (tmp_path / LEGACY_FILE).write_text(json.dumps(legacy), encoding="utf-8")
    before = (tmp_path / LEGACY_FILE).read_bytes()
    assert quiz.load(), quiz.file_status.value  # the lesson's file does not exist yet: 0.1.0's is read
    assert quiz.results[q.id].correct
    migrated = quiz.answers.quizzes[progress.LEGACY_QUIZ_ID]
    assert "kms-teach-progress version 1" in migrated["migrated_from"]
    assert ISO_UTC.match(migrated["items"][q.id]["first_attempt"]["time"])
    assert quiz.save()  # into answers-lesson-00.json; the old file is never rewritten
    assert (tmp_path / LEGACY_FILE).read_bytes() == before
    assert schema_validator().is_valid(json.loads((tmp_path / "answers-lesson-00.json").read_text()))


# ----------------------------------------------------------------------------- bad files


FOREIGN = [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ('{"format": "someone-elses-notes", "answers": {}}', "not a kms-teach answers file"),
    ('{"cells": [], "nbformat": 4}', "not a kms-teach answers file"),
    ("[1, 2, 3]", "not a kms-teach answers file"),
    ('{"format": "kms-teach-answers", "format_version": "3.0", "quizzes": {}}', "newer kms-teach"),
    ('{"format": "kms-teach-answers", "format_version": 2, "quizzes": {}}', "not MAJOR.MINOR"),
    ('{"format": "kms-teach-progress", "version": 99, "answers": {}}', "version 99"),
    ('{"format": "kms-teach-progress", "version": 1, "answers": {"x": 3}}', "x: the answer is damaged"),
    ('{"format": "kms-teach-progress", "version": 1, "answers": {"x": {"response": "9.5", "score": 1, '
     '"correct": true}}}', "damaged"),
    ('{"format": "kms-teach-answers", "format_version": "2.0", "quizzes": {"q": {"bank_version": "unknown", '
     '"items": {"i": {"first_attempt": {"time": "2026-12-01T10:00:00Z", "response": "9.5", "score": 1, '
     '"correct": true}, "later_attempts": []}}}}}', "quizzes > q > items > i > first_attempt > response"),
    ('{"format": "kms-teach-answers", "format_version": "2.0", "quizzes": {"q": {"bank_version": "unknown", '
     '"items": {"i": {"first_attempt": {"time": "yesterday", "response": 1, "score": 1, "correct": true}, '
     '"later_attempts": []}}}}}', "time"),
    ('{"format": "kms-teach-answers", "format_version": "2.0", "quizzes": {}, "quizzes": {}}', "appears twice"),
    ('{"format": "kms-teach-answers", "format_version": "2.0", "quizzes": {"q": {"bank_version": "unknown", '
     '"items": {"i": {"first_attempt": {"time": "2026-12-01T10:00:00Z", "response": NaN, "score": 1, '
     '"correct": true}, "later_attempts": []}}}}}', "NaN"),
    ('{"format": "kms-teach-answers", "format_version": "2.0", "quizzes": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "nested too deeply"),
    ('{"format": "kms-teach-answers", "format_version": "2.0", "quizzes": {"q": ' + '{"a": ' * 30 + "1"
     + "}" * 30 + "}}", "nested too deeply"),
]


@pytest.mark.parametrize("content, words", FOREIGN, ids=[f"case{n}" for n in range(len(FOREIGN))])
def test_a_corrupt_foreign_or_newer_file_is_reported_in_one_line_and_never_touched(tmp_path, content, words):
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    for action in (lambda: load_answers(path), lambda: save_answers(two_attempts(), path)):
        with pytest.raises(AnswersError, match=re.escape(words)) as caught:
            action()
        message = str(caught.value)
        assert message.startswith(str(path)) and "\n" not in message and len(message) < 400
    assert path.read_text(encoding="utf-8") == content  # untouched
    assert path.stat().st_mtime == 1_700_000_000
    assert sorted(os.listdir(tmp_path)) == ["answers.json"]


def test_non_utf8_and_oversized_files_are_refused_unread(tmp_path):
    path = tmp_path / "answers.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(AnswersError, match="not UTF-8"):
        load_answers(path)
    path.write_bytes(b" " * (progress.MAX_BYTES + 1))
    with pytest.raises(AnswersError, match="larger than"):
        load_answers(path)
    with pytest.raises(AnswersError, match="larger than"):
        save_answers(two_attempts(), path)
    assert path.stat().st_size == progress.MAX_BYTES + 1


def test_a_file_of_a_newer_minor_version_loads_and_keeps_its_new_fields(tmp_path):
    path = save_answers(two_attempts(), tmp_path / "answers.json")
    data = json.loads(path.read_text())
    data["format_version"] = "2.7"
    data["class_section"] = "B"  # a field a later version added
    data["quizzes"]["lesson-00"]["items"]["item-a"]["first_attempt"]["confidence"] = 3
    path.write_text(json.dumps(data))
    again = Answers()
    again.record_attempt("lesson-01", "item-z", 0, 1.0, True, bank_version=BANK)
    save_answers(again, path)
    kept = json.loads(path.read_text())
    assert kept["format_version"] == "2.7" and kept["class_section"] == "B"
    assert kept["quizzes"]["lesson-00"]["items"]["item-a"]["first_attempt"]["confidence"] == 3
    assert set(kept["quizzes"]) == {"lesson-00", "lesson-01"}


# ----------------------------------------------------------------------------- writing


def test_saving_is_atomic_and_leaves_no_temporary_files(tmp_path):
    save_answers(two_attempts(), tmp_path / "answers.json")
    save_answers(two_attempts(), tmp_path / "answers.json")
    assert sorted(os.listdir(tmp_path)) == ["answers.json"]


def test_a_failed_rename_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = save_answers(two_attempts(), tmp_path / "answers.json")
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    bigger = two_attempts()
    bigger.record_attempt("lesson-00", "extra-item", 0, 0.0, False, bank_version=BANK)
    with pytest.raises(AnswersError, match="No space left"):
        save_answers(bigger, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["answers.json"]


def test_a_read_only_file_is_refused(tmp_path, monkeypatch):
    path = save_answers(two_attempts(), tmp_path / "answers.json")
    before = path.read_bytes()
    monkeypatch.setattr(os, "access", lambda p, mode: mode != os.W_OK)
    with pytest.raises(AnswersError, match="is read-only; nothing was written"):
        save_answers(Answers(), path)
    assert path.read_bytes() == before


def test_saving_keeps_the_files_permissions_and_writes_through_a_link(tmp_path):
    real = save_answers(two_attempts(), tmp_path / "real.json")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    more = Answers()
    more.record_attempt("lesson-04", "item-c", 1, 1.0, True, bank_version=BANK)
    save_answers(more, link)
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert set(load_answers(real).quizzes) == {"lesson-00", "lesson-04"}


def test_an_unwritable_place_and_a_folder_are_reported_with_the_file_name(tmp_path):
    with pytest.raises(AnswersError, match="no-such-folder/answers.json: cannot be written"):
        save_answers(two_attempts(), tmp_path / "no-such-folder" / "answers.json")
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(AnswersError, match="is a folder"):
        save_answers(two_attempts(), tmp_path / "folder.json")
    with pytest.raises(AnswersError, match="no such file"):
        load_answers(tmp_path / "missing.json")


# ----------------------------------------------------------------------------- deliveries


@pytest.mark.parametrize("env, expected", [
    ({}, "jupyter"),
    ({"SERVER_SOFTWARE": "voila/0.5.13"}, "voila"),  # set by Voila for a page's kernel
    ({"VOILA_PREHEAT": "True", "VOILA_BASE_URL": "/"}, "voila"),  # a pre-heated kernel
    ({"SERVER_SOFTWARE": "TornadoServer/6.4"}, "jupyter"),
    ({"SERVER_SOFTWARE": "voila/0.5.13", "KMS_TEACH_DELIVERY": "jupyter"}, "jupyter"),
    ({"KMS_TEACH_DELIVERY": "Voila"}, "voila"),
])
def test_voila_is_told_from_jupyter_by_the_kernels_environment(monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert delivery() == expected


def test_lessons_save_to_their_own_file_next_to_the_notebook(tmp_path):
    quizzes = [Quiz(lesson=lesson, seed=0) for lesson in (0, 4)]
    for quiz in quizzes:
        answer(quiz, right)
        assert quiz.save()
    assert sorted(os.listdir(tmp_path)) == ["answers-lesson-00.json", "answers-lesson-04.json"]
    assert not [c for c in widget_tree(quizzes[0].answers_bar.widget) if isinstance(c, (w.Text, w.Textarea))]
    fresh = Quiz(lesson=1, seed=0)
    assert not fresh.load() and "Nothing to load yet: answers-lesson-01.json" in fresh.file_status.value
    assert Quiz(n=2, seed=0, title="Mixed practice").book.name == "answers-practice.json"
    assert CaseWorkup().book.name == "answers-practice.json"


def widget_tree(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from widget_tree(child)


def download_payload(bar) -> dict:
    match = re.search(r'download="([^"]+)" href="data:application/json;base64,([A-Za-z0-9+/=]+)"',
                      bar.download.value)
    assert match, bar.download.value
    return {"name": match.group(1), "data": json.loads(base64.b64decode(match.group(2)))}


def test_in_voila_saving_is_a_download_from_memory_and_no_control_takes_a_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SERVER_SOFTWARE", "voila/0.5.13")
    quiz = Quiz(lesson=0, seed=0)
    assert quiz.save_button is None and quiz.load_button is None
    assert not [c for c in widget_tree(quiz.answers_bar.widget) if isinstance(c, (w.Text, w.Textarea))]
    assert [type(c) for c in widget_tree(quiz.answers_bar.widget) if isinstance(c, w.FileUpload)] == [w.FileUpload]
    answer(quiz, right)
    saved = download_payload(quiz.answers_bar)
    assert saved["name"] == "answers-lesson-00.json"
    assert len(saved["data"]["quizzes"]["lesson-00"]["items"]) == len(quiz.questions)
    assert schema_validator().is_valid(saved["data"])
    assert not quiz.save() and not quiz.load()  # the Python calls never reach the server's disk either
    assert os.listdir(tmp_path) == []


def test_in_voila_an_upload_restores_every_quiz_and_merges_with_the_page(monkeypatch, tmp_path):
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    earlier = Quiz(lesson=0, seed=0)
    answer(earlier, right)
    file_content = json.dumps(download_payload(earlier.answers_bar)["data"]).encode("utf-8")
    progress._BOOKS.clear()  # another visit: a new page, a new kernel
    page = Quiz(lesson=0, seed=1)
    page.go(0)
    page.answer(wrong(page.question))
    page.check()
    upload = {"name": "answers-lesson-00.json", "type": "application/json", "size": len(file_content),
              "content": memoryview(file_content), "last_modified": dt.datetime.now(dt.timezone.utc)}
    page.answers_bar.upload.value = (upload,)
    assert "Loaded answers-lesson-00.json" in page.file_status.value
    assert page.answers_bar.upload.value == ()  # ready for another file
    first_try = page.questions[0].id
    # each item shows its latest answer: this page's wrong try at the first, the file's right answers elsewhere
    assert {k: r.correct for k, r in page.results.items()} == {q.id: q.id != first_try for q in page.questions}
    merged = download_payload(page.answers_bar)["data"]["quizzes"]["lesson-00"]["items"][first_try]
    assert merged["first_attempt"]["correct"] is True  # the earlier visit came first
    assert merged["later_attempts"][0]["correct"] is False  # this page's try is kept after it
    assert os.listdir(tmp_path) == []


def test_in_voila_a_bad_upload_is_one_line_and_changes_nothing(monkeypatch):
    monkeypatch.setenv("SERVER_SOFTWARE", "voila/0.5.13")
    quiz = Quiz(lesson=0, seed=0)
    answer(quiz, right)
    before = download_payload(quiz.answers_bar)["data"]
    for content, words in [(b"root:x:0:0:root:/root:/bin/bash\n", "not valid JSON"),
                           (b'{"format": "kms-teach-answers", "format_version": "9.0", "quizzes": {}}', "newer"),
                           (b"x" * (progress.MAX_BYTES + 1), "too large")]:
        assert not quiz.upload(content, "../../etc/passwd")
        status = quiz.file_status.value
        assert "Not loaded." in status and words in status and "/etc" not in status
    assert download_payload(quiz.answers_bar)["data"] == before


def test_parse_answers_names_the_source_it_was_given():
    with pytest.raises(AnswersError, match=r"^upload\.json: not a kms-teach answers file"):
        parse_answers(b"{}", "upload.json")
    assert parse_answers(two_attempts().dumps(), "x.json").quizzes["lesson-00"]["items"]["item-a"]
    book = answer_book("somewhere.json")
    assert answer_book("somewhere.json") is book

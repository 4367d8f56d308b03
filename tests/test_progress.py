"""Saved answers: atomic writes, and foreign or corrupt files left untouched."""

import json
import os

import pytest

from kms_teach import Progress, ProgressError, load_progress, save_progress


def sample() -> Progress:
    progress = Progress()
    progress.record("treatment-first-line", 2, 1.0, True)
    progress.record("workup-order", (3, 1, 0, 2), 0.5, False)
    return progress


def test_saved_answers_read_back_the_same(tmp_path):
    path = save_progress(sample(), tmp_path / "answers.json")
    again = load_progress(path)
    assert again.answers == sample().answers
    assert again.score == pytest.approx(1.5)


def test_saving_leaves_no_temporary_files_behind(tmp_path):
    save_progress(sample(), tmp_path / "answers.json")
    save_progress(sample(), tmp_path / "answers.json")  # replacing our own file is fine
    assert sorted(os.listdir(tmp_path)) == ["answers.json"]


@pytest.mark.parametrize(
    "content, words",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "someone-elses-notes", "answers": {}}', "not a kms-teach progress file"),
        ("[1, 2, 3]", "not a kms-teach progress file"),
        ('{"format": "kms-teach-progress", "version": 99, "answers": {}}', "version 99"),
        ('{"format": "kms-teach-progress", "version": 1, "answers": {"x": 3}}', "damaged"),
    ],
)
def test_a_corrupt_or_foreign_file_is_reported_and_never_overwritten(tmp_path, content, words):
    path = tmp_path / "answers.json"
    path.write_text(content)
    with pytest.raises(ProgressError, match=words) as caught:
        load_progress(path)
    assert str(path) in str(caught.value)
    with pytest.raises(ProgressError, match=words):
        save_progress(sample(), path)
    assert path.read_text() == content  # untouched
    assert sorted(os.listdir(tmp_path)) == ["answers.json"]


def test_an_unwritable_place_is_reported_with_the_file_name(tmp_path):
    target = tmp_path / "no-such-folder" / "answers.json"
    with pytest.raises(ProgressError, match="cannot be written") as caught:
        save_progress(sample(), target)
    assert "answers.json" in str(caught.value)


def test_a_failed_rename_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = save_progress(sample(), tmp_path / "answers.json")
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    bigger = sample()
    bigger.record("extra-item", 0, 0.0, False)
    with pytest.raises(ProgressError, match="No space left"):
        save_progress(bigger, path)
    assert path.read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["answers.json"]
    assert json.loads(before)["format"] == "kms-teach-progress"

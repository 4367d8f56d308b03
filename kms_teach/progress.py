"""A learner's saved answers, as a small JSON file.

Saving is atomic (write a temporary file beside the target, flush it to disk,
then rename it over the target), so a crash or a full disk never leaves half a
file. A file that is not a kms-teach progress file, or that is corrupt, is
reported and left exactly as it was: a learner's work is never overwritten
silently.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

__all__ = ["Progress", "ProgressError", "load_progress", "save_progress", "FORMAT", "VERSION"]

FORMAT = "kms-teach-progress"
VERSION = 1


class ProgressError(ValueError):
    """A progress file cannot be read or must not be overwritten; the message names the file."""


@dataclass
class Progress:
    """Answers by question id.

    Each answer is a mapping with ``response`` (what the learner chose, in the
    form :func:`kms_teach.questions.grade` takes), ``score`` (0-1) and
    ``correct`` (bool).
    """

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, question_id: str, response: Any, score: float, correct: bool) -> None:
        """Store (or replace) the answer to one question."""
        if isinstance(response, (set, frozenset, tuple)):
            response = sorted(response) if isinstance(response, (set, frozenset)) else list(response)
        self.answers[question_id] = {"response": response, "score": round(float(score), 4),
                                     "correct": bool(correct)}

    @property
    def score(self) -> float:
        """Total score over the answered questions."""
        return sum(a["score"] for a in self.answers.values())

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "answers": self.answers}


def _parse(path: Path, text: str) -> Progress:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProgressError(f"{path}: not valid JSON (line {exc.lineno}); the file was left untouched") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProgressError(f"{path}: not a kms-teach progress file; the file was left untouched")
    if data.get("version") != VERSION:
        raise ProgressError(f"{path}: progress file version {data.get('version')!r} is not {VERSION}; "
                            "the file was left untouched")
    answers = data.get("answers")
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, Mapping) and "score" in v for k, v in answers.items()
    ):
        raise ProgressError(f"{path}: the answers are damaged; the file was left untouched")
    return Progress(answers={k: dict(v) for k, v in answers.items()})


def load_progress(path: str | Path) -> Progress:
    """Read a progress file.

    Raises
    ------
    ProgressError
        If the file is missing, unreadable, corrupt or from another program.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgressError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgressError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    return _parse(path, text)


def save_progress(progress: Progress, path: str | Path) -> Path:
    """Write ``progress`` to ``path`` atomically and return the path.

    An existing file is replaced only if it is itself a readable kms-teach
    progress file.

    Raises
    ------
    ProgressError
        If ``path`` holds something else (it is left untouched) or cannot be written.
    """
    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise ProgressError(f"{path}: is a folder; give a file name ending in .json")
        load_progress(path)  # raises, leaving it untouched, unless it is ours
    payload = json.dumps(progress.to_json(), indent=1, sort_keys=True) + "\n"
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ProgressError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ProgressError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return path

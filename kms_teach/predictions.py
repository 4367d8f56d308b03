"""Predictions for "predict, then observe": questions whose answers stay in ``assets/``.

A lesson asks a prediction by id (``widgets.PredictReveal("activity-doubles")``);
the question and options come from ``assets/predictions.yaml``, and the right
answer and its explanation stay in the kernel until the learner commits to a
choice, so they are neither in the notebook's code nor on the page before
*Reveal*. The learner's first choice is judged right or wrong and recorded in
the lesson's answers file (quiz id ``predictions-lesson-NN``); later choices
are practice, as in the quizzes.

Pure content layer: no widgets are imported here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ._assets import AssetError, assets_dir, read_yaml, require
from .progress import content_version

__all__ = ["Prediction", "load_predictions", "prediction", "predictions_path"]

FILE_NAME = "predictions.yaml"


@dataclass(frozen=True)
class Prediction:
    """One prediction: the question, its options and (kept back until Reveal) the answer.

    Attributes
    ----------
    id : str
        Identifier used by the lessons.
    lesson : int
        Lesson that asks it; its answers file records the learner's choice.
    question : str
        The prompt.
    options : tuple of str
        The choices, in the order shown.
    answer : int
        Index of the right option.
    explanation : str
        Why, shown after the learner commits.
    citation : str
        Where the explanation comes from.
    """

    id: str
    lesson: int
    question: str
    options: tuple[str, ...]
    answer: int
    explanation: str
    citation: str

    @property
    def answer_text(self) -> str:
        """The right option's text."""
        return self.options[self.answer]

    def judge(self, choice: int) -> bool:
        """True if option index ``choice`` is the right answer."""
        return int(choice) == self.answer

    @property
    def quiz_id(self) -> str:
        """The answers-file quiz id under which choices are recorded."""
        return f"predictions-lesson-{self.lesson:02d}"


def predictions_path() -> Path:
    """The predictions file in the content folder."""
    return assets_dir() / FILE_NAME


def load_predictions(path: str | Path | None = None) -> dict[str, Prediction]:
    """All predictions by id; every problem raises one :class:`AssetError` naming file, item and field."""
    path = Path(path) if path is not None else predictions_path()
    return dict(_load_cached(str(path), _mtime(path)))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


@functools.lru_cache(maxsize=4)
def _load_cached(path_text: str, _mtime_key: float) -> tuple[tuple[str, Prediction], ...]:
    path = Path(path_text)
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("predictions"), list):
        raise AssetError(path, "must be a mapping with a list under 'predictions'")
    found: dict[str, Prediction] = {}
    for number, raw in enumerate(data["predictions"], start=1):
        if not isinstance(raw, dict):
            raise AssetError(path, "must be a mapping", item=f"prediction {number}")
        item = raw.get("id") if isinstance(raw.get("id"), str) else f"prediction {number}"
        pid = require(raw, "id", str, path=path, item=item).strip()
        if not pid:
            raise AssetError(path, "must not be empty", item=item, field="id")
        if pid in found:
            raise AssetError(path, "is used twice", item=pid, field="id")
        lesson = require(raw, "lesson", int, path=path, item=pid)
        if not 0 <= lesson <= 99:
            raise AssetError(path, f"must be 0-99, not {lesson}", item=pid, field="lesson")
        question = require(raw, "question", str, path=path, item=pid).strip()
        options = require(raw, "options", list, path=path, item=pid)
        if len(options) < 2 or not all(isinstance(o, str) and o.strip() for o in options):
            raise AssetError(path, "must be a list of at least 2 non-empty texts", item=pid, field="options")
        options = tuple(o.strip() for o in options)
        if len(set(options)) != len(options):
            raise AssetError(path, "has the same option twice", item=pid, field="options")
        answer = require(raw, "answer", str, path=path, item=pid).strip()
        if answer not in options:
            raise AssetError(path, f"{answer!r} is not one of the options", item=pid, field="answer")
        explanation = require(raw, "explanation", str, path=path, item=pid).strip()
        citation = require(raw, "citation", str, path=path, item=pid).strip()
        if not question or not explanation or not citation:
            empty = "question" if not question else "explanation" if not explanation else "citation"
            raise AssetError(path, "must not be empty", item=pid, field=empty)
        found[pid] = Prediction(pid, lesson, question, options, options.index(answer), explanation, citation)
    return tuple(found.items())


def prediction(prediction_id: str) -> Prediction:
    """One prediction by id; an unknown id raises ``ValueError`` listing the valid ids."""
    found = load_predictions()
    try:
        return found[prediction_id]
    except KeyError:
        raise ValueError(f"no prediction {prediction_id!r} in {predictions_path()}; "
                       f"valid ids: {', '.join(sorted(found))}") from None


def predictions_version(predictions: dict[str, Prediction] | None = None) -> str:
    """Content hash saved with recorded choices (tells versions of the file apart)."""
    found = predictions if predictions is not None else load_predictions()
    return content_version(sorted(found.values(), key=lambda p: p.id))

"""A learner's answers: one versioned JSON format, merged on saving, never lost.

An answers file (schema: ``assets/answers.schema.json``) holds the answers of
any number of quizzes and branching cases, each under its own id::

    {"format": "kms-teach-answers", "format_version": "2.0",
     "learner_id": "optional", "created": "...Z", "updated": "...Z",
     "quizzes": {"lesson-04": {"title": ..., "lesson": 4, "bank_version": "sha256:...",
                               "items": {"ITEM-ID": {"first_attempt": {...},
                                                     "later_attempts": [{...}, ...]}}}},
     "cases": {"khe-workup": {"case_version": "sha256:...",
                              "runs": [{"started": ..., "decisions": [...], "score": 0.9}]}}}

Rules this module keeps:

- **Nothing is lost.** Saving merges with what the file already holds: other
  quizzes and cases are kept, and attempts are united (the earliest is the
  first attempt, the scored one; at most :data:`MAX_LATER_ATTEMPTS` later ones,
  the oldest later ones dropped first).
- **Nothing foreign is overwritten.** A file that is corrupt, too large, from
  another program or from a newer kms-teach is reported in one line and left
  byte for byte as it was.
- **Writes are atomic.** A temporary file beside the target is written, flushed
  to disk, then renamed over it; the target's permissions are kept, a
  read-only target is refused, and a symbolic link is written through.
- **Old files still load.** Files from kms-teach 0.1.0 (``kms-teach-progress``
  version 1) are migrated in memory into a quiz entry marked ``migrated_from``.
- **Later versions extend, never break.** A newer MINOR format version only
  adds optional fields; readers keep what they do not know.

This module holds no widget code: the controls live in
:mod:`kms_teach.answers_bar`; :func:`delivery` tells them whether the kernel
runs under Voila (no server files: download and upload) or Jupyter (a file next
to the notebook).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import re
import stat
import tempfile
import weakref
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

__all__ = [
    "Answers",
    "AnswersError",
    "AnswerBook",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_BYTES",
    "MAX_LATER_ATTEMPTS",
    "ProgressError",
    "answer_book",
    "content_version",
    "default_answers_file",
    "delivery",
    "load_answers",
    "parse_answers",
    "save_answers",
    "utc_now",
]

FORMAT = "kms-teach-answers"
FORMAT_VERSION = "2.0"
_MAJOR, _MINOR = (int(part) for part in FORMAT_VERSION.split("."))
LEGACY_FORMAT = "kms-teach-progress"  # kms-teach 0.1.0
LEGACY_VERSION = 1
LEGACY_QUIZ_ID = "kms-teach-0.1.0"
#: Files larger than this are refused unread (a real file is a few kB).
MAX_BYTES = 4 * 1024 * 1024
#: Deeper JSON is refused before it is walked (the format itself is 8 deep).
MAX_DEPTH = 16
#: Later attempts kept per item (the first attempt is always kept).
MAX_LATER_ATTEMPTS = 20
#: Runs kept per branching case (the first run is always kept).
MAX_RUNS = 50
#: Environment variable that forces the delivery: ``voila`` or ``jupyter``.
DELIVERY_VARIABLE = "KMS_TEACH_DELIVERY"
#: Environment variable with the learner id to write into answers files.
LEARNER_VARIABLE = "KMS_TEACH_LEARNER_ID"


class AnswersError(ValueError):
    """An answers file cannot be read or must not be overwritten; the message names the file."""


#: The 0.1.0 name of :class:`AnswersError`.
ProgressError = AnswersError


# ----------------------------------------------------------------------------- small helpers


def utc_now() -> str:
    """The current time, ISO 8601 in UTC with milliseconds (``2026-12-01T05:30:12.345Z``)."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _iso(moment: _dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    moment = moment.astimezone(_dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _plain(value: Any) -> Any:
    """JSON-ready form of a dataclass tree (for hashing content)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def content_version(content: Any) -> str:
    """A short, stable hash of content (a bank's questions, a work-up): ``sha256:`` + 16 hex digits.

    Parameters
    ----------
    content : dataclass, mapping or sequence
        What the answers refer to; the same content always gives the same version.
    """
    text = json.dumps(_plain(content), sort_keys=True, ensure_ascii=True, default=repr)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def delivery() -> str:
    """``"voila"`` when this kernel was started by Voila, else ``"jupyter"``.

    Voila (0.5) gives its kernels ``SERVER_SOFTWARE=voila/VERSION`` and the
    ``VOILA_*`` variables (``VOILA_PREHEAT``, ``VOILA_BASE_URL``, ...; pre-heated
    kernels get the latter). ``KMS_TEACH_DELIVERY=voila`` or ``jupyter``
    overrides the detection.
    """
    forced = os.environ.get(DELIVERY_VARIABLE, "").strip().lower()
    if forced in ("voila", "jupyter"):
        return forced
    if os.environ.get("SERVER_SOFTWARE", "").lower().startswith("voila/"):
        return "voila"
    if any(os.environ.get(name) for name in ("VOILA_PREHEAT", "VOILA_BASE_URL", "VOILA_SERVER_URL",
                                              "VOILA_KERNEL_ID")):
        return "voila"
    return "jupyter"


def default_answers_file(lesson: int | None) -> str:
    """The default answers file name: ``answers-lesson-04.json`` for lesson 4, else ``answers-practice.json``."""
    return f"answers-lesson-{int(lesson):02d}.json" if lesson is not None else "answers-practice.json"


def _default_learner_id() -> str | None:
    for name in (LEARNER_VARIABLE, "JUPYTERHUB_USER"):
        value = os.environ.get(name, "").strip()
        if value:
            return value[:200]
    return None


_SCHEMA_VALIDATOR = None


def _validator():
    """The JSON Schema validator for the format (the schema ships with the package, not with content)."""
    global _SCHEMA_VALIDATOR
    if _SCHEMA_VALIDATOR is None:
        import jsonschema

        schema = json.loads(schema_path().read_text(encoding="utf-8"))
        _SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(schema)
    return _SCHEMA_VALIDATOR


def schema_path() -> Path:
    """Where ``answers.schema.json`` is installed (with the package: the format is code's, not content's,
    so ``KMS_TEACH_ASSETS`` does not move it)."""
    here = Path(__file__).resolve().parent
    path = here / "assets" / "answers.schema.json"
    return path if path.is_file() else here.parent / "assets" / "answers.schema.json"


# ----------------------------------------------------------------------------- the document


def _empty_document(learner_id: str | None = None) -> dict[str, Any]:
    from . import __version__

    now = utc_now()
    data: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
    if learner_id:
        data["learner_id"] = learner_id
    data.update(written_by=f"kms-teach {__version__}", created=now, updated=now, quizzes={}, cases={})
    return data


def _response_json(response: Any) -> Any:
    if isinstance(response, (set, frozenset)):
        return sorted(int(r) for r in response)
    if isinstance(response, (list, tuple)):
        return [int(r) for r in response]
    if isinstance(response, (bool, str)) or response is None:
        raise TypeError("a response is a number or a list of option indices")
    if isinstance(response, int):
        return int(response)
    return float(response)


def _attempt_key(attempt: Mapping[str, Any]) -> tuple[str, str]:
    return attempt["time"], json.dumps(attempt["response"], sort_keys=True)


class Answers:
    """A whole answers file in memory (the JSON document in :attr:`data`).

    Parameters
    ----------
    data : dict, optional
        A valid current-format document (as :func:`parse_answers` returns);
        default: an empty one.
    learner_id : str, optional
        For a new document: who answers (default: ``KMS_TEACH_LEARNER_ID`` or,
        on a JupyterHub, ``JUPYTERHUB_USER``; absent when neither is set).
    """

    def __init__(self, data: dict[str, Any] | None = None, *, learner_id: str | None = None):
        self.data = data if data is not None else _empty_document(learner_id or _default_learner_id())
        self.data.setdefault("quizzes", {})
        self.data.setdefault("cases", {})

    # -- reading
    @property
    def learner_id(self) -> str | None:
        return self.data.get("learner_id")

    @property
    def quizzes(self) -> dict[str, dict[str, Any]]:
        return self.data["quizzes"]

    @property
    def cases(self) -> dict[str, dict[str, Any]]:
        return self.data["cases"]

    def latest(self, quiz_id: str) -> dict[str, dict[str, Any]]:
        """The last attempt at each item of a quiz (what the learner last had on screen)."""
        items = self.quizzes.get(quiz_id, {}).get("items", {})
        return {item_id: (entry["later_attempts"] or [entry["first_attempt"]])[-1]
                for item_id, entry in items.items()}

    def first_attempts(self, quiz_id: str) -> dict[str, dict[str, Any]]:
        """The first attempt at each item of a quiz (the scored one)."""
        items = self.quizzes.get(quiz_id, {}).get("items", {})
        return {item_id: entry["first_attempt"] for item_id, entry in items.items()}

    def migrated_latest(self) -> dict[str, dict[str, Any]]:
        """Last attempts from migrated 0.1.0 files, by item id (they belonged to no quiz id)."""
        found: dict[str, dict[str, Any]] = {}
        for quiz_id, quiz in self.quizzes.items():
            if quiz.get("migrated_from"):
                found.update(self.latest(quiz_id))
        return found

    def count(self) -> tuple[int, int, int]:
        """(quizzes, answered items, case runs) held."""
        items = sum(len(q.get("items", {})) for q in self.quizzes.values())
        runs = sum(len(c.get("runs", [])) for c in self.cases.values())
        return len(self.quizzes), items, runs

    # -- recording
    def record_attempt(self, quiz_id: str, item_id: str, response: Any, score: float, correct: bool, *,
                       bank_version: str, title: str | None = None, lesson: int | None = None,
                       time: str | None = None) -> dict[str, Any]:
        """Add one attempt at an item: the first one is kept as the first attempt, later ones appended.

        Returns the attempt as stored.
        """
        quiz = self._quiz(quiz_id, bank_version, title, lesson)
        attempt: dict[str, Any] = {"time": time or utc_now(), "response": _response_json(response),
                                   "score": round(min(1.0, max(0.0, float(score))), 4), "correct": bool(correct)}
        if quiz["bank_version"] != bank_version:
            attempt["bank_version"] = bank_version
        entry = quiz["items"].get(item_id)
        if entry is None:
            quiz["items"][item_id] = {"first_attempt": attempt, "later_attempts": []}
        else:
            entry["later_attempts"].append(attempt)
            del entry["later_attempts"][:-MAX_LATER_ATTEMPTS]
        self._touch()
        return attempt

    def _quiz(self, quiz_id: str, bank_version: str, title: str | None, lesson: int | None) -> dict[str, Any]:
        quiz = self.quizzes.get(quiz_id)
        if quiz is None:
            quiz = self.quizzes[quiz_id] = {"title": title or quiz_id, "lesson": lesson,
                                            "bank_version": bank_version, "items": {}}
        elif quiz["bank_version"] != bank_version:
            _retag(quiz, bank_version)
        return quiz

    def record_decision(self, case_id: str, step: str, choice: Any, *, case_version: str,
                        title: str | None = None, new_run: bool = False, time: str | None = None,
                        **details: Any) -> dict[str, Any]:
        """Add one decision of a branching case to its current run (or to a new run).

        ``step`` is ``tests`` (choice: the test ids), ``diagnosis`` or ``plan``
        (choice: the option id); ``details`` may hold ``correct`` and ``verdict``.
        """
        case = self.cases.get(case_id)
        if case is None:
            case = self.cases[case_id] = {"title": title or case_id, "case_version": case_version, "runs": []}
        when = time or utc_now()
        if new_run or not case["runs"]:
            run: dict[str, Any] = {"started": when, "decisions": []}
            if case["case_version"] != case_version:
                run["case_version"] = case_version
            case["runs"].append(run)
            _trim_runs(case)
        decision = {"step": step, "time": when,
                    "choice": list(choice) if isinstance(choice, (list, tuple)) else choice}
        decision.update({k: v for k, v in details.items() if v is not None})
        case["runs"][-1]["decisions"].append(decision)
        self._touch()
        return decision

    def record_case_score(self, case_id: str, score: float) -> None:
        """Keep the debrief's score (0-1) on the case's current run."""
        runs = self.cases.get(case_id, {}).get("runs")
        if runs:
            runs[-1]["score"] = round(min(1.0, max(0.0, float(score))), 4)
            self._touch()

    def _touch(self) -> None:
        self.data["updated"] = utc_now()

    # -- merging
    def merge(self, other: "Answers") -> None:
        """Add everything ``other`` holds that this does not (nothing here is removed).

        Attempts are united by time and response; for a quiz both hold, this
        side's title and bank version are kept and attempts made on another
        bank version are tagged with it.

        Raises
        ------
        AnswersError
            If both name a learner and the names differ (two learners' answers never mix).
        """
        mine, theirs = self.learner_id, other.learner_id
        if mine and theirs and mine != theirs:
            raise AnswersError(f"these answers belong to learner {theirs!r}, not {mine!r}; nothing was merged")
        if theirs and not mine:
            self.data["learner_id"] = theirs
        if _version_tuple(other.data.get("format_version", FORMAT_VERSION)) > _version_tuple(
                self.data.get("format_version", FORMAT_VERSION)):
            self.data["format_version"] = other.data["format_version"]
        for key, value in other.data.items():  # fields of a newer minor version are kept
            if key not in self.data:
                self.data[key] = copy.deepcopy(value)
        for quiz_id, quiz in other.quizzes.items():
            if quiz_id not in self.quizzes:
                self.quizzes[quiz_id] = copy.deepcopy(quiz)
                continue
            _merge_quiz(self.quizzes[quiz_id], copy.deepcopy(quiz))
        for case_id, case in other.cases.items():
            if case_id not in self.cases:
                self.cases[case_id] = copy.deepcopy(case)
                continue
            _merge_case(self.cases[case_id], copy.deepcopy(case))
        created = [t for t in (self.data.get("created"), other.data.get("created")) if t]
        if created:
            self.data["created"] = min(created)

    def to_json(self) -> dict[str, Any]:
        """The document, as written to a file."""
        return self.data

    def dumps(self) -> str:
        """The document as the text of an answers file."""
        from . import __version__

        self.data["written_by"] = f"kms-teach {__version__}"
        return json.dumps(self.data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def _version_tuple(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def _retag(quiz: dict[str, Any], new_version: str) -> None:
    """Mark every attempt that carries no version with the quiz's old one, then adopt ``new_version``."""
    old = quiz["bank_version"]
    for entry in quiz["items"].values():
        for attempt in [entry["first_attempt"], *entry["later_attempts"]]:
            attempt.setdefault("bank_version", old)
            if attempt["bank_version"] == new_version:
                del attempt["bank_version"]
    quiz["bank_version"] = new_version


def _merge_quiz(target: dict[str, Any], source: dict[str, Any]) -> None:
    if source["bank_version"] != target["bank_version"]:
        _retag(source, target["bank_version"])
    for key, value in source.items():
        target.setdefault(key, value)
    for item_id, entry in source["items"].items():
        if item_id not in target["items"]:
            target["items"][item_id] = entry
            continue
        mine = target["items"][item_id]
        attempts = {_attempt_key(a): a for a in [entry["first_attempt"], *entry["later_attempts"]]}
        attempts.update({_attempt_key(a): a for a in [mine["first_attempt"], *mine["later_attempts"]]})
        ordered = [attempts[k] for k in sorted(attempts)]
        mine["first_attempt"] = ordered[0]
        mine["later_attempts"] = ordered[1:][-MAX_LATER_ATTEMPTS:]


def _merge_case(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        target.setdefault(key, value)
    runs = {run["started"]: run for run in source["runs"]}
    for run in target["runs"]:
        theirs = runs.get(run["started"])
        if theirs is not None and len(theirs["decisions"]) > len(run["decisions"]):
            continue  # the other side saw this run go further
        runs[run["started"]] = run
    for run in source["runs"]:
        if source["case_version"] != target["case_version"]:
            run.setdefault("case_version", source["case_version"])
    target["runs"] = [runs[k] for k in sorted(runs)]
    _trim_runs(target)


def _trim_runs(case: dict[str, Any]) -> None:
    runs = case["runs"]
    if len(runs) > MAX_RUNS:
        case["runs"] = [runs[0], *runs[-(MAX_RUNS - 1):]]


# ----------------------------------------------------------------------------- reading


def _reject_duplicates(pairs):
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice")
        seen[key] = value
    return seen


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _depth(value: Any, limit: int) -> bool:
    """True if ``value`` nests deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def _where(path: Iterable[Any]) -> str:
    parts = [str(p) for p in path]
    return " > ".join(parts) if parts else "top level"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_answers(content: str | bytes, source: str, *, modified: str | None = None) -> Answers:
    """Read the text of an answers file (current format, or 0.1.0's, migrated in memory).

    Parameters
    ----------
    content : str or bytes
        The file's text (bytes are decoded as UTF-8).
    source : str
        The file's name, for messages.
    modified : str, optional
        ISO 8601 UTC time the file was last changed: the time given to
        migrated 0.1.0 answers, which carry none (default: now).

    Raises
    ------
    AnswersError
        One line naming ``source``: too large, not UTF-8, not JSON, nested too
        deeply, not a kms-teach answers file, from a newer kms-teach, or not
        matching the schema (where, and what).
    """
    untouched = "the file was left untouched"
    if len(content) > MAX_BYTES:
        raise AnswersError(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MB, so not an answers file; {untouched}")
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise AnswersError(f"{source}: not UTF-8 text, so not an answers file; {untouched}") from None
    try:
        data = json.loads(content, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise AnswersError(f"{source}: not valid JSON (line {exc.lineno}); {untouched}") from None
    except RecursionError:
        raise AnswersError(f"{source}: nested too deeply to be an answers file; {untouched}") from None
    except ValueError as exc:
        raise AnswersError(f"{source}: not valid JSON ({_short(str(exc))}); {untouched}") from None
    if not isinstance(data, dict) or data.get("format") not in (FORMAT, LEGACY_FORMAT):
        raise AnswersError(f"{source}: not a kms-teach answers file; {untouched}")
    if _depth(data, MAX_DEPTH):
        raise AnswersError(f"{source}: nested too deeply to be an answers file; {untouched}")
    if data["format"] == LEGACY_FORMAT:
        return _migrate_legacy(data, source, modified or utc_now())
    version = data.get("format_version")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9]{1,4}\.[0-9]{1,4}", version):
        raise AnswersError(f"{source}: format_version {_short(repr(version), 40)} is not MAJOR.MINOR; {untouched}")
    if _version_tuple(version)[0] > _MAJOR:
        raise AnswersError(f"{source}: written by a newer kms-teach (answers format {version}; this one reads "
                           f"{_MAJOR}.x); update kms-teach to read it; {untouched}")
    if _version_tuple(version)[0] < _MAJOR:
        raise AnswersError(f"{source}: answers format {version} is unknown; {untouched}")
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise AnswersError(f"{source}: {_where(error.absolute_path)}: {_short(error.message)}; {untouched}")
    return Answers(data)


def _migrate_legacy(data: dict[str, Any], source: str, modified: str) -> Answers:
    """A 0.1.0 file (``answers``: item id -> response, score, correct) as a current document."""
    untouched = "the file was left untouched"
    if data.get("version") != LEGACY_VERSION:
        raise AnswersError(f"{source}: progress file version {_short(repr(data.get('version')), 40)} is not "
                           f"{LEGACY_VERSION}; {untouched}")
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise AnswersError(f"{source}: answers: not a mapping of question ids; {untouched}")
    items = {}
    for item_id, entry in answers.items():
        try:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("correct"), bool):
                raise TypeError
            attempt = {"time": modified, "response": _response_json(entry["response"]),
                       "score": float(entry["score"]), "correct": entry["correct"]}
            if not 0.0 <= attempt["score"] <= 1.0:
                raise ValueError
        except (KeyError, TypeError, ValueError, OverflowError):
            raise AnswersError(f"{source}: answers > {_short(item_id, 80)}: the answer is damaged; {untouched}") from None
        items[item_id] = {"first_attempt": attempt, "later_attempts": []}
    document = _empty_document(None)
    document["created"] = document["updated"] = modified
    document["quizzes"][LEGACY_QUIZ_ID] = {
        "title": "Answers saved by kms-teach 0.1.0", "lesson": None, "bank_version": "unknown",
        "migrated_from": f"{LEGACY_FORMAT} version {LEGACY_VERSION} ({Path(source).name})", "items": items}
    error = next(iter(_validator().iter_errors(document)), None)
    if error is not None:
        raise AnswersError(f"{source}: answers > {_where(list(error.absolute_path)[3:4])}: {_short(error.message)}; "
                           f"{untouched}")
    return Answers(document)


def load_answers(path: str | Path) -> Answers:
    """Read an answers file.

    Raises
    ------
    AnswersError
        If the file is missing, unreadable, too large, corrupt, from another
        program or from a newer kms-teach (one line; the file is untouched).
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            content = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise AnswersError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AnswersError(f"{path}: is a folder, not an answers file") from None
    except OSError as exc:
        raise AnswersError(f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    modified = _iso(_dt.datetime.fromtimestamp(info.st_mtime, _dt.timezone.utc))
    return parse_answers(content, str(path), modified=modified)


# ----------------------------------------------------------------------------- writing


def save_answers(answers: Answers, path: str | Path) -> Path:
    """Merge ``answers`` into the file at ``path`` (created if missing), atomically; return the path.

    What the file already holds (other quizzes and cases, earlier attempts)
    is kept. ``answers`` itself is not changed.

    Raises
    ------
    AnswersError
        If the file holds something else or another learner's answers (it is
        left untouched), is read-only, is a folder, or cannot be written.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path  # write through a link
    merged = Answers(copy.deepcopy(answers.data))
    mode = None
    if target.exists():
        if target.is_dir():
            raise AnswersError(f"{path}: is a folder; give a file name ending in .json")
        if not os.access(target, os.W_OK):
            raise AnswersError(f"{path}: is read-only; nothing was written")
        on_disk = load_answers(target)  # raises, leaving it untouched, unless it is ours
        try:
            merged.merge(on_disk)
        except AnswersError as exc:
            raise AnswersError(f"{path}: {exc}; the file was left untouched") from None
        mode = stat.S_IMODE(target.stat().st_mode)
    payload = merged.dumps()
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise AnswersError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    try:
        if mode is None:
            umask = os.umask(0o022)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise AnswersError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    try:  # make the rename itself durable; not possible on every platform
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return path


# ----------------------------------------------------------------------------- the kernel's answer books


class AnswerBook:
    """The answers this kernel holds for one answers file, shared by every quiz and case using it.

    Quizzes record into :attr:`answers`; a load merges into it and calls every
    registered restore callback; a save merges it into the file (Jupyter) or
    is offered as a download (Voila). In Voila each page has its own kernel, so
    two learners never share a book.
    """

    def __init__(self, name: str):
        self.name = name
        self.answers = Answers()
        self._restorers: list[weakref.WeakMethod | Callable] = []
        self._watchers: list[weakref.WeakMethod | Callable] = []

    @staticmethod
    def _ref(callback: Callable):
        return weakref.WeakMethod(callback) if hasattr(callback, "__self__") else callback

    def on_restore(self, callback: Callable[["AnswerBook"], None]) -> None:
        """Call ``callback(book)`` after answers were loaded into this book (held weakly for methods)."""
        self._restorers.append(self._ref(callback))

    def on_change(self, callback: Callable[["AnswerBook"], None]) -> None:
        """Call ``callback(book)`` whenever an answer is recorded or loaded."""
        self._watchers.append(self._ref(callback))

    def _call(self, refs: list) -> None:
        alive = []
        for ref in refs:
            callback = ref() if isinstance(ref, weakref.WeakMethod) else ref
            if callback is None:
                continue
            alive.append(ref)
            callback(self)
        refs[:] = alive

    def changed(self) -> None:
        """Tell the watchers (the download links) that the answers changed."""
        self._call(self._watchers)

    def merge_in(self, other: Answers) -> None:
        """Merge loaded answers in, then restore every quiz using this book."""
        self.answers.merge(other)
        self._call(self._restorers)
        self.changed()


_BOOKS: dict[str, AnswerBook] = {}


def answer_book(name: str) -> AnswerBook:
    """This kernel's book for the answers file ``name`` (created on first use)."""
    book = _BOOKS.get(name)
    if book is None:
        book = _BOOKS[name] = AnswerBook(name)
    return book

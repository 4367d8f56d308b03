"""The quiz question bank: loading, checking and grading.

Questions live in ``assets/questions/*.yaml`` (one file per topic) and are
checked against ``assets/question.schema.json`` plus the item-writing rules in
``docs/question-format.md``. A broken item is reported with its file, line,
id and field and left out; the rest of the bank still loads.

Grading is plain Python on plain data, so it is tested without a browser and
the quiz widget only wires it to controls. Pure model layer: no plotting and
no widgets are imported here.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from ._assets import assets_dir
from ._content import RAW_HTML, line_for, line_map, missing_field, parse_yaml, schema_message

__all__ = [
    "Problem",
    "Option",
    "CaseRef",
    "Question",
    "Bank",
    "Grade",
    "load_bank",
    "read_question_file",
    "lint_bank",
    "grade",
    "QUESTION_TYPES",
    "case_panel",
    "consequence",
    "Consequence",
    "expected_value",
    "parse_number",
]

QUESTION_TYPES = ("multiple_choice", "many_choice", "numeric", "ordering")
DIFFICULTIES = ("easy", "medium", "hard")
_LABS = ("platelets", "fibrinogen", "d_dimer", "hemoglobin", "pt", "aptt")
_TEXT_FIELDS = ("question", "explanation", "objective", "feedback_correct", "feedback_default")

#: Limits of the bank-wide balance rules (docs/question-format.md).
LONGEST_CORRECT_LIMIT = 0.40
POSITION_LIMIT = 0.40
_HOMOGENEITY_RATIO = 3.0
_HOMOGENEITY_FLOOR = 15


@dataclass(frozen=True)
class Problem:
    """One problem in a content file, printed as ``file:line: item: field: message``."""

    path: str
    line: int
    item: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.item}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Option:
    """One answer option. ``plan`` is a treatment plan run to show its consequence."""

    text: str
    correct: bool
    feedback: str
    plan: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseRef:
    """The simulated infant behind a case-based item: a case, a day and any treatment."""

    name: str
    day: float = 0.0
    treat: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """One quiz item; field meanings are in ``docs/question-format.md``."""

    id: str
    topic: str
    type: str
    question: str
    objective: str
    difficulty: str
    explanation: str
    citations: tuple[str, ...]
    options: tuple[Option, ...] = ()
    unit: str = ""
    value: float | None = None
    lab: str | None = None
    tolerance: float = 0.0
    range_feedback: tuple[tuple[float, float, str], ...] = ()
    feedback_correct: str = "Correct."
    feedback_default: str = "Not quite."
    misconception: int | None = None
    lessons: tuple[int, ...] = ()
    case: CaseRef | None = None
    consequence_days: float = 28.0
    path: str = ""
    line: int = 0

    @property
    def correct_indices(self) -> tuple[int, ...]:
        """Indices (file order) of the correct options."""
        return tuple(i for i, o in enumerate(self.options) if o.correct)


@dataclass(frozen=True)
class Grade:
    """The outcome of one answer.

    Attributes
    ----------
    score : float
        0 to 1; partial credit for multiple select and ordering (see :func:`grade`).
    correct : bool
        True only for a fully right answer.
    feedback : tuple of str
        Feedback for what the learner chose: one entry per chosen option (in
        the order chosen), or one sentence for a numeric answer.
    expected : str
        The right answer in words.
    """

    score: float
    correct: bool
    feedback: tuple[str, ...]
    expected: str


@dataclass
class Bank:
    """The loaded question bank: valid items plus the problems found on loading."""

    questions: tuple[Question, ...]
    problems: tuple[Problem, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.questions)

    def __iter__(self):
        return iter(self.questions)

    def __getitem__(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"no question with id {question_id!r}")

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.topic for q in self.questions))

    def select(self, *, topics: Iterable[str] | None = None, lesson: int | None = None,
               ids: Iterable[str] | None = None, difficulty: Iterable[str] | str | None = None) -> list[Question]:
        """Items matching every filter given.

        Parameters
        ----------
        topics : iterable of str, optional
            Topic names (file names in ``assets/questions``).
        lesson : int, optional
            Items tagged for this lesson (0-4).
        ids : iterable of str, optional
            Exactly these items, in this order (other filters still apply).
        difficulty : str or iterable of str, optional
            ``easy``, ``medium`` and/or ``hard``.

        Raises
        ------
        ValueError
            For an unknown id, topic or difficulty; the message lists the valid ones.
        """
        wanted_topics = None if topics is None else list(topics)
        if wanted_topics is not None:
            unknown = [t for t in wanted_topics if t not in self.topics]
            if unknown:
                raise ValueError(f"unknown topic {unknown[0]!r}; topics in the bank: {', '.join(self.topics)}")
        levels = None if difficulty is None else ([difficulty] if isinstance(difficulty, str) else list(difficulty))
        if levels is not None:
            bad = [d for d in levels if d not in DIFFICULTIES]
            if bad:
                raise ValueError(f"unknown difficulty {bad[0]!r}; valid: {', '.join(DIFFICULTIES)}")
        if ids is not None:
            pool = []
            for question_id in ids:
                try:
                    pool.append(self[question_id])
                except KeyError:
                    raise ValueError(f"no question with id {question_id!r} in the bank "
                                     "(see `kms-teach quiz --list`)") from None
        else:
            pool = list(self.questions)
        return [
            q for q in pool
            if (wanted_topics is None or q.topic in wanted_topics)
            and (lesson is None or lesson in q.lessons)
            and (levels is None or q.difficulty in levels)
        ]


# --------------------------------------------------------------------------- loading


def import_jsonschema():
    """Import jsonschema without its optional IRI-format grammar.

    jsonschema imports ``rfc3987_syntax`` when it is installed (Jupyter installs
    it), which builds some 40 parsers: 2-4 s at every kernel start. Our schemas
    use no ``format`` keywords, so the import is skipped while jsonschema loads.
    """
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    skip = "rfc3987_syntax" not in sys.modules
    if skip:
        sys.modules["rfc3987_syntax"] = None  # makes `import rfc3987_syntax` raise ImportError
    try:
        import jsonschema
    finally:
        if skip:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


@functools.lru_cache(maxsize=1)
def _schema_validator():
    jsonschema = import_jsonschema()

    schema = json.loads((assets_dir() / "question.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def read_question_file(path: str | Path) -> tuple[list[Question], list[Problem]]:
    """Read one topic file: its valid questions and every problem found.

    Never raises for bad content; a problem names the file, line, item id and
    field. Items with a problem are left out of the returned questions.
    """
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(shown, 1, "(file)", "-", f"cannot be read ({exc.__class__.__name__})")]
    try:
        node, data = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], [Problem(shown, mark.line + 1 if mark else 1, "(file)", "-", f"not valid YAML: {problem}")]
    if node is None or not isinstance(data, dict):
        return [], [Problem(shown, 1, "(file)", "-", "must be a mapping with topic, title and questions")]
    lines = line_map(node)
    problems: list[Problem] = []
    bad_items: set[int] = set()
    file_broken = False
    for error in _schema_validator().iter_errors(data):
        where = list(error.absolute_path)
        if len(where) >= 2 and where[0] == "questions" and isinstance(where[1], int):
            index = where[1]
            bad_items.add(index)
            item = _item_name(data["questions"][index], index)
            fld = ".".join(str(p) for p in where[2:]) or missing_field(error) or "-"
        else:
            file_broken = True
            item = "(file)"
            fld = ".".join(str(p) for p in where) or missing_field(error) or "-"
        problems.append(Problem(shown, line_for(lines, where), item, fld, schema_message(error)))
    if file_broken:
        return [], _dedupe(problems)
    topic = data["topic"]
    if topic != path.stem:
        problems.append(Problem(shown, line_for(lines, ["topic"]), "(file)", "topic",
                                f"must equal the file name {path.stem!r}, not {topic!r}"))
    if isinstance(data.get("title"), str) and (found := RAW_HTML.search(data["title"])):
        problems.append(Problem(shown, line_for(lines, ["title"]), "(file)", "title", found.reason))
    questions = []
    for index, raw in enumerate(data["questions"]):
        if index in bad_items:
            continue
        item_problems = _check_item(raw, lambda p, i=index: line_for(lines, ["questions", i, *p]), shown)
        problems.extend(item_problems)
        if not item_problems:
            questions.append(_build(raw, topic, shown, line_for(lines, ["questions", index])))
    return questions, _dedupe(problems)


def _item_name(raw, index) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return raw["id"]
    return f"(item {index + 1})"


def _dedupe(problems):
    return list(dict.fromkeys(problems))


# Checked on the lead-in only: a vignette may well say "she is not bleeding".
_NEGATIVE_LEAD_IN = re.compile(r"\b(not|except|least|never|false)\b", re.IGNORECASE)
_ALL_NONE = re.compile(r"\b(all|none|both|neither) of the (above|options|choices)\b", re.IGNORECASE)


def _texts(raw) -> Iterable[tuple[tuple, str]]:
    for key in ("question", "explanation", "objective", "feedback_correct", "feedback_default"):
        if isinstance(raw.get(key), str):
            yield (key,), raw[key]
    for i, option in enumerate(raw.get("answers") or []):
        for key in ("answer", "feedback"):
            if isinstance(option.get(key), str):
                yield ("answers", i, key), option[key]
    for i, band in enumerate(raw.get("feedback") or []):
        yield ("feedback", i, "feedback"), band["feedback"]
    for i, citation in enumerate(raw.get("citations") or []):
        yield ("citations", i), citation


def _lead_in(stem: str) -> str:
    """The question a stem ends with: its last sentence."""
    parts = re.split(r"(?<=[.!:;])\s+|\n\s*\n", stem.strip())
    return parts[-1] if parts else stem


def _check_item(raw, line_of, shown) -> list[Problem]:
    """Rules the schema cannot express; every problem names its field."""
    from .cases import case_names
    from .treatments import UnknownTreatmentError, parse_treatment

    item = raw["id"]
    out: list[Problem] = []

    def add(path, message):
        out.append(Problem(shown, line_of(path), item, ".".join(map(str, path)), message))

    for path, text in _texts(raw):
        if found := RAW_HTML.search(text):
            add(path, found.reason)
    kind = raw["type"]
    options = raw.get("answers") or []
    correct = [o.get("correct", False) for o in options]
    stem = raw["question"].strip()
    if kind == "numeric":
        for extra in ("answers",):
            if extra in raw:
                add((extra,), "a numeric item takes `answer`, not a list of options")
        answer = raw["answer"]
        if ("value" in answer) == ("lab" in answer):
            add(("answer",), "give exactly one of `value` or `lab`")
        if "lab" in answer and "case" not in raw:
            add(("answer", "lab"), "a lab answer needs a `case` to read it from")
        for i, band in enumerate(raw.get("feedback") or []):
            low, high = band["range"]
            if not low <= high:
                add(("feedback", i, "range"), f"low end {low:g} is above high end {high:g}")
    else:
        for extra in ("answer", "feedback", "unit"):
            if extra in raw:
                add((extra,), f"only numeric items take `{extra}`")
        n = len(options)
        if kind == "multiple_choice":
            if not 3 <= n <= 5:
                add(("answers",), f"a single-best-answer item needs 3 to 5 options, not {n}")
            if sum(correct) != 1:
                add(("answers",), f"needs exactly one correct option, not {sum(correct)}")
        elif kind == "many_choice":
            if not 3 <= n <= 6:
                add(("answers",), f"a multiple-select item needs 3 to 6 options, not {n}")
            if sum(correct) < 2 or sum(correct) == n:
                add(("answers",), "needs at least two correct options and at least one wrong one")
        elif kind == "ordering":
            if not 3 <= n <= 6:
                add(("answers",), f"an ordering item needs 3 to 6 steps, not {n}")
            if any("correct" in o for o in options):
                add(("answers",), "ordering steps are written in the right order and take no `correct`")
        texts = [o["answer"].strip() for o in options]
        if len(set(t.lower() for t in texts)) != len(texts):
            add(("answers",), "two options have the same text")
        for i, t in enumerate(texts):
            if _ALL_NONE.search(t):
                add(("answers", i, "answer"), "no 'all/none of the above' options (NBME rule)")
        if texts and kind != "ordering":
            lengths = [len(t) for t in texts]
            if max(lengths) > _HOMOGENEITY_RATIO * max(min(lengths), _HOMOGENEITY_FLOOR):
                add(("answers",), f"options are not homogeneous: longest {max(lengths)} characters, "
                    f"shortest {min(lengths)} (limit 3 times)")
    if _NEGATIVE_LEAD_IN.search(_lead_in(stem)):
        add(("question",), "negative stem (NOT, EXCEPT, least); ask for the best answer instead (NBME rule)")
    if not stem.endswith("?"):
        add(("question",), "the lead-in should be a question ending in '?' (NBME rule)")
    case = raw.get("case")
    if case is not None:
        if case["name"] not in case_names():
            add(("case", "name"), f"unknown case {case['name']!r}; valid cases: {', '.join(case_names())}")
    plans = [(("case", "treat"), (case or {}).get("treat") or [])]
    plans += [(("answers", i, "plan"), o.get("plan") or []) for i, o in enumerate(options)]
    for path, plan in plans:
        for spec in plan:
            try:
                parse_treatment(spec)
            except (UnknownTreatmentError, ValueError) as exc:
                add(path, str(exc))
    if any(o.get("plan") for o in options) and case is None:
        add(("answers",), "options with a `plan` need a `case` to run it on")
    if "consequence_days" in raw and not any(o.get("plan") for o in options):
        add(("consequence_days",), "only items whose options carry a `plan` use consequence_days")
    return out


def _build(raw, topic, shown, line) -> Question:
    options = tuple(
        Option(text=o["answer"].strip(), correct=bool(o.get("correct", False)),
               feedback=o["feedback"].strip(), plan=tuple(o.get("plan") or ()))
        for o in raw.get("answers") or ()
    )
    case = raw.get("case")
    answer = raw.get("answer") or {}
    return Question(
        id=raw["id"],
        topic=topic,
        type=raw["type"],
        question=raw["question"].strip(),
        objective=raw["objective"].strip(),
        difficulty=raw["difficulty"],
        explanation=raw["explanation"].strip(),
        citations=tuple(raw["citations"]),
        options=options,
        unit=raw.get("unit", ""),
        value=float(answer["value"]) if "value" in answer else None,
        lab=answer.get("lab"),
        tolerance=float(answer.get("tolerance", 0.0)),
        range_feedback=tuple((float(b["range"][0]), float(b["range"][1]), b["feedback"].strip())
                             for b in raw.get("feedback") or ()),
        feedback_correct=(raw.get("feedback_correct") or "Correct.").strip(),
        feedback_default=(raw.get("feedback_default") or "Not quite.").strip(),
        misconception=raw.get("misconception"),
        lessons=tuple(raw.get("lessons") or ()),
        case=None if case is None else CaseRef(
            name=case["name"], day=float(case.get("day", 0)), treat=tuple(case.get("treat") or ())),
        consequence_days=float(raw.get("consequence_days", 28)),
        path=shown,
        line=line,
    )


def lint_bank(questions: Sequence[Question], where: str = "assets/questions") -> list[Problem]:
    """Bank-wide rules: unique ids, and where the correct option sits.

    The position and length rules apply to single-best-answer items once
    there are at least 10 of them (a single file of three proves nothing).
    """
    problems = []
    seen: dict[str, Question] = {}
    for q in questions:
        if q.id in seen:
            first = seen[q.id]
            problems.append(Problem(q.path, q.line, q.id, "id",
                                    f"duplicate id; first used at {first.path}:{first.line}"))
        else:
            seen[q.id] = q
    single = [q for q in questions if q.type == "multiple_choice"]
    if len(single) >= 10:
        longest = [q for q in single if _correct_is_longest(q)]
        share = len(longest) / len(single)
        if share > LONGEST_CORRECT_LIMIT:
            problems.append(Problem(where, 0, "(bank)", "answers",
                                    f"the correct option is the longest in {share:.0%} of single-best-answer "
                                    f"items (limit {LONGEST_CORRECT_LIMIT:.0%}), e.g. "
                                    + ", ".join(q.id for q in longest[:3])))
        counts: dict[int, int] = {}
        for q in single:
            counts[q.correct_indices[0]] = counts.get(q.correct_indices[0], 0) + 1
        for position, count in sorted(counts.items()):
            if count / len(single) > POSITION_LIMIT:
                problems.append(Problem(where, 0, "(bank)", "answers",
                                        f"option {position + 1} is correct in {count / len(single):.0%} of "
                                        f"single-best-answer items (limit {POSITION_LIMIT:.0%})"))
    return problems


def _correct_is_longest(q: Question) -> bool:
    lengths = [len(o.text) for o in q.options]
    right = q.correct_indices[0]
    return lengths[right] == max(lengths) and lengths.count(max(lengths)) == 1


def question_files(folder: str | Path | None = None) -> list[Path]:
    """The topic files of the bank, sorted by name."""
    folder = Path(folder) if folder is not None else assets_dir() / "questions"
    return sorted(folder.glob("*.yaml"))


def load_bank(folder: str | Path | None = None) -> Bank:
    """Load every topic file; bad items are left out and listed in ``Bank.problems``.

    Parameters
    ----------
    folder : str or Path, optional
        Folder of topic files (default: ``assets/questions`` of the install,
        or of ``KMS_TEACH_ASSETS``).
    """
    files = question_files(folder)
    key = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    return _load_bank_cached(key)


@functools.lru_cache(maxsize=4)
def _load_bank_cached(key) -> Bank:
    questions, problems, titles = [], [], {}
    for path, _ in key:
        found, trouble = read_question_file(path)
        questions.extend(found)
        problems.extend(trouble)
        try:
            _node, data = parse_yaml(Path(path).read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("title"), str):
                titles[str(data.get("topic"))] = data["title"]
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            pass
    duplicates = {p.item for p in lint_bank(questions) if p.field == "id"}
    kept = [q for q in questions if q.id not in duplicates]
    problems.extend(p for p in lint_bank(questions) if p.field == "id")
    return Bank(questions=tuple(kept), problems=tuple(problems), titles=titles)


# --------------------------------------------------------------------------- grading


def expected_value(question: Question) -> float:
    """The right answer of a numeric item; a ``lab`` answer is read from the model."""
    if question.value is not None:
        return question.value
    return case_result(question.case).labs_at(question.case.day)[question.lab]


@functools.lru_cache(maxsize=64)
def case_result(case: CaseRef):
    """The simulated course behind a case-based item, up to the day of its panel."""
    from .model import simulate

    return simulate(case.name, case.treat, days=max(case.day, 0.25), every_hours=6)


def case_panel(question: Question, units: str = "SI"):
    """The lab panel a case-based item shows above its stem (a :class:`LabPanel`)."""
    if question.case is None:
        raise ValueError(f"question {question.id!r} has no case")
    return case_result(question.case).lab_panel(question.case.day, units=units)


@dataclass(frozen=True)
class Consequence:
    """What the model shows after the learner's choice, beside no treatment.

    ``chosen`` and ``untreated`` are :class:`~kms_teach.model.Result` courses
    from the item's case day; ``summary`` says in words what changed.
    """

    plan: tuple[str, ...]
    chosen: Any
    untreated: Any
    summary: str


@functools.lru_cache(maxsize=256)
def _consequence(case: CaseRef, plan: tuple[str, ...], days: float) -> Consequence:
    from .describe import LAB_NAMES, format_value
    from .model import simulate
    from .treatments import as_events, shift_plan

    start = case.day
    shifted = shift_plan(plan, start)
    horizon = start + days
    every = 3 if days <= 28 else 6  # 3-hourly shows a transfusion's peak; long courses need less
    chosen = simulate(case.name, case.treat + shifted, days=horizon, every_hours=every)
    untreated = simulate(case.name, case.treat, days=horizon, every_hours=every)
    names = " and ".join(e.name.replace("-", " ") for e in as_events(plan)) or "no treatment"
    i = chosen.index(start)
    span = f"day {days:g}"
    parts = [f"Before the choice: platelets {format_value('platelets', float(untreated.platelets[i]))}, "
             f"fibrinogen {format_value('fibrinogen', float(untreated.fibrinogen[i]))}."]
    for lab in ("platelets", "fibrinogen"):
        series = getattr(chosen, lab)[i:]
        k = int(series.argmax())
        peak, last = float(series[k]), float(series[-1])
        before = float(getattr(untreated, lab)[i])
        text = f"With {names}, {LAB_NAMES[lab][0].lower()} "
        if peak > 1.15 * before and last < 0.8 * peak:
            when = chosen.day[i + k] - start
            timing = "within hours" if when < 1 else f"by day {round(float(when))}"
            text += (f"rose to {format_value(lab, peak)} {timing}, then fell back to "
                     f"{format_value(lab, last)} by {span}")
        elif last > 1.05 * before:
            text += f"rose to {format_value(lab, last)} by {span}"
        elif last < 0.95 * before:
            text += f"fell to {format_value(lab, last)} by {span}"
        else:
            text += f"stayed near {format_value(lab, last)} to {span}"
        untreated_last = float(getattr(untreated, lab)[-1])
        parts.append(text + f" (untreated: {format_value(lab, untreated_last)}).")
    bulk = float(chosen.tumour_bulk[-1] / untreated.tumour_bulk[-1] - 1)
    if abs(bulk) >= 0.02:
        parts.append(f"By {span} the tumour was {abs(bulk):.0%} {'larger' if bulk > 0 else 'smaller'} "
                     "than without treatment.")
    return Consequence(plan=plan, chosen=chosen, untreated=untreated, summary=" ".join(parts))


def consequence(question: Question, option_index: int) -> Consequence | None:
    """Run the item's case under the plan of one option; None if it has no plan."""
    option = question.options[_index(option_index, len(question.options))]
    if not option.plan or question.case is None:
        return None
    return _consequence(question.case, option.plan, question.consequence_days)


def grade(question: Question, response: Any) -> Grade:
    """Grade one answer.

    Parameters
    ----------
    question : Question
    response
        ``multiple_choice``: the index of the chosen option (file order).
        ``many_choice``: the indices ticked. ``ordering``: option indices in
        the learner's order. ``numeric``: a number, or text holding one.

    Returns
    -------
    Grade

    Notes
    -----
    Multiple select scores ``max(0, (right ticks - wrong ticks) / number
    right)``; ordering scores the fraction of option pairs in the right
    relative order. Only a fully right answer counts as correct.
    """
    kind = question.type
    if kind == "numeric":
        return _grade_numeric(question, response)
    n = len(question.options)
    if kind == "multiple_choice":
        index = _index(response, n)
        option = question.options[index]
        return Grade(1.0 if option.correct else 0.0, option.correct, (option.feedback,), _expected(question))
    if kind == "many_choice":
        chosen = sorted({_index(i, n) for i in response})
        right = set(question.correct_indices)
        hits = sum(1 for i in chosen if i in right)
        misses = len(chosen) - hits
        score = max(0.0, (hits - misses) / len(right))
        correct = set(chosen) == right
        return Grade(score, correct, tuple(question.options[i].feedback for i in chosen), _expected(question))
    if kind == "ordering":
        order = [_index(i, n) for i in response]
        if sorted(order) != list(range(n)):
            raise ValueError(f"an ordering answer must list each of the {n} steps once, not {order!r}")
        pairs = list(itertools.combinations(range(n), 2))
        agree = sum(1 for a, b in pairs if order.index(a) < order.index(b))
        score = agree / len(pairs)
        misplaced = tuple(question.options[i].feedback for pos, i in enumerate(order) if i != pos)
        return Grade(score, order == list(range(n)), misplaced, _expected(question))
    raise ValueError(f"unknown question type {kind!r}; valid types: {', '.join(QUESTION_TYPES)}")


def _index(value, n) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
        raise ValueError(f"an option index must be a whole number from 0 to {n - 1}, not {value!r}")
    return value


def _expected(question: Question) -> str:
    if question.type == "ordering":
        return " -> ".join(o.text for o in question.options)
    return "; ".join(o.text for o in question.options if o.correct)


def parse_number(text: Any) -> float:
    """Read a learner's number: accepts ``1.5``, ``1,5``, `` 2e3 `` and the like."""
    if isinstance(text, bool):
        raise ValueError("type a number")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        cleaned = str(text).strip().replace(",", ".").replace(" ", "")
        try:
            value = float(cleaned)
        except ValueError:
            raise ValueError(f"type a number, not {str(text)[:40]!r}") from None
    if not math.isfinite(value):
        raise ValueError("type a finite number")
    return value


def _grade_numeric(question: Question, response) -> Grade:
    value = parse_number(response)
    target = expected_value(question)
    expected = f"{_round(target, question.tolerance)} {question.unit} (accepted within ±{question.tolerance:g})"
    if abs(value - target) <= question.tolerance + 1e-12:
        return Grade(1.0, True, (question.feedback_correct,), expected)
    for low, high, text in question.range_feedback:
        if low <= value <= high:
            return Grade(0.0, False, (text,), expected)
    return Grade(0.0, False, (question.feedback_default,), expected)


def _round(value: float, tolerance: float) -> str:
    decimals = max(0, min(3, -math.floor(math.log10(tolerance)) + 1)) if tolerance > 0 else 2
    return f"{value:.{decimals}f}"

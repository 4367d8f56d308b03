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
import hashlib
import itertools
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ._assets import AssetError, assets_dir, load_content, read_json, read_text
from ._content import RAW_HTML, line_for, missing_field, schema_message

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
    "OBJECTIVES",
    "BLOOM_LEVELS",
    "panel_text",
    "bank_stats",
    "format_stats",
]

QUESTION_TYPES = ("multiple_choice", "many_choice", "numeric", "ordering")
BLOOM_LEVELS = ("remember", "understand", "apply", "analyze")

#: Lesson objective ids shared with the lessons (``LNN.k``: lesson, position in its list).
OBJECTIVES = {
    "L00.1": "Work through a lesson in order; start again cleanly",
    "L00.2": "Use the controls from the keyboard",
    "L00.3": "Define KMP and name KHE and TA",
    "L00.4": "Interpret flags on a lab report; convert units",
    "L01.1": "Distinguish KHE/TA from infantile hemangioma",
    "L01.2": "How often KMP complicates KHE and TA; risk features",
    "L01.3": "How an active tumour looks and feels; KMP with no skin lesion",
    "L01.4": "Warning signs that need emergency care",
    "L01.5": "Historical versus modern mortality",
    "L02.1": "Normal platelet kinetics; the count as a balance",
    "L02.2": "Trapping via podoplanin/CLEC-2",
    "L02.3": "Predict the count when the tumour is more or less active",
    "L02.4": "Why platelets fall within days, fibrinogen and haemoglobin more slowly",
    "L02.5": "Compare study thresholds for KMP",
    "L03.1": "Consumption of fibrinogen and factors; why D-dimer rises",
    "L03.2": "Interpret D-dimer against the age range and unit",
    "L03.3": "Why infants become anaemic; Hb against the infant nadir",
    "L03.4": "Normal PT/aPTT do not rule out consumption",
    "L03.5": "Distinguish KMP from sepsis-DIC, NAIT, infantile hemangioma and RICH",
    "L04.1": "Rank treatments by evidence",
    "L04.2": "Why platelets recover within days and fibrinogen over weeks",
    "L04.3": "Blood products for bleeding or procedures, not for a number",
    "L04.4": "Interpret a virtual trial honestly",
    "L04.5": "Why treatment lasts months; rebound; outlook",
    "L05.1": "Mixed practice across topics",
    "L05.2": "Work up an infant and defend each test",
    "L05.3": "Choose a diagnosis and treatment and explain the course",
    "L05.4": "Find one's weakest areas",
    "L06.1": "What response looks like over months and how it is monitored",
    "L06.2": "Sirolimus safety: troughs, Pneumocystis prophylaxis, infections, vaccines",
    "L06.3": "Steroid taper and steroid toxicity",
    "L06.4": "Refractory disease: vincristine, its toxicity and central access; other options",
    "L06.5": "How long treatment lasts; rebound on stopping and its management",
    "L06.6": "Long-term sequelae, local complications and emergencies; the team",
}
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

    @classmethod
    def from_asset_error(cls, error: AssetError) -> "Problem":
        """The same problem as the safe loader's :class:`AssetError` (line 1 when it has none)."""
        return cls(error.path, error.line or 1, str(error.item or "(file)"), str(error.field or "-"),
                   error.message)


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
    bloom: str = ""
    objectives: tuple[str, ...] = ()
    case: CaseRef | None = None
    show_flags: bool = True
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
            Items tagged for this lesson (0-6).
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


#: Fingerprints of the shipped topic files that passed the schema, written by
#: ``python -m kms_teach.seal``. It lives in the package, not in an assets folder a
#: shared file could replace; a file whose bytes (or the schema's) differ is checked in full.
SEALED_FILE = Path(__file__).with_name("sealed_questions.json")


def fingerprint(text: str) -> str | None:
    """sha256 of the question schema and of a topic file's text (length-prefixed), or None
    when the schema cannot be read safely (then nothing counts as sealed)."""
    try:
        schema = read_text(assets_dir() / "question.schema.json").encode("utf-8")
    except AssetError:
        return None
    body = text.encode("utf-8")
    return hashlib.sha256(b"%d:" % len(schema) + schema + b"%d:" % len(body) + body).hexdigest()


@functools.lru_cache(maxsize=1)
def _sealed() -> frozenset:
    try:
        return frozenset(str(h) for h in json.loads(SEALED_FILE.read_text(encoding="utf-8"))["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


def _schema_errors(text: str, data) -> Iterable:
    # A learner's kernel loads the shipped bank without importing jsonschema (~5 MB resident):
    # the text just parsed, byte for byte, passed the schema when it was sealed.
    if fingerprint(text) in _sealed():
        return ()
    return _schema_validator().iter_errors(data)


def seal(folder: str | Path | None = None) -> list[str]:
    """Fingerprint the topic files that pass the schema; return the names of those that do not."""
    sealed, unsealed = [], []
    for path in question_files(folder):
        try:
            content = load_content(path, lenient=True)
        except AssetError:
            unsealed.append(path.name)
            continue
        if content.problems or any(True for _ in _schema_validator().iter_errors(content.data)):
            unsealed.append(path.name)
        else:
            sealed.append(fingerprint(content.text))
    SEALED_FILE.write_text(json.dumps({"sha256": sorted(sealed)}, indent=1) + "\n", encoding="utf-8")
    _sealed.cache_clear()
    return unsealed


@functools.lru_cache(maxsize=1)
def _schema_validator():
    jsonschema = import_jsonschema()

    schema = read_json(assets_dir() / "question.schema.json")
    return jsonschema.Draft202012Validator(schema)


def read_question_file(path: str | Path) -> tuple[list[Question], list[Problem]]:
    """Read one topic file: its valid questions and every problem found.

    Never raises for bad content; a problem names the file, line, item id and
    field. Items with a problem are left out of the returned questions.
    """
    questions, problems, _title = _read_topic(path)
    return questions, problems


def _read_topic(path: str | Path) -> tuple[list[Question], list[Problem], tuple[str, str] | None]:
    """:func:`read_question_file`, plus the file's ``(topic, title)`` when it has a text title."""
    path = Path(path)
    shown = str(path)
    try:
        content = load_content(path, lenient=True)
    except AssetError as exc:
        return [], [Problem.from_asset_error(exc)], None
    data, lines = content.data, content.lines
    if not isinstance(data, dict):
        return [], [Problem(shown, 1, "(file)", "-", "must be a mapping with topic, title and questions")], None
    title = (str(data.get("topic")), data["title"]) if isinstance(data.get("title"), str) else None
    problems: list[Problem] = []
    bad_items: set[int] = set()
    file_broken = False
    for error in content.problems:  # the safe loader's: duplicate keys, nan/inf, YAML tags, ...
        where = list(error.where or ())
        if len(where) >= 2 and where[0] == "questions" and isinstance(where[1], int) \
                and isinstance(data.get("questions"), list):
            bad_items.add(where[1])
            item = _item_name(data["questions"][where[1]], where[1])
            fld = ".".join(str(p) for p in where[2:]) or "-"
        else:
            file_broken = True
            item, fld = "(file)", ".".join(str(p) for p in where) or "-"
        problems.append(Problem(shown, error.line or line_for(lines, where), item, fld, error.message))
    refused = {tuple(error.where or ()) for error in content.problems}
    for error in _schema_errors(content.text, data):
        where = list(error.absolute_path)
        if tuple(where) in refused:  # already reported by the loader (a .nan read as 0, say)
            continue
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
        return [], _dedupe(problems), title
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
    return questions, _dedupe(problems), title


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
    for i, objective in enumerate(raw.get("objectives") or []):
        if objective not in OBJECTIVES:
            add(("objectives", i), f"unknown objective id {objective!r}; valid ids: L00.1-L00.4, L01.1-L01.5, "
                "L02.1-L02.5, L03.1-L03.5, L04.1-L04.5, L05.1-L05.4, L06.1-L06.6")
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
        bloom=raw.get("bloom", ""),
        objectives=tuple(raw.get("objectives") or ()),
        show_flags=bool((case or {}).get("flags", True)),
        case=None if case is None else CaseRef(
            name=case["name"], day=float(case.get("day", 0)), treat=tuple(case.get("treat") or ())),
        consequence_days=float(raw.get("consequence_days", 28)),
        path=shown,
        line=line,
    )


def lint_bank(questions: Sequence[Question], where: str = "assets/questions", *,
              coverage: bool = False) -> list[Problem]:
    """Bank-wide rules plus the item-writing lint of every item.

    Unique ids; the item rules of :data:`ITEM_RULES`; likely duplicate stems;
    and, once there are at least 10 single-best-answer items (a single file of
    three proves nothing), where the correct option sits and how its length
    ranks against chance. ``coverage`` adds the rule that every lesson
    objective is assessed by at least two items, for a whole bank: one with
    at least two items per objective.
    """
    problems = _duplicate_ids(questions)
    for q in questions:
        for rule in ITEM_RULES:
            problems.extend(rule(q))
    problems.extend(lint_stem_overlap(questions))
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
        problems.extend(lint_key_length(questions, where))
    # A folder too small to assess every objective twice is a class's own quiz bank, not the whole bank.
    if coverage and len(questions) >= 2 * len(OBJECTIVES):
        problems.extend(lint_coverage(questions, where))
    return problems


def _duplicate_ids(questions: Sequence[Question]) -> list[Problem]:
    problems = []
    seen: dict[str, Question] = {}
    for q in questions:
        if q.id in seen:
            first = seen[q.id]
            problems.append(Problem(q.path, q.line, q.id, "id",
                                    f"duplicate id; first used at {first.path}:{first.line}"))
        else:
            seen[q.id] = q
    return problems


def _correct_is_longest(q: Question) -> bool:
    lengths = [len(o.text) for o in q.options]
    right = q.correct_indices[0]
    return lengths[right] == max(lengths) and lengths.count(max(lengths)) == 1


# --------------------------------------------------------------------------- item-writing lint
#
# Test-wiseness cues an NBME-trained reviewer looks for (docs/question-format.md,
# "Item-writing rules"). Each rule is a function of one item, or of the bank,
# returning Problems, so each can be tested on a deliberately flawed example.

_ABSOLUTE = re.compile(r"\b(always|never|only|completely|every|all|any|none|cannot|proven|proof|entirely|"
                       r"essentially|guaranteed|must)\b", re.IGNORECASE)
_HEDGE = re.compile(r"\b(usually|often|may|might|can|could|sometimes|generally|typically|rarely|probably|likely|"
                    r"possibly|seldom|tends?|mostly|commonly|perhaps)\b", re.IGNORECASE)
# Small words and words every item in this bank uses; sharing them is no cue.
_STOP = frozenset("""
about above after again against along among another because before being below between could every first
from have into less more most much other over same since some such than that their them then there these
they this those through under until very were what when where which while whom whose with within without
would your which infant infants baby girl week weeks month months days old year years kmp kms khe
""".split())
_JUDGE_ABNORMAL = re.compile(r"\b(abnormal|outside the (reference )?range|within the range|normal for (his|her|"
                             r"their|the)? ?age|range for (his|her|their) age|flagged|out of range)\b", re.IGNORECASE)
#: Stems sharing at least this share of their content words (Jaccard) are reported as likely duplicates.
STEM_OVERLAP_LIMIT = 0.45
#: How far (in points of share) the key-length statistics may exceed chance.
KEY_LENGTH_MARGIN = 0.10
#: "Within 5 characters of the longest option".
NEAR_LONGEST_CHARACTERS = 5


def _words(text: str) -> set[str]:
    """Content words of a text, crudely singularised (a trailing s dropped)."""
    found = set()
    for word in re.findall(r"[a-z][a-z-]+", text.lower()):
        word = word.strip("-")
        if len(word) >= 5 and word not in _STOP:
            found.add(word[:-1] if word.endswith("s") and not word.endswith("ss") else word)
    return found


def _problem(q: Question, fld: str, message: str) -> Problem:
    return Problem(q.path, q.line, q.id, fld, message)


def lint_absolute_terms(q: Question) -> list[Problem]:
    """Absolute terms (always, never, only...) in distractors of a single-best-answer item but not in its key."""
    if q.type != "multiple_choice" or not q.correct_indices:
        return []
    key = q.options[q.correct_indices[0]].text
    if _ABSOLUTE.search(key):
        return []
    out = []
    for i, option in enumerate(q.options):
        match = None if option.correct else _ABSOLUTE.search(option.text)
        if match:
            out.append(_problem(q, f"answers.{i}.answer",
                                f"absolute term {match.group(0)!r} in a distractor but not in the key "
                                "(test-wise learners rule such options out)"))
    return out


def lint_hedged_key(q: Question) -> list[Problem]:
    """The key is the only hedged option (usually, may, often...)."""
    if q.type != "multiple_choice" or len(q.options) < 3:
        return []
    hedged = [bool(_HEDGE.search(o.text)) for o in q.options]
    right = q.correct_indices[0]
    if hedged[right] and sum(hedged) == 1:
        word = _HEDGE.search(q.options[right].text).group(0)
        return [_problem(q, f"answers.{right}.answer",
                         f"the key is the only hedged option ({word!r}); hedge a distractor too or drop the hedge")]
    return []


def lint_stem_key_repetition(q: Question) -> list[Problem]:
    """Words shared by the stem and the key that no distractor contains (a clang cue)."""
    if q.type != "multiple_choice":
        return []
    right = q.correct_indices[0]
    key_words = _words(q.options[right].text)
    distractor_words = set().union(*(_words(o.text) for i, o in enumerate(q.options) if i != right))
    shared = sorted((key_words & _words(q.question)) - distractor_words)
    if shared:
        return [_problem(q, f"answers.{right}.answer",
                         f"the key repeats stem word(s) {', '.join(repr(w) for w in shared)} that no distractor "
                         "contains; reword the key or use the word in a distractor")]
    return []


def lint_flagged_panel(q: Question) -> list[Problem]:
    """A case panel shown with flags in an item that asks the learner to judge what is abnormal."""
    if q.case is None or not q.show_flags:
        return []
    if _JUDGE_ABNORMAL.search(_lead_in(q.question)) or _JUDGE_ABNORMAL.search(q.question[-200:]):
        return [_problem(q, "case.flags", "the item asks which results are abnormal but its panel shows the flags "
                         "and ranges that answer it; set `flags: false` in `case`")]
    return []


def lint_objectives(q: Question) -> list[Problem]:
    """Every item names at least one lesson objective id that exists."""
    if not q.objectives:
        return [_problem(q, "objectives", "tag the item with at least one lesson objective id (e.g. L04.3)")]
    return [_problem(q, "objectives", f"unknown objective id {o!r}") for o in q.objectives if o not in OBJECTIVES]


def lint_bloom(q: Question) -> list[Problem]:
    """Every item states the Bloom level of the task it sets."""
    if q.bloom not in BLOOM_LEVELS:
        return [_problem(q, "bloom", f"give the item a `bloom` level: {', '.join(BLOOM_LEVELS)}")]
    return []


ITEM_RULES = (lint_absolute_terms, lint_hedged_key, lint_stem_key_repetition, lint_flagged_panel, lint_objectives,
              lint_bloom)


def key_length_shares(questions: Sequence[Question]) -> dict[str, float]:
    """How often the key of a single-best-answer item is the longest option, beside chance.

    Returns
    -------
    dict
        ``strict`` (the key is strictly the longest) and ``near`` (the key is
        the longest or within :data:`NEAR_LONGEST_CHARACTERS` of it), each
        with ``*_chance``: the share a key placed at random among each item's
        own options would give (the mean over items of the fraction of
        options that would qualify), so the chance values follow this bank's
        option counts and lengths. ``items`` is the number of items.
    """
    single = [q for q in questions if q.type == "multiple_choice" and q.correct_indices]
    out = {"items": float(len(single)), "strict": 0.0, "strict_chance": 0.0, "near": 0.0, "near_chance": 0.0}
    if not single:
        return out
    for q in single:
        lengths = [len(o.text) for o in q.options]
        longest = max(lengths)
        strict = [length == longest and lengths.count(longest) == 1 for length in lengths]
        near = [length >= longest - NEAR_LONGEST_CHARACTERS for length in lengths]
        key = q.correct_indices[0]
        out["strict"] += strict[key]
        out["near"] += near[key]
        out["strict_chance"] += sum(strict) / len(lengths)
        out["near_chance"] += sum(near) / len(lengths)
    for name in ("strict", "strict_chance", "near", "near_chance"):
        out[name] /= len(single)
    return out


def lint_key_length(questions: Sequence[Question], where: str) -> list[Problem]:
    """Key-length rank far above chance across the bank's single-best-answer items (needs >= 10)."""
    shares = key_length_shares(questions)
    if shares["items"] < 10:
        return []
    problems = []
    for name, words in (("strict", "strictly the longest option"),
                        ("near", f"the longest or within {NEAR_LONGEST_CHARACTERS} characters of it")):
        share, chance = shares[name], shares[f"{name}_chance"]
        if share > chance + KEY_LENGTH_MARGIN:
            problems.append(Problem(where, 0, "(bank)", "answers",
                                    f"the key is {words} in {share:.0%} of single-best-answer items; a key placed "
                                    f"at random would be {chance:.0%} (limit: chance + {KEY_LENGTH_MARGIN:.0%})"))
    return problems


def lint_stem_overlap(questions: Sequence[Question]) -> list[Problem]:
    """Pairs of items whose stems share most of their content words (likely duplicates that cue each other)."""
    words = [(q, _words(q.question)) for q in questions]
    problems = []
    for (a, wa), (b, wb) in itertools.combinations(words, 2):
        if not wa or not wb:
            continue
        overlap = len(wa & wb) / len(wa | wb)
        if overlap >= STEM_OVERLAP_LIMIT:
            problems.append(_problem(b, "question", f"stem overlaps {overlap:.0%} with {a.id} ({a.path}:{a.line}); "
                                     "merge the two items or make them test different decisions"))
    return problems


def lint_coverage(questions: Sequence[Question], where: str, minimum: int = 2) -> list[Problem]:
    """Every lesson objective is assessed by at least ``minimum`` items."""
    counts = {o: 0 for o in OBJECTIVES}
    for q in questions:
        for o in q.objectives:
            if o in counts:
                counts[o] += 1
    thin = [f"{o} ({n})" for o, n in counts.items() if n < minimum]
    if thin:
        return [Problem(where, 0, "(bank)", "objectives",
                        f"objectives assessed by fewer than {minimum} items: {', '.join(thin)}")]
    return []


def bank_stats(questions: Sequence[Question]) -> dict[str, Any]:
    """Key positions, key-length shares beside chance, the Bloom mix and coverage per objective."""
    single = [q for q in questions if q.type == "multiple_choice" and q.correct_indices]
    positions: dict[str, int] = {}
    for q in single:
        letter = "ABCDEFGH"[q.correct_indices[0]]
        positions[letter] = positions.get(letter, 0) + 1
    bloom = {level: sum(q.bloom == level for q in questions) for level in BLOOM_LEVELS}
    coverage = {o: sum(o in q.objectives for q in questions) for o in OBJECTIVES}
    return {"items": len(questions), "single_best_answer": len(single),
            "types": {t: sum(q.type == t for q in questions) for t in QUESTION_TYPES},
            "key_positions": dict(sorted(positions.items())), "key_length": key_length_shares(questions),
            "bloom": bloom, "coverage": coverage}


def format_stats(stats: Mapping[str, Any]) -> str:
    """The statistics of :func:`bank_stats` as a short plain-text report."""
    n, single = stats["items"], stats["single_best_answer"]
    lines = [f"Items: {n} (" + ", ".join(f"{t.replace('_', ' ')} {c}" for t, c in stats["types"].items()) + ")"]
    lines.append(f"Key positions ({single} single-best-answer items): "
                 + ", ".join(f"{k} {v} ({v / max(single, 1):.0%})" for k, v in stats["key_positions"].items()))
    kl = stats["key_length"]
    lines.append(f"Key strictly the longest option: {kl['strict']:.1%} (chance {kl['strict_chance']:.1%}; "
                 f"limit {kl['strict_chance'] + KEY_LENGTH_MARGIN:.1%})")
    lines.append(f"Key longest or within {NEAR_LONGEST_CHARACTERS} characters: {kl['near']:.1%} "
                 f"(chance {kl['near_chance']:.1%}; limit {kl['near_chance'] + KEY_LENGTH_MARGIN:.1%})")
    bloom = stats["bloom"]
    higher = bloom.get("apply", 0) + bloom.get("analyze", 0)
    lines.append("Bloom: " + ", ".join(f"{level} {count}" for level, count in bloom.items())
                 + f"; apply or analyze {higher}/{n} = {higher / max(n, 1):.0%}")
    lines.append("Items per objective:")
    by_lesson: dict[str, list[str]] = {}
    for objective, count in stats["coverage"].items():
        by_lesson.setdefault(objective[:3], []).append(f"{objective} {count}")
    lines.extend("  " + "  ".join(row) for row in by_lesson.values())
    return "\n".join(lines)


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
        found, trouble, title = _read_topic(path)  # one read gives the items and the title
        questions.extend(found)
        problems.extend(trouble)
        if title is not None:
            titles[title[0]] = title[1]
    duplicate_problems = _duplicate_ids(questions)
    duplicates = {p.item for p in duplicate_problems}
    kept = [q for q in questions if q.id not in duplicates]
    problems.extend(duplicate_problems)
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


def panel_text(question: Question) -> str:
    """The case panel as the learner sees it: flagged, or bare values when ``case.flags`` is false.

    Items that ask which results are abnormal show the panel without the
    Flag column and the reference ranges, which would answer them.
    """
    from .labs import _DISPLAY  # the panel's own display precision, so both forms show the same digits

    panel = case_panel(question)
    if question.show_flags:
        return str(panel)
    rows = [(r.label, f"{r.value:,.{_DISPLAY[panel.units][r.analyte][2]}f}", r.unit) for r in panel]
    header = ("Test", "Result", "Unit")
    widths = [max(len(row[c]) for row in (header, *rows)) for c in range(3)]

    def line(cells):
        return "  ".join(cell.rjust(w) if c == 1 else cell.ljust(w)
                         for c, (cell, w) in enumerate(zip(cells, widths))).rstrip()

    out = [f"Lab panel: age {panel.age_days:g} days, {panel.units} units (flags and ranges hidden)", line(header)]
    out.append("-" * len(out[-1]))
    out.extend(line(row) for row in rows)
    return "\n".join(out)


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

"""Branching cases: work up an infant step by step, then read a debrief.

A work-up file (``assets/workups/*.yaml``, schema ``assets/workup.schema.json``)
names a model case, the tests a learner may order, the diagnoses and the
treatment plans on offer, with a verdict, an explanation and citations for
each. The learner's path is a :class:`WorkupSession`::

    session = WorkupSession("khe-workup")
    results = session.order_tests(["cbc", "fibrinogen", "mri"])   # step 1
    feedback = session.choose_diagnosis("khe-kmp")                 # step 2
    course = session.choose_plan("sirolimus-prednisolone")         # step 3
    debrief = session.debrief()                                    # step 4

Lab tests show the model's panel for the case on the file's ``day``; nothing
in the file is a lab value. Pure model layer: no plotting and no widgets are
imported here, and no HTML is produced (content text is Markdown, rendered by
the view through :func:`kms_teach.markup.to_html`).

Scoring (numbers in the file's ``scoring`` block): each test ordered earns the
points of its verdict (an essential test not ordered earns nothing); the test
section is that sum, kept between 0 and the best total the budget allows.
The diagnosis earns 1 if correct, the plan the credit of its verdict, and the
overall score is the weighted mean of the three sections' fractions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ._assets import AssetError, assets_dir, load_content, read_json
from ._content import RAW_HTML, line_for, missing_field, schema_message
from .questions import Problem
from .treatments import shift_plan

__all__ = [
    "Workup",
    "WorkupTest",
    "Choice",
    "Decision",
    "WorkupResult",
    "Feedback",
    "Course",
    "DebriefEntry",
    "Debrief",
    "WorkupSession",
    "WorkupError",
    "STEPS",
    "TEST_VERDICTS",
    "PLAN_VERDICTS",
    "workup_names",
    "workup_path",
    "read_workup_file",
    "load_workup",
    "check_workup_file",
]

#: The steps of a session, in order ("done" follows the debrief).
STEPS = ("tests", "diagnosis", "plan", "debrief")
TEST_VERDICTS = ("essential", "helpful", "unhelpful", "harmful")
PLAN_VERDICTS = ("best", "acceptable", "poor", "harmful")
_STEP_LABELS = {"tests": "Test", "diagnosis": "Diagnosis", "plan": "Plan"}


class WorkupError(AssetError):
    """A work-up file that cannot be used; ``problems`` lists every problem found.

    An :class:`~kms_teach._assets.AssetError` (so a ValueError) whose file, line, item and
    field are those of the first problem; its text lists up to five problems, each in the
    ``file:line: item: field: message`` form, separated by "; ".
    """

    def __init__(self, path, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        first = self.problems[0] if self.problems else Problem(str(path), 1, "(file)", "-", "is not valid")
        super().__init__(path, first.message, item=first.item, field=first.field, line=first.line)

    def __str__(self) -> str:
        shown = "; ".join(str(p) for p in self.problems[:5]) or f"{self.path}:1: (file): -: is not valid"
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        return f"{shown}{more}"


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class WorkupTest:
    """One test the learner may order.

    ``labs`` are read from the model; ``finding`` is the written result
    (imaging, procedures, a smear). A test that ``requires`` another shows
    ``finding_without`` when that one was not ordered.
    """

    id: str
    label: str
    verdict: str
    debrief: str
    citations: tuple[str, ...]
    labs: tuple[str, ...] = ()
    finding: str = ""
    requires: str | None = None
    finding_without: str = ""

    @property
    def essential(self) -> bool:
        return self.verdict == "essential"


@dataclass(frozen=True)
class Choice:
    """One option of a decision: a diagnosis (``correct``) or a plan (``plan``, ``verdict``)."""

    id: str
    label: str
    feedback: str
    citations: tuple[str, ...]
    correct: bool = False
    verdict: str = ""
    plan: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """A choice the learner makes: the prompt, its teaching explanation and the options."""

    prompt: str
    explanation: str
    citations: tuple[str, ...]
    options: tuple[Choice, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)

    def option(self, option_id: str) -> Choice:
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)


@dataclass(frozen=True)
class Workup:
    """A loaded, valid branching case (field meanings: ``assets/workup.schema.json``)."""

    id: str
    title: str
    case: str
    day: float
    course_days: float
    presentation: str
    budget: int
    test_points: Mapping[str, float]
    plan_credit: Mapping[str, float]
    weights: Mapping[str, float]
    tests: tuple[WorkupTest, ...]
    diagnosis: Decision
    plans: Decision
    path: str = ""

    @property
    def test_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tests)

    def test(self, test_id: str) -> WorkupTest:
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(test_id)

    @property
    def correct_diagnosis(self) -> Choice:
        return next(o for o in self.diagnosis.options if o.correct)

    @property
    def best_plans(self) -> tuple[Choice, ...]:
        return tuple(o for o in self.plans.options if o.verdict == "best")

    @property
    def max_test_points(self) -> float:
        """The best test score the budget allows: the highest positive points, ``budget`` of them."""
        gains = sorted((self.test_points[t.verdict] for t in self.tests if self.test_points[t.verdict] > 0),
                       reverse=True)
        return float(sum(gains[: self.budget]))


# --------------------------------------------------------------------------- loading


def workup_path(name: str) -> Path:
    """The file of a built-in work-up name, or ``name`` itself when it is a path."""
    text = str(name)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return Path(text)
    return assets_dir() / "workups" / f"{text}.yaml"


def workup_names() -> list[str]:
    """Names of the built-in work-ups, sorted."""
    return sorted(p.stem for p in (assets_dir() / "workups").glob("*.yaml"))


def load_workup(name: str | Path = "khe-workup") -> Workup:
    """Load and validate a work-up by built-in name or path.

    Raises
    ------
    WorkupError
        (a ValueError) listing every problem with file, line, item and field;
        an unknown name lists the built-in names.
    """
    path = workup_path(str(name))
    if not path.is_file() and not isinstance(name, Path) and path.parent == assets_dir() / "workups":
        raise WorkupError(path, [Problem(str(path), 1, "(file)", "-",
                                         f"unknown work-up {str(name)!r}; valid work-ups: "
                                         f"{', '.join(workup_names()) or 'none'}")])
    key = (str(path), path.stat().st_mtime_ns if path.is_file() else 0)
    return _load_cached(key)


@functools.lru_cache(maxsize=8)
def _load_cached(key) -> Workup:
    workup, problems = read_workup_file(key[0])
    if problems or workup is None:
        raise WorkupError(key[0], problems)
    return workup


def check_workup_file(path: str | Path) -> list[Problem]:
    """Every problem in one work-up file (empty when it is clean); never raises for bad content."""
    return read_workup_file(path)[1]


@functools.lru_cache(maxsize=1)
def _schema_validator():
    from .questions import import_jsonschema

    jsonschema = import_jsonschema()

    schema = read_json(assets_dir() / "workup.schema.json")
    return jsonschema.Draft202012Validator(schema)


def read_workup_file(path: str | Path) -> tuple[Workup | None, list[Problem]]:
    """Read one work-up file: the workup (None if any problem) and every problem found.

    Never raises for bad content: an unreadable file, bad YAML, a schema
    violation or a broken rule each becomes a :class:`Problem` naming the
    file, the line, the item (``(file)``, ``tests/ID``, ``diagnosis/ID``,
    ``plans/ID``, ``diagnosis``, ``plans`` or ``scoring``) and the field.
    """
    path = Path(path)
    shown = str(path)

    def file_problem(line, message):
        return None, [Problem(shown, line, "(file)", "-", message)]

    try:
        content = load_content(path, lenient=True)
    except AssetError as exc:
        return None, [Problem.from_asset_error(exc)]
    data, lines = content.data, content.lines
    if not isinstance(data, dict):
        return file_problem(1, "must be a mapping with id, title, case, tests, diagnosis and plans")
    if content.problems:  # duplicate keys, nan/inf, YAML tags: named by item and field like the rest
        problems = []
        for error in content.problems:
            item, fld = _item_and_field(data, list(error.where or ()))
            problems.append(Problem(shown, error.line or 1, item, fld, error.message))
        return None, list(dict.fromkeys(problems))
    problems: list[Problem] = []

    def add(where, message, fld=None):
        item, rest = _item_and_field(data, list(where))
        problems.append(Problem(shown, line_for(lines, where), item, fld or rest, message))

    for error in _schema_validator().iter_errors(data):
        where = list(error.absolute_path)
        item, rest = _item_and_field(data, where)
        fld = rest if rest != "-" else (missing_field(error) or "-")
        problems.append(Problem(shown, line_for(lines, where), item, fld, _schema_message(error)))
    _check_rules(data, path, add)
    problems = list(dict.fromkeys(problems))
    if problems:
        return None, problems
    return _build(data, shown), []


def _schema_message(error) -> str:
    if error.validator == "additionalProperties":
        return schema_message(error).replace("docs/question-format.md", "assets/workup.schema.json")
    if error.validator == "uniqueItems":
        return "lists the same value twice"
    return schema_message(error)


def _item_and_field(data, where: list) -> tuple[str, str]:
    """Name the item and field of a path into the file (see :func:`read_workup_file`)."""
    def join(parts):
        return ".".join(str(p) for p in parts) or "-"

    def named(section, index, raw):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
            return f"{section}/{raw['id']}"
        return f"{section}/(item {index + 1})"

    if len(where) >= 2 and where[0] == "tests" and isinstance(where[1], int):
        tests = data.get("tests")
        raw = tests[where[1]] if isinstance(tests, list) and where[1] < len(tests) else None
        return named("tests", where[1], raw), join(where[2:])
    if where and where[0] in ("diagnosis", "plans"):
        section = data.get(where[0])
        if len(where) >= 3 and where[1] == "options" and isinstance(where[2], int):
            options = section.get("options") if isinstance(section, dict) else None
            raw = options[where[2]] if isinstance(options, list) and where[2] < len(options) else None
            return named(where[0], where[2], raw), join(where[3:])
        return str(where[0]), join(where[1:])
    if where and where[0] == "scoring":
        return "scoring", join(where[1:])
    return "(file)", join(where)


def _strings(value, where=()):
    """Every text value in the file with its path (keys are not content)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, where + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _strings(inner, where + (i,))


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _check_rules(data: dict, path: Path, add) -> None:
    """Rules the schema cannot express; ``add(where, message)`` records a problem."""
    from .cases import case_names
    from .treatments import UnknownTreatmentError, parse_treatment

    for where, text in _strings(data):
        if found := RAW_HTML.search(text):
            add(where, found.reason)
    if isinstance(data.get("id"), str) and data["id"] != path.stem:
        add(["id"], f"must equal the file name {path.stem!r}, not {data['id']!r}")
    case = data.get("case")
    if isinstance(case, str) and case not in case_names():
        add(["case"], f"unknown case {case!r}; valid cases: {', '.join(case_names())}")
    day, days = data.get("day"), data.get("course_days")
    if _is_number(day) and _is_number(days) and day >= days:
        add(["day"], f"day {day:g} must come before the end of the course (course_days {days:g})")

    tests = data.get("tests") if isinstance(data.get("tests"), list) else []
    test_ids = _check_ids(tests, ["tests"], add)
    for i, raw in enumerate(tests):
        if not isinstance(raw, dict):
            continue
        if not raw.get("labs") and not raw.get("finding"):
            add(["tests", i], "give `labs` (read from the model), a written `finding`, or both", "labs")
        required = raw.get("requires")
        if isinstance(required, str):
            if required not in test_ids:
                add(["tests", i, "requires"],
                    f"unknown test id {required!r}; valid test ids: {', '.join(test_ids)}")
            elif required == raw.get("id"):
                add(["tests", i, "requires"], "a test cannot require itself")
            if "finding_without" not in raw:
                add(["tests", i], "a test with `requires` needs `finding_without`", "finding_without")
        elif "finding_without" in raw:
            add(["tests", i, "finding_without"], "only a test with `requires` uses finding_without")
    essential = sum(1 for raw in tests if isinstance(raw, dict) and raw.get("verdict") == "essential")
    budget = data.get("budget")
    if tests and essential == 0:
        add(["tests"], "at least one test must be essential")
    if _is_number(budget) and not isinstance(budget, bool) and tests:
        if budget < essential:
            add(["budget"], f"{budget} is fewer than the {essential} essential tests")
        if budget > len(tests):
            add(["budget"], f"{budget} is more than the {len(tests)} tests on offer")

    diagnosis = data.get("diagnosis") if isinstance(data.get("diagnosis"), dict) else {}
    options = diagnosis.get("options") if isinstance(diagnosis.get("options"), list) else []
    _check_ids(options, ["diagnosis", "options"], add)
    correct = sum(1 for o in _dicts(options) if o.get("correct") is True)
    if options and correct != 1:
        add(["diagnosis", "options"], f"needs exactly one correct option, not {correct}")

    plans = data.get("plans") if isinstance(data.get("plans"), dict) else {}
    options = plans.get("options") if isinstance(plans.get("options"), list) else []
    _check_ids(options, ["plans", "options"], add)
    for i, raw in enumerate(options):
        specs = raw.get("plan") if isinstance(raw, dict) else None
        for k, spec in enumerate(specs if isinstance(specs, list) else []):
            if not isinstance(spec, str):
                continue
            try:
                parse_treatment(spec)
            except (UnknownTreatmentError, ValueError) as exc:
                add(["plans", "options", i, "plan", k], str(exc))
    if options and not any(o.get("verdict") == "best" for o in _dicts(options)):
        add(["plans", "options"], "needs at least one option with verdict best")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_ids(items: list, where: list, add) -> list[str]:
    seen: list[str] = []
    for i, raw in enumerate(items):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            continue
        if raw["id"] in seen:
            add(where + [i, "id"], f"duplicate id {raw['id']!r}")
        else:
            seen.append(raw["id"])
    return seen


def _text(value) -> str:
    return " ".join(str(value).split()) if "\n\n" not in str(value) else str(value).strip()


def _build(data: dict, shown: str) -> Workup:
    def decision(raw, plan: bool) -> Decision:
        return Decision(
            prompt=_text(raw["prompt"]),
            explanation=_text(raw["explanation"]),
            citations=tuple(raw["citations"]),
            options=tuple(
                Choice(id=o["id"], label=_text(o["label"]), feedback=_text(o["feedback"]),
                       citations=tuple(o["citations"]), correct=bool(o.get("correct", False)),
                       verdict=o.get("verdict", ""), plan=tuple(o.get("plan") or ()) if plan else ())
                for o in raw["options"]
            ),
        )

    tests = tuple(
        WorkupTest(id=t["id"], label=_text(t["label"]), verdict=t["verdict"], debrief=_text(t["debrief"]),
                   citations=tuple(t["citations"]), labs=tuple(t.get("labs") or ()),
                   finding=_text(t.get("finding", "")), requires=t.get("requires"),
                   finding_without=_text(t.get("finding_without", "")))
        for t in data["tests"]
    )
    scoring = data["scoring"]
    return Workup(
        id=data["id"], title=_text(data["title"]), case=data["case"], day=float(data["day"]),
        course_days=float(data["course_days"]), presentation=str(data["presentation"]).strip(),
        budget=int(data["budget"]),
        test_points={k: float(v) for k, v in scoring["tests"].items()},
        plan_credit={k: float(v) for k, v in scoring["plans"].items()},
        weights={k: float(v) for k, v in scoring["weights"].items()},
        tests=tests, diagnosis=decision(data["diagnosis"], False), plans=decision(data["plans"], True),
        path=shown,
    )


# --------------------------------------------------------------------------- the session


@dataclass(frozen=True)
class WorkupResult:
    """What one ordered test shows: the model's ``panel`` (lab tests) and/or a written ``finding``."""

    test: WorkupTest
    panel: Any  # a kms_teach.labs.LabPanel, or None for a test without labs
    finding: str

    @property
    def text(self) -> str:
        """The result as plain text: the lab table, then the finding."""
        parts = [str(self.panel)] if self.panel is not None else []
        if self.finding:
            parts.append(self.finding)
        return "\n".join(parts)


@dataclass(frozen=True)
class Feedback:
    """Feedback on a diagnosis or a plan."""

    choice: Choice
    correct: bool
    verdict: str
    text: str
    citations: tuple[str, ...]


@dataclass(frozen=True)
class Course:
    """The course after the chosen plan, beside no treatment (both :class:`~kms_teach.model.Result`)."""

    choice: Choice
    plan: tuple[str, ...]
    result: Any
    untreated: Any
    start_day: float
    end_day: float
    summary: str
    feedback: Feedback


@dataclass(frozen=True)
class DebriefEntry:
    """One decision, judged: ``step`` is tests, diagnosis or plan."""

    step: str
    id: str
    label: str
    verdict: str
    reason: str
    citations: tuple[str, ...]
    points: float

    def line(self) -> str:
        """The entry as one line of text."""
        cites = f" ({'; '.join(self.citations)})" if self.citations else ""
        return f"{_STEP_LABELS[self.step]}: {self.label} - {self.verdict}. {self.reason}{cites}"


@dataclass(frozen=True)
class Debrief:
    """Every decision judged, and the scores.

    ``sections`` maps tests, diagnosis and plan to (points, best possible);
    ``score`` (0-1) is the weighted mean of the sections' fractions.
    """

    entries: tuple[DebriefEntry, ...]
    sections: Mapping[str, tuple[float, float]]
    score: float

    @property
    def missed(self) -> tuple[DebriefEntry, ...]:
        """Essential tests that were not ordered."""
        return tuple(e for e in self.entries if e.verdict == "missed")

    @property
    def score_text(self) -> str:
        parts = ", ".join(f"{name} {got:g}/{best:g}" for name, (got, best) in self.sections.items())
        return f"Overall score: {self.score:.0%} ({parts})."

    def text(self) -> str:
        """The whole debrief as plain text, one line per decision, then the score."""
        return "\n".join([e.line() for e in self.entries] + [self.score_text])


@functools.lru_cache(maxsize=64)
def _simulate(case: str, plan: tuple[str, ...], days: float):
    from .model import simulate

    return simulate(case, plan, days=days, every_hours=6)


class WorkupSession:
    """One learner's path through a work-up.

    Steps run in order, each once: :meth:`order_tests`, :meth:`choose_diagnosis`,
    :meth:`choose_plan`, then :meth:`debrief` (which may be read again).
    :meth:`reset` starts again. A step out of order or an unknown id raises a
    ValueError that says what to do or lists the valid ids.

    Parameters
    ----------
    workup : Workup or str
        A loaded work-up, or a built-in name / path for :func:`load_workup`.
    """

    def __init__(self, workup: Workup | str = "khe-workup"):
        self.workup = workup if isinstance(workup, Workup) else load_workup(workup)
        self.reset()

    def reset(self) -> None:
        """Forget every choice and return to the first step."""
        self.step = STEPS[0]
        self.ordered: tuple[str, ...] = ()
        self.results: tuple[WorkupResult, ...] = ()
        self.diagnosis: Choice | None = None
        self.plan: Choice | None = None
        self.course: Course | None = None

    # -- helpers
    def _expect(self, step: str) -> None:
        if self.step == step:
            return
        done = "done" if self.step == "done" else None
        if done or STEPS.index(self.step) > STEPS.index(step):
            raise ValueError(f"the {step} step is already done; call reset() to start again")
        raise ValueError(f"cannot do the {step} step yet: the next step is {self.step} "
                         f"({_STEP_HINTS[self.step]})")

    @property
    def end_day(self) -> float:
        return self.workup.day + self.workup.course_days

    @property
    def untreated(self):
        """The case's course without treatment, from day 0 to the end of the course."""
        return _simulate(self.workup.case, (), self.end_day)

    def _result_for(self, test: WorkupTest, ordered: set[str]) -> WorkupResult:
        from .labs import LabPanel

        panel = None
        if test.labs:
            full = self.untreated.lab_panel(self.workup.day)
            panel = LabPanel([full[lab] for lab in test.labs if lab in full], full.units, full.age_days)
        finding = test.finding
        if test.requires is not None and test.requires not in ordered:
            finding = test.finding_without
        return WorkupResult(test=test, panel=panel, finding=finding)

    # -- steps
    def order_tests(self, ids: Iterable[str]) -> list[WorkupResult]:
        """Step 1: order tests by id (at most the budget); returns their results in file order."""
        self._expect("tests")
        if isinstance(ids, str):
            ids = [ids]
        wanted = list(dict.fromkeys(ids))
        valid = self.workup.test_ids
        unknown = [i for i in wanted if i not in valid]
        if unknown:
            raise ValueError(f"unknown test id {unknown[0]!r}; valid test ids: {', '.join(valid)}")
        if len(wanted) > self.workup.budget:
            raise ValueError(f"{len(wanted)} tests ordered, but the budget is {self.workup.budget}; "
                             "choose fewer")
        chosen = set(wanted)
        self.ordered = tuple(t for t in valid if t in chosen)
        self.results = tuple(self._result_for(self.workup.test(t), chosen) for t in self.ordered)
        self.step = "diagnosis"
        return list(self.results)

    def choose_diagnosis(self, option_id: str) -> Feedback:
        """Step 2: commit to a diagnosis; returns its feedback."""
        self._expect("diagnosis")
        choice = self._option(self.workup.diagnosis, option_id, "diagnosis")
        self.diagnosis = choice
        self.step = "plan"
        return Feedback(choice, choice.correct, "correct" if choice.correct else "incorrect",
                        choice.feedback, choice.citations)

    def choose_plan(self, option_id: str) -> Course:
        """Step 3: start a plan; returns the simulated course beside no treatment, with a summary."""
        self._expect("plan")
        choice = self._option(self.workup.plans, option_id, "plan")
        start, end = self.workup.day, self.end_day
        plan = shift_plan(choice.plan, start)
        result = _simulate(self.workup.case, plan, end)
        untreated = self.untreated
        feedback = Feedback(choice, choice.verdict == "best", choice.verdict, choice.feedback, choice.citations)
        self.plan = choice
        self.course = Course(choice=choice, plan=choice.plan, result=result, untreated=untreated,
                             start_day=start, end_day=end,
                             summary=_course_summary(choice, result, untreated, start, end), feedback=feedback)
        self.step = "debrief"
        return self.course

    def debrief(self) -> Debrief:
        """Step 4: every decision judged, with reasons, citations and the score."""
        if self.step != "done":
            self._expect("debrief")
        w = self.workup
        entries: list[DebriefEntry] = []
        got = 0.0
        for test in w.tests:
            if test.id in self.ordered:
                points = w.test_points[test.verdict]
                got += points
                entries.append(DebriefEntry("tests", test.id, test.label, test.verdict, test.debrief,
                                            test.citations, points))
        for test in w.tests:
            if test.essential and test.id not in self.ordered:
                entries.append(DebriefEntry("tests", test.id, test.label, "missed",
                                            "Not ordered, but essential. " + test.debrief, test.citations, 0.0))
        best_tests = w.max_test_points
        test_points = min(max(got, 0.0), best_tests)

        right = w.correct_diagnosis
        chosen = self.diagnosis
        reason = chosen.feedback
        if not chosen.correct:
            reason += f" The best answer: {right.label}."
        reason += " " + w.diagnosis.explanation
        entries.append(DebriefEntry("diagnosis", chosen.id, chosen.label,
                                    "correct" if chosen.correct else "incorrect", reason,
                                    tuple(dict.fromkeys(chosen.citations + w.diagnosis.citations)),
                                    1.0 if chosen.correct else 0.0))

        plan = self.plan
        credit = w.plan_credit[plan.verdict]
        reason = plan.feedback
        if plan.verdict != "best":
            reason += " Best plan here: " + " or ".join(o.label for o in w.best_plans) + "."
        entries.append(DebriefEntry("plan", plan.id, plan.label, plan.verdict, reason, plan.citations, credit))

        sections = {"tests": (test_points, best_tests), "diagnosis": (entries[-2].points, 1.0),
                    "plan": (credit, 1.0)}
        weights = {"tests": w.weights["tests"], "diagnosis": w.weights["diagnosis"], "plan": w.weights["plan"]}
        total = sum(weights.values())
        score = (sum(weights[k] * (g / b if b else 1.0) for k, (g, b) in sections.items()) / total
                 if total else 0.0)
        self.step = "done"
        return Debrief(entries=tuple(entries), sections=sections, score=score)

    @staticmethod
    def _option(decision: Decision, option_id, what: str) -> Choice:
        if not isinstance(option_id, str) or option_id not in decision.ids:
            raise ValueError(f"unknown {what} id {option_id!r}; valid {what} ids: {', '.join(decision.ids)}")
        return decision.option(option_id)


_STEP_HINTS = {
    "tests": "call order_tests(ids) first",
    "diagnosis": "call choose_diagnosis(id) first",
    "plan": "call choose_plan(id) first",
    "debrief": "call debrief()",
}


def _course_summary(choice: Choice, result, untreated, start: float, end: float) -> str:
    """Plain-language summary of the chosen course beside no treatment (also the figure's alt text)."""
    from .describe import describe_course, format_value

    before = untreated.labs_at(start)
    after = untreated.labs_at(end)
    parts = [
        f"Plan: {choice.label} ({', '.join(choice.plan)}), shown from day {start:g} to day {end:g} "
        "beside no treatment.",
        f"Before treatment: platelets {format_value('platelets', before['platelets'])}, "
        f"fibrinogen {format_value('fibrinogen', before['fibrinogen'])}.",
        "With the plan: " + describe_course(result, "platelets", start, end),
        describe_course(result, "fibrinogen", start, end),
        f"Without treatment on day {end:g}: platelets {format_value('platelets', after['platelets'])}, "
        f"fibrinogen {format_value('fibrinogen', after['fibrinogen'])}.",
    ]
    return " ".join(parts)

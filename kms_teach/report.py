"""The class results report: what a class got right and wrong, from the learners' answers files.

Read many answers files (:mod:`kms_teach.progress`), keep each learner's
**first attempt** at every item, and compute the statistics Moodle's quiz
report uses, so that an educator can compare with the LMS they know:

- **facility index**: the mean first-attempt score on an item, in % of its
  maximum (high = easy);
- **standard deviation** of the item's scores, in % of its maximum;
- **discrimination index**: the correlation between the item's score and the
  rest of the learner's score (their other items), x 100. Negative means the
  learners who did well elsewhere did worse here: check the key;
- **discriminative efficiency**: the discrimination index as a share of the
  largest one this item's and the rest's score distributions allow
  (Moodle: the covariance over the covariance with both sorted), in %;
- **Cronbach's alpha** for the quiz (Moodle's coefficient of internal
  consistency), on the items every counted learner answered;
- the share of learners choosing each option.

Learners who saw different items (random draws) are compared on what they
share: a rest score is the mean over the learner's other answered items, and
alpha is computed on the largest block of items that most learners answered
in full (the report says which). Items are also summarised per lesson
objective and per misconception, the learners' scores as a histogram, and,
for quizzes given before and after a lesson (ids ``X-pre`` and ``X`` or
``X-post``), the same learners' change; branching cases show each step's
decisions on the learners' first run.

Learner ids are hashed (``learner-`` and 10 hex digits) unless the educator
asks for them (``reveal_ids=True``, ``--show-learner-ids``): grades uploaded
to an LMS need the real ids, a report shown to a class does not. Corrupt or
foreign files are listed and skipped, never fatal.

Entry points: :func:`build_report` (paths or uploaded bytes -> :class:`ClassReport`),
:meth:`ClassReport.to_html`, :meth:`ClassReport.grades_csv`,
:meth:`ClassReport.items_csv`, and :func:`report_panel` (the widget for the
instructor notebook). ``kms-teach report`` is the command line.
"""

from __future__ import annotations

import base64
import csv
import glob
import hashlib
import html
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .progress import Answers, AnswersError, load_answers, parse_answers

__all__ = [
    "ClassReport",
    "ItemStatistics",
    "Learner",
    "MASTERY_THRESHOLD",
    "build_report",
    "collect_answer_files",
    "cronbach_alpha",
    "item_statistics",
    "report_panel",
]

#: A learner has mastered an objective when their mean score on its items reaches this.
MASTERY_THRESHOLD = 0.8
#: Files found in one folder at most (a guard against pointing the report at a home folder tree).
MAX_FILES = 20000
#: Moodle's reading of a discrimination index (lower bounds, index x 100).
DISCRIMINATION_BANDS = ((50, "very good"), (30, "adequate"), (20, "weak"), (0, "very weak"),
                        (-math.inf, "negative: check the key"))


# ----------------------------------------------------------------------------- reading the class


@dataclass
class Attempt:
    """One learner's first attempt at one item."""

    quiz_id: str
    response: Any
    score: float
    correct: bool
    time: str


@dataclass
class Learner:
    """One learner: their files merged, first attempts per item and per quiz, first case runs.

    Attributes
    ----------
    shown_id : str
        The id shown in the report: hashed unless ids were asked for.
    items : dict
        Item id -> the first :class:`Attempt` at it over the quizzes read (earliest time).
    quizzes : dict
        Quiz id -> item id -> first :class:`Attempt` in that quiz (for pre/post).
    cases : dict
        Case id -> list of runs (oldest first), as in the answers file.
    """

    shown_id: str
    sources: list[str]
    items: dict[str, Attempt] = field(default_factory=dict)
    quizzes: dict[str, dict[str, Attempt]] = field(default_factory=dict)
    cases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def score(self, item_ids: Iterable[str] | None = None) -> float | None:
        """Mean first-attempt score (0-1) over the given items it answered (default: all); None if none."""
        scores = [a.score for i, a in self.items.items() if item_ids is None or i in item_ids]
        return sum(scores) / len(scores) if scores else None


def hashed_id(learner_id: str) -> str:
    """A stable pseudonym for a learner id: ``learner-`` and 10 hex digits of its SHA-256."""
    return "learner-" + hashlib.sha256(("kms-teach learner:" + learner_id).encode("utf-8")).hexdigest()[:10]


def collect_answer_files(arguments: Sequence[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand paths, folders (every ``*.json`` below, sorted) and glob patterns.

    Returns
    -------
    files : list of Path
        Each file once, in the order given.
    missing : list of (str, str)
        Arguments that named nothing, with the reason (listed in the report as skipped).
    """
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(path: Path) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not found:
                missing.append((argument, "a folder with no .json files"))
            for p in found[:MAX_FILES]:
                add(p)
        elif path.is_file():
            add(path)
        elif path.exists():  # a pipe or a device would block or never end
            missing.append((argument, "not a regular file"))
        elif any(ch in argument for ch in "*?["):
            matches = sorted(glob.glob(argument, recursive=True))
            if not matches:
                missing.append((argument, "no file matches this pattern"))
            for match in matches[:MAX_FILES]:
                if Path(match).is_file():
                    add(Path(match))
        else:
            missing.append((argument, "no such file or folder"))
    return files, missing


def _read_sources(sources: Iterable[tuple[str, Any]]) -> tuple[list[tuple[str, Answers]], list[tuple[str, str]]]:
    """Load each (name, Path or bytes) source; corrupt and foreign ones go to the skipped list."""
    loaded, skipped = [], []
    for name, source in sources:
        try:
            answers = load_answers(source) if isinstance(source, (str, Path)) else parse_answers(source, name)
        except AnswersError as exc:
            reason = str(exc)
            prefix = f"{name}: "
            skipped.append((name, reason[len(prefix):] if reason.startswith(prefix) else reason))
            continue
        loaded.append((name, answers))
    return loaded, skipped


def _learners(loaded: list[tuple[str, Answers]], reveal_ids: bool, quizzes: set[str] | None,
              skipped: list[tuple[str, str]]) -> list[Learner]:
    """Merge the files of each named learner; a file without a learner id is a learner of its own."""
    by_id: dict[str, tuple[Answers, list[str]]] = {}
    anonymous: list[tuple[Answers, list[str]]] = []
    for name, answers in loaded:
        if answers.learner_id:
            if answers.learner_id in by_id:
                merged, names = by_id[answers.learner_id]
                try:
                    merged.merge(answers)
                except AnswersError as exc:  # cannot happen for equal ids; kept for safety
                    skipped.append((name, str(exc)))
                    continue
                names.append(name)
            else:
                by_id[answers.learner_id] = (Answers(answers.data), [name])
        else:
            anonymous.append((answers, [name]))
    learners = []
    for learner_id, (answers, names) in by_id.items():
        learners.append(_learner(learner_id if reveal_ids else hashed_id(learner_id), names, answers, quizzes))
    for answers, names in anonymous:
        shown = f"file {Path(names[0]).name}" if reveal_ids else "anonymous-" + hashlib.sha256(
            names[0].encode("utf-8", "surrogateescape")).hexdigest()[:10]
        learners.append(_learner(shown, names, answers, quizzes))
    return learners


def _learner(shown: str, names: list[str], answers: Answers, quizzes: set[str] | None) -> Learner:
    learner = Learner(shown_id=shown, sources=names)
    for quiz_id, quiz in answers.quizzes.items():
        if quizzes is not None and quiz_id not in quizzes:
            continue
        for item_id, entry in quiz.get("items", {}).items():
            first = entry["first_attempt"]
            attempt = Attempt(quiz_id, first["response"], float(first["score"]), bool(first["correct"]),
                              first["time"])
            learner.quizzes.setdefault(quiz_id, {})[item_id] = attempt
            held = learner.items.get(item_id)
            if held is None or attempt.time < held.time:
                learner.items[item_id] = attempt
    for case_id, case in answers.cases.items():
        if case.get("runs"):
            learner.cases[case_id] = list(case["runs"])
    return learner


# ----------------------------------------------------------------------------- statistics


@dataclass
class ItemStatistics:
    """Moodle's per-item statistics on first attempts (all in %; None when not computable)."""

    item_id: str
    attempts: int
    facility: float
    standard_deviation: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    option_shares: list[tuple[str, bool, float]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def discrimination_reading(self) -> str:
        """Moodle's words for the discrimination index (very good, adequate, weak, ...)."""
        if self.discrimination_index is None:
            return "not computable"
        return next(words for low, words in DISCRIMINATION_BANDS if self.discrimination_index >= low)


def score_matrix(learners: Sequence[Learner], item_ids: Sequence[str]) -> np.ndarray:
    """Learners x items matrix of first-attempt scores (0-1), NaN where an item was not answered."""
    matrix = np.full((len(learners), len(item_ids)), np.nan)
    column = {item_id: j for j, item_id in enumerate(item_ids)}
    for i, learner in enumerate(learners):
        for item_id, attempt in learner.items.items():
            j = column.get(item_id)
            if j is not None:
                matrix[i, j] = attempt.score
    return matrix


def _correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 3:
        return None
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return None
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def item_statistics(matrix: np.ndarray, item_ids: Sequence[str]) -> list[ItemStatistics]:
    """Facility, SD, discrimination index and discriminative efficiency of every column.

    The rest score of a learner is the mean of their *other* answered items,
    so learners who saw different items are compared on what they answered;
    a learner with no other item is left out of that item's discrimination.
    """
    answered = ~np.isnan(matrix)
    totals = np.where(answered, matrix, 0.0).sum(axis=1)
    counts = answered.sum(axis=1)
    result = []
    for j, item_id in enumerate(item_ids):
        rows = answered[:, j]
        x_all = matrix[rows, j]
        n = int(rows.sum())
        if n == 0:
            continue
        facility = 100.0 * float(x_all.mean())
        sd = 100.0 * float(x_all.std(ddof=1)) if n > 1 else None
        keep = rows & (counts > 1)
        x = matrix[keep, j]
        rest = (totals[keep] - x) / (counts[keep] - 1)
        r = _correlation(x, rest)
        efficiency = None
        if r is not None:
            covariance = float(((x - x.mean()) * (rest - rest.mean())).mean())
            best = float(((np.sort(x) - x.mean()) * (np.sort(rest) - rest.mean())).mean())
            efficiency = 100.0 * covariance / best if best > 0 else None
        stats = ItemStatistics(item_id, n, facility, sd, None if r is None else 100.0 * r, efficiency)
        if stats.discrimination_index is not None and stats.discrimination_index < 0 and n >= 5:
            stats.flags.append("negative discrimination: learners who did well elsewhere did worse here; "
                               "check the key and the wording")
        if n >= 5 and facility < 10:
            stats.flags.append("very hard (facility under 10%)")
        if n >= 5 and facility > 95:
            stats.flags.append("very easy (facility over 95%)")
        result.append(stats)
    return result


def cronbach_alpha(matrix: np.ndarray) -> float | None:
    """Cronbach's alpha of a complete learners x items matrix (Moodle's coefficient of internal consistency / 100).

    ``alpha = k/(k-1) * (1 - sum of item variances / variance of the totals)``;
    None with fewer than 2 items or 2 learners, or when the totals do not vary.
    """
    learners, items = matrix.shape
    if items < 2 or learners < 2:
        return None
    total_variance = float(matrix.sum(axis=1).var(ddof=1))
    if total_variance == 0:
        return None
    return items / (items - 1) * (1.0 - float(matrix.var(axis=0, ddof=1).sum()) / total_variance)


def complete_block(matrix: np.ndarray) -> tuple[list[int], list[int]]:
    """The largest block of items that at least half the learners answered in full (for alpha).

    Starts from every item and drops the least answered one until at least half
    the learners (and at least 2) answered every remaining item.

    Returns
    -------
    rows, columns : list of int
    """
    answered = ~np.isnan(matrix)
    columns = [j for j in range(matrix.shape[1]) if answered[:, j].any()]
    needed = max(2, math.ceil(matrix.shape[0] / 2))
    while len(columns) >= 2:
        rows = np.flatnonzero(answered[:, columns].all(axis=1))
        if len(rows) >= needed:
            return rows.tolist(), columns
        counts = answered[:, columns].sum(axis=0)
        columns.pop(int(np.argmin(counts)))
    return [], []


def _option_shares(question, attempts: list[Attempt]) -> list[tuple[str, bool, float]]:
    """(option text, is a key, share of learners choosing it) for choice items; [] otherwise."""
    if question is None or question.type not in ("multiple_choice", "many_choice") or not attempts:
        return []
    picked = [0] * len(question.options)
    for attempt in attempts:
        response = attempt.response
        chosen = response if isinstance(response, list) else [response]
        for index in chosen:
            if isinstance(index, int) and 0 <= index < len(picked):
                picked[index] += 1
    return [(option.text, option.correct, picked[k] / len(attempts)) for k, option in enumerate(question.options)]


def _tags(question, plural: str, singular: str) -> list[str]:
    """An item's objective or misconception ids; the 0.x single field as a fallback, [] if none."""
    if question is None:
        return []
    many = getattr(question, plural, None)
    if many:
        return [str(tag) for tag in many]
    one = getattr(question, singular, None)
    if one in (None, ""):
        return []
    return [f"pack misconception {one}" if singular == "misconception" else str(one)]


# ----------------------------------------------------------------------------- the report


@dataclass
class Mastery:
    """The class's mastery of one objective or misconception."""

    tag: str
    items: list[str]
    learners: int
    mean_score: float
    mastered_share: float


@dataclass
class PrePost:
    """The same learners before (``pre``) and after (``post``) a lesson, on the items they share."""

    pre: str
    post: str
    learners: int
    pre_mean: float
    post_mean: float
    improved_share: float
    normalised_gain: float | None
    items: list[tuple[str, float, float]]


@dataclass
class CaseSummary:
    """Decisions at each step of a branching case, learners' first runs (and their latest, if later)."""

    case_id: str
    learners: int
    steps: list[tuple[str, list[tuple[str, float]], float | None, float | None]]
    first_score: float | None
    latest_score: float | None


@dataclass
class ClassReport:
    """Everything the report shows; render with :meth:`to_html`, :meth:`grades_csv`, :meth:`items_csv`."""

    learners: list[Learner]
    skipped: list[tuple[str, str]]
    item_ids: list[str]
    items: list[ItemStatistics]
    alpha: float | None
    alpha_items: int
    alpha_learners: int
    objectives: list[Mastery]
    misconceptions: list[Mastery]
    pre_post: list[PrePost]
    cases: list[CaseSummary]
    bank_versions: list[str]
    titles: dict[str, str]
    unknown_items: list[str]
    reveal_ids: bool = False

    @property
    def learner_scores(self) -> list[float]:
        """Each learner's mean first-attempt score (0-1) over the items they answered."""
        return [s for s in (learner.score() for learner in self.learners) if s is not None]

    def item(self, item_id: str) -> ItemStatistics:
        """The statistics of one item (KeyError if nobody answered it)."""
        for stats in self.items:
            if stats.item_id == item_id:
                return stats
        raise KeyError(item_id)

    # -- CSV
    def grades_csv(self) -> str:
        """One row per learner: id (hashed unless asked), files, items answered, score %, then each item's score %."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["learner", "files", "items_answered", "score_percent", *self.item_ids])
        for learner in sorted(self.learners, key=lambda le: le.shown_id):
            score = learner.score()
            writer.writerow([learner.shown_id, len(learner.sources), len(learner.items),
                             "" if score is None else f"{100 * score:.1f}",
                             *(f"{100 * learner.items[i].score:.1f}" if i in learner.items else ""
                               for i in self.item_ids)])
        return buffer.getvalue()

    def items_csv(self) -> str:
        """One row per item: Moodle's statistics, objectives, misconceptions, option shares and flags."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["item", "attempts", "facility_index", "standard_deviation", "discrimination_index",
                         "discriminative_efficiency", "option_shares_percent", "flags"])
        for s in self.items:
            writer.writerow([s.item_id, s.attempts, _num(s.facility), _num(s.standard_deviation),
                             _num(s.discrimination_index), _num(s.discriminative_efficiency),
                             " | ".join(f"{chr(65 + k)}{'*' if key else ''} {100 * share:.0f}"
                                        for k, (_text, key, share) in enumerate(s.option_shares)),
                             "; ".join(s.flags)])
        return buffer.getvalue()

    # -- HTML
    def summary_lines(self) -> list[str]:
        """A few lines for a terminal: counts, alpha and flagged items."""
        scores = self.learner_scores
        skipped = len(self.skipped)
        lines = [f"{len(self.learners)} learners, {len(self.items)} items, {skipped} file{'' if skipped == 1 else 's'} "
                 "skipped"]
        if scores:
            lines.append(f"mean score {100 * np.mean(scores):.1f}%, median {100 * np.median(scores):.1f}%")
        if self.alpha is not None:
            lines.append(f"Cronbach's alpha {self.alpha:.2f} ({self.alpha_items} items, {self.alpha_learners} learners)")
        for s in self.items:
            for flag in s.flags:
                lines.append(f"item {s.item_id}: {flag}")
        for name, reason in self.skipped:
            lines.append(f"skipped {name}: {reason}")
        return lines

    def to_html(self) -> str:
        """The report as one self-contained, accessible HTML page (figures are images with alt text)."""
        return _PAGE.format(style=_STYLE, body=self.html_body())

    def html_body(self) -> str:
        """The report's content (no <html>/<head>), for embedding in a widget."""
        esc = html.escape
        scores = self.learner_scores
        parts = ['<main class="kms-report">', "<h1>Class results</h1>"]
        parts.append(f"<p>{len(self.learners)} learners, {len(self.items)} items answered; first attempts only. "
                     f"Learner ids are {'shown as given' if self.reveal_ids else 'hashed'}. "
                     f"Bank version{'s' if len(self.bank_versions) != 1 else ''}: "
                     f"{esc(', '.join(self.bank_versions) or 'none')}.</p>")
        if len(self.bank_versions) > 1:
            parts.append("<p><strong>Note:</strong> the answers come from more than one version of the question "
                         "bank; an item edited between versions may not be comparable.</p>")
        if scores:
            parts.append("<h2>Scores</h2>")
            parts.append(f"<p>Mean {100 * np.mean(scores):.1f}%, median {100 * np.median(scores):.1f}%, "
                         f"standard deviation {100 * np.std(scores, ddof=1) if len(scores) > 1 else 0:.1f}%.")
            if self.alpha is not None:
                sd = float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0
                error = 100 * sd * math.sqrt(max(0.0, 1 - self.alpha))
                parts.append(f" Cronbach's alpha {self.alpha:.2f} on the {self.alpha_items} items that "
                             f"{self.alpha_learners} learners all answered (Moodle shows it x 100 as the "
                             f"coefficient of internal consistency); standard error {error:.1f}%.")
            parts.append("</p>")
            parts.append(_histogram(scores))
        parts.append(self._items_html())
        parts.append(_mastery_html("Lesson objectives", "Objective", self.objectives,
                                   "Items without objective ids are grouped by their objective sentence."))
        parts.append(_mastery_html("Misconceptions", "Misconception", self.misconceptions,
                                   "Mean score on the items probing each misconception: a low score means "
                                   "the misconception is still held."))
        parts.append(self._pre_post_html())
        parts.append(self._cases_html())
        parts.append(self._learners_html())
        if self.unknown_items:
            parts.append(f"<p>Items not in this bank (no options or objectives shown): "
                         f"{esc(', '.join(self.unknown_items))}.</p>")
        parts.append("<h2>Files skipped</h2>")
        if self.skipped:
            parts.append("<ul>" + "".join(f"<li><code>{esc(n)}</code>: {esc(r)}</li>" for n, r in self.skipped)
                         + "</ul>")
        else:
            parts.append("<p>None: every file was read.</p>")
        parts.append(_DEFINITIONS)
        parts.append("</main>")
        return "\n".join(parts)

    def _items_html(self) -> str:
        esc = html.escape
        rows = []
        for s in sorted(self.items, key=lambda s: s.facility):
            shares = "<br>".join(f"{chr(65 + k)}{' (key)' if key else ''}: {100 * share:.0f}% "
                                 f"<span class=\"opt\">{esc(_short(text, 60))}</span>"
                                 for k, (text, key, share) in enumerate(s.option_shares)) or "&ndash;"
            marked = ' class="flag"' if s.flags else ""
            rows.append(f"<tr{marked}><th scope=\"row\"><code>{esc(s.item_id)}</code>"
                        f"</th><td>{s.attempts}</td><td>{_num(s.facility, 0)}</td><td>{_num(s.standard_deviation, 0)}"
                        f"</td><td>{_num(s.discrimination_index, 0)} <small>({esc(s.discrimination_reading)})</small>"
                        f"</td><td>{_num(s.discriminative_efficiency, 0)}</td><td>{shares}</td>"
                        f"<td>{esc('; '.join(s.flags)) or 'none'}</td></tr>")
        return ("<h2>Items</h2><table><caption>Items from hardest to easiest (first attempts; every figure in %)"
                "</caption><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Learners</th>"
                "<th scope=\"col\">Facility index</th><th scope=\"col\">SD</th>"
                "<th scope=\"col\">Discrimination index</th><th scope=\"col\">Discriminative efficiency</th>"
                "<th scope=\"col\">Options chosen</th><th scope=\"col\">Flags</th></tr></thead><tbody>"
                + "".join(rows) + "</tbody></table>")

    def _learners_html(self) -> str:
        esc = html.escape
        rows = "".join(f"<tr><th scope=\"row\">{esc(le.shown_id)}</th><td>{len(le.items)}</td>"
                       f"<td>{_pct(le.score())}</td></tr>"
                       for le in sorted(self.learners, key=lambda le: le.shown_id))
        return ("<details><summary>Learners' scores</summary><table><caption>First-attempt score of each learner"
                "</caption><thead><tr><th scope=\"col\">Learner</th><th scope=\"col\">Items answered</th>"
                f"<th scope=\"col\">Score</th></tr></thead><tbody>{rows}</tbody></table></details>")

    def _pre_post_html(self) -> str:
        if not self.pre_post:
            return ("<h2>Before and after</h2><p>No pre/post pair: give the quiz before a lesson the id "
                    "<code>X-pre</code> and after it <code>X</code> or <code>X-post</code>, or name them with "
                    "<code>--pre</code> and <code>--post</code>.</p>")
        parts = ["<h2>Before and after</h2>"]
        for pair in self.pre_post:
            gain = "" if pair.normalised_gain is None else f", normalised gain {pair.normalised_gain:.2f}"
            parts.append(f"<h3><code>{html.escape(pair.pre)}</code> then <code>{html.escape(pair.post)}</code></h3>"
                         f"<p>{pair.learners} learners took both; on the items each shared: "
                         f"{100 * pair.pre_mean:.0f}% before, {100 * pair.post_mean:.0f}% after{gain}; "
                         f"{100 * pair.improved_share:.0f}% of them improved.</p>")
            parts.append(_pre_post_figure(pair))
        return "\n".join(parts)

    def _cases_html(self) -> str:
        if not self.cases:
            return "<h2>Branching cases</h2><p>No branching case was run.</p>"
        esc = html.escape
        parts = ["<h2>Branching cases</h2>"]
        for case in self.cases:
            first = "" if case.first_score is None else f" Mean debrief score on the first run {100 * case.first_score:.0f}%"
            latest = ("" if case.latest_score is None
                      else f", on the latest run {100 * case.latest_score:.0f}% (learners who ran it again)")
            parts.append(f"<h3><code>{esc(case.case_id)}</code></h3><p>{case.learners} learners.{first}{latest}.</p>")
            rows = []
            for step, choices, right_first, right_latest in case.steps:
                chosen = "<br>".join(f"{esc(choice)}: {100 * share:.0f}%" for choice, share in choices)
                rows.append(f"<tr><th scope=\"row\">{esc(step)}</th><td>{chosen}</td><td>{_pct(right_first)}</td>"
                            f"<td>{_pct(right_latest)}</td></tr>")
            parts.append("<table><caption>Decisions on each learner's first run</caption><thead><tr>"
                         "<th scope=\"col\">Step</th><th scope=\"col\">Chosen (share of learners)</th>"
                         "<th scope=\"col\">Right, first run</th><th scope=\"col\">Right, latest run</th></tr></thead>"
                         "<tbody>" + "".join(rows) + "</tbody></table>")
        return "\n".join(parts)


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "&ndash;" if value is None else f"{100 * value:.0f}%"


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _objective_titles() -> dict[str, str]:
    """Objective id -> its sentence, when this kms-teach knows them (objective ids came with the bank's 0.2 tags)."""
    try:
        from .questions import OBJECTIVES
    except ImportError:
        return {}
    return dict(OBJECTIVES)


def _mastery_html(title: str, label: str, rows: list[Mastery], note: str) -> str:
    esc = html.escape
    if not rows:
        return f"<h2>{title}</h2><p>No answered item names one.</p>"
    titles = _objective_titles()

    def named(tag: str) -> str:
        return f"{tag}: {titles[tag]}" if tag in titles else tag

    body = "".join(f"<tr><th scope=\"row\">{esc(_short(named(m.tag), 120))}</th><td>{len(m.items)}</td><td>{m.learners}</td>"
                   f"<td>{100 * m.mean_score:.0f}%</td><td>{100 * m.mastered_share:.0f}%</td></tr>"
                   for m in sorted(rows, key=lambda m: m.mean_score))
    return (f"<h2>{title}</h2><p>{note} A learner has mastered one when their mean first-attempt score on its "
            f"items is at least {100 * MASTERY_THRESHOLD:.0f}%.</p><table><caption>{title}, weakest first</caption>"
            f"<thead><tr><th scope=\"col\">{label}</th><th scope=\"col\">Items</th><th scope=\"col\">Learners</th>"
            f"<th scope=\"col\">Mean score</th><th scope=\"col\">Mastered by</th></tr></thead><tbody>{body}</tbody></table>")


def _svg_image(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}"></figure>'


def _histogram(scores: Sequence[float]) -> str:
    """A bar chart of learners per 10% score band, with alt text that states the shape."""
    counts = [0] * 10
    for s in scores:
        counts[min(9, int(s * 10 + 1e-9))] += 1
    top = max(counts) or 1
    width, height, left, bottom = 520, 220, 40, 30
    bar = (width - left - 10) / 10
    shapes = []
    for k, c in enumerate(counts):
        h = (height - bottom - 10) * c / top
        x = left + k * bar
        shapes.append(f'<rect x="{x + 2:.1f}" y="{height - bottom - h:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                      f'fill="#2b6cb0"/><text x="{x + bar / 2:.1f}" y="{height - 12}" font-size="10" '
                      f'text-anchor="middle">{10 * k}-{10 * k + 10}</text>'
                      f'<text x="{x + bar / 2:.1f}" y="{height - bottom - h - 3:.1f}" font-size="10" '
                      f'text-anchor="middle">{c}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif"><line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
           f'y2="{height - bottom}" stroke="#333"/>{"".join(shapes)}<text x="4" y="14" font-size="11">'
           f'learners</text><text x="{width - 10}" y="{height - 1}" font-size="10" text-anchor="end">score %</text></svg>')
    mode = max(range(10), key=lambda k: counts[k])
    alt = (f"Histogram of {len(scores)} learners' first-attempt scores in 10% bands: "
           + ", ".join(f"{10 * k}-{10 * k + 10}%: {c}" for k, c in enumerate(counts) if c)
           + f". Most learners scored {10 * mode}-{10 * mode + 10}%; median {100 * float(np.median(scores)):.0f}%.")
    return _svg_image(svg, alt)


def _pre_post_figure(pair: PrePost) -> str:
    """Paired bars per shared item, before and after, with alt text listing them."""
    items = pair.items[:30]
    width, row = 520, 18
    height = 30 + row * len(items)
    shapes = []
    for k, (item_id, before, after) in enumerate(items):
        y = 20 + k * row
        shapes.append(f'<text x="0" y="{y + 11}" font-size="10">{html.escape(_short(item_id, 30))}</text>'
                      f'<rect x="200" y="{y}" width="{300 * before:.1f}" height="7" fill="#a0aec0"/>'
                      f'<rect x="200" y="{y + 7}" width="{300 * after:.1f}" height="7" fill="#2b6cb0"/>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
           f'<text x="200" y="12" font-size="10">grey: before, blue: after (facility, 0-100%)</text>'
           f'{"".join(shapes)}</svg>')
    alt = (f"Facility of each shared item before and after, {pair.learners} learners: "
           + "; ".join(f"{i} {100 * b:.0f}% to {100 * a:.0f}%" for i, b, a in items) + ".")
    return _svg_image(svg, alt)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a202c; max-width: 70rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { border: 1px solid #cbd5e0; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left; }
tr.flag { background: #fff5f5; }
.opt { color: #4a5568; }
figure { margin: 0.5rem 0 1rem; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kms-teach class results</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""

_DEFINITIONS = """<h2>How these figures are computed</h2>
<p>As in Moodle's quiz statistics, on each learner's first attempt at each item.
<strong>Facility index</strong>: mean score in % of the item's maximum (high = easy).
<strong>SD</strong>: standard deviation of the item's scores, in %.
<strong>Discrimination index</strong>: correlation x 100 between the item's score and the rest of the learner's
score (the mean of their other items); Moodle reads 50 and above as very good, 30-50 adequate, 20-29 weak,
0-19 very weak, and a negative index as a sign of a wrong key or a misleading item.
<strong>Discriminative efficiency</strong>: the discrimination as a share of the largest possible for this
item's score distribution. <strong>Cronbach's alpha</strong>: internal consistency of the items a block of
learners all answered. Learners who saw different items are compared on the items they share.</p>"""


def _mastery(learners: Sequence[Learner], groups: Mapping[str, list[str]]) -> list[Mastery]:
    out = []
    for tag, item_ids in groups.items():
        wanted = set(item_ids)
        means = [s for s in (learner.score(wanted) for learner in learners) if s is not None]
        if means:
            out.append(Mastery(tag, sorted(wanted), len(means), float(np.mean(means)),
                               float(np.mean([m >= MASTERY_THRESHOLD - 1e-9 for m in means]))))
    return out


def _pre_post_pairs(quiz_ids: Iterable[str], explicit: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    ids = set(quiz_ids)
    pairs = list(explicit)
    for quiz_id in sorted(ids):
        if quiz_id.endswith("-pre"):
            stem = quiz_id[:-4]
            for post in (stem + "-post", stem):
                if post in ids and (quiz_id, post) not in pairs:
                    pairs.append((quiz_id, post))
                    break
    return pairs


def _pre_post(learners: Sequence[Learner], pre: str, post: str) -> PrePost | None:
    before_means, after_means, improved = [], [], 0
    per_item: dict[str, list[tuple[float, float]]] = {}
    for learner in learners:
        a, b = learner.quizzes.get(pre), learner.quizzes.get(post)
        if not a or not b:
            continue
        shared = sorted(set(a) & set(b))
        if not shared:
            continue
        before = float(np.mean([a[i].score for i in shared]))
        after = float(np.mean([b[i].score for i in shared]))
        before_means.append(before)
        after_means.append(after)
        improved += after > before
        for i in shared:
            per_item.setdefault(i, []).append((a[i].score, b[i].score))
    if not before_means:
        return None
    pre_mean, post_mean = float(np.mean(before_means)), float(np.mean(after_means))
    gain = (post_mean - pre_mean) / (1 - pre_mean) if pre_mean < 1 else None
    items = [(i, float(np.mean([p for p, _ in v])), float(np.mean([q for _, q in v]))) for i, v in sorted(per_item.items())]
    return PrePost(pre, post, len(before_means), pre_mean, post_mean, improved / len(before_means), gain, items)


def _case_summaries(learners: Sequence[Learner]) -> list[CaseSummary]:
    case_ids = sorted({case_id for learner in learners for case_id in learner.cases})
    out = []
    for case_id in case_ids:
        runs = [learner.cases[case_id] for learner in learners if case_id in learner.cases]
        steps = []
        for step in ("tests", "diagnosis", "plan"):
            counts: dict[str, int] = {}
            right_first, right_latest = [], []
            for learner_runs in runs:
                decision = next((d for d in learner_runs[0]["decisions"] if d["step"] == step), None)
                if decision is None:
                    continue
                choices = decision["choice"] if isinstance(decision["choice"], list) else [decision["choice"]]
                for choice in dict.fromkeys(choices):
                    counts[str(choice)] = counts.get(str(choice), 0) + 1
                if "correct" in decision:
                    right_first.append(bool(decision["correct"]))
                if len(learner_runs) > 1:
                    last = next((d for d in learner_runs[-1]["decisions"] if d["step"] == step), None)
                    if last is not None and "correct" in last:
                        right_latest.append(bool(last["correct"]))
            seen = sum(1 for r in runs if any(d["step"] == step for d in r[0]["decisions"]))
            if seen:
                shares = sorted(((c, n / seen) for c, n in counts.items()), key=lambda cs: -cs[1])
                steps.append((step, shares, float(np.mean(right_first)) if right_first else None,
                              float(np.mean(right_latest)) if right_latest else None))
        first = [r[0]["score"] for r in runs if "score" in r[0]]
        latest = [r[-1]["score"] for r in runs if len(r) > 1 and "score" in r[-1]]
        out.append(CaseSummary(case_id, len(runs), steps, float(np.mean(first)) if first else None,
                               float(np.mean(latest)) if latest else None))
    return out


def build_report(sources: Sequence[str | Path | tuple[str, bytes]], *, bank=None, reveal_ids: bool = False,
                 quizzes: Iterable[str] | None = None, pre_post: Sequence[tuple[str, str]] = ()) -> ClassReport:
    """Read answers files and compute the class report.

    Parameters
    ----------
    sources : sequence
        Paths, folders or glob patterns (as on the command line), or
        ``(name, bytes)`` pairs (files uploaded in a browser).
    bank : Bank, optional
        The question bank for option texts, objectives and misconceptions
        (default: :func:`kms_teach.questions.load_bank`). Items not in it are
        still counted, by their scores.
    reveal_ids : bool
        Show learner ids as given (for grades going to an LMS); default hashed.
    quizzes : iterable of str, optional
        Only these quiz ids (default: every quiz in the files).
    pre_post : sequence of (str, str)
        (before, after) quiz-id pairs, besides those found by name (``X-pre`` with ``X-post`` or ``X``).
    """
    if bank is None:
        from .questions import load_bank

        bank = load_bank()
    by_id = {q.id: q for q in bank}
    paths = [s for s in sources if not isinstance(s, tuple)]
    uploads = [s for s in sources if isinstance(s, tuple)]
    files, skipped = collect_answer_files([str(p) for p in paths])
    loaded, unreadable = _read_sources([(str(p), p) for p in files] + list(uploads))
    skipped.extend(unreadable)
    wanted = None if quizzes is None else set(quizzes)
    learners = _learners(loaded, reveal_ids, wanted, skipped)
    learners = [le for le in learners if le.items or le.cases]
    item_ids = sorted({i for learner in learners for i in learner.items})
    matrix = score_matrix(learners, item_ids)
    items = item_statistics(matrix, item_ids)
    for stats in items:
        attempts = [le.items[stats.item_id] for le in learners if stats.item_id in le.items]
        stats.option_shares = _option_shares(by_id.get(stats.item_id), attempts)
        keys = [share for _text, key, share in stats.option_shares if key]
        distractors = [share for _text, key, share in stats.option_shares if not key]
        if stats.attempts >= 5 and keys and distractors and max(distractors) > max(keys):
            stats.flags.append("a wrong option drew more learners than the key")
    rows, columns = complete_block(matrix)
    alpha = cronbach_alpha(matrix[np.ix_(rows, columns)]) if columns else None
    objectives: dict[str, list[str]] = {}
    misconceptions: dict[str, list[str]] = {}
    for item_id in item_ids:
        question = by_id.get(item_id)
        for tag in _tags(question, "objectives", "objective"):
            objectives.setdefault(tag, []).append(item_id)
        for tag in _tags(question, "misconceptions", "misconception"):
            misconceptions.setdefault(tag, []).append(item_id)
    quiz_ids = {q for learner in learners for q in learner.quizzes}
    pairs = [p for p in (_pre_post(learners, a, b) for a, b in _pre_post_pairs(quiz_ids, pre_post)) if p]
    versions = sorted({quiz.get("bank_version", "unknown") for _name, answers in loaded
                       for quiz_id, quiz in answers.quizzes.items() if wanted is None or quiz_id in wanted})
    return ClassReport(
        learners=learners, skipped=skipped, item_ids=item_ids, items=items, alpha=alpha,
        alpha_items=len(columns), alpha_learners=len(rows), objectives=_mastery(learners, objectives),
        misconceptions=_mastery(learners, misconceptions), pre_post=pairs, cases=_case_summaries(learners),
        bank_versions=versions, titles=dict(getattr(bank, "titles", {}) or {}),
        unknown_items=[i for i in item_ids if i not in by_id], reveal_ids=reveal_ids)


# ----------------------------------------------------------------------------- the widget


def report_panel(folder: str | None = None):
    """The class report as a widget for the instructor notebook.

    Two ways in: type files, folders or patterns (on a Hub, an administrator
    can give ``/home/*/answers-*.json``), or upload the files the learners
    handed in through the LMS. *Build report* shows the report below, with
    links to download it as HTML and the grades and item statistics as CSV.

    Parameters
    ----------
    folder : str, optional
        Pre-filled in the path box.
    """
    import ipywidgets as widgets

    paths = widgets.Text(value=folder or "", description="Answer files",
                         placeholder="files, folders or patterns, separated by spaces",
                         layout=widgets.Layout(width="40rem"))
    upload = widgets.FileUpload(accept=".json", multiple=True, description="Upload answers files")
    reveal = widgets.Checkbox(value=False, description="Show learner ids (for grades going to an LMS)",
                              indent=False)
    build = widgets.Button(description="Build report", button_style="primary")
    status = widgets.HTML(value="")
    output = widgets.HTML(value="")

    def _link(text: str, name: str, mime: str, label: str) -> str:
        data = base64.b64encode(text.encode("utf-8")).decode("ascii")
        return f'<a download="{name}" href="data:{mime};base64,{data}">{label}</a>'

    def on_build(_button=None):
        sources: list[Any] = [p for p in paths.value.split() if p]
        for entry in upload.value:
            sources.append((entry["name"], bytes(entry["content"])))
        if not sources:
            status.value = "<p role=\"alert\">Give answer files, folders or patterns, or upload files first.</p>"
            return
        result = build_report(sources, reveal_ids=reveal.value)
        status.value = (f"<p role=\"status\">{html.escape('; '.join(result.summary_lines()[:2]))}. "
                        f"{_link(result.to_html(), 'class-report.html', 'text/html', 'Download the report')} | "
                        f"{_link(result.grades_csv(), 'grades.csv', 'text/csv', 'Grades CSV')} | "
                        f"{_link(result.items_csv(), 'items.csv', 'text/csv', 'Item statistics CSV')}</p>")
        output.value = f"<style>{_STYLE.replace('body', '.kms-report')}</style>" + result.html_body()

    build.on_click(on_build)
    panel = widgets.VBox([paths, upload, reveal, build, status, output])
    panel.build = on_build  # for tests and for a notebook cell that builds straight away
    return panel

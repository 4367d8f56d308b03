"""Validation report: the model against published checkpoints (``assets/validation.yaml``).

Each checkpoint names a scenario (a case and a plan, or a virtual cohort), a
quantity measured on the simulated course, the published value with its
source in ``assets/references.yaml``, the window the model must fall in, and
whether the published value was used to fit a parameter (``fitted``) or is a
prediction the model was not tuned to (``predicted``). The format follows the
validation tables that physiology engines publish: expected value or range,
model value, error, verdict.

``kms-teach validate`` runs them all and writes ``docs/validation.md`` with
one figure per treatment. This module runs simulations; figures are drawn by
:func:`write_report` only.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import labs
from ._assets import AssetError, assets_dir, read_json, read_text, read_yaml, require
from .model import _return_freed_memory, simulate, simulate_cohort
from .treatments import NAMED_PLANS

__all__ = ["Checkpoint", "Outcome", "load_checkpoints", "run_checkpoints", "write_report", "PLANS"]

USES = ("fitted", "predicted")
KINDS = ("value", "rise", "first_day", "day_difference", "cohort_rate", "cohort_rate_difference", "rebound")
_COHORT_KINDS = ("cohort_rate", "cohort_rate_difference", "rebound")
#: Named plans a scenario may use by name (see treatments.NAMED_PLANS).
PLANS = NAMED_PLANS


@dataclass(frozen=True)
class Checkpoint:
    """One literature checkpoint (see ``assets/validation.yaml``)."""

    id: str
    title: str
    treatment: str
    measure: dict
    scenario: dict
    published: str
    sources: tuple
    window: tuple
    use: str
    unit: str
    expected: float | None = None


@dataclass(frozen=True)
class Outcome:
    """A checkpoint's model value and verdict."""

    checkpoint: Checkpoint
    value: float | None

    @property
    def inside(self) -> bool:
        lo, hi = self.checkpoint.window
        return self.value is not None and math.isfinite(self.value) and lo <= self.value <= hi

    @property
    def error_percent(self) -> float | None:
        """Model value against the published point value, in percent (None without one)."""
        e = self.checkpoint.expected
        if e is None or self.value is None or e == 0:
            return None
        return 100.0 * (self.value - e) / abs(e)


def _plan(spec) -> list[str]:
    if isinstance(spec, str):
        return list(PLANS[spec])
    plan = []
    for item in spec:
        plan.extend(PLANS[item] if item in PLANS else [item])
    return plan


def load_checkpoints(path: str | Path | None = None) -> list[Checkpoint]:
    """Read and check ``assets/validation.yaml`` (or another file)."""
    path = Path(path) if path is not None else assets_dir() / "validation.yaml"
    data = read_yaml(path)
    if not isinstance(data, list) or not data:
        raise AssetError(path, "must be a list of checkpoints")
    keys = _references()
    seen = set()
    points = []
    for entry in data:
        if not isinstance(entry, dict):
            raise AssetError(path, "each checkpoint must be a mapping")
        cid = str(require(entry, "id", str, path=path, item=None))
        if cid in seen:
            raise AssetError(path, "duplicate checkpoint id", item=cid, field="id")
        seen.add(cid)
        measure = require(entry, "measure", dict, path=path, item=cid)
        if measure.get("kind") not in KINDS:
            raise AssetError(path, f"must be one of {', '.join(KINDS)}", item=cid, field="measure.kind")
        window = require(entry, "window", list, path=path, item=cid)
        if len(window) != 2 or not all(isinstance(v, (int, float)) for v in window) or window[0] > window[1]:
            raise AssetError(path, "must be [low, high]", item=cid, field="window")
        use = require(entry, "use", str, path=path, item=cid)
        if use not in USES:
            raise AssetError(path, f"must be one of {', '.join(USES)}", item=cid, field="use")
        sources = require(entry, "sources", list, path=path, item=cid)
        unknown = [s for s in sources if s not in keys]
        if not sources or unknown:
            raise AssetError(path, f"unknown source keys {unknown} (see references.yaml)", item=cid, field="sources")
        expected = entry.get("expected")
        points.append(Checkpoint(
            id=cid, title=require(entry, "title", str, path=path, item=cid),
            treatment=require(entry, "treatment", str, path=path, item=cid),
            measure=measure, scenario=require(entry, "scenario", dict, path=path, item=cid),
            published=require(entry, "published", str, path=path, item=cid), sources=tuple(sources),
            window=(float(window[0]), float(window[1])), use=use,
            unit=require(entry, "unit", str, path=path, item=cid),
            expected=None if expected is None else float(expected),
        ))
    return points


def _references() -> dict[str, str]:
    """``{key: full reference}`` from ``assets/references.yaml`` (the one bibliography)."""
    path = assets_dir() / "references.yaml"
    entries = read_yaml(path)
    return {str(e["key"]): str(e["reference"]) for e in entries if isinstance(e, dict) and "key" in e}


def _threshold(result, lab, threshold):
    if threshold == "lower_limit":
        return labs.reference_limits(lab, result.age_days)[0]
    if threshold == "upper_limit":
        return labs.reference_limits(lab, result.age_days)[1]
    if isinstance(threshold, str) and threshold.startswith("x"):  # a multiple of day 0's value
        return float(threshold[1:]) * getattr(result, lab)[0]
    return float(threshold)


_OPS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}


def _first_day(result, m) -> float | None:
    values = getattr(result, m["lab"])
    hits = np.nonzero(_OPS[m["op"]](values, _threshold(result, m["lab"], m["threshold"])))[0]
    after = [i for i in hits if result.day[i] >= m.get("after", 0)]
    return float(result.day[after[0]]) if after else None


def _single(scenario, plan_key="plan"):
    return simulate(scenario.get("case", "khe-kms"), _plan(scenario.get(plan_key, [])),
                    days=scenario.get("days", 120), every_hours=scenario.get("every_hours", 6))


def _cohort(scenario, plan_key="plan"):
    return simulate_cohort(scenario.get("case", "khe-kms"), n=scenario.get("n", 3000), seed=scenario.get("seed", 0),
                           treatments=_plan(scenario.get(plan_key, [])), days=scenario["days"], every_hours=24)


def _rate(cohort, m) -> float:
    values = cohort.series[m["lab"]][:, int(m["day"])]
    return float(np.mean(_OPS[m["op"]](values, float(m["threshold"]))))


def measure(point: Checkpoint) -> float | None:
    """Run a checkpoint's scenario and return the model's value."""
    value = _measure(point)
    if point.measure["kind"] in _COHORT_KINDS:  # the cohort is freed now: give its heap back
        _return_freed_memory()
    return value


def _measure(point: Checkpoint) -> float | None:
    m, s = point.measure, point.scenario
    kind = m["kind"]
    if kind == "value":
        return _single(s).labs_at(m["day"])[m["lab"]] if m["lab"] in labs_names() else \
            float(getattr(_single(s), m["lab"])[_single(s).index(m["day"])])
    if kind == "rise":
        treated, base = _single(s), _single(s, "baseline")
        return treated.labs_at(m["day"])[m["lab"]] - base.labs_at(m["day"])[m["lab"]] if m["lab"] in labs_names() \
            else float(getattr(treated, m["lab"])[treated.index(m["day"])] - getattr(base, m["lab"])[base.index(m["day"])])
    if kind == "first_day":
        return _first_day(_single(s), m)
    if kind == "day_difference":
        later = _first_day(_single(s, m.get("later_plan", "plan")), m["later"])
        earlier = _first_day(_single(s, m.get("earlier_plan", "plan")), m["earlier"])
        return None if later is None or earlier is None else later - earlier
    if kind == "cohort_rate":
        return _rate(_cohort(s), m)
    if kind == "cohort_rate_difference":
        return _rate(_cohort(s), m) - _rate(_cohort(s, "comparison"), m)
    if kind == "rebound":
        cohort = _cohort(s)
        stop = int(m["stop_day"])
        p = cohort.series["platelets"]
        normal = p[:, stop] >= labs.reference_limits("platelets", np.array([cohort_age(s, stop)]))[0][0]
        fell = p[:, stop:stop + int(m.get("within_days", 182)) + 1].min(axis=1) < float(m.get("below", 100))
        return float((normal & fell).sum() / max(int(normal.sum()), 1))
    raise ValueError(kind)


def labs_names():
    from .model import LABS
    return LABS


def cohort_age(scenario, day) -> float:
    from .cases import load_case
    return load_case(scenario.get("case", "khe-kms")).age_days + day


#: The model's value at every checkpoint, as the committed report gives it (written by ``kms-teach validate``).
RESULTS_FILE = "validation_results.json"


#: The content the model's values depend on; the results file is used only while these are unchanged.
_MODEL_INPUTS = ("parameters.yaml", "treatments.yaml", "reference_ranges.yaml", "validation.yaml")


def inputs_fingerprint() -> str:
    """sha256 of the model's content files in the assets folder in use (parameters, treatments,
    reference ranges, checkpoints and every case)."""
    folder = assets_dir()
    digest = hashlib.sha256()
    for path in [folder / name for name in _MODEL_INPUTS] + sorted((folder / "cases").glob("*.yaml")):
        body = read_text(path).encode("utf-8")
        digest.update(b"%s %d:" % (path.name.encode("utf-8"), len(body)) + body)
    return digest.hexdigest()


def write_results(outcomes: list[Outcome], path: str | Path | None = None) -> Path:
    """Write each checkpoint's model value to ``assets/validation_results.json`` (or ``path``),
    with the fingerprint of the content that produced them; the file is replaced atomically."""
    path = Path(path) if path is not None else assets_dir() / RESULTS_FILE
    values = {o.checkpoint.id: o.value for o in outcomes}
    text = json.dumps({"written_by": "kms-teach validate", "inputs": inputs_fingerprint(), "values": values},
                      indent=1) + "\n"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)  # a lesson kernel reading it never sees half a file
    return path


def reported_value(checkpoint_id: str) -> float | None:
    """A checkpoint's model value as the validation report gives it.

    Lessons quote the slow cohort checkpoints this way (3,000 infants over two years take
    seconds). The value comes from ``assets/validation_results.json`` while the model's content
    files are those that produced it; otherwise (an educator's own parameters or cases, a
    missing or damaged file) the checkpoint is run with :func:`measure`, so a lesson never
    quotes a model other than the one it runs. A test keeps the shipped file equal to the model.
    """
    points = {point.id: point for point in load_checkpoints()}
    if checkpoint_id not in points:
        raise AssetError(assets_dir() / "validation.yaml", f"has no checkpoint {checkpoint_id!r}; "
                         f"valid choices: {', '.join(points)}")
    try:
        stored = read_json(assets_dir() / RESULTS_FILE)
        value = stored["values"][checkpoint_id] if stored.get("inputs") == inputs_fingerprint() else "stale"
    except (AssetError, AttributeError, KeyError, TypeError):
        value = "stale"
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)):
        return value
    return measure(points[checkpoint_id])


def run_checkpoints(points: list[Checkpoint] | None = None) -> list[Outcome]:
    """Run every checkpoint; returns their outcomes in file order."""
    points = load_checkpoints() if points is None else points
    return [Outcome(p, measure(p)) for p in points]


def _fmt(value, unit="") -> str:
    if value is None:
        return "not reached"
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return f"{text} {unit}".strip()


def write_report(outcomes: list[Outcome], output: str | Path, figures: str | Path | None = None) -> Path:
    """Write the Markdown report (and one PNG per treatment beside it)."""
    output = Path(output)
    figures = Path(figures) if figures is not None else output.with_suffix("")
    figures.mkdir(parents=True, exist_ok=True)
    inside = sum(o.inside for o in outcomes)
    fitted = sum(o.checkpoint.use == "fitted" for o in outcomes)
    references = _references()
    lines = [
        "# Model validation report",
        "",
        "Written by `kms-teach validate` from `assets/validation.yaml`; do not edit by hand.",
        "Each checkpoint runs the model and compares one quantity with a published value. *Fitted*",
        "means the published value was used to choose a parameter (agreement is by construction);",
        "*predicted* means it was not. A typical infant is `khe-kms` with default parameters and drug",
        "sensitivity 1; cohorts are seeded virtual infants with spread in tumour activity and drug",
        "sensitivity. *Normal* means inside the module's reference range for the infant's age.",
        "",
        f"**{inside} of {len(outcomes)} checkpoints inside their window; {fitted} fitted, "
        f"{len(outcomes) - fitted} predicted.**",
        "",
        "| Checkpoint | Published | Window | Model | Error | Verdict | Use | Source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        c = o.checkpoint
        err = "" if o.error_percent is None else f"{o.error_percent:+.0f}%"
        lines.append(
            f"| {c.id}: {c.title} | {c.published} | {c.window[0]:g}-{c.window[1]:g} {c.unit} | {_fmt(o.value, c.unit)} "
            f"| {err} | {'inside' if o.inside else '**OUTSIDE**'} | {c.use} | {', '.join(c.sources)} |")
    lines += ["", "## Figures", "",
              "Each figure overlays the typical infant's course on the published timing (shaded: the",
              "checkpoint windows for that treatment, where they are days).", ""]
    for name, path in _figures(outcomes, figures).items():
        rel = path.relative_to(output.parent) if path.is_relative_to(output.parent) else path
        lines.append(f"![{name}: model course of platelets and fibrinogen against published timing]({rel.as_posix()})")
        lines.append("")
    keys = sorted({k for o in outcomes for k in o.checkpoint.sources})
    lines += ["## Sources", ""] + [f"- `{k}`: {references[k]}" for k in keys] + [""]
    output.write_text("\n".join(lines), encoding="utf-8")
    return output


def _figures(outcomes, folder: Path) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    by_treatment: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_treatment.setdefault(o.checkpoint.treatment, []).append(o)
    made = {}
    for treatment, items in by_treatment.items():
        # a cohort's plan is drawn for its typical infant (sensitivity 1)
        singles = [o for o in items if "n" not in o.checkpoint.scenario]
        scenario = dict((singles or items)[0].checkpoint.scenario)
        scenario["days"] = max(o.checkpoint.scenario.get("days", 120) for o in items)
        result = _single(scenario)
        fig = Figure(figsize=(7, 3.2), dpi=90)
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(result.day, result.platelets, label="platelets (x10^9/L)")
        ax.plot(result.day, 100 * result.fibrinogen, label="fibrinogen (g/L x 100)", linestyle="--")
        for o in items:
            if o.checkpoint.unit == "days":
                lo, hi = o.checkpoint.window
                ax.axvspan(lo, min(hi, result.day[-1]), alpha=0.12, color="grey")
        ax.set_xlabel("day")
        ax.set_title(f"{treatment}: {scenario.get('case', 'khe-kms')}, plan {' + '.join(_plan(scenario.get('plan', []))) or 'none'}",
                     fontsize=9)
        ax.legend(fontsize=8, loc="upper left", frameon=False)
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.88)
        path = folder / f"{treatment}.png"
        fig.savefig(path)
        made[treatment] = path
    return made

"""Compartment model of Kasabach-Merritt phenomenon (numpy only).

Pools (units):

- ``tumour_activity`` A (dimensionless; 1 = reference untreated KMP): engorged,
  platelet-capturing tumour; follows its drivers within about a day.
- ``tumour_bulk`` V (dimensionless): the mass of abnormal vessels where
  clotting is consumed; follows A over weeks.
- ``platelets`` P (x10^9/L): marrow production with thrombopoietic feedback,
  normal removal, trapping proportional to A.
- ``fibrinogen`` F (g/L) and ``factors`` C (fraction of normal for age):
  liver synthesis (fibrinogen with feedback), normal catabolism, consumption
  proportional to V.
- ``d_dimer`` D (mg/L FEU): made from consumed fibrinogen, cleared in hours.
- ``red_cells`` R (fraction of the red-cell mass expected for age):
  production with feedback, ageing, damage in the tumour, bleeding.

PT and aPTT are read off C and F; haemoglobin is R times the mean for age.
Equations and evidence: ``docs/model.md``. This is a teaching model, not a
dosing tool.

The integrator is a second-order exponential scheme: tumour activity and bulk
are solved exactly over each step; each blood pool's loss is solved exactly
with the rates averaged over the step, its feedback production is corrected
once, and the D-dimer source is taken as linear across the step. It stays
within 0.5% of scipy's ``solve_ivp`` (``tests/test_integrator.py``). The same loop runs on Python
floats (one patient, fast) or on numpy arrays (a virtual cohort).
"""

from __future__ import annotations

import ctypes
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from . import labs
from .cases import Case, load_case
from .parameters import resolve_parameters
from .treatments import TreatmentEvent, as_events, load_treatments

__all__ = [
    "LABS",
    "LAB_UNITS",
    "Result",
    "CohortResult",
    "Criterion",
    "simulate",
    "simulate_cohort",
    "parse_criterion",
]

#: Lab values reported by the model, in CSV column order.
LABS = ("platelets", "fibrinogen", "d_dimer", "hemoglobin", "pt", "aptt")
#: Units of the lab values (the command line's contract).
LAB_UNITS = {
    "platelets": "x10^9/L",
    "fibrinogen": "g/L",
    "d_dimer": "mg/L FEU",
    "hemoglobin": "g/dL",
    "pt": "s",
    "aptt": "s",
}
#: Internal pools, besides the lab values.
POOLS = ("tumour_mass", "tumour_activity", "tumour_bulk", "factors", "red_cells")

_MAX_DAYS = 3650.0
_MAX_STEP_HOURS = 6.0


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    """A simulated course for one infant.

    Every series is a 1-D array aligned with ``day``; lab units are in
    :data:`LAB_UNITS`. ``age_days`` is the infant's age at each sample.
    """

    case: str
    day: np.ndarray
    age_days: np.ndarray
    platelets: np.ndarray
    fibrinogen: np.ndarray
    d_dimer: np.ndarray
    hemoglobin: np.ndarray
    pt: np.ndarray
    aptt: np.ndarray
    tumour_mass: np.ndarray
    tumour_activity: np.ndarray
    tumour_bulk: np.ndarray
    factors: np.ndarray
    red_cells: np.ndarray
    treatments: tuple = ()
    parameters: Mapping[str, float] = field(default_factory=dict)

    def index(self, day: float) -> int:
        """Index of the sample nearest to ``day``."""
        return int(np.abs(self.day - day).argmin())

    def labs_at(self, day: float) -> dict[str, float]:
        """Lab values (model units) at the sample nearest to ``day``."""
        i = self.index(day)
        return {name: float(getattr(self, name)[i]) for name in LABS}

    def lab_panel(self, day: float, units: str = "SI") -> "labs.LabPanel":
        """The lab report for ``day``, flagged against the ranges for the infant's age."""
        i = self.index(day)
        return labs.lab_panel(self.labs_at(day), float(self.age_days[i]), units=units)

    def first_day(self, lab: str, test) -> float | None:
        """First sampled day on which ``test(value)`` is true, or None."""
        hits = np.nonzero(test(getattr(self, lab)))[0]
        return float(self.day[hits[0]]) if hits.size else None

    def columns(self) -> dict[str, np.ndarray]:
        """``{"day": ..., lab: ...}`` in the command line's column order."""
        return {"day": self.day, **{name: getattr(self, name) for name in LABS}}


@dataclass(frozen=True)
class Criterion:
    """A response test such as ``platelets>=100@28``."""

    lab: str
    op: str
    value: float
    day: float

    def test(self, values: np.ndarray) -> np.ndarray:
        return _OPS[self.op](values, self.value)

    def __str__(self) -> str:
        return f"{self.lab}{self.op}{self.value:g}@{self.day:g}"


_OPS = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
}
_CRITERION = re.compile(
    r"^\s*(?P<lab>[a-z_]+)\s*(?P<op>>=|<=|>|<)\s*(?P<value>[0-9]+(?:\.[0-9]+)?)\s*@\s*(?P<day>[0-9]+(?:\.[0-9]+)?)\s*$"
)


def parse_criterion(text: str) -> Criterion:
    """Parse ``LAB OP VALUE@DAY`` (e.g. ``platelets>=100@28``).

    Raises
    ------
    ValueError
        Naming what is wrong and the valid labs and operators.
    """
    match = _CRITERION.match(text or "")
    if not match:
        raise ValueError(
            f"malformed response criterion {text!r}; expected LAB OP VALUE@DAY such as "
            f"'platelets>=100@28' (labs: {', '.join(LABS)}; operators: {', '.join(_OPS)})"
        )
    if match["lab"] not in LABS:
        raise ValueError(f"unknown lab {match['lab']!r} in criterion; valid labs: {', '.join(LABS)}")
    return Criterion(match["lab"], match["op"], float(match["value"]), float(match["day"]))


@dataclass(frozen=True)
class CohortResult:
    """A simulated virtual cohort: every series has shape ``(n_patients, n_days)``.

    ``severity`` and ``sensitivity`` hold each infant's sampled tumour activity
    and drug sensitivity.
    """

    case: str
    day: np.ndarray
    series: Mapping[str, np.ndarray]
    severity: np.ndarray
    sensitivity: np.ndarray
    treatments: tuple = ()
    seed: int | None = None

    @property
    def n(self) -> int:
        return int(self.severity.shape[0])

    def percentiles(self, lab: str, q: Iterable[float] = (5, 25, 50, 75, 95)) -> dict[float, np.ndarray]:
        """Per-day percentiles of one lab across the cohort."""
        values = np.percentile(self._kept(lab), list(q), axis=0)
        return {float(k): v for k, v in zip(q, values)}

    def responders(self, criterion: Criterion | str) -> np.ndarray:
        """Boolean array: which infants meet ``criterion`` on its day."""
        crit = parse_criterion(criterion) if isinstance(criterion, str) else criterion
        values = self._kept(crit.lab)
        i = int(np.abs(self.day - crit.day).argmin())
        if abs(self.day[i] - crit.day) > 1e-9:
            raise ValueError(f"day {crit.day:g} was not simulated (simulated days 0-{self.day[-1]:g})")
        return crit.test(values[:, i])

    def _kept(self, name: str) -> np.ndarray:
        if name not in self.series:
            if name not in _SERIES:
                raise ValueError(f"unknown series {name!r}; valid choices: {', '.join(_SERIES)}")
            raise ValueError(f"this cohort did not keep {name!r} (kept: {', '.join(self.series)})")
        return self.series[name]

    def response_rate(self, criterion: Criterion | str) -> float:
        """Fraction (0-1) of infants meeting ``criterion``."""
        return float(self.responders(criterion).mean())


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------
def simulate(
    case: str | Case = "khe-kms",
    treatments: Iterable[str | TreatmentEvent] | str | None = (),
    days: float = 120,
    every_hours: float = 6,
    parameters: Mapping[str, float] | None = None,
    severity: float | None = None,
) -> Result:
    """Simulate one infant's course.

    Parameters
    ----------
    case : str or Case
        Built-in case name (``kms-teach cases``), a case file path, or a Case.
    treatments : iterable of str or TreatmentEvent
        The plan, e.g. ``["sirolimus@0", "prednisolone@0"]``; day 0 is the case's start.
    days : float
        Length of the course, days (0 < days <= 3650).
    every_hours : float
        Sampling interval of the result, hours.
    parameters : mapping, optional
        Overrides of model parameters (``assets/parameters.yaml``), each within its range;
        they apply on top of the case's own overrides.
    severity : float, optional
        Overrides the case's tumour activity at full development (dimensionless, 0-5).

    Returns
    -------
    Result
    """
    case = _as_case(case)
    events = as_events(treatments)
    p = _case_parameters(case, parameters)
    sev = case.activity.severity if severity is None else _check_severity(severity)
    out = _run(case, events, p, days, every_hours, sev, 1.0)
    return Result(case=case.name, treatments=events, parameters=p, **out)


def simulate_cohort(
    case: str | Case = "khe-kms",
    n: int = 1000,
    seed: int | None = 0,
    treatments: Iterable[str | TreatmentEvent] | str | None = (),
    days: float = 120,
    every_hours: float = 24,
    parameters: Mapping[str, float] | None = None,
    keep: Iterable[str] | None = None,
) -> CohortResult:
    """Simulate ``n`` infants at once with seeded variability.

    Each infant's tumour activity is the case's severity times a log-normal
    factor (spread ``cohort_severity_sd``); each infant's sensitivity to drugs
    is log-normal with median 1 (spread ``cohort_sensitivity_sd``).

    Parameters
    ----------
    n : int
        Number of infants (1 to 200,000).
    seed : int or None
        Seed of the random generator; the same seed gives the same cohort.
    keep : iterable of str, optional
        The series to keep (labs such as ``"platelets"``, or pools such as ``"tumour_bulk"``);
        default all eleven. A cohort is ``n`` x samples x 8 bytes per series: 1,000 infants
        over 120 days keep about 10 MB whole, 1 MB for one lab.

    Other parameters are as in :func:`simulate`.
    """
    case = _as_case(case)
    events = as_events(treatments)
    wanted = _kept_series(keep)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 200_000:
        raise ValueError(f"cohort size must be a whole number from 1 to 200000, not {n!r}")
    p = _case_parameters(case, parameters)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((3, int(n)))
    severity = case.activity.severity * np.exp(p["cohort_severity_sd"] * z[0])
    sensitivity = np.exp(p["cohort_sensitivity_sd"] * z[1])
    # how large a remnant escapes treatment varies between tumours, independently of sensitivity
    residual_scale = np.exp(p["cohort_residual_sd"] * z[2])
    out = _run(case, events, p, days, every_hours, severity, sensitivity, residual_scale)
    day = out.pop("day")
    out.pop("age_days")
    series = {k: np.ascontiguousarray(v.T) for k, v in out.items() if wanted is None or k in wanted}
    del out
    if n * day.size >= _TRIM_AFTER_SAMPLES:
        _return_freed_memory()
    return CohortResult(case.name, day, series, severity, sensitivity, events, seed)


# ---------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------
def _as_case(case) -> Case:
    return case if isinstance(case, Case) else load_case(case)


def _kept_series(keep) -> frozenset | None:
    if keep is None:
        return None
    try:
        names = (keep,) if isinstance(keep, str) else tuple(keep)
    except TypeError:
        names = (keep,)
    unknown = [k for k in names if k not in _SERIES]
    if unknown or not names:
        raise ValueError(f"keep must name series of the cohort, not {unknown or 'nothing'}; "
                         f"valid choices: {', '.join(_SERIES)}")
    return frozenset(names)


def _check_severity(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"severity must be a number from 0 to 5, not {value!r}") from None
    if not (math.isfinite(value) and 0 <= value <= 5):
        raise ValueError(f"severity must be a number from 0 to 5, not {value!r}")
    return value


def _case_parameters(case: Case, overrides) -> dict[str, float]:
    merged = dict(case.parameters)
    merged.update(overrides or {})
    return resolve_parameters(merged)


def _grid(days, every_hours):
    """Return (step in days, samples per output, number of steps)."""
    for label, value in (("days", days), ("every_hours", every_hours)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
            raise ValueError(f"{label} must be a number, not {value!r}")
    if not 0 < days <= _MAX_DAYS:
        raise ValueError(f"days must be greater than 0 and at most {_MAX_DAYS:g}, not {days:g}")
    if not 0 < every_hours <= 24 * days:
        raise ValueError(f"every_hours must be greater than 0 and at most the course length, not {every_hours:g}")
    per_output = max(1, math.ceil(every_hours / _MAX_STEP_HOURS - 1e-9))
    step = every_hours / 24.0 / per_output
    n_outputs = int(math.floor(days * 24 / every_hours + 1e-9))
    return step, per_output, n_outputs * per_output


def _intrinsic_activity(case: Case, t: np.ndarray) -> np.ndarray:
    """Untreated drive of the process over time at severity 1 (onset, and waning where it wanes)."""
    a = case.activity
    rise = 0.5 * (1.0 + np.tanh(2.0 * (t - a.onset_day) / a.rise_days))
    if a.involution_day is not None:
        wane = np.clip(t - a.involution_day, 0.0, None) * (math.log(2) / a.involution_half_life_days)
        rise = rise * np.exp(-wane)
    return rise


def _ramp(t: np.ndarray, start: float, stop: float | None, on: float, off: float) -> np.ndarray:
    """Fraction (0-1) of full effect over time for a treatment given from start to stop."""
    since = np.clip(t - start, 0.0, None)
    r = -np.expm1(-since / on)
    if stop is not None:
        at_stop = -math.expm1(-(stop - start) / on)
        after = np.clip(t - stop, 0.0, None)
        r = np.where(t > stop, at_stop * np.exp(-after / off), r)
    return r


@dataclass
class _Plan:
    """What a plan does over time, at step midpoints (arrays of the steps' length).

    ``drug_*`` terms are scaled by each infant's drug sensitivity, ``fixed_*``
    terms (procedures, antibiotics) are not. ``cut`` is the natural-log
    reduction of activity (the quick effect); ``kill`` the regression rate per
    day; ``swelling`` multiplies activity; ``consumption`` and ``bleeding``
    multiply those rates; ``actions`` maps a step index to instantaneous events.
    """

    drug_cut: np.ndarray
    fixed_cut: np.ndarray
    drug_kill: np.ndarray
    fixed_kill: np.ndarray
    swelling: np.ndarray
    consumption: np.ndarray
    bleeding: np.ndarray
    actions: dict


def _check_events(events, days: float) -> None:
    """Refuse plans that would be silently cut: a start after the course, stacked transfusions."""
    catalogue = load_treatments()
    per_day: dict[tuple[str, int], float] = {}
    for ev in events:
        if ev.start_day >= days:
            raise ValueError(
                f"treatment {ev} starts on day {ev.start_day:g}, after the course ends (day {days:g}); "
                "lengthen the course (--days) or start the treatment earlier")
        tr = catalogue[ev.name]
        if tr.kind == "transfusion":
            dose = tr.default_dose if ev.dose is None else ev.dose
            for day in ev.dose_days():
                key = (ev.name, int(math.floor(day + 1e-9)))
                per_day[key] = per_day.get(key, 0.0) + dose
    for (name, day), total in per_day.items():
        tr = catalogue[name]
        if total > tr.daily_limit + 1e-9:
            raise ValueError(
                f"the plan gives {total:g} {tr.dose_unit} of {tr.label.lower()} on day {day}, above this module's "
                f"teaching limit of {tr.daily_limit:g} {tr.dose_unit} a day (a limit of the teaching model, "
                "not a clinical rule); give less, or spread the doses")


def _plan(case, events, t_mid, step, n_steps) -> _Plan:
    """Time courses the treatments impose, and the instantaneous events."""
    catalogue = load_treatments()
    zeros = np.zeros_like(t_mid)
    drug_cut, fixed_cut, drug_kill, fixed_kill = zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy()
    swelling_dose = zeros.copy()
    swelling_max = 0.0
    consumption, bleeding = np.ones_like(t_mid), np.ones_like(t_mid)
    actions: dict[int, list] = {}
    for ev in events:
        tr = catalogue[ev.name]
        acts = case.driver in tr.acts_on
        if tr.kind == "transfusion":
            dose = tr.default_dose if ev.dose is None else ev.dose
            adds = {pool: amount * dose for pool, amount in tr.adds.items()}
            for day in ev.dose_days():
                k = int(round(day / step))
                if k <= n_steps:
                    actions.setdefault(k, []).append(("add", adds))
                if tr.swelling_amount and case.driver == "tumour":
                    since = np.clip(t_mid - day, 0.0, None)
                    amount = tr.swelling_amount * dose / tr.default_dose
                    swelling_dose += np.where(t_mid >= day, amount * np.exp(-since / tr.swelling_days), 0.0)
                    swelling_max = max(swelling_max, tr.swelling_max)
            continue
        if tr.removes_tumour:
            if acts and int(round(ev.start_day / step)) <= n_steps:
                actions.setdefault(int(round(ev.start_day / step)), []).append(("excise", None))
            continue
        stop = ev.stop_day
        if tr.duration_days is not None:
            end = ev.start_day + tr.duration_days
            stop = end if stop is None else min(stop, end)
        r = _ramp(t_mid, ev.start_day, stop, tr.onset_days, tr.offset_days) * (1.0 if ev.dose is None else ev.dose)
        if acts:
            if tr.kind == "drug":
                drug_cut += tr.potency * r
                drug_kill += tr.regression * r
            else:
                fixed_cut += tr.potency * r
                fixed_kill += tr.regression * r
        if tr.consumption_reduction:
            consumption *= 1.0 - tr.consumption_reduction * r
        if tr.bleeding_multiplier != 1.0:
            bleeding *= 1.0 + (tr.bleeding_multiplier - 1.0) * r
    # Swelling after repeated transfusions saturates: the lesion can engorge only so far.
    swelling = 1.0 + (swelling_max * np.tanh(swelling_dose / swelling_max) if swelling_max > 0 else swelling_dose)
    return _Plan(drug_cut, fixed_cut, drug_kill, fixed_kill, swelling, consumption, bleeding, actions)


class _Rates:
    """Per-day rate constants derived from the parameter table."""

    def __init__(self, p: Mapping[str, float]):
        self.k_platelet = 1.0 / p["platelet_lifespan"]
        self.platelet_normal = p["platelet_production"] / self.k_platelet
        self.platelet_q = p["platelet_production"] * p["marrow_max_boost"]
        self.platelet_c = (p["marrow_max_boost"] - 1.0) / self.platelet_normal**2
        self.trap = p["platelet_trapping"]
        self.k_fibrinogen = math.log(2) / p["fibrinogen_half_life"]
        self.fibrinogen_q = self.k_fibrinogen * p["fibrinogen_normal"] * p["liver_max_boost"]
        self.fibrinogen_c = (p["liver_max_boost"] - 1.0) / p["fibrinogen_normal"] ** 2
        self.consume_fibrinogen = p["fibrinogen_consumption"]
        self.k_factor = math.log(2) / p["factor_half_life"]
        self.consume_factor = p["factor_consumption"]
        self.k_d_dimer = math.log(2) / p["d_dimer_half_life"]
        # mg of D-dimer (FEU) per litre per g/L of fibrinogen consumed
        self.d_dimer_per_fibrinogen = 1000.0 * p["d_dimer_yield"]
        self.k_red = 1.0 / p["red_cell_lifespan"]
        self.red_q = self.k_red * p["marrow_red_cell_max_boost"]
        self.red_c = p["marrow_red_cell_max_boost"] - 1.0
        self.damage = p["red_cell_damage"]
        self.bleed = p["bleeding_max"]
        self.bleed_inv_p50 = 1.0 / p["bleeding_platelet_level"]
        self.tau_activity = p["activity_response_time"]
        self.tau_bulk = p["tumour_remodelling_time"]
        self.regrowth = p["tumour_regrowth_rate"]
        self.residual = p["tumour_residual"]
        self.extinction = p["tumour_extinction"]


def _balance(b, q, c):
    """Solve b*x*(1 + c*x**2) = q for x > 0 (feedback production in balance with loss).

    Newton from the upper bound q/b converges monotonically: the left side is
    increasing and convex for x > 0.
    """
    x = q / b
    for _ in range(40):
        f = b * x * (1.0 + c * x * x) - q
        x = x - f / (b * (1.0 + 3.0 * c * x * x))
    return x


def _equilibrium(r: _Rates, activity, d_dimer_base):
    """Pools in balance with a constant activity (bulk equal to activity)."""
    platelets = _balance(r.k_platelet + r.trap * activity, r.platelet_q, r.platelet_c)
    fibrinogen = _balance(r.k_fibrinogen + r.consume_fibrinogen * activity, r.fibrinogen_q, r.fibrinogen_c)
    factors = r.k_factor / (r.k_factor + r.consume_factor * activity)
    d_dimer = d_dimer_base + r.d_dimer_per_fibrinogen * r.consume_fibrinogen * activity * fibrinogen / r.k_d_dimer
    bleed = r.bleed / (1.0 + (platelets * r.bleed_inv_p50) ** 2)
    red = _balance(r.k_red + r.damage * activity + bleed, r.red_q, r.red_c)
    return platelets, fibrinogen, factors, d_dimer, red


def _start_state(case: Case, r: _Rates, severity, d_dimer_base):
    """Every pool on day 0, as the case's starting state says."""
    activity = 0.0 if case.starting_state == "healthy" else float(_intrinsic_activity(case, np.zeros(1))[0])
    activity = activity * severity
    platelets, fibrinogen, factors, d_dimer, red = _equilibrium(r, activity, d_dimer_base)
    if case.starting_state == "birth":
        red = red * 0.0 + 1.0  # a newborn's red cells were made before the process began
    mass = 1.0 + 0.0 * activity
    return (mass, activity, activity, platelets, fibrinogen, factors, d_dimer, red)


_STATE = ("tumour_mass", "tumour_activity", "tumour_bulk", "platelets", "fibrinogen", "factors", "d_dimer",
          "red_cells")
#: Every series a cohort can keep: the labs, then the pools that are not labs.
_SERIES = LABS + tuple(k for k in _STATE if k not in LABS)
# Steps per block in a cohort run: bounds the memory of per-step arrays.
_COHORT_BLOCK = 2
# Refuse a run whose results would need more memory than this (bytes).
_MEMORY_LIMIT = 2 * 1024**3
# Bytes held per infant per output sample: 14 series of float64, with the
# working copies made while the result is assembled.
_BYTES_PER_SAMPLE = 14 * 8 * 2.5


#: A cohort of at least this many infant-samples leaves enough freed heap behind to be worth returning.
_TRIM_AFTER_SAMPLES = 20_000


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to call
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def _return_freed_memory() -> None:
    """Give the heap a cohort run freed back to the system.

    A cohort's integration allocates thousands of per-step arrays just under the size glibc
    serves from mmap; once freed they stay in the process's heap, so a lesson kernel that ran a
    two-year, 3000-infant cohort held about 240 MB it no longer used. ``malloc_trim`` hands those
    pages back (about 20 ms); elsewhere this does nothing.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _check_memory(n: int, days: float, every_hours: float) -> None:
    samples = int(math.floor(days * 24 / every_hours + 1e-9)) + 1
    need = n * samples * _BYTES_PER_SAMPLE
    if need > _MEMORY_LIMIT:
        raise ValueError(
            f"this run would need about {need / 1024**3:.1f} GB of memory ({n} infants x {samples} samples), more "
            f"than the {_MEMORY_LIMIT / 1024**3:.0f} GB allowed; use fewer infants (--n), a shorter course (--days) "
            "or a longer sampling interval (--every)")


def _run(case, events, p, days, every_hours, severity, sensitivity, residual_scale=1.0):
    step, per_output, n_steps = _grid(days, every_hours)
    n = severity.shape[0] if isinstance(severity, np.ndarray) else 1
    _check_memory(n, days, every_hours)
    events = tuple(as_events(case.standard_care)) + tuple(events)
    _check_events(events, days)
    r = _Rates(p)
    cohort = isinstance(severity, np.ndarray)
    t = np.arange(n_steps + 1) * step
    t_mid = t[:-1] + 0.5 * step

    plan = _plan(case, events, t_mid, step, n_steps)
    actions = plan.actions
    inputs = {
        "drive": _intrinsic_activity(case, t_mid),
        "drug_cut": plan.drug_cut,
        "fixed_cut": plan.fixed_cut,
        "drug_kill": plan.drug_kill,
        "fixed_kill": plan.fixed_kill,
        "swelling": plan.swelling,
        "consumption": plan.consumption,
        "bleeding": plan.bleeding,
        "d_dimer_base": labs.expected_value("d_dimer", case.age_days + t_mid),
    }
    state = _start_state(case, r, severity, labs.expected_value("d_dimer", case.age_days))

    cuts = sorted({k for k in actions if 0 < k < n_steps} | {n_steps})
    if cohort:
        cuts = sorted(set(cuts) | set(range(_COHORT_BLOCK, n_steps, _COHORT_BLOCK)))
    samples = []
    lo = 0
    for hi in cuts:
        if lo in actions:
            hb = labs.expected_value("hemoglobin", case.age_days + lo * step)
            state = _apply(actions[lo], state, hb)
        block = {k: v[lo:hi] for k, v in inputs.items()}
        state, kept = _advance(state, r, step, block, lo, per_output, severity, sensitivity, cohort, residual_scale)
        samples.extend(kept)
        lo = hi
    if n_steps in actions:
        hb = labs.expected_value("hemoglobin", case.age_days + n_steps * step)
        state = _apply(actions[n_steps], state, hb)
    samples.append(state)

    stacked = np.array(samples)  # (samples, pools) for one infant, (samples, pools, infants) for a cohort
    pools = {name: stacked[:, i] for i, name in enumerate(_STATE)}
    day = t[::per_output]
    age = case.age_days + day
    return {"day": day, "age_days": age, **_lab_values(p, pools, age, cohort)}


def _advance(state, r: _Rates, step, block, offset, per_output, severity, sensitivity, cohort, residual_scale=1.0):
    """Advance every pool across one block of steps.

    Returns the final state and the states at the start of each step whose
    index (``offset`` + position) is a multiple of ``per_output``.
    """
    mass, activity, bulk, platelets, fibrinogen, factors, d_dimer, red = state

    # The tumour does not depend on the blood pools: solve it first. Its mass
    # regresses while treatment outpaces regrowth (exactly, per step); activity
    # follows mass, the quick effect of treatment and swelling; bulk follows
    # activity over weeks. Activity and bulk are solved exactly with their
    # driver held at its midpoint value, and their step averages kept (what
    # the blood pools see during the step).
    tau_a, tau_v = r.tau_activity, r.tau_bulk
    e_a, e_v = math.exp(-step / tau_a), math.exp(-step / tau_v)
    f_a, f_v = tau_a * (1.0 - e_a) / step, tau_v * (1.0 - e_v) / step
    if abs(tau_a - tau_v) > 1e-9 * tau_v:
        k_av = tau_a / (tau_a - tau_v)
        cross_end, cross_mean = k_av * (e_a - e_v), k_av * (f_a - f_v)
    else:  # equal time constants: the limit of the expressions above
        cross_end = (step / tau_v) * e_v
        cross_mean = (tau_v / step) * (1.0 - e_v * (1.0 + step / tau_v))
    growth, half, residual, extinction = r.regrowth, 0.5 * step, r.residual * residual_scale, r.extinction
    if cohort:
        scale = severity * block["drive"][:, None] * block["swelling"][:, None]
        cut = np.exp(-(np.multiply.outer(block["drug_cut"], sensitivity) + block["fixed_cut"][:, None]))
        rows = zip(scale * cut, np.multiply.outer(block["drug_kill"], sensitivity) + block["fixed_kill"][:, None])
        exp, expm1 = np.exp, np.expm1
    else:
        scale = (severity * block["drive"] * block["swelling"] * np.exp(-(block["drug_cut"] * sensitivity + block["fixed_cut"])))
        rows = zip(scale.tolist(), (block["drug_kill"] * sensitivity + block["fixed_kill"]).tolist())
        exp, expm1 = math.exp, math.expm1
    m_path, a_path, v_path, a_mean, v_mean = [mass], [activity], [bulk], [], []
    for factor, k in rows:
        # Mass: dm/dt = g m (1 - m) (m - E)/(m + E) - k m * m / (m + residual). Treatment reaches a
        # shrinking tumour less well, so regression levels off at a small remnant; a remnant below
        # E (extinction) cannot sustain itself and dies out. Both factors are taken at a predicted
        # mid-step mass (an Euler half step), then the logistic (Bernoulli) equation is solved
        # exactly over the step with its coefficients held: one exp and one expm1 per step.
        k0 = k * mass / (mass + residual)
        g0 = growth * (mass - extinction) / (mass + extinction)
        m_half = mass * (1.0 + (g0 * (1.0 - mass) - k0) * half)
        k = k * m_half / (m_half + residual)
        g = growth * (m_half - extinction) / (m_half + extinction)
        a = g - k
        if cohort:
            a = np.where(np.abs(a) < 1e-12, 1e-12, a)
        elif -1e-12 < a < 1e-12:
            a = 1e-12
        x = a * half
        e_half, phi_half = exp(x), expm1(x) / a
        gm = g * mass
        a_target = factor * mass * e_half / (1.0 + gm * phi_half)
        mass = mass * e_half * e_half / (1.0 + gm * phi_half * (1.0 + e_half))
        da, dv = activity - a_target, bulk - a_target
        a_mean.append(a_target + da * f_a)
        v_mean.append(a_target + dv * f_v + da * cross_mean)
        activity = a_target + da * e_a
        bulk = a_target + dv * e_v + da * cross_end
        m_path.append(mass)
        a_path.append(activity)
        v_path.append(bulk)
    col = (lambda x: x[:, None]) if cohort else (lambda x: x)
    a_mid = np.array(a_mean)
    v_mid = np.array(v_mean) * col(block["consumption"])

    # Rates fixed by activity and bulk, for every step at once.
    b = r.k_platelet + r.trap * a_mid
    e_platelets, q_platelets = np.exp(-b * step), r.platelet_q / b
    b = r.k_fibrinogen + r.consume_fibrinogen * v_mid
    e_fibrinogen, q_fibrinogen = np.exp(-b * step), r.fibrinogen_q / b
    b = r.k_factor + r.consume_factor * v_mid
    e_factors, s_factors = np.exp(-b * step), r.k_factor / b
    e_d_dimer = math.exp(-step * r.k_d_dimer)
    c_d_dimer = (1.0 - e_d_dimer) / (r.k_d_dimer * step)
    # D-dimer source = base + gain * bulk * fibrinogen, taken as linear across the step
    gain = r.d_dimer_per_fibrinogen * r.consume_fibrinogen / r.k_d_dimer
    v_path = np.array(v_path)
    gain_start = gain * v_path[:-1] * col(block["consumption"])
    gain_end = gain * v_path[1:] * col(block["consumption"])
    b = r.k_red + r.damage * a_mid
    e_red, inv_red = np.exp(-b * step), 1.0 / b
    bleed = r.bleed * col(block["bleeding"]) + 0.0 * v_mid
    rows = (e_platelets, q_platelets, e_fibrinogen, q_fibrinogen, e_factors, s_factors,
            col(block["d_dimer_base"]) + 0.0 * v_mid, gain_start, gain_end, e_red, inv_red, bleed)
    if not cohort:
        rows = tuple(x.tolist() for x in rows)

    c_pl, c_fb, q_rd, c_rd = r.platelet_c, r.fibrinogen_c, r.red_q, r.red_c
    half_inv_p50 = 0.5 * r.bleed_inv_p50
    kept = []
    i = offset
    for ep, qp, ef, qf, ec, sc, dd_base, g0, g1, er, ir, bl in zip(*rows):
        if i % per_output == 0:
            j = i - offset
            kept.append((m_path[j], a_path[j], v_path[j], platelets, fibrinogen, factors, d_dimer, red))
        i += 1
        # platelets: loss solved exactly over the step, feedback production corrected once
        s = qp / (1.0 + c_pl * platelets * platelets)
        g = 0.5 * (platelets + s + (platelets - s) * ep)
        s = qp / (1.0 + c_pl * g * g)
        p1 = s + (platelets - s) * ep
        # fibrinogen: the same, with liver feedback
        s = qf / (1.0 + c_fb * fibrinogen * fibrinogen)
        g = 0.5 * (fibrinogen + s + (fibrinogen - s) * ef)
        s = qf / (1.0 + c_fb * g * g)
        f1 = s + (fibrinogen - s) * ef
        # other clotting factors: linear, no feedback
        factors = sc + (factors - sc) * ec
        # D-dimer made from the fibrinogen consumed in this step
        s = dd_base + g0 * fibrinogen
        s1 = dd_base + g1 * f1
        d_dimer = s1 + (d_dimer - s) * e_d_dimer - (s1 - s) * c_d_dimer
        # red cells: bleeding grows as platelets fall
        pm = (platelets + p1) * half_inv_p50
        bl = bl / (1.0 + pm * pm)
        s = (q_rd / (1.0 + c_rd * red * red) - bl * red) * ir
        g = 0.5 * (red + s + (red - s) * er)
        s = (q_rd / (1.0 + c_rd * g * g) - bl * g) * ir
        red = s + (red - s) * er
        platelets, fibrinogen = p1, f1
    return (mass, activity, bulk, platelets, fibrinogen, factors, d_dimer, red), kept


def _apply(acts, state, hb_expected):
    """Apply instantaneous events (transfusions, excision) to a state tuple."""
    mass, activity, bulk, platelets, fibrinogen, factors, d_dimer, red = state
    for kind, adds in acts:
        if kind == "excise":
            mass, activity, bulk = 0.0 * mass, 0.0 * activity, 0.0 * bulk
            continue
        platelets = platelets + adds.get("platelets", 0.0)
        fibrinogen = fibrinogen + adds.get("fibrinogen", 0.0)
        factors = factors + adds.get("factors", 0.0)
        red = red + adds.get("hemoglobin", 0.0) / hb_expected
    return mass, activity, bulk, platelets, fibrinogen, factors, d_dimer, red


def _lab_values(p, pools, age, cohort):
    """Turn pools into lab values; PT and aPTT lengthen as factors and fibrinogen fall."""
    col = (lambda x: x[:, None]) if cohort else (lambda x: x)
    factors = np.maximum(pools["factors"], 1e-6)
    fibrinogen = np.maximum(pools["fibrinogen"], 1e-6)
    stretch = factors ** (-p["clotting_time_factor_exponent"]) * (
        1.0 + p["clotting_time_fibrinogen_weight"] * (p["clotting_time_fibrinogen_threshold"] / fibrinogen) ** 3
    )
    limit = p["clotting_time_limit"]
    return {
        "platelets": pools["platelets"],
        "fibrinogen": pools["fibrinogen"],
        "d_dimer": pools["d_dimer"],
        "hemoglobin": pools["red_cells"] * col(labs.expected_value("hemoglobin", age)),
        "pt": np.minimum(limit, col(labs.expected_value("pt", age)) * stretch),
        "aptt": np.minimum(limit, col(labs.expected_value("aptt", age)) * stretch),
        "tumour_mass": pools["tumour_mass"],
        "tumour_activity": pools["tumour_activity"],
        "tumour_bulk": pools["tumour_bulk"],
        "factors": pools["factors"],
        "red_cells": pools["red_cells"],
    }

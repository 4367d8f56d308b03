"""Reference solution of the model's equations with an adaptive stiff solver.

This module is a slow, accurate check of the fast fixed-step integrator in
:mod:`kms_teach.model` (``_run``/``_advance``, an exponential midpoint scheme
with 6-hour steps). It is used by ``tests/test_integrator.py`` and
``benchmarks/bench_model.py`` only; lessons, the command line and the cohort
never call it.

The right-hand side :func:`rhs` is written out from the equations in
``docs/model.md`` and does not call the fast integrator. Both sides share only
their *inputs*: the rate constants (``model._Rates``), the time courses that
treatments impose (``model._plan``), the untreated tumour activity
(``model._intrinsic_activity``), the starting state (``model._equilibrium``),
the reference values for age (:mod:`kms_teach.labs`) and the conversion of
pools into lab values (``model._lab_values``). A disagreement between the two
therefore points at the time stepping, not at the inputs.

Equations (t in days, age a = ``case.age_days`` + t)::

    K  = s*Kdrug(t) + Kfixed(t)            regression rate of treatment
    M' = g M (1 - M) - K M * M / (M + rho)  (M = 0 from an excision on)
    T  = S * I(t) * M * exp(-(s*Ldrug(t) + Lfixed(t))) * (1 + W(t))
    A' = (T - A) / tau_A
    V' = (A - V) / tau_V                   Vc = V * m_c(t)
    P' = qP / (1 + cP P^2) - (kP + trap A) P
    F' = qF / (1 + cF F^2) - (kF + consF Vc) F
    C' = kC - (kC + consC Vc) C
    D' = kD (Dbase(a) - D) + 1000 y consF Vc F
    R' = qR / (1 + cR R^2) - (kR + damage A + bleed m_b(t) / (1 + (P/P50)^2)) R

Transfusions and excision act instantaneously at the same step-rounded times
as in the fast integrator (step index ``round(day / step)``); the solver is
restarted after each of them and at every point where an input has a kink or
a jump (treatment starts and stops, the end of an embolization's effect, the
start of involution or the end of early growth, the ages at which the D-dimer
reference table changes slope), so that it never steps across one.

scipy is needed (it is in the ``test`` extra) and is imported only when
:func:`reference_course` runs; the package itself depends on numpy alone.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Mapping

import numpy as np

from . import labs
from .model import (
    LABS,
    POOLS,
    _as_case,
    _case_parameters,
    _check_severity,
        _grid,
    _intrinsic_activity,
    _lab_values,
    _start_state,
    _plan,
    _Rates,
)
from .treatments import TreatmentEvent, as_events, load_treatments

__all__ = ["reference_course", "rhs", "STATE"]

#: Order of the pools in the state vector ``y`` of :func:`rhs`.
STATE = ("tumour_mass", "tumour_activity", "tumour_bulk", "platelets", "fibrinogen", "factors", "d_dimer",
         "red_cells")

_SCIPY_MISSING = "scipy is needed for the reference solution: pip install -e '.[test]'"
_DEFAULT_SOLVER = {"method": "LSODA", "rtol": 1e-9, "atol": 1e-11}
# Breakpoints closer than this (days) are merged.
_MERGE = 1e-9


def rhs(t: float, y: np.ndarray, rates: _Rates, inputs: Callable[[float], tuple]) -> np.ndarray:
    """Time derivatives of the seven pools (per day).

    Parameters
    ----------
    t : float
        Time, days since the case's day 0.
    y : numpy.ndarray, shape (8,)
        State in the order of :data:`STATE`: tumour mass M, tumour activity A, tumour bulk V
        (dimensionless), platelets P (x10^9/L), fibrinogen F (g/L), other
        clotting factors C (fraction of normal), D-dimer D (mg/L FEU) and red
        cells R (fraction of the red-cell mass expected for age).
    rates : model._Rates
        Rate constants derived from the parameter table.
    inputs : callable
        ``inputs(t)`` returns ``(factor, kill, consumption, bleeding, d_dimer_base)``:
        the activity per unit of tumour mass, the regression rate, the multipliers of
        consumption and bleeding that anticoagulants impose, and the mean
        D-dimer for the infant's age.

    Returns
    -------
    numpy.ndarray, shape (8,)
        dy/dt in the units of ``y`` per day.
    """
    mass, activity, bulk, platelets, fibrinogen, factors, d_dimer, red = y
    factor, kill, consumption, bleeding, d_dimer_base = inputs(t)
    r = rates
    consuming = bulk * consumption

    mass = max(mass, 0.0)
    d_mass = (r.regrowth * mass * (1.0 - mass) * (mass - r.extinction) / (mass + r.extinction)
              - kill * mass * mass / (mass + r.residual)) if mass > 0 else 0.0
    target = factor * mass
    d_activity = (target - activity) / r.tau_activity
    d_bulk = (activity - bulk) / r.tau_bulk
    d_platelets = r.platelet_q / (1.0 + r.platelet_c * platelets**2) - (r.k_platelet + r.trap * activity) * platelets
    d_fibrinogen = (
        r.fibrinogen_q / (1.0 + r.fibrinogen_c * fibrinogen**2)
        - (r.k_fibrinogen + r.consume_fibrinogen * consuming) * fibrinogen
    )
    d_factors = r.k_factor - (r.k_factor + r.consume_factor * consuming) * factors
    d_d_dimer = (
        r.k_d_dimer * (d_dimer_base - d_dimer)
        + r.d_dimer_per_fibrinogen * r.consume_fibrinogen * consuming * fibrinogen
    )
    bleed = r.bleed * bleeding / (1.0 + (platelets * r.bleed_inv_p50) ** 2)
    d_red = r.red_q / (1.0 + r.red_c * red**2) - (r.k_red + r.damage * activity + bleed) * red
    return np.array([d_mass, d_activity, d_bulk, d_platelets, d_fibrinogen, d_factors, d_d_dimer, d_red])


class _Inputs:
    """The time courses driving :func:`rhs`, evaluated one time at a time.

    ``segment`` is the interval being integrated: times are clamped into it
    and an end point is replaced by its inner neighbour, so a jump in an input
    exactly at a segment's boundary (a transfusion's swelling, an excision) is
    seen from the correct side.
    """

    def __init__(self, case, events, severity, sensitivity, step, n_steps, excised_from):
        self.case = case
        self.events = events
        self.severity = float(severity)
        self.sensitivity = float(sensitivity)
        self.step = step
        self.n_steps = n_steps
        self.excised_from = excised_from
        self.segment = (-math.inf, math.inf)

    def __call__(self, t: float) -> tuple[float, float, float, float]:
        lo, hi = self.segment
        t = min(max(float(t), lo), hi)
        if t == hi:
            t = math.nextafter(hi, -math.inf)
        elif t == lo:
            t = math.nextafter(lo, math.inf)
        t = max(t, 0.0)
        at = np.array([t])
        plan = _plan(self.case, self.events, at, self.step, self.n_steps)
        intrinsic = float(_intrinsic_activity(self.case, at)[0])
        cut = self.sensitivity * float(plan.drug_cut[0]) + float(plan.fixed_cut[0])
        factor = self.severity * intrinsic * math.exp(-cut) * float(plan.swelling[0])
        kill = self.sensitivity * float(plan.drug_kill[0]) + float(plan.fixed_kill[0])
        d_dimer_base = float(labs.expected_value("d_dimer", self.case.age_days + t))
        return factor, kill, float(plan.consumption[0]), float(plan.bleeding[0]), d_dimer_base


def _breakpoints(case, events: tuple[TreatmentEvent, ...], end: float) -> set[float]:
    """Times in (0, end) where an input has a kink or a jump."""
    catalogue = load_treatments()
    points = set()
    for ev in events:
        tr = catalogue[ev.name]
        points.add(ev.start_day)
        if ev.stop_day is not None:
            points.add(ev.stop_day)
        points.update(ev.dose_days())
        if tr.duration_days is not None:
            points.add(ev.start_day + tr.duration_days)
    a = case.activity
    if a.involution_day is not None:
        points.add(a.involution_day)
    points.update(float(age) - case.age_days for age in labs.load_reference_ranges()["d_dimer"].ages)
    return {float(p) for p in points if 0.0 < p < end}


def _solver_options(solver) -> dict:
    options = dict(_DEFAULT_SOLVER)
    if solver is None:
        return options
    if isinstance(solver, str):
        options["method"] = solver
        return options
    if isinstance(solver, Mapping):
        options.update(solver)
        return options
    raise TypeError(f"solver must be a solve_ivp method name or a mapping of solve_ivp options, not {solver!r}")


def reference_course(
    case="khe-kms",
    treatments: Iterable[str | TreatmentEvent] | str | None = (),
    days: float = 120,
    every_hours: float = 6,
    parameters: Mapping[str, float] | None = None,
    severity: float | None = None,
    solver: str | Mapping | None = None,
) -> dict[str, np.ndarray]:
    """Solve one infant's course accurately with ``scipy.integrate.solve_ivp``.

    A slow, accurate check of the fast integrator behind
    :func:`kms_teach.simulate`; it is not used by the lessons. Arguments mean
    what they mean for :func:`kms_teach.simulate` (drug sensitivity is 1), and
    the samples fall on the same days.

    Parameters
    ----------
    case : str or Case
        Built-in case name, case file path, or a Case.
    treatments : iterable of str or TreatmentEvent
        The plan, e.g. ``["sirolimus@0", "prednisolone@0"]``.
    days : float
        Length of the course, days.
    every_hours : float
        Sampling interval, hours.
    parameters : mapping, optional
        Parameter overrides, as for :func:`kms_teach.simulate`.
    severity : float, optional
        Overrides the case's tumour activity at full development.
    solver : str or mapping, optional
        A ``solve_ivp`` method name, or a mapping of ``solve_ivp`` options
        (``method``, ``rtol``, ``atol``, ...) overriding the defaults
        ``{"method": "LSODA", "rtol": 1e-9, "atol": 1e-11}``.

    Returns
    -------
    dict of numpy.ndarray
        ``"day"``, the lab values (:data:`kms_teach.LABS`, model units) and the
        pools ``tumour_activity``, ``tumour_bulk``, ``factors`` and
        ``red_cells``, each aligned with ``"day"``.

    Raises
    ------
    ImportError
        If scipy is not installed.
    RuntimeError
        If the solver fails.
    """
    try:
        from scipy.integrate import solve_ivp
    except ImportError as exc:
        raise ImportError(_SCIPY_MISSING) from exc

    case = _as_case(case)
    events = tuple(as_events(case.standard_care)) + tuple(as_events(treatments))
    p = _case_parameters(case, parameters)
    sev = case.activity.severity if severity is None else _check_severity(severity)
    options = _solver_options(solver)

    step, per_output, n_steps = _grid(days, every_hours)
    end = n_steps * step
    grid_t = np.arange(n_steps + 1) * step
    day = grid_t[::per_output]
    rates = _Rates(p)

    actions = _plan(case, events, grid_t, step, n_steps).actions
    inputs = _Inputs(case, events, sev, 1.0, step, n_steps, None)
    y = np.array(_start_state(case, rates, sev, labs.expected_value("d_dimer", case.age_days)), dtype=float)

    jump_at = {k * step: acts for k, acts in actions.items() if 0 <= k <= n_steps}
    # Event times are kept exactly; a kink closer than _MERGE to a kept time is dropped.
    bounds = sorted(set(jump_at) | {0.0, end})
    for b in sorted(_breakpoints(case, events, end)):
        if min(abs(b - x) for x in bounds) > _MERGE:
            bounds.append(b)
    bounds.sort()

    def jump(t, state):
        return _jump(jump_at.get(t, ()), state, case.age_days + t)

    samples = np.empty((len(day), len(STATE)))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        y = jump(lo, y)
        inside = (day >= lo) & (day < hi)
        inputs.segment = (lo, hi)
        sol = solve_ivp(
            rhs, (lo, hi), y, t_eval=np.append(day[inside], hi), args=(rates, inputs), **options
        )
        if not sol.success:
            raise RuntimeError(f"reference solver failed between day {lo:g} and {hi:g}: {sol.message}")
        samples[inside] = sol.y[:, :-1].T
        y = sol.y[:, -1]
    y = jump(end, y)
    samples[-1] = y

    pools = {name: samples[:, i] for i, name in enumerate(STATE)}
    values = _lab_values(p, pools, case.age_days + day, False)
    return {"day": day, **{k: values[k] for k in LABS}, **{k: values[k] for k in POOLS}}


def _jump(acts, y: np.ndarray, age: float) -> np.ndarray:
    """Apply instantaneous events (transfusions, excision) at ``age`` to a state vector."""
    y = np.array(y, dtype=float)
    for kind, adds in acts:
        if kind == "excise":
            y[0] = y[1] = y[2] = 0.0
            continue
        y[3] += adds.get("platelets", 0.0)
        y[4] += adds.get("fibrinogen", 0.0)
        y[5] += adds.get("factors", 0.0)
        y[7] += adds.get("hemoglobin", 0.0) / labs.expected_value("hemoglobin", age)
    return y

"""The fast fixed-step integrator solves the model's equations accurately.

``kms_teach.simulate`` uses an exponential midpoint scheme with 6-hour steps
(``kms_teach.model._advance``). Here every lab it reports is compared, sample by
sample, with an accurate adaptive solution of the same equations
(``kms_teach.reference``, scipy ``solve_ivp``, rtol 1e-9). Both see identical
inputs (rates, treatment time courses, reference values for age), so a
disagreement points at the time stepping.

scipy is part of the ``test`` extra and is imported plainly: a missing scipy
must fail these checks, not skip them.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.integrate  # noqa: F401  (the reference solution needs it)

from kms_teach import LABS, load_case, model, simulate
from kms_teach.model import _case_parameters, _Rates
from kms_teach.reference import STATE, _Inputs, reference_course, rhs

#: Largest relative error of any lab at any sample (fraction of the reference value).
TOLERANCE = 0.005

SCENARIOS = {
    "khe-kms untreated": ("khe-kms", [], 120),
    "khe-kms sirolimus+prednisolone": ("khe-kms", ["sirolimus@0", "prednisolone@0"], 120),
    "khe-kms transfusions": (
        "khe-kms",
        ["platelet-transfusion@2", "cryoprecipitate@2", "rbc-transfusion@5", "ffp@3"],
        120,
    ),
    "khe-kms vincristine+embolization": ("khe-kms", ["vincristine@0", "embolization@1"], 120),
    "khe-kms excision": ("khe-kms", ["excision@10"], 120),
    "khe-onset untreated": ("khe-onset", [], 60),
    "rich untreated": ("rich", [], 42),
    "sepsis-dic untreated": ("sepsis-dic", [], 42),
    "nait untreated": ("nait", [], 42),
    "khe-kms heparin": ("khe-kms", ["heparin@0"], 120),
    "khe-kms prednisolone stopped day 14": ("khe-kms", ["prednisolone@0-14"], 120),
}


def relative_errors(fast, reference) -> dict[str, np.ndarray]:
    """Per-lab |fast - reference| / |reference| at every sample."""
    return {lab: np.abs(getattr(fast, lab) - reference[lab]) / np.abs(reference[lab]) for lab in LABS}


def describe_worst(fast, reference) -> tuple[float, str]:
    """The largest relative error, and a message naming where it occurs."""
    errors = relative_errors(fast, reference)
    lab = max(errors, key=lambda name: errors[name].max())
    i = int(errors[lab].argmax())
    per_lab = ", ".join(f"{name} {errors[name].max():.3%}" for name in LABS)
    message = (
        f"largest relative error {errors[lab][i]:.3%} in {lab} on day {fast.day[i]:g} "
        f"(fast {getattr(fast, lab)[i]:.6g}, reference {reference[lab][i]:.6g}); per lab: {per_lab}"
    )
    return float(errors[lab][i]), message


@pytest.mark.parametrize("case, plan, days", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_fast_integrator_matches_solve_ivp_within_half_percent(case, plan, days):
    reference = reference_course(case, plan, days=days)
    fast = simulate(case, plan, days=days)
    np.testing.assert_array_equal(fast.day, reference["day"])
    worst, message = describe_worst(fast, reference)
    assert worst <= TOLERANCE, message


def test_fast_integrator_error_falls_fourfold_when_the_step_halves(monkeypatch):
    # Second-order convergence towards the reference: the remaining difference is
    # the 6-hour step's truncation error, not a wrong equation or input.
    case, plan, days = SCENARIOS["khe-kms transfusions"]
    reference = reference_course(case, plan, days=days)
    errors = []
    for hours in (6.0, 3.0, 1.5):
        monkeypatch.setattr(model, "_MAX_STEP_HOURS", hours)
        errors.append(describe_worst(simulate(case, plan, days=days), reference)[0])
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(3.0 <= r <= 5.0 for r in ratios), f"errors {errors} for 6, 3, 1.5-hour steps; ratios {ratios}"


def test_reference_solution_does_not_depend_on_the_solver():
    # An explicit high-order method at tighter tolerances gives the same course,
    # so the reference is converged far below the 0.5% being checked.
    case, plan, days = SCENARIOS["khe-kms transfusions"]
    lsoda = reference_course(case, plan, days=days)
    dop853 = reference_course(case, plan, days=days, solver={"method": "DOP853", "rtol": 1e-11, "atol": 1e-13})
    for lab in (*LABS, "tumour_mass", "tumour_activity", "tumour_bulk", "factors", "red_cells"):
        np.testing.assert_allclose(lsoda[lab], dop853[lab], rtol=1e-6, atol=1e-12, err_msg=lab)


@pytest.mark.parametrize("case", ["khe-kms", "ta-kms", "rich", "sepsis-dic", "nait", "infantile-hemangioma"])
def test_starting_state_is_a_fixed_point_of_the_written_out_equations(case):
    # Both solvers start from model._start_state; the equations in
    # kms_teach.reference must agree that no pool moves there on day 0 (a
    # newborn's red cells, made before the process began, are the exception).
    reference = reference_course(case, [], days=1)
    y0 = np.array([reference[name][0] for name in STATE])
    c = load_case(case)
    inputs = _Inputs(c, (), c.activity.severity, 1.0, 0.25, 4, None)
    inputs.segment = (0.0, 1.0)
    derivative = rhs(0.0, y0, _Rates(_case_parameters(c, None)), inputs)
    assert derivative.shape == (len(STATE),)
    if c.starting_state == "birth":
        derivative[STATE.index("red_cells")] = 0.0
    np.testing.assert_allclose(derivative, 0.0, atol=1e-9 * np.maximum(np.abs(y0), 1.0).min())


def test_reference_module_imports_without_scipy():
    code = "import sys, kms_teach.reference; assert 'scipy' not in sys.modules, 'scipy imported at module level'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_reference_names_the_test_extra_when_scipy_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.integrate", None)
    with pytest.raises(ImportError, match=r"scipy is needed for the reference solution: pip install -e '\.\[test\]'"):
        reference_course("khe-kms", days=1)

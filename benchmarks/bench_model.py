"""Speed and accuracy report for the kms-teach model (a script, not a test).

Run from the repository root::

    python benchmarks/bench_model.py [--repeats N] [--json FILE]

Lines of the report (goals in brackets):

(a) one infant, sirolimus + prednisolone, 120 days, 6-hourly output:
    median and 90th-percentile wall time of ``simulate`` [median <= 2 ms]
(b) virtual cohort of 10,000 infants, same plan, 120 days:
    median of 5 runs of ``simulate_cohort`` [<= 1 s]
(c) accuracy of (a) against the accurate ``solve_ivp`` solution
    (``kms_teach.reference``): largest relative error of any lab [<= 0.5%]
(d) median time of that reference solution, and how many times slower it is
    than (a) (no goal; for information)
(f) a 730-day course (the usual two years of treatment): median time and the
    cost per simulated day beside (a)'s [no slower per day than (a)]
(e) week-4 response (platelets >= 100 x10^9/L on day 28) in the 10,000-infant
    cohort, sirolimus alone and sirolimus + prednisolone, beside the
    randomised trial (Ji Y et al. Blood 2022;139:1619-30: 24/36 = 66.7% and
    35/37 = 94.6%) [inside the trial arm's 95% Wilson interval]

The script always exits 0: it is a report. Timings depend on the machine; the
machine is described at the top.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import kms_teach
except ImportError:  # run from a checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import kms_teach

from kms_teach import LABS, simulate, simulate_cohort
from kms_teach.reference import reference_course

CASE = "khe-kms"
PLAN = ["sirolimus@0", "prednisolone@0"]
DAYS = 120
COHORT_N = 10_000
COHORT_RUNS = 5
REFERENCE_RUNS = 5
CRITERION = "platelets>=100@28"
#: Ji Y et al. Blood 2022;139:1619-30, week-4 durable platelet response: (responders, arm size).
TRIAL = {"sirolimus": (24, 36), "sirolimus+prednisolone": (35, 37)}

GOAL_SINGLE_MS = 2.0
GOAL_COHORT_S = 1.0
GOAL_ERROR = 0.005


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def timed(fn, repeats: int) -> list[float]:
    """Wall times (s) of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def machine() -> dict:
    try:
        import scipy

        scipy_version = scipy.__version__
    except ImportError:
        scipy_version = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "scipy": scipy_version,
        "kms_teach": kms_teach.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
    }


def run(repeats: int) -> dict:
    single = lambda: simulate(CASE, PLAN, days=DAYS)  # noqa: E731
    cohort = lambda plan: simulate_cohort(CASE, n=COHORT_N, seed=0, treatments=plan, days=DAYS)  # noqa: E731

    # Warm-up: load the asset files, fill caches, touch the code paths.
    for _ in range(20):
        single()
    cohort(PLAN)
    reference_course(CASE, PLAN, days=DAYS)

    # (a) one infant
    t_single = timed(single, repeats)
    single_median = statistics.median(t_single)
    single_p90 = float(np.percentile(t_single, 90))

    # (b) cohort
    t_cohort = timed(lambda: cohort(PLAN), COHORT_RUNS)
    cohort_median = statistics.median(t_cohort)

    # (c) accuracy against the reference, (d) cost of the reference
    fast = single()
    t_reference = []
    for _ in range(REFERENCE_RUNS):
        start = time.perf_counter()
        ref = reference_course(CASE, PLAN, days=DAYS)
        t_reference.append(time.perf_counter() - start)
    reference_median = statistics.median(t_reference)
    errors = {lab: np.abs(getattr(fast, lab) - ref[lab]) / np.abs(ref[lab]) for lab in LABS}
    worst_lab = max(errors, key=lambda lab: errors[lab].max())
    worst_i = int(errors[worst_lab].argmax())

    # (f) a two-year course (the usual treatment length): cost per simulated day against (a)
    long = lambda: simulate(CASE, ["sirolimus@0-730"], days=730)  # noqa: E731
    long()
    long_median = statistics.median(timed(long, max(5, repeats // 4)))

    # (e) week-4 response rates
    rates = {
        "sirolimus": cohort(["sirolimus@0"]).response_rate(CRITERION),
        "sirolimus+prednisolone": cohort(PLAN).response_rate(CRITERION),
    }

    return {
        "single": {
            "median_ms": single_median * 1e3,
            "p90_ms": single_p90 * 1e3,
            "repeats": repeats,
            "goal_median_ms": GOAL_SINGLE_MS,
            "pass": single_median * 1e3 <= GOAL_SINGLE_MS,
        },
        "cohort": {
            "median_s": cohort_median,
            "runs": COHORT_RUNS,
            "n": COHORT_N,
            "goal_s": GOAL_COHORT_S,
            "pass": cohort_median <= GOAL_COHORT_S,
        },
        "accuracy": {
            "max_relative_error": float(errors[worst_lab][worst_i]),
            "lab": worst_lab,
            "day": float(fast.day[worst_i]),
            "per_lab": {lab: float(errors[lab].max()) for lab in LABS},
            "goal": GOAL_ERROR,
            "pass": float(errors[worst_lab][worst_i]) <= GOAL_ERROR,
        },
        "reference": {
            "median_s": reference_median,
            "runs": REFERENCE_RUNS,
            "slower_than_fast": reference_median / single_median,
        },
        "long_course": {
            "median_ms": long_median * 1e3,
            "per_day_us": long_median * 1e6 / 730,
            "per_day_us_120": single_median * 1e6 / DAYS,
        },
        "response_week4": {
            arm: {
                "model": rates[arm],
                "trial": TRIAL[arm][0] / TRIAL[arm][1],
                "trial_n": TRIAL[arm][1],
                "trial_ci95": wilson(*TRIAL[arm]),
                "pass": wilson(*TRIAL[arm])[0] <= rates[arm] <= wilson(*TRIAL[arm])[1],
            }
            for arm in TRIAL
        },
    }


def report(results: dict, info: dict) -> str:
    mark = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    s, c, a, r, w = (results[k] for k in ("single", "cohort", "accuracy", "reference", "response_week4"))
    rows = [
        ("(a) simulate, 1 infant, 120 d: median", f"{s['median_ms']:.3f} ms", f"<= {GOAL_SINGLE_MS:g} ms", mark(s["pass"])),
        (f"    p90 (over {s['repeats']} runs)", f"{s['p90_ms']:.3f} ms", "", ""),
        (f"(b) simulate_cohort, n={c['n']}: median of {c['runs']}", f"{c['median_s']:.3f} s", f"<= {GOAL_COHORT_S:g} s",
         mark(c["pass"])),
        ("(c) max relative error vs solve_ivp", f"{a['max_relative_error']:.3%}", f"<= {GOAL_ERROR:.1%}", mark(a["pass"])),
        (f"    worst: {a['lab']} on day {a['day']:g}", "", "", ""),
        (f"(d) reference solve_ivp: median of {r['runs']}", f"{r['median_s'] * 1e3:.1f} ms", "", ""),
        ("    reference / fast", f"{r['slower_than_fast']:.0f}x slower", "", ""),
    ]
    lc = results["long_course"]
    rows.append(("(f) simulate, 1 infant, 730 d: median", f"{lc['median_ms']:.2f} ms",
                 f"{lc['per_day_us']:.2f} us/day vs {lc['per_day_us_120']:.2f} us/day in (a)", ""))
    for arm, label in (("sirolimus", "sirolimus alone"), ("sirolimus+prednisolone", "sirolimus + prednisolone")):
        lo, hi = w[arm]["trial_ci95"]
        rows.append((
            f"(e) week-4 response, {label}",
            f"{w[arm]['model']:.1%}",
            f"trial {w[arm]['trial']:.1%} (95% CI {lo:.1%}-{hi:.1%})",
            mark(w[arm]["pass"]),
        ))
    width = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("line", "measured", "goal", "")
    lines = [
        "kms-teach model benchmark",
        f"python {info['python']} ({info['implementation']}), numpy {info['numpy']}, scipy {info['scipy']}, "
        f"kms-teach {info['kms_teach']}",
        f"{info['platform']}, {info['processor']}, cpu_count {info['cpu_count']} (usable {info['usable_cpus']})",
        f"scenario: {CASE} {' + '.join(PLAN)}, {DAYS} days; response criterion {CRITERION}",
        "",
        "  ".join(h.ljust(wd) for h, wd in zip(header, width)).rstrip(),
        "  ".join("-" * wd for wd in width),
    ]
    lines += ["  ".join(cell.ljust(wd) for cell, wd in zip(row, width)).rstrip() for row in rows]
    per_lab = ", ".join(f"{lab} {err:.3%}" for lab, err in a["per_lab"].items())
    lines += ["", f"(c) per lab: {per_lab}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed runs of the single-infant simulation (default 200)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    info = machine()
    results = run(args.repeats)
    print(report(results, info))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": info, **results}, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

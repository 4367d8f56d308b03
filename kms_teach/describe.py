"""Plain-language summaries of simulated courses and lab panels.

Every figure in the lessons carries one of these sentences, shown as text and
used as the image's alt text, so a learner using a screen reader gets the same
result as one looking at the plot. Pure Python: no plotting here.
"""

from __future__ import annotations

import numpy as np

from . import labs

__all__ = ["describe_course", "describe_panel", "describe_day", "LAB_NAMES", "format_value"]

#: How each lab is named in running text, with its unit.
LAB_NAMES = {
    "platelets": ("Platelets", "x10^9/L"),
    "fibrinogen": ("Fibrinogen", "g/L"),
    "d_dimer": ("D-dimer", "mg/L FEU"),
    "hemoglobin": ("Haemoglobin", "g/dL"),
    "pt": ("PT", "s"),
    "aptt": ("aPTT", "s"),
}
_DECIMALS = {"platelets": 0, "fibrinogen": 2, "d_dimer": 1, "hemoglobin": 1, "pt": 1, "aptt": 1}


def _number(lab, value):
    """A lab value rounded as a report would show it, without its unit."""
    decimals = 2 if lab == "d_dimer" and value < 1 else _DECIMALS[lab]
    return f"{value:.{decimals}f}"


def format_value(lab: str, value: float) -> str:
    """A lab value rounded as a report would show it, with its unit."""
    return f"{_number(lab, value)} {LAB_NAMES[lab][1]}"


def _day_word(days: float) -> str:
    days = round(days, 2)
    whole = round(days)
    if abs(days - whole) < 1e-9:
        return f"{whole} day" + ("" if whole == 1 else "s")
    return f"{days:g} days"


def _relation(lab, value, age_days):
    low, high = labs.reference_limits(lab, age_days)
    name = LAB_NAMES[lab][1]
    if value < low:
        return f"below the lower limit for age of {_number(lab, float(low))} {name}"
    if value > high:
        return f"above the upper limit for age of {_number(lab, float(high))} {name}"
    return "within the range for age"


def describe_course(result, lab: str, start_day: float | None = None, end_day: float | None = None) -> str:
    """One or two sentences on how ``lab`` changed between two days.

    Parameters
    ----------
    result : Result
        A simulated course (:func:`kms_teach.simulate`).
    lab : str
        One of ``platelets, fibrinogen, d_dimer, hemoglobin, pt, aptt``.
    start_day, end_day : float, optional
        The window (defaults: the whole course).

    Examples
    --------
    "Platelets fell from 330 to 21 x10^9/L over 30 days, below the lower limit
    for age of 150 x10^9/L."
    """
    if lab not in LAB_NAMES:
        raise ValueError(f"unknown lab {lab!r}; valid labs: {', '.join(LAB_NAMES)}")
    day = result.day
    start = float(day[0]) if start_day is None else float(start_day)
    end = float(day[-1]) if end_day is None else float(end_day)
    i, j = result.index(start), result.index(end)
    values = np.asarray(getattr(result, lab))
    first, last = float(values[i]), float(values[j])
    name, unit = LAB_NAMES[lab]
    span = _day_word(float(day[j] - day[i]))
    a, b = _number(lab, first), _number(lab, last)
    if i == j:
        sentence = f"{name} stood at {a} {unit} on day {float(day[i]):g}"
    elif a == b:
        sentence = f"{name} stayed at about {a} {unit} over {span}"
    else:
        verb = "rose" if last > first else "fell"
        sentence = f"{name} {verb} from {a} to {b} {unit} over {span}"
    sentence += f", {_relation(lab, last, float(result.age_days[j]))}."
    window = values[min(i, j): max(i, j) + 1]
    if window.size > 2:
        offset = min(i, j)
        k_high, k_low = int(window.argmax()), int(window.argmin())
        high, low = float(window[k_high]), float(window[k_low])
        if high > max(first, last) and _number(lab, high) != _number(lab, max(first, last)):
            sentence += f" It peaked at {_number(lab, high)} {unit} on day {float(day[offset + k_high]):g}."
        if low < min(first, last) and _number(lab, low) != _number(lab, min(first, last)):
            sentence += f" It reached a low of {_number(lab, low)} {unit} on day {float(day[offset + k_low]):g}."
    return sentence


def describe_standard_care(case) -> str:
    """A sentence naming the treatment every infant with this case receives, or ''."""
    from .treatments import load_treatments, parse_treatment

    if not case.standard_care:
        return ""
    catalogue = load_treatments()
    parts = []
    for spec in case.standard_care:
        event = parse_treatment(spec)
        parts.append(f"{catalogue[event.name].label.lower()} from day {event.start_day:g}")
    return f"Treated with {' and '.join(parts)}. "


def describe_panel(panel: "labs.LabPanel") -> str:
    """Summarise a lab panel: the abnormal results first, in words."""
    abnormal = [r for r in panel if r.flag]
    if not abnormal:
        return f"At {panel.age_days:g} days of age every test is within the range for age."
    parts = [f"{r.label} {_panel_value(r)} ({r.flag_text})" for r in abnormal]
    normal = [r.label for r in panel if not r.flag]
    text = f"At {panel.age_days:g} days of age: " + "; ".join(parts) + "."
    if normal:
        text += " Within the range for age: " + ", ".join(normal) + "."
    return text


def _panel_value(result) -> str:
    value = result.value
    decimals = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    return f"{value:,.{decimals}f} {result.unit}"


def describe_day(result, day: float) -> str:
    """Summary of the lab panel on one day of a course."""
    i = result.index(day)
    return f"Day {float(result.day[i]):g}. " + describe_panel(result.lab_panel(day))

"""Patient cases: the infants a learner follows, read from ``assets/cases``.

A case is a YAML file naming the infant's age and weight, the driving process
(a vascular tumour, sepsis, antibodies or nothing), how active it is and when,
any parameter that differs from the defaults, a narrative and citations.
Any function that takes a case accepts a built-in name (``"khe-kms"``) or the
path of a case file an educator wrote.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from ._assets import AssetError, assets_dir, line_of, read_yaml, require, with_lines
from .parameters import load_parameters

__all__ = ["Case", "Activity", "load_case", "case_names", "list_cases", "DRIVERS", "STARTING_STATES",
           "CASE_FIELDS", "ACTIVITY_FIELDS"]

#: What the case's "activity" stands for.
DRIVERS = {
    "tumour": "a vascular tumour (KHE, TA, RICH) trapping platelets and consuming clotting factors",
    "systemic": "a body-wide process (sepsis) consuming platelets and clotting factors",
    "immune": "antibodies removing platelets (ITP, NAIT)",
    "none": "no consumptive process",
}
#: How the pools start on day 0.
STARTING_STATES = {
    "equilibrium": "every pool in balance with the activity on day 0 (an established process)",
    "healthy": "normal values for age (the process begins later)",
    "birth": "a newborn: platelets and clotting already in balance with the process, red cells as at birth",
}


@dataclass(frozen=True)
class Activity:
    """How active the driving process is over time.

    Attributes
    ----------
    severity : float
        Activity at full development (1.0 = reference untreated KMP), dimensionless.
    onset_day : float
        Day (relative to day 0; negative means before) at which activity is half developed.
    rise_days : float
        Days over which activity rises from about 12% to 88%.
    involution_day : float or None
        Day from which the process wanes by itself (None: it does not).
    involution_half_life_days : float
        Half-life of that waning, days.
    """

    severity: float
    onset_day: float = -30.0
    rise_days: float = 5.0
    involution_day: float | None = None
    involution_half_life_days: float = 7.0


@dataclass(frozen=True)
class Case:
    """One patient case (see ``assets/cases/*.yaml``)."""

    name: str
    title: str
    description: str
    diagnosis: str
    driver: str
    age_days: float
    weight_kg: float
    narrative: str
    starting_state: str
    activity: Activity
    parameters: dict = field(default_factory=dict)
    teaching_points: tuple = ()
    citations: tuple = ()
    path: str = ""
    #: Treatment every infant with this case receives (for sepsis: antibiotics and intensive care),
    #: added to any plan a learner makes.
    standard_care: tuple = ()


def _cases_dir() -> Path:
    return assets_dir() / "cases"


def case_names() -> list[str]:
    """Names of the built-in cases, sorted."""
    return sorted(p.stem for p in _cases_dir().glob("*.yaml"))


def list_cases() -> list[Case]:
    """Every built-in case, loaded and validated."""
    return [load_case(name) for name in case_names()]


def load_case(name_or_path: str | Path) -> Case:
    """Load a case by built-in name or from a YAML file path.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the built-in cases).
    AssetError
        For an unreadable or invalid file, naming the file, case and field.
    """
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith((".yaml", ".yml")) or candidate.is_file():
        return _load(candidate.resolve())
    # one stat for a known name; the folder is listed only to word the error
    if "/" in text or "\\" in text or text.startswith(".") or not (_cases_dir() / f"{text}.yaml").is_file():
        raise ValueError(f"unknown case {text!r}; valid cases: {', '.join(case_names())}")
    return _load_builtin(text)


def _load_builtin(name: str) -> Case:
    path = _cases_dir() / f"{name}.yaml"
    return _load_cached(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, _mtime_ns: int) -> Case:
    # keyed on the file's modification time, so an educator's edit shows up in a running kernel
    return _load(Path(path))


#: Every key a case file may hold. A key not listed is refused (a misspelt optional key would
#: otherwise do nothing, silently). Add new optional fields here, with their checks in _load.
CASE_FIELDS = (
    "name", "title", "description", "diagnosis", "driver", "age_days", "weight_kg",
    "starting_state", "narrative", "activity", "parameters", "teaching_points", "citations", "standard_care",
)
#: Every key a case's ``activity`` block may hold: the fields of :class:`Activity`.
ACTIVITY_FIELDS = tuple(f.name for f in fields(Activity))


def _number(mapping, key, path, item, *, low=-math.inf, high=math.inf, default=...):
    value = require(mapping, key, float, path=path, item=item, default=default)
    if value is None:
        return None
    if not (math.isfinite(value) and low <= value <= high):
        raise AssetError(path, f"must lie between {low:g} and {high:g}, not {value:g}", item=item, field=key,
                         line=line_of(mapping, key))
    return value


def _choice(mapping, key, choices, path, item):
    value = require(mapping, key, str, path=path, item=item)
    if value not in choices:
        raise AssetError(path, f"must be one of {', '.join(choices)}, not {_short(value)}", item=item, field=key,
                         line=line_of(mapping, key))
    return value


def _text(mapping, key, path, item, *, default=...):
    value = require(mapping, key, str, path=path, item=item, default=default)
    if isinstance(value, str) and not value.strip():
        raise AssetError(path, "must not be empty", item=item, field=key, line=line_of(mapping, key))
    return value


def _reject_unknown(mapping, allowed, path, item, where=""):
    for key in mapping:
        if key not in allowed:
            raise AssetError(path, f"unknown field {_short(key)}; valid fields: {', '.join(allowed)}",
                             item=item, field=f"{where}{key}", line=line_of(mapping, key))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@with_lines  # every AssetError names its line
def _load(path: Path) -> Case:
    data = read_yaml(path)  # the safe loader: no aliases, bounded size and depth, no nan/inf
    if not isinstance(data, dict):
        raise AssetError(path, "must be a mapping of case fields", line=1)
    item = path.stem  # a valid case's name; named so even when the name in the file is wrong
    _reject_unknown(data, CASE_FIELDS, path, item)
    name = require(data, "name", str, path=path, item=item)
    if name != path.stem:  # the name is how lessons, questions and work-ups find the file
        raise AssetError(path, f"must equal the file name {path.stem!r}, not {_short(name)}", item=item,
                         field="name", line=line_of(data, "name"))
    act = require(data, "activity", dict, path=path, item=item)
    _reject_unknown(act, ACTIVITY_FIELDS, path, item, "activity.")
    where = f"{item} activity"
    activity = Activity(
        severity=_number(act, "severity", path, where, low=0, high=5),
        onset_day=_number(act, "onset_day", path, where, low=-3650, high=3650, default=-30.0),
        rise_days=_number(act, "rise_days", path, where, low=0.1, high=365, default=5.0),
        involution_day=_number(act, "involution_day", path, where, low=-3650, high=3650, default=None),
        involution_half_life_days=_number(act, "involution_half_life_days", path, where, low=0.1, high=3650, default=7.0),
    )
    overrides = require(data, "parameters", dict, path=path, item=item, default={})
    table = load_parameters()
    for key, value in overrides.items():
        if key not in table:
            raise AssetError(path, f"unknown parameter {_short(key)}; valid: {', '.join(table)}", item=item,
                             field="parameters", line=line_of(overrides, key))
        p = table[key]
        _number(overrides, key, path, f"{item} parameters", low=p.low, high=p.high)
    citations = require(data, "citations", list, path=path, item=item)
    if not citations or not all(isinstance(c, str) and c.strip() for c in citations):
        raise AssetError(path, "must be a non-empty list of citation strings", item=item, field="citations",
                         line=line_of(data, "citations"))
    points = require(data, "teaching_points", list, path=path, item=item, default=[])
    if not all(isinstance(p, str) and p.strip() for p in points):
        raise AssetError(path, "must be a list of text", item=item, field="teaching_points",
                         line=line_of(data, "teaching_points"))
    standard_care = require(data, "standard_care", list, path=path, item=item, default=[])
    from .treatments import parse_treatment  # late: treatments does not depend on cases
    for spec in standard_care:
        try:
            parse_treatment(spec)
        except ValueError as exc:
            raise AssetError(path, str(exc), item=item, field="standard_care",
                             line=line_of(data, "standard_care")) from None
    return Case(
        name=name,
        title=_text(data, "title", path, item),
        description=_text(data, "description", path, item),
        diagnosis=_text(data, "diagnosis", path, item),
        driver=_choice(data, "driver", DRIVERS, path, item),
        age_days=_number(data, "age_days", path, item, low=0, high=3650),
        weight_kg=_number(data, "weight_kg", path, item, low=0.3, high=50),
        narrative=" ".join(_text(data, "narrative", path, item).split()),
        starting_state=_choice(data, "starting_state", STARTING_STATES, path, item),
        activity=activity,
        parameters={k: float(v) for k, v in overrides.items()},
        teaching_points=tuple(points),
        citations=tuple(citations),
        path=str(path),
        standard_care=tuple(standard_care),
    )

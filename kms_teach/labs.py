"""Age-specific reference ranges, unit conversion and flagged laboratory panels.

A result only means something next to the range for the infant's age:
a newborn's aPTT is longer than an adult's, haemoglobin falls to a
physiological low at about two months, and D-dimer runs high for the first
months of life. This module reads the ranges from
``assets/reference_ranges.yaml`` and uses them to flag simulated results.

Reference ranges differ between laboratories, analysers and reagents, so the
figures here are teaching values, not limits to apply to a real patient.

Units
-----
Values passed in and returned by the range functions are in the model's
internal units:

=============  ===============
analyte        internal unit
=============  ===============
platelets      ×10^9/L
hemoglobin     g/dL
pt             s
aptt           s
fibrinogen     g/L
d_dimer        mg/L FEU
=============  ===============

Panels are shown in one of two display systems. ``"SI"`` shows haemoglobin
in g/L and everything else in the internal unit; ``"conventional"`` shows
platelets per µL, haemoglobin in g/dL, fibrinogen in mg/dL and D-dimer in
ng/mL FEU.

Between the published ages, limits are interpolated linearly; before the first
and after the last published age the nearest values are held flat.

A range is marked *approximate* when any published value it rests on is
tagged M (not yet checked against the published table: approximate) or D (derived),
or when it is interpolated between two published ages whose limits differ,
because an interpolated limit is itself a derived number. Interpolating
between two equal verified limits derives nothing, so it does not count.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._assets import AssetError, assets_dir, read_yaml, require, with_lines

__all__ = [
    "ANALYTES",
    "UNIT_SYSTEMS",
    "EVIDENCE_TAGS",
    "AnalyteRanges",
    "CriticalLimit",
    "ReferenceRange",
    "LabResult",
    "LabPanel",
    "load_reference_ranges",
    "reload_reference_ranges",
    "reference_range",
    "expected_value",
    "reference_limits",
    "convert",
    "to_internal",
    "display_unit",
    "flag",
    "lab_panel",
]

#: Analyte keys in panel order.
ANALYTES: tuple[str, ...] = ("platelets", "hemoglobin", "pt", "aptt", "fibrinogen", "d_dimer")
#: Accepted values of the ``units`` argument.
UNIT_SYSTEMS: tuple[str, ...] = ("SI", "conventional")
#: Evidence tags of the medical reference pack (same meaning as in parameters.py).
EVIDENCE_TAGS: dict[str, str] = {
    "V": "verified in a located source",
    "M": "not yet checked against the published table: approximate",
    "D": "derived (arithmetic or an assumption), not a published value",
}

FILENAME = "reference_ranges.yaml"

# The simulation and the conversion factors below assume these units, so the
# YAML file must state them; a silently changed unit would shift every flag.
_INTERNAL_UNIT = {
    "platelets": "×10^9/L",
    "hemoglobin": "g/dL",
    "pt": "s",
    "aptt": "s",
    "fibrinogen": "g/L",
    "d_dimer": "mg/L FEU",
}

# (factor from internal unit, display unit, decimals shown in the text table)
_DISPLAY: dict[str, dict[str, tuple[float, str, int]]] = {
    "SI": {
        "platelets": (1.0, "×10^9/L", 0),
        "hemoglobin": (10.0, "g/L", 0),
        "pt": (1.0, "s", 1),
        "aptt": (1.0, "s", 1),
        "fibrinogen": (1.0, "g/L", 2),
        "d_dimer": (1.0, "mg/L FEU", 2),
    },
    "conventional": {
        "platelets": (1000.0, "/µL", 0),
        "hemoglobin": (1.0, "g/dL", 1),
        "pt": (1.0, "s", 1),
        "aptt": (1.0, "s", 1),
        "fibrinogen": (100.0, "mg/dL", 0),
        "d_dimer": (1000.0, "ng/mL FEU", 0),
    },
}

_FLAG_WORDS = {"": "", "L": "low", "H": "high", "LL": "critically low", "HH": "critically high"}

_ANALYTE_FIELDS = ("label", "unit", "citation", "note", "critical_low", "critical_high", "points")
_POINT_FIELDS = ("age_days", "mean", "low", "high", "evidence", "citation")
_CRITICAL_FIELDS = ("value", "citation", "evidence")
_EVIDENCE_PARTS = ("mean", "low", "high")


# --------------------------------------------------------------------------
# Loaded tables
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CriticalLimit:
    """A critical (panic) limit in internal units, with its source.

    Attributes
    ----------
    value : float
        Threshold in the analyte's internal unit.
    citation : str
        Where the number comes from.
    evidence : str
        ``"V"``, ``"M"`` or ``"D"`` (see :data:`EVIDENCE_TAGS`).
    """

    value: float
    citation: str
    evidence: str


@dataclass(frozen=True, eq=False)
class AnalyteRanges:
    """The validated reference table of one analyte, as read from the YAML file.

    Arrays are read-only and share one index: point ``i`` was published for
    age ``ages[i]`` days. All values are in the internal unit ``unit``.

    Attributes
    ----------
    analyte, label, unit, citation, note : str
        Identity, display name, internal unit, main source and teaching note.
    ages, mean, low, high : numpy.ndarray
        Published ages (days, strictly increasing) and the mean and limits.
    mean_evidence, low_evidence, high_evidence : tuple of str
        Evidence tag of each published value.
    point_citations : tuple of str
        Source of each published point.
    critical_low, critical_high : CriticalLimit or None
        Optional critical limits.
    """

    analyte: str
    label: str
    unit: str
    citation: str
    note: str
    ages: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    mean_evidence: tuple[str, ...]
    low_evidence: tuple[str, ...]
    high_evidence: tuple[str, ...]
    point_citations: tuple[str, ...]
    critical_low: CriticalLimit | None
    critical_high: CriticalLimit | None


def load_reference_ranges(path: str | Path | None = None) -> Mapping[str, AnalyteRanges]:
    """Read and validate a reference-range file.

    Parameters
    ----------
    path : str or Path, optional
        File to read. By default ``reference_ranges.yaml`` in
        :func:`kms_teach._assets.assets_dir`, which is read once and cached
        (see :func:`reload_reference_ranges`). An explicit path is always
        read afresh and does not affect the other functions.

    Returns
    -------
    Mapping[str, AnalyteRanges]
        Read-only mapping from analyte key to its table, in panel order.

    Raises
    ------
    AssetError
        If the file is missing or invalid; the message names the file, the
        analyte and the field at fault.
    """
    if path is None:
        return _default_ranges()
    return _parse(Path(path))


def reload_reference_ranges() -> Mapping[str, AnalyteRanges]:
    """Forget the cached default file and read it again (after editing it).

    Returns
    -------
    Mapping[str, AnalyteRanges]
        The freshly validated tables; all functions of this module use them.
    """
    _default_ranges.cache_clear()
    return _default_ranges()


@functools.lru_cache(maxsize=1)
def _default_ranges() -> Mapping[str, AnalyteRanges]:
    # Cached without checking the disk: locating the file costs ~50 us, far
    # more than the interpolation the simulation asks for. An AssetError is
    # not cached, so a fixed file is picked up on the next call.
    return _parse(assets_dir() / FILENAME)


@with_lines  # every AssetError names its line
def _parse(path: Path) -> Mapping[str, AnalyteRanges]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise AssetError(path, "must be a mapping with one entry per analyte: " + ", ".join(ANALYTES))
    for key in data:
        if key not in ANALYTES:
            raise AssetError(path, "unknown analyte; valid names are " + ", ".join(ANALYTES), item=str(key))
    tables = {}
    for analyte in ANALYTES:
        if analyte not in data:
            raise AssetError(path, "analyte is missing from the file", item=analyte)
        tables[analyte] = _parse_analyte(path, analyte, data[analyte])
    return MappingProxyType(tables)


def _parse_analyte(path: Path, analyte: str, entry: Any) -> AnalyteRanges:
    if not isinstance(entry, dict):
        raise AssetError(path, "must be a mapping of fields (label, unit, points, ...)", item=analyte)
    _reject_unknown(entry, _ANALYTE_FIELDS, path, analyte, None)

    label = require(entry, "label", str, path=path, item=analyte)
    unit = require(entry, "unit", str, path=path, item=analyte)
    if unit != _INTERNAL_UNIT[analyte]:
        raise AssetError(
            path,
            f"must be {_INTERNAL_UNIT[analyte]!r}, the unit the simulation uses (found {unit!r})",
            item=analyte,
            field="unit",
        )
    citation = require(entry, "citation", str, path=path, item=analyte)
    note = require(entry, "note", str, path=path, item=analyte, default="")
    points = require(entry, "points", list, path=path, item=analyte)
    if not points:
        raise AssetError(path, "must list at least one age", item=analyte, field="points")

    cols: dict[str, list[Any]] = {k: [] for k in ("age_days", "mean", "low", "high", "ev", "cite")}
    for i, point in enumerate(points):
        where = f"points[{i}]"
        if not isinstance(point, dict):
            raise AssetError(
                path, "must be a mapping with age_days, mean, low, high, evidence", item=analyte, field=where
            )
        _reject_unknown(point, _POINT_FIELDS, path, analyte, where)
        age, mean, low, high = (_number(point, f, path, analyte, where) for f in ("age_days", "mean", "low", "high"))
        if low > high:
            raise AssetError(path, f"low ({low:g}) is greater than high ({high:g})", item=analyte, field=f"{where}.low")
        if not low <= mean <= high:
            raise AssetError(
                path, f"mean ({mean:g}) lies outside low-high ({low:g}-{high:g})", item=analyte, field=f"{where}.mean"
            )
        if cols["age_days"] and age <= cols["age_days"][-1]:
            raise AssetError(
                path,
                f"ages must be strictly increasing, but {age:g} follows {cols['age_days'][-1]:g}",
                item=analyte,
                field=f"{where}.age_days",
            )
        cols["age_days"].append(age)
        cols["mean"].append(mean)
        cols["low"].append(low)
        cols["high"].append(high)
        cols["ev"].append(_evidence(point.get("evidence"), path, analyte, f"{where}.evidence"))
        cols["cite"].append(_field(point, "citation", str, path, analyte, where, default=citation))

    crit = {}
    for side in ("critical_low", "critical_high"):
        raw = entry.get(side)
        if raw is None:
            crit[side] = None
            continue
        if not isinstance(raw, dict):
            raise AssetError(path, "must be a mapping with value, citation, evidence", item=analyte, field=side)
        _reject_unknown(raw, _CRITICAL_FIELDS, path, analyte, side)
        crit[side] = CriticalLimit(
            value=_number(raw, "value", path, analyte, side),
            citation=_field(raw, "citation", str, path, analyte, side),
            evidence=_evidence(raw.get("evidence"), path, analyte, f"{side}.evidence", single=True),
        )
    # A critical limit inside the normal range would flag healthy values as
    # critical at some age.
    if crit["critical_low"] is not None and crit["critical_low"].value > min(cols["low"]):
        raise AssetError(
            path,
            f"must not exceed the lowest reference limit ({min(cols['low']):g})",
            item=analyte,
            field="critical_low.value",
        )
    if crit["critical_high"] is not None and crit["critical_high"].value < max(cols["high"]):
        raise AssetError(
            path,
            f"must not be below the highest reference limit ({max(cols['high']):g})",
            item=analyte,
            field="critical_high.value",
        )

    return AnalyteRanges(
        analyte=analyte,
        label=label,
        unit=unit,
        citation=citation,
        note=note.strip(),
        ages=_frozen(cols["age_days"]),
        mean=_frozen(cols["mean"]),
        low=_frozen(cols["low"]),
        high=_frozen(cols["high"]),
        mean_evidence=tuple(e["mean"] for e in cols["ev"]),
        low_evidence=tuple(e["low"] for e in cols["ev"]),
        high_evidence=tuple(e["high"] for e in cols["ev"]),
        point_citations=tuple(cols["cite"]),
        critical_low=crit["critical_low"],
        critical_high=crit["critical_high"],
    )


def _field(mapping, field, kinds, path, item, where, **kwargs):
    """:func:`require`, but report the field with its position (``points[2].mean``)."""
    try:
        return require(mapping, field, kinds, path=path, item=item, **kwargs)
    except AssetError as exc:
        raise AssetError(exc.path, exc.message, item=exc.item, field=f"{where}.{field}") from None


def _number(mapping, field, path, item, where) -> float:
    value = _field(mapping, field, float, path, item, where)
    if not math.isfinite(value) or value < 0:
        raise AssetError(path, f"must be a finite number >= 0, not {value!r}", item=item, field=f"{where}.{field}")
    return value


def _evidence(raw, path, item, field, single=False) -> Any:
    tags = "V (verified), M (approximate, not re-checked) or D (derived)"
    if raw is None:
        raise AssetError(path, f"is missing; use {tags}", item=item, field=field)
    per_value = isinstance(raw, dict) and not single
    if per_value:
        if set(raw) != set(_EVIDENCE_PARTS):
            raise AssetError(
                path, "a per-value evidence mapping needs exactly mean, low and high", item=item, field=field
            )
        parts = {k: raw[k] for k in _EVIDENCE_PARTS}
    else:
        parts = {k: raw for k in _EVIDENCE_PARTS}
    for key, tag in parts.items():
        if not isinstance(tag, str) or tag not in EVIDENCE_TAGS:
            sub = f"{field}.{key}" if per_value else field
            raise AssetError(path, f"unknown evidence tag {tag!r}; use {tags}", item=item, field=sub)
    return parts["mean"] if single else parts


def _reject_unknown(mapping, allowed, path, item, where) -> None:
    # A misspelt optional field (e.g. "critcal_low") would otherwise vanish silently.
    for key in mapping:
        if key not in allowed:
            field = str(key) if where is None else f"{where}.{key}"
            raise AssetError(path, "unknown field; allowed fields are " + ", ".join(allowed), item=item, field=field)


def _frozen(values: list[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    arr.setflags(write=False)
    return arr


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def _table(analyte: str) -> AnalyteRanges:
    if not isinstance(analyte, str) or analyte not in ANALYTES:
        raise ValueError(f"unknown analyte {analyte!r}; valid names are " + ", ".join(ANALYTES))
    return _default_ranges()[analyte]


def _check_units(units: str) -> str:
    if units not in UNIT_SYSTEMS:
        raise ValueError(f"unknown units {units!r}; use " + " or ".join(repr(u) for u in UNIT_SYSTEMS))
    return units


def _ages(age_days: ArrayLike) -> np.ndarray:
    ages = np.asarray(age_days, dtype=float)
    if not (np.all(np.isfinite(ages)) and np.all(ages >= 0)):
        shown = f"{float(ages)!r}" if ages.ndim == 0 else "an array containing such a value"
        raise ValueError(f"age_days must be finite and >= 0, got {shown}")
    return ages


def _scalar_age(age_days: float) -> float:
    if np.ndim(age_days) != 0:
        raise ValueError("age_days must be a single number here, not an array")
    return float(_ages(age_days))


def _check_value(analyte: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)) or np.ndim(value) != 0:
        raise TypeError(f"{analyte}: value must be a single number, not {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{analyte}: value is NaN (not a number)")
    if value < 0 or math.isinf(value):
        raise ValueError(f"{analyte}: value must be finite and >= 0, got {value!r}")
    return value


def _scalar_or_array(result: Any) -> float | np.ndarray:
    return float(result) if np.ndim(result) == 0 else result


# --------------------------------------------------------------------------
# Ranges
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceRange:
    """The reference range of one analyte at one age, in internal units.

    Attributes
    ----------
    analyte : str
        Analyte key, one of :data:`ANALYTES`.
    label : str
        Name for display.
    low, high : float
        Lower and upper reference limits (internal unit).
    mean : float
        Expected value for a healthy term infant of this age (internal unit).
    unit : str
        Internal unit.
    critical_low, critical_high : float or None
        Critical limits (internal unit), if any. Every laboratory sets its own.
    approximate : bool
        True if ``low`` or ``high`` rests on a value tagged M or D, or is
        interpolated between published ages with different limits.
    citation : str
        Source(s) of the published points used, separated by "; ".
    mean_approximate : bool
        The same test applied to ``mean`` (e.g. the platelet mean is derived
        although the platelet limits are verified).
    """

    analyte: str
    label: str
    low: float
    high: float
    mean: float
    unit: str
    critical_low: float | None
    critical_high: float | None
    approximate: bool
    citation: str
    mean_approximate: bool = False


def _points_used(ages: np.ndarray, age: float) -> tuple[int, ...]:
    """Indices of the published points that a value at ``age`` is taken from."""
    i = int(np.searchsorted(ages, age, side="right"))  # ages[i-1] <= age < ages[i]
    if i == 0:
        return (0,)
    if i == len(ages) or ages[i - 1] == age:
        return (i - 1,)
    return (i - 1, i)


def _approximate(values: np.ndarray, evidence: tuple[str, ...], used: tuple[int, ...]) -> bool:
    if any(evidence[j] != "V" for j in used):
        return True
    return len(used) == 2 and bool(values[used[0]] != values[used[1]])


def reference_range(analyte: str, age_days: float) -> ReferenceRange:
    """Return the reference range of ``analyte`` for an infant ``age_days`` old.

    Parameters
    ----------
    analyte : str
        One of :data:`ANALYTES`.
    age_days : float
        Postnatal age in days (>= 0).

    Returns
    -------
    ReferenceRange
        Limits and mean in the internal unit.

    Raises
    ------
    ValueError
        For an unknown analyte (the message lists the valid names) or a
        negative or non-finite age.
    """
    t = _table(analyte)
    age = _scalar_age(age_days)
    used = _points_used(t.ages, age)
    citations = tuple(dict.fromkeys(t.point_citations[j] for j in used))
    return ReferenceRange(
        analyte=analyte,
        label=t.label,
        low=float(np.interp(age, t.ages, t.low)),
        high=float(np.interp(age, t.ages, t.high)),
        mean=float(np.interp(age, t.ages, t.mean)),
        unit=t.unit,
        critical_low=None if t.critical_low is None else t.critical_low.value,
        critical_high=None if t.critical_high is None else t.critical_high.value,
        approximate=_approximate(t.low, t.low_evidence, used) or _approximate(t.high, t.high_evidence, used),
        citation="; ".join(citations),
        mean_approximate=_approximate(t.mean, t.mean_evidence, used),
    )


def expected_value(analyte: str, age_days: ArrayLike) -> float | np.ndarray:
    """Expected (mean) value of ``analyte`` in a healthy term infant.

    Parameters
    ----------
    analyte : str
        One of :data:`ANALYTES`.
    age_days : float or array_like
        Postnatal age(s) in days (>= 0).

    Returns
    -------
    float or numpy.ndarray
        Mean for age in the internal unit; a float for a scalar age, an array
        of the same shape for an array of ages.
    """
    t = _table(analyte)
    return _scalar_or_array(np.interp(_ages(age_days), t.ages, t.mean))


def reference_limits(analyte: str, age_days: ArrayLike) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Lower and upper reference limits for age, e.g. to shade a normal band.

    Parameters
    ----------
    analyte : str
        One of :data:`ANALYTES`.
    age_days : float or array_like
        Postnatal age(s) in days (>= 0).

    Returns
    -------
    (low, high) : tuple of float or numpy.ndarray
        Limits in the internal unit, shaped like ``age_days``.
    """
    t = _table(analyte)
    ages = _ages(age_days)
    return (
        _scalar_or_array(np.interp(ages, t.ages, t.low)),
        _scalar_or_array(np.interp(ages, t.ages, t.high)),
    )


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------


def display_unit(analyte: str, units: str) -> str:
    """Unit string of ``analyte`` in display system ``units`` (``"SI"`` or ``"conventional"``)."""
    _table(analyte)
    return _DISPLAY[_check_units(units)][analyte][1]


def convert(analyte: str, value: ArrayLike, units: str) -> float | np.ndarray:
    """Convert from the internal unit to display system ``units``.

    Parameters
    ----------
    analyte : str
        One of :data:`ANALYTES`.
    value : float or array_like
        Value(s) in the internal unit (see the module docstring).
    units : {"SI", "conventional"}
        Display system.

    Returns
    -------
    float or numpy.ndarray
        Value(s) in :func:`display_unit`; e.g. platelets 22 (×10^9/L) become
        22000 /µL, fibrinogen 0.8 g/L becomes 80 mg/dL.
    """
    _table(analyte)
    factor = _DISPLAY[_check_units(units)][analyte][0]
    return _scalar_or_array(np.asarray(value, dtype=float) * factor)


def to_internal(analyte: str, value: ArrayLike, units: str) -> float | np.ndarray:
    """Inverse of :func:`convert`: display system ``units`` back to the internal unit."""
    _table(analyte)
    factor = _DISPLAY[_check_units(units)][analyte][0]
    return _scalar_or_array(np.asarray(value, dtype=float) / factor)


# --------------------------------------------------------------------------
# Flags and panels
# --------------------------------------------------------------------------


def _flag_for(rng: ReferenceRange, value: float) -> str:
    # Critical limits first: "LL" says more than "L".
    if rng.critical_low is not None and value < rng.critical_low:
        return "LL"
    if rng.critical_high is not None and value > rng.critical_high:
        return "HH"
    if value < rng.low:
        return "L"
    if value > rng.high:
        return "H"
    return ""


def flag(analyte: str, value: float, age_days: float) -> str:
    """Flag one result against the range for age.

    Parameters
    ----------
    analyte : str
        One of :data:`ANALYTES`.
    value : float
        Result in the internal unit.
    age_days : float
        Postnatal age in days.

    Returns
    -------
    str
        ``""`` within range, ``"L"``/``"H"`` outside it, ``"LL"``/``"HH"``
        beyond a critical limit. Limits themselves count as within range.
    """
    return _flag_for(reference_range(analyte, age_days), _check_value(analyte, value))


@dataclass(frozen=True)
class LabResult:
    """One flagged result, in display units.

    Attributes
    ----------
    analyte, label : str
        Analyte key and display name.
    value : float
        Result in ``unit``.
    unit : str
        Display unit.
    low, high : float
        Reference limits for age in ``unit``.
    flag : str
        ``""``, ``"L"``, ``"H"``, ``"LL"`` (critically low) or ``"HH"`` (critically high).
    approximate : bool
        The reference range is approximate (see :class:`ReferenceRange`).
    citation : str
        Source of the reference range.
    """

    analyte: str
    label: str
    value: float
    unit: str
    low: float
    high: float
    flag: str
    approximate: bool
    citation: str

    @property
    def flag_text(self) -> str:
        """The flag in words: "", "low", "high", "critically low" or "critically high"."""
        return _FLAG_WORDS[self.flag]


class LabPanel(Sequence):
    """An immutable, ordered set of :class:`LabResult` for one infant and time.

    Index by position (``panel[0]``) or by analyte key
    (``panel["fibrinogen"]``). ``repr`` and ``str`` give the plain-text table
    of :meth:`to_text`.

    Parameters
    ----------
    results : iterable of LabResult
        At most one result per analyte.
    units : {"SI", "conventional"}
        Display system the results are expressed in.
    age_days : float
        Postnatal age in days.
    """

    __slots__ = ("_results", "_index", "_units", "_age_days")

    def __init__(self, results: Iterable[LabResult], units: str, age_days: float):
        results = tuple(results)
        index = {r.analyte: i for i, r in enumerate(results)}
        if len(index) != len(results):
            raise ValueError("a panel holds at most one result per analyte")
        self._results = results
        self._index = index
        self._units = _check_units(units)
        self._age_days = float(age_days)

    @property
    def units(self) -> str:
        """Display system, ``"SI"`` or ``"conventional"``."""
        return self._units

    @property
    def age_days(self) -> float:
        """Postnatal age in days."""
        return self._age_days

    def __len__(self) -> int:
        return len(self._results)

    def __iter__(self) -> Iterator[LabResult]:
        return iter(self._results)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self._index:
                present = ", ".join(self._index) or "none"
                raise KeyError(f"{key!r} is not in this panel (present: {present})")
            return self._results[self._index[key]]
        if isinstance(key, slice):
            return LabPanel(self._results[key], self._units, self._age_days)
        return self._results[key]

    def __contains__(self, item) -> bool:
        if isinstance(item, str):
            return item in self._index
        return item in self._results

    def __eq__(self, other) -> bool:
        if not isinstance(other, LabPanel):
            return NotImplemented
        return (self._results, self._units, self._age_days) == (other._results, other._units, other._age_days)

    def __hash__(self) -> int:
        return hash((self._results, self._units, self._age_days))

    def as_dicts(self) -> list[dict[str, Any]]:
        """Results as plain dicts (dataclass fields plus ``flag_text``)."""
        return [{**asdict(r), "flag_text": r.flag_text} for r in self._results]

    def to_text(self) -> str:
        """Fixed-width plain-text table; the same panel always gives the same text."""
        header = ("Test", "Result", "Unit", "Flag", "Reference range")
        rows = []
        for r in self._results:
            decimals = _DISPLAY[self._units][r.analyte][2]
            fmt = functools.partial(_format_number, decimals=decimals)
            flag_cell = f"{r.flag:<2} {r.flag_text}" if r.flag else ""
            span = ("~" if r.approximate else "") + f"{fmt(r.low)}–{fmt(r.high)}"
            rows.append((r.label, fmt(r.value), r.unit, flag_cell, span))
        widths = [max(len(row[c]) for row in (header, *rows)) for c in range(len(header))]

        def line(cells):
            padded = [cell.rjust(w) if c == 1 else cell.ljust(w) for c, (cell, w) in enumerate(zip(cells, widths))]
            return "  ".join(padded).rstrip()

        out = [f"Lab panel: age {self._age_days:g} days, {self._units} units", line(header)]
        out.append("-" * len(out[-1]))
        out.extend(line(row) for row in rows)
        if not rows:
            out.append("(no results)")
        if any(r.approximate for r in self._results):
            out.append("~ approximate range (a limit not yet checked against its published table, or interpolated between published ages)")
        out.append("Flags compare the unrounded result, so a value shown on a limit may still be flagged.")
        out.append("Reference ranges and critical limits depend on the laboratory; use the range on the report.")
        return "\n".join(out)

    __str__ = to_text

    def __repr__(self) -> str:
        return self.to_text()


def _format_number(x: float, decimals: int) -> str:
    return f"{x:,.{decimals}f}"


def lab_panel(values: Mapping[str, float], age_days: float, units: str = "SI") -> LabPanel:
    """Flag a set of results against the ranges for age and express them in ``units``.

    Parameters
    ----------
    values : Mapping[str, float]
        Results in the internal unit, keyed by analyte. Analytes that are
        absent or ``None`` are left out of the panel; keys that are not
        analytes are ignored.
    age_days : float
        Postnatal age in days (>= 0).
    units : {"SI", "conventional"}, default "SI"
        Display system.

    Returns
    -------
    LabPanel
        Results in panel order (:data:`ANALYTES`). Flags are decided in the
        internal unit, so display rounding never changes a flag.

    Raises
    ------
    ValueError
        Unknown ``units`` (message lists both systems), a bad age, or a
        value that is NaN, infinite or negative (message names the analyte).
    TypeError
        A value that is not a single number.
    """
    units = _check_units(units)
    age = _scalar_age(age_days)
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a mapping of analyte to value, not {type(values).__name__}")
    results = []
    for analyte in ANALYTES:
        if values.get(analyte) is None:
            continue
        value = _check_value(analyte, values[analyte])
        rng = reference_range(analyte, age)
        factor, unit, _ = _DISPLAY[units][analyte]
        results.append(
            LabResult(
                analyte=analyte,
                label=rng.label,
                value=value * factor,
                unit=unit,
                low=rng.low * factor,
                high=rng.high * factor,
                flag=_flag_for(rng, value),
                approximate=rng.approximate,
                citation=rng.citation,
            )
        )
    return LabPanel(results, units, age)

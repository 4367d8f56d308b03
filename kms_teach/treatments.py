"""What each treatment does to the model over time.

The catalogue lives in ``assets/treatments.yaml``. A learner's plan is a list
of :class:`TreatmentEvent` (a treatment name, a start day and an optional stop
day), written on the command line as ``NAME`` or ``NAME@DAY``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ._assets import AssetError, assets_dir, read_yaml, require, with_lines

__all__ = [
    "shift_plan",
    "Treatment",
    "TreatmentEvent",
    "UnknownTreatmentError",
    "load_treatments",
    "treatment_names",
    "parse_treatment",
    "as_events",
    "POOLS",
    "NAMED_PLANS",
]

KINDS = ("drug", "procedure", "transfusion", "anticoagulant")
KINETICS = ("literature", "illustrative")
#: Pools a transfusion may add to, with the unit of the added amount.
POOLS = {
    "platelets": "x10^9/L",
    "fibrinogen": "g/L",
    "factors": "fraction of normal",
    "hemoglobin": "g/dL",
}


class UnknownTreatmentError(ValueError):
    """A treatment name that the catalogue does not hold."""


@dataclass(frozen=True)
class Treatment:
    """One entry of the treatment catalogue (see ``assets/treatments.yaml``).

    Attributes
    ----------
    potency : float
        Natural-log reduction of tumour activity at full effect (0 for none).
    onset_days, offset_days : float
        Time constants (days) of the effect's rise after starting and its
        decline after stopping.
    duration_days : float or None
        How long one use acts (None: until stopped).
    regression : float
        Rate (per day) at which the treatment at full effect makes the tumour
        regress; it works only where it outpaces the tumour's regrowth.
    acts_on : tuple of str
        Case drivers the treatment acts on (``tumour``; ``systemic`` for
        antibiotics in sepsis).
    adds : dict
        Immediate rise per dose unit (for example per mL/kg), keyed by pool
        (see :data:`POOLS`).
    dose_unit : str
        Unit of a transfusion's dose (``mL/kg`` or ``units/10 kg``); empty for drugs.
    usual_dose : tuple of float
        The usual paediatric dose range, in ``dose_unit``.
    default_dose : float
        The dose given when a plan names none.
    daily_limit : float
        The module's own teaching ceiling per day, in ``dose_unit`` (not a clinical rule).
    """

    name: str
    kind: str
    label: str
    description: str
    dose: str
    citation: str
    evidence: str
    kinetics: str
    harms: str
    potency: float = 0.0
    onset_days: float = 1.0
    offset_days: float = 1.0
    duration_days: float | None = None
    removes_tumour: bool = False
    adds: Mapping[str, float] = field(default_factory=dict)
    swelling_amount: float = 0.0
    swelling_days: float = 1.0
    swelling_max: float = 0.0
    regression: float = 0.0
    acts_on: tuple = ("tumour",)
    dose_unit: str = ""
    usual_dose: tuple = ()
    default_dose: float = 0.0
    daily_limit: float = 0.0
    consumption_reduction: float = 0.0
    bleeding_multiplier: float = 1.0

    @property
    def acts_on_tumour(self) -> bool:
        """True when the treatment lowers tumour activity (drugs and procedures)."""
        return self.potency > 0 or self.regression > 0 or self.removes_tumour


@dataclass(frozen=True)
class TreatmentEvent:
    """A treatment given from ``start_day`` (day 0 is the case's start).

    ``stop_day`` ends a drug (its effect then wanes) or, for a transfusion
    repeated ``every_hours``, ends the repeats (no dose on or after it).
    ``dose`` is a transfusion's dose in its ``dose_unit`` or a drug's share of
    the standard regimen (1.0 = full dose); ``None`` means the default.
    """

    name: str
    start_day: float = 0.0
    stop_day: float | None = None
    dose: float | None = None
    every_hours: float | None = None

    def __str__(self) -> str:
        text = f"{self.name}@{self.start_day:g}"
        if self.stop_day is not None:
            text = f"{text}-{self.stop_day:g}"
        if self.dose is not None:
            catalogue = dict(_default_catalogue())
            unit = catalogue[self.name].dose_unit if self.name in catalogue else ""
            text += f":{self.dose:g}{unit.replace(' ', '')}" if unit else f":{100 * self.dose:g}%"
        if self.every_hours is not None:
            text += f":every{self.every_hours:g}h"
        return text

    def dose_text(self, weight_kg: float) -> str:
        """A transfusion's dose in words with its volume for this infant, e.g. '10 mL/kg (45 mL for 4.5 kg)'."""
        catalogue = dict(_default_catalogue())
        tr = catalogue[self.name]
        if tr.kind != "transfusion":
            return "" if self.dose is None else f"{100 * self.dose:g}% of the standard regimen"
        dose = tr.default_dose if self.dose is None else self.dose
        if tr.dose_unit == "mL/kg":
            return f"{dose:g} mL/kg ({dose * weight_kg:.0f} mL for {weight_kg:g} kg)"
        return f"{dose:g} {tr.dose_unit} ({dose * weight_kg / 10:.1f} units for {weight_kg:g} kg)"

    def dose_days(self) -> list[float]:
        """Days on which a transfusion is given (one, or each repeat before ``stop_day``)."""
        if self.every_hours is None or self.stop_day is None:
            return [self.start_day]
        step = self.every_hours / 24.0
        count = int(math.floor((self.stop_day - self.start_day) / step - 1e-9)) + 1
        return [self.start_day + i * step for i in range(count)]


def load_treatments(path: str | Path | None = None) -> dict[str, Treatment]:
    """Read and validate a treatment catalogue (the module's own by default).

    Raises
    ------
    AssetError
        Naming the file, the treatment and the field at fault.
    """
    if path is None:
        return dict(_default_catalogue())
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _default_catalogue() -> tuple[tuple[str, Treatment], ...]:
    return tuple(_load(assets_dir() / "treatments.yaml").items())


def treatment_names() -> list[str]:
    """Names of all treatments, in catalogue order."""
    return [name for name, _ in _default_catalogue()]


def _nonnegative(entry, name, field_, path, default=...):
    value = require(entry, field_, float, path=path, item=name, default=default)
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise AssetError(path, f"must be a number >= 0, not {value!r}", item=name, field=field_)
    return value


def _positive(entry, name, field_, path, default=...):
    value = _nonnegative(entry, name, field_, path, default)
    if value is not None and value <= 0:
        raise AssetError(path, "must be greater than 0", item=name, field=field_)
    return value


@with_lines  # every AssetError names its line
def _load(path: Path) -> dict[str, Treatment]:
    data = read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise AssetError(path, "must be a mapping of treatment names to entries")
    catalogue = {}
    for name, entry in data.items():
        name = str(name)
        if not isinstance(entry, dict):
            raise AssetError(path, "must be a mapping of fields", item=name)
        kind = require(entry, "kind", str, path=path, item=name)
        if kind not in KINDS:
            raise AssetError(path, f"must be one of {', '.join(KINDS)}, not {kind!r}", item=name, field="kind")
        kinetics = require(entry, "kinetics", str, path=path, item=name)
        if kinetics not in KINETICS:
            raise AssetError(path, f"must be one of {', '.join(KINETICS)}, not {kinetics!r}", item=name, field="kinetics")
        adds = require(entry, "adds", dict, path=path, item=name, default={})
        for pool, amount in adds.items():
            if pool not in POOLS:
                raise AssetError(path, f"unknown pool {pool!r}; valid: {', '.join(POOLS)}", item=name, field="adds")
            _nonnegative(adds, name, pool, path)
        swelling = require(entry, "swelling", dict, path=path, item=name, default={})
        removes = require(entry, "removes_tumour", bool, path=path, item=name, default=False)
        acts_on = require(entry, "acts_on", list, path=path, item=name, default=["tumour"])
        if not acts_on or not all(a in ("tumour", "systemic", "immune") for a in acts_on):
            raise AssetError(path, "must list drivers from: tumour, systemic, immune", item=name, field="acts_on")
        dosing = _dosing(entry, name, path, kind)
        treatment = Treatment(
            name=name,
            kind=kind,
            label=require(entry, "label", str, path=path, item=name),
            description=require(entry, "description", str, path=path, item=name),
            dose=require(entry, "dose", str, path=path, item=name),
            citation=require(entry, "citation", str, path=path, item=name),
            evidence=require(entry, "evidence", str, path=path, item=name),
            kinetics=kinetics,
            harms=require(entry, "harms", str, path=path, item=name),
            potency=_nonnegative(entry, name, "potency", path, default=0.0),
            onset_days=_positive(entry, name, "onset_days", path, default=1.0),
            offset_days=_positive(entry, name, "offset_days", path, default=1.0),
            duration_days=_positive(entry, name, "duration_days", path, default=None),
            removes_tumour=removes,
            adds={str(k): float(v) for k, v in adds.items()},
            swelling_amount=_nonnegative(swelling, name, "amount", path, default=0.0),
            swelling_days=_positive(swelling, name, "days", path, default=1.0),
            swelling_max=_nonnegative(swelling, name, "max", path, default=0.0),
            regression=_nonnegative(entry, name, "regression", path, default=0.0),
            acts_on=tuple(acts_on),
            **dosing,
            consumption_reduction=_nonnegative(entry, name, "consumption_reduction", path, default=0.0),
            bleeding_multiplier=_nonnegative(entry, name, "bleeding_multiplier", path, default=1.0),
        )
        if treatment.consumption_reduction > 1:
            raise AssetError(path, "must lie between 0 and 1", item=name, field="consumption_reduction")
        if kind in ("drug", "procedure") and not treatment.acts_on_tumour:
            raise AssetError(path, "a drug or procedure needs a potency > 0 or removes_tumour: true", item=name, field="potency")
        if kind == "transfusion" and not adds:
            raise AssetError(path, "a transfusion must add to at least one pool", item=name, field="adds")
        catalogue[name] = treatment
    return catalogue


DOSE_UNITS = ("mL/kg", "units/10 kg")


def _dosing(entry, name, path, kind) -> dict:
    """A transfusion's dose unit, usual range, default and the module's daily limit."""
    if kind != "transfusion":
        return {}
    unit = require(entry, "dose_unit", str, path=path, item=name)
    if unit not in DOSE_UNITS:
        raise AssetError(path, f"must be one of {', '.join(DOSE_UNITS)}, not {unit!r}", item=name, field="dose_unit")
    usual = require(entry, "usual_dose", list, path=path, item=name)
    if len(usual) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1e3 for v in usual) \
            or usual[0] > usual[1]:
        raise AssetError(path, "must be [low, high], two positive numbers", item=name, field="usual_dose")
    default = _positive(entry, name, "default_dose", path)
    limit = _positive(entry, name, "daily_limit", path)
    if not usual[0] <= default <= usual[1] <= limit:
        raise AssetError(path, "the default dose must lie in the usual range, and the daily limit at or above it",
                         item=name, field="default_dose")
    return {"dose_unit": unit, "usual_dose": (float(usual[0]), float(usual[1])),
            "default_dose": default, "daily_limit": limit}


def _unknown(name: str) -> UnknownTreatmentError:
    return UnknownTreatmentError(
        f"unknown treatment {name!r}; valid treatments: {', '.join(treatment_names())}"
    )


_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_DAYS = re.compile(rf"^(?P<start>{_NUMBER})(?:\s*-\s*(?P<stop>{_NUMBER}))?$")
_EVERY = re.compile(rf"^every\s*(?P<n>{_NUMBER})\s*(?P<unit>h|d)$", re.I)
_DOSE = re.compile(rf"^(?P<n>{_NUMBER})\s*(?P<unit>%|ml/kg|units?/10\s*kg)?$", re.I)
_SYNTAX = ("NAME, NAME@DAY or NAME@START-STOP, then optional ':DOSE' and ':everyNh' "
           "(e.g. sirolimus@0, prednisolone@0-28:50%, platelet-transfusion@3:10mL/kg, "
           "cryoprecipitate@0-4:1.5:every12h)")
#: Longest dosing interval that still counts as repeated dosing, hours.
_MAX_EVERY_HOURS = 24 * 28


def parse_treatment(spec: str) -> TreatmentEvent:
    """Parse a plan entry such as ``sirolimus@0`` or ``platelet-transfusion@0-5:10mL/kg:every12h``.

    Parameters
    ----------
    spec : str
        ``NAME`` (from day 0), ``NAME@DAY`` or ``NAME@START-STOP``, optionally
        followed by ``:DOSE`` (a transfusion's dose in its unit, e.g. ``10mL/kg``,
        or a drug's share of the standard regimen, e.g. ``50%``) and, for
        transfusions, ``:everyNh`` (repeat every N hours until the stop day).

    Raises
    ------
    UnknownTreatmentError
        If the name is not in the catalogue (the message lists valid names).
    ValueError
        For a malformed day, dose or interval, naming the syntax.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty treatment; expected {_SYNTAX}, got {spec!r}")
    head, *options = [part.strip() for part in spec.strip().split(":")]
    name, sep, days = head.partition("@")
    name = name.strip()
    if name not in treatment_names():
        raise _unknown(name)
    treatment = dict(_default_catalogue())[name]
    start, stop = 0.0, None
    if sep:
        match = _DAYS.match(days.strip())
        if not match:
            raise ValueError(f"malformed treatment {spec!r}: the day after '@' must be a number >= 0; expected {_SYNTAX}")
        start = float(match["start"])
        stop = float(match["stop"]) if match["stop"] is not None else None
        if stop is not None and stop <= start:
            raise ValueError(f"malformed treatment {spec!r}: the stop day must come after the start day")
    dose = every = None
    for option in options:
        every_match, dose_match = _EVERY.match(option), _DOSE.match(option)
        if every_match and every is None:
            every = float(every_match["n"]) * (24.0 if every_match["unit"].lower() == "d" else 1.0)
        elif dose_match and dose is None:
            dose = _dose(spec, treatment, float(dose_match["n"]), (dose_match["unit"] or "").lower())
        else:
            raise ValueError(f"malformed treatment {spec!r}: cannot read {option!r}; expected {_SYNTAX}")
    if treatment.kind == "transfusion":
        if (stop is None) != (every is None):
            raise ValueError(f"malformed treatment {spec!r}: a repeated transfusion needs both a stop day and "
                             "':everyNh' (e.g. platelet-transfusion@0-5:every12h)")
        if every is not None and not 1 <= every <= _MAX_EVERY_HOURS:
            raise ValueError(f"malformed treatment {spec!r}: the interval must be 1 to {_MAX_EVERY_HOURS} hours")
    elif every is not None:
        raise ValueError(f"malformed treatment {spec!r}: ':every' applies to transfusions only; "
                         f"{name} is given continuously from its start day to its stop day")
    return TreatmentEvent(name, start, stop, dose, every)


def _dose(spec, treatment: Treatment, value: float, unit: str) -> float:
    unit = unit.replace(" ", "")
    if treatment.kind == "transfusion":
        wanted = treatment.dose_unit.lower().replace(" ", "")
        if unit not in ("", wanted, wanted.replace("units", "unit")):
            raise ValueError(f"malformed treatment {spec!r}: {treatment.name} is dosed in {treatment.dose_unit}")
        if not 0 < value <= treatment.daily_limit:
            raise ValueError(
                f"treatment {spec!r}: a dose of {value:g} {treatment.dose_unit} is outside 0-{treatment.daily_limit:g}; "
                f"the usual dose is {treatment.usual_dose[0]:g}-{treatment.usual_dose[1]:g} {treatment.dose_unit}")
        return value
    if treatment.kind == "drug" and unit in ("%", ""):
        share = value / 100.0 if unit == "%" else value
        if not 0 < share <= 1.0:
            raise ValueError(f"treatment {spec!r}: a drug's dose is a share of the standard regimen, "
                             "from 1% to 100% (e.g. :50% during a taper)")
        return share
    raise ValueError(f"malformed treatment {spec!r}: {treatment.name} takes no dose")


#: Named plans: a name that stands for several entries, accepted wherever a treatment is.
NAMED_PLANS = {
    # Ji 2022's regimen: sirolimus for at least 12 months with a short course of prednisolone. The
    # trial's abstract gives no prednisolone dose or taper; 2 mg/kg/day for 4 weeks and then half
    # the dose for 2 weeks is approximate (Ji 2020 gives 2 mg/kg/day, tapered as soon as feasible).
    "ji2022-combination": ("sirolimus@0-365", "prednisolone@0-28", "prednisolone@28-42:50%"),
}


def as_events(treatments: Iterable[str | TreatmentEvent] | str | None) -> tuple[TreatmentEvent, ...]:
    """Normalise a plan given as strings and/or events into validated events."""
    if treatments is None:
        return ()
    if isinstance(treatments, (str, TreatmentEvent)):
        treatments = [treatments]
    events = []
    for item in treatments:
        if isinstance(item, TreatmentEvent):
            if item.name not in treatment_names():
                raise _unknown(item.name)
            if not (math.isfinite(item.start_day) and item.start_day >= 0):
                raise ValueError(f"treatment {item.name!r}: start day must be a number >= 0")
            events.append(parse_treatment(str(item)))
        elif isinstance(item, str) and item.strip() in NAMED_PLANS:
            events.extend(parse_treatment(spec) for spec in NAMED_PLANS[item.strip()])
        else:
            events.append(parse_treatment(item))
    return tuple(events)


def shift_plan(plan: Iterable[str], offset_days: float) -> tuple[str, ...]:
    """Move a plan written from a decision day (day 0) onto a case's own timeline.

    ``shift_plan(["sirolimus@0-30"], 14)`` gives ``("sirolimus@14-44",)``.
    """
    if offset_days == 0:
        return tuple(plan)
    shifted = []
    for spec in plan:
        event = parse_treatment(spec)
        stop = None if event.stop_day is None else event.stop_day + offset_days
        shifted.append(str(TreatmentEvent(event.name, event.start_day + offset_days, stop, event.dose, event.every_hours)))
    return tuple(shifted)

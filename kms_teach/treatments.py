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
    adds : dict
        Immediate rise per standard dose, keyed by pool (see :data:`POOLS`).
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
    consumption_reduction: float = 0.0
    bleeding_multiplier: float = 1.0

    @property
    def acts_on_tumour(self) -> bool:
        """True when the treatment lowers tumour activity (drugs and procedures)."""
        return self.potency > 0 or self.removes_tumour


@dataclass(frozen=True)
class TreatmentEvent:
    """A treatment given from ``start_day`` (day 0 is the case's start).

    ``stop_day`` ends a drug early (its effect then wanes); transfusions and
    procedures are single events and ignore it.
    """

    name: str
    start_day: float = 0.0
    stop_day: float | None = None

    def __str__(self) -> str:
        text = f"{self.name}@{self.start_day:g}"
        return text if self.stop_day is None else f"{text}-{self.stop_day:g}"


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


def _unknown(name: str) -> UnknownTreatmentError:
    return UnknownTreatmentError(
        f"unknown treatment {name!r}; valid treatments: {', '.join(treatment_names())}"
    )


_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_DAYS = re.compile(rf"^(?P<start>{_NUMBER})(?:\s*-\s*(?P<stop>{_NUMBER}))?$")


def parse_treatment(spec: str) -> TreatmentEvent:
    """Parse ``NAME``, ``NAME@DAY`` or ``NAME@START-STOP`` into an event.

    Parameters
    ----------
    spec : str
        For example ``"sirolimus"`` (from day 0), ``"platelet-transfusion@3"``
        or ``"prednisolone@0-28"`` (days 0 to 28).

    Raises
    ------
    UnknownTreatmentError
        If the name is not in the catalogue (the message lists valid names).
    ValueError
        If the day part is not a number >= 0 or the stop precedes the start.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty treatment; expected NAME or NAME@DAY, got {spec!r}")
    name, sep, days = spec.strip().partition("@")
    name = name.strip()
    if name not in treatment_names():
        raise _unknown(name)
    if not sep:
        return TreatmentEvent(name)
    match = _DAYS.match(days.strip())
    if not match:
        raise ValueError(
            f"malformed treatment {spec!r}: the day after '@' must be a number >= 0 "
            "(NAME@DAY or NAME@START-STOP, e.g. sirolimus@0 or prednisolone@0-28)"
        )
    start = float(match["start"])
    stop = float(match["stop"]) if match["stop"] is not None else None
    if stop is not None and stop <= start:
        raise ValueError(f"malformed treatment {spec!r}: the stop day must come after the start day")
    return TreatmentEvent(name, start, stop)


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
            events.append(item)
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
        shifted.append(str(TreatmentEvent(event.name, event.start_day + offset_days, stop)))
    return tuple(shifted)

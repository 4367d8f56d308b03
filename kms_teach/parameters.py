"""The model's parameter table, read from ``assets/parameters.yaml``.

Every default lives in that one file with its unit, plausible range, plain
label, evidence tag and citation, so sliders, the model and the documentation
cannot disagree.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ._assets import AssetError, assets_dir, read_yaml, require, with_lines

__all__ = [
    "Parameter",
    "load_parameters",
    "default_parameters",
    "resolve_parameters",
    "EVIDENCE_TAGS",
]

EVIDENCE_TAGS = {
    "V": "verified in a located source",
    "M": "from memory in the source pack: approximate",
    "D": "derived or calibrated for this model",
}


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes
    ----------
    name : str
        Identifier used in code, case files and the command line.
    value : float
        Default value, in ``unit``.
    unit : str
        Unit of ``value`` and of the range.
    low, high : float
        Plausible range; sliders and case files must stay inside it.
    label : str
        Plain-language description for learners and educators.
    evidence : str
        ``V``, ``M`` or ``D`` (see :data:`EVIDENCE_TAGS`).
    citation : str
        Where the number comes from.
    note : str
        Optional remark for reviewers.
    """

    name: str
    value: float
    unit: str
    low: float
    high: float
    label: str
    evidence: str
    citation: str
    note: str = ""


def load_parameters(path: str | Path | None = None) -> dict[str, Parameter]:
    """Read and validate a parameter table.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file laid out like ``assets/parameters.yaml``; the module's own
        table by default.

    Returns
    -------
    dict of str to Parameter
        In file order.

    Raises
    ------
    AssetError
        Naming the file, the parameter and the field at fault.
    """
    if path is None:
        return dict(_default_table())
    return _load(Path(path))


@functools.lru_cache(maxsize=1)
def _default_table() -> tuple[tuple[str, Parameter], ...]:
    return tuple(_load(assets_dir() / "parameters.yaml").items())


@with_lines  # every AssetError names its line
def _load(path: Path) -> dict[str, Parameter]:
    data = read_yaml(path)
    if not isinstance(data, dict) or not data:
        raise AssetError(path, "must be a mapping of parameter names to entries")
    table = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise AssetError(path, "must be a mapping with value, unit, range, ...", item=name)
        value = require(entry, "value", float, path=path, item=name)
        rng = require(entry, "range", list, path=path, item=name)
        if len(rng) != 2 or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in rng
        ):
            raise AssetError(path, f"must be [low, high] numbers, not {rng!r}", item=name, field="range")
        low, high = float(rng[0]), float(rng[1])
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise AssetError(path, f"low must not exceed high: {rng!r}", item=name, field="range")
        if not (math.isfinite(value) and low <= value <= high):
            raise AssetError(path, f"{value:g} lies outside the range [{low:g}, {high:g}]", item=name, field="value")
        evidence = require(entry, "evidence", str, path=path, item=name)
        if evidence not in EVIDENCE_TAGS:
            raise AssetError(path, f"must be one of {', '.join(EVIDENCE_TAGS)}, not {evidence!r}", item=name, field="evidence")
        table[str(name)] = Parameter(
            name=str(name),
            value=value,
            unit=require(entry, "unit", str, path=path, item=name),
            low=low,
            high=high,
            label=require(entry, "label", str, path=path, item=name),
            evidence=evidence,
            citation=require(entry, "citation", str, path=path, item=name),
            note=require(entry, "note", str, path=path, item=name, default=""),
        )
    return table


def default_parameters() -> dict[str, float]:
    """Return ``{name: default value}`` for every model parameter."""
    return {name: p.value for name, p in _default_table()}


def resolve_parameters(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Defaults updated with ``overrides``, each checked against its range.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid names) or a value
        outside the parameter's declared range.
    """
    table = dict(_default_table())
    values = {name: p.value for name, p in table.items()}
    for name, value in (overrides or {}).items():
        if name not in table:
            raise ValueError(
                f"unknown parameter {name!r}; valid names: {', '.join(table)}"
            )
        p = table[name]
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {name!r} must be a number, not {value!r}") from None
        if not (math.isfinite(value) and p.low <= value <= p.high):
            raise ValueError(
                f"parameter {name!r} = {value:g} {p.unit} is outside its range "
                f"[{p.low:g}, {p.high:g}]"
            )
        values[name] = value
    return values

"""Locate and read the plain-text content files in ``assets/``.

Educators edit these files, so every problem is reported as an
:class:`AssetError` that names the file, the item and the field, never as a
bare traceback from the YAML parser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import yaml

__all__ = ["AssetError", "assets_dir", "read_yaml", "require"]


class AssetError(ValueError):
    """A content file is missing, unreadable or holds an invalid value.

    Parameters
    ----------
    path : str or Path
        The file at fault.
    message : str
        What is wrong, in plain words.
    item : str, optional
        The item (parameter, case, treatment, question id) at fault.
    field : str, optional
        The field within the item.
    line : int, optional
        1-based line number in the file, when known.
    """

    def __init__(self, path, message, item=None, field=None, line=None):
        self.path = str(path)
        self.item = item
        self.field = field
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        parts = [where]
        if self.item is not None:
            parts.append(str(self.item))
        if self.field is not None:
            parts.append(str(self.field))
        parts.append(self.message)
        return ": ".join(parts)


def assets_dir() -> Path:
    """Return the folder that holds the module's content files.

    ``KMS_TEACH_ASSETS`` overrides the location (educators may keep an
    adapted copy); otherwise the copy installed inside the package is used,
    falling back to the ``assets/`` folder of a source checkout.
    """
    override = os.environ.get("KMS_TEACH_ASSETS")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    installed = here / "assets"
    if (installed / "parameters.yaml").is_file():
        return installed
    return here.parent / "assets"


def read_yaml(path: Path) -> Any:
    """Parse one YAML file, turning every failure into an :class:`AssetError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssetError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AssetError(path, f"cannot be read ({exc.__class__.__name__}: {exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise AssetError(path, f"not valid YAML: {problem}", line=line) from None


def require(
    mapping: Mapping[str, Any],
    field: str,
    kinds: type | tuple[type, ...],
    *,
    path: Path,
    item: str,
    default: Any = ...,
) -> Any:
    """Fetch ``mapping[field]`` and check its type, or raise :class:`AssetError`.

    ``bool`` is never accepted where a number is expected, because YAML reads
    ``yes``/``no`` as booleans and a silent 1.0 would be a wrong dose.
    """
    if field not in mapping or mapping[field] is None:
        if default is not ...:
            return default
        raise AssetError(path, "is missing", item=item, field=field)
    value = mapping[field]
    kinds_tuple = kinds if isinstance(kinds, tuple) else (kinds,)
    numeric = any(k in (int, float) for k in kinds_tuple)
    if isinstance(value, bool) and bool not in kinds_tuple:
        ok = False
    elif numeric and isinstance(value, (int, float)):
        ok = True
        value = float(value) if float in kinds_tuple else value
    else:
        ok = isinstance(value, kinds_tuple)
    if not ok:
        names = " or ".join(_kind_name(k) for k in kinds_tuple)
        raise AssetError(
            path, f"must be {names}, not {value!r}", item=item, field=field
        )
    return value


def _kind_name(kind: type) -> str:
    return {
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a mapping",
        bool: "true or false",
    }.get(kind, kind.__name__)

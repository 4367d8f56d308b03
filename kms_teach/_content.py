"""Helpers shared by the loaders of content files (questions, workups).

Files are read by the one safe loader, :func:`kms_teach._assets.load_content`,
which also gives the line of every value, so every problem can be reported as
``file:line: item: field: message``; JSON Schema errors are turned into plain
words here. Pure Python: no plotting, no widgets.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

__all__ = ["RAW_HTML", "line_for", "missing_field", "schema_message"]

# Raw HTML, entities, script-capable addresses, unsafe MathJax commands, invisible characters:
# the renderer neutralises them, but a content file should not hold them at all. ``search``
# returns a finding whose ``reason`` is the message (see kms_teach.markup.content_problem).
from .markup import UNSAFE_CONTENT as RAW_HTML  # noqa: E402


def line_for(lines: Mapping[tuple, int], path: Sequence) -> int:
    """Line of ``path`` in a file's line map, or of its nearest enclosing value that has one."""
    path = tuple(path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def missing_field(error) -> str | None:
    if error.validator == "required":
        match = re.match(r"'([^']+)' is a required property", error.message)
        return match.group(1) if match else None
    if error.validator == "additionalProperties":
        match = re.search(r"\('([^']+)'", error.message)
        return match.group(1) if match else None
    return None


def schema_message(error) -> str:
    v = error.validator
    if v == "required":
        return "is missing"
    if v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        return f"unknown field {', '.join(extra)}; see docs/question-format.md"
    if v == "enum":
        return f"must be one of {', '.join(map(str, error.validator_value))}, not {error.instance!r}"
    if v == "type":
        names = {"string": "text", "number": "a number", "integer": "a whole number", "array": "a list",
                 "object": "a mapping", "boolean": "true or false"}
        want = error.validator_value
        want = [want] if isinstance(want, str) else want
        return f"must be {' or '.join(names.get(w, w) for w in want)}, not {_short(error.instance)}"
    if v == "pattern":
        return f"{_short(error.instance)} does not have the expected form ({error.validator_value})"
    if v in ("minItems", "minLength"):
        return "must not be empty" if error.validator_value == 1 else f"needs at least {error.validator_value}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{error.instance!r} is out of range ({v} {error.validator_value})"
    return error.message[:200]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

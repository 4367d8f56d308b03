"""Helpers shared by the loaders of content files (questions, workups).

Line numbers come from PyYAML's composed node tree, so every problem can be
reported as ``file:line: item: field: message``; JSON Schema errors are turned
into plain words. Pure Python: no plotting, no widgets.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import yaml

__all__ = ["RAW_HTML", "parse_yaml", "line_map", "line_for", "missing_field", "schema_message"]

# libyaml (C) parses the bank about ten times faster than pure Python; both give the same nodes.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str):
    """Parse once: the node tree (for line numbers) and the plain data built from it.

    Raises ``yaml.YAMLError`` for text that is not YAML.
    """
    node = yaml.compose(text, Loader=_Loader)
    if node is None:
        return None, None
    return node, yaml.SafeLoader("").construct_document(node)

# Raw HTML, entities, script-capable addresses, unsafe MathJax commands, invisible characters:
# the renderer neutralises them, but a content file should not hold them at all. ``search``
# returns a finding whose ``reason`` is the message (see kms_teach.markup.content_problem).
from .markup import UNSAFE_CONTENT as RAW_HTML  # noqa: E402


def line_map(node, path=(), out=None) -> dict[tuple, int]:
    """Map every path in a composed YAML node tree to its 1-based line."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[path + (k,)] = key.start_mark.line + 1
            line_map(value, path + (k,), out)
            out[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            line_map(value, path + (i,), out)
    return out


def line_for(lines: Mapping[tuple, int], path: Sequence) -> int:
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

"""Locate and read the plain-text content files in ``assets/``.

Educators edit these files, so every problem is reported as an
:class:`AssetError` that names the file, the item and the field, never as a
bare traceback from the YAML parser.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

__all__ = [
    "AssetError", "Content", "LineDict", "assets_dir", "line_of", "load_content", "parse_content",
    "read_json", "read_text", "read_yaml", "require", "with_lines", "MAX_FILE_BYTES", "MAX_DEPTH", "MAX_VALUES", "MAX_NUMBER",
]


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
    where : tuple, optional
        Path of the value at fault inside the file's data (keys and list
        indices), when the safe loader found it; lets a loader name the item.
    """

    def __init__(self, path, message, item=None, field=None, line=None, where=None):
        self.path = str(path)
        self.item = item
        self.field = field
        self.line = line
        self.message = message
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        parts = [where]
        if self.item is not None:
            parts.append(str(self.item))
        elif self.field is not None:
            parts.append("(file)")  # keep the item slot, so the field is not read as an item
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


# ----------------------------------------------------------------- the one safe loader
#
# Every content file (questions, cases, work-ups, parameters, treatments, reference ranges,
# references, and any later lesson metadata) is read by :func:`load_content`. Plain
# ``yaml.safe_load`` is not enough: it expands aliases (a 726-byte "billion laughs" file hung
# every lesson), keeps the last of two duplicate keys silently, and recurses on deep nesting.
# libyaml (C) builds the node tree, fast and without expanding aliases (an alias is the same
# node object seen twice); one iterative Python walk then refuses what content never needs and
# builds the plain data and the line numbers in the same pass.

#: Largest content file read, in bytes (the biggest shipped file is about 32 KB).
MAX_FILE_BYTES = 1_048_576
#: Deepest nesting of lists and mappings (shipped files nest at most 6 deep).
MAX_DEPTH = 20
#: Most values (keys, scalars, lists and mappings) in one file (the largest shipped file holds 1,770).
MAX_VALUES = 100_000
#: Largest magnitude of a number in content (platelets are in 10^9/L, doses in mg/kg).
MAX_NUMBER = 1e15

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster; same node tree
_Constructor = yaml.constructor.SafeConstructor()
_STR, _INT, _FLOAT, _BOOL, _NULL, _TIME = (
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
)
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_PLAIN_SCALARS = (_STR, _INT, _FLOAT, _BOOL, _NULL, _TIME)
# C0/C1 control characters other than tab and line breaks, and the bidirectional overrides and
# isolates that can make text read differently from what it is (an option label spoofed).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class LineDict(dict):
    """A mapping read from a content file that remembers where its keys are.

    Attributes
    ----------
    line : int
        1-based line where the mapping starts.
    key_lines : dict
        1-based line of each key.
    """

    __slots__ = ("line", "key_lines")


@dataclass
class Content:
    """A content file read by :func:`load_content`.

    Attributes
    ----------
    path : Path
        The file.
    data : object
        Plain data: ``dict`` (a :class:`LineDict`), ``list``, ``str``, ``int``, ``float``,
        ``bool`` or ``None``; dates stay text.
    lines : dict
        1-based line of every path into ``data`` (a tuple of keys and list indices).
    problems : list of AssetError
        Values refused where the rest of the file could still be read (duplicate keys,
        nan/inf, numbers beyond ±1e15, control characters, YAML tags). Each carries ``where``,
        the path of the value, so a caller may drop just the item at fault.
    """

    path: Path
    data: Any
    lines: dict
    problems: list
    #: The text that was parsed (set by :func:`load_content`), e.g. to fingerprint exactly what was read.
    text: str = ""


def load_content(path: str | Path, *, lenient: bool = False) -> Content:
    """Read one content file safely: the one way every content file is read.

    Refused before parsing: anything that is not a regular file, files over
    :data:`MAX_FILE_BYTES`, text that is not UTF-8. Refused while walking the
    tree: YAML aliases (``*name``), nesting deeper than :data:`MAX_DEPTH`, more
    than :data:`MAX_VALUES` values, duplicate keys, keys that are not text,
    YAML tags other than the plain ones (``!!binary``, ``!!set``, ``<<`` merge
    keys, ``!custom``), ``.nan``/``.inf`` and numbers beyond ±:data:`MAX_NUMBER`,
    and control or bidirectional-override characters in text.

    Parameters
    ----------
    path : str or Path
        The file.
    lenient : bool
        If true, value-level problems (see :attr:`Content.problems`) are
        returned instead of raised, so a question bank can leave out only the
        items at fault. Structural problems are always raised.

    Raises
    ------
    AssetError
        Naming the file, the line and, where there is one, the item and field.
    """
    path = Path(path)
    text = _read_text(path)
    content = parse_content(text, path)
    content.text = text
    if content.problems and not lenient:
        raise content.problems[0]
    return content


def read_yaml(path: str | Path) -> Any:
    """The data of one content file (see :func:`load_content`); every problem is an :class:`AssetError`."""
    return load_content(path).data


def read_json(path: str | Path) -> Any:
    """Read a JSON file of the assets (the schemas) with the same size limit, as an :class:`AssetError`."""
    path = Path(path)
    text = _read_text(path)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None) or 1
        raise AssetError(path, f"not valid JSON ({exc.__class__.__name__})", line=line) from None


def read_text(path: str | Path) -> str:
    """Read a file of the assets as text with the content rules: a regular file, at most
    :data:`MAX_FILE_BYTES`, UTF-8; anything else is an :class:`AssetError`."""
    return _read_text(Path(path))


def _read_text(path: Path) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AssetError(path, "cannot be read: file not found", line=1) from None
    except OSError as exc:
        raise AssetError(path, f"cannot be read ({exc.__class__.__name__}: {exc.strerror or exc})", line=1) from None
    if not stat.S_ISREG(info.st_mode):  # a folder, a FIFO (which would block), a device
        raise AssetError(path, "is not a regular file", line=1)
    if info.st_size > MAX_FILE_BYTES:
        raise AssetError(path, f"is too large ({info.st_size} bytes; a content file may hold at most "
                               f"{MAX_FILE_BYTES} bytes)", line=1)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # bounded even if the file grows meanwhile
    except OSError as exc:
        raise AssetError(path, f"cannot be read ({exc.__class__.__name__}: {exc.strerror or exc})", line=1) from None
    if len(raw) > MAX_FILE_BYTES:
        raise AssetError(path, f"is too large (a content file may hold at most {MAX_FILE_BYTES} bytes)", line=1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise AssetError(path, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
                         line=line) from None


def parse_content(text: str, path: str | Path = "<text>") -> Content:
    """Parse content text already read (see :func:`load_content`); value problems are collected."""
    path = Path(path)
    if len(text) > MAX_FILE_BYTES:
        raise AssetError(path, f"is too large (a content file may hold at most {MAX_FILE_BYTES} bytes)", line=1)
    try:
        loader = _Loader(text)
        try:
            root = _compose(loader, path)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = " ".join((getattr(exc, "problem", None) or str(exc)).split())  # one line
        raise AssetError(path, f"not valid YAML: {problem}",
                         line=mark.line + 1 if mark is not None else 1) from None
    except RecursionError:  # the pure-Python parser on very deep nesting (libyaml stops at 1000)
        raise AssetError(path, f"nested deeper than {MAX_DEPTH} levels", line=1) from None
    if root is None:
        return Content(path, None, {(): 1}, [])
    return _Walk(path).run(root)


#: Nesting at which the composer gives up before the walk (which names the item) is reached;
#: a backstop so that no nesting, however deep, reaches a recursive C or Python routine.
_COMPOSE_DEPTH = 5 * MAX_DEPTH


def _compose(loader, path: Path):
    """Build libyaml's node tree from its events with an explicit stack.

    PyYAML's own composer (``get_single_node``) recurses once per level in compiled
    code, which overflows the C stack, and kills the process, on a file nested tens of
    thousands deep (``[[[[...``, ``- - - -``) when the stack is small. Here depth is
    bounded before any recursion can happen; the nodes built are the same as PyYAML's,
    aliases included (the walk refuses those with the item named).
    """
    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        loader.get_event()
        return None
    document = loader.get_event()
    anchors: dict[str, yaml.Node] = {}
    stack: list[tuple[yaml.Node, list]] = []  # open containers and their pending key
    root = None

    def attach(node):
        nonlocal root
        if not stack:
            root = node
            return
        parent, pending = stack[-1]
        if isinstance(parent, yaml.SequenceNode):
            parent.value.append(node)
        elif pending:
            parent.value.append((pending.pop(), node))
        else:
            pending.append(node)

    while True:
        event = loader.get_event()
        if isinstance(event, yaml.DocumentEndEvent):
            break
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                  event.start_mark)
            attach(anchors[event.anchor])
            continue
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node, _ = stack.pop()
            node.end_mark = event.end_mark
            attach(node)
            continue
        tag = event.tag
        if isinstance(event, yaml.ScalarEvent):
            if tag is None or tag == "!":
                tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        else:
            kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
            if tag is None or tag == "!":
                tag = loader.resolve(kind, None, event.implicit)
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if event.anchor is not None:
            anchors[event.anchor] = node
        if isinstance(node, yaml.ScalarNode):
            attach(node)
        else:
            if len(stack) >= _COMPOSE_DEPTH:
                raise AssetError(path, f"nested deeper than {MAX_DEPTH} levels", line=event.start_mark.line + 1)
            stack.append((node, []))
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.get_event()
        raise yaml.composer.ComposerError("expected a single document in the stream", document.start_mark,
                                          "but found another document", event.start_mark)
    return root


class _Walk:
    """One iterative pass over libyaml's node tree, in document order: checks, data and lines.

    A depth-first walk with an explicit stack (no recursion, so no RecursionError); every node
    is visited once, so the work is proportional to the file, whatever aliases it holds.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lines: dict[tuple, int] = {}
        self.problems: list[AssetError] = []
        self.seen: set[int] = set()
        self.count = 0

    def error(self, message, line, where, item):
        name, base = item
        field = ".".join(str(p) for p in where[base:]) or None
        return AssetError(self.path, message, item=name, field=field, line=line, where=tuple(where))

    def run(self, root) -> Content:
        top = (None, 0)
        self.lines[()] = root.start_mark.line + 1
        if not isinstance(root, (yaml.MappingNode, yaml.SequenceNode)):
            return Content(self.path, self.scalar(root, (), top, 1), self.lines, self.problems)
        data = self.container(root, (), top, 1)
        stack = [self.frame(root, data, (), 1, top)]
        while stack:
            children, into, where, depth, item = stack[-1]
            entry = next(children, None)
            if entry is None:
                stack.pop()
                continue
            if isinstance(into, list):
                index, value_node = entry
                here = where + (index,)
                line = value_node.start_mark.line + 1 if id(value_node) not in self.seen else \
                    self.lines.get(here[:-1], 1)
                self.lines[here] = line
            else:
                key_node, value_node = entry
                line = key_node.start_mark.line + 1
                key = self.key(key_node, into, where, item, line)
                if key is None:
                    continue
                here = where + (key,)
                self.lines[here] = line
                into.key_lines[key] = line
            if isinstance(value_node, (yaml.MappingNode, yaml.SequenceNode)):
                value = self.container(value_node, here, item, line)
                if depth + 1 > MAX_DEPTH:
                    raise self.error(f"nested deeper than {MAX_DEPTH} levels", line, here, item)
                stack.append(self.frame(value_node, value, here, depth + 1, item))
            else:
                value = self.scalar(value_node, here, item, line)
            if isinstance(into, list):
                into.append(value)
            else:
                into[key] = value
        return Content(self.path, data, self.lines, self.problems)

    def frame(self, node, into, where, depth, item):
        if isinstance(node, yaml.MappingNode):
            return iter(node.value), into, where, depth, self.item_of(node, where, item)
        return iter(enumerate(node.value)), into, where, depth, item

    @staticmethod
    def item_of(node, where, item):
        """Name problems after the nearest mapping with an ``id`` (the file's ``name`` at the top)."""
        for key, value in node.value:
            if (key.value == "id" or (key.value == "name" and not where)) and \
                    isinstance(value, yaml.ScalarNode) and value.tag == _STR and value.value.strip():
                return (value.value, len(where))
        return item

    def visit(self, node, where, item, line):
        """Count a node, and refuse it if it was met before: that is what an alias is."""
        if id(node) in self.seen:
            raise self.error("uses a YAML alias (*name); aliases and anchors are not allowed in content "
                             "files: write the value out in full", line, where, item)
        self.seen.add(id(node))
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.error(f"holds more than {MAX_VALUES} values", line, where, item)

    def key(self, key_node, into, where, item, line):
        self.visit(key_node, where, item, line)
        if not isinstance(key_node, yaml.ScalarNode):
            self.problems.append(self.error("a key must be plain text, not a list or mapping",
                                            line, where, item))
            return None
        key = key_node.value  # the text as written: `yes:` stays "yes", `1:` stays "1"
        if not key.strip():  # `? ` alone, `"": x`, `~: x`
            self.problems.append(self.error("a key is empty", line, where, item))
            return None
        if key_node.tag == _NULL:
            key = "null"
        if key_node.tag not in _PLAIN_SCALARS:
            message = ("YAML merge keys (<<) are not allowed in content files"
                       if key_node.tag.endswith(":merge") else
                       f"YAML tag {key_node.tag} is not allowed in content files")
            self.problems.append(self.error(message, line, where + (key,), item))
        elif key in into.key_lines:
            self.problems.append(self.error(
                f"duplicate key {key!r} (first given on line {into.key_lines[key]})",
                line, where + (key,), item))
        return key

    def container(self, node, where, item, line):
        self.visit(node, where, item, line)
        if node.tag not in (_MAP, _SEQ):
            self.problems.append(self.error(f"YAML tag {node.tag} is not allowed in content files",
                                            node.start_mark.line + 1, where, item))
        if isinstance(node, yaml.MappingNode):
            data = LineDict()
            data.line = node.start_mark.line + 1
            data.key_lines = {}
            return data
        return []

    def scalar(self, node, where, item, line):
        self.visit(node, where, item, line)
        tag, text = node.tag, node.value
        line = node.start_mark.line + 1
        if tag == _STR or tag == _TIME:  # a date stays the text written
            match = _CONTROL.search(text)
            if match:
                self.problems.append(self.error(
                    f"holds the control character U+{ord(match.group()):04X}; remove it", line, where, item))
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _Constructor.construct_yaml_bool(node)
        if tag == _INT:
            if len(text) > 24:  # also keeps int() away from Python's 4300-digit limit
                self.problems.append(self.error(f"is too large ({text[:12]}...); numbers in content files "
                                                f"stay within ±{MAX_NUMBER:g}", line, where, item))
                return 0
            value = _Constructor.construct_yaml_int(node)
        elif tag == _FLOAT:
            value = _Constructor.construct_yaml_float(node)
            if not math.isfinite(value):
                self.problems.append(self.error(f"must be a finite number, not {text}", line, where, item))
                return 0.0
        else:
            self.problems.append(self.error(f"YAML tag {tag} is not allowed in content files",
                                            line, where, item))
            return None
        if abs(value) > MAX_NUMBER:
            self.problems.append(self.error(f"is too large ({text}); numbers in content files stay within "
                                            f"±{MAX_NUMBER:g}", line, where, item))
            return 0
        return value


def with_lines(load):
    """Decorate a loader so that every :class:`AssetError` it raises carries a line.

    Errors raised with only the item and field (``raise AssetError(path, msg,
    item=name, field="range")``) get the line of that field, else of the item,
    else line 1, looked up in the file's line map (read again only on error).
    """

    @functools.wraps(load)
    def wrapper(*args, **kwargs):
        try:
            return load(*args, **kwargs)
        except AssetError as error:
            if error.line is None:
                error.line = _locate(error)
            raise

    return wrapper


def _locate(error: AssetError) -> int:
    return locate_line(error.path, error.item, error.field)


def locate_line(path, item=None, field=None) -> int:
    """Best-effort 1-based line of ``item``/``field`` in a content file (1 when not found)."""
    try:
        lines = load_content(path, lenient=True).lines
    except AssetError:
        return 1
    keys = [str(k).split()[-1] for k in (item, field) if k]
    found = 1
    for start in (0, 1):  # the item may be a top-level key (parameters) or the file itself (a case)
        for end in range(len(keys), start, -1):  # the field if it is there, else its item
            if tuple(keys[start:end]) in lines:
                found = max(found, lines[tuple(keys[start:end])])
                break
    return found


def line_of(mapping: Any, field: str | None = None) -> int | None:
    """1-based line of ``field`` in a mapping read by :func:`load_content` (of the mapping if absent)."""
    if not isinstance(mapping, LineDict):
        return None
    if field is not None and field in mapping.key_lines:
        return mapping.key_lines[field]
    return mapping.line


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
    ``yes``/``no`` as booleans and a silent 1.0 would be a wrong dose. When
    ``mapping`` was read by :func:`load_content` the error carries the line.
    """
    if field not in mapping or mapping[field] is None:
        if default is not ...:
            return default
        raise AssetError(path, "is missing", item=item, field=field, line=line_of(mapping, field))
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
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise AssetError(
            path, f"must be {names}, not {shown}", item=item, field=field, line=line_of(mapping, field)
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

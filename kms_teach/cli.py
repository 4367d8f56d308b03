"""The ``kms-teach`` command line (also ``python -m kms_teach``).

A stable contract used by lessons' readers, educators and tests:

- ``kms-teach cases`` / ``kms-teach treatments``: names with one-line descriptions.
- ``kms-teach export gift|jupyterquiz|html [--topic T]... [--id ID]... [--difficulty D]...
  [--lesson N] [--n N --seed S] [--bank DIR] [--output FILE] [--answer-key]``
- ``kms-teach quiz [the same selection] (--list | --output QUIZ.ipynb)``
- ``kms-teach check [PATH]...``: one line per problem in content files,
  ``file:line: item: field: message``; exit 1 if any, 0 when clean.
- ``kms-teach simulate CASE [--days N] [--treat NAME[@DAY|@START-STOP]]... [--every HOURS] [--format csv|json]``
- ``kms-teach cohort CASE --n N [--seed S] [--treat NAME[@DAY]]... [--response "platelets>=100@28"]
  [--days N] [--every HOURS] [--format text|csv|json]``
- ``kms-teach voila [NOTEBOOK|FOLDER] [--port P] [--no-browser] [--preheat]``
- ``kms-teach --version``

Error contract: every failure prints exactly one line on stderr,
``kms-teach: error: ...``, naming the argument, file or variable at fault and
the valid choices where there are some, and exits with

- 2 (:data:`EXIT_USAGE`) for bad input: arguments, content files, the
  ``KMS_TEACH_ASSETS`` folder, an ``--output`` path;
- 1 (:data:`EXIT_PROBLEMS`) when the request was understood but could not be
  completed: ``check`` found problems or nothing to check, standard output was
  full or closed, memory ran out, or an unexpected internal error
  (``KMS_TEACH_DEBUG=1`` shows its traceback).

Adding a subcommand: write ``_add_NAME_arguments(parser)`` and
``_run_NAME(args, reply) -> int``, then add one :class:`Command` to
:data:`COMMANDS`. Library errors (``ValueError``, including
:class:`~kms_teach._assets.AssetError`) need no handling in the command: they
reach the user as one line with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ._assets import AssetError

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: Decimal places of each column in CSV and JSON output.
DECIMALS = {"day": 2, "platelets": 1, "fibrinogen": 3, "d_dimer": 2, "hemoglobin": 2, "pt": 1, "aptt": 1}
PERCENTILES = (5, 25, 50, 75, 95)
NOTICE = "Educational use only, not for clinical decisions."

#: Longest course the model simulates, days (``model._MAX_DAYS``; a test keeps them equal).
MAX_DAYS = 3650.0
MAX_COHORT = 200_000
MAX_SEED = 2**32 - 1
#: Longest echo of a user's value inside an error line, characters.
ECHO_LIMIT = 80
#: Seconds Voila gets to stop its kernels after a forwarded SIGINT/SIGTERM before it is killed.
VOILA_STOP_SECONDS = 20.0

#: Names the library uses in its messages -> the flag a command-line user typed.
#: Extend when a command exposes another library argument.
LIBRARY_NAMES_TO_FLAGS = {
    "days": "--days",
    "every_hours": "--every",
    "cohort size": "--n",
    "n": "--n",
    "seed": "--seed",
    "treatments": "--treat",
}


class UsageError(Exception):
    """Bad command-line input; reported as one line with exit status 2."""


class ProblemsFound(Exception):
    """The request was understood but cannot be completed; one line, exit status 1."""


class _HelpShown(Exception):
    """argparse printed help or the version: the text goes to stdout, status 0."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text


class _OutputFailed(Exception):
    """Standard output could not take the result (full disk, closed pipe)."""


@dataclass
class Reply:
    """What a command produces: stdout text and stderr notes, written only on success.

    Buffering both means that a command failing half way prints its one error
    line and nothing else (no partial output, no note before the error).
    """

    out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def write(self, text: str) -> None:
        self.out.append(text)

    def note(self, line: str) -> None:
        self.notes.append(line)


@dataclass(frozen=True)
class Command:
    """One subcommand: its help, its arguments and what it runs.

    Parameters
    ----------
    name : str
        The subcommand (``kms-teach NAME``).
    help : str
        One line for ``kms-teach --help``.
    add_arguments : callable
        ``add_arguments(parser)`` declares the subcommand's arguments.
    run : callable
        ``run(args, reply) -> int``: fills ``reply`` and returns the exit status.
    assets : tuple of str
        Entries the ``KMS_TEACH_ASSETS`` folder must hold for this command
        (folders end in ``/``); checked before ``run`` so that a wrong folder is
        named instead of giving an empty list of choices.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Reply], int]
    assets: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def _print_message(self, message, file=None):  # help and --version: written by main()
        if message:
            raise _HelpShown(message)

    def exit(self, status=0, message=None):  # pragma: no cover - argparse calls it only after printing
        raise _HelpShown(message or "")


def _number_in_range(low_exclusive: float, high: float, what: str, smallest: float = 0.0):
    def parse(text):
        message = f"must be {what}, not {_echo(text)}"
        try:
            value = float(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(message) from None
        if not (math.isfinite(value) and low_exclusive < value <= high and value >= smallest):
            raise argparse.ArgumentTypeError(message)
        return value

    return parse


def _whole_number(low: int, high: int, what: str | None = None):
    what = what or f"a whole number from {low} to {high}"

    def parse(text):
        message = f"must be {what}, not {_echo(text)}"
        try:
            value = int(text)
        except (ValueError, OverflowError):  # also Python's 4300-digit limit
            raise argparse.ArgumentTypeError(message) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(message)
        return value

    return parse


_DURATION_UNITS = {"h": 1 / 24, "d": 1.0, "w": 7.0, "mo": 30.4375, "y": 365.25}


def _with_units(parse, unit_days: float):
    """Accept a length such as ``12w``, ``6mo`` or ``2y`` as well as a bare number in the option's unit."""

    def with_units(text):
        raw = str(text).strip().lower()
        suffix = next((u for u in sorted(_DURATION_UNITS, key=len, reverse=True)
                       if raw.endswith(u) and raw[: -len(u)].strip()), None)
        if suffix is None:
            return parse(text)
        number = raw[: -len(suffix)].strip()
        try:
            value = float(number)
        except (ValueError, OverflowError):
            return parse(text)  # the plain parser words the error
        return parse(repr(value * _DURATION_UNITS[suffix] / unit_days))

    return with_units


_days = _with_units(_number_in_range(0, MAX_DAYS, f"a number greater than 0 and at most {MAX_DAYS:g} days "
                                     "(or with a unit: 12w, 6mo, 2y)"), 1.0)
#: Shortest sampling interval, hours (3.6 s): finer grids only make huge outputs.
MIN_EVERY_HOURS = 0.001
_hours = _with_units(_number_in_range(0, MAX_DAYS * 24, f"a number of hours from {MIN_EVERY_HOURS:g} "
                                      "(greater than 0) or with a unit (1d, 1w)", smallest=MIN_EVERY_HOURS), 1 / 24)
_count = _whole_number(1, MAX_COHORT)
_seed = _whole_number(0, MAX_SEED)
_lesson = _whole_number(0, 6, "a lesson number from 0 to 6")
_port = _whole_number(1, 65535, "a port number from 1 to 65535")


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("kms-teach")
    except (ImportError, PackageNotFoundError, ValueError):  # running from a plain source tree
        from . import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand in :data:`COMMANDS`."""
    parser = _Parser(
        prog="kms-teach",
        description=f"Simulate Kasabach-Merritt phenomenon for teaching. {NOTICE}",
        epilog="Examples: kms-teach cases; kms-teach simulate khe-kms --days 56 --treat sirolimus@0; "
               "kms-teach quiz --lesson 3 --list. Errors print one line and exit 2 (bad input) or 1.",
    )
    parser.add_argument("--version", action="version", version=f"kms-teach {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in COMMANDS.values():
        command.add_arguments(sub.add_parser(command.name, help=command.help, description=command.help))
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(name)
    return None


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    for position, arg in enumerate(argv, start=1):
        if "\x00" in arg:
            raise UsageError(f"argument {position} contains a NUL character: {_echo(arg)}")
    top_options = {o for a in parser._actions for o in a.option_strings}
    for arg in argv:  # options before the subcommand: only the global ones exist
        if not arg.startswith("-") or arg == "--":
            break
        if arg not in top_options:
            raise UsageError(f"unrecognized arguments: {_echo(arg)}; valid options before COMMAND: "
                             f"{', '.join(sorted(top_options))}; commands: {', '.join(COMMANDS)}")
    args, extras = parser.parse_known_args(argv)
    if extras:
        sub = _subparser(parser, getattr(args, "command", None)) or parser
        options = sorted({o for a in sub._actions for o in a.option_strings if o.startswith("--")})
        raise UsageError(f"unrecognized arguments: {_echo(' '.join(extras))}; valid options of "
                         f"'{sub.prog}': {', '.join(options)}")
    return args


# ---------------------------------------------------------------------------
# The one-line contract
# ---------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _echo(value) -> str:
    """``repr`` of a user's value, shortened, for an error line."""
    text = repr(value) if isinstance(value, str) else repr(str(value))
    if len(text) > ECHO_LIMIT:
        text = f"{text[:ECHO_LIMIT - 4]}...' ({len(str(value))} characters)"
    return text


#: A long quoted value without spaces: a user's input echoed by the library.
_LONG_QUOTED = re.compile(r"'[^'\s]{%d,}'" % ECHO_LIMIT)


def _one_line(message) -> str:
    """One printable line: whitespace collapsed, controls escaped, long echoes shortened."""
    text = " ".join(str(message).split())
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    text = _LONG_QUOTED.sub(lambda m: f"{m.group()[:ECHO_LIMIT - 4]}...' ({len(m.group()) - 2} characters)", text)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates from odd argv bytes
    return text if len(text) <= 2000 else text[:1990] + "... (cut)"


def _flag_names(message: str) -> str:
    """Name a library argument by its flag: 'every_hours must be ...' -> 'argument --every: must be ...'."""
    for name, flag in LIBRARY_NAMES_TO_FLAGS.items():
        if message.startswith(name + " "):
            return f"argument {flag}: {message[len(name) + 1:]}"
    return message


def _assets_note(message: str, exc: BaseException | None = None) -> str:
    """Say that a file came from ``KMS_TEACH_ASSETS`` when it did."""
    override = os.environ.get("KMS_TEACH_ASSETS")
    if override and isinstance(exc, AssetError) and _inside(exc.path, override):
        return f"{message} (from KMS_TEACH_ASSETS={override})"
    return message


def _inside(path, folder) -> bool:
    try:
        return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))
    except (OSError, ValueError):
        return False


def _say(stream, line: str) -> None:
    if stream is None:  # file descriptor 2 was closed at start-up
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):  # stderr itself closed or full: nothing more can be done
        pass


def _fail(message, status: int) -> int:
    _say(sys.stderr, f"kms-teach: error: {_one_line(message)}")
    return status


def _emit(stream, text: str) -> None:
    """Write ``text`` to stdout; a full or closed stdout becomes :class:`_OutputFailed`."""
    if not text:
        return
    if stream is None:  # Python found file descriptor 1 closed at start-up
        raise _OutputFailed("standard output is closed; nothing was written")
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        data = text.encode(encoding, "backslashreplace")
    except LookupError:
        data = text.encode("utf-8", "backslashreplace")
    try:
        binary = getattr(stream, "buffer", None)
        if binary is None:
            stream.write(data.decode(encoding, "replace"))
            stream.flush()
            return
        stream.flush()
        # Chunked, checking each count: a BufferedWriter may accept only part of a
        # large write to a pipe and drop the rest without raising.
        view = memoryview(data)
        while view:
            count = binary.write(view[:1 << 16])
            count = len(view[:1 << 16]) if count is None else count
            if count <= 0:
                raise OSError(0, "no progress writing")
            view = view[count:]
        binary.flush()
    except BrokenPipeError:
        _silence(stream)
        raise _OutputFailed("standard output was closed before all output was written (broken pipe); "
                            "the output is incomplete") from None
    except OSError as exc:
        _silence(stream)
        raise _OutputFailed(f"cannot write to standard output: {exc.strerror or exc}; the output is incomplete") from None
    except ValueError:  # a closed file object
        raise _OutputFailed("standard output is closed; nothing was written") from None


def _silence(stream) -> None:
    """Point the real stdout at /dev/null so that Python's exit flush adds no second error."""
    if stream is not sys.__stdout__:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0, 1, 2, or Voila's own)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    reply = Reply()
    try:
        try:
            args = _parse(build_parser(), argv)
        except _HelpShown as shown:
            reply.write(shown.text)
            status = EXIT_OK
        else:
            command = COMMANDS[args.command]
            _check_assets_variable(command)
            status = command.run(args, reply)
    except UsageError as exc:
        return _fail(exc, EXIT_USAGE)
    except ProblemsFound as exc:
        return _fail(exc, EXIT_PROBLEMS)
    except ValueError as exc:  # AssetError included: the library's one-line messages
        return _fail(_assets_note(_flag_names(str(exc)), exc), EXIT_USAGE)
    except OSError as exc:
        where = f": {_echo(exc.filename)}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}", EXIT_USAGE)
    except RecursionError:
        return _fail("a content file is nested too deeply or refers to itself (recursion limit); "
                     "run 'kms-teach check' on it", EXIT_USAGE)
    except MemoryError:
        return _fail("not enough memory for this request; ask for less (a smaller --n, a shorter --days "
                     "or a larger --every)", EXIT_PROBLEMS)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # never a traceback for a user; KMS_TEACH_DEBUG=1 shows it
        if os.environ.get("KMS_TEACH_DEBUG"):
            raise
        return _fail(f"internal error ({type(exc).__name__}: {exc}); please report it with the command "
                     "you ran (KMS_TEACH_DEBUG=1 shows the traceback)", EXIT_PROBLEMS)
    try:
        _emit(sys.stdout, "".join(reply.out))
    except _OutputFailed as exc:
        return _fail(exc, EXIT_PROBLEMS)
    for note in reply.notes:
        _say(sys.stderr, f"kms-teach: {_one_line(note)}")
    return status


# ---------------------------------------------------------------------------
# Checks shared by commands
# ---------------------------------------------------------------------------
def _check_assets_variable(command: Command) -> None:
    """A set but wrong ``KMS_TEACH_ASSETS`` is named, with its path, before anything is read."""
    override = os.environ.get("KMS_TEACH_ASSETS")
    if not override or not command.assets:
        return
    hint = "unset it to use the installed assets, or point it at a copy of the assets folder"
    kind = _kind(override)
    if kind is None:
        raise UsageError(f"KMS_TEACH_ASSETS={override}: no such folder ({hint})")
    if kind != "folder":
        raise UsageError(f"KMS_TEACH_ASSETS={override}: is a {kind}, not a folder ({hint})")
    missing = [entry for entry in command.assets
               if _kind(os.path.join(override, entry.rstrip("/"))) != ("folder" if entry.endswith("/") else "file")]
    if missing:
        raise UsageError(f"KMS_TEACH_ASSETS={override}: has no {', '.join(missing)} "
                         f"(the '{command.name}' command needs {', '.join(command.assets)}; {hint})")


def _kind(path) -> str | None:
    """'file', 'folder', another kind of file ('pipe', 'device', ...), or None when absent."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _yaml_files(folder: str, recursive: bool) -> list[str]:
    """YAML files under ``folder``; any that is not a regular file (a pipe would hang a reader) is refused."""
    found = []
    walker = os.walk(folder) if recursive else [(folder, [], os.listdir(folder))]
    for root, _dirs, names in walker:
        for name in sorted(names):
            if name.endswith((".yaml", ".yml")):
                path = os.path.join(root, name)
                kind = _kind(path)
                if kind not in ("file", "folder", None):
                    raise UsageError(f"{_echo(path)} is a {kind}, not a regular file; move it out of {_echo(folder)}")
                if kind == "file":
                    found.append(path)
    return found


def _check_output(output: str | None, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse an ``--output`` that cannot be written, before any work is done."""
    if output is None:
        return
    if not output.strip():
        raise UsageError("argument --output: empty file name")
    if suffixes and not output.endswith(suffixes):
        raise UsageError(f"argument --output: must name a file ending in {' or '.join(suffixes)}, not {_echo(output)}")
    if output.endswith((".yaml", ".yml")):
        raise UsageError(f"argument --output: {_echo(output)} would write over a YAML content file; "
                         "exports are .gift, .json, .html or .ipynb")
    kind = _kind(output)
    if kind == "folder":
        raise UsageError(f"argument --output: {_echo(output)} is a folder; name a file inside it")
    parent = os.path.dirname(output) or "."
    parent_kind = _kind(parent)
    if parent_kind is None:
        try:
            os.stat(output)
        except OSError as exc:
            if exc.errno == 36:  # ENAMETOOLONG
                raise UsageError(f"argument --output: file name too long: {_echo(output)}") from None
        raise UsageError(f"argument --output: folder {_echo(parent)} does not exist")
    if parent_kind != "folder":
        raise UsageError(f"argument --output: {_echo(parent)} is not a folder")
    if kind is None and len(os.path.basename(output).encode("utf-8", "surrogateescape")) > 255:
        raise UsageError(f"argument --output: file name too long: {_echo(output)}")
    if kind == "file" and not os.access(output, os.W_OK):
        raise UsageError(f"argument --output: {_echo(output)} is read-only")
    if not os.access(parent, os.W_OK) and kind is None:
        raise UsageError(f"argument --output: cannot create a file in {_echo(parent)} (permission denied)")


def _write(text: str, output: str | None, reply: Reply) -> None:
    """Write ``text`` to ``output`` (stdout when None).

    A regular file is written to a temporary neighbour and then renamed, so an
    error (a full disk) never leaves a half-written or emptied file behind.
    Devices such as ``/dev/null`` are written directly (never replaced).
    """
    if output is None:
        reply.write(text)
        return
    data = text.encode("utf-8")
    try:
        if _kind(output) not in (None, "file"):
            with open(output, "wb") as handle:
                handle.write(data)
        else:
            import tempfile

            folder = os.path.dirname(os.path.abspath(output))
            handle, temporary = tempfile.mkstemp(prefix=".kms-teach-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.chmod(temporary, 0o666 & ~_umask())
                os.replace(temporary, output)
            except BaseException:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
                raise
    except OSError as exc:
        raise UsageError(f"argument --output: cannot write {_echo(output)}: {exc.strerror or exc}") from None
    reply.write(f"wrote {output}\n")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _case_argument(text: str):
    """Load a built-in case by name or a case file; odd paths are refused before any read."""
    from ._assets import assets_dir
    from .cases import case_names, load_case

    kind = _kind(text) if text else None
    if kind == "folder":
        raise UsageError(f"argument case: {_echo(text)} is a folder; give a case name "
                         f"({', '.join(case_names())}) or a case YAML file")
    if kind not in (None, "file"):
        raise UsageError(f"argument case: {_echo(text)} is a {kind}, not a case file")
    if kind is None:
        if text.endswith((".yaml", ".yml")):
            raise UsageError(f"argument case: case file {_echo(text)} not found")
        if not case_names():
            raise UsageError(f"argument case: no case files (*.yaml) in {assets_dir() / 'cases'}")
        if text not in case_names():
            raise UsageError(f"argument case: unknown case {_echo(text)}; valid cases: {', '.join(case_names())}")
    try:
        return load_case(text)
    except RecursionError:
        raise UsageError(f"argument case: {_echo(text)}: not valid YAML: nested too deeply "
                         "or refers to itself") from None


#: The days of NAME@START[-STOP][:DOSE][:everyNh]; the library parses the rest.
_TREATMENT_DAYS = re.compile(r"@\s*([0-9][0-9.]*)\s*(?:-\s*([0-9][0-9.]*))?\s*(?::.*)?$")


def _check_treatments(specs: Sequence[str], days: float | None) -> None:
    """Days in ``--treat`` within the longest course (and within ``--days`` when given).

    The library parses the rest; this catches digit strings so long that they
    become infinite, and plans that start after the course ends.
    """
    from .treatments import as_events

    for spec in specs:
        match = _TREATMENT_DAYS.search(spec)
        if not match:
            continue
        for text in filter(None, match.groups()):
            try:
                day = float(text)
            except ValueError:
                continue  # malformed: the library says so
            if not math.isfinite(day) or day > MAX_DAYS:
                raise UsageError(f"argument --treat: day {_echo(text)} in {_echo(spec)} is beyond "
                                 f"the longest course ({MAX_DAYS:g} days)")
        start = float(match.group(1)) if match.group(1).replace(".", "", 1).isdigit() else None
        if days is not None and start is not None and start >= days:
            raise UsageError(f"argument --treat: {_echo(spec)} starts on day {start:g}, after the course "
                             f"ends (--days {days:g}); raise --days or start it earlier")
    try:
        as_events(list(specs))
    except ValueError as exc:
        if isinstance(exc, AssetError):  # treatments.yaml itself is at fault, not the argument
            raise
        raise UsageError(f"argument --treat: {exc}") from None


def _check_every(every: float, days: float, default: float) -> None:
    if every > days * 24:
        given = "" if every != default else " (the default)"
        raise UsageError(f"argument --every: {every:g} hours{given} is longer than the course "
                         f"(--days {days:g} = {days * 24:g} hours); lower --every or raise --days")


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
TREAT_HELP = ("treatment from a day (day 0 = case start): NAME, NAME@DAY or NAME@START-STOP, then optional "
              "':DOSE' and ':everyNh', e.g. sirolimus@0, prednisolone@0-28 or "
              "platelet-transfusion@0-5:10mL/kg:every12h; repeatable (see 'kms-teach treatments')")
CASE_HELP = "case name (see 'kms-teach cases') or a case YAML file"
_MODEL_ASSETS = ("parameters.yaml", "treatments.yaml", "cases/")


def _add_cases_arguments(parser):
    pass


def _run_cases(args, reply) -> int:
    from .cases import list_cases

    cases = list_cases()
    if not cases:
        raise UsageError("no case files found in the assets folder's cases/")
    width = max(len(c.name) for c in cases)
    reply.write("".join(f"{c.name:<{width}}  {c.description}\n" for c in cases))
    return EXIT_OK


def _run_treatments(args, reply) -> int:
    from .treatments import load_treatments

    catalogue = load_treatments()
    if not catalogue:
        raise UsageError("treatments.yaml in the assets folder lists no treatments")
    from .treatments import NAMED_PLANS

    width = max(len(name) for name in (*catalogue, *NAMED_PLANS))
    for name, t in catalogue.items():
        dose = f" [dose in {t.dose_unit}, usual {t.usual_dose[0]:g}-{t.usual_dose[1]:g}]" if t.dose_unit else ""
        reply.write(f"{name:<{width}}  {t.kind:<13}  {t.description}{dose}\n")
    for name, plan in NAMED_PLANS.items():
        reply.write(f"{name:<{width}}  {'named plan':<13}  {' + '.join(plan)}\n")
    return EXIT_OK


def _add_simulate_arguments(sim):
    sim.add_argument("case", help=CASE_HELP)
    sim.add_argument("--days", type=_days, default=120.0,
                     help=f"length of the course in days, or with a unit (12w, 6mo, 2y); at most {MAX_DAYS:g} days "
                          "(default 120)")
    sim.add_argument("--treat", action="append", default=[], metavar="NAME[@DAY]", help=TREAT_HELP)
    sim.add_argument("--every", type=_hours, default=6.0, metavar="HOURS",
                     help="hours between rows, or with a unit (1d, 1w) (default 6)")
    sim.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")


def _round(values, decimals):
    return [round(float(v), decimals) for v in values]


def _run_simulate(args, reply) -> int:
    from .model import LAB_UNITS, simulate

    case = _case_argument(args.case)
    _check_treatments(args.treat, args.days)
    _check_every(args.every, args.days, 6.0)
    result = simulate(case, args.treat, days=args.days, every_hours=args.every)
    columns = result.columns()
    if args.format == "json":
        payload = {
            "notice": NOTICE,
            "case": result.case,
            "treatments": [str(e) for e in result.treatments],
            "days": args.days,
            "every_hours": args.every,
            "units": {"day": "days since the case's day 0", **LAB_UNITS},
            "series": {name: _round(values, DECIMALS[name]) for name, values in columns.items()},
        }
        reply.write(json.dumps(payload, indent=1) + "\n")
        return EXIT_OK
    names = list(columns)
    lines = [",".join(names)]
    formats = [f"{{:.{DECIMALS[n]}f}}" for n in names]
    for row in zip(*columns.values()):
        lines.append(",".join(f.format(v) for f, v in zip(formats, row)))
    reply.write("\n".join(lines) + "\n")
    return EXIT_OK


def _add_cohort_arguments(coh):
    coh.add_argument("case", help=CASE_HELP)
    coh.add_argument("--n", type=_count, required=True, help=f"number of infants (1-{MAX_COHORT})")
    coh.add_argument("--seed", type=_seed, default=0, help=f"random seed, 0-{MAX_SEED} (default 0)")
    coh.add_argument("--treat", action="append", default=[], metavar="NAME[@DAY]", help=TREAT_HELP)
    coh.add_argument("--response", default="platelets>=100@28", metavar="LAB(>=|>|<=|<)VALUE@DAY",
                     help="response criterion (default platelets>=100@28, the Ji 2022 RCT endpoint)")
    coh.add_argument("--days", type=_days, default=None,
                     help=f"length in days, at most {MAX_DAYS:g} (default: the criterion's day, at least 28)")
    coh.add_argument("--every", type=_hours, default=24.0, metavar="HOURS", help="hours between samples (default 24)")
    coh.add_argument("--format", choices=("text", "csv", "json"), default="text", help="output format (default text)")


def _criterion(text: str):
    from .model import parse_criterion

    try:
        criterion = parse_criterion(text)
    except ValueError as exc:
        raise UsageError(f"argument --response: {exc}") from None
    if not math.isfinite(criterion.value):
        raise UsageError(f"argument --response: the value in {_echo(text)} must be a finite number")
    if not math.isfinite(criterion.day) or criterion.day > MAX_DAYS:
        raise UsageError(f"argument --response: the day in {_echo(text)} must be at most {MAX_DAYS:g}")
    return criterion


def _check_on_grid(criterion, every: float) -> None:
    steps = criterion.day * 24 / every
    if abs(steps - round(steps)) > 1e-6:
        raise UsageError(f"argument --response: day {criterion.day:g} falls between samples taken every "
                         f"{every:g} hours; choose a day on that grid or a smaller --every (e.g. --every 6)")


def _run_cohort(args, reply) -> int:
    from .model import LAB_UNITS, LABS, simulate_cohort

    case = _case_argument(args.case)
    criterion = _criterion(args.response)
    days = args.days if args.days is not None else max(28.0, criterion.day)
    if criterion.day > days:
        raise UsageError(f"argument --response: the response day {criterion.day:g} lies beyond the simulated "
                         f"{days:g} days; raise --days")
    _check_treatments(args.treat, days)
    _check_every(args.every, days, 24.0)
    _check_on_grid(criterion, args.every)
    cohort = simulate_cohort(case, n=args.n, seed=args.seed, treatments=args.treat, days=days, every_hours=args.every)
    rate = cohort.response_rate(criterion)
    pct = {lab: cohort.percentiles(lab, PERCENTILES) for lab in LABS}
    if args.format == "json":
        payload = {
            "notice": NOTICE,
            "case": cohort.case,
            "n": cohort.n,
            "seed": cohort.seed,
            "treatments": [str(e) for e in cohort.treatments],
            "response": str(criterion),
            "response_rate": round(rate, 4),
            "units": dict(LAB_UNITS),
            "day": _round(cohort.day, 2),
            "percentiles": {
                lab: {f"p{int(q)}": _round(v, DECIMALS[lab]) for q, v in pct[lab].items()} for lab in LABS
            },
        }
        reply.write(json.dumps(payload, indent=1) + "\n")
        return EXIT_OK
    if args.format == "csv":
        header = "day,lab," + ",".join(f"p{q}" for q in PERCENTILES)
        lines = [header]
        for i, day in enumerate(cohort.day):
            for lab in LABS:
                cells = ",".join(f"{pct[lab][q][i]:.{DECIMALS[lab]}f}" for q in PERCENTILES)
                lines.append(f"{day:.2f},{lab},{cells}")
        reply.write("\n".join(lines) + "\n")
        return EXIT_OK
    plan = ", ".join(str(e) for e in cohort.treatments) or "no treatment"
    lines = [
        f"{NOTICE}",
        f"Virtual cohort: {cohort.case}, n={cohort.n}, seed={cohort.seed}, {plan}",
        f"response_rate ({criterion}): {rate:.3f}",
        "",
        "Median (5th-95th percentile) by day:",
    ]
    header = f"{'day':>5}  " + "  ".join(f"{lab + ' (' + LAB_UNITS[lab] + ')':>24}" for lab in LABS)
    lines.append(header)
    for day in _summary_days(cohort.day):
        i = int(abs(cohort.day - day).argmin())
        cells = []
        for lab in LABS:
            d = DECIMALS[lab]
            cells.append(f"{pct[lab][50][i]:.{d}f} ({pct[lab][5][i]:.{d}f}-{pct[lab][95][i]:.{d}f})".rjust(24))
        lines.append(f"{cohort.day[i]:>5g}  " + "  ".join(cells))
    reply.write("\n".join(lines) + "\n")
    return EXIT_OK


def _summary_days(days):
    last = float(days[-1])
    # weekly early on, then every two weeks, then monthly and quarterly for long courses
    picks = [0, 3, 7, 14, 21, 28] + list(range(42, min(int(last), 182) + 1, 14)) + \
        [round(30.4375 * m) for m in range(7, 13)] + [round(30.4375 * m) for m in range(15, 121, 3)]
    return sorted({d for d in picks if d <= last} | {last})


def _add_selection_arguments(command):
    command.add_argument("--topic", action="append", default=[], metavar="T",
                         help="a topic of the bank (see 'kms-teach quiz --list'); repeatable")
    command.add_argument("--id", action="append", default=[], metavar="ID", dest="ids", help="an item id; repeatable")
    command.add_argument("--difficulty", action="append", default=[], choices=("easy", "medium", "hard"),
                         help="easy, medium or hard; repeatable")
    command.add_argument("--lesson", type=_lesson, metavar="N", help="items tagged for lesson N (0-6)")
    command.add_argument("--n", type=_count, default=None, help="draw this many of the matching items")
    command.add_argument("--seed", type=_seed, default=0, help="random seed for --n (default 0)")
    command.add_argument("--bank", default=None, metavar="DIR",
                         help="folder of question files (default: the installed bank)")
    command.add_argument("--output", "-o", default=None, metavar="FILE", help="write here instead of stdout")


def _selected(args, reply):
    from ._assets import assets_dir
    from .export import select_questions
    from .questions import load_bank

    if args.bank is not None:
        if _kind(args.bank) != "folder":
            raise UsageError(f"argument --bank: {_echo(args.bank)} is not a folder of question files")
        if not _yaml_files(args.bank, recursive=False):
            raise UsageError(f"argument --bank: {_echo(args.bank)} holds no question files (*.yaml)")
    else:
        folder = str(assets_dir() / "questions")
        if _kind(folder) != "folder" or not _yaml_files(folder, recursive=False):
            raise UsageError(f"no question files (*.yaml) in {folder}")
    bank = load_bank(args.bank)
    for problem in bank.problems:
        reply.note(f"warning: left out: {problem}")
    return select_questions(bank, topics=args.topic, ids=args.ids, difficulty=args.difficulty,
                            lesson=args.lesson, n=args.n, seed=args.seed)


def _add_export_arguments(exp):
    exp.add_argument("format", choices=("gift", "jupyterquiz", "html"))
    _add_selection_arguments(exp)
    exp.add_argument("--answer-key", action="store_true", help="html only: write the answer key, not the handout")


def _run_export(args, reply) -> int:
    from .export import not_exportable, to_gift, to_html_handout, to_jupyterquiz

    if args.answer_key and args.format != "html":
        raise UsageError("argument --answer-key: applies to the html format only")
    _check_output(args.output)
    questions = _selected(args, reply)
    skipped = not_exportable(questions, args.format)
    if len(skipped) == len(questions):
        raise UsageError(f"none of the selected items can be written as {args.format} "
                         f"(ordering items have no {args.format} form)")
    if skipped:
        reply.note(f"note: {len(skipped)} ordering item(s) have no {args.format} form and are left out: "
                   + ", ".join(skipped))
    if args.format == "gift":
        text = to_gift(questions)
    elif args.format == "jupyterquiz":
        text = to_jupyterquiz(questions)
    else:
        text = to_html_handout(questions, answer_key=args.answer_key, seed=args.seed)
    _write(text, args.output, reply)
    return EXIT_OK


def _add_quiz_arguments(qz):
    _add_selection_arguments(qz)
    qz.add_argument("--list", action="store_true", help="print the selected item ids, topics and difficulties")


def _run_quiz(args, reply) -> int:
    if not args.list:
        _check_output(args.output, suffixes=(".ipynb",))
    questions = _selected(args, reply)
    if args.list or args.output is None:
        width = max(len(q.id) for q in questions)
        reply.write("".join(f"{q.id:<{width}}  {q.topic:<18}  {q.difficulty}\n" for q in questions))
        return EXIT_OK
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    ids = ", ".join(repr(q.id) for q in questions)
    bank = "" if args.bank is None else "\nfrom kms_teach import load_bank\n"
    call = f"Quiz(ids=[{ids}], seed={args.seed}" + ("" if args.bank is None else f", bank=load_bank({args.bank!r})") + ")"
    nb = new_notebook(cells=[
        new_markdown_cell(f"# Quiz: {len(questions)} question(s)\n\n> **{NOTICE}**\n\nRun the cell below "
                          "(Shift+Enter). Tab moves between controls; arrow keys choose; Enter checks."),
        new_code_cell(f"from kms_teach.quiz import Quiz{bank}\n{call}"),
    ], metadata={"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}})
    _write(nbformat.writes(nb), args.output, reply)
    return EXIT_OK


def _add_check_arguments(chk):
    chk.add_argument("paths", nargs="*", metavar="PATH",
                     help="files or folders to check (default: the installed assets folder)")
    chk.add_argument("--stats", action="store_true",
                     help="also print the bank's key positions, key-length shares beside chance, "
                          "Bloom mix and items per objective")


def _run_check(args, reply) -> int:
    from ._assets import assets_dir
    from .check import check_paths

    override = os.environ.get("KMS_TEACH_ASSETS")
    if not args.paths and override and _kind(override) != "folder":
        raise UsageError(f"KMS_TEACH_ASSETS={override}: no such folder (unset it to check the installed assets)")
    paths = args.paths or [str(assets_dir()), *_lesson_folder()]
    for path in paths:
        kind = _kind(path)
        if kind is None:
            raise ProblemsFound(f"argument PATH: {_echo(path)}: no such file or folder")
        if kind not in ("file", "folder"):
            raise UsageError(f"argument PATH: {_echo(path)} is a {kind}, not a content file or folder")
        if kind == "folder" and not _yaml_files(path, recursive=True) and not _lesson_sources(path):
            raise ProblemsFound(f"no content files (*.yaml, *.yml) in {_echo(path)}; nothing was checked")
    problems = check_paths(paths)
    if args.stats:
        from .check import bank_statistics

        reply.write(bank_statistics(paths) + "\n")
    for problem in problems:
        reply.write(f"{problem}\n")
    if problems:
        reply.notes.append(f"{len(problems)} problem(s) found.")
        return EXIT_PROBLEMS
    reply.write(f"No problems found in {', '.join(str(p) for p in paths)}.\n")
    return EXIT_OK


def _lesson_folder() -> list[str]:
    """``notebooks/`` beside the assets of a repository checkout (lessons are not installed)."""
    from ._assets import assets_dir

    folder = Path(assets_dir()).resolve().parent / "notebooks"
    return [str(folder)] if folder.is_dir() else []


def _lesson_sources(path) -> bool:
    from .lessons import is_lesson_source

    return any(is_lesson_source(p) for p in Path(path).glob("*.md"))


def voila_template_root():
    """The ``share/jupyter`` folder holding the project's ``kms`` Voila template.

    A regular install puts it under ``sys.prefix``; an editable install (the
    README's) leaves it in the repository, which setuptools' editable mode does
    not copy. Returns None when neither has it.
    """
    candidates = [Path(__file__).resolve().parents[1] / "share" / "jupyter", Path(sys.prefix) / "share" / "jupyter"]
    for root in candidates:
        if (root / "voila" / "templates" / "kms" / "conf.json").is_file():
            return root
    return None


#: Kernel culling: without it every page load leaves a kernel (~110 MB) running.
#: ``port_retries=0``: Voila would otherwise quietly serve on another port.
VOILA_FLAGS = ("--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--MappingKernelManager.cull_interval=10",
               "--MappingKernelManager.cull_idle_timeout=300",
               "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
               # jupytext's JupyterLab extension (paired lesson sources) fails in Voila's page
               "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext")


#: Voila's kernel pre-heating: one kernel per notebook runs the lesson before anyone asks for it.
PREHEAT_FLAGS = ["--preheat_kernel=True", "--pool_size=1"]


def _add_voila_arguments(vo):
    vo.add_argument("path", nargs="?", default="notebooks", help="a lesson notebook or the notebooks folder")
    vo.add_argument("--port", type=_port, default=8866, help="port on 127.0.0.1, 1-65535 (default 8866)")
    vo.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    vo.add_argument("--print-command", action="store_true", help="print the Voila command and exit")
    vo.add_argument("--preheat", action="store_true",
                    help="keep one kernel per lesson started and run ahead, so a page opens faster "
                         "(costs about 120 MB of memory per lesson while idle)")


def _check_port_free(port: int) -> None:
    import errno
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Tornado does: TIME_WAIT is no conflict
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"argument --port: port {port} on 127.0.0.1 is already in use; "
                                 "choose another, e.g. --port 8867") from None
            if exc.errno == errno.EACCES:
                raise UsageError(f"argument --port: port {port} needs administrator rights; "
                                 "use a port from 1024 to 65535") from None
            raise UsageError(f"argument --port: cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None


def _run_voila(args, reply) -> int:
    import importlib.util

    kind = _kind(args.path)
    if kind is None:
        where = " (run it from the repository root, or give a lesson's path)" if args.path == "notebooks" else ""
        raise UsageError(f"argument path: notebook or folder {_echo(args.path)} not found{where}")
    if kind == "file" and not args.path.endswith(".ipynb"):
        raise UsageError(f"argument path: {_echo(args.path)} is not a notebook (.ipynb)")
    if kind not in ("file", "folder"):
        raise UsageError(f"argument path: {_echo(args.path)} is a {kind}, not a notebook or folder")
    if importlib.util.find_spec("voila") is None:
        raise UsageError("Voila is not installed; install it with: python -m pip install voila")
    root = voila_template_root()
    if root is None:
        raise UsageError("the kms Voila template is missing; reinstall with `python -m pip install -e .`")
    argv = [sys.executable, "-m", "voila", args.path, f"--port={args.port}", "--template=kms", *VOILA_FLAGS]
    if args.no_browser:
        argv.append("--no-browser")
    if args.preheat:
        argv += PREHEAT_FLAGS
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join([str(root), *filter(None, [env.get("JUPYTER_PATH")])])
    if args.print_command:
        reply.write(f"JUPYTER_PATH={env['JUPYTER_PATH']} " + " ".join(argv[1:]) + "\n")
        return EXIT_OK
    _check_port_free(args.port)
    return run_forwarding_signals(argv, env)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if this process dies, even by SIGKILL (no orphaned server)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except Exception:
        pass


def run_forwarding_signals(argv: Sequence[str], env=None, stop_seconds: float = VOILA_STOP_SECONDS) -> int:
    """Run ``argv`` until it exits, passing SIGINT, SIGTERM and SIGHUP on to it.

    The child runs in its own session, so a Ctrl+C in the terminal reaches it
    once (through this process) rather than twice. After the first forwarded
    signal the child has ``stop_seconds`` to stop (Voila shuts its kernels
    down); then it is killed. Returns the child's exit status, or 128 + the
    signal number when a signal ended it.
    """
    import signal
    import subprocess
    import time

    if sys.platform.startswith("linux"):
        child = subprocess.Popen(argv, env=env, start_new_session=True, preexec_fn=_die_with_parent)
    else:
        child = subprocess.Popen(argv, env=env, start_new_session=True)
    deadline = []

    def forward(signum, _frame):
        if not deadline:
            deadline.append(time.monotonic() + stop_seconds)
        try:
            child.send_signal(signum)
        except OSError:
            pass

    forwarded = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, forward) for s in forwarded}
    try:
        while True:
            try:
                status = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if deadline and time.monotonic() > deadline[0]:
                    child.kill()
                    status = child.wait(timeout=10)
                    _say(sys.stderr, f"kms-teach: Voila did not stop within {stop_seconds:g} s and was killed")
                    break
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status if status >= 0 else 128 - status


# ---------------------------------------------------------------------------
# The command table
# ---------------------------------------------------------------------------
def _add_validate_arguments(val):
    val.add_argument("--output", "-o", default="docs/validation.md", metavar="FILE",
                     help="Markdown report to write (default docs/validation.md; figures go in a folder beside it); "
                          "the values lessons quote always go to the assets folder in use")
    val.add_argument("--no-report", action="store_true", help="print the table only; write no files")


def _run_validate(args, reply) -> int:
    """Run every literature checkpoint; exit 1 when any falls outside its window."""
    from .validate import run_checkpoints, write_report, write_results

    if not args.no_report:
        _check_output(args.output, (".md",))
    outcomes = run_checkpoints()
    for o in outcomes:
        c = o.checkpoint
        value = "not reached" if o.value is None else f"{o.value:.4g}"
        reply.write(f"{'inside ' if o.inside else 'OUTSIDE'} {c.id:<4} {value:>11} in [{c.window[0]:g}, {c.window[1]:g}] "
                    f"{c.unit:<9} {c.use:<9} {c.title}\n")
    inside = sum(o.inside for o in outcomes)
    fitted = sum(o.checkpoint.use == "fitted" for o in outcomes)
    reply.write(f"{inside} of {len(outcomes)} checkpoints inside; {fitted} fitted, {len(outcomes) - fitted} predicted\n")
    if not args.no_report:
        reply.write(f"report: {write_report(outcomes, args.output)}\n")
        try:
            reply.write(f"values for the lessons: {write_results(outcomes)}\n")
        except OSError as exc:  # a read-only install: the report is written; lessons run the checkpoints instead
            reply.write(f"values for the lessons not written to {exc.filename or 'the assets folder'}: "
                        f"{exc.strerror or exc}\n")
    return EXIT_OK if inside == len(outcomes) else EXIT_PROBLEMS


def _add_report_arguments(rep):
    rep.add_argument("answers", nargs="+", metavar="ANSWER_FILES",
                     help="learners' answers files, folders (every *.json below) or quoted patterns")
    rep.add_argument("--output", "-o", metavar="FILE", help="write the report as an HTML page (.html)")
    rep.add_argument("--csv", metavar="FILE", help="write the grades: one row per learner, a column per item")
    rep.add_argument("--items-csv", metavar="FILE", help="write the item statistics (facility, discrimination, ...)")
    rep.add_argument("--show-learner-ids", action="store_true",
                     help="show learner ids as given (default: hashed); needed for grades going to an LMS")
    rep.add_argument("--quiz", action="append", metavar="ID", help="only this quiz id (repeatable)")
    rep.add_argument("--pre", metavar="ID", help="quiz id given before a lesson (with --post)")
    rep.add_argument("--post", metavar="ID", help="quiz id given after it (with --pre)")


def _run_report(args, reply) -> int:
    """Read the class's answers files; print a summary, write the HTML and CSV files asked for."""
    from .report import build_report

    if (args.pre is None) != (args.post is None):
        raise UsageError("arguments --pre and --post: give both quiz ids, or neither")
    _check_output(args.output, (".html", ".htm"))
    for option, value in (("--csv", args.csv), ("--items-csv", args.items_csv)):
        try:
            _check_output(value, (".csv",))
        except UsageError as exc:
            raise UsageError(str(exc).replace("argument --output", f"argument {option}", 1)) from None
    report = build_report(args.answers, reveal_ids=args.show_learner_ids, quizzes=args.quiz,
                          pre_post=[(args.pre, args.post)] if args.pre else ())
    if not report.learners:
        first = f" (first: {_echo(report.skipped[0][0])}: {report.skipped[0][1]})" if report.skipped else ""
        raise ProblemsFound(f"no answers could be read from {len(report.skipped)} file(s) or argument(s){first}")
    reply.write("".join(line + "\n" for line in report.summary_lines()))
    for value, text in ((args.output, report.to_html), (args.csv, report.grades_csv),
                        (args.items_csv, report.items_csv)):
        if value is not None:
            _write(text(), value, reply)
    return EXIT_OK


COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("cases", "list the patient cases", _add_cases_arguments, _run_cases, ("parameters.yaml", "cases/")),
    Command("treatments", "list the treatments", _add_cases_arguments, _run_treatments, ("treatments.yaml",)),
    Command("simulate", "simulate one infant's lab values over time", _add_simulate_arguments, _run_simulate,
            _MODEL_ASSETS),
    Command("cohort", "simulate a virtual cohort and its response rate", _add_cohort_arguments, _run_cohort,
            _MODEL_ASSETS),
    Command("export", "export quiz items: Moodle GIFT, jupyterquiz JSON or an HTML handout",
            _add_export_arguments, _run_export, ("questions/",)),
    Command("quiz", "build a quiz from the bank: list its items or write a notebook that runs it",
            _add_quiz_arguments, _run_quiz, ("questions/",)),
    Command("voila", "serve the lessons with Voila (code hidden), offline, on this computer",
            _add_voila_arguments, _run_voila),
    Command("check", "validate question, case and parameter files (exit 1 on any problem)",
            _add_check_arguments, _run_check),
    Command("validate", "run the model's literature checkpoints and write the validation report",
            _add_validate_arguments, _run_validate, _MODEL_ASSETS + ("validation.yaml", "references.yaml")),
    Command("report", "the class results report from learners' answers files (HTML, grades CSV)",
            _add_report_arguments, _run_report, ("questions/",)),
)}

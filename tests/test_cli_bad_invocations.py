"""Bad command lines get one line on stderr, exit 1 or 2, no traceback, no hang, no file changed.

A table of bad invocations across every subcommand and the global flags. Most
run in-process (``kms_teach.cli.main(argv)``, fast); a representative subset
runs as real processes, for what only a process shows: a full or closed
standard output, ``KMS_TEACH_ASSETS`` copies with broken content (the library
caches the default tables per process), bytes that are not UTF-8 in argv,
and ``python -m kms_teach``. Before and after every case the assets folder and
the working folder are snapshotted: nothing may be created, changed or removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kms_teach import cli
from kms_teach._assets import assets_dir

KMS_TEACH = os.path.join(os.path.dirname(sys.executable), "kms-teach")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
#: A guard against hangs, not a speed test: every case takes well under a second.
CASE_SECONDS = 30
PROCESS_SECONDS = 60
#: An error line echoes at most a shortened copy of a huge input.
LONGEST_LINE = 1000

VALID_CASES = "valid cases: infantile-hemangioma, khe-kms, khe-onset, nait, rich, sepsis-dic, ta-kms"
VALID_TREATMENTS = "valid treatments: sirolimus, prednisolone"
VALID_LABS = "platelets, fibrinogen, d_dimer, hemoglobin, pt, aptt"
HUGE = "9" * 400  # 10**400 - 1: finite as an int, infinite as a float
ASSETS_HINT = "KMS_TEACH_ASSETS="


@dataclass(frozen=True)
class Bad:
    """One bad invocation and what its single stderr line must contain."""

    argv: tuple
    expect: tuple = ()
    code: int = 2
    env: tuple = ()  # (name, value) pairs; value may use {work}
    label: str = ""

    @property
    def id(self):
        return self.label or " ".join(str(a)[:30] for a in self.argv)[:80] or "(no arguments)"


def bad(*argv, expect=(), code=2, env=(), label=""):
    return Bad(tuple(argv), tuple([expect] if isinstance(expect, str) else expect), code, tuple(env), label)


def _cases_of_option(command, option, values, expect):
    return [bad(*command, option, value, expect=expect, label=f"{command[0]} {option} {value[:20]!r}")
            for value in values]


NUMBER_NONSENSE = ["-5", "0", "nan", "inf", "-inf", "ten", "1e400", HUGE, "", "0x10", "1,5", "½", " ", "5 days"]

TABLE = [
    # --- global flags and subcommands --------------------------------------------------
    bad(expect="COMMAND", label="no arguments"),
    bad("dance", expect=("invalid choice: 'dance'", "'simulate'", "'check'")),
    bad("simulat", "khe-kms", expect=("invalid choice", "'simulate'")),
    bad("SIMULATE", "khe-kms", expect="invalid choice"),
    bad("", expect="invalid choice"),
    bad("--verbose", "cases", expect=("unrecognized arguments: '--verbose'", "valid options before COMMAND: --help, --version")),
    bad("-x", expect=("unrecognized arguments: '-x'", "commands: cases, treatments")),
    bad("--versionn", expect=("'--versionn'", "--version")),
    bad("cases", "extra", expect=("unrecognized arguments: 'extra'", "valid options of 'kms-teach cases'")),
    bad("cases", "--days", "5", expect=("unrecognized arguments", "--days")),
    bad("treatments", "--format", "json", expect="unrecognized arguments"),
    bad("simulate", "khe-kms", "--dayz", "5", expect=("--dayz", "valid options of 'kms-teach simulate'", "--days")),
    bad("simulate", "khe-kms", "extra", expect="unrecognized arguments: 'extra'"),
    bad("check", "--fix", expect=("unrecognized arguments", "--fix")),
    bad("validate", "--fast", expect=("unrecognized arguments", "--fast")),
    bad("validate", "extra", expect=("unrecognized arguments", "extra")),
    bad("validate", "--output", expect="argument --output/-o: expected one argument"),
    bad("validate", "--output", "/nonexistent/dir/v.md", expect="folder '/nonexistent/dir' does not exist"),
    bad("validate", "--output", "report.txt", expect="must name a file ending in .md"),
    bad("simulate", "khe-kms", "--days", "2fortnights", expect="argument --days"),
    bad("simulate", "khe-kms", "--days", "11y", expect="at most 3650"),
    bad("simulate", "khe-kms", "--every", "0w", expect="argument --every"),
    bad("voila", "--ip", "0.0.0.0", expect=("unrecognized arguments", "--port")),
    bad("quiz", "--topics", "treatment", "--list", expect=("unrecognized arguments", "--topic")),
    bad("simulate", "khe-kms", "--days", expect="--days: expected one argument"),
    bad("simulate", "khe-kms", "--treat", expect="--treat: expected one argument"),
    bad("simulate", "khe-kms", "--format", expect="--format: expected one argument"),
    bad("cohort", "khe-kms", "--n", expect="--n: expected one argument"),
    bad("quiz", "--output", expect="--output/-o: expected one argument"),
    bad("voila", "--port", expect="--port: expected one argument"),
    bad("export", expect="required: format"),
    bad("simulate", "khe\x00kms", expect="NUL character", label="NUL byte in the case"),
    # --- simulate: the case ------------------------------------------------------------
    bad("simulate", expect="required: case"),
    bad("simulate", "khe-xyz", expect=("unknown case 'khe-xyz'", VALID_CASES)),
    bad("simulate", "", expect=("unknown case ''", VALID_CASES)),
    bad("simulate", "KHE-KMS", expect=("unknown case 'KHE-KMS'", VALID_CASES)),
    bad("simulate", "khé-kms-🩸", expect=("unknown case 'khé-kms-🩸'", VALID_CASES)),
    bad("simulate", "x" * 100_000, expect=("unknown case", "(100000 characters)", VALID_CASES), label="case 100k chars"),
    bad("simulate", "khe\x01kms", expect=("unknown case 'khe\\x01kms'", VALID_CASES), label="control char in case"),
    bad("simulate", "khe\nkms", expect=("unknown case 'khe\\nkms'",), label="newline in case"),
    bad("simulate", "\u202ekhe-kms", expect=("\\u202e",), label="bidi override in case"),
    bad("simulate", "emptydir", expect=("'emptydir' is a folder", "khe-kms")),
    bad("simulate", "folder.yaml", expect="'folder.yaml' is a folder"),
    bad("simulate", "missing.yaml", expect="case file 'missing.yaml' not found"),
    bad("simulate", "fifo.yaml", expect="is a named pipe, not a case file", label="case is a named pipe"),
    bad("simulate", "/dev/null", expect="is a device, not a case file"),
    bad("simulate", "garbage/syntax.yaml", expect=("garbage/syntax.yaml", "not valid YAML")),
    bad("simulate", "garbage/empty.yaml", expect=("garbage/empty.yaml", "must be a mapping")),
    bad("simulate", "garbage/list.yaml", expect=("garbage/list.yaml", "must be a mapping")),
    bad("simulate", "garbage/binary.yaml", expect="garbage/binary.yaml"),
    bad("simulate", "garbage/latin1.yaml", expect="garbage/latin1.yaml"),
    bad("simulate", "garbage/alias.yaml", expect="garbage/alias.yaml"),
    bad("simulate", "garbage/deep.yaml", expect="deep.yaml", label="case nested 2000 deep"),
    bad("simulate", "notes.txt", expect=("notes.txt", "must be a mapping")),
    bad("simulate", "cases/bad-age.yaml", expect=("bad-age.yaml", "age_days", "must be a number")),
    bad("simulate", "cases/inf-severity.yaml", expect=("inf-severity.yaml", "severity")),
    bad("simulate", "cases/bool-weight.yaml", expect=("bool-weight.yaml", "weight_kg")),
    bad("simulate", "cases/unknown-parameter.yaml", expect=("unknown parameter 'tumour_magic'", "valid:")),
    bad("simulate", "cases/huge-field.yaml", expect=("huge-field.yaml", "age_days")),
    # --- simulate: numbers, formats, treatments ------------------------------------------
    *_cases_of_option(("simulate", "khe-kms"), "--days", NUMBER_NONSENSE,
                      "argument --days"),
    bad("simulate", "khe-kms", "--days", "5000", expect="argument --days: must be a number greater than 0 and at most 3650"),
    bad("simulate", "khe-kms", "--days", "3650.5", expect="at most 3650"),
    *_cases_of_option(("simulate", "khe-kms"), "--every", ["0", "-1", "nan", "inf", "abc", "", "1e400", HUGE, "1e-300",
                                                        "0.0009"],
                      ("argument --every", "from 0.001 (greater than 0)")),
    bad("simulate", "khe-kms", "--every", "0.01", "--days", "3650", expect=("--every", "--days", "memory"),
        label="simulate a run too big for memory"),
    bad("cohort", "khe-kms", "--n", "200000", "--days", "3650", "--every", "1", expect=("--n", "memory"),
        label="cohort too big for memory"),
    bad("simulate", "khe-kms", "--days", "10", "--treat", "sirolimus@10", expect="after the course ends",
        label="treat on the last day"),
    bad("simulate", "khe-kms", "--days", "1", "--every", "48",
        expect="argument --every: 48 hours is longer than the course (--days 1 = 24 hours)"),
    bad("simulate", "khe-kms", "--days", "0.001", expect=("argument --every: 6 hours (the default)", "lower --every")),
    bad("simulate", "khe-kms", "--format", "xml", expect=("invalid choice: 'xml'", "'csv', 'json'")),
    bad("simulate", "khe-kms", "--format", "CSV", expect=("invalid choice: 'CSV'", "'csv', 'json'")),
    bad("simulate", "khe-kms", "--format", "", expect="invalid choice"),
    bad("simulate", "khe-kms", "--treat", "", expect="argument --treat: empty treatment"),
    bad("simulate", "khe-kms", "--treat", "sirolimuss@0", expect=("argument --treat: unknown treatment 'sirolimuss'", VALID_TREATMENTS)),
    bad("simulate", "khe-kms", "--treat", "Sirolimus", expect=("unknown treatment 'Sirolimus'", VALID_TREATMENTS)),
    bad("simulate", "khe-kms", "--treat", "siròlimus@0", expect=("unknown treatment 'siròlimus'", VALID_TREATMENTS)),
    bad("simulate", "khe-kms", "--treat", "@5", expect=("unknown treatment ''", VALID_TREATMENTS)),
    bad("simulate", "khe-kms", "--treat", "sirolimus,prednisolone", expect=VALID_TREATMENTS),
    bad("simulate", "khe-kms", "--treat", "y" * 100_000, expect=("unknown treatment", "characters)", VALID_TREATMENTS),
        label="treat 100k chars"),
    *[bad("simulate", "khe-kms", "--treat", spec, expect=("argument --treat: malformed treatment", "NAME@START-STOP"))
      for spec in ("sirolimus@", "sirolimus@abc", "sirolimus@-3", "sirolimus@nan", "sirolimus@inf",
                   "sirolimus@1e400", "sirolimus@0@3", "sirolimus@０", "sirolimus@1 2", "sirolimus@0-")],
    bad("simulate", "khe-kms", "--treat", "prednisolone@10-5", expect="the stop day must come after the start day"),
    bad("simulate", "khe-kms", "--treat", "prednisolone@5-5", expect="the stop day must come after the start day"),
    bad("simulate", "khe-kms", "--treat", f"sirolimus@{HUGE}",
        expect=("argument --treat", "beyond the longest course (3650 days)"), label="treat day 10**400"),
    bad("simulate", "khe-kms", "--treat", f"prednisolone@0-{HUGE}",
        expect=("argument --treat", "beyond the longest course"), label="treat stop day 10**400"),
    bad("simulate", "khe-kms", "--treat", "sirolimus@3651", expect="beyond the longest course (3650 days)"),
    bad("simulate", "khe-kms", "--treat", f"platelet-transfusion@{HUGE}:10mL/kg",
        expect=("argument --treat", "beyond the longest course"), label="treat day 10**400 with a dose"),
    bad("simulate", "khe-kms", "--treat", "platelet-transfusion@0:lots", expect="argument --treat: "),
    bad("simulate", "khe-kms", "--treat", "platelet-transfusion@0-5:10mL/kg:every0h", expect="argument --treat: "),
    bad("simulate", "khe-kms", "--treat", "platelet-transfusion@0:1000mL/kg", expect="argument --treat: ",
        label="treat dose far too large"),
    bad("simulate", "khe-kms", "--days", "10", "--treat", "sirolimus@500",
        expect="argument --treat: 'sirolimus@500' starts on day 500, after the course ends (--days 10)"),
    # --- cohort -----------------------------------------------------------------------------
    bad("cohort", "khe-kms", expect="required: --n"),
    *_cases_of_option(("cohort", "khe-kms"), "--n", ["0", "-1", "10000000", "10.5", "nan", HUGE, "", "1e3", "two"],
                      "argument --n: must be a whole number from 1 to 200000"),
    *_cases_of_option(("cohort", "khe-kms", "--n", "10"), "--seed", ["-1", "abc", HUGE, "4294967296", "1.5", ""],
                      "argument --seed: must be a whole number from 0 to 4294967295"),
    bad("cohort", "khe", "--n", "10", expect=("unknown case 'khe'", VALID_CASES)),
    bad("cohort", "emptydir", "--n", "10", expect="is a folder"),
    bad("cohort", "khe-kms", "--n", "10", "--treat", "rapamycin", expect=("unknown treatment 'rapamycin'", VALID_TREATMENTS)),
    *[bad("cohort", "khe-kms", "--n", "10", "--response", text,
          expect=("argument --response: malformed response criterion", "platelets>=100@28", ">=, >, <=, <"),
          label=f"response {text[:20]!r}")
      for text in ("", "banana", "platelets=>100@28", "platelets==100@28", "platelets>=100", "platelets>=-5@28",
                   "platelets>=nan@28", "Platelets>=100@28", "plaquettes≥100@28", "platelets>=1e400@28",
                   "platelets>=100@", "platelets>=100@-1")],
    bad("cohort", "khe-kms", "--n", "10", "--response", "platelet>=100@28",
        expect=("argument --response: unknown lab 'platelet'", VALID_LABS)),
    bad("cohort", "khe-kms", "--n", "10", "--response", "p" * 50_000 + ">=1@1",
        expect=("unknown lab", "characters)"), label="response lab 50k chars"),
    bad("cohort", "khe-kms", "--n", "10", "--response", f"platelets>=100@{HUGE}",
        expect="argument --response: the day in", label="response day 10**400"),
    bad("cohort", "khe-kms", "--n", "10", "--response", f"platelets>={HUGE}@28",
        expect="argument --response: the value in", label="response value 10**400"),
    bad("cohort", "khe-kms", "--n", "10", "--response", "platelets>=100@99999", expect="at most 3650"),
    bad("cohort", "khe-kms", "--n", "10", "--response", "platelets>=100@28.5",
        expect=("day 28.5 falls between samples taken every 24 hours", "--every 6")),
    bad("cohort", "khe-kms", "--n", "10", "--days", "10", expect=("response day 28", "raise --days")),
    bad("cohort", "khe-kms", "--n", "10", "--every", "0", expect="argument --every"),
    bad("cohort", "khe-kms", "--n", "10", "--every", "1000", expect="argument --every: 1000 hours is longer than the course"),
    bad("cohort", "khe-kms", "--n", "10", "--days", "-1", expect="argument --days"),
    bad("cohort", "khe-kms", "--n", "10", "--days", "5000", expect="argument --days"),
    bad("cohort", "khe-kms", "--n", "10", "--days", "30", "--treat", "sirolimus@40", expect="after the course ends (--days 30)"),
    bad("cohort", "khe-kms", "--n", "10", "--format", "yaml", expect=("invalid choice: 'yaml'", "'text', 'csv', 'json'")),
    # --- check ------------------------------------------------------------------------------
    bad("check", "emptydir", code=1, expect="no content files (*.yaml, *.yml) in 'emptydir'; nothing was checked"),
    bad("check", "textonly", code=1, expect="no content files (*.yaml, *.yml) in 'textonly'"),
    bad("check", "assets-copy", "emptydir", code=1, expect="no content files", label="check good and empty"),
    bad("check", "/nonexistent/path", code=1, expect="'/nonexistent/path': no such file or folder"),
    bad("check", "missing.yaml", code=1, expect="'missing.yaml': no such file or folder"),
    bad("check", "", code=1, expect="no such file or folder"),
    bad("check", "/dev/null", expect="'/dev/null' is a device, not a content file or folder"),
    bad("check", "fifo.yaml", expect="is a named pipe", label="check a named pipe"),
    bad("check", "pipes", expect=("is a named pipe", "move it out of 'pipes'"), label="check a folder with a pipe"),
    # --- quiz and export ------------------------------------------------------------------
    bad("quiz", "--topic", "nonsense", "--list", expect=("unknown topic 'nonsense'", "differential")),
    bad("quiz", "--topic", "trätment", "--list", expect=("unknown topic", "treatment")),
    bad("quiz", "--topic", "", "--list", expect="unknown topic ''"),
    bad("quiz", "--id", "no-such-id", "--list", expect="no question with id 'no-such-id'"),
    bad("quiz", "--id", "", "--list", expect="no question with id ''"),
    *_cases_of_option(("quiz",), "--lesson", ["9", "7", "-1", "three", HUGE, ""], "argument --lesson: must be a lesson number from 0 to 6"),
    bad("quiz", "--difficulty", "trivial", "--list", expect=("invalid choice: 'trivial'", "'easy', 'medium', 'hard'")),
    bad("quiz", "--difficulty", "Easy", "--list", expect="invalid choice: 'Easy'"),
    bad("quiz", "--topic", "treatment", "--difficulty", "hard", "--lesson", "0", "--list", expect="no questions match"),
    *_cases_of_option(("quiz", "--list"), "--n", ["0", "-3", HUGE, "x"], "argument --n: must be a whole number"),
    bad("quiz", "--seed", "-1", "--list", expect="argument --seed"),
    bad("quiz", "--lesson", "3", "--output", "out.txt", expect="must name a file ending in .ipynb, not 'out.txt'"),
    bad("quiz", "--lesson", "3", "--output", "", expect="argument --output: empty file name"),
    bad("quiz", "--lesson", "3", "--output", "/nonexistent/dir/q.ipynb", expect="folder '/nonexistent/dir' does not exist"),
    bad("quiz", "--lesson", "3", "--output", "notes.txt/q.ipynb", expect="'notes.txt' is not a folder"),
    bad("quiz", "--lesson", "3", "--output", "folder.ipynb", expect="'folder.ipynb' is a folder"),
    bad("quiz", "--lesson", "3", "--output", "q" * 300 + ".ipynb", expect="file name too long"),
    bad("quiz", "--bank", "/nonexistent", "--list", expect="argument --bank: '/nonexistent' is not a folder of question files"),
    bad("quiz", "--bank", "notes.txt", "--list", expect="is not a folder of question files"),
    bad("quiz", "--bank", "emptydir", "--list", expect="argument --bank: 'emptydir' holds no question files (*.yaml)"),
    bad("quiz", "--bank", "textonly", "--list", expect="holds no question files"),
    bad("quiz", "--bank", "pipes", "--list", expect="is a named pipe", label="bank with a named pipe"),
    bad("quiz", "--bank", "", "--list", expect="is not a folder of question files"),
    bad("export", "pdf", expect=("invalid choice: 'pdf'", "'gift', 'jupyterquiz', 'html'")),
    bad("export", "GIFT", expect="invalid choice: 'GIFT'"),
    bad("export", "gift", "--answer-key", expect="--answer-key: applies to the html format only"),
    bad("export", "gift", "--id", "workup-sequence", expect="none of the selected items can be written as gift"),
    bad("export", "gift", "--topic", "nonsense", expect="unknown topic 'nonsense'"),
    bad("export", "html", "--n", "0", expect="argument --n"),
    bad("export", "gift", "--output", "/nonexistent/dir/x.gift", expect="folder '/nonexistent/dir' does not exist"),
    bad("export", "gift", "--output", "emptydir", expect="'emptydir' is a folder; name a file inside it"),
    bad("export", "gift", "--output", "/dev/full", expect="cannot write '/dev/full': No space left on device"),
    bad("export", "gift", "--output", "z" * 300 + ".gift", expect="file name too long"),
    bad("export", "gift", "--output", "bank.yaml", expect="would write over a YAML content file"),
    bad("export", "jupyterquiz", "--output", "read-only.json", expect="'read-only.json' is read-only",
        label="export over a read-only file") if not IS_ROOT else
    bad("export", "jupyterquiz", "--output", "/sys/kernel/x.json", expect="Permission denied",
        label="export into a read-only folder (root: /sys)"),
    bad("export", "html", "--bank", "emptydir", expect="holds no question files"),
    # --- voila ------------------------------------------------------------------------------
    bad("voila", "/nonexistent.ipynb", "--print-command", expect="notebook or folder '/nonexistent.ipynb' not found"),
    bad("voila", "missing-folder", expect="notebook or folder 'missing-folder' not found"),
    bad("voila", expect=("notebook or folder 'notebooks' not found", "repository root"), label="voila default folder elsewhere"),
    bad("voila", "notes.txt", expect="'notes.txt' is not a notebook (.ipynb)"),
    bad("voila", "fifo.yaml", expect="is a named pipe"),
    *_cases_of_option(("voila", "emptydir", "--print-command"), "--port", ["99999", "-1", "0", "abc", HUGE, "", "80.5"],
                      "argument --port: must be a port number from 1 to 65535"),
    # --- report -----------------------------------------------------------------------------
    bad("report", expect="ANSWER_FILES"),
    bad("report", "missing.json", code=1, expect=("no answers could be read", "no such file or folder")),
    bad("report", "notes.txt", code=1, expect=("no answers could be read", "notes.txt", "not valid JSON")),
    bad("report", "emptydir", code=1, expect="a folder with no .json files"),
    bad("report", "fifo.yaml", code=1, expect="not a regular file"),
    bad("report", "nothing-*.json", code=1, expect="no file matches this pattern"),
    bad("report", "notes.txt", "--output", "r.txt", expect="argument --output: must name a file ending in .html"),
    bad("report", "notes.txt", "--output", "/nonexistent/dir/r.html", expect="folder '/nonexistent/dir' does not exist"),
    bad("report", "notes.txt", "--csv", "g.txt", expect="argument --csv: must name a file ending in .csv"),
    bad("report", "notes.txt", "--items-csv", "emptydir", expect="argument --items-csv: must name a file ending in .csv"),
    bad("report", "notes.txt", "--pre", "lesson-02-pre", expect="--pre and --post: give both quiz ids"),
    bad("report", "notes.txt", "--bogus", expect="unrecognized arguments: '--bogus'"),
    # --- KMS_TEACH_ASSETS (in-process when the folder itself is wrong: nothing is read) ---
    *[bad(*argv, env=(("KMS_TEACH_ASSETS", "/nonexistent/assets"),),
          expect=("KMS_TEACH_ASSETS=/nonexistent/assets: no such folder", "unset it"), label=f"assets missing: {argv[0]}")
      for argv in (("cases",), ("treatments",), ("simulate", "khe-kms"), ("cohort", "khe-kms", "--n", "5"),
                   ("quiz", "--list"), ("export", "gift"), ("check",))],
    bad("simulate", "khe-kms", env=(("KMS_TEACH_ASSETS", "{work}/notes.txt"),),
        expect=("KMS_TEACH_ASSETS=", "notes.txt: is a file, not a folder"), label="assets is a file"),
    bad("cases", env=(("KMS_TEACH_ASSETS", "{work}/emptydir"),),
        expect=("KMS_TEACH_ASSETS=", "emptydir: has no parameters.yaml, cases/"), label="assets empty: cases"),
    bad("simulate", "khe-kms", env=(("KMS_TEACH_ASSETS", "{work}/emptydir"),),
        expect="has no parameters.yaml, treatments.yaml, cases/", label="assets empty: simulate"),
    bad("quiz", "--list", env=(("KMS_TEACH_ASSETS", "{work}/emptydir"),), expect="emptydir: has no questions/", label="assets empty: quiz"),
    bad("check", env=(("KMS_TEACH_ASSETS", "{work}/emptydir"),), code=1, expect="no content files", label="assets empty: check"),
]


# ---------------------------------------------------------------------------
# The folder the commands run in
# ---------------------------------------------------------------------------
def _write(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def make_workdir(root: Path) -> Path:
    """Fixtures for the table: broken files, odd files, and copies of the assets."""
    source = assets_dir()
    good_case = (source / "cases" / "khe-kms.yaml").read_text(encoding="utf-8")

    def case(stem, text):  # a case file's name must equal its file name
        return text.replace("name: khe-kms", f"name: {stem}", 1)

    (root / "emptydir").mkdir()
    (root / "folder.yaml").mkdir()
    (root / "folder.ipynb").mkdir()
    _write(root / "notes.txt", "just some notes\n")
    _write(root / "textonly" / "readme.txt", "no YAML here\n")
    os.mkfifo(root / "fifo.yaml")
    (root / "pipes").mkdir()
    os.mkfifo(root / "pipes" / "questions.yaml")
    _write(root / "garbage" / "syntax.yaml", "name: [unclosed\n")
    _write(root / "garbage" / "empty.yaml", "")
    _write(root / "garbage" / "list.yaml", "- 1\n- 2\n")
    _write(root / "garbage" / "binary.yaml", bytes(range(256)) * 4)
    _write(root / "garbage" / "latin1.yaml", "name: caf\xe9\n".encode("latin-1"))
    _write(root / "garbage" / "alias.yaml", "a: &a [*a]\n")
    _write(root / "garbage" / "deep.yaml", "[" * 2000 + "]" * 2000 + "\n")
    _write(root / "cases" / "bad-age.yaml", case("bad-age", good_case.replace("age_days: 42", "age_days: six weeks")))
    _write(root / "cases" / "inf-severity.yaml", case("inf-severity", good_case.replace("severity: ", "severity: 1e999 #", 1)))
    _write(root / "cases" / "bool-weight.yaml", case("bool-weight", good_case.replace("weight_kg: ", "weight_kg: true #", 1)))
    _write(root / "cases" / "unknown-parameter.yaml", case("unknown-parameter", good_case + "parameters:\n  tumour_magic: 1.0\n"))
    _write(root / "cases" / "huge-field.yaml", case("huge-field", good_case.replace("age_days: 42", "age_days: " + "x" * 200_000)))
    _write(root / "bank.yaml", "topic: demo\n")
    _write(root / "read-only.json", "{}\n")
    os.chmod(root / "read-only.json", 0o444)
    shutil.copytree(source, root / "assets-copy")
    return root


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return make_workdir(tmp_path_factory.mktemp("bad-invocations"))


def snapshot(*folders: Path) -> dict:
    """Every file and folder below ``folders``: kind, size, modification time and content hash."""
    seen = {}
    for folder in folders:
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names) + dirs:
                path = os.path.join(root, name)
                info = os.lstat(path)
                digest = None
                if os.path.isfile(path) and not os.path.islink(path) and info.st_size < 200_000:
                    digest = hashlib.sha1(Path(path).read_bytes()).hexdigest()
                seen[path] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return seen


@contextlib.contextmanager
def deadline(seconds: float):
    """Fail instead of hanging (SIGALRM: the main thread, where pytest runs tests)."""
    def hung(_signum, _frame):
        raise TimeoutError(f"the command did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_one_line(code, out, err, case: Bad, allowed_codes=None):
    assert code in (allowed_codes or (case.code,)), f"exit {code}, stderr {err!r}"
    assert out == "", f"nothing on stdout expected, got {out[:200]!r}"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), f"one stderr line expected, got {len(lines)}: {err[:500]!r}"
    line = lines[0]
    assert line.startswith("kms-teach: error: "), line
    assert len(line) <= LONGEST_LINE, f"{len(line)} characters"
    for text in case.expect:
        assert text in line, f"{text!r} not in {line!r}"


# ---------------------------------------------------------------------------
# In-process: the whole table
# ---------------------------------------------------------------------------
def test_the_table_is_large_and_covers_every_subcommand():
    assert len(TABLE) >= 150
    assert len({case.id for case in TABLE}) == len(TABLE), "labels must be unique"
    first_words = {case.argv[0] for case in TABLE if case.argv}
    assert set(cli.COMMANDS) <= first_words
    assert {case.code for case in TABLE} == {1, 2}


@pytest.mark.parametrize("case", TABLE, ids=[case.id for case in TABLE])
def test_bad_invocation_answers_in_one_line(case, work, capsys, monkeypatch):
    monkeypatch.chdir(work)
    monkeypatch.delenv("KMS_TEACH_ASSETS", raising=False)
    for name, value in case.env:
        monkeypatch.setenv(name, value.format(work=work))
    before = snapshot(work, assets_dir())
    capsys.readouterr()
    with deadline(CASE_SECONDS):
        code = cli.main(list(case.argv))
    out, err = capsys.readouterr()
    assert snapshot(work, assets_dir()) == before, "a file was created, changed or removed"
    assert_one_line(code, out, err, case)


@pytest.mark.parametrize("broken", [ValueError("days must be greater than 0 and at most 3650, not 1e+09"),
                                    ValueError("every_hours must be greater than 0, not 0"),
                                    ValueError("a treatment starts after the course ends\nsecond line"),
                                    MemoryError(), RecursionError(), KeyError("surprise")],
                         ids=["days", "every_hours", "two-line", "memory", "recursion", "internal"])
def test_every_library_error_reaches_the_user_as_one_line(broken, capsys, monkeypatch):
    """Whatever the model raises (today or after it gains new limits) is one line, never a traceback."""
    def explode(*_args, **_kwargs):
        raise broken

    monkeypatch.setattr("kms_teach.model.simulate", explode)
    code = cli.main(["simulate", "khe-kms", "--days", "5"])
    out, err = capsys.readouterr()
    assert code == (2 if isinstance(broken, (ValueError, RecursionError)) else 1)
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("kms-teach: error: ")
    if "days must" in str(broken):
        assert "argument --days: must be greater than 0" in err
    if "every_hours" in str(broken):
        assert "argument --every:" in err and "every_hours" not in err
    if isinstance(broken, MemoryError):
        assert "not enough memory" in err and "--n" in err
    if isinstance(broken, KeyError):
        assert "internal error (KeyError" in err and "KMS_TEACH_DEBUG=1" in err


def test_a_failed_export_prints_only_the_error_not_the_notes_before_it(capsys, tmp_path):
    code = cli.main(["export", "gift", "--output", str(tmp_path / "missing" / "x.gift")])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.splitlines()) == 1 and "note:" not in err


def test_a_successful_export_still_notes_the_left_out_items(capsys, tmp_path):
    code = cli.main(["export", "gift", "--output", str(tmp_path / "x.gift")])
    out, err = capsys.readouterr()
    assert code == 0 and out == f"wrote {tmp_path / 'x.gift'}\n"
    assert err.startswith("kms-teach: note: ") and "ordering item(s) have no gift form" in err


def test_a_failing_write_leaves_an_existing_output_file_intact(tmp_path, monkeypatch, capsys):
    target = tmp_path / "handout.html"
    target.write_text("the old handout\n")

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    code = cli.main(["export", "html", "--n", "3", "--output", str(target)])
    _, err = capsys.readouterr()
    assert code == 2 and "No space left on device" in err
    assert target.read_text() == "the old handout\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handout.html"], "no temporary file left behind"


def test_the_cli_longest_course_is_the_models():
    from kms_teach import model

    assert cli.MAX_DAYS == model._MAX_DAYS


# ---------------------------------------------------------------------------
# Real processes: what only a process shows
# ---------------------------------------------------------------------------
def _broken_assets(work: Path, name: str, edit) -> Path:
    folder = work.parent / f"assets-{name}"
    if not folder.exists():
        shutil.copytree(assets_dir(), folder)
        edit(folder)
    return folder


def _process_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("KMS_TEACH_ASSETS", "KMS_TEACH_DEBUG")}
    env.update(extra or {})
    return env


PROCESS_CASES = {
    "stdout /dev/full: simulate": (["simulate", "khe-kms"], "full", None, 1, "cannot write to standard output: No space left on device"),
    "stdout /dev/full: export": (["export", "gift"], "full", None, 1, "No space left on device"),
    "stdout /dev/full: cases": (["cases"], "full", None, 1, "No space left on device"),
    "stdout /dev/full: --help": (["--help"], "full", None, 1, "No space left on device"),
    "stdout /dev/full: check": (["check", "{work}/assets-copy/cases"], "full", None, 1, "No space left on device"),
    "stdout closed early: simulate": (["simulate", "khe-kms", "--every", "0.1"], "pipe", None, 1, "broken pipe"),
    "stdout closed early: export": (["export", "jupyterquiz"], "pipe", None, 1, "broken pipe"),
    "stdout closed before start": (["cases"], "closed", None, 1, "standard output is closed"),
    "KMS_TEACH_ASSETS missing": (["cases"], None, {"KMS_TEACH_ASSETS": "/nonexistent/assets"}, 2,
                                 "KMS_TEACH_ASSETS=/nonexistent/assets: no such folder"),
    "KMS_TEACH_ASSETS without parameters.yaml": (["simulate", "khe-kms"], None, {"KMS_TEACH_ASSETS": "no-parameters"}, 2,
                                                 "has no parameters.yaml"),
    "KMS_TEACH_ASSETS invalid treatments.yaml": (["treatments"], None, {"KMS_TEACH_ASSETS": "bad-treatments"}, 2,
                                                 ("treatments.yaml:", "not valid YAML", "(from KMS_TEACH_ASSETS=")),
    "KMS_TEACH_ASSETS case of the wrong type": (["simulate", "khe-kms"], None, {"KMS_TEACH_ASSETS": "bad-case"}, 2,
                                                ("khe-kms.yaml", "age_days", "(from KMS_TEACH_ASSETS=")),
    "KMS_TEACH_ASSETS empty questions/": (["quiz", "--list"], None, {"KMS_TEACH_ASSETS": "no-questions"}, 2,
                                         "no question files (*.yaml) in"),
    "KMS_TEACH_ASSETS empty cases/": (["simulate", "khe-kms"], None, {"KMS_TEACH_ASSETS": "no-cases"}, 2,
                                      "no case files (*.yaml) in"),
    "argv not UTF-8": ([b"simulate", b"khe-\xff\xfe"], None, None, 2, ("unknown case 'khe-\\udcff\\udcfe'", VALID_CASES)),
    "ASCII-only locale": (["simulate", "khé-kms-🩸"], None, {"LC_ALL": "C", "PYTHONIOENCODING": "ascii"}, 2, "unknown case"),
    "case 100k characters": (["simulate", "x" * 100_000], None, None, 2, "(100000 characters)"),
    "case is a named pipe": (["simulate", "{work}/fifo.yaml"], None, None, 2, "is a named pipe"),
    "treat day 10**400": (["simulate", "khe-kms", "--treat", f"sirolimus@{HUGE}"], None, None, 2, "beyond the longest course"),
    "check an empty folder": (["check", "{work}/emptydir"], None, None, 1, "no content files"),
    "voila missing notebook": (["voila", "/nonexistent/lesson.ipynb", "--no-browser"], None, None, 2, "not found"),
    "voila port in use": (["voila", "{work}/emptydir", "--no-browser", "--port", "{port}"], None, None, 2,
                          "is already in use"),
    "python -m kms_teach unknown subcommand": (["dance"], "module", None, 2, "invalid choice: 'dance'"),
}

_ASSET_EDITS = {
    "no-parameters": lambda f: (f / "parameters.yaml").unlink(),
    "bad-treatments": lambda f: (f / "treatments.yaml").write_text("sirolimus: [unclosed: {\n"),
    "bad-case": lambda f: (f / "cases" / "khe-kms.yaml").write_text(
        (f / "cases" / "khe-kms.yaml").read_text().replace("age_days: 42", "age_days: six weeks")),
    "no-questions": lambda f: [p.unlink() for p in (f / "questions").glob("*.yaml")],
    "no-cases": lambda f: [p.unlink() for p in (f / "cases").glob("*.yaml")],
}


@pytest.fixture
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        yield held.getsockname()[1]


@pytest.mark.parametrize("label", list(PROCESS_CASES))
def test_bad_invocation_as_a_process(label, work, busy_port):
    argv, stdout, env, code, expect = PROCESS_CASES[label]
    expect = (expect,) if isinstance(expect, str) else expect
    argv = [a.format(work=work, port=busy_port) if isinstance(a, str) else a for a in argv]
    env = dict(env or {})
    if env.get("KMS_TEACH_ASSETS") in _ASSET_EDITS:
        name = env["KMS_TEACH_ASSETS"]
        env["KMS_TEACH_ASSETS"] = str(_broken_assets(work, name, _ASSET_EDITS[name]))
    command = [sys.executable, "-m", "kms_teach", *argv] if stdout == "module" else [KMS_TEACH, *argv]
    before = snapshot(work, assets_dir())
    options = dict(cwd=work, env=_process_env(env), stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if stdout == "full":
        with open("/dev/full", "w") as full:
            proc = subprocess.run(command, stdout=full, timeout=PROCESS_SECONDS, **options)
        out = b""
    elif stdout == "pipe":
        child = subprocess.Popen(command, stdout=subprocess.PIPE, **options)
        try:
            assert child.stdout.read(1)  # then close the pipe, like `| head -c1`
            child.stdout.close()
            err = child.stderr.read()
            child.wait(timeout=PROCESS_SECONDS)
        finally:
            child.kill()
            child.wait(timeout=10)
        proc = subprocess.CompletedProcess(command, child.returncode, b"", err)
        out = b""
    elif stdout == "closed":
        proc = subprocess.run(command, preexec_fn=lambda: os.close(1), timeout=PROCESS_SECONDS, **options)
        out = b""
    else:
        proc = subprocess.run(command, stdout=subprocess.PIPE, timeout=PROCESS_SECONDS, **options)
        out = proc.stdout
    after = snapshot(work, assets_dir())
    assert after == before, "a file was created, changed or removed"
    case = Bad(tuple(argv), expect, code)
    encoding = "ascii" if env.get("PYTHONIOENCODING") == "ascii" else "utf-8"
    assert_one_line(proc.returncode, out.decode(encoding), proc.stderr.decode(encoding), case)


def test_version_prints_the_package_version():
    import kms_teach

    proc = subprocess.run([KMS_TEACH, "--version"], capture_output=True, text=True, timeout=PROCESS_SECONDS)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == f"kms-teach {kms_teach.__version__}\n"

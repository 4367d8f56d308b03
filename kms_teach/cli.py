"""The ``kms-teach`` command line (also ``python -m kms_teach``).

A stable contract used by lessons' readers, educators and tests:

- ``kms-teach cases`` / ``kms-teach treatments``: names with one-line descriptions.
- ``kms-teach export gift|jupyterquiz|html [--topic T]... [--id ID]... [--difficulty D]...
  [--lesson N] [--n N --seed S] [--bank DIR] [--output FILE] [--answer-key]``
- ``kms-teach quiz [the same selection] (--list | --output QUIZ.ipynb)``
- ``kms-teach check [PATH]...``: one line per problem in content files,
  ``file:line: item: field: message``; exit 1 if any, 0 when clean.
- ``kms-teach simulate CASE [--days N] [--treat NAME[@DAY]]... [--every HOURS] [--format csv|json]``
- ``kms-teach cohort CASE --n N [--seed S] [--treat NAME[@DAY]]... [--response "platelets>=100@28"]
  [--days N] [--every HOURS] [--format text|csv|json]``

Bad input prints one line on stderr naming what is wrong and the valid
choices, and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Sequence

from ._assets import AssetError

EXIT_OK = 0
EXIT_USAGE = 2

#: Decimal places of each column in CSV and JSON output.
DECIMALS = {"day": 2, "platelets": 1, "fibrinogen": 3, "d_dimer": 2, "hemoglobin": 2, "pt": 1, "aptt": 1}
PERCENTILES = (5, 25, 50, 75, 95)
NOTICE = "Educational use only, not for clinical decisions."


class UsageError(Exception):
    """Bad command-line input; reported as one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_number():
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number greater than 0, not {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be a number greater than 0, not {text!r}")
        return value

    return parse


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 200000, not {text!r}") from None
    if not 1 <= value <= 200_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 200000, not {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kms-teach",
        description=f"Simulate Kasabach-Merritt phenomenon for teaching. {NOTICE}",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sub.add_parser("cases", help="list the patient cases")
    sub.add_parser("treatments", help="list the treatments")

    treat_help = "treatment from a day (day 0 = case start), e.g. sirolimus@0; repeatable"
    sim = sub.add_parser("simulate", help="simulate one infant's lab values over time")
    sim.add_argument("case", help="case name (see 'kms-teach cases') or a case YAML file")
    sim.add_argument("--days", type=_positive_number(), default=120.0, help="length of the course in days (default 120)")
    sim.add_argument("--treat", action="append", default=[], metavar="NAME[@DAY]", help=treat_help)
    sim.add_argument("--every", type=_positive_number(), default=6.0, metavar="HOURS", help="hours between rows (default 6)")
    sim.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")

    coh = sub.add_parser("cohort", help="simulate a virtual cohort and its response rate")
    coh.add_argument("case", help="case name (see 'kms-teach cases') or a case YAML file")
    coh.add_argument("--n", type=_count, required=True, help="number of infants (1-200000)")
    coh.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    coh.add_argument("--treat", action="append", default=[], metavar="NAME[@DAY]", help=treat_help)
    coh.add_argument("--response", default="platelets>=100@28", metavar="LAB>=VALUE@DAY",
                     help="response criterion (default platelets>=100@28, the Ji 2022 RCT endpoint)")
    coh.add_argument("--days", type=_positive_number(), default=None, help="length in days (default: the criterion's day, at least 28)")
    coh.add_argument("--every", type=_positive_number(), default=24.0, metavar="HOURS", help="hours between samples (default 24)")
    coh.add_argument("--format", choices=("text", "csv", "json"), default="text", help="output format (default text)")
    def selection(command):
        command.add_argument("--topic", action="append", default=[], metavar="T", help="a topic; repeatable")
        command.add_argument("--id", action="append", default=[], metavar="ID", dest="ids", help="an item id; repeatable")
        command.add_argument("--difficulty", action="append", default=[], choices=("easy", "medium", "hard"),
                             help="repeatable")
        command.add_argument("--lesson", type=int, choices=range(5), metavar="N", help="items tagged for lesson N (0-4)")
        command.add_argument("--n", type=_count, default=None, help="draw this many of the matching items")
        command.add_argument("--seed", type=_seed, default=0, help="random seed for --n (default 0)")
        command.add_argument("--bank", default=None, metavar="DIR",
                             help="folder of question files (default: the installed bank)")
        command.add_argument("--output", "-o", default=None, metavar="FILE", help="write here instead of stdout")

    exp = sub.add_parser("export", help="export quiz items: Moodle GIFT, jupyterquiz JSON or an HTML handout")
    exp.add_argument("format", choices=("gift", "jupyterquiz", "html"))
    selection(exp)
    exp.add_argument("--answer-key", action="store_true", help="html only: write the answer key, not the handout")

    qz = sub.add_parser("quiz", help="build a quiz from the bank: list its items or write a notebook that runs it")
    selection(qz)
    qz.add_argument("--list", action="store_true", help="print the selected item ids, topics and difficulties")

    vo = sub.add_parser("voila", help="serve the lessons with Voila (code hidden), offline, on this computer")
    vo.add_argument("path", nargs="?", default="notebooks", help="a lesson notebook or the notebooks folder")
    vo.add_argument("--port", type=int, default=8866, help="port on 127.0.0.1 (default 8866)")
    vo.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    vo.add_argument("--print-command", action="store_true", help="print the Voila command and exit")

    val = sub.add_parser("validate", help="run the model's literature checkpoints and write the validation report")
    val.add_argument("--output", "-o", default="docs/validation.md", metavar="FILE",
                     help="Markdown report to write (default docs/validation.md; figures go beside it)")
    val.add_argument("--no-report", action="store_true", help="print the table only; write no files")

    chk = sub.add_parser("check", help="validate question, case and parameter files (exit 1 on any problem)")
    chk.add_argument("paths", nargs="*", metavar="PATH",
                     help="files or folders to check (default: the installed assets folder)")
    return parser


EXIT_PROBLEMS = 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "check":
            return _check(args)
        if args.command == "voila":
            return _voila(args)
        if args.command == "validate":
            return _validate(args)
        handler = {"cases": _cases, "treatments": _treatments, "simulate": _simulate, "cohort": _cohort,
                   "export": _export, "quiz": _quiz}[args.command]
        text = handler(args)
    except (UsageError, ValueError, AssetError, OSError) as exc:
        print(f"kms-teach: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return EXIT_OK


def _validate(args) -> int:
    """Run every checkpoint; exit 1 when any falls outside its window."""
    from .validate import run_checkpoints, write_report

    outcomes = run_checkpoints()
    for o in outcomes:
        c = o.checkpoint
        value = "not reached" if o.value is None else f"{o.value:.4g}"
        print(f"{'inside ' if o.inside else 'OUTSIDE'} {c.id:<4} {value:>11} in [{c.window[0]:g}, {c.window[1]:g}] "
              f"{c.unit:<9} {c.use:<9} {c.title}")
    inside = sum(o.inside for o in outcomes)
    fitted = sum(o.checkpoint.use == "fitted" for o in outcomes)
    print(f"{inside} of {len(outcomes)} checkpoints inside; {fitted} fitted, {len(outcomes) - fitted} predicted")
    if not args.no_report:
        print(f"report: {write_report(outcomes, args.output)}")
    return EXIT_OK if inside == len(outcomes) else EXIT_PROBLEMS


def _selected(args):
    from .export import select_questions
    from .questions import load_bank

    if args.bank is not None and not __import__("pathlib").Path(args.bank).is_dir():
        raise ValueError(f"--bank {args.bank!r} is not a folder of question files")
    bank = load_bank(args.bank)
    for problem in bank.problems:
        print(f"kms-teach: warning: left out: {problem}", file=sys.stderr)
    return select_questions(bank, topics=args.topic, ids=args.ids, difficulty=args.difficulty,
                            lesson=args.lesson, n=args.n, seed=args.seed)


def _write(text: str, output) -> str:
    """Write to ``output`` (a file) and return a one-line receipt, or return the text for stdout."""
    if output is None:
        return text
    from pathlib import Path

    Path(output).write_text(text, encoding="utf-8")
    return f"wrote {output}\n"


def _export(args) -> str:
    from .export import not_exportable, to_gift, to_html_handout, to_jupyterquiz

    if args.answer_key and args.format != "html":
        raise ValueError("--answer-key applies to the html format only")
    questions = _selected(args)
    skipped = not_exportable(questions, args.format)
    if skipped:
        print(f"kms-teach: note: {len(skipped)} ordering item(s) have no {args.format} form and are left out: "
              + ", ".join(skipped), file=sys.stderr)
    if len(skipped) == len(questions):
        raise ValueError(f"none of the selected items can be written as {args.format}")
    if args.format == "gift":
        text = to_gift(questions)
    elif args.format == "jupyterquiz":
        text = to_jupyterquiz(questions)
    else:
        text = to_html_handout(questions, answer_key=args.answer_key, seed=args.seed)
    return _write(text, args.output)


def _quiz(args) -> str:
    questions = _selected(args)
    if args.list or args.output is None:
        width = max(len(q.id) for q in questions)
        return "".join(f"{q.id:<{width}}  {q.topic:<18}  {q.difficulty}\n" for q in questions)
    if not args.output.endswith(".ipynb"):
        raise ValueError(f"--output must name a notebook ending in .ipynb, not {args.output!r}")
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
    return _write(nbformat.writes(nb), args.output)


def voila_template_root():
    """The ``share/jupyter`` folder holding the project's ``kms`` Voila template.

    A regular install puts it under ``sys.prefix``; an editable install (the
    README's) leaves it in the repository, which setuptools' editable mode does
    not copy. Returns None when neither has it.
    """
    from pathlib import Path

    candidates = [Path(__file__).resolve().parents[1] / "share" / "jupyter", Path(sys.prefix) / "share" / "jupyter"]
    for root in candidates:
        if (root / "voila" / "templates" / "kms" / "conf.json").is_file():
            return root
    return None


#: Kernel culling: without it every page load leaves a kernel (~110 MB) running.
VOILA_FLAGS = ("--Voila.ip=127.0.0.1", "--MappingKernelManager.cull_interval=10",
               "--MappingKernelManager.cull_idle_timeout=300",
               "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
               # jupytext's JupyterLab extension (paired lesson sources) fails in Voila's page
               "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext")


def _voila(args) -> int:
    import os

    root = voila_template_root()
    if root is None:
        raise ValueError("the kms Voila template is missing; reinstall with `python -m pip install -e .`")
    argv = [sys.executable, "-m", "voila", args.path, f"--port={args.port}", "--template=kms", *VOILA_FLAGS]
    if args.no_browser:
        argv.append("--no-browser")
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join([str(root), *filter(None, [env.get("JUPYTER_PATH")])])
    if args.print_command:
        print(f"JUPYTER_PATH={env['JUPYTER_PATH']} " + " ".join(argv[1:]))
        return EXIT_OK
    import subprocess

    try:
        return subprocess.call(argv, env=env)
    except KeyboardInterrupt:
        return EXIT_OK


def _check(args) -> int:
    from ._assets import assets_dir
    from .check import check_paths

    paths = args.paths or [assets_dir(), *_lesson_folder()]
    problems = check_paths(paths)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"No problems found in {', '.join(str(p) for p in paths)}.")
    return EXIT_OK


def _lesson_folder() -> list:
    """``notebooks/`` next to the assets of a repository checkout (lessons are not installed)."""
    from ._assets import assets_dir

    folder = assets_dir().resolve().parent / "notebooks"
    return [folder] if folder.is_dir() else []


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _cases(args) -> str:
    from .cases import list_cases

    cases = list_cases()
    width = max(len(c.name) for c in cases)
    return "".join(f"{c.name:<{width}}  {c.description}\n" for c in cases)


def _treatments(args) -> str:
    from .treatments import load_treatments

    catalogue = load_treatments()
    width = max(len(name) for name in catalogue)
    return "".join(f"{name:<{width}}  {t.kind:<13}  {t.description}\n" for name, t in catalogue.items())


def _round(values, decimals):
    return [round(float(v), decimals) for v in values]


def _simulate(args) -> str:
    from .model import LAB_UNITS, simulate

    result = simulate(args.case, args.treat, days=args.days, every_hours=args.every)
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
        return json.dumps(payload, indent=1) + "\n"
    names = list(columns)
    lines = [",".join(names)]
    formats = [f"{{:.{DECIMALS[n]}f}}" for n in names]
    for row in zip(*columns.values()):
        lines.append(",".join(f.format(v) for f, v in zip(formats, row)))
    return "\n".join(lines) + "\n"


def _cohort(args) -> str:
    from .model import LAB_UNITS, LABS, parse_criterion, simulate_cohort

    criterion = parse_criterion(args.response)
    days = args.days if args.days is not None else max(28.0, criterion.day)
    if criterion.day > days:
        raise ValueError(f"the response day {criterion.day:g} lies beyond the simulated {days:g} days; raise --days")
    cohort = simulate_cohort(args.case, n=args.n, seed=args.seed, treatments=args.treat, days=days, every_hours=args.every)
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
        return json.dumps(payload, indent=1) + "\n"
    if args.format == "csv":
        header = "day,lab," + ",".join(f"p{q}" for q in PERCENTILES)
        lines = [header]
        for i, day in enumerate(cohort.day):
            for lab in LABS:
                cells = ",".join(f"{pct[lab][q][i]:.{DECIMALS[lab]}f}" for q in PERCENTILES)
                lines.append(f"{day:.2f},{lab},{cells}")
        return "\n".join(lines) + "\n"
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
    return "\n".join(lines) + "\n"


def _summary_days(days):
    last = float(days[-1])
    picks = [0, 3, 7, 14, 21, 28] + list(range(42, int(last) + 1, 14))
    return sorted({d for d in picks if d <= last} | {last})

"""Lesson sources: MyST Markdown notebooks paired with executed ``.ipynb`` files.

Each lesson is written as ``notebooks/NN_name.md`` (MyST Markdown, what educators edit and
review) and paired by jupytext with ``notebooks/NN_name.ipynb`` (what learners open, executed so
that nbval can compare its outputs). This module

- reads a lesson's metadata (number, objectives with stable ids such as ``L02.3``);
- maps the plain short citations in its text, such as "(Ji 2022)", to entries of
  ``references.yaml`` (their ``short`` field) and writes the lesson's reference list from them;
- checks a lesson (:func:`check_lesson`, used by ``kms-teach check``);
- re-synchronises and re-executes a lesson after an edit::

      python -m kms_teach.lessons sync notebooks/04_treatment_and_recovery.md

The ``.md`` file is the source of truth: ``sync`` rewrites its References section, writes the
paired ``.ipynb`` from it and executes that notebook from a fresh kernel.
"""

from __future__ import annotations

import ast
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


from .questions import Problem

__all__ = ["Objective", "Lesson", "all_objectives", "lesson_quiz", "read_lesson", "short_forms", "cited_short_forms", "references_markdown",
           "check_lesson", "is_lesson_source", "language_info", "plain_outputs", "sync_lesson", "main"]

#: Objective ids: lesson number (two digits) and position in the lesson's list.
OBJECTIVE_ID = re.compile(r"^L(\d\d)\.(\d+)$")
#: Text that must never reach learners as a clinical source.
FORBIDDEN_SOURCES = ("reference pack", "source pack", "docs/model.md", "from memory", "seed article")
#: A capitalised name then a year inside brackets, "(Ji 2022)", is a citation that needs a short form.
CITATION_LIKE = re.compile(r"[A-Z][\w'’.-]*\s+(1[89]|20)\d\d\b")
#: Notebook metadata jupytext keeps in the Markdown front matter (the rest stays in the .ipynb).
METADATA_FILTER = "kms_teach,-jupytext.text_representation.jupytext_version"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def language_info(version: str | None = None) -> dict:
    """The ``language_info`` ipykernel reports, every field of it.

    When JupyterLab or Notebook 7 starts a kernel it writes the kernel's ``language_info`` into
    the notebook and marks the notebook changed unless the stored one is equal, field for field
    and the Python version included (measured in JupyterLab 4.6: without ``version``, or with
    another one, the tab is marked dirty). ``version`` is the executing kernel's Python.
    """
    import platform

    return {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
            "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3", "version": version or platform.python_version()}
EXECUTE_TIMEOUT = 300  # seconds per cell; the slowest lesson cell takes a few seconds


@dataclass(frozen=True)
class Objective:
    """One learning objective: a stable id (``L02.3``) and its wording."""

    id: str
    text: str


@dataclass(frozen=True)
class Lesson:
    """A lesson source as read from its ``.md`` file.

    Attributes
    ----------
    path : Path
        The Markdown source.
    number : int or None
        The lesson number from the file name (``None`` for unnumbered notebooks).
    objectives : tuple of Objective
        From the ``kms_teach.objectives`` metadata.
    notebook : nbformat.NotebookNode
        The notebook jupytext reads from the source.
    """

    path: Path
    number: int | None
    objectives: tuple[Objective, ...]
    notebook: object

    @property
    def markdown(self) -> list[str]:
        return [c.source for c in self.notebook.cells if c.cell_type == "markdown"]

    @property
    def code(self) -> list[str]:
        return [c.source for c in self.notebook.cells if c.cell_type == "code"]

    @property
    def prose(self) -> str:
        """Markdown text plus string literals of code cells (PredictReveal answers are prose too)."""
        texts = [md for md in self.markdown if not md.lstrip().startswith("## References")]
        for source in self.code:
            texts.extend(_string_literals(source))
        return "\n".join(texts)


def _string_literals(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def is_lesson_source(path: Path) -> bool:
    """True for a ``.md`` file that jupytext pairs with an ``.ipynb`` (a lesson source)."""
    if Path(path).suffix != ".md":
        return False
    try:
        head = Path(path).read_text(encoding="utf-8")[:2000]
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith("---") and "jupytext:" in head and "ipynb" in head


def read_lesson(path: str | Path) -> Lesson:
    """Read a lesson source; raise ``ValueError`` with one clear line when it cannot be read."""
    import jupytext

    from ._assets import AssetError, _read_text, parse_content

    path = Path(path)
    try:
        # The front matter goes through the module's safe loader first (size, depth, aliases,
        # duplicate keys), so jupytext's own YAML reading only ever sees checked text.
        text = _read_text(path)
        match = re.match(r"---\n(.*?)\n---\n", text, re.S)
        if match:
            parse_content(match.group(1), path)
        notebook = jupytext.reads(text, fmt="md:myst")
    except AssetError as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:  # jupytext's and the YAML parser's errors, reported in one line
        raise ValueError(f"{path}: not a readable MyST lesson ({exc.__class__.__name__}: {exc})") from None
    meta = notebook.metadata.get("kms_teach", {}) or {}
    objectives = tuple(Objective(str(o.get("id", "")), str(o.get("text", "")))
                       for o in meta.get("objectives", []) if isinstance(o, dict))
    number = int(path.name[:2]) if re.match(r"\d\d_", path.name) else None
    return Lesson(path, number, objectives, notebook)


#: Bank items that teach a lesson's content, used while the bank has no item tagged for that
#: lesson yet (lesson 06 is new; its items get ``lessons: [6]`` as the bank is tagged).
FALLBACK_ITEMS: dict[int, tuple[str, ...]] = {
    6: ("recovery_prognosis-stop-when-counts-normal", "recovery_prognosis-rebound-after-stopping",
        "recovery_prognosis-long-term-course", "treatment-sirolimus-duration", "treatment-vincristine-second-line"),
}


def lesson_quiz(lesson: int, *, seed: int = 0, title: str | None = None, **options):
    """The end-of-lesson quiz: ``Quiz(lesson=N)``, whatever the number of tagged items.

    When no item is tagged for the lesson yet, the quiz uses the lesson's fallback items that
    exist in the bank (:data:`FALLBACK_ITEMS`); with none of those either, it raises
    ``ValueError`` naming the lesson, as ``Quiz`` does for an empty selection.
    """
    from .questions import load_bank
    from .quiz import Quiz

    bank = options.pop("bank", None) or load_bank()
    title = title or f"Lesson {lesson} quiz"
    if bank.select(lesson=lesson):
        return Quiz(lesson=lesson, seed=seed, title=title, bank=bank, **options)
    known = {q.id for q in bank}
    ids = [i for i in FALLBACK_ITEMS.get(lesson, ()) if i in known]
    if not ids:
        raise ValueError(f"lesson {lesson}: no quiz items are tagged for it and it has no fallback items in the bank")
    return Quiz(ids=ids, seed=seed, title=title, bank=bank, **options)


def all_objectives(folder: str | Path) -> dict[str, str]:
    """Every objective id of the numbered lessons in ``folder`` -> its wording, in lesson order."""
    found: dict[str, str] = {}
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.md")):
        if is_lesson_source(path):
            found.update((o.id, o.text) for o in read_lesson(path).objectives)
    return found


# --------------------------------------------------------------------------- citations


def _reference_entries(references: str | Path | None = None) -> list[dict]:
    from ._assets import assets_dir

    from ._assets import read_yaml

    path = Path(references) if references else assets_dir() / "references.yaml"
    entries = read_yaml(path) or []
    return [e for e in entries if isinstance(e, dict)]


def short_forms(references: str | Path | None = None) -> dict[str, dict]:
    """Short citation form (``"Ji 2022"``) -> its ``references.yaml`` entry."""
    return {e["short"]: e for e in _reference_entries(references) if isinstance(e.get("short"), str)}


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def cited_short_forms(text: str, shorts: Iterable[str]) -> list[str]:
    """The short forms that ``text`` cites, in alphabetical order.

    A short form counts when it stands as a whole phrase ("Ji 2022", not "Ji 20221"), so a
    citation broken over two lines is found too.
    """
    flat = _normalise(text)
    found = [s for s in shorts if re.search(rf"(?<![\w-]){re.escape(s)}(?![\w])", flat)]
    return sorted(found, key=_sort_key)


def _sort_key(short: str) -> str:
    # "Léauté-Labrèze" sorts with L, not after Z.
    return unicodedata.normalize("NFKD", short).encode("ascii", "ignore").decode().lower()


def references_markdown(text: str, references: str | Path | None = None) -> str:
    """The generated ``## References`` section for a lesson whose prose is ``text``."""
    shorts = short_forms(references)
    lines = [f"- {shorts[s]['reference']}" for s in cited_short_forms(text, shorts)]
    return "## References\n\n" + "\n".join(lines)


def _unknown_citations(text: str, shorts: Iterable[str]) -> list[str]:
    """Bracketed pieces that look like citations (a name and a year) but name no short form."""
    shorts = list(shorts)
    flat = _normalise(text)
    unknown = []
    for group in re.findall(r"\(([^()]*)\)", flat):
        for piece in group.split(";"):
            if CITATION_LIKE.search(piece) and not any(s in piece for s in shorts):
                unknown.append(piece.strip())
    return unknown


# --------------------------------------------------------------------------- checks


def check_lesson(path: str | Path, references: str | Path | None = None) -> list[Problem]:
    """Check one lesson source and its paired notebook; return the problems (empty when clean)."""
    path = Path(path)
    where = str(path)
    try:
        lesson = read_lesson(path)
    except ValueError as exc:
        return [Problem(where, 1, "(file)", "-", str(exc).split(": ", 1)[-1])]
    problems: list[Problem] = []

    def add(item, field, message, line=1):
        problems.append(Problem(where, line, item, field, message))

    text = path.read_text(encoding="utf-8")

    def line_of(needle: str) -> int:
        index = text.find(needle)
        return text.count("\n", 0, index) + 1 if index >= 0 else 1

    markdown = lesson.markdown
    if not markdown:
        return [Problem(where, 1, "(file)", "-", "a lesson needs Markdown cells")]

    # Objectives: ids in order, numbered for this lesson, each stated in the opening cell.
    if lesson.number is not None:
        if not lesson.objectives:
            add("objectives", "kms_teach.objectives", "the front matter lists no objectives (id and text)")
        for position, objective in enumerate(lesson.objectives, start=1):
            expected = f"L{lesson.number:02d}.{position}"
            if objective.id != expected:
                add(objective.id or f"objective {position}", "kms_teach.objectives.id",
                    f"expected {expected} (lesson number, then position in the list)", line_of(objective.id or "objectives"))
            if not objective.text.strip():
                add(objective.id, "kms_teach.objectives.text", "must be text", line_of(objective.id))
            elif _normalise(objective.text) not in _normalise(markdown[0].replace("**", "")):
                add(objective.id, "objectives", "the opening cell must state this objective as in the front matter",
                    line_of(objective.id))
        stated = set(re.findall(r"\bL\d\d\.\d+\b", markdown[0]))
        listed = {o.id for o in lesson.objectives}
        for extra in sorted(stated - listed):
            add(extra, "objectives", "named in the opening cell but missing from the front matter", line_of(extra))
    first = markdown[0].lower()
    if "not for clinical decisions" not in first:
        add("(opening)", "notice", "the opening cell must say 'not for clinical decisions'")
    if not re.search(r"about \d+ minutes", first):
        add("(opening)", "time", "the opening cell must give the time as 'about N minutes'")

    # Key points and references.
    key_points = [md for md in markdown if md.lstrip().startswith("## Key points")]
    if not key_points or not re.search(r"^\s*[-*] \S", key_points[0], re.M):
        add("Key points", "-", "a lesson needs a '## Key points' cell with at least one bullet", line_of("## Key points"))
    shorts = short_forms(references)
    prose = lesson.prose
    reference_cells = [md for md in markdown if md.lstrip().startswith("## References")]
    expected = references_markdown(prose, references)
    if not reference_cells:
        add("References", "-", "a lesson needs a '## References' cell (run: python -m kms_teach.lessons sync "
            f"{path})")
    elif _normalise(reference_cells[-1]) != _normalise(expected):
        add("References", "-", "the reference list does not match the short forms the text cites; run: "
            f"python -m kms_teach.lessons sync {path}", line_of("## References"))
    elif expected.strip() == "## References" and lesson.number is not None:
        add("References", "-", "the lesson cites no source of references.yaml")
    for piece in _unknown_citations(prose, shorts):
        add("citation", "-", f"{piece[:60]!r} names no short form of references.yaml; add a 'short' field there first",
            line_of(piece.split()[0]) if piece.split() else 1)
    for phrase in FORBIDDEN_SOURCES if lesson.number is not None else ():  # numbered lessons are learner text
        for match in re.finditer(re.escape(phrase), prose, re.I):
            add("text", "-", f"{phrase!r} is not a source for learners: cite a primary paper from references.yaml",
                line_of(match.group(0)))
            break

    # Thin code cells.
    for source in lesson.code:
        if re.search(r"^\s*(async\s+def|def|class)\s", source, re.M) or re.search(r"^\s*\w+\s*=\s*lambda\b", source, re.M):
            add("code cell", "-", "defines a function or class; call the kms_teach package instead", line_of(source[:40]))
        for name in re.findall(r"^\s*(?:from|import)\s+([\w.]+)", source, re.M):
            if name.split(".")[0] != "kms_teach":
                add("code cell", "-", f"imports {name!r}; lessons import only from kms_teach", line_of(source[:40]))

    problems.extend(_check_pairing(lesson))
    return problems


def _cell_signature(cell) -> tuple:
    tags = tuple(cell.get("metadata", {}).get("tags", []))
    return cell.cell_type, cell.source.strip(), tags


def _check_pairing(lesson: Lesson) -> list[Problem]:
    import nbformat

    where = str(lesson.path)
    formats = str(lesson.notebook.metadata.get("jupytext", {}).get("formats", ""))
    if "ipynb" not in formats:
        return [Problem(where, 1, "(file)", "jupytext.formats", "must pair the lesson with an .ipynb (ipynb,md:myst)")]
    paired = lesson.path.with_suffix(".ipynb")
    if not paired.is_file():
        return [Problem(where, 1, "(file)", "-", f"paired notebook {paired.name} is missing; run: python -m "
                        f"kms_teach.lessons sync {lesson.path}")]
    notebook = nbformat.read(paired, as_version=4)
    source = [_cell_signature(c) for c in lesson.notebook.cells]
    stored = [_cell_signature(c) for c in notebook.cells]
    if source != stored:
        first = next((i for i, (a, b) in enumerate(zip(source, stored)) if a != b), min(len(source), len(stored)))
        return [Problem(where, 1, f"cell {first + 1}", "-", f"{paired.name} is out of sync with its source; run: "
                        f"python -m kms_teach.lessons sync {lesson.path}")]
    counts = [c.get("execution_count") for c in notebook.cells if c.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        return [Problem(where, 1, "(file)", "-", f"{paired.name} is not executed top to bottom; run: python -m "
                        f"kms_teach.lessons sync {lesson.path}")]
    return []


# --------------------------------------------------------------------------- sync and execute


def refresh_references(path: str | Path, references: str | Path | None = None) -> bool:
    """Rewrite the ``## References`` cell of the source from the short forms it cites; True if changed."""
    path = Path(path)
    lesson = read_lesson(path)
    text = path.read_text(encoding="utf-8")
    generated = references_markdown(lesson.prose, references)
    match = re.search(r"^## References\n.*?(?=^\+\+\+|^```\{code-cell\}|\Z)", text, re.M | re.S)
    if match:
        new = text[:match.start()] + generated + "\n" + ("\n" if match.end() < len(text) else "") + text[match.end():]
    else:
        new = text.rstrip("\n") + "\n\n+++\n\n" + generated + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def plain_outputs(outputs: list) -> list:
    """The outputs as text only: each rich result (``execute_result``, ``display_data``) becomes
    the ``stdout`` text of its ``text/plain`` form.

    nbformat's notary (``NotebookNotary.check_cells``, which Jupyter runs when a notebook is
    saved) trusts a cell only when it has no rich output at all, whatever its MIME types, so a
    notebook stored this way is signed, hence trusted, the first time the learner saves it.
    Widget views keep their text form ("<Quiz: ...; run the notebook to take it>"); the
    widgets themselves appear when the cells run. Lessons print their text results.
    """
    import nbformat

    plain = []
    for output in outputs:
        if output.get("output_type") in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if not text:
                continue
            output = nbformat.v4.new_output("stream", name="stdout", text=text if text.endswith("\n") else text + "\n")
        plain.append(output)
    return plain


def sync_lesson(path: str | Path, execute: bool = True) -> Path:
    """Refresh the reference list, write the paired ``.ipynb`` and (by default) execute it.

    Returns the path of the written notebook. Outputs come from a fresh kernel started in the
    notebook's folder, so the stored notebook is what "Restart and Run All" gives.
    """
    import jupytext
    import nbformat

    path = Path(path)
    refresh_references(path)
    notebook = jupytext.read(path, fmt="md:myst")
    notebook.metadata.setdefault("jupytext", {})["notebook_metadata_filter"] = METADATA_FILTER
    notebook.metadata["kernelspec"] = KERNELSPEC
    # The Markdown is written with the short form: with pygments_lexer present, jupytext would
    # write every code cell as "{code-cell} ipython3". The notebook gets the full form below.
    notebook.metadata["language_info"] = {"name": "python"}
    # Stable cell ids: a rebuild without changes gives the same file.
    for number, cell in enumerate(notebook.cells, start=1):
        cell.id = f"{path.stem[:2] if path.stem[:2].isdigit() else 'in'}-{number:02d}"
    # Write the Markdown back through jupytext so its front matter keeps the filter.
    jupytext.write(notebook, path, fmt="md:myst")
    target = path.with_suffix(".ipynb")
    if execute:
        from nbclient import NotebookClient

        client = NotebookClient(notebook, timeout=EXECUTE_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        client.execute()
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" or (output.get("output_type") == "stream"
                                                           and output.get("name") == "stderr"):
                    raise RuntimeError(f"{path}: cell {cell.id} wrote an error:\n{output.get('text', output)}")
            if cell.cell_type == "code":
                cell.outputs = plain_outputs(cell.outputs)
    # nbclient stored the kernel's own language_info: keep its Python version, in the standard form.
    reported = notebook.metadata.get("language_info") or {}
    notebook.metadata["language_info"] = language_info(reported.get("version"))
    # Widget state would embed every figure and model id in the file; the widget outputs keep
    # their text form until the learner runs the cells.
    notebook.metadata.pop("widgets", None)
    nbformat.validate(notebook)
    nbformat.write(notebook, target)
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m kms_teach.lessons sync|check PATH.md...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m kms_teach.lessons {sync,check} [--no-execute] LESSON.md..."
    if not args or args[0] not in ("sync", "check"):
        print(usage, file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    execute = "--no-execute" not in rest
    paths = [Path(a) for a in rest if a != "--no-execute"]
    if not paths:
        print(usage, file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        if not path.is_file() or not is_lesson_source(path):
            print(f"{path}: not a lesson source (a MyST .md paired with an .ipynb)", file=sys.stderr)
            status = 1
            continue
        if command == "sync":
            try:
                written = sync_lesson(path, execute=execute)
            except (RuntimeError, ValueError) as exc:
                print(str(exc), file=sys.stderr)
                status = 1
                continue
            print(f"wrote {written}" + (" (executed)" if execute else ""))
        problems = check_lesson(path)
        for problem in problems:
            print(problem)
        status = status or (1 if problems else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())

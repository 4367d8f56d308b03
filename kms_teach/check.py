"""``kms-teach check``: validate the content files an educator edits.

Question files get the JSON Schema, the item-writing rules and the bank-wide
balance rules; case, parameter, treatment and reference-range files go through
the same loaders the simulation uses, so "check is clean" means "the lessons
will load". Every problem is one line, ``file:line: item: field: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ._assets import AssetError, load_content, locate_line, read_yaml
from .questions import Problem, lint_bank, read_question_file

__all__ = ["check_paths", "bank_statistics"]

_SINGLE_FILES = ("parameters.yaml", "treatments.yaml", "reference_ranges.yaml", "validation.yaml", "predictions.yaml")


def _classify(path: Path) -> str | None:
    if path.suffix == ".md":  # a lesson source (MyST paired with .ipynb); other Markdown is skipped
        from .lessons import is_lesson_source

        return "lesson" if is_lesson_source(path) else None
    if path.suffix not in (".yaml", ".yml"):
        return None
    if path.name in _SINGLE_FILES:
        return path.stem
    if path.parent.name == "questions":
        return "questions"
    if path.parent.name == "cases":
        return "case"
    if path.parent.name == "workups":
        return "workup"
    if path.name == "references.yaml":
        return "references"
    try:
        data = read_yaml(path)  # the safe loader; a broken file is reported by _check_other
    except AssetError:
        return "unknown"
    if isinstance(data, dict) and "questions" in data:
        return "questions"
    if isinstance(data, dict) and "activity" in data:
        return "case"
    return "unknown"


def _expand(paths: Iterable[str | Path]) -> tuple[list[tuple[Path, str]], list[Problem]]:
    files, problems = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                kind = _classify(child) if child.is_file() else None
                if kind is not None:
                    files.append((child, kind))
        elif path.is_file():
            files.append((path, _classify(path) or "unknown"))
        else:
            problems.append(Problem(str(path), 0, "(file)", "-", "no such file or folder"))
    return files, problems


def _from_asset_error(path: Path, exc: AssetError) -> Problem:
    line = exc.line or locate_line(path, exc.item, exc.field)
    return Problem(str(path), line, exc.item or "(file)", exc.field or "-", exc.message)


def _check_other(path: Path, kind: str) -> list[Problem]:
    from .cases import load_case
    from .labs import load_reference_ranges
    from .parameters import load_parameters
    from .predictions import load_predictions
    from .treatments import load_treatments
    from .validate import load_checkpoints

    loaders = {
        "validation": load_checkpoints,
        "case": load_case,
        "parameters": load_parameters,
        "treatments": load_treatments,
        "reference_ranges": load_reference_ranges,
        "predictions": load_predictions,
    }
    if kind == "unknown":
        try:
            load_content(path)
        except AssetError as exc:  # unreadable or refused by the safe loader: say why
            return [_from_asset_error(path, exc)]
        return [Problem(str(path), 1, "(file)", "-",
                        "not a question, case, workup, references, parameters, treatments, reference_ranges, "
                        "validation or predictions file")]
    try:
        loaders[kind](path)
    except AssetError as exc:
        return [_from_asset_error(path, exc)]
    except (ValueError, TypeError, KeyError) as exc:  # a loader's own checks, still named by file
        return [Problem(str(path), 1, "(file)", "-", str(exc))]
    return []


def _check_references(path: Path) -> list[Problem]:
    try:
        content = load_content(path)
    except AssetError as exc:
        return [_from_asset_error(path, exc)]
    entries = content.data
    if not isinstance(entries, list):
        return [Problem(str(path), 1, "(file)", "-", "must be a list of sources")]
    problems, keys = [], set()
    for index, entry in enumerate(entries):
        line = content.lines.get((index,), 1)
        item = entry.get("key", f"(entry {index + 1})") if isinstance(entry, dict) else f"(entry {index + 1})"
        for field in ("key", "match", "reference"):
            if not isinstance(entry, dict) or not isinstance(entry.get(field), str) or not entry[field].strip():
                problems.append(Problem(str(path), line, str(item), field, "must be text"))
        if isinstance(entry, dict) and entry.get("key") in keys:
            problems.append(Problem(str(path), line, str(item), "key", "duplicate key"))
        if isinstance(entry, dict):
            keys.add(entry.get("key"))
    return problems


def check_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """Check every content file under ``paths``; return the problems (empty when clean)."""
    paths_seen = list(paths)
    files, problems = _expand(paths_seen)
    questions = []
    question_dirs = set()
    for path, kind in files:
        if kind == "workup":
            from .workup import check_workup_file

            problems.extend(check_workup_file(path))
        elif kind == "references":
            problems.extend(_check_references(path))
        elif kind == "lesson":
            from .lessons import check_lesson

            references = next((p for p, k in files if k == "references"), None)
            problems.extend(check_lesson(path, references))
        elif kind == "questions":
            found, trouble = read_question_file(path)
            questions.extend(found)
            problems.extend(trouble)
            question_dirs.add(str(path.parent))
        else:
            problems.extend(_check_other(path, kind))
    where = sorted(question_dirs)[0] if len(question_dirs) == 1 else "question bank"
    # Objective coverage is a property of a whole bank, not of one file checked alone.
    whole_bank = any(Path(p).is_dir() for p in paths_seen)
    problems.extend(lint_bank(questions, where=where, coverage=whole_bank))
    problems.extend(_check_citations(questions, [p for p, kind in files if kind == "references"]))
    return problems


def _check_citations(questions, reference_files) -> list[Problem]:
    """Every citation must name a source in references.yaml (the one checked, else the installed one)."""
    from ._assets import assets_dir

    path = reference_files[0] if reference_files else assets_dir() / "references.yaml"
    try:
        entries = read_yaml(path)
    except AssetError:
        return []  # reported by _check_references when it was asked for
    entries = entries if isinstance(entries, list) else []
    matches = [e["match"] for e in entries if isinstance(e, dict) and isinstance(e.get("match"), str)]
    problems = []
    for q in questions:
        for i, citation in enumerate(q.citations):
            if not any(m in citation for m in matches):
                problems.append(Problem(q.path, q.line, q.id, f"citations.{i}",
                                        f"{citation[:60]!r} names no source in {path}; add the source there first"))
    return problems


def bank_statistics(paths: Iterable[str | Path]) -> str:
    """``kms-teach check --stats``: key positions, key-length shares beside chance, Bloom mix, coverage."""
    from .questions import bank_stats, format_stats

    files, _ = _expand(paths)
    questions = []
    for path, kind in files:
        if kind == "questions":
            questions.extend(read_question_file(path)[0])
    return format_stats(bank_stats(questions))

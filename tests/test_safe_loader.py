"""The one safe loader for content files: what it refuses, how it says so, and that every path uses it."""

from __future__ import annotations

import ast
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

from kms_teach import _assets
from kms_teach._assets import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
    AssetError,
    assets_dir,
    load_content,
    parse_content,
    read_yaml,
)
from kms_teach.cases import CASE_FIELDS, load_case
from kms_teach.check import check_paths
from kms_teach.questions import read_question_file
from kms_teach.workup import WorkupError, load_workup, read_workup_file

ROOT = pathlib.Path(__file__).resolve().parents[1]
CASE = (assets_dir() / "cases" / "khe-kms.yaml").read_text(encoding="utf-8")


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path, text, name="content.yaml") -> AssetError:
    with pytest.raises(AssetError) as info:
        load_content(write(tmp_path, name, text))
    return info.value


# --------------------------------------------------------------------------- same data as before


@pytest.mark.parametrize("path", sorted(assets_dir().rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_file_reads_to_the_same_data_as_yaml_safe_load(path):
    text = path.read_text(encoding="utf-8")
    content = load_content(path)
    assert content.data == yaml.safe_load(text)
    assert content.problems == []


def test_line_map_gives_the_line_of_keys_and_list_items(tmp_path):
    content = load_content(write(tmp_path, "x.yaml", "a: 1\nb:\n  - p\n  - q: 2\n    r: 3\n"))
    assert content.lines[("a",)] == 1
    assert content.lines[("b", 1)] == 4
    assert content.lines[("b", 1, "r")] == 5
    assert content.data["b"][1].key_lines == {"q": 4, "r": 5}


def test_dates_stay_text_and_yes_no_are_booleans(tmp_path):
    data = load_content(write(tmp_path, "x.yaml", "day: 2001-01-01\nok: yes\n")).data
    assert data == {"day": "2001-01-01", "ok": True}


# --------------------------------------------------------------------------- what is refused


@pytest.mark.parametrize("text, line, field", [
    ("a: &x [1, 2]\nb: *x\n", 2, "b"),
    ("a: &x 1\nb: *x\n", 2, "b"),
    ("a: &c [*c]\n", 1, "a.0"),
    ("base: &base {p: 1}\nother:\n  <<: *base\n", 3, "other.<<"),
])
def test_aliases_are_refused_with_line_and_field(tmp_path, text, line, field):
    error = refused(tmp_path, text)
    assert "YAML alias" in error.message and "write the value out" in error.message
    assert (error.line, error.field) == (line, field)
    assert str(error).startswith(f"{tmp_path / 'content.yaml'}:{line}: (file): {field}: ")


def test_an_alias_bomb_is_refused_at_once_in_every_loader(tmp_path):
    """A 'billion laughs' file (10**9 values once expanded) used to hang every lesson."""
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = "\n".join(levels) + "\n"
    assert len(bomb) < 800
    question = write(tmp_path, "questions/bomb.yaml", bomb + "topic: bomb\ntitle: t\nquestions: *a8\n")
    case = write(tmp_path, "cases/bomb.yaml", bomb + CASE.replace("name: khe-kms", "name: *a8"))
    workup = write(tmp_path, "workups/bomb.yaml", bomb + "id: *a8\n")
    started = time.perf_counter()
    [problem] = read_question_file(question)[1]
    with pytest.raises(AssetError, match="YAML alias"):
        load_case(case)
    with pytest.raises(WorkupError, match="YAML alias"):
        load_workup(workup)
    problems = check_paths([tmp_path])
    assert time.perf_counter() - started < 2.0  # refused before any expansion, not after
    assert "YAML alias" in problem.message and problem.line == 2
    assert len([p for p in problems if "YAML alias" in p.message]) == 3


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "a: " + "[" * 990 + "]" * 990 + "\n",
                                  "a: " + "{b: " * 300 + "1" + "}" * 300 + "\n",
                                  "".join("  " * i + "k:\n" for i in range(400)) + "  " * 400 + "v: 1\n"])
def test_deep_nesting_is_refused_without_recursion_error(tmp_path, text):
    error = refused(tmp_path, text)
    assert f"nested deeper than {MAX_DEPTH} levels" in error.message or "not valid YAML" in error.message
    assert error.line >= 1


DEEP_FORMS = {
    "flow sequences": lambda n: "a: " + "[" * n + "1" + "]" * n + "\n",
    "flow mappings": lambda n: "a: " + "{b: " * n + "1" + "}" * n + "\n",
    "block sequences on one line": lambda n: "a:\n" + "- " * n + "1\n",
}


@pytest.mark.parametrize("parser", ["compiled", "pure-Python"])
@pytest.mark.parametrize("form", sorted(DEEP_FORMS))
def test_nesting_50000_deep_is_refused_in_a_process_with_a_small_stack(tmp_path, form, parser):
    """Deep nesting must not reach recursive code: a stack overflow kills the lesson's kernel.

    The child runs with a 512 KB C stack, smaller than any CI machine's, so a composer that
    recursed once per level (as PyYAML's compiled one does) would crash it with SIGSEGV.
    """
    path = write(tmp_path, "deep.yaml", DEEP_FORMS[form](50_000))
    script = textwrap.dedent(f"""
        import resource, sys, yaml
        from kms_teach import _assets
        if {parser!r} == "pure-Python":
            _assets._Loader = yaml.SafeLoader
        try:
            _assets.load_content({str(path)!r})
        except _assets.AssetError as exc:
            print(exc)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         preexec_fn=lambda: __import__("resource").setrlimit(
                             __import__("resource").RLIMIT_STACK, (512 * 1024, 512 * 1024)))
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-500:]}"
    assert run.stdout.startswith(f"{path}:") and (
        f"nested deeper than {MAX_DEPTH} levels" in run.stdout or "not valid YAML" in run.stdout), run.stdout


def test_nesting_at_the_limit_is_read(tmp_path):
    text = "a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    data = load_content(write(tmp_path, "x.yaml", text)).data
    assert data["a"] == eval("[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1))
    assert "nested deeper" in refused(tmp_path, "a: " + "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH + "\n").message


def test_oversize_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = write(tmp_path, "big.yaml", "# " + "x" * MAX_FILE_BYTES + "\n")
    monkeypatch.setattr(_assets, "_Loader", None)  # parsing would fail loudly: it must not start
    with pytest.raises(AssetError, match=f"too large .* at most {MAX_FILE_BYTES} bytes") as info:
        load_content(path)
    assert info.value.line == 1


def test_too_many_values_are_refused(tmp_path):
    error = refused(tmp_path, "a: [" + "0," * (MAX_VALUES + 1) + "]\n")
    assert f"more than {MAX_VALUES} values" in error.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(AssetError, match="not a regular file"):
        load_content(fifo)


@pytest.mark.parametrize("text, line, field, message", [
    ("a: 1\nb: 2\na: 3\n", 3, "a", "duplicate key 'a' (first given on line 1)"),
    ("x:\n  - id: q1\n    v: .nan\n", 3, "v", "must be a finite number, not .nan"),
    ("x:\n  - id: q1\n    v: -.inf\n", 3, "v", "must be a finite number, not -.inf"),
    ("v: " + "9" * 400 + "\n", 1, "v", "is too large"),
    ("v: 1.0e+16\n", 1, "v", "is too large"),
    ("v: !!binary aGk=\n", 1, "v", "YAML tag tag:yaml.org,2002:binary is not allowed"),
    ("v: !!python/object/apply:os.system [ls]\n", 1, "v", "YAML tag tag:yaml.org,2002:python/object/apply:os.system"),
    ("v: !!set {a, b}\n", 1, "v", "YAML tag tag:yaml.org,2002:set"),
    ("v: !mine x\n", 1, "v", "YAML tag !mine is not allowed"),
    ('v: "a\\0b"\n', 1, "v", "control character U+0000"),
    ('v: "option \\u202e A"\n', 1, "v", "control character U+202E"),
    ("? [a, b]\n: 1\n", 1, None, "a key must be plain text"),
    ('"": 1\n', 1, None, "a key is empty"),
])
def test_value_problems_name_line_and_field(tmp_path, text, line, field, message):
    error = refused(tmp_path, text)
    assert message in error.message
    assert (error.line, error.field) == (line, field)


def test_item_is_the_nearest_id(tmp_path):
    error = refused(tmp_path, "questions:\n  - id: first\n  - id: second\n    answer: {value: .inf}\n")
    assert (error.item, error.field, error.line) == ("second", "answer.value", 4)
    assert error.where == ("questions", 1, "answer", "value")


@pytest.mark.parametrize("raw, message", [
    (b"a: \xff\xfe\n", "is not UTF-8 text (byte 0xff)"),
    (b"a: 1\nb: [\n", "not valid YAML"),
    (b"a: 1\n---\nb: 2\n", "not valid YAML"),
])
def test_unreadable_text_is_one_line_with_a_line_number(tmp_path, raw, message):
    error = refused(tmp_path, raw)
    assert message in error.message and error.line >= 1
    assert "\n" not in str(error)


def test_lenient_reading_returns_value_problems_instead_of_raising(tmp_path):
    content = load_content(write(tmp_path, "x.yaml", "a: .nan\nb: 1\nb: 2\n"), lenient=True)
    assert [p.field for p in content.problems] == ["a", "b"]


def test_parse_content_refuses_oversize_text():
    with pytest.raises(AssetError, match="too large"):
        parse_content("#" * (MAX_FILE_BYTES + 1))


# --------------------------------------------------------------------------- the loaders use it


def test_a_nan_in_one_question_leaves_out_only_that_question(tmp_path):
    source = assets_dir() / "questions" / "treatment.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    numeric = next(i for i, q in enumerate(data["questions"]) if q["type"] == "numeric")
    data["questions"][numeric]["answer"]["tolerance"] = float("nan")
    path = write(tmp_path, "treatment.yaml", yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    found, problems = read_question_file(path)
    [problem] = problems
    assert problem.item == data["questions"][numeric]["id"] and problem.field == "answer.tolerance"
    assert "finite number" in problem.message and problem.line > 1
    assert len(found) == len(data["questions"]) - 1


def test_a_duplicate_key_in_a_question_names_item_field_and_both_lines(tmp_path):
    text = (assets_dir() / "questions" / "treatment.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("difficulty:"))
    lines.insert(at + 1, lines[at])
    path = write(tmp_path, "treatment.yaml", "\n".join(lines) + "\n")
    [problem] = read_question_file(path)[1]
    assert problem.field == "difficulty" and problem.line == at + 2
    assert f"first given on line {at + 1}" in problem.message


def test_a_workup_error_is_an_asset_error_with_the_first_line(tmp_path):
    text = (assets_dir() / "workups" / "khe-workup.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, "khe-workup.yaml", text.replace("budget:", "budget: .nan\nbudget_was:", 1))
    with pytest.raises(AssetError) as info:
        load_workup(path)
    assert isinstance(info.value, WorkupError)
    assert str(info.value).startswith(f"{path}:{info.value.line}: ")
    assert "finite number" in str(info.value)
    assert read_workup_file(path)[0] is None


@pytest.mark.parametrize("change, line, field, message", [
    (("activity:", "activty: {severity: 1}\nactivity:"), None, "activty", "unknown field 'activty'; valid fields: name"),
    (("  severity: 1.0", "  severity: 1.0\n  sevrity: 2"), None, "activity.sevrity", "unknown field 'sevrity'"),
    (("name: khe-kms", "name: other-name"), None, "name", "must equal the file name 'khe-kms', not 'other-name'"),
    (("weight_kg:", "weight_kg: .nan\nold_weight:"), None, "weight_kg", "must be a finite number"),
    (("age_days:", "age_days: 1\nage_days:"), None, "age_days", "duplicate key 'age_days'"),
])
def test_case_files_refuse_unknown_keys_and_a_name_other_than_the_file(tmp_path, change, line, field, message):
    assert change[0] in CASE
    path = write(tmp_path, "khe-kms.yaml", CASE.replace(*change, 1))
    with pytest.raises(AssetError) as info:
        load_case(path)
    error = info.value
    assert message in error.message and error.field == field and error.item == "khe-kms"
    expected = line or [i for i, text in enumerate(CASE.replace(*change, 1).splitlines(), 1)
                        if text.strip().startswith(field.split(".")[-1] + ":")][-1]
    assert error.line == expected
    assert str(error).startswith(f"{path}:{expected}: khe-kms: {field}: ")


def test_case_fields_are_one_explicit_list(tmp_path):
    # every key a shipped case uses is listed, and a new optional field is added in one place
    for path in (assets_dir() / "cases").glob("*.yaml"):
        assert set(read_yaml(path)) <= set(CASE_FIELDS)
    assert len(CASE_FIELDS) == len(set(CASE_FIELDS))


def test_missing_case_field_carries_the_line_of_its_mapping(tmp_path):
    path = write(tmp_path, "khe-kms.yaml", CASE.replace("weight_kg:", "# weight_kg:", 1))
    first = next(i for i, text in enumerate(CASE.splitlines(), 1) if not text.startswith("#"))
    with pytest.raises(AssetError, match=rf"khe-kms.yaml:{first}: khe-kms: weight_kg: is missing"):
        load_case(path)


# --------------------------------------------------------------------------- every path uses it


def test_no_other_yaml_reading_in_the_package():
    """Only _assets.py may call PyYAML: every other module reads content through load_content."""
    offenders = []
    for path in sorted((ROOT / "kms_teach").rglob("*.py")):
        if path.name == "_assets.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n == "yaml" or n.startswith("yaml.") for n in names):
                    offenders.append(f"{path.name}:{node.lineno} imports yaml")
            if isinstance(node, ast.Attribute) and node.attr in ("safe_load", "load", "compose", "full_load",
                                                                  "unsafe_load", "CSafeLoader", "SafeLoader"):
                if isinstance(node.value, ast.Name) and node.value.id == "yaml":
                    offenders.append(f"{path.name}:{node.lineno} yaml.{node.attr}")
    assert not offenders, offenders


def test_notebooks_read_no_yaml_themselves():
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "import yaml" not in text and "safe_load" not in text, path.name


@pytest.fixture()
def bombed_assets(tmp_path):
    """An educator's folder (KMS_TEACH_ASSETS) in which one question file is an alias bomb."""
    copy = tmp_path / "assets"
    shutil.copytree(assets_dir(), copy)
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (copy / "questions" / "bomb.yaml").write_text("\n".join(levels) + "\nquestions: *a8\n", encoding="utf-8")
    (copy / "cases" / "deep.yaml").write_text("name: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    return copy


def test_a_bomb_in_a_custom_assets_folder_does_not_stall_a_lesson_or_check(bombed_assets):
    env = {**os.environ, "KMS_TEACH_ASSETS": str(bombed_assets)}
    script = textwrap.dedent("""\
        from kms_teach.quiz import Quiz
        from kms_teach.cases import list_cases
        quiz = Quiz(lesson=0)
        print(len(quiz.bank.problems), [p.message for p in quiz.bank.problems if 'alias' in p.message][:1])
        try:
            list_cases()
        except ValueError as exc:
            print('case:', exc)
        """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "YAML alias" in run.stdout
    assert "deep.yaml:1: " in run.stdout and ("nested deeper" in run.stdout or "not valid YAML" in run.stdout)
    check = subprocess.run([sys.executable, "-m", "kms_teach", "check", str(bombed_assets)],
                           capture_output=True, text=True, env=env, timeout=120)
    assert check.returncode == 1
    assert "Traceback" not in check.stderr + check.stdout
    output = check.stdout + check.stderr
    assert f"{bombed_assets / 'questions' / 'bomb.yaml'}:2: (file): a1.0: uses a YAML alias" in output


def test_a_broken_schema_in_a_custom_folder_is_one_line(tmp_path):
    path = write(tmp_path, "question.schema.json", "[" * 100_000)
    with pytest.raises(AssetError, match=r"question.schema.json:1: not valid JSON"):
        _assets.read_json(path)

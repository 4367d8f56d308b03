"""Class delivery and the educator guide.

- Project files: CITATION.cff and CHANGELOG.md agree with pyproject.toml's version.
- Launch links in docs/educator-guide.md (and README.md): Binder at a release
  tag, a well-formed nbgitpuller link, Voila commands that name real lessons,
  and a lesson map that matches the notebooks and the question bank.
- The instructor notebook keeps the lesson notebooks' hygiene rules (it is not
  numbered, so tests/test_notebooks.py does not see it).
- The educator flow: every recipe step of the guide is executed literally, in
  order, on a fresh copy of the installed content, as an educator would.

Guide markers (each on the line right before a fenced block):

    <!-- guide-step: NAME -->         ```bash    commands run in one terminal session
    <!-- guide-file: PATH.yaml -->    ```yaml    a whole file written at PATH inside the copy
    <!-- guide-edit: PATH.yaml -->    ```yaml    one top-level entry of PATH replaced by this one
    <!-- guide-python: NAME -->       ```python  a notebook cell, run with the copy in force
    <!-- guide-interactive: NAME -->  ```bash    starts a server (jupyter, voila): checked, not run
    <!-- guide-alternative: NAME -->  ```bash    another way to do a step: run apart, in a scratch folder
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from kms_teach import load_bank
from kms_teach.markup import to_html

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "educator-guide.md"
README = ROOT / "README.md"
CITATION = ROOT / "CITATION.cff"
CHANGELOG = ROOT / "CHANGELOG.md"
PYPROJECT = ROOT / "pyproject.toml"
NOTEBOOKS = ROOT / "notebooks"
INSTRUCTOR = NOTEBOOKS / "instructor_notes.ipynb"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

RELEASE_TAG = re.compile(r"^v\d+\.\d+\.\d+$")
MOVING_REFS = {"main", "master", "head", "develop", "dev", "gh-pages"}
MARKER = re.compile(r"^<!-- guide-(step|file|edit|python|interactive|alternative): (\S+) -->$")
FENCE_FOR = {"step": "bash", "interactive": "bash", "alternative": "bash", "file": "yaml", "edit": "yaml",
             "python": "python"}
#: The recipe steps the issue asks for, each of which the flow test runs.
REQUIRED_STEPS = {"copy-assets", "simulate-before", "check-parameter", "add-case", "check-question",
                  "custom-quiz", "check-all", "export"}
STEP_TIMEOUT = 120


def project_version() -> str:
    with PYPROJECT.open("rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Block:
    kind: str  # step | file | edit | python | interactive | alternative
    name: str
    body: str
    line: int  # 1-based line of the marker in the guide

    @property
    def where(self) -> str:
        return f"docs/educator-guide.md:{self.line} ({self.kind} {self.name})"


def guide_blocks(text: str | None = None) -> list[Block]:
    """Every marked block of the guide, in document order."""
    lines = (guide() if text is None else text).splitlines()
    blocks = []
    for index, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if not match:
            continue
        kind, name = match.groups()
        opening = lines[index + 1].strip() if index + 1 < len(lines) else ""
        assert opening == "```" + FENCE_FOR[kind], (
            f"docs/educator-guide.md:{index + 2}: a guide-{kind} marker must be followed at once by a "
            f"```{FENCE_FOR[kind]} block, not {opening!r}")
        body = []
        for inner in lines[index + 2:]:
            if inner.strip() == "```":
                break
            body.append(inner)
        else:
            raise AssertionError(f"docs/educator-guide.md:{index + 2}: the block is never closed")
        blocks.append(Block(kind, name, "\n".join(body) + "\n", index + 1))
    return blocks


def section(text: str, heading_prefix: str) -> str:
    """The text from the level-2 heading starting with ``heading_prefix`` to the next one."""
    match = re.search(rf"^## {re.escape(heading_prefix)}.*?(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/educator-guide.md has no '## {heading_prefix}...' section"
    return match.group(0)


# --------------------------------------------------------------------------- project files


def test_citation_cff_parses_and_carries_the_pyproject_version():
    data = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    assert data["cff-version"] == "1.2.0"
    assert isinstance(data["version"], str) and data["version"] == project_version()
    assert data["message"].strip() and data["title"].strip() and data["abstract"].strip()
    assert data["authors"] == [{"name": "kms-teach developers"}]
    assert data["license"] == "MIT"
    assert len(data["keywords"]) >= 3 and all(isinstance(k, str) and k for k in data["keywords"])
    assert "TODO" not in CITATION.read_text(encoding="utf-8")
    assert "repository-code" not in data or "OWNER" not in data["repository-code"]


def test_changelog_has_an_unreleased_section_and_an_entry_for_the_version():
    text = CHANGELOG.read_text(encoding="utf-8")
    assert "Keep a Changelog" in text
    headings = re.findall(r"^## \[([^\]]+)\](.*)$", text, re.M)
    names = [name for name, _ in headings]
    assert names[0] == "Unreleased", "the newest section comes first and is [Unreleased]"
    assert project_version() in names, f"CHANGELOG.md has no '## [{project_version()}]' entry"
    for name, rest in headings[1:]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", name), name
        assert re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest), f"'## [{name}]' needs ' - YYYY-MM-DD'"


# --------------------------------------------------------------------------- launch links


def binder_links(text: str) -> list[str]:
    return re.findall(r"https://mybinder\.org/v2/gh/[^\s)\]>`'\"]+", text)


def notebook_behind(urlpath: str, repo_folder: str | None = None) -> Path:
    """The repository file a JupyterLab or Voila ``urlpath`` opens."""
    for prefix in ("lab/tree/", "tree/", "voila/render/"):
        if urlpath.startswith(prefix):
            rest = urlpath[len(prefix):]
            break
    else:
        raise AssertionError(f"urlpath {urlpath!r} opens neither JupyterLab nor Voila")
    if repo_folder is not None:
        assert rest.startswith(repo_folder + "/"), (
            f"urlpath {urlpath!r} must go through the folder nbgitpuller creates, {repo_folder!r}")
        rest = rest[len(repo_folder) + 1:]
    return ROOT / rest


def test_the_guide_has_a_binder_badge():
    assert re.search(r"\[!\[[^\]]*\]\(https://mybinder\.org/badge_logo\.svg\)\]\(https://mybinder\.org/v2/gh/",
                     guide()), "docs/educator-guide.md needs a Binder badge"
    assert "OWNER" in guide() and "not fixed yet" in guide(), "say that the owner is a placeholder"


@pytest.mark.parametrize("path", [GUIDE, README], ids=lambda p: p.name)
def test_binder_links_point_at_a_release_tag_and_an_existing_notebook(path):
    links = binder_links(path.read_text(encoding="utf-8"))
    if path == GUIDE:
        assert links, "the guide must give a Binder link"
    for link in links:
        parts = urllib.parse.urlsplit(link)
        segments = parts.path.split("/")
        assert segments[:3] == ["", "v2", "gh"] and len(segments) == 6, link
        _owner, repo, ref = segments[3:]
        assert repo == "kms-teach", link
        assert ref.lower() not in MOVING_REFS, f"{link} follows the moving branch {ref!r}; use a release tag"
        assert RELEASE_TAG.match(ref), f"{link}: {ref!r} is not a release tag like v1.2.3"
        query = urllib.parse.parse_qs(parts.query)
        assert list(query) == ["urlpath"], link
        target = notebook_behind(query["urlpath"][0])
        assert target.is_file(), f"{link} opens {target.relative_to(ROOT)}, which does not exist"


def test_binder_links_name_the_tag_of_the_current_version():
    tags = {urllib.parse.urlsplit(link).path.split("/")[5] for link in binder_links(guide())}
    assert tags == {f"v{project_version()}"}, (
        f"the guide's Binder links point at {sorted(tags)}; pyproject.toml's version is {project_version()}")


def nbgitpuller_links(text: str) -> list[str]:
    return re.findall(r"https://[^\s/`]+/hub/user-redirect/git-pull\?[^\s`)\]]+", text)


def test_the_nbgitpuller_link_is_well_formed_and_url_encoded():
    links = nbgitpuller_links(guide())
    assert links, "the guide must give an nbgitpuller link"
    for link in links:
        parts = urllib.parse.urlsplit(link)
        assert parts.scheme == "https" and parts.netloc, link
        assert parts.path == "/hub/user-redirect/git-pull", link
        query = urllib.parse.parse_qs(parts.query, strict_parsing=True)
        assert {"repo", "branch", "urlpath"} <= set(query), link
        assert all(len(values) == 1 for values in query.values()), link
        # Every value URL-encoded: the raw query holds no bare ':' or '/', and re-encoding it
        # gives back exactly what the guide prints.
        assert "/" not in parts.query and ":" not in parts.query, f"{link}: encode ':' and '/' in values"
        assert urllib.parse.urlencode(urllib.parse.parse_qsl(parts.query)) == parts.query, link
        repo = urllib.parse.urlsplit(query["repo"][0])
        assert repo.scheme == "https" and repo.netloc and repo.path.rstrip("/").endswith("/kms-teach"), link
        assert re.fullmatch(r"[\w./-]+", query["branch"][0]), link
        folder = repo.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        target = notebook_behind(query["urlpath"][0], repo_folder=folder)
        assert target.is_file(), f"{link} opens {target.relative_to(ROOT)}, which does not exist"


def voila_commands(text: str) -> list[str]:
    return re.findall(r"\bvoila\s+(notebooks/[^\s`'\"]*\.ipynb)", text)


@pytest.mark.parametrize("path", [GUIDE, README], ids=lambda p: p.name)
def test_every_voila_command_names_an_existing_notebook(path):
    for notebook in voila_commands(path.read_text(encoding="utf-8")):
        assert (ROOT / notebook).is_file(), f"{path.name}: 'voila {notebook}' names no notebook"


def test_the_guide_gives_a_voila_command_for_every_lesson():
    named = {Path(n).name for n in voila_commands(guide())}
    missing = sorted(p.name for p in LESSONS if p.name not in named)
    assert not missing, f"no 'voila notebooks/...' command in the guide for {missing}"


# --------------------------------------------------------------------------- lesson map


def lesson_map() -> list[dict]:
    text = guide()
    match = re.search(r"<!-- lesson-map -->(.*?)<!-- /lesson-map -->", text, re.S)
    assert match, "the lesson map must sit between <!-- lesson-map --> and <!-- /lesson-map -->"
    rows = []
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        link = re.search(r"\((\.\./)?(notebooks/[^)]+\.ipynb)\)", cells[0]) if cells else None
        if link:
            rows.append({"path": ROOT / link.group(2), "objectives": cells[1], "minutes": cells[2],
                         "items": cells[3]})
    return rows


def stated_minutes(notebook: Path) -> int:
    first = "".join(json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"])
    match = re.search(r"about (\d+) minutes", first)
    assert match, f"{notebook.name} states no 'about N minutes'"
    return int(match.group(1))


def test_every_lesson_in_the_map_exists_and_every_lesson_is_in_the_map():
    rows = lesson_map()
    for row in rows:
        assert row["path"].is_file(), f"the lesson map names {row['path'].relative_to(ROOT)}, which does not exist"
        assert row["objectives"], row
    assert [r["path"] for r in rows] == LESSONS


def test_the_lesson_map_gives_each_lessons_own_time_and_quiz_size():
    bank = load_bank()
    for row in lesson_map():
        notebook = row["path"]
        assert int(row["minutes"]) == stated_minutes(notebook), notebook.name
        lesson = int(notebook.name[:2])
        items = int(re.match(r"\d+", row["items"]).group(0))
        if notebook.stem == "05_review":
            assert re.search(rf"Quiz\(n={items},", notebook.read_text(encoding="utf-8")), notebook.name
        else:
            assert items == len(bank.select(lesson=lesson)), f"lesson {lesson} quiz items"
    total = sum(stated_minutes(p) for p in LESSONS)
    assert f"({total} minutes)" in guide()


# --------------------------------------------------------------------------- instructor notebook


def test_the_instructor_notebook_is_thin_executed_and_linked_from_the_guide():
    notebook = nbformat.read(INSTRUCTOR, as_version=4)
    nbformat.validate(notebook)
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    code = [c for c in notebook.cells if c.cell_type == "code"]
    first = markdown[0].lower()
    assert "not for clinical decisions" in first and "objective" in first and re.search(r"\d+\s*min", first)
    joined = "\n".join(markdown)
    assert "## Key points" in joined and "## References" in joined
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "commit it executed, top to bottom"
    for cell in code:
        assert not re.search(r"^\s*(def|class)\s", cell.source, re.M), cell.source
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", cell.source, re.M)
        assert all(name.split(".")[0] == "kms_teach" for name in imports), imports
        assert all(o.get("output_type") != "error" for o in cell.outputs)
    checked = [c for c in code if "nbval-check-output" in c.metadata.get("tags", [])]
    assert any("difficulty=" in c.source and "topics=" in c.source for c in checked)
    assert any(re.search(r"Quiz\(.*difficulty=", c.source) for c in code)
    assert "notebooks/instructor_notes.ipynb" in guide()


# --------------------------------------------------------------------------- the guide's markers


def test_guide_markers_are_well_formed_and_name_files_inside_the_copy():
    text = guide()
    loose = [line for line in text.splitlines() if "<!-- guide-" in line and not MARKER.match(line.strip())]
    assert not loose, f"malformed guide markers: {loose}"
    blocks = guide_blocks(text)
    names = [(b.kind, b.name) for b in blocks]
    assert len(names) == len(set(names)), "each marker name is used once per kind"
    assert REQUIRED_STEPS <= {b.name for b in blocks if b.kind == "step"}
    assert any(b.kind == "python" for b in blocks)
    for block in blocks:
        assert block.body.strip(), block.where
        if block.kind in ("file", "edit"):
            path = Path(block.name)
            assert not path.is_absolute() and ".." not in path.parts and path.suffix == ".yaml", block.where
            yaml.safe_load(block.body)


def test_every_command_and_file_in_the_recipes_is_marked():
    lines = section(guide(), "3. Recipes").splitlines()
    inside = False
    for index, line in enumerate(lines):
        fence = re.match(r"^\s*```(\w*)\s*$", line)
        if not fence:
            continue
        if inside:
            inside = False
            continue
        inside = True
        if fence.group(1) in ("bash", "sh", "shell", "yaml", "python"):
            previous = lines[index - 1].strip() if index else ""
            assert MARKER.match(previous), (
                f"a ```{fence.group(1)} block in the recipes has no guide marker before it: {lines[index + 1]!r}")


# --------------------------------------------------------------------------- the educator flow


def _read_env(path: Path) -> dict[str, str]:
    env = {}
    for entry in path.read_bytes().split(b"\0"):
        if b"=" in entry:
            key, value = entry.decode("utf-8", "surrogateescape").split("=", 1)
            env[key] = value
    for transient in ("_", "SHLVL", "OLDPWD"):
        env.pop(transient, None)
    return env


def _replace_entry(path: Path, entry: str) -> None:
    """Replace the top-level YAML entry that ``entry`` starts with; everything but ``value`` must match."""
    new = entry.rstrip("\n").splitlines()
    key = new[0]
    assert re.fullmatch(r"[\w-]+:", key), f"a guide-edit block starts with a top-level key, not {key!r}"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(key)
    end = start + 1
    while end < len(lines) and lines[end].strip() and lines[end].startswith((" ", "\t")):
        end += 1
    old = lines[start:end]
    assert _without_value(old) == _without_value(new), (
        f"the guide's {key} entry no longer matches {path.name} apart from its value:\n"
        + "\n".join(old))
    path.write_text("\n".join(lines[:start] + new + lines[end:]) + "\n", encoding="utf-8")


def _without_value(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.strip().startswith("value:")]


def _outputs(body: str, suffix: str) -> list[str]:
    return re.findall(rf"--output\s+(\S+{re.escape(suffix)})\b", body)


def _day0_platelets(stdout: str) -> float:
    match = re.search(r"^0\.00,([\d.]+),", stdout, re.M)
    assert match, f"no day-0 row in:\n{stdout}"
    return float(match.group(1))


def _installed_assets(monkeypatch) -> Path:
    from kms_teach._assets import assets_dir

    monkeypatch.delenv("KMS_TEACH_ASSETS", raising=False)
    return assets_dir()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")
def test_the_guide_steps_work_as_written(tmp_path, monkeypatch):
    installed = _installed_assets(monkeypatch)
    # A checkout as the guide assumes: the repository root holds assets/ (a copy of the
    # installed content, so the real one is never touched).
    checkout = tmp_path / "kms-teach"
    shutil.copytree(installed, checkout / "assets")
    # The lessons too, for recipe (g) "Edit a lesson" (sources and executed notebooks).
    shutil.copytree(NOTEBOOKS, checkout / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "answers-*"))
    # `kms-teach` and `python` on PATH, both this interpreter, so the package under test is used.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, command in (("kms-teach", f'"{sys.executable}" -m kms_teach'), ("python", f'"{sys.executable}"')):
        shim = bindir / name
        shim.write_text(f'#!/bin/sh\nexec {command} "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != "KMS_TEACH_ASSETS"}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONIOENCODING"] = "utf-8"
    env_file = tmp_path / "env-after-step"

    fresh_env = dict(env)
    blocks = guide_blocks()
    out: dict[str, str] = {}
    written: dict[str, str] = {}
    for block in blocks:
        if block.kind == "step":
            # One terminal session: `export` in one step holds for the next, as for an educator.
            script = f"set -e\n{block.body}env -0 > '{env_file}'\n"
            result = subprocess.run(["bash", "-c", script], cwd=checkout, env=env, capture_output=True,
                                    text=True, timeout=STEP_TIMEOUT)
            assert result.returncode == 0, (
                f"{block.where} failed with status {result.returncode}:\n{result.stdout}\n{result.stderr}")
            env = _read_env(env_file)
            out[block.name] = result.stdout
        elif block.kind == "python":
            result = subprocess.run([sys.executable, "-c", block.body], cwd=checkout, env=env,
                                    capture_output=True, text=True, timeout=STEP_TIMEOUT)
            assert result.returncode == 0, f"{block.where} failed:\n{result.stdout}\n{result.stderr}"
            out[block.name] = result.stdout
        elif block.kind in ("file", "edit"):
            assert "KMS_TEACH_ASSETS" in env, f"{block.where}: the guide must set KMS_TEACH_ASSETS first"
            target = Path(env["KMS_TEACH_ASSETS"]) / block.name
            if block.kind == "file":
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.body, encoding="utf-8")
                written[block.name] = block.body
            else:
                _replace_entry(target, block.body)
        elif block.kind == "alternative":
            # Another way to do a step, from a fresh terminal: run apart so it cannot mask the main path.
            scratch = tmp_path / f"alternative-{block.name}"
            scratch.mkdir()
            result = subprocess.run(["bash", "-c", f"set -e\n{block.body}"], cwd=scratch, env=fresh_env,
                                    capture_output=True, text=True, timeout=STEP_TIMEOUT)
            assert result.returncode == 0, f"{block.where} failed:\n{result.stdout}\n{result.stderr}"
            made = [p for p in scratch.iterdir() if (p / "parameters.yaml").is_file()]
            assert made, f"{block.where} made no copy of the content"
            checked = subprocess.run([sys.executable, "-m", "kms_teach", "check", str(made[0])], env=fresh_env,
                                     capture_output=True, text=True, timeout=STEP_TIMEOUT)
            assert checked.returncode == 0, checked.stdout + checked.stderr
        else:  # interactive: starts a server, so only its commands and files are checked
            for command in filter(None, (line.strip() for line in block.body.splitlines())):
                assert command.split()[0] in ("jupyter", "voila"), f"{block.where}: {command!r}"
                for argument in command.split()[1:]:
                    if argument.endswith(".ipynb"):
                        assert (checkout / argument).is_file(), f"{block.where}: {argument} was never written"

    copy = checkout / "my-assets"
    assert env.get("KMS_TEACH_ASSETS") == str(copy), "the guide points KMS_TEACH_ASSETS at its copy"
    for step in ("copy-assets", "check-question", "check-all", "edit-lesson"):
        assert "No problems found" in out[step], out[step]
    assert "wrote notebooks/00_start_here.ipynb (executed)" in out["edit-lesson"]

    # (a) the parameter change is checked and shows in the model's output.
    assert "No problems found" in out["check-parameter"]
    assert _day0_platelets(out["check-parameter"]) > _day0_platelets(out["simulate-before"])

    # (b) the new case is valid and known by name.
    case_files = [name for name in written if name.startswith("cases/")]
    assert case_files, "the guide adds a case"
    case_names = [yaml.safe_load(written[name])["name"] for name in case_files]
    assert "No problems found" in out["add-case"]
    for name in case_names:
        assert re.search(rf"^{re.escape(name)}\s", out["add-case"], re.M), f"{name} not listed by kms-teach cases"

    # (c) the new questions passed check (above), use the new case and cite listed sources.
    items = [item for name in written if name.startswith("questions/")
             for item in yaml.safe_load(written[name])["questions"]]
    assert items, "the guide adds a question"
    assert any(item.get("case", {}).get("name") in case_names for item in items)
    sources = yaml.safe_load((copy / "references.yaml").read_text(encoding="utf-8"))
    for item in items:
        for citation in item["citations"]:
            assert any(source["match"] in citation for source in sources), citation

    # (d) a custom quiz: listed from the command line, written as a notebook, built in Python.
    for item in items:
        listed = re.search(rf"^{re.escape(item['id'])}\s+(\S+)\s+(\S+)\s*$", out["custom-quiz"], re.M)
        assert listed, f"{item['id']} not in `kms-teach quiz --list`:\n{out['custom-quiz']}"
        assert listed.group(2) == item["difficulty"]
        assert item["id"] in out["custom-quiz-python"]
    quiz_notebooks = [nb for block in blocks if block.name == "custom-quiz" for nb in _outputs(block.body, ".ipynb")]
    assert quiz_notebooks
    for name in quiz_notebooks:
        notebook = nbformat.read(checkout / name, as_version=4)
        nbformat.validate(notebook)
        code = [c.source for c in notebook.cells if c.cell_type == "code"]
        assert len(code) == 1 and "Quiz(ids=" in code[0]
        assert all(repr(item["id"]) in code[0] for item in items)

    # (f) exports contain the new question.
    export = next(block for block in blocks if block.name == "export")
    gift = _outputs(export.body, ".gift")
    assert gift, "the guide exports to GIFT"
    for name in gift:
        text = (checkout / name).read_text(encoding="utf-8")
        for item in items:
            assert f"::{item['id']}::" in text, f"{item['id']} missing from {name}"
        assert "Laboratory results (simulated" in text, "a case-based item carries the model's panel"
    for name in _outputs(export.body, ".json"):
        exported = json.loads((checkout / name).read_text(encoding="utf-8"))
        # the export carries sanitised HTML (with [ ] $ as character references for jupyterquiz)
        stems = [html.unescape(entry["question"]) for entry in exported]
        assert all(html.unescape(to_html(item["question"])) in stems for item in items), name
    pages = {name: (checkout / name).read_text(encoding="utf-8") for name in _outputs(export.body, ".html")}
    assert len(pages) == 2, "a handout and its answer key"
    for name, page in pages.items():
        assert "<script" not in page.lower(), name
    keys = [page for name, page in pages.items() if "--answer-key" in
            next(line for line in export.body.splitlines() if name in line)]
    assert len(keys) == 1 and "<strong>Answer:</strong>" in keys[0]
    # Item ids can name the answer, so only the key carries them (issue 14).
    assert all((f'id="{item["id"]}"' in page) == (page is keys[0]) for item in items for page in pages.values())
    handout = next(page for page in pages.values() if page is not keys[0])
    assert "<strong>Answer:</strong>" not in handout
    for item in items:
        right = [a for a in item.get("answers", []) if a.get("correct")]
        for answer in right:
            assert answer["answer"] in keys[0], "the answer key names the right option"
            assert answer["feedback"][:40] not in handout, "the handout gives no answers away"

    # The installed content is untouched.
    assert not (installed / "questions" / "our_class.yaml").exists()
    assert all(not (installed / name).exists() for name in written)

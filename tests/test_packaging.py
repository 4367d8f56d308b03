"""Packaging, Binder environment, README set-up commands and the CI script.

These checks keep the places that describe the installation in step:
pyproject.toml (pip), environment.yml + postBuild (Binder), README.md (people)
and .ci/run (CI, which runs the README's test command verbatim).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
POSTBUILD = ROOT / "postBuild"

SELF_NAMES = {"kms-teach"}
# Entries that are not dependencies of the package: the interpreter, the
# installer, and the package itself.
NOT_DEPENDENCIES = {"python", "pip"} | SELF_NAMES

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")


def normalise(requirement: str) -> str:
    """Distribution name of a pip or conda requirement, normalised.

    Lower case, with runs of ``-``, ``_`` and ``.`` turned into ``-`` (PEP 503);
    version specifiers, extras, markers and conda build strings are dropped.
    """
    match = _NAME.match(requirement)
    assert match, f"cannot read a package name from {requirement!r}"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def pyproject() -> dict:
    with PYPROJECT.open("rb") as fh:
        return tomllib.load(fh)


def runtime_dependency_names() -> set[str]:
    return {normalise(req) for req in pyproject()["project"]["dependencies"]}


def _is_local_install(entry: str) -> bool:
    """True for pip entries that install this repository (``.``, ``-e .``)."""
    target = entry.strip()
    if target.startswith(("-e ", "--editable ")):
        target = target.split(None, 1)[1].strip()
    return target.startswith((".", "/", "file:"))


def environment_dependency_names() -> set[str]:
    env = yaml.safe_load(ENVIRONMENT.read_text(encoding="utf-8"))
    names: set[str] = set()
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            for pip_entry in entry.get("pip", []):
                if not _is_local_install(pip_entry):
                    names.add(normalise(pip_entry))
        else:
            names.add(normalise(str(entry)))
    return names - NOT_DEPENDENCIES


def readme_command(marker: str, text: str | None = None) -> str:
    """The one command line of the ```bash block right after ``<!-- marker -->``.

    Same rules as .ci/run: the marker occurs once, the next line opens a
    ```bash (or ```sh) fence, and the block holds exactly one non-blank line.
    """
    lines = [line.strip() for line in (text if text is not None else README.read_text(encoding="utf-8")).splitlines()]
    tag = f"<!-- {marker} -->"
    positions = [i for i, line in enumerate(lines) if line == tag]
    assert len(positions) == 1, f"README.md must contain {tag} exactly once"
    start = positions[0] + 1
    assert start < len(lines) and re.fullmatch(r"```(bash|sh)", lines[start]), (
        f"the line right after {tag} in README.md must open a ```bash block"
    )
    body = []
    for line in lines[start + 1 :]:
        if line == "```":
            break
        body.append(line)
    else:
        raise AssertionError(f"the ```bash block after {tag} in README.md is never closed")
    commands = [line for line in body if line]
    assert len(commands) == 1, f"the block after {tag} must hold exactly one command line"
    return commands[0]


def run_ci(*args: str, cwd: Path = ROOT, script: Path = CI_RUN) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LC_ALL": "C"},
    )


# --- pyproject.toml and environment.yml ------------------------------------


def test_runtime_dependencies_in_pyproject_match_binder_environment():
    in_pyproject = runtime_dependency_names()
    in_environment = environment_dependency_names()
    assert in_pyproject == in_environment, (
        f"only in pyproject.toml: {sorted(in_pyproject - in_environment)}; "
        f"only in environment.yml: {sorted(in_environment - in_pyproject)}"
    )


def test_scipy_is_a_test_only_dependency():
    project = pyproject()["project"]
    assert "scipy" not in runtime_dependency_names()
    assert "scipy" in {normalise(r) for r in project["optional-dependencies"]["test"]}


def test_binder_python_version_satisfies_requires_python():
    env = yaml.safe_load(ENVIRONMENT.read_text(encoding="utf-8"))
    pins = [str(d) for d in env["dependencies"] if isinstance(d, str) and normalise(d) == "python"]
    assert len(pins) == 1, "environment.yml must pin python exactly once"
    version = tuple(int(part) for part in re.findall(r"\d+", pins[0])[:2])
    minimum = re.fullmatch(r">=\s*(\d+)\.(\d+)", pyproject()["project"]["requires-python"])
    assert minimum, "requires-python is expected to be a plain '>=X.Y' bound"
    assert version >= (int(minimum.group(1)), int(minimum.group(2)))


def test_binder_installs_the_package_itself_from_root_postbuild():
    # repo2docker ignores root-level environment.yml/postBuild when a binder/
    # or .binder/ folder exists, so neither may be added without moving both.
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    assert POSTBUILD.is_file(), "postBuild (repo root) must install the package on Binder"
    assert os.access(POSTBUILD, os.X_OK), "postBuild must be executable"
    assert re.search(r"pip install\b.*\s-e \.(\s|$)", POSTBUILD.read_text(encoding="utf-8"), re.M)


def test_console_script_kms_teach_points_at_cli_main():
    assert pyproject()["project"]["scripts"] == {"kms-teach": "kms_teach.cli:main"}


def test_assets_folder_ships_inside_the_package_with_yaml_and_json():
    tool = pyproject()["tool"]["setuptools"]
    assert set(tool["packages"]) == {"kms_teach", "kms_teach.assets"}
    assert tool["package-dir"] == {"kms_teach.assets": "assets"}
    globs = tool["package-data"]["kms_teach.assets"]
    assert "**/*.yaml" in globs and "**/*.json" in globs


# --- README set-up commands and .ci/run -------------------------------------


def test_readme_test_command_invokes_pytest():
    command = readme_command("setup:tests")
    assert command
    assert re.search(r"(^|[\s;&|])(python3? -m )?pytest(\s|$)", command), command


def test_readme_lessons_command_opens_jupyter_lab():
    command = readme_command("setup:lessons")
    assert command
    assert "jupyter lab" in command


@needs_bash
def test_ci_runs_exactly_the_readme_test_command():
    result = run_ci("--print-test-command")
    assert result.returncode == 0, result.stderr
    assert result.stdout == readme_command("setup:tests") + "\n"


@needs_bash
def test_ci_reads_the_test_command_from_readme_instead_of_copying_it():
    script = CI_RUN.read_text(encoding="utf-8")
    assert readme_command("setup:tests") not in script
    assert "pytest -" not in script and "-m pytest" not in script
    assert "setup:tests" in script


@needs_bash
def test_ci_script_is_executable_and_strict():
    assert os.access(CI_RUN, os.X_OK)
    assert "set -euo pipefail" in CI_RUN.read_text(encoding="utf-8")
    assert "install_system_packages()" in CI_RUN.read_text(encoding="utf-8")


def _fake_repo(tmp_path: Path, readme: str) -> Path:
    (tmp_path / ".ci").mkdir()
    script = tmp_path / ".ci" / "run"
    shutil.copy2(CI_RUN, script)
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    return script


def _readme_with_test_command(command: str) -> str:
    return (
        "# x\n\n<!-- setup:lessons -->\n```bash\njupyter lab notebooks/\n```\n\n"
        f"<!-- setup:tests -->\n```bash\n{command}\n```\n"
    )


@needs_bash
def test_ci_treats_no_tests_collected_as_failure(tmp_path):
    script = _fake_repo(tmp_path, _readme_with_test_command("exit 5"))
    result = run_ci(cwd=tmp_path, script=script)
    assert result.returncode == 1
    assert "no tests" in result.stderr


@needs_bash
def test_ci_exit_status_is_the_test_commands(tmp_path):
    script = _fake_repo(tmp_path, _readme_with_test_command("echo ran-from-readme; exit 3"))
    result = run_ci(cwd=tmp_path, script=script)
    assert result.returncode == 3
    assert "ran-from-readme" in result.stdout


@needs_bash
@pytest.mark.parametrize(
    "readme",
    [
        "no markers at all\n",
        "<!-- setup:tests -->\n\n```bash\npython -m pytest\n```\n",  # gap before fence
        "<!-- setup:tests -->\n```bash\npython -m pytest\n",  # fence never closed
        "<!-- setup:tests -->\n```bash\npip install .\npython -m pytest\n```\n",  # two lines
        "<!-- setup:tests -->\n```bash\na\n```\n<!-- setup:tests -->\n```bash\nb\n```\n",
    ],
    ids=["missing-marker", "marker-not-before-fence", "unclosed-fence", "two-commands", "duplicate-marker"],
)
def test_ci_refuses_a_malformed_readme_block_with_a_clear_message(tmp_path, readme):
    script = _fake_repo(tmp_path, readme)
    result = run_ci("--print-test-command", cwd=tmp_path, script=script)
    assert result.returncode != 0
    assert "README.md" in result.stderr and result.stdout == ""

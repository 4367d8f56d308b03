"""CI skips nothing: tests/conftest.py turns skips into failures under CI, and .ci/run
fails a run whose pytest summary counts a skipped test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI_RUN = ROOT / ".ci" / "run"

SKIPPING_TESTS = '''
import pytest

def test_needs_a_missing_tool(npm_package):
    npm_package("no-such-npm-package-for-kms-teach")

def test_passes():
    assert True
'''


def run_pytest_with_project_rules(tmp_path: Path, **env) -> subprocess.CompletedProcess:
    """Run a small suite that skips one test, under the project's tests/conftest.py."""
    shutil.copy2(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SKIPPING_TESTS, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "KMS_TEACH_NO_SKIPS")}
    environment.update(env, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # start fast: no third-party plugins
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "-p", "no:randomly", "test_sample.py"], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_a_missing_tool_skips_with_one_line_naming_it_and_its_install_command(tmp_path):
    result = run_pytest_with_project_rules(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(lines) == 1, result.stdout
    assert "no-such-npm-package-for-kms-teach (npm) is not installed" in lines[0]
    assert "npm install --no-save --no-audit --no-fund --prefix .ci/node gift-pegjs configurable-http-proxy" in lines[0]


@pytest.mark.parametrize("env", [{"CI": "true"}, {"KMS_TEACH_NO_SKIPS": "1"}], ids=["CI=true", "KMS_TEACH_NO_SKIPS=1"])
def test_in_ci_a_skip_is_a_failure(tmp_path, env):
    result = run_pytest_with_project_rules(tmp_path, **env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert "forbids skips" in result.stdout and "no-such-npm-package-for-kms-teach" in result.stdout


def fake_repository(tmp_path: Path, command: str) -> Path:
    (tmp_path / ".ci").mkdir()
    script = tmp_path / ".ci" / "run"
    shutil.copy2(CI_RUN, script)
    (tmp_path / "README.md").write_text(
        "# x\n\n<!-- setup:lessons -->\n```bash\njupyter lab notebooks/\n```\n\n"
        f"<!-- setup:tests -->\n```bash\n{command}\n```\n", encoding="utf-8")
    return script


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed (it runs .ci/run)")
def test_ci_run_fails_a_run_that_skipped_tests_and_passes_ci_settings(tmp_path):
    script = fake_repository(tmp_path, 'echo "CI=$CI NO_SKIPS=$KMS_TEACH_NO_SKIPS"; '
                                       'echo "========== 12 passed, 2 skipped in 3.40s =========="')
    result = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CI=true NO_SKIPS=1" in result.stdout
    assert "tests were skipped" in result.stderr and "2 skipped" in result.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed (it runs .ci/run)")
def test_ci_run_passes_a_clean_run(tmp_path):
    script = fake_repository(tmp_path, 'echo "========== 12 passed in 3.40s =========="')
    result = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Tests passed: ========== 12 passed" in result.stdout


def test_ci_run_no_longer_installs_axe_core_from_npm():
    script = CI_RUN.read_text(encoding="utf-8")
    assert "axe-core" not in script.replace("axe-core comes from PyPI", "")
    assert "gift-pegjs configurable-http-proxy" in script.replace("(", " ").replace(")", " ")


def test_without_chromium_the_browser_tests_skip_with_one_line(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "KMS_TEACH_NO_SKIPS")}
    environment["KMS_TEACH_CHROMIUM"] = str(tmp_path / "no-chromium-here")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/browser"], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, skipped
    assert "Chromium (Debian package) not found; install it with: apt-get install -y chromium" in skipped[0]
    assert " passed" not in result.stdout.splitlines()[-1] and " skipped" in result.stdout.splitlines()[-1]

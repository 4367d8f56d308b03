"""Suite-wide test rules: tools from outside PyPI, and no skips in CI.

Everything the tests need from PyPI is a test dependency (``pip install -e ".[test]"``),
never a reason to skip. A test that needs a tool from outside PyPI skips when it is missing,
with one line naming the tool and the command that installs it:

- Chromium, from Debian (``tests/browser``): ``apt-get install -y chromium``
- npm packages, into ``.ci/node`` (git-ignored): ``gift-pegjs`` (GIFT export parsed by the
  reference parser) and ``configurable-http-proxy`` (JupyterHub), through the
  :func:`npm_package` fixture.

``.ci/run`` installs all of them, so CI skips nothing: with ``CI=true`` or
``KMS_TEACH_NO_SKIPS=1`` in the environment every skip is reported as a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE_PREFIX = ROOT / ".ci" / "node"
#: The npm packages some tests use; one command installs them all (.ci/run runs it).
NPM_PACKAGES = ("gift-pegjs", "configurable-http-proxy")
NPM_INSTALL = "npm install --no-save --no-audit --no-fund --prefix .ci/node " + " ".join(NPM_PACKAGES)


def no_skips_wanted() -> bool:
    """True in CI (``CI=true``) or when ``KMS_TEACH_NO_SKIPS=1``: skips then count as failures."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes") or \
        os.environ.get("KMS_TEACH_NO_SKIPS", "").strip() == "1"


#: Words in every "tool missing" skip reason of this suite.
TOOL_SKIP_MARK = "; install it with: "


def _where_skip_was_called(excinfo) -> tuple[str, int] | None:
    """File and line (0-based, as pytest keeps them) of the last frame outside pytest."""
    for entry in reversed(excinfo.traceback):
        path = str(entry.path)
        if "_pytest" not in path and "pluggy" not in path:
            return path, entry.lineno
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple) and TOOL_SKIP_MARK in report.longrepr[2] \
            and call.excinfo is not None:
        # pytest reports a skip raised in a fixture at each test's own line, which gives one
        # summary line per test function; report it where the tool was looked for instead, so
        # that a missing tool gives one line however many tests need it.
        where = _where_skip_was_called(call.excinfo)
        if where is not None:
            report.longrepr = (where[0], where[1], report.longrepr[2])
    if report.skipped and not hasattr(report, "wasxfail") and no_skips_wanted():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"skipped, but CI=true or KMS_TEACH_NO_SKIPS=1 forbids skips "
                           f"(.ci/run installs every tool): {reason}")


def npm_package_path(name: str) -> Path | None:
    """Folder of the npm package ``name`` installed under .ci/node, or None."""
    folder = NODE_PREFIX / "node_modules" / name
    return folder if (folder / "package.json").is_file() else None


@pytest.fixture(scope="session")
def npm_package():
    """``npm_package(name)``: the installed package's folder; skips (one line) when it is missing."""

    def find(name: str) -> Path:
        folder = npm_package_path(name)
        if folder is None:
            pytest.skip(f"{name} (npm) is not installed; install it with: {NPM_INSTALL}")
        return folder

    return find

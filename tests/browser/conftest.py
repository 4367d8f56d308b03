"""Real-browser tests: the lessons served by Voila and JupyterLab, driven by Playwright in Chromium.

What this sets up (all session-scoped, all bounded in time):

- Voila (``voila notebooks``) and, for the JupyterLab test only, JupyterLab, each on
  127.0.0.1 on a free port, with kernel culling on. Jupyter's config, data and runtime
  folders, IPython's folder and TMPDIR point into a temporary folder, so nothing leaks into
  the user's Jupyter set-up and no connection file is left behind. Each server is polled
  with a deadline and stopped through its own process handle (terminate, wait, kill).
- One Chromium (Debian's ``/usr/bin/chromium``; Playwright never downloads a browser),
  launched with the flags from ``shared/testing-notes.md``.
- Every page gets a fresh browser context that records console messages, uncaught page
  errors and every request. Requests to anything but loopback are blocked (aborted) and
  recorded, so a test can fail on them (nothing may come from a CDN) and no test ever
  waits on the network.
- Each lesson is loaded once in Voila (on first use) and kept open: on load the page is
  screenshotted into ``tests/browser/screenshots/`` (git-ignored) and axe-core is run on it.

The tests skip, with the reason, only when the ``playwright`` module or a Chromium
executable is missing. A missing axe-core fails the accessibility tests with the command
that installs it.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
#: The lessons, in order (00-05). Other notebooks in the folder are not lessons.
LESSONS = sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = HERE / "screenshots"
AXE_JS = ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_INSTALL = "npm install --no-save --prefix .ci/node axe-core@4"

#: Flags measured to work here (see shared/testing-notes.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VOILA_FLAGS = [
    "--no-browser",
    "--Voila.ip=127.0.0.1",
    "--MappingKernelManager.cull_interval=10",
    "--MappingKernelManager.cull_idle_timeout=20",
    # removes a console error from a Notebook 7 extension that Voila loads but cannot use
    "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
    # and from jupytext's JupyterLab extension (lessons are paired .md/.ipynb), which Voila cannot use
    "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext",
]

SERVER_START_TIMEOUT = 90.0  # s, for a server to answer its first request
SERVER_STOP_TIMEOUT = 20.0  # s, after SIGTERM before SIGKILL
PAGE_TIMEOUT_MS = 60_000  # a lesson page: every cell executed and every widget drawn
ACTION_TIMEOUT_MS = 20_000  # one key press or click and its visible effect
VIEWPORT = {"width": 1280, "height": 900}

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
ERROR_OUTPUTS = (
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
)
#: Text that only appears when a cell failed (Voila hides tracebacks by default and prints
#: the second sentence instead).
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|There was an error when executing cell")


# ----------------------------------------------------------------------------- discovery


def find_chromium() -> str | None:
    """Path of a Chromium executable: $KMS_TEACH_CHROMIUM, Debian's, or one on PATH."""
    candidates = [os.environ.get("KMS_TEACH_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _why_unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright module is not installed (python -m pip install -e '.[test]')"
    if find_chromium() is None:
        return ("no Chromium executable found (Debian: apt-get install -y chromium, "
                "or set KMS_TEACH_CHROMIUM to a Chromium binary); never run 'playwright install'")
    return None


def pytest_collection_modifyitems(config, items):
    reason = _why_unavailable()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


def axe_source() -> str:
    """axe-core's script; fails the test with the install command when it is missing."""
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is missing ({AXE_JS.relative_to(ROOT)} not found). Install it from the "
                    f"repository root with:\n    {AXE_INSTALL}\n(.ci/run does this in CI.)", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- servers


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_loopback(url: str) -> bool:
    """True for URLs served by this machine to itself (and for data:/blob: URLs)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return parsed.hostname in ("127.0.0.1", "localhost", "::1")


class Server:
    """A server process the tests own: started, polled with a deadline, stopped by its handle."""

    def __init__(self, name: str, argv: list[str], *, cwd: Path, env: dict, ready_url: str, log_path: Path):
        self.name, self.argv, self.cwd, self.env = name, argv, cwd, env
        self.ready_url, self.log_path = ready_url, log_path
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.process.returncode} before it "
                                   f"answered {self.ready_url}:\n{self.log_tail()}")
            try:
                with _NO_PROXY.open(self.ready_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet (or answered with an error status): poll again
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer {self.ready_url} within {timeout:.0f} s:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.1)

    def stop(self, timeout: float = SERVER_STOP_TIMEOUT) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 4000) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def start_server(name, make_argv, *, cwd, env, ready_path, log_path, attempts=3) -> tuple[Server, str]:
    """Start a server on a free loopback port (retrying if another process took the port)."""
    error = None
    for _ in range(attempts):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = Server(name, make_argv(port), cwd=cwd, env=env, ready_url=base + ready_path, log_path=log_path)
        try:
            server.start()
            return server, base
        except RuntimeError as exc:
            server.stop()
            error = exc
            if "already in use" not in str(exc):
                break
    raise error


def make_jupyter_env(base: Path) -> dict:
    """Environment for the servers: every Jupyter/IPython folder (and TMPDIR) under ``base``."""
    folders = {key: base / key for key in ("config", "data", "runtime", "ipython", "tmp")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    # JupyterLab: no news toast, every cell in the DOM, and never save the notebook.
    labconfig = folders["config"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}), encoding="utf-8")
    settings = folders["config"] / "lab" / "user-settings" / "@jupyterlab"
    for plugin, values in {
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }.items():
        path = settings / plugin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(folders["config"]),
        JUPYTER_DATA_DIR=str(folders["data"]),
        JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
        IPYTHONDIR=str(folders["ipython"]),
        TMPDIR=str(folders["tmp"]),  # Voila keeps kernel connection files in the temp folder
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    # Only the installed data folders, plus the repository's own share/jupyter if it has one
    # (a project Voila template there is then found, as a deployment would find it).
    env.pop("JUPYTER_PATH", None)
    if (ROOT / "share" / "jupyter").is_dir():
        env["JUPYTER_PATH"] = str(ROOT / "share" / "jupyter")
    return env


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory) -> dict:
    return make_jupyter_env(tmp_path_factory.mktemp("jupyter"))


def voila_argv(port: int) -> list[str]:
    # the same template as `kms-teach voila` (nothing from a CDN); JUPYTER_PATH above finds it
    return [sys.executable, "-m", "voila", "notebooks", f"--port={port}", "--template=kms", *VOILA_FLAGS]


@pytest.fixture(scope="session")
def voila_server(jupyter_env, tmp_path_factory):
    """Voila serving notebooks/ on 127.0.0.1 (from the repository root, so a voila.json there applies)."""
    log = tmp_path_factory.mktemp("logs") / "voila.log"
    server, base = start_server("Voila", voila_argv, cwd=ROOT, env=jupyter_env, ready_path="/", log_path=log)
    server.base_url = base
    yield server
    server.stop()


@pytest.fixture(scope="session")
def jupyterlab_server(jupyter_env, tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of notebooks/ (nothing is written back)."""
    root = tmp_path_factory.mktemp("lab-root")
    for notebook in LESSONS:
        shutil.copy2(NOTEBOOKS_DIR / notebook, root / notebook)
    token = secrets.token_hex(16)
    log = tmp_path_factory.mktemp("logs") / "jupyterlab.log"

    def argv(port):
        return [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}", "--MappingKernelManager.cull_interval=10",
                "--MappingKernelManager.cull_idle_timeout=60",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",  # never asks PyPI for extensions
                *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])]

    server, base = start_server("JupyterLab", argv, cwd=root, env=jupyter_env,
                                ready_path=f"/api/status?token={token}", log_path=log)
    server.base_url, server.token = base, token
    yield server
    server.stop()


# ----------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS,
                                              headless=True, timeout=60_000)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@dataclass
class Recorder:
    """What a page did: console messages, uncaught errors, and blocked non-loopback requests."""

    console: list = field(default_factory=list)  # (type, text, url)
    page_errors: list = field(default_factory=list)
    external: list = field(default_factory=list)  # URLs outside loopback (all blocked)

    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions, less the failed loads of blocked external URLs
        (those are reported by the request check, with their URLs)."""
        found = [f"uncaught: {text}" for text in self.page_errors]
        for kind, text, url in self.console:
            if kind != "error":
                continue
            if text.startswith("Failed to load resource") and url and not is_loopback(url):
                continue
            found.append(f"console.error: {text} ({url})" if url else f"console.error: {text}")
        return found


def open_page(browser, recorder: Recorder | None = None):
    """A page in a fresh context that records everything and blocks non-loopback requests."""
    recorder = recorder or Recorder()
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)

    # Block every non-loopback request (only those reach Python; loopback traffic is not
    # slowed down). The "request" event below records them, blocked or not.
    context.route(re.compile(r"^(?!(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])[:/])[a-z]+://"),
                  lambda route: route.abort())
    page = context.new_page()
    page.on("console", lambda m: recorder.console.append((m.type, m.text, (m.location or {}).get("url", ""))))
    page.on("pageerror", lambda exc: recorder.page_errors.append(str(exc)))
    page.on("request", lambda r: None if is_loopback(r.url) else recorder.external.append(r.url))
    return page, recorder


# ----------------------------------------------------------------------------- notebooks


def notebook_json(notebook: str) -> dict:
    return json.loads((NOTEBOOKS_DIR / notebook).read_text(encoding="utf-8"))


def code_cells(notebook: str) -> list[str]:
    return ["".join(c["source"]) for c in notebook_json(notebook)["cells"] if c["cell_type"] == "code"]


def expected_widget_views(notebook: str) -> int:
    """Widgets the notebook shows: cells whose saved outputs hold a widget view, or, for a
    notebook saved without outputs, the cells tagged nbval-ignore-output (the widget cells)."""
    cells = [c for c in notebook_json(notebook)["cells"] if c["cell_type"] == "code"]
    stored = sum(any(WIDGET_VIEW_MIME in o.get("data", {}) for o in c.get("outputs", [])) for c in cells)
    if stored:
        return stored
    return sum("nbval-ignore-output" in c.get("metadata", {}).get("tags", []) for c in cells)


def quiz_calls(notebook: str) -> list[str]:
    """Source of every ``Quiz(...)`` or ``lesson_quiz(...)`` call that ends a code cell, in order."""
    calls = []
    for source in code_cells(notebook):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) \
                and getattr(last.value.func, "id", None) in ("Quiz", "lesson_quiz"):
            calls.append(ast.get_source_segment(source, last.value))
    return calls


def build_quiz(call: str):
    """The same quiz the kernel builds for ``call``, built here (same seed, same deal)."""
    from kms_teach.lessons import lesson_quiz
    from kms_teach.quiz import Quiz

    return eval(call, {"Quiz": Quiz, "lesson_quiz": lesson_quiz})  # noqa: S307 (source of our own notebooks)


#: JavaScript: true once Voila has run every cell and every top-level widget is drawn.
READY_JS = """(expected) => {
  const loading = document.querySelector('#loading');
  if (loading && getComputedStyle(loading).display !== 'none') return false;
  const cells = document.querySelector('#rendered_cells');
  if (!cells || cells.style.display === 'none') return false;
  return document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length >= expected;
}"""

#: JavaScript, for an explorer (a top-level widget holding a slider and an <img>).
EXPLORERS_JS = """() => [...document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets')]
  .filter(w => w.querySelector('.kms-slider input[type=range]') && w.querySelector('.widget-html img'))"""


@dataclass
class LessonPage:
    notebook: str
    page: object
    recorder: Recorder
    load_seconds: float
    axe: dict | None = None  # axe-core results right after load (None: axe-core missing)
    screenshot: Path | None = None
    external_at_load: list = field(default_factory=list)  # non-loopback requests while loading

    def new_external(self) -> list[str]:
        """Non-loopback URLs first asked for after the page finished loading (the template's
        own links may be asked for again later; they are reported by the load check)."""
        seen = set(self.external_at_load)
        return [url for url in self.recorder.external[len(self.external_at_load):] if url not in seen]

    @property
    def stem(self) -> str:
        return Path(self.notebook).stem


#: axe-core results of the pages checked in this run: page -> violations (for the summary).
AXE_REPORT: dict[str, list[dict]] = {}


def record_axe(page_name: str, axe: dict) -> list[dict]:
    """Keep a page's axe-core violations for the terminal summary and axe-report.json."""
    AXE_REPORT[page_name] = axe["violations"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "axe-report.json").write_text(json.dumps(AXE_REPORT, indent=1), encoding="utf-8")
    return axe["violations"]


def pytest_terminal_summary(terminalreporter):
    if not AXE_REPORT:
        return
    terminalreporter.section("axe-core violations per Voila page (elements per rule)")
    for page_name, violations in AXE_REPORT.items():
        counts: dict[str, int] = {}
        for v in violations:
            counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
        rules = ", ".join(f"{v['id']} ({v['impact']}) x{len(v['nodes'])}" for v in violations) or "none"
        terminalreporter.write_line(f"{page_name}: {counts or 'no violations'}; {rules}")
    terminalreporter.write_line(f"details: {(SCREENSHOTS / 'axe-report.json').relative_to(ROOT)}")


def run_axe(page, source: str) -> dict:
    page.add_script_tag(content=source)
    return page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return {violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300)}))}))};
    }""")


class VoilaLessons:
    """Each lesson opened once in Voila, in the state a learner first sees (then kept open)."""

    def __init__(self, browser, server):
        self.browser, self.server = browser, server
        self._pages: dict[str, LessonPage] = {}
        self._failed: dict[str, BaseException] = {}  # a lesson that did not load fails fast afterwards

    def __call__(self, notebook: str) -> LessonPage:
        if notebook in self._failed:
            raise AssertionError(f"{notebook} did not load earlier in this run: {self._failed[notebook]}")
        if notebook not in self._pages:
            try:
                self._pages[notebook] = self._load(notebook)
            except Exception as exc:
                self._failed[notebook] = exc
                raise
        return self._pages[notebook]

    def _load(self, notebook: str) -> LessonPage:
        page, recorder = open_page(self.browser)
        started = time.monotonic()
        page.goto(f"{self.server.base_url}/voila/render/{notebook}", timeout=PAGE_TIMEOUT_MS)
        expected = expected_widget_views(notebook)
        try:
            page.wait_for_function(READY_JS, arg=expected, timeout=PAGE_TIMEOUT_MS, polling=100)
        except Exception as exc:
            drawn = page.evaluate("() => document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length")
            raise AssertionError(f"{notebook}: Voila did not finish within {PAGE_TIMEOUT_MS / 1000:.0f} s "
                                 f"({drawn} of {expected} widgets drawn); errors: {recorder.errors()}; "
                                 f"server log:\n{self.server.log_tail()}") from exc
        # every <img> decoded, so the screenshot and the checks see the figures
        page.evaluate("() => Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
        lesson = LessonPage(notebook, page, recorder, time.monotonic() - started,
                            external_at_load=list(recorder.external))
        lesson.screenshot = SCREENSHOTS / f"voila-{lesson.stem}.png"
        page.screenshot(path=str(lesson.screenshot), full_page=True)
        for n, explorer in enumerate(page.evaluate_handle(EXPLORERS_JS).get_properties().values()):
            element = explorer.as_element()
            if element is not None:
                element.screenshot(path=str(SCREENSHOTS / f"voila-{lesson.stem}-explorer{n + 1}.png"))
        if AXE_JS.is_file():
            lesson.axe = run_axe(page, AXE_JS.read_text(encoding="utf-8"))
        return lesson

    def close(self):
        for lesson in self._pages.values():
            try:
                lesson.page.context.close()
            except Exception:  # the browser may already be gone at teardown
                pass
        self._pages.clear()


def fresh_screenshots_folder() -> Path:
    """The git-ignored folder for this run's pictures and reports, emptied of older ones."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in [*SCREENSHOTS.glob("*.png"), *SCREENSHOTS.glob("*.json")]:
        old.unlink()
    return SCREENSHOTS


@pytest.fixture(scope="session")
def screenshots() -> Path:
    return fresh_screenshots_folder()


@pytest.fixture(scope="session")
def voila_lessons(browser, voila_server, screenshots):
    lessons = VoilaLessons(browser, voila_server)
    yield lessons
    lessons.close()


@dataclass
class LandingPage:
    text: str
    recorder: Recorder
    axe: dict | None


@pytest.fixture(scope="session")
def voila_landing(browser, voila_server, screenshots) -> LandingPage:
    """Voila's landing page (the list of notebooks), loaded once: its text, requests and axe result."""
    page, recorder = open_page(browser)
    try:
        page.goto(voila_server.base_url + "/", timeout=PAGE_TIMEOUT_MS)
        # the listing is drawn by script: wait for the first lesson's name
        page.get_by_text(LESSONS[0]).first.wait_for(timeout=PAGE_TIMEOUT_MS)
        page.screenshot(path=str(screenshots / "voila-landing.png"), full_page=True)
        axe = run_axe(page, AXE_JS.read_text(encoding="utf-8")) if AXE_JS.is_file() else None
        return LandingPage(page.locator("body").inner_text(), recorder, axe)
    finally:
        page.context.close()

"""Real-browser tests: the lessons served by Voila, JupyterLab and Notebook 7, driven by Playwright in Chromium.

What this sets up (all bounded in time):

- Voila (``voila notebooks``, one per session), JupyterLab and Notebook 7 (one server per
  test module that uses them), each on 127.0.0.1 on a free port, with kernel culling on.
  Jupyter's config, data and runtime folders, IPython's folder and TMPDIR point into a
  temporary folder, so nothing leaks into the user's Jupyter set-up and no connection file
  is left behind. Each server is polled with a deadline and stopped through its own process
  handle (terminate, wait, kill).
- One Chromium (Debian's ``/usr/bin/chromium``; Playwright never downloads a browser),
  launched with the flags from ``shared/testing-notes.md``.
- Every page gets a fresh browser context that records console messages, uncaught page
  errors and every request. Requests to anything but loopback are blocked (aborted) and
  recorded, so a test can fail on them (nothing may come from a CDN) and no test ever
  waits on the network.
- Each lesson is loaded once in Voila (on first use) and kept open: on load the page is
  screenshotted into ``tests/browser/screenshots/`` (git-ignored) and axe-core is run on it.

Playwright and axe-core (inside ``axe-playwright-python``) come from PyPI with the test
extras. Chromium does not: without it every test here skips with one line that says how to
install it (``.ci/run`` installs it, and in CI a skip fails the run).
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
CHROMIUM_INSTALL = "apt-get install -y chromium"

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
    """Path of a Chromium executable: $KMS_TEACH_CHROMIUM when set (and then only that),
    else Debian's, else one on PATH."""
    chosen = os.environ.get("KMS_TEACH_CHROMIUM")
    candidates = [chosen] if chosen else ["/usr/bin/chromium"] + [shutil.which(name) for name in ("chromium", "chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium():
    # Session-scoped and autouse, so it runs before any server or browser fixture; every test
    # of the folder skips here, at the same place, which pytest reports as one line.
    if find_chromium() is None:
        pytest.skip(f"Chromium (Debian package) not found; install it with: {CHROMIUM_INSTALL} "
                    "(or set KMS_TEACH_CHROMIUM to a Chromium binary; never run 'playwright install')")


def axe_source() -> str:
    """axe-core's script, as shipped inside the axe-playwright-python package (PyPI)."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


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


def start_jupyter(app: str, jupyter_env: dict, tmp_path_factory) -> Server:
    """JupyterLab (``app="jupyterlab"``) or Notebook 7 (``app="notebook"``) on 127.0.0.1 with a
    token, serving a copy of the lessons (so nothing is ever saved into the repository).

    Both refuse to run as root without ``--allow-root`` (CI machines run as root).
    """
    root = tmp_path_factory.mktemp(f"{app}-root")
    for notebook in LESSONS:
        shutil.copy2(NOTEBOOKS_DIR / notebook, root / notebook)
    token = secrets.token_hex(16)
    log = tmp_path_factory.mktemp("logs") / f"{app}.log"
    app_flags = {
        "jupyterlab": ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                       "--LabApp.extension_manager=readonly"],  # never asks PyPI for extensions
        "notebook": [],
    }[app]

    def argv(port):
        return [sys.executable, "-m", app, "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}", "--MappingKernelManager.cull_interval=10",
                "--MappingKernelManager.cull_idle_timeout=60", *app_flags,
                *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])]

    name = {"jupyterlab": "JupyterLab", "notebook": "Notebook 7"}[app]
    server, base = start_server(name, argv, cwd=root, env=jupyter_env,
                                ready_path=f"/api/status?token={token}", log_path=log)
    server.base_url, server.token = base, token
    return server


@pytest.fixture(scope="module")
def jupyterlab_server(jupyter_env, tmp_path_factory):
    """JupyterLab for one test module (started on first use, stopped after the module)."""
    server = start_jupyter("jupyterlab", jupyter_env, tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def notebook7_server(jupyter_env, tmp_path_factory):
    """Notebook 7 for one test module (started on first use, stopped after the module)."""
    server = start_jupyter("notebook", jupyter_env, tmp_path_factory)
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
    notebook saved without them (``sync_lesson`` stores widget views as their text), the cells
    tagged nbval-ignore-output (the widget cells)."""
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


_BANK = []  # the installed question bank, loaded once per run


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
    axe: dict | None = None  # axe-core results right after load
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
        lesson.axe = run_axe(page, axe_source())
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
        axe = run_axe(page, axe_source())
        return LandingPage(page.locator("body").inner_text(), recorder, axe)
    finally:
        page.context.close()


# ----------------------------------------------------------------------------- JupyterLab and Notebook 7

#: The notebook on screen (JupyterLab keeps hidden panels of other tabs in the page).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
#: Top-level widget views in the open notebook's outputs.
PANEL_WIDGETS = f"{PANEL} .jp-Cell-outputArea .jp-OutputArea-output > .jupyter-widgets"
#: Where each front end opens a notebook.
NOTEBOOK_URL = {"jupyterlab": "lab/tree", "notebook": "notebooks"}

#: JavaScript: the kernel is up (named, idle). Before it starts the indicator also says idle,
#: beside "No Kernel".
KERNEL_READY_JS = """(panel) => {
  const name = document.querySelector(panel + ' .jp-KernelName');
  const state = document.querySelector(panel + ' .jp-Notebook-ExecutionIndicator');
  return name && state && name.textContent.trim() !== 'No Kernel' && state.dataset.status === 'idle';
}"""

#: JavaScript: every code cell of the open notebook has run (an execution count, no "*").
ALL_RUN_JS = """([panel, cells]) => {
  const prompts = [...document.querySelectorAll(panel + ' .jp-CodeCell .jp-InputPrompt')]
      .map(p => p.textContent.trim());
  return prompts.length === cells && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""


def open_and_run_all(page, server, app: str, notebook: str, recorder: Recorder, screenshots: Path) -> float:
    """Open ``notebook`` in JupyterLab or Notebook 7, wait for its kernel, Run All Cells from the
    Run menu and wait until every cell has run and every widget is drawn; returns the seconds taken."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    started = time.monotonic()
    page.goto(f"{server.base_url}/{NOTEBOOK_URL[app]}/{notebook}?reset&token={server.token}",
              timeout=PAGE_TIMEOUT_MS)
    panel = page.locator(PANEL)
    panel.locator(".jp-CodeCell").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    page.wait_for_function(KERNEL_READY_JS, arg=PANEL, timeout=PAGE_TIMEOUT_MS, polling=100)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    cells = len(code_cells(notebook))
    try:
        page.wait_for_function(ALL_RUN_JS, arg=[PANEL, cells], timeout=PAGE_TIMEOUT_MS, polling=250)
        page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n",
                               arg=[PANEL_WIDGETS, expected_widget_views(notebook)], timeout=PAGE_TIMEOUT_MS)
    except PlaywrightTimeout as exc:
        page.screenshot(path=str(screenshots / f"{app}-{Path(notebook).stem}-timeout.png"))
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        raise AssertionError(f"{notebook} in {app}: Run All did not finish within {PAGE_TIMEOUT_MS / 1000:.0f} s; "
                             f"prompts: {prompts}; browser errors: {recorder.errors()}; server log:\n"
                             f"{server.log_tail(2000)}") from exc
    return time.monotonic() - started


def shut_down_kernels(server) -> None:
    """Stop every kernel of a Jupyter server through its REST API (a lesson's kernel holds
    over 100 MB; the next lesson gets its own)."""
    headers = {"Authorization": f"token {server.token}"}
    request = urllib.request.Request(f"{server.base_url}/api/kernels", headers=headers)
    with _NO_PROXY.open(request, timeout=10) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{server.base_url}/api/kernels/{kernel['id']}", headers=headers,
                                         method="DELETE")
        try:
            _NO_PROXY.open(request, timeout=20).close()
        except urllib.error.URLError:
            pass  # already gone


def active_element(page) -> str:
    """What has the keyboard focus, for messages: tag, type and classes."""
    return page.evaluate("""() => { const e = document.activeElement;
        return e ? `${e.tagName.toLowerCase()}${e.type ? '[type=' + e.type + ']' : ''}.${[...e.classList].join('.')}` : 'none'; }""")


#: JavaScript, for an explorer: its image, written summary and slider readouts.
EXPLORER_STATE_JS = """(explorer) => ({
  src: explorer.querySelector('.widget-html img').getAttribute('src'),
  summary: [...explorer.querySelectorAll('[role=status]')].map(e => e.textContent)
             .find(t => t.trim().startsWith('Summary:')) || null,
  readouts: [...explorer.querySelectorAll('.kms-slider .kms-slider-readout')].map(r => r.textContent),
})"""


def operate_day_slider_by_keyboard(page, explorer) -> list[str]:
    """Focus the explorer's day slider and press ArrowRight, End, Home and PageUp; after each key
    check that the slider still has the focus, its value moved as the key says, and the figure
    and the written summary (which names the day) followed. Returns the readouts seen."""
    inputs = explorer.query_selector_all(".kms-slider input[type=range]")
    labels = [e.inner_text() for e in explorer.query_selector_all(".kms-slider .kms-slider-label")]
    index = next((i for i, label in enumerate(labels) if label.lower().startswith("day")), 0)
    slider = inputs[index]
    low, high, start = (float(slider.get_attribute(a) or 0) for a in ("min", "max", "value"))
    slider.focus()
    seen = []
    for key in ("ArrowRight", "End", "Home", "PageUp"):
        before = explorer.evaluate(EXPLORER_STATE_JS)
        page.keyboard.press(key)
        try:
            page.wait_for_function(f"""([e, before, i]) => {{ const now = ({EXPLORER_STATE_JS})(e);
                  return now.readouts[i] !== before.readouts[i] && now.src !== before.src
                         && now.summary !== before.summary; }}""",
                                   arg=[explorer, before, index], timeout=ACTION_TIMEOUT_MS, polling=50)
        except Exception as exc:
            after = explorer.evaluate(EXPLORER_STATE_JS)
            raise AssertionError(f"{key} on the slider '{labels[index]}' changed nothing on screen (readout "
                                 f"{before['readouts'][index]} -> {after['readouts'][index]}); the focus is on "
                                 f"{active_element(page)}") from exc
        assert slider.evaluate("s => document.activeElement === s"), (
            f"{key} took the focus away from the slider, to {active_element(page)}")
        after = explorer.evaluate(EXPLORER_STATE_JS)
        value = float(after["readouts"][index])
        expected = {"ArrowRight": lambda v: v > start, "End": lambda v: v == high, "Home": lambda v: v == low,
                    "PageUp": lambda v: v > low}[key]
        assert expected(value), f"{key}: slider '{labels[index]}' shows {value} (range {low}-{high}, start {start})"
        day = after["readouts"][index]
        assert re.search(rf"\b{re.escape(day)}\b", after["summary"] or ""), (
            f"after {key} the summary does not name day {day}: {after['summary']}")
        seen.append(day)
    return seen


def answer_quiz_item_by_keyboard(page, container, quiz) -> tuple[str, str]:
    """In the quiz shown in ``container`` (built in Python as ``quiz``), go to its first
    single-answer item with Enter on *Next question*, choose a wrong option with the arrow keys
    and press Enter on *Check answer*, then the right one; returns both feedback texts."""
    position = next(i for i, q in enumerate(quiz.questions) if q.type == "multiple_choice")
    next_button = container.get_by_role("button", name="Next question")
    for _ in range(position):
        next_button.focus()
        page.keyboard.press("Enter")
    q = quiz.questions[position]
    counter = f"Question {position + 1} of {len(quiz.questions)}"
    page.wait_for_function("([el, t]) => el.textContent.includes(t)", arg=[container.element_handle(), counter],
                           timeout=ACTION_TIMEOUT_MS)
    order = quiz.orders[q.id]  # order[shown position] = index of the option in the file
    right = order.index(q.correct_indices[0])
    wrong = next(n for n in range(len(order)) if n != right)
    radios = container.locator(".kms-radio input[type=radio]")
    # the radio group renders a moment after the counter changes (later on a busy machine)
    try:
        page.wait_for_function("([el, n]) => el.querySelectorAll('.kms-radio input[type=radio]').length === n",
                               arg=[container.element_handle(), len(order)], timeout=ACTION_TIMEOUT_MS)
    except Exception:
        pass  # the assertion below names what is on the page
    assert radios.count() == len(order), f"{radios.count()} radio buttons for {len(order)} options"
    feedback = container.get_by_role("button", name="Check answer").locator("xpath=following-sibling::*[1]")
    texts = []
    for target in (wrong, right):
        radios.first.focus()
        page.keyboard.press("Space")  # choose option A, then walk down with the arrow key
        for _ in range(target):
            page.keyboard.press("ArrowDown")
        checked = [radios.nth(n).is_checked() for n in range(len(order))]
        assert checked == [n == target for n in range(len(order))], (
            f"after Space and {target} ArrowDown the chosen options are {checked}; focus on {active_element(page)}")
        assert radios.nth(target).evaluate("r => document.activeElement === r"), (
            f"the arrow keys took the focus away from the options, to {active_element(page)}")
        # the kernel has the choice (the group shows what the kernel holds in data-kernel-index)
        page.wait_for_function("([f, k]) => f.dataset.kernelIndex === String(k)",
                               arg=[container.locator(".kms-radio").element_handle(), target],
                               timeout=ACTION_TIMEOUT_MS)
        previous = feedback.text_content()
        container.get_by_role("button", name="Check answer").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("([e, old]) => e.textContent !== old && e.textContent.trim() !== ''",
                               arg=[feedback.element_handle(), previous], timeout=ACTION_TIMEOUT_MS)
        texts.append(feedback.inner_text())
    return texts[0], texts[1]


def go_to_item(page, container, quiz, position: int) -> None:
    """Show item ``position`` (0-based) with Enter on *Next question* / *Previous question*."""
    current = int(re.search(r"Question (\d+) of", container.inner_text()).group(1)) - 1
    name = "Next question" if position > current else "Previous question"
    for _ in range(abs(position - current)):
        container.get_by_role("button", name=name).focus()
        page.keyboard.press("Enter")
    counter = f"Question {position + 1} of {len(quiz.questions)}"
    page.wait_for_function("([el, t]) => el.textContent.includes(t)", arg=[container.element_handle(), counter],
                           timeout=ACTION_TIMEOUT_MS)


def tick_and_order_by_keyboard(page, container, quiz) -> list[str]:
    """Work the quiz's first multiple-select item (Space ticks a box, the focus stays) and its
    first ordering item (the arrow keys choose a step in the list without leaving it, Enter on
    *Move up* moves it) with the keyboard; returns the item types worked."""
    worked = []
    kinds = [q.type for q in quiz.questions]
    if "many_choice" in kinds:
        go_to_item(page, container, quiz, kinds.index("many_choice"))
        box = container.locator(".widget-checkbox input[type=checkbox]").first
        box.focus()
        page.keyboard.press("Space")
        assert box.is_checked(), "Space did not tick the box"
        assert box.evaluate("b => document.activeElement === b"), f"Space moved the focus to {active_element(page)}"
        worked.append("many_choice")
    if "ordering" in kinds:
        go_to_item(page, container, quiz, kinds.index("ordering"))
        steps = container.locator(".widget-select select")
        before = steps.locator("option").all_inner_texts()
        steps.focus()
        page.keyboard.press("Home")
        page.keyboard.press("ArrowDown")
        assert steps.evaluate("s => document.activeElement === s && s.selectedIndex === 1"), (
            f"ArrowDown in the list of steps: focus on {active_element(page)}")
        # give the kernel the selected step before the button is pressed: ipywidgets' list box
        # sends no acknowledgement that a test could wait for, so this is a short fixed pause
        page.wait_for_timeout(300)
        container.get_by_role("button", name="Move up").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("([s, first]) => s.options[0].textContent !== first",
                               arg=[steps.element_handle(), before[0]], timeout=ACTION_TIMEOUT_MS)
        after = steps.locator("option").all_inner_texts()
        assert after[:2] == [before[1], before[0]] and after[2:] == before[2:], (before, after)
        worked.append("ordering")
    return worked


def quiz_containers(page, scope: str):
    """Each quiz's box (the parent of its *Check answer* button), in page order."""
    buttons = page.locator(f"{scope} button.widget-button", has_text=re.compile(r"^\s*Check answer\s*$"))
    return [buttons.nth(k).locator("xpath=..") for k in range(buttons.count())]


def explorers_in_panel(page):
    return [h.as_element() for h in page.evaluate_handle(
        f"() => ({EXPLORERS_JS})().filter(e => e.closest('{PANEL}'))").get_properties().values()]


#: The widest window measured for line length, and the longest line of lesson text allowed there.
WIDE_VIEWPORT = {"width": 1920, "height": 1080}
MAX_LINE_CHARS = 100

#: JavaScript: each block of lesson text (Markdown cells) under ``scope`` that is wider than
#: ``limit`` characters of its own font: box width / the text's mean character width, measured
#: with a canvas in the element's computed font.
WIDE_PROSE_JS = """([scope, limit]) => {
  const ctx = document.createElement('canvas').getContext('2d');
  const blocks = ['p', 'li', 'blockquote', 'dd', 'summary', 'td', 'th', 'h1', 'h2', 'h3', 'h4']
      .map(tag => `${scope} .jp-MarkdownOutput ${tag}`).join(', ');
  const wide = [];
  let measured = 0;
  for (const el of document.querySelectorAll(blocks)) {
    const text = el.textContent.replace(/\\s+/g, ' ').trim();
    if (text.length < 20 || el.getClientRects().length === 0) continue;  // short, or not displayed
    const cs = getComputedStyle(el);
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const chars = el.getBoundingClientRect().width / (ctx.measureText(text).width / text.length);
    measured += 1;
    if (chars > limit) wide.push(`${el.tagName.toLowerCase()} ${Math.round(chars)} chars: ${text.slice(0, 50)}`);
  }
  return {measured, wide};
}"""


def wide_prose(page, scope: str = "body") -> tuple[int, list[str]]:
    """Lesson text blocks wider than :data:`MAX_LINE_CHARS` at a 1920 px wide window: (blocks
    measured, the wide ones). The page's window size is restored afterwards."""
    page.set_viewport_size(WIDE_VIEWPORT)
    try:
        page.wait_for_timeout(100)  # one layout at the new width
        found = page.evaluate(WIDE_PROSE_JS, [scope, MAX_LINE_CHARS])
    finally:
        page.set_viewport_size(VIEWPORT)
    return found["measured"], found["wide"]


def check_lesson_by_keyboard(app, server, browser, screenshots, notebook):
    """Run ``notebook`` in ``app`` and work its sliders and first quiz with the keyboard."""
    page, recorder = open_page(browser)
    try:
        open_and_run_all(page, server, app, notebook, recorder, screenshots)
        panel = page.locator(PANEL)
        errors = panel.locator(ERROR_OUTPUTS)
        assert errors.count() == 0, (f"{notebook}: error output in {app}:\n"
                                     + "\n---\n".join(errors.all_inner_texts())[:3000])
        assert not ERROR_TEXT.search(panel.locator(".jp-Notebook").inner_text()), f"{notebook}: traceback text"
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        numbers = [int(re.sub(r"\D", "", p)) for p in prompts]
        assert numbers == list(range(1, len(code_cells(notebook)) + 1)), f"cells ran out of order: {prompts}"
        # Line length: the package's PageStyle (on the page once an explorer or quiz has run)
        # holds every block of lesson text to about 100 characters, even at 1920 px.
        measured, wide = wide_prose(page, PANEL)
        assert measured > 10 and not wide, f"{notebook}: lesson text over {MAX_LINE_CHARS} characters a line in {app}: {wide}"

        explorers = explorers_in_panel(page)
        for explorer in explorers:
            explorer.scroll_into_view_if_needed()
            operate_day_slider_by_keyboard(page, explorer)
        if explorers:
            page.screenshot(path=str(screenshots / f"{app}-{notebook[:-6]}-slider.png"))

        calls = quiz_calls(notebook)
        containers = quiz_containers(page, PANEL)
        assert len(containers) == len(calls), f"{notebook}: {len(containers)} quizzes on screen, {len(calls)} in the code"
        containers[0].scroll_into_view_if_needed()
        wrong, right = answer_quiz_item_by_keyboard(page, containers[0], build_quiz(calls[0]))
        assert "Not right." in wrong and "Correct." not in wrong, wrong
        assert "Correct." in right and "Not right." not in right, right
        page.screenshot(path=str(screenshots / f"{app}-{notebook[:-6]}-quiz.png"))
        tick_and_order_by_keyboard(page, containers[0], build_quiz(calls[0]))
        # Notebook 7.6 throws "Cannot read properties of undefined (reading 'schema')" while it
        # loads, in its own code (browser review of 0.1.0, L18): not counted in Notebook 7 only
        errors = [e for e in recorder.errors() if not (app == "notebook" and "reading 'schema'" in e)]
        assert errors == [], f"{notebook}: browser console errors in {app}: {errors}"
        return len(explorers)
    finally:
        page.context.close()
        shut_down_kernels(server)

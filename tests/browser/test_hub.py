"""A class on a real JupyterHub: five learners arrive through nbgitpuller links, in Chromium.

JupyterHub (PyPI) runs on 127.0.0.1 with configurable-http-proxy (npm), the dummy authenticator
and ``SimpleLocalProcessSpawner`` (each learner's server is a local process with its own home
folder under a temporary folder; it runs as the test's user, ``--allow-root`` when that is root).
Each learner opens an nbgitpuller link that pulls a local git clone of this repository and lands in
lesson 02 in Voila; they log in, move the explorer's day slider, answer the quiz's first item
(each learner a different option) and save their answers (Voila: a browser download). The test
asserts that each file holds that learner's id and answer only, that the class report reads the
five files, and that at the end every single-user server, its kernels, the proxy and the Hub are
stopped (through the Hub's API and the Hub's own process handle; nothing outlives the test).

Skips, in one line each, when jupyterhub or nbgitpuller is not installed (the test extras) or
configurable-http-proxy is missing from ``.ci/node`` (the line gives the npm command).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import (
    PAGE_TIMEOUT_MS,
    READY_JS,
    ROOT,
    SCREENSHOTS,
    Server,
    build_quiz,
    expected_widget_views,
    find_chromium,
    free_port,
    open_page,
    quiz_calls,
)
from test_voila import explorers, press_keys_to_answer, press_on_slider, quiz_parts

CHP = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
CHP_INSTALL = "npm install --no-save --no-audit --no-fund --prefix .ci/node configurable-http-proxy"
USERS = ("ada", "ben", "cyd", "dee", "eli")
LESSON = "02_platelet_trapping.ipynb"
TARGET = "kms-teach"  # the folder nbgitpuller clones into, in each learner's home
HUB_START_SECONDS = 90
ARRIVAL_MS = int(os.environ.get('KMS_TEACH_HUB_ARRIVAL_MS', 180_000))  # log in, spawn, pull, and Voila runs the lesson (2 shared cores)
STOP_SECONDS = 30
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _missing() -> str | None:
    if find_chromium() is None:
        return None  # the folder's own Chromium check skips this test, on the one line every browser test shares
    for module in ("jupyterhub", "nbgitpuller"):
        try:
            __import__(module)
        except ImportError:
            return f"Hub test skipped: {module} is not installed (python -m pip install -e '.[test]')"
    if not os.access(CHP, os.X_OK):
        return f"Hub test skipped: configurable-http-proxy not found; from the repository root run: {CHP_INSTALL}"
    if shutil.which("git") is None:
        return "Hub test skipped: git is not installed (nbgitpuller needs it)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}/hub/api{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with _NO_PROXY.open(request, timeout=30) as response:
        body = response.read()
        return response.status, (json.loads(body) if body else None)


def _children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc; Linux only)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _clone_repository(target: Path) -> tuple[Path, str]:
    """A local git clone of this repository (the lessons as committed), for nbgitpuller to pull from."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-dir"], capture_output=True).returncode == 0:
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", "--depth", "1", f"file://{ROOT}", str(target)],
                       check=True, timeout=120, capture_output=True)
    else:  # a source tree without git (an sdist): a repository holding its notebooks
        shutil.copytree(ROOT / "notebooks", target / "notebooks")
        for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=test", "-c", "user.email=test@localhost",
                                                          "commit", "-q", "-m", "lessons"]):
            subprocess.run(["git", "-C", str(target), *command], check=True, timeout=60, capture_output=True)
    branch = subprocess.run(["git", "-C", str(target), "rev-parse", "--abbrev-ref", "HEAD"], check=True,
                            capture_output=True, text=True, timeout=30).stdout.strip()
    return target, branch


def _hub_config(work: Path, port: int, token: str) -> Path:
    bin_dir = Path(sys.executable).parent
    singleuser = bin_dir / "jupyterhub-singleuser"
    config = {
        "ip": "127.0.0.1", "port": port, "hub_ip": "127.0.0.1", "hub_port": free_port(),
        "api_url": f"http://127.0.0.1:{free_port()}", "chp": str(CHP), "homes": str(work / "homes"),
        "db": f"sqlite:///{work / 'hub.sqlite'}", "cookie": str(work / "cookie_secret"),
        "cmd": [str(singleuser)], "token": token,
        "args": [*(["--allow-root"] if IS_ROOT else []), "--ServerApp.ip=127.0.0.1",
                 "--MappingKernelManager.cull_interval=10", "--MappingKernelManager.cull_idle_timeout=120",
                 "--VoilaConfiguration.template=kms"],  # (extension_denylist breaks Voila 0.5's extension mode)
        "environment": {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                        "JUPYTER_PATH": str(ROOT / "share" / "jupyter"), "PYTHONUNBUFFERED": "1"},
    }
    path = work / "jupyterhub_config.py"
    path.write_text(f"""import json
settings = json.loads({json.dumps(json.dumps(config))})
c = get_config()  # noqa: F821
c.JupyterHub.ip = settings["ip"]
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = settings["hub_ip"]
c.JupyterHub.hub_port = settings["hub_port"]
c.JupyterHub.db_url = settings["db"]
c.JupyterHub.cookie_secret_file = settings["cookie"]
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.ConfigurableHTTPProxy.command = [settings["chp"]]
c.ConfigurableHTTPProxy.api_url = settings["api_url"]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = settings["homes"] + "/{{username}}"
c.Spawner.cmd = settings["cmd"]
c.Spawner.args = settings["args"]
c.Spawner.environment = settings["environment"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "class-test", "api_token": settings["token"]}}]
c.JupyterHub.load_roles = [{{"name": "class-test", "services": ["class-test"],
                            "scopes": ["admin:users", "admin:servers", "list:users", "read:users"]}}]
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hub(tmp_path_factory, jupyter_env):
    work = tmp_path_factory.mktemp("hub")
    (work / "homes").mkdir()
    repository, branch = _clone_repository(work / "source" / "kms-teach")
    token = secrets.token_hex(16)
    env = dict(jupyter_env)
    env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(16)
    error = None
    for _ in range(3):  # another process may take a free port between choosing and binding
        port = free_port()
        config = _hub_config(work, port, token)
        base = f"http://127.0.0.1:{port}"
        server = Server("JupyterHub", [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=work, env=env,
                        ready_url=f"{base}/hub/health", log_path=work / "hub.log")
        try:
            server.start(timeout=HUB_START_SECONDS)
            break
        except RuntimeError as exc:
            server.stop()
            error = exc
            if "in use" not in str(exc):
                raise
    else:
        raise error
    server.base_url, server.token, server.work, server.repository = base, token, work, repository
    server.branch = branch
    try:
        yield server
    finally:
        leftovers = _children(server.process.pid) if server.process.poll() is None else []
        server.stop(timeout=STOP_SECONDS)
        for pid in leftovers:  # only if the test failed before its own checks: never leave them running
            if _alive(pid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass


def _pull_link(hub, lesson: str) -> str:
    query = urllib.parse.urlencode({"repo": f"file://{hub.repository}", "branch": hub.branch,
                                    "targetpath": TARGET, "urlpath": f"voila/render/{TARGET}/notebooks/{lesson}"})
    return f"{hub.base_url}/hub/user-redirect/git-pull?{query}"


def _log_in(browser, hub, user: str):
    """A learner opens the link and logs in; the Hub spawns, nbgitpuller pulls and Voila runs in the background
    (so that the five arrivals overlap, as in a class). Returns the page, its recorder and the start time."""
    page, recorder = open_page(browser)
    started = time.monotonic()
    page.goto(_pull_link(hub, LESSON), timeout=PAGE_TIMEOUT_MS)
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill("any")
    page.locator("#login_submit").click(no_wait_after=True)
    return page, recorder, started


def _arrive(hub, user: str, choice: int, downloads: Path, page, recorder, started) -> tuple[dict, float]:
    """One learner, once logged in: lesson drawn, slider, quiz item, save. Returns their answers file and seconds."""
    try:
        page.wait_for_url(f"**/user/{user}/voila/render/{TARGET}/notebooks/{LESSON}*", timeout=ARRIVAL_MS)
        try:
            page.wait_for_function(READY_JS, arg=expected_widget_views(LESSON), timeout=ARRIVAL_MS, polling=200)
        except Exception as exc:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"hub-{user}-not-ready.png"))
            raise AssertionError(f"{user}: the lesson was not drawn within {ARRIVAL_MS / 1000:.0f} s at {page.url}; "
                                 f"page: {page.locator('body').inner_text()[:500]!r}; errors: {recorder.errors()}; "
                                 f"Hub log:\n{hub.log_tail(3000)}") from exc
        arrived = time.monotonic() - started
        before, after = press_on_slider(page, explorers(page)[0], 0)
        assert after["src"] != before["src"], f"{user}: the figure did not change"

        quiz = build_quiz(quiz_calls(LESSON)[0])
        position = next((i for i, q in enumerate(quiz.questions) if q.type == "multiple_choice"), None)
        assert position is not None, "the lesson's quiz has no single-best-answer item"
        question = quiz.questions[position]
        order = quiz.orders[question.id]
        container, button, feedback = quiz_parts(page, 0)
        for _ in range(position):  # to that item, as a learner would
            container.get_by_role("button", name="Next question").click()
        page.wait_for_function("([el, t]) => el.textContent.includes(t)",
                               arg=[container.element_handle(), f"Question {position + 1} of {len(quiz.questions)}"])
        # the options are drawn by the front end after the item changes: wait for the last one
        container.locator(".kms-radio input[type=radio]").nth(len(order) - 1).wait_for(timeout=20_000)
        link = page.locator(".jp-OutputArea-output > .jupyter-widgets").filter(
            has=page.locator(".kms-answers")).first.get_by_role("link", name="Save answers")
        empty = link.get_attribute("href")
        press_keys_to_answer(page, container, button, feedback, question.type, [choice], len(order))
        page.wait_for_function("([a, old]) => a.getAttribute('href') !== old", arg=[link.element_handle(), empty],
                               timeout=20_000)  # the kernel redraws the link with the answer in it
        with page.expect_download(timeout=20_000) as info:
            link.click()
        target = downloads / f"{user}.json"
        info.value.save_as(target)
        if user == USERS[0]:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "hub-learner.png"))
        assert not recorder.page_errors, f"{user}: {recorder.page_errors}"
        data = json.loads(target.read_text(encoding="utf-8"))
        data["_expected_response"] = order[choice]
        data["_item"] = question.id
        return data, arrived
    finally:
        page.context.close()


def test_five_learners_arrive_by_nbgitpuller_links_and_keep_their_own_answers(browser, hub, tmp_path):
    from kms_teach.report import build_report

    downloads = tmp_path / "handed-in"
    downloads.mkdir()
    files, seconds = {}, {}
    pages = {}
    try:
        for user in USERS:
            pages[user] = _log_in(browser, hub, user)
        for n, user in enumerate(USERS):
            files[user], seconds[user] = _arrive(hub, user, n % 4, downloads, *pages.pop(user))
    finally:
        for page, _recorder, _started in pages.values():
            page.context.close()
    print("arrival (link to lesson drawn), s:", {u: round(s, 1) for u, s in seconds.items()})

    for user, data in files.items():
        assert data["learner_id"] == user, "the Hub user name is the learner id in the answers file"
        (quiz_id, quiz), = data["quizzes"].items()
        assert quiz_id == "lesson-02" and set(quiz["items"]) == {data["_item"]}
        assert quiz["items"][data["_item"]]["first_attempt"]["response"] == data["_expected_response"]
        others = [u for u in USERS if u != user]
        text = json.dumps(data)
        assert not any(f'"{other}"' in text for other in others)
    assert len({d["_expected_response"] for d in files.values()}) == 4  # four different answers, as given

    # nbgitpuller put the lessons in each learner's own home; Voila wrote no answers file on the server
    homes = hub.work / "homes"
    for user in USERS:
        assert (homes / user / TARGET / "notebooks" / LESSON).is_file()
    assert sorted(p.name for p in homes.iterdir()) == sorted(USERS)
    assert not list(homes.rglob("answers-*.json"))

    # what the learners hand in, the class report reads (ids shown, as for grades going to an LMS)
    report = build_report([downloads], reveal_ids=True)
    assert sorted(le.shown_id for le in report.learners) == sorted(USERS) and not report.skipped

    # the end of the class: every server stopped through the Hub, then the Hub through its own handle
    status, users = _api(hub.base_url, hub.token, "/users")
    assert status == 200 and {u["name"] for u in users} >= set(USERS)
    descendants = _children(hub.process.pid)
    singleuser = [pid for pid in descendants if "jupyterhub-singleuser" in _command(pid)]
    assert len(singleuser) == len(USERS), [_command(pid) for pid in descendants]
    for user in USERS:
        status, _ = _api(hub.base_url, hub.token, f"/users/{user}/server", method="DELETE")
        assert status in (202, 204)
    deadline = time.monotonic() + STOP_SECONDS
    while any(_alive(pid) for pid in singleuser) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in singleuser if _alive(pid)], "a single-user server outlived its stop"
    hub.stop(timeout=STOP_SECONDS)
    assert hub.process.returncode is not None
    deadline = time.monotonic() + STOP_SECONDS
    while any(_alive(pid) for pid in descendants) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [(_command(pid)) for pid in descendants if _alive(pid)], "the proxy or a kernel outlived the Hub"

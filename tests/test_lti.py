"""LTI 1.3 launch into a lesson: the test plays the LMS (platform) against the real authenticator.

JupyterHub runs on 127.0.0.1 with ``jupyterhub-ltiauthenticator``'s ``LTI13Authenticator``,
configurable-http-proxy and ``SimpleLocalProcessSpawner``. The test is the platform: its own RSA
key pair, its JSON Web Key Set served on loopback, and a signed ``id_token`` for each launch. It
walks the OpenID Connect third-party login exactly as a browser would (cookies kept, redirects
read one by one):

1. login initiation (``/hub/lti13/oauth_login`` with ``iss``, ``login_hint``, ``target_link_uri``),
2. the tool's redirect to the platform's authorisation URL (``state``, ``nonce``),
3. the platform's form post of the signed ``id_token`` to ``/hub/lti13/oauth_callback``,
4. the Hub's redirect to the next URL, then nbgitpuller pulls the lessons and Voila draws the lesson.

What must hold: an nbgitpuller link given as the launch's target link URI survives the launch
whole (repository, branch and lesson path), and so does one given as ``next=`` inside the target
link URI (how the authenticator reads it: its source, ``LTI13LoginInitHandler.get_state``); the
learner lands in the lesson; a token signed with another key is refused. Grades do not go back
through LTI (see the educator guide): only the launch is tested.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHP = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
CHP_INSTALL = "npm install --no-save --no-audit --no-fund --prefix .ci/node configurable-http-proxy"
LESSON = "00_start_here.ipynb"
TARGET = "kms-teach"
CLIENT_ID = "kms-teach-tool"
DEPLOYMENT_ID = "deployment-1"
START_SECONDS = 90
LAND_SECONDS = 180
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _missing() -> str | None:
    for module in ("jupyterhub", "nbgitpuller", "ltiauthenticator", "jwt", "cryptography", "requests"):
        try:
            __import__(module)
        except ImportError:
            return f"LTI test skipped: {module} is not installed (python -m pip install -e '.[test]')"
    if not os.access(CHP, os.X_OK):
        return f"LTI test skipped: configurable-http-proxy not found; from the repository root run: {CHP_INSTALL}"
    if shutil.which("git") is None:
        return "LTI test skipped: git is not installed (nbgitpuller needs it)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Platform:
    """The LMS side: an RSA key pair and its JWKS served on 127.0.0.1 (stopped by the test)."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        numbers = self.key.public_key().public_numbers()

        def b64(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

        body = json.dumps({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                                     "n": b64(numbers.n), "e": b64(numbers.e)}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200 if self.path == "/jwks" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body if self.path == "/jwks" else b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = self.base  # the platform's issuer id (https in real life)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def id_token(self, nonce: str, target_link_uri: str, subject: str, key=None) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": subject, "iat": now, "exp": now + 300, "nonce": nonce,
            "email": f"{subject}@example.org", "name": subject.title(),
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT_ID,
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": target_link_uri,
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "kmp-lesson-00"},
            "https://purl.imsglobal.org/spec/lti/claim/roles": [
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            "https://purl.imsglobal.org/spec/lti/claim/context": {"id": "course-1", "label": "PAED-301",
                                                                  "title": "Paediatric haematology"},
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _config(work: Path, port: int, platform: Platform) -> Path:
    bin_dir = Path(sys.executable).parent
    settings = {
        "port": port, "hub_port": _free_port(), "api_url": f"http://127.0.0.1:{_free_port()}", "chp": str(CHP),
        "homes": str(work / "homes"), "db": f"sqlite:///{work / 'hub.sqlite'}", "cookie": str(work / "cookie"),
        "cmd": [str(bin_dir / "jupyterhub-singleuser")],
        "args": [*(["--allow-root"] if IS_ROOT else []), "--ServerApp.ip=127.0.0.1",
                 "--MappingKernelManager.cull_interval=10", "--MappingKernelManager.cull_idle_timeout=60"],
        "environment": {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "PYTHONUNBUFFERED": "1"},
        "issuer": platform.issuer, "jwks": platform.base + "/jwks", "authorize": platform.base + "/authorize",
        "client_id": CLIENT_ID,
    }
    path = work / "jupyterhub_config.py"
    path.write_text(f"""import json
s = json.loads({json.dumps(json.dumps(settings))})
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = s["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.JupyterHub.db_url = s["db"]
c.JupyterHub.cookie_secret_file = s["cookie"]
c.ConfigurableHTTPProxy.command = [s["chp"]]
c.ConfigurableHTTPProxy.api_url = s["api_url"]
c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.auth.LTI13Authenticator"
c.LTI13Authenticator.issuer = s["issuer"]
c.LTI13Authenticator.jwks_endpoint = s["jwks"]
c.LTI13Authenticator.authorize_url = s["authorize"]
c.LTI13Authenticator.client_id = [s["client_id"]]
c.LTI13Authenticator.username_key = "sub"
c.LTI13Authenticator.uri_scheme = "http"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = s["homes"] + "/{{username}}"
c.Spawner.cmd = s["cmd"]
c.Spawner.args = s["args"]
c.Spawner.environment = s["environment"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lti_hub(tmp_path_factory):
    import requests

    work = tmp_path_factory.mktemp("lti-hub")
    (work / "homes").mkdir()
    for key in ("config", "data", "runtime"):
        (work / key).mkdir()
    source = work / "source" / TARGET
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-dir"], capture_output=True).returncode == 0:
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", f"file://{ROOT}", str(source)], check=True,
                       timeout=120, capture_output=True)
    else:
        shutil.copytree(ROOT / "notebooks", source / "notebooks")
        for command in (["init", "-q"], ["add", "-A"],
                        ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-q", "-m", "lessons"]):
            subprocess.run(["git", "-C", str(source), *command], check=True, timeout=60, capture_output=True)
    branch = subprocess.run(["git", "-C", str(source), "rev-parse", "--abbrev-ref", "HEAD"], check=True,
                            capture_output=True, text=True, timeout=30).stdout.strip()
    platform = Platform()
    port = _free_port()
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(16), "JUPYTER_PLATFORM_DIRS": "1",
           "JUPYTER_CONFIG_DIR": str(work / "config"), "JUPYTER_DATA_DIR": str(work / "data"),
           "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    log = open(work / "hub.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(_config(work, port, platform))],
                               cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.trust_env = False  # never a proxy from the environment: everything is on loopback
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, (work / "hub.log").read_text(errors="replace")[-3000:]
            try:
                if session.get(f"{base}/hub/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "JupyterHub did not answer within the start limit"
            time.sleep(0.2)
        yield {"base": base, "platform": platform, "process": process, "work": work, "source": source,
               "branch": branch}
    finally:
        if process.poll() is None:
            process.terminate()  # the Hub stops its proxy and the learners' servers on the way out
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()
        platform.stop()


def _pull_path(hub) -> str:
    query = urllib.parse.urlencode({"repo": f"file://{hub['source']}", "branch": hub["branch"],
                                    "targetpath": TARGET, "urlpath": f"voila/render/{TARGET}/notebooks/{LESSON}"})
    return f"/hub/user-redirect/git-pull?{query}"


def _launch(hub, target_link_uri: str, subject: str, *, key=None):
    """Run the LTI 1.3 launch as the platform and the browser; return the session and the Hub's final redirect."""
    import requests

    session = requests.Session()
    session.trust_env = False
    platform = hub["platform"]
    start = session.get(f"{hub['base']}/hub/lti13/oauth_login", allow_redirects=False, timeout=30, params={
        "iss": platform.issuer, "login_hint": subject, "target_link_uri": target_link_uri,
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT_ID, "lti_message_hint": "resource-link-1"})
    assert start.status_code == 302, start.text[:500]
    authorise = urllib.parse.urlsplit(start.headers["Location"])
    assert f"{authorise.scheme}://{authorise.netloc}{authorise.path}" == platform.base + "/authorize"
    request = dict(urllib.parse.parse_qsl(authorise.query))
    assert request["client_id"] == CLIENT_ID and request["response_mode"] == "form_post"
    assert request["lti_message_hint"] == "resource-link-1"  # given back unaltered
    token = platform.id_token(request["nonce"], target_link_uri, subject, key=key)
    callback = session.post(request["redirect_uri"], data={"id_token": token, "state": request["state"]},
                            allow_redirects=False, timeout=30)
    return session, callback


def test_a_launch_whose_target_is_an_nbgitpuller_link_lands_the_learner_in_the_lesson(lti_hub):
    link = lti_hub["base"] + _pull_path(lti_hub)
    session, callback = _launch(lti_hub, link, "ada")
    assert callback.status_code == 302, callback.text[:500]
    assert callback.headers["Location"] == _pull_path(lti_hub), "the nbgitpuller link lost its target"

    # the browser follows: the Hub spawns ada's server and hands over to nbgitpuller there
    deadline = time.monotonic() + LAND_SECONDS
    url = lti_hub["base"] + callback.headers["Location"]
    while True:
        response = session.get(url, allow_redirects=False, timeout=60)
        if response.status_code in (301, 302, 303, 307):
            url = urllib.parse.urljoin(url, response.headers["Location"])
        elif "/hub/spawn-pending/" in url and response.status_code == 200:
            time.sleep(0.5)  # the page waits for the server by script; poll it like the page does
            url = lti_hub["base"] + _pull_path(lti_hub)
        else:
            break
        assert time.monotonic() < deadline, f"no landing within {LAND_SECONDS} s; last URL {url}"
    assert response.status_code == 200 and "/user/ada/git-pull" in url, (url, response.status_code)
    # what nbgitpuller's page does by script: run the pull (an event stream), then open the lesson
    query = urllib.parse.urlsplit(url).query
    api = url.split("/git-pull", 1)[0] + "/git-pull/api?" + query
    with session.get(api, stream=True, timeout=LAND_SECONDS) as events:
        text = "".join(chunk.decode(errors="replace") for chunk in events.iter_content(4096))
    assert '"phase": "finished"' in text or "finished" in text, text[-500:]
    assert (lti_hub["work"] / "homes" / "ada" / TARGET / "notebooks" / LESSON).is_file()
    lesson = session.get(url.split("/git-pull", 1)[0] + f"/voila/render/{TARGET}/notebooks/{LESSON}",
                         timeout=LAND_SECONDS)
    assert lesson.status_code == 200 and "kernelId" in lesson.text  # Voila ran the lesson for ada


def test_a_link_given_as_next_inside_the_target_link_uri_survives(lti_hub):
    inner = _pull_path(lti_hub)
    target = f"{lti_hub['base']}/hub/?next={urllib.parse.quote(inner, safe='')}"
    _session, callback = _launch(lti_hub, target, "ben")
    assert callback.status_code == 302
    assert callback.headers["Location"] == inner  # repository, branch and lesson path all kept


def test_a_token_signed_with_another_key_is_refused(lti_hub):
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _session, callback = _launch(lti_hub, lti_hub["base"] + _pull_path(lti_hub), "eve", key=stranger)
    assert callback.status_code == 400 and "Location" not in callback.headers
    assert not (lti_hub["work"] / "homes" / "eve").exists()

"""A class on one Voila server: N concurrent learners, slider latency, page load, memory, CPU.

Usage::

    python benchmarks/bench_class.py                       # N = 5, 10, 20, 40; 2 Chromium pages alongside
    python benchmarks/bench_class.py --learners 5 10 --moves 10 --browsers 0 --json out.json

Each learner is a kernel-level client that does what a Voila page does, over the same
WebSocket and with the same widget messages: it loads the lesson page (Voila runs the
notebook in a new kernel), opens the ``jupyter.widget.control`` comm and asks for every
widget's state, then moves the explorer's day slider (a ``comm_msg`` ``update`` of the
slider's ``value``, as the browser sends on a key press) and waits for the kernel's update of
the figure's ``<img>``. Learners think for 0.5-1.5 s between moves, all at once. A few real
Chromium pages (Playwright, Debian's Chromium) load the same lesson alongside and measure a
key press on the slider until the new figure is painted.

Measured, per N: slider-to-figure latency p50 and p90 (kernel clients: message sent to image
update received; Chromium: key press to new ``src`` painted), page load to first figure
(request sent to the figure's state received), kernel memory per learner (RSS of the kernels
Voila started, after the moves, divided by N) and the server's CPU use (Voila and its kernels,
in cores, during the moves). Everything listens on 127.0.0.1; Voila is stopped through its own
process handle, with its kernels.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSON = "02_platelet_trapping.ipynb"
PAGE_SECONDS = 300  # a page load under load, at most
MOVE_SECONDS = 60  # one slider move's answer, at most
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Voila:
    """Voila serving the lessons on 127.0.0.1, stopped through its own process handle."""

    def __init__(self, work: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        for key in ("config", "data", "runtime", "ipython"):
            (work / key).mkdir(exist_ok=True)
        env.update(JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_DATA_DIR=str(work / "data"),
                   JUPYTER_RUNTIME_DIR=str(work / "runtime"), IPYTHONDIR=str(work / "ipython"),
                   JUPYTER_PATH=str(ROOT / "share" / "jupyter"), JUPYTER_PLATFORM_DIRS="1")
        self.log = open(work / "voila.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voila", str(ROOT / "notebooks"), "--no-browser", "--Voila.ip=127.0.0.1",
             f"--port={self.port}", "--template=kms", "--MappingKernelManager.cull_interval=0"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Voila exited with {self.process.returncode}; see {work / 'voila.log'}")
            try:
                with urllib.request.urlopen(self.base + "/", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("Voila did not answer within 90 s")
                time.sleep(0.2)

    def kernels(self) -> list[int]:
        return [pid for pid in descendants(self.process.pid) if b"ipykernel" in _cmdline(pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _message(msg_type: str, content: dict, session: str, metadata: dict | None = None) -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "bench", "session": session,
                       "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": metadata or {}, "content": content, "channel": "shell", "buffers": []}


class Learner:
    """One page's worth of traffic: load, widget states, then slider moves over the kernel's WebSocket."""

    def __init__(self, base: str, number: int, rng: random.Random):
        self.base, self.number, self.rng = base, number, rng
        self.session = uuid.uuid4().hex
        self.latencies: list[float] = []
        self.load_seconds = float("nan")
        self.error: str | None = None

    async def load(self) -> None:
        from tornado.httpclient import AsyncHTTPClient
        from tornado.websocket import websocket_connect

        started = time.monotonic()
        response = await AsyncHTTPClient().fetch(f"{self.base}/voila/render/{LESSON}", request_timeout=PAGE_SECONDS)
        page = response.body.decode("utf-8", "replace")
        match = re.search(r'kernelId["\']?\s*[:=]\s*["\']([0-9a-f-]{36})', page) or re.search(
            r"/api/kernels/([0-9a-f-]{36})", page)
        if match is None:
            raise RuntimeError("no kernel id in the Voila page")
        self.kernel_id = match.group(1)
        self.socket = await websocket_connect(
            f"{self.base.replace('http', 'ws', 1)}/api/kernels/{self.kernel_id}/channels?session_id={self.session}",
            max_message_size=64 * 1024 * 1024)
        control = uuid.uuid4().hex
        await self.send(_message("comm_open", {"comm_id": control, "target_name": "jupyter.widget.control",
                                               "data": {}}, self.session, {"version": "1.0.0"}))
        await self.send(_message("comm_msg", {"comm_id": control, "data": {"method": "request_states"}},
                                 self.session))
        states = None
        while states is None:
            message = await self.receive(PAGE_SECONDS)
            data = message.get("content", {}).get("data", {}) if message.get("msg_type") == "comm_msg" else {}
            if data.get("method") == "update_states":
                states = data["states"]
        self.slider, self.image = self._find(states)
        self.load_seconds = time.monotonic() - started

    def _find(self, states: dict) -> tuple[tuple[str, dict], str]:
        """The first explorer's day slider (an anywidget with an int value) and the HTML widget holding its <img>."""
        sliders = [(cid, s["state"]) for cid, s in states.items()
                   if {"value", "min", "max", "step", "description"} <= set(s["state"]) and
                   isinstance(s["state"]["value"], int) and "day" in str(s["state"]["description"]).lower()]
        images = [cid for cid, s in states.items() if "<img" in str(s["state"].get("value", ""))]
        if not sliders or not images:
            raise RuntimeError(f"no day slider ({len(sliders)}) or figure ({len(images)}) among {len(states)} widgets")
        return sliders[0], images[0]

    async def send(self, message: dict) -> None:
        await self.socket.write_message(json.dumps(message))

    async def receive(self, timeout: float) -> dict:
        text = await asyncio.wait_for(self.socket.read_message(), timeout)
        if text is None:
            raise RuntimeError("the kernel's WebSocket closed")
        if isinstance(text, bytes):  # a message with buffers: uint32 count, uint32 offsets, JSON, buffers
            count = int.from_bytes(text[:4], "big")
            offsets = [int.from_bytes(text[4 + 4 * k: 8 + 4 * k], "big") for k in range(count)]
            end = offsets[1] if count > 1 else len(text)
            return json.loads(text[offsets[0]:end].decode("utf-8"))
        return json.loads(text)

    async def move(self, value: int) -> float:
        slider_id, _ = self.slider
        await self.send(_message("comm_msg", {"comm_id": slider_id, "data": {
            "method": "update", "state": {"value": value}, "buffer_paths": []}}, self.session, {"version": "2.1.0"}))
        sent = time.monotonic()
        while True:
            message = await self.receive(MOVE_SECONDS)
            content = message.get("content", {})
            if message.get("msg_type") == "comm_msg" and content.get("comm_id") == self.image:
                state = content.get("data", {}).get("state", {})
                if "<img" in str(state.get("value", "")):
                    return time.monotonic() - sent

    async def run(self, moves: int, start: asyncio.Event) -> None:
        try:
            await self.load()
            await start.wait()
            _, state = self.slider
            value, low, high = state["value"], state["min"], state["max"]
            for _ in range(moves):
                await asyncio.sleep(self.rng.uniform(0.5, 1.5))  # a learner looks, then presses a key
                value = value + 1 if value < high else low
                self.latencies.append(await self.move(value))
        except Exception as exc:  # reported in the table, never hidden
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if getattr(self, "socket", None) is not None:
                self.socket.close()


def browser_latencies(base: str, pages: int, moves: int, ready: threading.Event, out: dict) -> None:
    """Real Chromium pages: key press on the day slider until the new figure's src is painted."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        out["error"] = "playwright not installed"
        ready.set()
        return
    chromium = os.environ.get("KMS_TEACH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args, headless=True)
        try:
            opened = []
            for _ in range(pages):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.route(re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1[:/])[a-z]+://"), lambda r: r.abort())
                started = time.monotonic()
                page.goto(f"{base}/voila/render/{LESSON}", timeout=PAGE_SECONDS * 1000)
                page.wait_for_selector(".kms-slider input[type=range]", timeout=PAGE_SECONDS * 1000)
                page.wait_for_function("() => document.querySelector('.widget-html img')", timeout=PAGE_SECONDS * 1000)
                out.setdefault("load", []).append(time.monotonic() - started)
                opened.append(page)
            ready.set()
            latencies = out.setdefault("latencies", [])
            for _ in range(moves):
                for page in opened:
                    time.sleep(random.uniform(0.3, 0.8))
                    handle = page.locator(".kms-slider input[type=range]").first
                    before = page.evaluate("() => document.querySelector('.widget-html img').getAttribute('src')")
                    at_max = handle.evaluate("i => i.value === i.max")
                    handle.focus()
                    pressed = time.monotonic()
                    page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
                    page.wait_for_function(
                        "(b) => { const i = document.querySelector('.widget-html img');"
                        " return i && i.getAttribute('src') !== b && i.complete; }",
                        arg=before, timeout=MOVE_SECONDS * 1000, polling="raf")
                    latencies.append(time.monotonic() - pressed)
        except Exception as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            ready.set()
            browser.close()


async def run_class(base: str, voila: Voila, n: int, moves: int, browsers: int, seed: int) -> dict:
    rng = random.Random(seed + n)
    learners = [Learner(base, k, random.Random(rng.random())) for k in range(n)]
    start = asyncio.Event()
    tasks = [asyncio.create_task(learner.run(moves, start)) for learner in learners]
    loaded_at = time.monotonic()
    while not all(hasattr(le, "slider") or le.error for le in learners):
        await asyncio.sleep(0.2)
        if time.monotonic() - loaded_at > PAGE_SECONDS:
            break
    browser_out: dict = {}
    thread = None
    if browsers:
        ready = threading.Event()
        thread = threading.Thread(target=browser_latencies, args=(base, browsers, moves, ready, browser_out),
                                  daemon=True)
        thread.start()
        await asyncio.get_running_loop().run_in_executor(None, ready.wait, PAGE_SECONDS)
    pids = [voila.process.pid, *voila.kernels()]
    cpu_before, wall_before = cpu_seconds(pids), time.monotonic()
    start.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=PAGE_SECONDS + moves * MOVE_SECONDS)
    if thread is not None:
        await asyncio.get_running_loop().run_in_executor(None, thread.join, moves * MOVE_SECONDS * max(1, browsers))
    pids = [voila.process.pid, *voila.kernels()]
    cpu = (cpu_seconds(pids) - cpu_before) / (time.monotonic() - wall_before)
    kernels = voila.kernels()
    latencies = [lat for le in learners for lat in le.latencies]
    errors = sorted({le.error for le in learners if le.error})
    result = {
        "learners": n, "moves_each": moves, "learners_completed": sum(1 for le in learners if not le.error),
        "slider_p50_ms": 1000 * percentile(latencies, 0.5), "slider_p90_ms": 1000 * percentile(latencies, 0.9),
        "load_median_s": statistics.median([le.load_seconds for le in learners if le.load_seconds == le.load_seconds] or [float("nan")]),
        "load_max_s": max([le.load_seconds for le in learners if le.load_seconds == le.load_seconds] or [float("nan")]),
        "kernel_mb_per_learner": sum(rss_bytes(p) for p in kernels) / max(1, len(kernels)) / 2**20,
        "kernels": len(kernels),
        "server_rss_mb": rss_bytes(voila.process.pid) / 2**20,
        "server_cpu_cores": cpu,
        "browser_pages": browsers,
        "browser_p50_ms": 1000 * percentile(browser_out.get("latencies", []), 0.5),
        "browser_p90_ms": 1000 * percentile(browser_out.get("latencies", []), 0.9),
        "browser_load_s": statistics.median(browser_out.get("load", []) or [float("nan")]),
        "errors": errors + ([f"browser: {browser_out['error']}"] if "error" in browser_out else []),
    }
    return result



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--moves", type=int, default=15, help="slider moves per learner (default 15)")
    parser.add_argument("--browsers", type=int, default=2, help="real Chromium pages alongside (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that Voila is stopped on the way out
    results = []
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=1000)  # every learner's page request at once, none queued here
    with tempfile.TemporaryDirectory(prefix="bench-class-") as work:
        for n in args.learners:
            voila = Voila(Path(work))  # a fresh server per class size: no kernels left from the last one
            try:
                results.append(asyncio.run(run_class(voila.base, voila, n, args.moves, args.browsers, args.seed)))
            finally:
                voila.stop()
            row = results[-1]
            print(f"N={n:>3} ({row['learners_completed']} completed): slider p50 {row['slider_p50_ms']:.0f} ms, p90 {row['slider_p90_ms']:.0f} ms; "
                  f"Chromium p50 {row['browser_p50_ms']:.0f} ms, p90 {row['browser_p90_ms']:.0f} ms; "
                  f"load median {row['load_median_s']:.1f} s, max {row['load_max_s']:.1f} s; "
                  f"{row['kernel_mb_per_learner']:.0f} MB/kernel; CPU {row['server_cpu_cores']:.2f} cores"
                  + (f"; errors: {row['errors']}" if row["errors"] else ""), flush=True)
            time.sleep(2)
    print()
    print("| Learners (completed) | Slider p50 (ms) | Slider p90 (ms) | Chromium p50 / p90 (ms) | Page load median / max (s) "
          "| Kernel MB per learner | Server CPU (cores) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['learners']} ({r['learners_completed']}) | {r['slider_p50_ms']:.0f} | {r['slider_p90_ms']:.0f} | "
              f"{r['browser_p50_ms']:.0f} / {r['browser_p90_ms']:.0f} | {r['load_median_s']:.1f} / {r['load_max_s']:.1f} | "
              f"{r['kernel_mb_per_learner']:.0f} | {r['server_cpu_cores']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

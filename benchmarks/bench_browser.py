"""End-to-end speed of the explorers in a real browser (a report, not a test).

Run: python benchmarks/bench_browser.py [--presses N] [--loads N] [--json FILE]

Same set-up as the browser tests (tests/browser/conftest.py): Voila on 127.0.0.1 with
the same flags and temporary Jupyter folders, Debian's Chromium driven by Playwright with
the same flags, every non-loopback request blocked. For each lesson with an explorer:

- key press to new figure painted: the day slider's handle has the focus, ArrowRight is
  pressed (ArrowLeft at the top end); the time runs from the keydown event in the page
  (performance.now) until the explorer's new <img> (new src) is decoded and the next
  animation frame has run (requestAnimationFrame, then a zero-delay task: the frame that
  shows it has been produced). Median over --presses presses (>= 10). Goal: <= 100 ms.
- page load to first interactive figure: from navigation start (performance.now() = 0)
  until the first explorer's <img> is in the page beside a slider; also until every widget
  of the page is drawn. Median over --loads fresh page loads (each starts a kernel).

Lessons without an explorer report only the time until every widget is drawn.
Needs Chromium (/usr/bin/chromium or $KMS_TEACH_CHROMIUM) and the playwright module.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import conftest as setup  # noqa: E402  (the browser tests' set-up: flags, servers, helpers)

GOAL_MS = 100.0
PRESS_TIMEOUT_MS = 15_000
PREHEAT_WAIT = 45.0  # s: pre-heated kernels start and run every lesson once (2 busy cores)
PREHEAT_REFILL = 25.0  # s between loads with pre-heating: the used kernel's replacement runs the lesson

#: Installed before any page script: time of the first explorer figure and of "all drawn".
FIRST_FIGURE_JS = """(() => {
  window.__kms = {firstFigure: null};
  const seen = () => {
    for (const w of document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets')) {
      if (w.querySelector('.kms-slider input[type=range]') && w.querySelector('.widget-html img')) return true;
    }
    return false;
  };
  const observer = new MutationObserver(() => {
    if (window.__kms.firstFigure === null && seen()) {
      window.__kms.firstFigure = performance.now();
      observer.disconnect();
    }
  });
  document.addEventListener('DOMContentLoaded', () => observer.observe(document.body, {childList: true, subtree: true}));
})();"""

#: Arms a measurement of the next key press on the explorer; resolves with milliseconds.
ARM_JS = """(explorer) => {
  // every picture of the explorer: a one-day step may leave one of them (a blood film) unchanged
  const sources = () => [...explorer.querySelectorAll('.widget-html img')].map(i => i.getAttribute('src')).join('|');
  const old = sources();
  window.__kmsPress = new Promise((resolve) => {
    let start = null;
    // on window, where the package's key guard also listens: it stops the arrow keys of its
    // controls there (stopPropagation), which a listener on document would never see
    window.addEventListener('keydown', () => { start = performance.now(); }, {once: true, capture: true});
    const observer = new MutationObserver(() => {
      const images = [...explorer.querySelectorAll('.widget-html img')];
      if (!images.length || sources() === old || start === null) return;
      observer.disconnect();
      Promise.all(images.map(i => i.decode().catch(() => null))).then(() => requestAnimationFrame(() =>
        setTimeout(() => resolve(performance.now() - start), 0)));
    });
    observer.observe(explorer, {childList: true, subtree: true, attributes: true, attributeFilter: ['src']});
  });
}"""

SUMMARY_JS = """(explorer) => [...explorer.querySelectorAll('[role=status]')].map(e => e.textContent).join('|')"""


def explorer_handles(page):
    handles = page.evaluate_handle(
        """() => [...document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets')]
                 .filter(w => w.querySelector('.kms-slider input[type=range]') && w.querySelector('.widget-html img'))""")
    return [h.as_element() for h in handles.get_properties().values()]


def load_lesson(browser, base_url, notebook):
    """Open a lesson; return (page, first-figure ms or None, all-drawn ms)."""
    page, _recorder = setup.open_page(browser)
    page.context.add_init_script(FIRST_FIGURE_JS)
    page.goto(f"{base_url}/voila/render/{notebook}", timeout=setup.PAGE_TIMEOUT_MS)
    expected = setup.expected_widget_views(notebook)
    drawn = page.wait_for_function(f"(n) => ({setup.READY_JS})(n) && performance.now()", arg=expected,
                                   timeout=setup.PAGE_TIMEOUT_MS, polling="raf").json_value()
    first = page.evaluate("() => window.__kms.firstFigure")
    return page, first, drawn


def day_slider(explorer):
    sliders = explorer.query_selector_all(".kms-slider")
    for slider in sliders:
        if slider.query_selector(".kms-slider-label").inner_text().lower().startswith("day"):
            return slider.query_selector("input[type=range]")
    return sliders[0].query_selector("input[type=range]")


def press_latencies(page, explorer, presses):
    handle = day_slider(explorer)
    handle.focus()
    times = []
    for _ in range(presses + 1):  # the first press warms up and is not counted
        key = "ArrowLeft" if handle.evaluate("i => i.value === i.max") else "ArrowRight"
        summary = explorer.evaluate(SUMMARY_JS)
        explorer.evaluate(ARM_JS)
        page.keyboard.press(key)
        # bounded: a press whose figure never changes is reported, not waited for
        elapsed = page.evaluate(f"() => Promise.race([window.__kmsPress, new Promise(r => setTimeout(() => r(null), {PRESS_TIMEOUT_MS}))])")
        if elapsed is None:
            raise RuntimeError(f"no new figure {PRESS_TIMEOUT_MS} ms after pressing {key} on the day slider")
        times.append(elapsed)
        # let the rest of the update (summary, lab report) land before the next press
        page.wait_for_function(f"([e, s]) => ({SUMMARY_JS})(e) !== s", arg=[explorer, summary], timeout=20_000)
        page.wait_for_timeout(50)
    return times[1:]


def stats(values):
    values = sorted(values)
    return {"median": statistics.median(values), "p90": values[int(0.9 * (len(values) - 1))],
            "min": values[0], "max": values[-1], "n": len(values)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20, help="key presses per explorer (>= 10)")
    parser.add_argument("--loads", type=int, default=3, help="fresh page loads per lesson")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--preheat", action="store_true",
                        help="serve with Voila's kernel pre-heating (as `kms-teach voila --preheat`)")
    parser.add_argument("--lessons", nargs="*", help="only these lessons (file names), default all")
    args = parser.parse_args(argv)
    if args.presses < 10:
        parser.error("--presses must be at least 10")
    try:
        import playwright.sync_api  # noqa: F401
        reason = None if setup.find_chromium() else "no Chromium found (Debian: apt-get install -y chromium)"
    except ImportError:
        reason = "the playwright module is not installed (python -m pip install -e '.[test]')"
    if reason:
        print(f"bench_browser: cannot run: {reason}", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    print(f"python {platform.python_version()}, {platform.machine()}, chromium {setup.find_chromium()}; "
          f"goal: key press to new figure painted, median <= {GOAL_MS:g} ms (Voila)")
    results = {"goal_ms": GOAL_MS, "lessons": {}}
    with tempfile.TemporaryDirectory(prefix="kms-bench-") as tmp:
        env = setup.make_jupyter_env(Path(tmp))
        from kms_teach.cli import PREHEAT_FLAGS

        def argv(port):
            return setup.voila_argv(port) + (PREHEAT_FLAGS if args.preheat else [])

        server, base = setup.start_server("Voila", argv, cwd=setup.ROOT, env=env, ready_path="/",
                                          log_path=Path(tmp) / "voila.log")
        if args.preheat:
            time.sleep(PREHEAT_WAIT)  # let the pool's kernels run their lessons before the first load
        playwright = sync_playwright().start()
        try:
            browser = playwright.chromium.launch(executable_path=setup.find_chromium(), args=setup.CHROMIUM_ARGS,
                                                 headless=True, timeout=60_000)
            for notebook in (args.lessons or setup.LESSONS):
                firsts, drawns, presses = [], [], []
                for n in range(args.loads):
                    started = time.monotonic()
                    page, first, drawn = load_lesson(browser, base, notebook)
                    drawns.append(drawn)
                    if first is not None:
                        firsts.append(first)
                    if n == 0:  # key presses on the first load's explorers
                        for explorer in explorer_handles(page):
                            presses += press_latencies(page, explorer, args.presses)
                    page.context.close()
                    # a closed page's kernel is culled by Voila; do not let loads pile up kernels
                    # pre-heating: give the pool time to start and run the next kernel, as between visitors
                    pause = PREHEAT_REFILL if args.preheat else 0.5
                    time.sleep(max(0.0, pause - (time.monotonic() - started)))
                entry = {"all_widgets_drawn_ms": stats(drawns)}
                if firsts:
                    entry["first_interactive_figure_ms"] = stats(firsts)
                if presses:
                    entry["key_press_to_paint_ms"] = stats(presses)
                    entry["pass"] = entry["key_press_to_paint_ms"]["median"] <= GOAL_MS
                results["lessons"][notebook] = entry
                line = f"{Path(notebook).stem:<32}"
                if presses:
                    s = entry["key_press_to_paint_ms"]
                    line += (f" key->paint median {s['median']:6.1f} ms  p90 {s['p90']:6.1f} ms  (n={s['n']})  "
                             f"{'PASS' if entry['pass'] else 'MISS'} |")
                if firsts:
                    line += f" load->first figure {entry['first_interactive_figure_ms']['median']:7.0f} ms |"
                line += f" load->all widgets {entry['all_widgets_drawn_ms']['median']:7.0f} ms  (loads={len(drawns)})"
                print(line, flush=True)
            browser.close()
        finally:
            playwright.stop()
            server.stop()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

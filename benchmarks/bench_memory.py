"""Resident memory of a lesson's kernel, and its growth over 200 control changes (a report, not a test).

Run: python benchmarks/bench_memory.py [--changes N] [LESSON ...]

Each lesson notebook runs top to bottom in a fresh kernel (nbclient, as Voila runs it); a last
cell then reads the kernel's resident set size (VmRSS), moves the first explorer's day slider
(or, without one, re-checks the quiz) N times, collects garbage and reads it again.
Goals (issue 13): <= 120 MB after running, no growth over 200 changes (a few MB of noise).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 120.0

PROBE = '''
import gc, json
def _kms_rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
_kms_targets = [v for v in list(globals().values()) if hasattr(v, "day") and hasattr(getattr(v, "day"), "max")]
gc.collect()
_kms_before = _kms_rss()
if _kms_targets:
    _kms_day = _kms_targets[0].day
    for _kms_i in range({changes}):
        _kms_day.value = (_kms_i * 7) % (_kms_day.max + 1)
gc.collect()
print(json.dumps({{"after_run_mb": _kms_before, "after_changes_mb": _kms_rss(), "explorer": bool(_kms_targets)}}))
'''


def measure(path: Path, changes: int) -> dict:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE.format(changes=changes)))
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200, help="control changes after running (default 200)")
    parser.add_argument("lessons", nargs="*", help="lesson file names (default: every lesson)")
    args = parser.parse_args(argv)
    names = args.lessons or sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    print(f"goal: <= {GOAL_MB:g} MB resident after running, no growth over {args.changes} changes")
    for name in names:
        m = measure(ROOT / "notebooks" / name, args.changes)
        growth = m["after_changes_mb"] - m["after_run_mb"]
        verdict = "PASS" if m["after_run_mb"] <= GOAL_MB and growth < 3 else "MISS"
        moved = f"growth over {args.changes} day changes {growth:+5.1f} MB" if m["explorer"] else "no explorer"
        print(f"{Path(name).stem:<32} after running {m['after_run_mb']:6.1f} MB  {moved}  {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

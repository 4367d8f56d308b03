"""Fuzzing the content files: seeded mutations of the real question, case and work-up files.

Every mutated file must end in one of two ways, never a third:

- rejected, with problems that each name the file and a line (and the item and field, unless
  the whole file is unreadable: broken YAML, too large, an alias, ...), or
- accepted, and then it WORKS when used the way the lessons use it: a question renders in the
  Quiz widget and grades its own right answer as right; a case simulates a short course with
  finite results and a lab panel; a work-up runs its four steps.

Each file is loaded in a worker process under a deadline (LOAD_SECONDS; USE_SECONDS for the
use), so a hang fails this test instead of blocking the suite; a worker that overruns is
killed and the next worker carries on. The workers also run under an address-space cap, so an
allocation storm shows up as a crash here instead of swapping the machine.

Mutation numbers are reproducible: ``kind``, ``index`` and SEED give the same file again
(see ``mutate``); failures list them with the mutation made and the file kept in tmp_path.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import multiprocessing
import os
import random
import re
import sys
import time
import traceback
from multiprocessing.connection import wait
from pathlib import Path

import pytest
import yaml

from kms_teach._assets import MAX_FILE_BYTES, AssetError, assets_dir, load_content

SEED = 20261201
#: Mutations per kind of file (2,020 in all); sized for about a minute on 2 cores (a question file costs most).
COUNTS = {"questions": 600, "case": 1000, "workup": 420}
#: A guard against hangs, not a speed test: a load takes milliseconds.
LOAD_SECONDS = 5.0
USE_SECONDS = 30.0
#: Extra address space a worker may take beyond what it inherited.
WORKER_MEMORY_BYTES = 2 * 1024**3

FOLDERS = {"questions": "questions", "case": "cases", "workup": "workups"}
# Problems that concern the whole file, where no item or field exists.
FILE_LEVEL = re.compile(
    r"not valid YAML|too large|not UTF-8|must be a mapping|not a regular file|cannot be read|nested deeper"
    r"|more than \d+ values|YAML alias|must be a list|not a question, case|must equal the file name|a key "
)

ODD_TEXT = ["\x00", "a\u202eevil", "\u200b", "\ufeff", "\U0001F600", "e\u0301", "\u0085", "\u2028",
            "\x1b[31m", "\\", "\"'", "{{x}}", "$x$", "<b>", "\t", " ", "", "x" * 20_000]
VALUES = [0, -1, 1, 2.5, -0.0, 10**400, 1e308, -1e308, 1e16, float("nan"), float("inf"), float("-inf"),
          True, False, None, "", " ", "text", "0", "1e400", [], {}, [1, "a"], {"a": 1},
          datetime.date(2020, 1, 1), b"\x00\xff", 3650, 0.1, 5, 1e-300] + ODD_TEXT
WORDS = ["tumor", "TUMOUR", "multiple-choice", "numeric ", "lab", "platelets", "khe-kms", "nait", "unknown",
         "sirolimus@0", "sirolimus@-5", "sirolimus@nan", "sirolimus@1e400", "prednisolone@0-1",
         "wonder@0", "essential", "best", "healthy", "equilibrium", "easy", "hard", "id", "cbc"]
EXTRA_KEYS = ["extra", "activty", "__class__", "id", "nmae", "é", "1", "true", "null", "answer", "plan"]
NUMBERS = ["1e400", "1.0e+400", "9" * 400, "-" + "9" * 30, "0x" + "f" * 300, ".inf", "-.inf", ".nan",
           ".NaN", "1_000_000_000_000_000_000", "1.7976931348623157e+308", "4.9e-324", "1.0e+16"]
TAGS = ['!!python/object/apply:os.system ["echo hacked"]', "!!binary aGk=", "!!set {a, b}", "!custom x",
        "!!timestamp 2001-01-01", "!!float nan", "!!int 12", "!!str 12", "!!omap [{a: 1}]",
        "!!python/name:os.system", "!<tag:example.com,2000:x> y"]
REPLACEMENTS = ["", "null\n", "42\n", "[1, 2]\n", "- a\n- b\n", "\x00", "{{{{\n", "---\na: 1\n---\nb: 2\n",
                '{"a": 1}\n', "\t\ttabs: 1\n", "?\n", "a: b: c\n", "key: 'unterminated\n", "\ufeffa: 1\n",
                "&a x\n", "*a\n", "%YAML 1.1\n---\na: 1\n"]


# --------------------------------------------------------------------------- the real files


def originals() -> dict[str, list[tuple[str, str]]]:
    """(file name, text) of every real file of each kind."""
    root = assets_dir()
    return {
        "questions": [(p.name, p.read_text(encoding="utf-8")) for p in sorted((root / "questions").glob("*.yaml"))],
        "case": [(p.name, p.read_text(encoding="utf-8")) for p in sorted((root / "cases").glob("*.yaml"))],
        "workup": [(p.name, p.read_text(encoding="utf-8")) for p in sorted((root / "workups").glob("*.yaml"))],
    }


def plain(value):
    """Loader data as plain dicts and lists, so yaml can write it back."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- mutations


def _paths(value, where=()):
    yield where
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, where + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, where + (i,))


def _get(data, where):
    for key in where:
        data = data[key]
    return data


def _set(data, where, value):
    _get(data, where[:-1])[where[-1]] = value


def _dump(data) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=4096)


def _pick_path(rng, data, kind):
    paths = [p for p in _paths(data) if p]
    if kind == "questions" and rng.random() < 0.9 and isinstance(data.get("questions"), list):
        paths = [p for p in paths if len(p) >= 3 and p[0] == "questions"] or paths
    return rng.choice(paths)


def mutate_data(rng, kind, data) -> tuple[str, object]:
    """One change to the parsed file; returns (description, new data)."""
    where = _pick_path(rng, data, kind)
    shown = ".".join(map(str, where))
    parent, last = _get(data, where[:-1]), where[-1]
    op = rng.choice(["type", "type", "type", "delete", "delete", "extra", "enum", "list", "number", "odd"])
    if op == "type":
        value = rng.choice(VALUES)
        _set(data, where, value)
        return f"type change {shown} -> {value!r:.40}", data
    if op == "delete":
        del parent[last]
        return f"delete {shown}", data
    if op == "extra":
        target = _get(data, where) if isinstance(_get(data, where), dict) else parent
        if isinstance(target, list):
            target.append(rng.choice(VALUES))
            return f"extra list item in {shown}", data
        key = rng.choice(EXTRA_KEYS)
        target[key] = rng.choice(VALUES)
        return f"extra key {key!r} near {shown}", data
    if op == "enum":
        value = rng.choice(WORDS)
        _set(data, where, value)
        return f"wrong value {shown} -> {value!r}", data
    if op == "list":
        value = _get(data, where)
        if isinstance(value, list) and value:
            how = rng.choice(["empty", "double", "huge"])
            new = [] if how == "empty" else value + value if how == "double" else value * (5000 // len(value) + 1)
            _set(data, where, new)
            return f"list {how} {shown}", data
        _set(data, where, [value] * rng.choice([0, 1, 2, 500]))
        return f"wrap in list {shown}", data
    if op == "number":
        value = _get(data, where)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            new = rng.choice([-value, value * 1000, value + 0.5, 0, value / 1e9, -1e-9, 1e15, 999999])
        else:
            new = rng.choice([0, -1, 1e15, 1e-15])
        _set(data, where, new)
        return f"number {shown} -> {new!r}", data
    value = _get(data, where)
    odd = rng.choice(ODD_TEXT)
    new = (value[: len(value) // 2] + odd + value[len(value) // 2:]) if isinstance(value, str) else odd
    _set(data, where, new)
    return f"odd text in {shown}: {odd[:12]!r}", data


def _value_lines(text):
    """Indices of lines ``key: value`` (also ``- key: value``) whose value is on the line."""
    return [i for i, line in enumerate(text.splitlines())
            if re.match(r"^\s*(- )?[A-Za-z_][\w-]*: +\S", line) and not line.rstrip().endswith((":", "|", ">-", ">"))]


def _key_lines(text):
    return [i for i, line in enumerate(text.splitlines()) if re.match(r"^\s*(- )?[A-Za-z_][\w-]*:", line)]


def bomb(width: int, depth: int) -> tuple[list[str], str]:
    """Anchor lines that expand to width**depth values, and the alias that expands them."""
    lines = [f"b0: &b0 [{', '.join(['lol'] * width)}]"]
    for d in range(1, depth):
        lines.append(f"b{d}: &b{d} [{', '.join([f'*b{d - 1}'] * width)}]")
    return lines, f"*b{depth - 1}"


def mutate_text(rng, text) -> tuple[str, str | bytes]:
    """One change to the file's text; returns (description, new text or bytes)."""
    lines = text.splitlines()
    op = rng.choice(["truncate", "flip", "indent", "duplicate", "tag", "replace", "bomb", "alias",
                     "deep", "deep_block", "number", "unicode", "crlf", "tabs", "big"])
    if op == "truncate":
        at = rng.randrange(len(text))
        return f"truncated at {at}", text[:at]
    if op == "flip":
        raw = bytearray(text.encode("utf-8"))
        for _ in range(rng.randint(1, 5)):
            raw[rng.randrange(len(raw))] = rng.choice([0x00, 0xFF, 0xC3, 0x0A, 0x3A, 0x2D, 0x26, 0x2A, 0x21, 0x7B])
        return "bytes flipped", bytes(raw)
    if op == "indent":
        i = rng.randrange(len(lines))
        lines[i] = " " * rng.choice([1, 3, 7]) + lines[i]
        return f"bad indentation line {i + 1}", "\n".join(lines) + "\n"
    if op == "duplicate":
        i = rng.choice(_key_lines(text))
        line = lines[i]
        copy = re.sub(r"^(\s*)- ", lambda m: m.group(1) + "  ", line)
        lines.insert(i + 1, copy)
        return f"duplicate key line {i + 1}", "\n".join(lines) + "\n"
    if op == "tag":
        i = rng.choice(_value_lines(text))
        tag = rng.choice(TAGS)
        lines[i] = re.sub(r":( +)\S.*$", lambda m: ":" + m.group(1) + tag, lines[i], count=1)
        return f"tag {tag[:20]} line {i + 1}", "\n".join(lines) + "\n"
    if op == "replace":
        new = rng.choice(REPLACEMENTS)
        return f"replaced by {new[:20]!r}", new
    if op == "bomb":
        width, depth = rng.choice([(10, 4), (10, 9), (9, 9), (20, 8), (5, 14), (2, 32)])
        anchors, alias = bomb(width, depth)
        i = rng.choice(_value_lines(text))
        lines[i] = re.sub(r":( +)\S.*$", lambda m: ":" + m.group(1) + alias, lines[i], count=1)
        return f"alias bomb {width}^{depth} line {i + 1}", "\n".join(anchors + lines) + "\n"
    if op == "alias":
        i, j = sorted(rng.sample(_value_lines(text), 2))
        lines[i] = re.sub(r":( +)(\S.*)$", lambda m: ":" + m.group(1) + "&x " + m.group(2), lines[i], count=1)
        how = rng.choice(["*x", "[*x, *x]", "{<<: *x}"]) if rng.random() < 0.5 else "*x"
        lines[j] = re.sub(r":( +)\S.*$", lambda m: ":" + m.group(1) + how, lines[j], count=1)
        return f"alias {how} line {j + 1}", "\n".join(lines) + "\n"
    if op == "deep":
        depth = rng.choice([21, 50, 500, 990, 5000, 50_000])
        i = rng.choice(_value_lines(text))
        nest = rng.choice([("[" * depth, "]" * depth), ("{a: " * depth, "}" * depth)])
        lines[i] = re.sub(r":( +)\S.*$", lambda m: ":" + m.group(1) + nest[0] + "1" + nest[1], lines[i], count=1)
        return f"nested {depth} deep line {i + 1}", "\n".join(lines) + "\n"
    if op == "deep_block":
        depth = rng.choice([21, 60, 300, 900])
        block = [" " * (2 * d) + "k:" for d in range(depth)] + [" " * (2 * depth) + "v: 1"]
        return f"block nested {depth} deep", text + "\n".join(["deep:"] + ["  " + b for b in block]) + "\n"
    if op == "number":
        i = rng.choice(_value_lines(text))
        number = rng.choice(NUMBERS)
        lines[i] = re.sub(r":( +)\S.*$", lambda m: ":" + m.group(1) + number, lines[i], count=1)
        return f"number {number[:20]} line {i + 1}", "\n".join(lines) + "\n"
    if op == "unicode":
        i = rng.randrange(len(lines))
        odd = rng.choice(["\ufeff", "\u202e", "\x00", "\u200b", "\U0001F600", "\ud7ff", "\ufffe", "\x85",
                          '"\\0"', '"\\u202e"', '"\\ud800"', '"\\x1b"'])
        cut = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:cut] + odd + lines[i][cut:]
        return f"unicode {odd!r} line {i + 1}", "\n".join(lines) + "\n"
    if op == "crlf":
        return "CRLF line ends", text.replace("\n", "\r\n")
    if op == "tabs":
        return "tabs for indentation", text.replace("  ", "\t")
    return "larger than the size limit", text + "# " + "x" * (MAX_FILE_BYTES + 10) + "\n"


def mutate(kind: str, index: int, name: str, text: str) -> tuple[str, str | bytes]:
    """Mutation number ``index`` of a file (the same every run)."""
    rng = random.Random(f"{SEED}-{kind}-{index}")
    if rng.random() < 0.55:
        data = plain(load_content_text(text))
        description, data = mutate_data(rng, kind, data)
        if rng.random() < 0.15:  # a second change now and then: errors in two places
            more, data = mutate_data(rng, kind, data)
            description += f"; {more}"
        return description, _dump(data)
    return mutate_text(rng, text)


def load_content_text(text: str):
    from kms_teach._assets import parse_content

    return parse_content(text).data


# --------------------------------------------------------------------------- using what loaded


def _finite(values) -> bool:
    return all(math.isfinite(float(v)) for v in values)


def _right_response(q):
    from kms_teach.questions import expected_value

    if q.type == "multiple_choice":
        return q.correct_indices[0]
    if q.type == "many_choice":
        return list(q.correct_indices)
    if q.type == "numeric":
        return expected_value(q)
    return list(range(len(q.options)))


def _wrong_response(q):
    if q.type == "multiple_choice":
        return next(i for i in range(len(q.options)) if i not in q.correct_indices)
    if q.type == "many_choice":
        return [i for i in range(len(q.options)) if i not in q.correct_indices][:1]
    if q.type == "numeric":
        return -12345.5
    return list(reversed(range(len(q.options))))


def use_question(q) -> None:
    """Render the item in the Quiz widget, grade its right answer (right) and a wrong one."""
    from kms_teach.questions import Bank
    from kms_teach.quiz import Quiz

    quiz = Quiz(bank=Bank(questions=(q,), problems=(), titles={}), shuffle=False, title="fuzz")
    assert isinstance(quiz.stem.value, str) and quiz.stem.value.strip(), "empty stem"
    quiz.answer(_right_response(q))
    result = quiz.check()
    assert result is not None and result.correct, f"its own right answer graded {result!r}"
    assert isinstance(quiz.feedback.value, str) and quiz.feedback.value
    quiz.answer(_wrong_response(q))
    quiz.check()


def use_case(case) -> None:
    """Simulate a short course untreated and treated; every lab finite, a panel shown."""
    from kms_teach import simulate

    for plan in ((), ("sirolimus@0",)):
        result = simulate(case, plan, days=14, every_hours=12)
        for day in (0, 7, 14):
            labs = result.labs_at(day)
            assert _finite(labs.values()), f"non-finite labs on day {day}: {labs}"
        assert str(result.lab_panel(14)).strip()


def use_workup(workup) -> None:
    """Run the four steps: order tests, choose a diagnosis, start a plan, read the debrief."""
    from kms_teach.workup import WorkupSession

    session = WorkupSession(workup)
    results = session.order_tests(list(workup.test_ids)[: workup.budget])
    assert all(r.text for r in results)
    session.choose_diagnosis(workup.diagnosis.ids[0])
    course = session.choose_plan(workup.plans.ids[-1])
    assert course.summary
    debrief = session.debrief()
    assert debrief.text() and math.isfinite(debrief.score) and "nan" not in debrief.score_text


# --------------------------------------------------------------------------- judging messages


def message_faults(path: Path, problems) -> list[str]:
    """What is wrong with how each problem is reported (empty when all name file, line, item, field)."""
    faults = []
    n_lines = max(1, path.read_bytes().count(b"\n") + 1) if path.is_file() else 1
    for p in problems:
        text = str(p)
        line = p.line
        if p.path != str(path):
            faults.append(f"names {p.path!r}, not the file: {text[:200]}")
        elif not (isinstance(line, int) and 1 <= line <= n_lines + 1):
            faults.append(f"line {line!r} is not a line of the file: {text[:200]}")
        elif not text.startswith(f"{path}:{line}: "):
            faults.append(f"not in the file:line: form: {text[:200]}")
        item, field = getattr(p, "item", None), getattr(p, "field", None)
        if item in (None, "(file)") and field in (None, "-") and not FILE_LEVEL.search(p.message):
            faults.append(f"names no item or field: {text[:200]}")
    return faults


# --------------------------------------------------------------------------- one file


def run_one(kind: str, path: Path, pristine: dict, report) -> dict:
    """Load ``path`` the way the lessons and ``kms-teach check`` do, then use what was accepted."""
    from kms_teach.cases import load_case
    from kms_teach.check import check_paths
    from kms_teach.questions import read_question_file
    from kms_teach.workup import WorkupError, load_workup

    report("load")
    started = time.perf_counter()
    checked = check_paths([path])
    faults = message_faults(path, checked)
    usable = []
    if kind == "questions":
        found, problems = read_question_file(path)
        faults += message_faults(path, problems)
        rejected = bool(problems)
        usable = [q for q in found if pristine.get(q.id) != dataclasses.replace(q, path="", line=0)]
    elif kind == "case":
        try:
            usable = [load_case(path)]
            rejected = False
        except AssetError as exc:
            faults += message_faults(path, [exc])
            rejected = True
    else:
        try:
            usable = [load_workup(path)]
            rejected = False
        except WorkupError as exc:  # an AssetError naming the first problem, listing them all
            faults += message_faults(path, [exc, *exc.problems])
            rejected = True
    if bool(checked) != rejected and kind != "questions":  # check also lints the bank; loaders must agree
        faults.append(f"check says {len(checked)} problem(s) but the loader {'rejected' if rejected else 'accepted'}")
    shown = checked  # what an educator reads from kms-teach check
    named = sum(1 for p in shown if p.item != "(file)" or p.field != "-")
    loaded = time.perf_counter()
    report("use")
    for thing in usable:
        {"questions": use_question, "case": use_case, "workup": use_workup}[kind](thing)
    return {"outcome": "rejected" if rejected else "accepted", "faults": faults, "used": len(usable),
            "named": named, "file_level": len(shown) - named,
            "load_seconds": loaded - started, "use_seconds": time.perf_counter() - loaded}


# --------------------------------------------------------------------------- workers


def _pristine_questions() -> dict:
    from kms_teach.questions import load_bank

    return {q.id: dataclasses.replace(q, path="", line=0) for q in load_bank()}


def _worker(conn, tasks, folder: str) -> None:
    """Run tasks in order, reporting each stage so the parent can hold it to a deadline."""
    try:
        import resource

        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        limit = size + WORKER_MEMORY_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, StopIteration, ValueError):
        pass  # no cap on this platform; the deadline still guards
    import matplotlib

    matplotlib.use("Agg")
    texts = originals()
    pristine = _pristine_questions()
    for kind, index in tasks:
        name, text = texts[kind][index % len(texts[kind])]
        description = "?"
        try:
            description, new = mutate(kind, index, name, text)
            # the folder names what the file is, as in assets/ (kms-teach check goes by it)
            path = Path(folder) / f"{kind}-{index:04d}" / FOLDERS[kind] / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(new, bytes):
                path.write_bytes(new)
            else:
                path.write_text(new, encoding="utf-8", newline="")
            outcome = run_one(kind, path, pristine, lambda stage: conn.send((stage, kind, index, description)))
        except BaseException as exc:  # everything: the parent reports it with the mutation
            outcome = {"outcome": "crash", "faults": [], "used": 0,
                       "error": "".join(traceback.format_exception_only(type(exc), exc)).strip()[:500],
                       "where": "".join(traceback.format_tb(exc.__traceback__)[-3:])[-1500:]}
        outcome.update(kind=kind, index=index, mutation=description)
        conn.send(("done", kind, index, outcome))
    conn.send(("end", None, None, None))
    conn.close()


def run_fuzz(tasks, folder: Path, workers: int = 2) -> list[dict]:
    """Run every task in worker processes; a task past its deadline is recorded as a hang.

    Each worker's list of tasks not yet done starts with the one it is working on; a worker
    that overruns its deadline is killed, its task recorded as a hang, and a new worker takes
    the rest. Every task is reported exactly once, so the loop ends.
    """
    context = multiprocessing.get_context("fork")
    results: list[dict] = []
    running = {}  # connection -> {"process", "todo", "stage", "mutation", "deadline"}

    def start(todo):
        if not todo:
            return
        parent, child = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(child, todo, str(folder)), daemon=True)
        process.start()
        child.close()
        running[parent] = {"process": process, "todo": list(todo), "stage": "start", "mutation": "?",
                           "deadline": time.monotonic() + 60.0}

    def give_up(conn, outcome, error):
        state = running.pop(conn)
        state["process"].kill()
        state["process"].join(10)
        conn.close()
        kind, index = state["todo"][0]
        results.append({"kind": kind, "index": index, "outcome": outcome, "mutation": state["mutation"],
                        "faults": [], "used": 0, "error": f"{error} (stage {state['stage']})"})
        start(state["todo"][1:])

    for i in range(workers):
        start(tasks[i::workers])
    while running:
        timeout = max(0.0, min(s["deadline"] for s in running.values()) - time.monotonic())
        for conn in wait(list(running), timeout=timeout):
            state = running[conn]
            try:
                stage, _kind, _index, payload = conn.recv()
            except EOFError:
                give_up(conn, "crash", f"worker died (exit code {state['process'].exitcode})")
                continue
            if stage == "end":
                state["process"].join(10)
                del running[conn]
                conn.close()
            elif stage == "done":
                results.append(payload)
                state["todo"] = state["todo"][1:]
                state["stage"], state["mutation"] = "writing", "?"
                state["deadline"] = time.monotonic() + 60.0  # making the next mutated file
            else:
                state["stage"], state["mutation"] = stage, payload
                state["deadline"] = time.monotonic() + (LOAD_SECONDS if stage == "load" else USE_SECONDS)
        now = time.monotonic()
        for conn in [c for c, s in running.items() if now > s["deadline"]]:
            give_up(conn, "hang", "no answer within the deadline")
    return results


# --------------------------------------------------------------------------- the test


# About a minute on 2 idle cores (3 minutes when six jobs share them); each load has its own
# deadline above, so this wider limit only bounds a machine far busier than CI.
@pytest.mark.timeout(600)
def test_fuzzed_content_files_are_rejected_with_a_message_or_work(tmp_path):
    texts = originals()
    assert texts["questions"] and texts["case"] and texts["workup"], "the real files are the seed corpus"
    tasks = [(kind, index) for kind, count in COUNTS.items() for index in range(count)]
    assert len(tasks) >= 2000
    started = time.monotonic()
    results = run_fuzz(tasks, tmp_path, workers=max(1, min(2, os.cpu_count() or 1)))
    elapsed = time.monotonic() - started
    assert len(results) == len(tasks), f"{len(tasks) - len(results)} task(s) never reported"

    counts = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    by_kind = {k: {o: sum(1 for r in results if r["kind"] == k and r["outcome"] == o)
                   for o in ("accepted", "rejected", "crash", "hang")} for k in COUNTS}
    print(f"\nfuzz: {len(results)} files in {elapsed:.0f} s: {counts}; by kind {by_kind}; "
          f"items used: {sum(r['used'] for r in results)}; check's problem lines naming an item or field: "
          f"{sum(r.get('named', 0) for r in results)}, file-level: {sum(r.get('file_level', 0) for r in results)}")

    def show(r):
        extra = r.get("error", "") or "; ".join(r["faults"][:3])
        return f"{r['kind']} #{r['index']} ({r['mutation']}): {extra}\n{r.get('where', '')}"

    hangs = [r for r in results if r["outcome"] == "hang"]
    crashes = [r for r in results if r["outcome"] == "crash"]
    unclear = [r for r in results if r["faults"]]
    assert not hangs, f"{len(hangs)} hang(s):\n" + "\n".join(map(show, hangs[:10]))
    assert not crashes, f"{len(crashes)} crash(es) or accepted file(s) that fail when used:\n" + \
        "\n".join(map(show, crashes[:10]))
    assert not unclear, f"{len(unclear)} file(s) with an unclear message:\n" + "\n".join(map(show, unclear[:10]))
    # the corpus must exercise both ends, or it tests nothing
    for kind in COUNTS:
        assert by_kind[kind]["rejected"] >= COUNTS[kind] // 4, f"too few {kind} rejections: {by_kind[kind]}"
        assert by_kind[kind]["accepted"] >= 10, f"too few {kind} files accepted and used: {by_kind[kind]}"


def test_the_hang_guard_catches_a_hang(tmp_path, monkeypatch):
    """The guard itself: a load that never returns is reported as a hang, and the rest still run."""
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "LOAD_SECONDS", 1.0)
    real = run_one

    def slow(kind, path, pristine, report):
        if path.parent.parent.name == "case-0001":
            report("load")
            while True:
                time.sleep(0.05)
        return real(kind, path, pristine, report)

    monkeypatch.setattr(module, "run_one", slow)
    results = run_fuzz([("case", 0), ("case", 1), ("case", 2)], tmp_path, workers=1)
    outcomes = {r["index"]: r["outcome"] for r in results}
    assert outcomes[1] == "hang"
    assert outcomes[0] != "hang" and outcomes[2] != "hang" and len(results) == 3

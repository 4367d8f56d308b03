"""The command line is a contract: columns, units, exit codes and messages."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from kms_teach.cli import main

#: The console script of the running interpreter's environment (found even when it is not on PATH).
KMS_TEACH = os.path.join(os.path.dirname(sys.executable), "kms-teach")
HEADER = "day,platelets,fibrinogen,d_dimer,hemoglobin,pt,aptt"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cases_lists_every_case_with_a_description(capsys):
    code, out, _ = run(capsys, "cases")
    names = [line.split()[0] for line in out.splitlines()]
    assert code == 0
    for name in ("khe-kms", "khe-onset", "ta-kms", "infantile-hemangioma", "sepsis-dic", "nait", "rich"):
        assert name in names
    assert all(len(line.split(maxsplit=1)) == 2 for line in out.splitlines())


def test_treatments_lists_every_required_treatment(capsys):
    code, out, _ = run(capsys, "treatments")
    names = {line.split()[0] for line in out.splitlines()}
    required = {"sirolimus", "prednisolone", "vincristine", "aspirin", "ticlopidine", "propranolol",
                "interferon-alpha", "embolization", "excision", "radiation", "platelet-transfusion",
                "cryoprecipitate", "ffp", "rbc-transfusion", "heparin"}
    assert code == 0 and required <= names


def test_simulate_csv_has_exact_header_and_six_hourly_rows(capsys):
    code, out, _ = run(capsys, "simulate", "khe-kms", "--days", "2")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == HEADER
    days = [float(row["day"]) for row in csv.DictReader(io.StringIO(out))]
    assert days == [i * 0.25 for i in range(9)]


def test_simulate_treatment_changes_the_course(capsys):
    _, untreated, _ = run(capsys, "simulate", "khe-kms", "--days", "14", "--every", "24")
    _, treated, _ = run(capsys, "simulate", "khe-kms", "--days", "14", "--every", "24",
                        "--treat", "sirolimus@0", "--treat", "prednisolone@0")
    last = lambda text: float(list(csv.DictReader(io.StringIO(text)))[-1]["platelets"])
    assert last(treated) > 2 * last(untreated)


def test_simulate_json_carries_units_notice_and_series(capsys):
    code, out, _ = run(capsys, "simulate", "khe-kms", "--days", "1", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["units"]["platelets"] == "x10^9/L" and data["units"]["d_dimer"] == "mg/L FEU"
    assert "not for clinical decisions" in data["notice"]
    assert list(data["series"]) == HEADER.split(",")
    assert len(data["series"]["day"]) == 5


def test_cohort_json_reports_percentiles_and_response_rate(capsys):
    code, out, _ = run(capsys, "cohort", "khe-kms", "--n", "500", "--seed", "1",
                       "--treat", "sirolimus@0", "--treat", "prednisolone@0", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert 0.85 <= data["response_rate"] <= 1.0
    assert data["response"] == "platelets>=100@28"
    assert set(data["percentiles"]) == set(HEADER.split(",")[1:])
    p = data["percentiles"]["platelets"]
    assert len(p["p50"]) == len(data["day"]) == 29
    assert all(a <= b <= c for a, b, c in zip(p["p5"], p["p50"], p["p95"]))


def test_cohort_untreated_response_rate_is_zero(capsys):
    code, out, _ = run(capsys, "cohort", "khe-kms", "--n", "200")
    assert code == 0
    assert "response_rate (platelets>=100@28): 0.000" in out


def test_cohort_csv_has_one_row_per_day_and_lab(capsys):
    code, out, _ = run(capsys, "cohort", "khe-kms", "--n", "50", "--days", "3", "--format", "csv",
                       "--response", "platelets>=100@3")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 4 * 6


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["simulate", "nope"], "valid cases: "),
        (["simulate", "khe-kms", "--treat", "chemo"], "valid treatments: sirolimus"),
        (["simulate", "khe-kms", "--treat", "sirolimus@"], "must be a number >= 0"),
        (["simulate", "khe-kms", "--treat", "sirolimus@two"], "must be a number >= 0"),
        (["simulate", "khe-kms", "--treat", "prednisolone@9-3"], "stop day must come after"),
        (["simulate", "khe-kms", "--days", "-5"], "--days: must be a number greater than 0"),
        (["simulate", "khe-kms", "--days", "ten"], "--days: must be a number greater than 0"),
        (["simulate", "khe-kms", "--every", "0"], "--every: must be a number of hours from 0.001"),
        (["simulate", "khe-kms", "--format", "xml"], "invalid choice"),
        (["cohort", "khe-kms"], "--n"),
        (["cohort", "khe-kms", "--n", "many"], "--n: must be a whole number"),
        (["cohort", "khe-kms", "--n", "10", "--response", "platelets>>1@2"], "malformed response criterion"),
        (["cohort", "khe-kms", "--n", "10", "--days", "7"], "raise --days"),
        (["dance"], "invalid choice"),
        ([], "COMMAND"),
    ],
)
def test_bad_input_gives_one_clear_line_and_status_2(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("kms-teach: error: ")
    assert expected in err
    assert "Traceback" not in err


def _run_process(args, env=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_console_script_and_python_module_give_identical_output():
    script = _run_process([KMS_TEACH, "simulate", "khe-kms", "--days", "1"])
    module = _run_process([sys.executable, "-m", "kms_teach", "simulate", "khe-kms", "--days", "1"])
    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout
    assert script.stdout.splitlines()[0] == HEADER


@pytest.mark.parametrize(
    "content, expected",
    [
        ("platelet_production: [unclosed\n", "parameters.yaml:2: not valid YAML"),
        ("platelet_production:\n  value: lots\n", "platelet_production: value: must be a number"),
    ],
)
def test_invalid_asset_file_is_named_without_traceback(tmp_path, content, expected):
    import shutil
    from kms_teach._assets import assets_dir

    shutil.copytree(assets_dir(), tmp_path / "assets")
    (tmp_path / "assets" / "parameters.yaml").write_text(content)
    proc = _run_process([sys.executable, "-m", "kms_teach", "simulate", "khe-kms", "--days", "1"],
                        env={"KMS_TEACH_ASSETS": str(tmp_path / "assets")})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unreadable_case_file_is_reported(tmp_path, capsys):
    case = tmp_path / "mine.yaml"
    case.write_text("name: mine\ntitle: [\n")
    code, _, err = run(capsys, "simulate", str(case))
    assert code == 2 and "mine.yaml" in err and "not valid YAML" in err


def test_check_on_the_shipped_assets_is_clean_and_exits_zero(capsys):
    code, out, _ = run(capsys, "check")
    assert code == 0, out
    assert out.startswith("No problems found")


def test_check_prints_one_line_per_problem_and_exits_one(capsys, tmp_path):
    bad = tmp_path / "questions" / "demo.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "topic: demo\ntitle: Demo\nquestions:\n"
        "  - id: demo-one\n    objective: o\n    difficulty: easy\n    type: multiple_choice\n"
        "    question: Which drug is NOT used?\n"
        "    answers:\n"
        "      - {answer: Sirolimus, correct: true, feedback: f}\n"
        "      - {answer: Propranolol, feedback: f}\n"
        "      - {answer: None of the above, feedback: f}\n"
        "    explanation: e\n    citations: [Ji Y et al. Blood 2022]\n    bloom: remember\n    objectives: [L04.1]\n"
    )
    code, out, err = run(capsys, "check", str(tmp_path))
    lines = out.splitlines()
    assert code == 1
    assert f"{bad}:8: demo-one: question: negative stem" in out
    assert f"{bad}:12: demo-one: answers.2.answer: no 'all/none of the above'" in out
    assert all(line.startswith(f"{bad}:") for line in lines)
    assert f"{len(lines)} problem(s) found." in err


def test_check_names_a_missing_path(capsys, tmp_path):
    code, out, err = run(capsys, "check", str(tmp_path / "nope.yaml"))
    assert code == 1 and out == ""
    assert err == f"kms-teach: error: argument PATH: '{tmp_path / 'nope.yaml'}': no such file or folder\n"


def test_check_refuses_a_citation_of_an_unlisted_source(capsys, tmp_path):
    bad = tmp_path / "questions" / "demo.yaml"
    bad.parent.mkdir()
    bad.write_text(
        "topic: demo\ntitle: Demo\nquestions:\n"
        "  - id: demo-one\n    objective: o\n    difficulty: easy\n    type: multiple_choice\n"
        "    question: Which drug is first line?\n"
        "    answers:\n"
        "      - {answer: Sirolimus, correct: true, feedback: f}\n"
        "      - {answer: Propranolol, feedback: f}\n"
        "      - {answer: Interferon, feedback: f}\n"
        "    explanation: e\n    citations: [Ji Y et al. Blood 2022, A blog post I liked]\n"
        "    bloom: remember\n    objectives: [L04.1]\n"
    )
    code, out, _ = run(capsys, "check", str(tmp_path))
    assert code == 1
    assert out.splitlines() == [f"{bad}:4: demo-one: citations.1: 'A blog post I liked' names no source in "
                                f"{out.split(' names no source in ')[1].split(';')[0]}; add the source there first"]


def test_voila_serves_on_loopback_with_culling_and_the_offline_template(capsys):
    code, out, _ = run(capsys, "voila", "notebooks/02_platelet_trapping.ipynb", "--port", "9123", "--print-command")
    assert code == 0
    env, command = out.split(" ", 1)
    template_root = env.split("=", 1)[1].split(os.pathsep)[0]
    assert os.path.isfile(os.path.join(template_root, "voila", "templates", "kms", "conf.json"))
    for flag in ("--template=kms", "--Voila.ip=127.0.0.1", "--port=9123", "--MappingKernelManager.cull_interval=10"):
        assert flag in command
    page = open(os.path.join(template_root, "voila", "templates", "kms", "base-page.html"), encoding="utf-8").read()
    assert '<html lang="en"' in page and "https://cdn" not in page and "//cdn." not in page.split("-#}", 1)[1]


# ---------------------------------------------------------------------------
# kms-teach voila: signals reach Voila, and kms-teach waits for it (bounded)
# ---------------------------------------------------------------------------
def _descendants(pid):
    """Child processes of ``pid``, recursively (Linux /proc)."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                for child in map(int, handle.read().split()):
                    found += [child, *_descendants(child)]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_until(predicate, seconds, step=0.1):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find Voila and its kernel")
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_voila_passes_the_signal_on_and_stops_with_its_kernels(signum, tmp_path):
    """A real Voila on 127.0.0.1 serving a lesson, with its kernel started by a page request."""
    import signal
    import socket
    import urllib.request

    port = _free_port()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    log = open(tmp_path / "voila.log", "w")
    server = subprocess.Popen([KMS_TEACH, "voila", "notebooks/00_start_here.ipynb", "--port", str(port), "--no-browser"],
                              cwd=repo, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    family = []
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        def started():
            assert server.poll() is None, (tmp_path / "voila.log").read_text()
            return listening()

        assert _wait_until(started, 120, step=0.2), "Voila did not start listening within 120 s"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as page:  # starts the kernel
            assert page.status == 200
        family = _descendants(server.pid)
        assert len(family) >= 2, f"expected Voila and a kernel under kms-teach, found {family}"
        server.send_signal(getattr(signal, signum))
        assert server.wait(timeout=60) == 0
        assert _wait_until(lambda: not any(_alive(pid) for pid in family), 30), "Voila or its kernel outlived kms-teach"
        assert not listening(), "the port is still served"
    finally:
        for pid in [server.pid, *family]:
            if _alive(pid):
                os.kill(pid, 9)
        server.wait(timeout=30)
        log.close()


STAND_IN = ("import signal, sys, time; "
            "signal.signal(signal.SIGTERM, {handler}); "
            "print('ready', flush=True); time.sleep(60); sys.exit(9)")


def _forwarding(handler, stop_seconds=30):
    """A kms-teach-like parent running a stand-in child through ``run_forwarding_signals``."""
    child = [sys.executable, "-c", STAND_IN.format(handler=handler)]
    parent = (f"import sys; from kms_teach.cli import run_forwarding_signals; "
              f"sys.exit(run_forwarding_signals({child!r}, stop_seconds={stop_seconds}))")
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    assert process.stdout.readline() == "ready\n"
    return process, _descendants(process.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_forwarding_returns_the_childs_own_exit_status():
    import signal

    process, family = _forwarding("lambda *a: sys.exit(3)")
    try:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 3
        assert not any(_alive(pid) for pid in family)
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_that_ignores_the_signal_is_killed_after_the_grace_period():
    import signal
    import time

    process, family = _forwarding("signal.SIG_IGN", stop_seconds=1)
    try:
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGKILL
        assert time.monotonic() - started < 15
        assert "did not stop within 1 s and was killed" in process.stderr.read()
        assert not any(_alive(pid) for pid in family)
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_does_not_outlive_a_killed_parent():
    process, family = _forwarding("signal.SIG_DFL")
    try:
        process.kill()  # SIGKILL: no handler runs in the parent
        process.wait(timeout=10)
        assert _wait_until(lambda: not any(_alive(pid) for pid in family), 15), "orphaned child still running"
    finally:
        for pid in family:
            if _alive(pid):
                os.kill(pid, 9)


def test_voila_refuses_a_port_in_use_without_starting_voila(capsys):
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        code, out, err = run(capsys, "voila", "notebooks", "--port", str(port), "--no-browser")
    assert code == 2 and out == ""
    assert err == (f"kms-teach: error: argument --port: port {port} on 127.0.0.1 is already in use; "
                   "choose another, e.g. --port 8867\n")


def test_version_and_help_exit_zero_in_process(capsys):
    import kms_teach

    code, out, err = run(capsys, "--version")
    assert (code, out, err) == (0, f"kms-teach {kms_teach.__version__}\n", "")
    code, out, err = run(capsys, "simulate", "--help")
    assert code == 0 and err == "" and "NAME@START-STOP" in out and "at most 3650" in out

"""The branching case: content checks, the session's steps, the debrief and the widget."""

import ast
import json
import pathlib
import re
import subprocess
import sys

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kms_teach import workup as wk
from kms_teach.model import simulate
from kms_teach.questions import Problem

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED = wk.workup_path("khe-workup")
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")
ESSENTIAL = ("cbc", "pt-aptt", "fibrinogen", "d-dimer", "mri")
HELPFUL = ("doppler", "blood-culture")


def write(tmp_path, text, name="khe-workup"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text, marker):
    """1-based line of the first line holding ``marker``."""
    for n, line in enumerate(text.splitlines(), 1):
        if marker in line:
            return n
    raise AssertionError(f"{marker!r} not in text")


def edited(old, new, count=1):
    assert old in SHIPPED_TEXT, old
    return SHIPPED_TEXT.replace(old, new, count)


@pytest.fixture
def session():
    return wk.WorkupSession("khe-workup")


def run(session, tests=ESSENTIAL + HELPFUL, diagnosis="khe-kmp", plan="sirolimus-prednisolone"):
    session.order_tests(tests)
    session.choose_diagnosis(diagnosis)
    session.choose_plan(plan)
    return session.debrief()


# --------------------------------------------------------------------------- content


def test_shipped_workup_validates_clean():
    assert wk.check_workup_file(SHIPPED) == []
    schema = json.loads((ROOT / "assets" / "workup.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(SHIPPED_TEXT))


def test_shipped_workup_offers_the_tests_diagnoses_and_plans_of_the_lesson():
    w = wk.load_workup("khe-workup")
    assert w.case == "khe-kms" and w.day == 0
    assert set(w.test_ids) == set(ESSENTIAL + HELPFUL + ("biopsy", "bone-marrow", "glut1"))
    assert {t.id for t in w.tests if t.essential} == set(ESSENTIAL)
    assert w.correct_diagnosis.id == "khe-kmp"
    assert {"infantile-hemangioma", "sepsis-dic", "nait-itp", "rich", "vm-lic"} <= set(w.diagnosis.ids)
    plans = {o.id: o.plan for o in w.plans.options}
    assert plans["sirolimus-prednisolone"] == ("sirolimus@0", "prednisolone@0")
    assert plans["platelet-transfusion"] == ("platelet-transfusion@0",)
    assert w.test("biopsy").verdict == "harmful"
    assert all(t.citations and t.debrief for t in w.tests)


def test_workup_file_holds_no_lab_values():
    data = yaml.safe_load(SHIPPED_TEXT)
    for test in data["tests"]:
        assert set(test) & {"value", "values", "result", "platelets", "fibrinogen"} == set()


def test_builtin_names_are_listed():
    assert "khe-workup" in wk.workup_names()


MALFORMED = [
    pytest.param("  - id: cbc\n    label: Full blood count with platelet count and blood smear\n    labs: [platelets, hemoglobin]\n",
                 "  - id: cbc\n    labs: [platelets, hemoglobin]\n",
                 "tests/cbc", "label", "is missing", "- id: cbc", id="missing-field"),
    pytest.param("plan: [propranolol@0]", "plan: [propranolol@0, unicorn-dust@0]",
                 "plans/propranolol", "plan.1", "unicorn-dust", "unicorn-dust", id="unknown-treatment"),
    pytest.param("requires: biopsy", "requires: biopsie",
                 "tests/glut1", "requires", "valid test ids: cbc", "requires: biopsie", id="unknown-test-id"),
    pytest.param("label: Blood culture", "label: Blood culture <script>alert(1)</script>",
                 "tests/blood-culture", "label", "raw HTML", "<script>", id="raw-html"),
    pytest.param("finding: No growth after 48 hours.", 'finding: No growth <a href="x">after</a> 48 hours.',
                 "tests/blood-culture", "finding", "raw HTML", "No growth <a", id="raw-html-link"),
    pytest.param("budget: 7", "budget: seven", "(file)", "budget", "must be a whole number", "budget: seven",
                 id="wrong-type"),
    pytest.param("case: khe-kms", "case: khe-kmz", "(file)", "case", "valid cases:", "case: khe-kmz",
                 id="unknown-case"),
    pytest.param("    - id: rich\n      label:", "    - id: rich\n      correct: true\n      label:",
                 "diagnosis", "options", "exactly one correct", "  options:", id="two-correct"),
    pytest.param("  - id: doppler", "  - id: cbc  # again", "tests/cbc", "id", "duplicate id", "# again",
                 id="duplicate-id"),
    pytest.param("verdict: helpful", "verdict: handy", "tests/doppler", "verdict", "must be one of", "verdict: handy",
                 id="bad-verdict"),
    pytest.param("    debrief: >\n      Quick,", "    debrief_text: >\n      Quick,", "tests/doppler", "debrief_text",
                 "unknown field", "- id: doppler", id="unknown-field"),
    pytest.param("budget: 7", "budget: 3", "(file)", "budget", "fewer than the 5 essential", "budget: 3",
                 id="budget-below-essentials"),
]


@pytest.mark.parametrize("old, new, item, field, message, marker", MALFORMED)
def test_malformed_file_gives_a_problem_naming_file_line_item_and_field(tmp_path, old, new, item, field, message, marker):
    text = edited(old, new)
    path = write(tmp_path, text)
    problems = wk.check_workup_file(path)
    assert problems, "a broken file must not validate clean"
    assert all(isinstance(p, Problem) and p.path == str(path) for p in problems)
    match = [p for p in problems if p.item == item and p.field == field and message in p.message]
    assert match, [str(p) for p in problems]
    expected_line = line_of(text, marker)
    assert match[0].line == expected_line, str(match[0])
    assert str(match[0]).startswith(f"{path}:{expected_line}: {item}: {field}: ")


def test_bad_yaml_gives_one_file_problem_at_the_broken_line(tmp_path):
    text = edited("budget: 7", "budget: [7")
    path = write(tmp_path, text)
    [problem] = wk.check_workup_file(path)
    assert (problem.path, problem.item, problem.field) == (str(path), "(file)", "-")
    assert "not valid YAML" in problem.message
    assert problem.line >= line_of(text, "budget: [7")


@pytest.mark.parametrize("text, message", [
    ("", "must be a mapping"),
    ("- just\n- a list\n", "must be a mapping"),
    ("a: &x [*x]\n", "YAML alias"),
])
def test_file_that_is_not_a_workup_gives_a_file_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    [problem] = wk.check_workup_file(path)
    assert problem.item == "(file)" and message in problem.message


def test_missing_file_is_a_problem_not_a_traceback(tmp_path):
    [problem] = wk.check_workup_file(tmp_path / "nowhere.yaml")
    assert "cannot be read" in problem.message


def test_file_name_must_match_id(tmp_path):
    path = write(tmp_path, SHIPPED_TEXT, name="other-name")
    assert any(p.field == "id" and "other-name" in p.message for p in wk.check_workup_file(path))


def test_loading_a_broken_file_raises_one_clear_error(tmp_path):
    path = write(tmp_path, edited("requires: biopsy", "requires: biopsie"))
    with pytest.raises(wk.WorkupError, match=r"tests/glut1: requires: unknown test id 'biopsie'") as caught:
        wk.load_workup(path)
    assert isinstance(caught.value, ValueError) and caught.value.problems


def test_unknown_workup_name_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown work-up 'nope'; valid work-ups: .*khe-workup"):
        wk.load_workup("nope")


# --------------------------------------------------------------------------- fuzzing the loader

FIELD_NAMES = ["id", "title", "case", "day", "course_days", "presentation", "budget", "scoring", "tests",
               "diagnosis", "plans", "label", "labs", "finding", "requires", "finding_without", "verdict",
               "debrief", "citations", "options", "prompt", "explanation", "correct", "feedback", "plan",
               "essential", "best", "weights"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["khe-kms", "cbc", "sirolimus@0", "<b>x</b>", "essential"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), inner, max_size=5)),
    max_leaves=25)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_problems_or_clean(path):
    found, problems = wk.read_workup_file(path)
    assert isinstance(problems, list)
    assert all(isinstance(p, Problem) and p.path == str(path) and p.line >= 1 for p in problems)
    assert (found is None) == bool(problems)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#\n ,?%@`\t0123456789")) | st.characters(),
                    max_size=200))
def test_loader_never_raises_on_random_yamlish_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz", numbered=True) / "khe-workup.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # lone surrogates make invalid UTF-8: also a case
    assert_problems_or_clean(path)


@FUZZ
@given(data=st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=12))
def test_loader_never_raises_on_random_mappings(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz", numbered=True) / "khe-workup.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert_problems_or_clean(path)


def _paths(value, where=()):
    yield where
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, where + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _paths(inner, where + (i,))


SHIPPED_PATHS = [p for p in _paths(yaml.safe_load(SHIPPED_TEXT)) if p]


@FUZZ
@given(where=st.sampled_from(SHIPPED_PATHS), value=VALUES, delete=st.booleans())
def test_loader_never_raises_on_a_damaged_shipped_file(tmp_path_factory, where, value, delete):
    data = yaml.safe_load(SHIPPED_TEXT)
    parent = data
    for key in where[:-1]:
        parent = parent[key]
    if delete:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    path = tmp_path_factory.mktemp("fuzz", numbered=True) / "khe-workup.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert_problems_or_clean(path)


# --------------------------------------------------------------------------- the session


OUT_OF_ORDER = [
    pytest.param([], "choose_diagnosis", ("khe-kmp",), r"next step is tests \(call order_tests", id="diagnosis-first"),
    pytest.param([], "choose_plan", ("sirolimus",), r"next step is tests", id="plan-first"),
    pytest.param([], "debrief", (), r"next step is tests", id="debrief-first"),
    pytest.param(["tests"], "choose_plan", ("sirolimus",), r"next step is diagnosis \(call choose_diagnosis",
                 id="plan-before-diagnosis"),
    pytest.param(["tests"], "order_tests", (["cbc"],), r"tests step is already done; call reset", id="order-twice"),
    pytest.param(["tests", "diagnosis"], "debrief", (), r"next step is plan \(call choose_plan", id="debrief-before-plan"),
    pytest.param(["tests", "diagnosis"], "choose_diagnosis", ("rich",), r"already done", id="rediagnose"),
    pytest.param(["tests", "diagnosis", "plan", "debrief"], "choose_plan", ("heparin",), r"already done",
                 id="replan-after-debrief"),
]


@pytest.mark.parametrize("done, method, args, message", OUT_OF_ORDER)
def test_session_refuses_a_step_out_of_order(session, done, method, args, message):
    steps = {"tests": lambda: session.order_tests(["cbc"]), "diagnosis": lambda: session.choose_diagnosis("khe-kmp"),
             "plan": lambda: session.choose_plan("sirolimus"), "debrief": session.debrief}
    for step in done:
        steps[step]()
    before = session.step
    with pytest.raises(ValueError, match=message):
        getattr(session, method)(*args)
    assert session.step == before


@pytest.mark.parametrize("method, args, listed", [
    ("order_tests", (["cbc", "x-ray"],), "valid test ids: cbc, pt-aptt, fibrinogen, d-dimer, mri"),
    ("choose_diagnosis", ("lupus",), "valid diagnosis ids: khe-kmp, infantile-hemangioma"),
    ("choose_plan", ("magic",), "valid plan ids: sirolimus-prednisolone, sirolimus"),
])
def test_unknown_id_is_refused_with_the_valid_ids(session, method, args, listed):
    if method != "order_tests":
        session.order_tests(["cbc"])
    if method == "choose_plan":
        session.choose_diagnosis("khe-kmp")
    with pytest.raises(ValueError, match=re.escape(listed)):
        getattr(session, method)(*args)


def test_ordering_more_than_the_budget_is_refused(session):
    with pytest.raises(ValueError, match=r"budget is 7"):
        session.order_tests(list(session.workup.test_ids))
    assert session.step == "tests"


def test_reset_starts_again_from_the_first_step(session):
    run(session)
    session.reset()
    assert session.step == "tests" and session.ordered == ()
    assert run(session, tests=["cbc"], plan="heparin").missed


def test_lab_values_shown_are_the_models(session):
    results = {r.test.id: r for r in session.order_tests(["cbc", "pt-aptt", "fibrinogen", "d-dimer"])}
    truth = simulate("khe-kms").labs_at(0)
    platelets = results["cbc"].panel["platelets"]
    assert platelets.value == pytest.approx(truth["platelets"], rel=1e-6)
    assert re.search(rf"Platelets\s+{round(truth['platelets'])}\s", results["cbc"].text)
    assert results["fibrinogen"].panel["fibrinogen"].value == pytest.approx(truth["fibrinogen"], rel=1e-6)
    assert results["d-dimer"].panel["d_dimer"].value == pytest.approx(truth["d_dimer"], rel=1e-6)
    assert results["pt-aptt"].panel["pt"].value == pytest.approx(truth["pt"], rel=1e-6)
    assert [r.analyte for r in results["cbc"].panel] == ["platelets", "hemoglobin"]


@pytest.mark.parametrize("case", ["ta-kms", "nait", "sepsis-dic"])
def test_lab_values_follow_the_case_named_in_the_file(tmp_path, case):
    path = write(tmp_path, edited("case: khe-kms", f"case: {case}"))
    session = wk.WorkupSession(wk.load_workup(path))
    [result] = session.order_tests(["cbc"])
    assert result.panel["platelets"].value == pytest.approx(simulate(case).labs_at(0)["platelets"], rel=1e-6)


def test_imaging_shows_the_written_finding_and_no_lab_table(session):
    [mri] = session.order_tests(["mri"])
    assert mri.panel is None
    assert "crossing the planes" in mri.text


@pytest.mark.parametrize("with_biopsy, expected", [(True, "do not take up the GLUT1 stain"), (False, "nothing to stain")])
def test_glut1_needs_tissue(session, with_biopsy, expected):
    ordered = ["glut1", "biopsy"] if with_biopsy else ["glut1"]
    results = {r.test.id: r for r in session.order_tests(ordered)}
    assert expected in results["glut1"].text


def test_diagnosis_feedback_says_whether_it_is_right(session):
    session.order_tests(ESSENTIAL)
    feedback = session.choose_diagnosis("nait-itp")
    assert not feedback.correct and "fibrinogen and D-dimer stay" in feedback.text and feedback.citations


def test_plan_is_simulated_against_no_treatment_with_a_written_summary(session):
    session.order_tests(ESSENTIAL)
    session.choose_diagnosis("khe-kmp")
    course = session.choose_plan("sirolimus-prednisolone")
    assert course.result.treatments and not course.untreated.treatments
    assert course.result.day[-1] == pytest.approx(56)
    assert course.result.labs_at(56)["platelets"] > 100 > course.untreated.labs_at(56)["platelets"]
    from kms_teach.describe import describe_course
    assert describe_course(course.result, "platelets", 0, 56) in course.summary
    assert "Without treatment on day 56" in course.summary


def test_debrief_judges_every_decision_and_flags_an_unordered_essential_test(session):
    ordered = ["cbc", "pt-aptt", "d-dimer", "mri", "biopsy"]
    debrief = run(session, tests=ordered, diagnosis="sepsis-dic", plan="sirolimus")
    by_id = {(e.step, e.id): e for e in debrief.entries}
    assert [e.id for e in debrief.missed] == ["fibrinogen"]
    assert by_id[("tests", "fibrinogen")].verdict == "missed"
    assert by_id[("tests", "biopsy")].verdict == "harmful" and "bleeding" in by_id[("tests", "biopsy")].reason
    assert by_id[("diagnosis", "sepsis-dic")].verdict == "incorrect"
    assert "Kaposiform hemangioendothelioma with Kasabach-Merritt" in by_id[("diagnosis", "sepsis-dic")].reason
    assert by_id[("plan", "sirolimus")].verdict == "acceptable"
    assert len(debrief.entries) == len(ordered) + 1 + 2
    assert all(e.reason and e.citations for e in debrief.entries)
    assert "Overall score:" in debrief.text() and debrief.text().count("\n") == len(debrief.entries)


def test_harmful_plan_scores_lower_than_sirolimus_with_prednisolone():
    good = run(wk.WorkupSession(), plan="sirolimus-prednisolone")
    bad = run(wk.WorkupSession(), plan="platelet-transfusion")
    assert bad.score < good.score
    assert bad.entries[-1].verdict == "harmful" and bad.sections["plan"][0] < good.sections["plan"][0]


def test_the_right_path_scores_full_marks(session):
    assert run(session).score == pytest.approx(1.0)


@pytest.mark.parametrize("extra, lower", [("biopsy", True), ("bone-marrow", True)])
def test_harmful_or_useless_tests_lower_the_score(extra, lower):
    base = run(wk.WorkupSession(), tests=ESSENTIAL + ("doppler",))
    worse = run(wk.WorkupSession(), tests=ESSENTIAL + ("doppler", extra))
    assert (worse.score < base.score) is lower


def test_ordering_nothing_misses_every_essential_test_but_still_debriefs(session):
    debrief = run(session, tests=[])
    assert {e.id for e in debrief.missed} == set(ESSENTIAL)
    assert debrief.sections["tests"] == (0.0, 12.0)


def test_debrief_can_be_read_again(session):
    first = run(session)
    assert session.debrief() == first


# --------------------------------------------------------------------------- layering


@pytest.mark.parametrize("module", ["workup"])
def test_workup_core_imports_no_view_library(module):
    tree = ast.parse((ROOT / "kms_teach" / f"{module}.py").read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert not roots & {"matplotlib", "ipywidgets", "IPython"}
    code = ("import sys; from kms_teach.workup import WorkupSession; s = WorkupSession(); "
            "s.order_tests(['cbc']); s.choose_diagnosis('khe-kmp'); s.choose_plan('sirolimus'); s.debrief(); "
            "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- the widget


@pytest.fixture
def view():
    from kms_teach.workup_widget import CaseWorkup

    return CaseWorkup()


def alt_text(image_html):
    return re.search(r'alt="([^"]*)"', image_html).group(1)


def play(view, tests=ESSENTIAL, diagnosis="khe-kmp", plan="sirolimus-prednisolone"):
    for test_id in tests:
        view.tests[test_id].value = True
    view.order_button.click()
    view.diagnosis.value = diagnosis
    view.diagnosis_button.click()
    view.plan.value = plan
    view.plan_button.click()


def test_widget_starts_on_the_first_step_with_later_steps_locked(view):
    assert not view.order_button.disabled and not any(b.disabled for b in view.tests.values())
    assert view.diagnosis.disabled and view.diagnosis_button.disabled
    assert view.plan.disabled and view.plan_button.disabled and view.debrief_button.disabled
    assert view.image.value == "" and view.debrief_view.value == ""


def test_widget_controls_are_labelled_for_keyboard_and_screen_reader_users(view):
    import ipywidgets as w

    assert all(isinstance(b, w.Checkbox) and b.description for b in view.tests.values())
    assert isinstance(view.diagnosis, w.RadioButtons) and view.diagnosis.description
    assert isinstance(view.plan, w.RadioButtons) and view.plan.description
    for button in (view.order_button, view.diagnosis_button, view.plan_button, view.debrief_button, view.restart):
        assert isinstance(button, w.Button) and button.description and button.tooltip


def test_widget_flow_reaches_a_debrief(view):
    play(view, tests=ESSENTIAL + HELPFUL)
    assert "<pre" in view.results.value
    truth = round(simulate("khe-kms").labs_at(0)["platelets"])
    assert re.search(rf"Platelets\s+{truth}\s", view.results.value)
    assert 'role="status"' in view.diagnosis_feedback.value and "Correct." in view.diagnosis_feedback.value
    assert alt_text(view.image.value) == view.session.course.summary.replace("'", "&#x27;")
    assert 'aria-live="polite"' in view.summary.value
    assert not view.debrief_button.disabled
    view.debrief_button.click()
    assert "Overall score: 100%" in view.debrief_view.value
    assert 'role="status"' in view.debrief_view.value
    assert view.debrief.score == pytest.approx(1.0)


def test_widget_plan_choice_changes_the_figure_and_summary(view):
    play(view, plan="sirolimus-prednisolone")
    first = (view.image.value, view.summary.value)
    view.restart.click()
    assert view.image.value == "" and view.session.step == "tests"
    assert not any(b.value for b in view.tests.values()) and view.diagnosis.value is None
    play(view, plan="platelet-transfusion")
    second = (view.image.value, view.summary.value)
    assert first[0] != second[0] and first[1] != second[1]
    assert "Platelet transfusion" in view.summary.value
    view.debrief_button.click()
    assert "harmful" in view.debrief_view.value


def test_widget_refuses_too_many_tests_and_says_why(view):
    for box in view.tests.values():
        box.value = True
    assert "too many" in view.count.value
    view.order_button.click()
    assert "budget is 7" in view.status.value and view.session.step == "tests"
    assert view.results.value == ""


def test_widget_asks_for_a_choice_before_confirming(view):
    view.tests["cbc"].value = True
    view.order_button.click()
    view.diagnosis_button.click()
    assert "Choose a diagnosis first" in view.status.value and view.session.step == "diagnosis"


def test_widget_shows_written_findings_as_markdown_html(view):
    view.tests["mri"].value = True
    view.tests["glut1"].value = True
    view.order_button.click()
    assert "<p>A poorly defined mass" in view.results.value
    assert "nothing to stain" in view.results.value


def test_widget_text_representation_is_deterministic(view):
    from kms_teach.workup_widget import CaseWorkup

    text = repr(view)
    assert text == repr(CaseWorkup()) and "0x" not in text and "khe-workup" in text
    play(view)
    assert repr(view) == text
    bundle = view._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == text

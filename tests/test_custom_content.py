"""An educator's own copy of the assets: a new case works by name everywhere a built-in one does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from kms_teach._assets import assets_dir

NEW_CASE = textwrap.dedent("""\
    name: khe-neck
    title: Ten-week-old with a neck mass
    description: educator's case, KHE of the neck with KMS (day 0 = diagnosis)
    diagnosis: Kaposiform hemangioendothelioma with Kasabach-Merritt phenomenon
    driver: tumour
    age_days: 70
    weight_kg: 5.2
    starting_state: equilibrium
    narrative: A ten-week-old boy has a firm purple swelling of the neck and new bruises.
    activity:
      severity: 1.3
    citations:
      - "Croteau SE et al. J Pediatr 2013;162:142-7"
    """)

NEW_QUESTION = textwrap.dedent("""\
    topic: educator
    title: Our own questions
    questions:
      - id: educator-neck-platelets
        objective: Read the platelet count of a new case
        difficulty: easy
        type: numeric
        unit: x10^9/L
        question: What is this infant's platelet count, in x10^9/L?
        case: {name: khe-neck, day: 0}
        answer: {lab: platelets, tolerance: 3}
        explanation: Read it from the panel; it comes from the model.
        citations: ["Croteau SE et al. J Pediatr 2013;162:142-7"]
        bloom: remember
        objectives: [L00.4]
    """)


@pytest.fixture()
def educator_assets(tmp_path):
    copy = tmp_path / "assets"
    shutil.copytree(assets_dir(), copy)
    (copy / "cases" / "khe-neck.yaml").write_text(NEW_CASE, encoding="utf-8")
    (copy / "questions" / "educator.yaml").write_text(NEW_QUESTION, encoding="utf-8")
    env = {**os.environ, "KMS_TEACH_ASSETS": str(copy)}
    return copy, env


def run(argv, env):
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)


def test_the_new_case_and_question_check_clean(educator_assets):
    copy, env = educator_assets
    out = run([sys.executable, "-m", "kms_teach", "check", str(copy)], env)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_new_case_is_accepted_by_name_by_the_command_line(educator_assets):
    _copy, env = educator_assets
    listed = run([sys.executable, "-m", "kms_teach", "cases"], env).stdout
    assert "khe-neck" in listed
    out = run([sys.executable, "-m", "kms_teach", "simulate", "khe-neck", "--days", "1", "--format", "json"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["case"] == "khe-neck"


def test_the_new_case_is_accepted_by_name_in_python_widgets_and_quizzes(educator_assets):
    _copy, env = educator_assets
    code = textwrap.dedent("""\
        import kms_teach as kt
        from kms_teach import widgets
        from kms_teach.quiz import Quiz
        course = kt.simulate("khe-neck", days=1)
        explorer = widgets.LabPanelExplorer("khe-neck")
        assert "khe-neck" in explorer.case.options
        planner = widgets.TreatmentPlanner("khe-neck", days=14)
        quiz = Quiz(ids=["educator-neck-platelets"])
        quiz.answer(f"{course.labs_at(0)['platelets']:.1f}")
        print(quiz.check().correct, f"{course.labs_at(0)['platelets']:.1f}")
        """)
    out = run([sys.executable, "-c", code], env)
    assert out.returncode == 0, out.stderr
    correct, platelets = out.stdout.split()
    assert correct == "True"
    assert float(platelets) < 50  # a more active tumour than the reference infant: fewer platelets


def test_a_broken_educator_case_is_named_by_file_line_and_field(educator_assets):
    copy, env = educator_assets
    broken = copy / "cases" / "khe-neck.yaml"
    broken.write_text(NEW_CASE.replace("severity: 1.3", "severity: 9"), encoding="utf-8")
    out = run([sys.executable, "-m", "kms_teach", "check", str(copy)], env)
    assert out.returncode == 1
    assert f"{broken}:11: khe-neck activity: severity: must lie between 0 and 5, not 9" in out.stdout

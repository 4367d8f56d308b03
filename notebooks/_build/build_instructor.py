"""Write the instructor notebook, execute it and tidy its metadata.

    python notebooks/_build/build_instructor.py               # write, execute, tidy
    python notebooks/_build/build_instructor.py --no-execute  # write only

Same conventions as build_02_04.py, whose helpers and REFERENCES it reuses:
thin code cells (no def or class, imports from kms_teach only), "check" cells
with deterministic text that nbval compares, "widget" cells whose output is
ignored, and a References section built from the short citations in the text.
The notebook is not numbered, so tests/test_notebooks.py leaves it alone;
tests/test_delivery.py checks its hygiene instead. The step-by-step recipes and
the class-delivery notes live in docs/educator-guide.md, which this notebook
points to rather than repeats.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_02_04 as base  # noqa: E402

CELLS = [
    ("md", """
        # Instructor notes

        > **Educational use only, not for clinical decisions.** The cases, numbers and quizzes
        > in this module come from a simplified teaching model. They are not for any real infant.

        **For:** educators who teach with kms-teach or adapt it for their own class.

        **Time:** about 15 minutes to read and run.

        **Objectives.** After this notebook you will be able to:

        1. match each lesson to its learning objectives and the class time it needs;
        2. see how many quiz items the bank holds by topic, difficulty, lesson and misconception;
        3. build a quiz for your own session, from Python or from the command line;
        4. validate edited content with `kms-teach check` and export questions for Moodle, a
           static book or paper.

        The full guide, with session plans, step-by-step recipes (change a parameter, add a case,
        add a question, build a quiz, validate, export) and the class-delivery options (Binder,
        Voila, JupyterHub, Colab), is [docs/educator-guide.md](../docs/educator-guide.md).
        """),
    ("md", """
        ## The lessons at a glance

        | Lesson | Students learn to | Minutes | Quiz items |
        |---|---|---|---|
        | `00_start_here` | run and restart a notebook, work every control from the keyboard, define KMS, read the flags on a lab report and convert units | 15 | 3 |
        | `01_the_tumour_and_the_patient` | tell KHE and tufted angioma from infantile hemangioma, judge who is at risk, spot a hidden tumour and the warning signs, compare mortality then and now | 30 | 8 |
        | `02_platelet_trapping` | explain the platelet count as production against loss, and how the tumour traps platelets; predict the count as the tumour's activity changes | 30 | 5 |
        | `03_consuming_clotting_factors` | explain fibrinogen and factor consumption and the huge D-dimer, read results against age-specific ranges, separate KMS from its look-alikes | 35 | 6 |
        | `04_treatment_and_recovery` | rank treatments by their evidence, explain why platelets recover before fibrinogen and why platelets are not transfused by reflex, read a virtual trial honestly | 40 | 7 |
        | `05_review` | practise across every topic, then work up, diagnose and treat an infant in a branching case with a debrief | 40 | 15 drawn from the bank |

        Lessons 00-05 take about 3 hours 10 minutes of student time in all. Lessons 00 and 01
        work well as pre-reading, and 05 as homework; the guide has plans for a 50-minute and a
        2-hour session.

        Run the next cell first. It loads the package and the quiz.
        """),
    ("check", """
        import kms_teach as kt
        from kms_teach.quiz import Quiz

        print(kt.NOTICE)
        """),
    ("md", """
        ## The question bank

        Each topic is one file in `assets/questions/`. The table counts the items of each topic
        at each difficulty, so you can see where a quiz for beginners has enough material.
        """),
    ("check", """
        bank = kt.load_bank()
        levels = ["easy", "medium", "hard"]
        print(f"{'topic':<20}" + "".join(f"{level:>8}" for level in levels) + f"{'total':>8}")
        for topic in bank.topics:
            row = [len(bank.select(topics=[topic], difficulty=[level])) for level in levels]
            print(f"{topic:<20}" + "".join(f"{count:>8}" for count in row) + f"{sum(row):>8}")
        totals = [len(bank.select(difficulty=[level])) for level in levels]
        print(f"{'all topics':<20}" + "".join(f"{count:>8}" for count in totals) + f"{len(bank):>8}")
        """),
    ("md", """
        The end-of-lesson quizzes use the items tagged with that lesson (`lessons: [N]` in the
        file); every other item appears only in the review and in quizzes you build.
        """),
    ("check", """
        {f"lesson {n}": len(bank.select(lesson=n)) for n in range(5)}
        """),
    ("md", """
        ## Common student difficulties

        The bank targets the sixteen misconceptions listed in the project's reference pack; each
        item that does so names its number in a `misconception` field. The ones that come up most
        in class:

        - **"KMS complicates the common strawberry mark."** It arises with kaposiform
          hemangioendothelioma or tufted angioma; infantile hemangioma is GLUT1-positive and does
          not cause it (North 2000).
        - **"Very low platelets call for a platelet transfusion."** While the tumour is active it
          traps transfused platelets within hours, and the tumour may swell; transfusion is kept
          for bleeding or a procedure (Ji 2020; O'Rafferty 2015). Lesson 04 lets students see this.
        - **"A normal PT and aPTT rule out consumption."** Fibrinogen and D-dimer change first;
          clotting times lengthen late (Arch Dis Child teaching table). Lesson 03 shows it.
        - **"Platelets and fibrinogen recover together."** Platelets come back within days to
          weeks and fibrinogen lags by weeks (Cleveland Clinic 2026; Ryan 2010).
        - **"Propranolol or steroids alone will do."** About a third respond to either alone
          (Chiu 2012; Ryan 2010); sirolimus with prednisolone has the strongest evidence (Ji 2022).

        The next cell lists, for each misconception number, the items that address it, so you
        can put them in a quiz for the class that needs them.
        """),
    ("check", """
        for number in sorted({q.misconception for q in bank if q.misconception}):
            print(f"{number:>2}: " + ", ".join(q.id for q in bank if q.misconception == number))
        """),
    ("md", """
        ## Build a quiz for your session

        `Quiz` takes the same filters as the command line, and every filter given must hold:

        | Argument | Example | Chooses |
        |---|---|---|
        | `topics` | `["treatment", "workup"]` | items of these topics (file names in `assets/questions/`) |
        | `difficulty` | `["easy"]` | items at these levels (`easy`, `medium`, `hard`) |
        | `ids` | `["treatment-propranolol-khe"]` | exactly these items |
        | `lesson` | `4` | the items tagged for lesson 4 |
        | `n` | `5` | draw this many of the chosen items |
        | `seed` | `0` | the draw and the order; the same seed gives the same quiz |
        | `bank` | `kt.load_bank("my-assets/questions")` | a folder of your own topic files |

        The next cell lists the items a filter picks, and the one after runs them as a quiz:
        here, the easy treatment questions.
        """),
    ("check", """
        [q.id for q in bank.select(topics=["treatment"], difficulty=["easy"])]
        """),
    ("widget", """
        Quiz(topics=["treatment"], difficulty=["easy"], seed=0, title="Custom quiz: easy treatment questions")
        """),
    ("md", """
        ## From the command line

        Run these in a terminal (in JupyterLab: File > New > Terminal).

        ```bash
        kms-teach quiz --topic treatment --difficulty easy --list                  # ids, topic and difficulty
        kms-teach quiz --topic treatment --difficulty easy --seed 0 --output easy-treatment.ipynb
        kms-teach check                                                            # the installed content
        kms-teach check "$KMS_TEACH_ASSETS"                                        # your own copy
        kms-teach export gift --topic treatment --output treatment.gift            # Moodle
        kms-teach export jupyterquiz --lesson 4 --output lesson4.json              # Jupyter Book
        kms-teach export html --topic workup --output workup-handout.html          # printable handout
        kms-teach export html --topic workup --answer-key --output workup-key.html
        ```

        - `kms-teach quiz ... --output FILE.ipynb` writes a one-cell notebook that runs that quiz.
        - `kms-teach check` prints one line per problem, `file:line: item: field: message`, and
          exits with status 1; with no problems it says so and exits with 0.
        - Exports write to the screen unless `--output` is given. A case-based item carries the
          model's lab panel as text. Ordering items have no GIFT or jupyterquiz form and are left
          out with a note. The HTML handout holds no script and no answers; `--answer-key` writes
          the key as a separate page.
        - To use your own cases and questions, copy `assets/` and point the environment variable
          `KMS_TEACH_ASSETS` at the copy before starting Jupyter; the guide walks through it.
        """),
    ("md", """
        ## Where to pause in class

        Each lesson has **Think!** prompts and "Predict, then observe" cells that hide the answer
        until the student commits. In class, stop at these and take a show of hands before anyone
        presses *Reveal*:

        - Lesson 02, section 5: the tumour's activity doubles; what happens to the count?
        - Lesson 03, section 4: PT and aPTT in an infant whose fibrinogen is only just low.
        - Lesson 03, section 6: which result separates NAIT from KMS.
        - Lesson 04, section 3: which recovers first on treatment, platelets or fibrinogen.
        - Lesson 04, section 5: the platelet count a day after a transfusion.
        """),
    ("md", """
        ## Key points

        - Six notebooks, about 3 hours 10 minutes of student time; each lesson states its
          objectives and time and ends with key points and its own quiz.
        - The bank is plain YAML, one file per topic; `Quiz(...)` and `kms-teach quiz` select
          from it by topic, difficulty, ids, lesson and number.
        - `kms-teach check` validates every edit before class; `kms-teach export` turns the same
          items into Moodle GIFT, jupyterquiz JSON or a printable handout with a separate key.
        - Lab values in case-based items always come from the model, so they stay consistent
          when a case or a parameter changes.
        - It is a teaching model: say so in class, and never let its numbers stand in for a
          real infant's care.
        """),
]


def build():
    return base.write_notebook("instructor_notes.ipynb", "ins", CELLS)


if __name__ == "__main__":
    written = build()
    if "--no-execute" not in sys.argv[1:]:
        base.execute(written)

"""Write the review notebook 05, execute it and tidy its metadata.

    python notebooks/_build/build_05.py               # write, execute, tidy
    python notebooks/_build/build_05.py --no-execute  # write only

Same conventions as build_02_04.py, whose helpers and REFERENCES it reuses.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_02_04 as base  # noqa: E402

CELLS = [
    ("md", """
        # 05 Review: mixed practice and a branching case

        > **Educational use only, not for clinical decisions.** The quiz runs a simplified
        > teaching model; its numbers illustrate mechanisms and are not for any real infant.

        **Time:** about 40 minutes (20 for mixed practice, 20 for the branching case).

        **Objectives.** By the end you will be able to:

        1. answer mixed questions on the mechanism, the laboratory picture, the look-alikes, the
           workup and the treatment of Kasabach-Merritt syndrome (KMS);
        2. work up a simulated infant step by step and defend each test you order;
        3. choose a diagnosis and a treatment and explain the course that follows;
        4. say where your answers were weakest, so you know which lesson to revisit.
        """),
    ("md", """
        ## How this review works

        The questions come from the same bank as the end-of-lesson quizzes, so some will be
        familiar. Work without notes first: retrieving an answer teaches more than rereading it.
        Each answer shows feedback on the option you chose, an explanation and its source. For
        treatment and transfusion questions the quiz runs the model under your choice, so you see
        the consequence (for example, a platelet transfusion rising and being lost within a day,
        as reviews of KMS care describe: Ji 2020; O'Rafferty 2015).

        Run the cells from the top. The first cell loads the package.
        """),
    ("check", """
        import kms_teach as kt
        from kms_teach.quiz import Quiz

        print(kt.NOTICE)
        """),
    ("md", """
        ## Mixed practice

        Fifteen questions drawn from every topic. **Think!** Before you check each answer, say
        how sure you are (sure, unsure, guessing). Questions you got right while unsure are worth
        revisiting as much as the ones you got wrong.
        """),
    ("widget", """
        Quiz(n=15, seed=0, title="Mixed practice: 15 questions from every topic")
        """),
    ("md", """
        ## Practice by topic

        The bank is organised by topic. The next cell counts the questions in each; change the
        topic list in the cell after it to practise where you are weakest, and change `seed` for
        a different draw.
        """),
    ("check", """
        bank = kt.load_bank()
        {topic: len(bank.select(topics=[topic])) for topic in bank.topics}
        """),
    ("widget", """
        Quiz(topics=["differential", "workup"], n=8, seed=1, title="Practice: the look-alikes and the workup")
        """),
    ("md", """
        ## A branching case

        A six-week-old girl has a swelling, purple thigh mass and new bruises. You work her up as
        the admitting doctor would: order the tests you think she needs (the laboratory results
        come from the model), name the diagnosis, choose a treatment and watch her course against
        no treatment. At the end a debrief reviews each decision, including any essential test you
        did not order, with its source.

        **Guiding question:** which results tell you this is trapping and consumption by a tumour,
        rather than sepsis or an immune cause? (Drolet 2013; Ji 2020)
        """),
    ("widget", """
        from kms_teach.workup_widget import CaseWorkup

        CaseWorkup("khe-workup")
        """),
    ("md", """
        ## Key points

        - In an infant with a firm, enlarging vascular mass, very low platelets with low fibrinogen
          and a very high D-dimer point to KMS; PT and aPTT may still be near normal for age.
        - Isolated low platelets with normal fibrinogen and D-dimer point elsewhere (an immune
          cause); a systemically ill infant with prolonged PT and aPTT points to sepsis with DIC.
        - MRI defines the tumour; a biopsy must not delay treatment of a bleeding-prone infant.
        - In the only randomised trial, sirolimus with prednisolone brought platelets above
          100 x10^9/L by week 4 in 94.6% of infants, against 66.7% on sirolimus alone (Ji 2022).
        - Platelet transfusion is kept for bleeding or procedures: the tumour traps the platelets
          within hours (Ji 2020).
        """),
]


def build():
    return base.write_notebook("05_review.ipynb", "l05", CELLS)


if __name__ == "__main__":
    written = build()
    if "--no-execute" not in sys.argv[1:]:
        base.execute(written)

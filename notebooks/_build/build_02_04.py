"""Write lessons 02, 03 and 04 as notebooks, execute them and tidy their metadata.

Run from anywhere:

    python notebooks/_build/build_02_04.py               # write, execute, tidy
    python notebooks/_build/build_02_04.py --no-execute  # write only (no outputs)

The lesson text lives here, so edit this file (not the .ipynb files) and run it
again. Cell ids, metadata and outputs are deterministic, so a rebuild without
content changes gives the same notebooks (widget outputs carry random model ids,
which is why those cells are tagged "nbval-ignore-output").

Cell kinds used in the lesson lists below:

- "md": Markdown;
- "code": a code cell whose output is not checked (imports, predictions);
- "check": a code cell with deterministic text output, tagged
  "nbval-check-output" so that `pytest --nbval-lax` compares it;
- "widget": a code cell that displays an explorer, tagged
  "nbval-ignore-output" (its output holds widget ids and images).

Writing rules for the text (see the project's medical reference pack and
build_00_01.py, whose conventions this file follows):
- every medical statement and every number carries a short citation, and each
  short citation used must have an entry in REFERENCES below (the build stops
  if a bracketed citation with a year has no entry);
- numbers produced by the model are labelled "model output" and the model's
  assumptions are cited to docs/model.md;
- figures the pack marks as recalled from memory are called "approximate";
- British spelling in prose ("tumour", "haemoglobin", "anaemia"); disease names
  keep the module's spelling ("kaposiform hemangioendothelioma",
  "infantile hemangioma");
- code cells only import from kms_teach and call it: no def, class or named
  lambda (an inline lambda passed to Result.first_day is allowed).
"""

import inspect
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}

QUIZ = """## Quiz

Answer with the keyboard or the mouse: Tab moves between controls, the arrow keys
choose an option and Enter presses *Check answer*. Each answer gets feedback on
the option you chose, an explanation and its source; for treatment choices the
quiz runs the model and shows what your choice does. *Retry with new order*
deals the questions again, and *Save answers* keeps them in a file."""
QUIZ_CODE = "from kms_teach.quiz import Quiz\n\nQuiz(lesson={lesson}, seed=0, title=\"Lesson {lesson} quiz\")"
CHECK = ["nbval-check-output"]
IGNORE = ["nbval-ignore-output"]

# Short citation as written in the text -> full citation: sources from the
# reference pack (its Appendix B where possible; a few, such as Dallman, Medscape
# and the Arch Dis Child table, are cited only in the pack's body), the two seed
# articles and the model notes; nothing from outside the pack. Same keys and
# wording as build_00_01.py where they overlap.
# A notebook's References section lists every entry whose short form appears
# in its text, in alphabetical order.
REFERENCES = {
    "AccessPediatrics": "Paediatric transfusion medicine chapter, AccessPediatrics (McGraw Hill), as summarised in the reference pack: expected rise after each blood product in a child who is not consuming it (platelets 5-10 mL/kg: about +50-100 x10^9/L).",
    "Am J Dis Child 1967": "Clotting-fibrinolysis in a cavernous hemangioma. *Am J Dis Child* 1967;113:649-53 (Columbia-Presbyterian group). (Author list not captured in the reference pack.)",
    "Andrew 1987": "Andrew M, Paes B, Milner R, et al. Development of the human coagulation system in the full-term infant. *Blood* 1987;70:165-72.",
    "Arch Dis Child teaching table": "Teaching table on the interpretation of coagulation tests, *Arch Dis Child*, as summarised in the reference pack (section 3.1): PT and aPTT lengthen once fibrinogen falls below about 0.8 g/L. (Exact article details not captured.)",
    "Barlow 1998": "Barlow CF, Priebe CJ, Mulliken JB, et al. Spastic diplegia as a complication of interferon alfa-2a treatment of hemangiomas of infancy. *J Pediatr* 1998;132:527-30. (Author list recalled in the reference pack: approximate.)",
    "Baselga 2008": "Baselga E, Cordisco MR, Garzon M, et al. Rapidly involuting congenital haemangioma associated with transient thrombocytopenia and coagulopathy. *Br J Dermatol* 2008;158:1363-70.",
    "Blood Adv 2023": "Study of platelet receptors (CLEC-2, GPVI) and platelet function in kaposiform hemangioendothelioma with Kasabach-Merritt phenomenon. *Blood Adv* 2023;7:4936. (Title paraphrased and author list not captured in the reference pack.)",
    "Borst 2024": "Borst AJ, Eng W, Griffin M, et al. Treatment practices and response in kaposiform hemangioendothelioma: a multicenter cohort study. *Pediatr Blood Cancer* 2024.",
    "Chiu 2012": "Chiu YE, Drolet BA, Blei F, et al. Variable response to propranolol treatment of kaposiform hemangioendothelioma, tufted angioma, and Kasabach-Merritt phenomenon. *Pediatr Blood Cancer* 2012;59:934-8. (Citation details approximate.)",
    "Cleveland Clinic 2026": "Cleveland Clinic. Kasabach-Merritt syndrome. Health Library, patient information, medically reviewed 02/2026.",
    "Collen 1972": "Collen D, Claeys H, Tytgat GN, Piessens R. Metabolism and distribution of fibrinogen. I. Fibrinogen turnover in physiological conditions in humans. *Br J Haematol* 1972;22:681.",
    "Croteau 2013": "Croteau SE, Liang MG, Kozakewich HP, et al. Kaposiform hemangioendothelioma: atypical features and risks of Kasabach-Merritt phenomenon in 107 referrals. *J Pediatr* 2013;162:142-7.",
    "Dallman": "Dallman PR. Reference values for haemoglobin in term infants. In: Nathan DG, Oski FA, eds. *Hematology of Infancy and Childhood*.",
    "docs/model.md": "kms-teach model notes: equations, parameter values, evidence tags and assumptions of the teaching model. [docs/model.md](../docs/model.md) in this repository.",
    "Drolet 2013": "Drolet BA, Trenor CC 3rd, Brandão LR, et al. Consensus-derived practice standards plan for complicated kaposiform hemangioendothelioma. *J Pediatr* 2013;163:285-91. (Some recommendations are summarised from memory in the reference pack: approximate.)",
    "Fernandez-Pineda 2013": "Fernandez-Pineda I, Lopez-Gutierrez JC, et al. Long-term outcome of vincristine-aspirin-ticlopidine (VAT) therapy for vascular tumors associated with Kasabach-Merritt phenomenon. *Pediatr Blood Cancer* 2013;60:1478-81. (Author list approximate.)",
    "Haisley-Royster 2002": "Haisley-Royster C, Enjolras O, Frieden IJ, et al. Kasabach-Merritt phenomenon: a retrospective study of treatment with vincristine. *J Pediatr Hematol Oncol* 2002;24:459-62. (Citation details approximate.)",
    "Hall 2001": "Hall GW. Kasabach-Merritt syndrome: pathogenesis and management. *Br J Haematol* 2001;112:851-62. (Author name recalled in the reference pack: approximate.)",
    "Harker 1977": "Harker LA. The kinetics of platelet production and destruction in man. *Clin Haematol* 1977;6:671-93 (PMID 912957).",
    "heparin tracer study": "A 1970s radiotracer study of platelet and fibrinogen turnover in a KMP lesion, whose authors judged heparin inadvisable because the platelets were lost mainly to trapping in the tumour, as summarised in the reference pack (section 5.1). (Full citation not captured.)",
    "Int J Cancer 2023": "Long-term outcomes of sirolimus treatment for kaposiform hemangioendothelioma: continuing successes and ongoing challenges. *Int J Cancer* 2023;153:600-8 (doi 10.1002/ijc.34509). (Author list not captured in the reference pack.)",
    "Ji 2017": "Ji Y, et al. Sirolimus for the treatment of progressive kaposiform hemangioendothelioma: a multicenter retrospective study. *Int J Cancer* 2017;141:848-55.",
    "Ji 2020": "Ji Y, Chen S, Yang K, Xia C, Li L. Kaposiform hemangioendothelioma: current knowledge and future perspectives. *Orphanet J Rare Dis* 2020;15 (doi 10.1186/s13023-020-1320-1).",
    "Ji 2022": "Ji Y, et al. Sirolimus plus prednisolone vs sirolimus monotherapy for kaposiform hemangioendothelioma: a randomized clinical trial. *Blood* 2022;139:1619-30.",
    "Ji trial registration": "Registration text of the randomised trial of sirolimus plus prednisolone versus sirolimus alone (Ji Y and colleagues, West China Hospital), which describes clinically significant KMP as platelets generally below 30 ×10^9/L.",
    "Kontras 1963": "Kontras SB, et al. Giant hemangioma with thrombocytopenia: case report with survival and sequestration studies of platelets labeled with chromium 51. *Am J Dis Child* 1963;105:188-95.",
    "Li 2024": "Li M, et al. Treatment experience for different risk groups of kaposiform hemangioendothelioma. *Front Oncol* 2024;14:1336763.",
    "Liu 2022": "Liu Q, Xiong N, Gong X, et al. Cocktail therapy with prednisolone, vincristine and sirolimus for Kasabach-Merritt phenomenon in 10 infants. *Exp Ther Med* 2022;24:621.",
    "Mahajan 2017": "Mahajan P, Margolin J, Iacobas I. Kasabach-Merritt phenomenon: classic presentation and management options. *Clin Med Insights Blood Disord* 2017;10:1179545X17699849.",
    "Medscape": "Medscape. Kasabach-Merritt syndrome: workup (online clinical reference), as summarised in the reference pack.",
    "Monagle 2006": "Monagle P, Barnes C, Ignjatovic V, et al. Developmental haemostasis: impact for clinical haemostasis laboratories. *Thromb Haemost* 2006;95:362-72. (Values recalled in the reference pack: approximate.)",
    "North 2000": "North PE, et al. GLUT1: a newly discovered immunohistochemical marker for juvenile hemangiomas. *Hum Pathol* 2000;31:11-22.",
    "O'Rafferty 2015": "O'Rafferty C, O'Regan GM, Irvine AD, Smith OP. Recent advances in the pathobiology and management of Kasabach-Merritt phenomenon. *Br J Haematol* 2015;171:38-51.",
    "reference pack §3.1": "kms-teach medical reference pack, section 3.1: summary of reviews and case reports on PT and aPTT in Kasabach-Merritt phenomenon (secondary source).",
    "reference pack §6.1": "kms-teach medical reference pack, section 6.1: table of conditions that resemble Kasabach-Merritt phenomenon (secondary source; NAIT details approximate).",
    "Ryan 2010": "Ryan C, Price V, John P, et al. Kasabach-Merritt phenomenon: a single centre experience. *Eur J Haematol* 2010;84:97-104.",
    "Szlachetka 1998": "Szlachetka 1998, review of about 205 reported cases of Kasabach-Merritt syndrome, as cited by OMIM/MedGen (original not checked in the reference pack).",
    "Toulon 2016": "Toulon P, et al. Age dependency for coagulation parameters in paediatric populations. *Thromb Haemost* 2016;116:9-16.",
    "Wang 2015": "Wang Z, et al. Steroid-resistant kaposiform hemangioendothelioma: a retrospective study of 37 patients treated with vincristine and long-term follow-up. *Pediatr Blood Cancer* 2015;62:577-80.",
    "White, RegionalDerm": "White GM. Kasabach-Merritt syndrome. RegionalDerm.com (web page for patients and clinicians).",
    "Wiedmeier 2009": "Wiedmeier SE, et al. Platelet reference ranges for neonates, defined using data from over 47,000 patients in a multihospital healthcare system. *J Perinatol* 2009;29:130-6.",
    "Wu 2020": "Wu Y, et al. Effective surgical treatment of life-threatening huge vascular anomalies associated with thrombocytopenia and coagulopathy in infants unresponsive to drug therapy. *BMC Pediatr* 2020;20:187.",
}

IMPORTS = """
import kms_teach as kt
from kms_teach import widgets

print(kt.NOTICE)
"""

# ---------------------------------------------------------------------------
# Lesson 02: Platelet trapping
# ---------------------------------------------------------------------------
LESSON_02 = [
("md", """
# Lesson 02 · Platelet trapping: why the count falls within days

> **Educational use only, not for clinical decisions.**
> The infants in this lesson are teaching cases, and their lab values come from
> a simplified model.

**Time:** about 30 minutes (15 minutes of reading, 15 minutes with the model).

**Before you start:** Lessons 00 and 01 (running cells, reading a lab report, the tumours behind KMS).

**Learning objectives.** By the end of this lesson you will be able to:

1. **Describe** normal platelet kinetics and **explain** the platelet count as a balance between production and loss.
2. **Explain** how a kaposiform hemangioendothelioma traps platelets through podoplanin on its vessels and CLEC-2 on platelets.
3. **Predict** how the platelet count responds when the tumour becomes more or less active.
4. **Explain** why platelets fall within days while fibrinogen and haemoglobin change more slowly.
5. **Compare** the platelet thresholds that different studies use to define KMS.
"""),
("md", """
Run the next cell first. It loads the package (as `kt`) and its interactive
explorers (as `widgets`), and prints the notice that applies to everything here.
"""),
("check", IMPORTS),
("md", """
## 1. A pool that empties and refills every week

In healthy adults the marrow releases about 35 ×10^9 platelets per litre of
blood each day, and each platelet circulates for about 9–10 days before it is
removed (Harker 1977). These were measured in adults; the model assumes an
infant is similar (docs/model.md).

Multiply the two and you get the size of the pool: 35 × 9.5 ≈ 330 ×10^9/L, a
normal count (arithmetic from Harker 1977). So the count is not a fixed
property of the blood. It is **where daily production and daily loss balance**,
and it moves whenever either side changes.
"""),
("md", """
## 2. The marrow pushes back

When the count falls, the marrow speeds up. In KMS the blood film often shows
large platelets, a sign of fast marrow turnover (Medscape). How far an infant's
production can rise is not well measured; the model lets it climb to about
twice normal, an approximate figure (docs/model.md). This push-back slows a
fall, but it cannot keep up with a large new loss.
"""),
("md", """
## 3. A new exit: the tumour

The abnormal vessels of a kaposiform hemangioendothelioma (KHE) or tufted
angioma are lined by cells that carry **podoplanin**, a lymphatic marker.
Podoplanin binds **CLEC-2**, a receptor on platelets (Blood Adv 2023). Helped by
the abnormal flow in the tumour's vessels, platelets passing through stick,
become activated and stay there (O'Rafferty 2015). Platelets labelled with a
radioactive tracer left the blood quickly and gathered over the lesion
(Kontras 1963).
"""),
("md", """
Trapping is more than a leak. Activated platelets release signals that make
vessels grow, and the tumour becomes engorged, firm, warm and purple
(O'Rafferty 2015). The growing lump is usually what parents notice first
(Cleveland Clinic 2026). Platelets from infants with active KMS carry less
CLEC-2 and GPVI (glycoprotein VI, another platelet receptor) on their surface and respond weakly when stimulated; this
recovers with treatment (Blood Adv 2023).
"""),
("md", """
## 4. The new balance

With a tumour there are two exits: normal removal, about 1/9.5 of the pool per
day (Harker 1977), and trapping. In the model, a typical active tumour traps
about 3.2 times the circulating pool per day. That figure is not measured: it
was chosen so that the count settles near 20 ×10^9/L (docs/model.md), the level
reported at diagnosis, 22 ± 15 ×10^9/L in one series (Liu 2022) and a median of
24 ×10^9/L in another (Li 2024).
"""),
("md", """
> **Think!** A healthy platelet circulates for about 9–10 days. If the tumour
> removes 3.2 pools a day on top of normal removal, roughly how long does a
> platelet now stay in the blood?

<details>
<summary>One way to answer</summary>

The total exit rate is about 0.105 + 3.2 ≈ 3.3 pools per day, so the average
stay is about 1/3.3 of a day: some 7 hours (model estimate, docs/model.md).
No precise measurement of platelet survival in KMS was found for this module;
the labelled-platelet studies describe it only as very short (Kontras 1963).
</details>
"""),
("md", """
## 5. Predict, then observe

Choose an answer and press **Reveal**. Commit before you look: a wrong
prediction you can explain teaches more than a right guess.
"""),
("widget", """
widgets.PredictReveal(
    "If the tumour's activity doubles, what happens to the platelet count?",
    [
        "It stays about the same, because the marrow makes up the difference",
        "It roughly halves, settling at a new lower level within a few days",
        "It falls to zero, because the tumour takes every platelet",
        "It drifts down slowly over several weeks",
    ],
    "It roughly halves within days. The count settles where production equals loss. "
    "Near the bottom the marrow is already working close to its ceiling (about twice normal "
    "in this model, an approximate figure), so doubling the trapping roughly doubles the loss "
    "and the count roughly halves: in the model from about 20 to about 10 x10^9/L. It does not "
    "reach zero because the marrow keeps producing about 35-70 x10^9/L a day, and the new level "
    "arrives within days because a platelet now stays in the blood for only hours "
    "(Harker 1977; docs/model.md).",
)
"""),
("md", """
Now observe. The next cell follows a teaching case, `khe-onset`: a term baby
born with a dusky mark on his thigh, whose KHE becomes active in his second
week (day 0 is birth). It runs his first 60 days twice, with typical tumour
activity and with double it, and describes each platelet course in words.
"""),
("check", """
typical = kt.simulate("khe-onset", days=60)
doubled = kt.simulate("khe-onset", days=60, severity=2.0)

print("Typical activity:", kt.describe.describe_course(typical, "platelets"))
print("Double activity: ", kt.describe.describe_course(doubled, "platelets"))
"""),
("md", """
Doubling the activity roughly halved the final count, from 21 to 11 ×10^9/L
(model output). The marrow was already near its ceiling and could not make up
the extra loss, yet the count never reached zero.
"""),
("md", """
## 6. Interactive demo: watch the tumour take the platelets

**Guiding question:** On which day does the count first fall below
150 ×10^9/L, and how many days later is it below 50? What share of the
platelets leaving the blood does the tumour take on day 30?

How to use the explorer:

- **Play** runs the course a day at a time, **Next day** steps once, and the
  **day slider** jumps to any day.
- **Tumour activity** sets how active the tumour becomes once fully grown
  (1 = a typical KMS, 0 = a tumour that never becomes active).
- **Trapping** sets how strongly each unit of activity captures platelets, per
  day; its range comes from the model's parameter table (docs/model.md).

The picture has two halves. On the left, blue dots stand for platelets in the
blood (fewer dots, lower count) and crosses for platelets caught by the tumour;
the number of crosses and the caption show the tumour's *share* of the
platelets leaving the blood, not how many platelets sit inside it. On the
right, the platelet count is drawn up to the chosen day over a green band, the
normal range. Under the picture, a **Summary** line says in words what the
figure shows (it is also the image's alt text), and a lab report gives the
numbers, flagged against the range for age.
"""),
("widget", """
explorer = widgets.PlateletTrappingExplorer("khe-onset", days=60)
explorer
"""),
("md", """
**Try:**

1. Set the tumour activity to 0 and play the course again. What happens to the
   count?
2. Put the activity back to 1 and go to day 30. Halve the trapping (from 3.2 to
   1.6) and note the count.
3. Put the trapping back to 3.2 and halve the activity instead (from 1 to 0.5).
   Which of the two changes moved the count more?

<details>
<summary>Answer</summary>

With no tumour activity the count stays normal: nothing but normal removal
takes platelets away (docs/model.md). Halving the trapping and halving the
activity give the same count, because in the model the tumour's capture of
platelets is the trapping rate multiplied by the activity (docs/model.md).
Biologically, "activity" stands for how engorged and active the tumour is, and
"trapping" for how strongly each part of it captures platelets.
</details>

The cells below give the default course in words, for a screen reader or a
static copy of this notebook in which the explorer cannot run.
"""),
("check", """
course = kt.simulate("khe-onset", days=60)

print(kt.describe.describe_course(course, "platelets"))
print(f"On day 30 the tumour takes {explorer.trapped_fraction(30):.0%} of the platelets leaving the blood "
      "(with the explorer's current settings).")
"""),
("md", """
The lab report for day 30, the day the explorer's question asks about:
"""),
("check", """
print(course.lab_panel(30))
"""),
("md", """
On day 30 the platelets are critically low and the D-dimer is high.
Fibrinogen has been falling for about two weeks and is now below its range,
while haemoglobin, PT and aPTT are still within the range for age (model
output). Lesson 03 explains the fibrinogen and D-dimer; the next section
explains why the tests move at such different speeds.
"""),
("md", """
## 7. Why platelets fall first

Each blood component changes at a pace set by how fast its pool turns over:

- **Platelets** live about 9–10 days in health (Harker 1977), and only hours
  once the tumour is trapping them (docs/model.md).
- **Fibrinogen** has a plasma half-life of about 4 days in healthy adults
  (Collen 1972), and its use in the tumour builds up over weeks (lesson 03).
- **Red cells** live about 60–90 days in a term newborn (approximate,
  docs/model.md), so haemoglobin drifts slowly.

The next cell compares one week, days 10 to 17, as the tumour becomes active.
"""),
("check", """
print(kt.describe.describe_course(course, "platelets", 10, 17))
print(kt.describe.describe_course(course, "fibrinogen", 10, 17))
print(kt.describe.describe_course(course, "hemoglobin", 10, 17))
"""),
("md", """
In the same week the platelets fell about ninefold, fibrinogen lost about a
fifth and haemoglobin fell a little (model output). Part of that haemoglobin
fall happens in every healthy newborn, whose haemoglobin drops over the first
two months (Dallman); lesson 03 returns to this. The lab summaries for day 14
and day 60 show the order in which the tests leave their ranges:
"""),
("check", """
print(kt.describe.describe_day(course, 14))
print(kt.describe.describe_day(course, 60))
"""),
("md", """
> **Think!** An infant has had an active KHE for three weeks. Why might her
> haemoglobin still be within the range for age while her platelets are
> 20 ×10^9/L? And what would you expect a week after effective treatment?

<details>
<summary>One way to answer</summary>

Red cells turn over in months and platelets in days (Harker 1977; docs/model.md),
so the platelet count reaches its new balance long before the haemoglobin does.
The same speed works in reverse: once treatment calms the tumour, platelets
usually rise within days, while clotting proteins take a few weeks
(Cleveland Clinic 2026). Lesson 04 explores the recovery.
</details>
"""),
("md", """
## 8. What counts as KMS? Definitions differ

- In healthy term newborns the 5th centile of the platelet count is
  123 ×10^9/L (Wiedmeier 2009); many reports, and this module's lab report,
  use 150–450 ×10^9/L (Mahajan 2017).
- A 17-centre US cohort counted KMS when platelets were **at or below
  50 ×10^9/L** and, in addition, fibrinogen was under 1.5 g/L, D-dimer was over
  twice the upper limit of normal, or both (Borst 2024).
- The group that ran the only randomised trial describes clinically significant
  KMS as platelets generally **below about 30 ×10^9/L** (Ji trial registration).
- In that trial a *response* was a durable count **above 100 ×10^9/L** at
  week 4 (Ji 2022).

When you compare papers, check which definition each one used.
"""),
("md", """
The next cell asks the model when the newborn's count first crosses each
threshold.
"""),
("check", """
print("First day below 150 x10^9/L:               ", course.first_day("platelets", lambda v: v < 150))
print("First day at or below 50 (Borst 2024 level):", course.first_day("platelets", lambda v: v <= 50))
print("First day below 30 (Ji group level):        ", course.first_day("platelets", lambda v: v < 30))
"""),
("md", """
In this fast-moving course the two platelet thresholds move the "day of KMS"
by less than two days (model output; the cell checks platelets only, not the
fibrinogen or D-dimer part of the 17-centre definition). In a slower or milder
course the choice matters more, and across a study it changes which infants are
counted at all.
"""),
("md", """
> **Think!** A three-week-old has platelets of 25 ×10^9/L, a normal fibrinogen
> and a D-dimer within the range for age, and no visible lump. Does she meet
> the 17-centre definition of KMS (Borst 2024)? What would you do next?

<details>
<summary>One way to answer</summary>

No: that definition also needs signs of consumption, a low fibrinogen or a
raised D-dimer (Borst 2024). Low platelets on their own have other causes,
such as immune destruction of platelets, which lesson 03 compares (reference
pack §6.1). But about 1 infant in 10 with KHE has no skin sign at all
(Croteau 2013), and KMS can appear after the first visit (Croteau 2013), so
keep looking, and repeat the tests if the picture changes.
</details>
"""),
("md", """
## Key points

- The platelet count is a balance: production of about 35 ×10^9/L a day against removal after 9–10 days in the blood (Harker 1977).
- In KHE and tufted angioma, podoplanin on the tumour's vessels binds CLEC-2 on platelets, opening a large new exit; trapped, activated platelets also make the tumour swell (Blood Adv 2023; O'Rafferty 2015).
- The count falls to a new balance, typically about 20 ×10^9/L (Liu 2022; Li 2024), within days, because the pool turns over fast. It does not reach zero, because the marrow keeps producing (docs/model.md).
- More tumour activity means a lower count; calming the tumour lets the count rise within days (Cleveland Clinic 2026).
- Fibrinogen and haemoglobin change more slowly (Collen 1972; docs/model.md), and studies define KMS thrombocytopenia differently: ≤50 ×10^9/L (Borst 2024) or below about 30 ×10^9/L (Ji trial registration).
"""),
]

# ---------------------------------------------------------------------------
# Lesson 03: Consuming the clotting factors
# ---------------------------------------------------------------------------
LESSON_03 = [
("md", """
# Lesson 03 · Consuming the clotting factors, and the look-alikes

> **Educational use only, not for clinical decisions.**
> The infants in this lesson are teaching cases, and their lab values come from
> a simplified model.

**Time:** about 35 minutes (15 minutes of reading, 20 minutes with the model).

**Before you start:** Lesson 02 (platelet trapping).

**Learning objectives.** By the end of this lesson you will be able to:

1. **Explain** how fibrinogen and other clotting factors are used up in the tumour, and why D-dimer rises so high.
2. **Interpret** a D-dimer result against the range for age and in the right unit (FEU or DDU).
3. **Explain** why infants with KMS become anaemic, and why haemoglobin must be read against the normal low point at 6–9 weeks.
4. **Explain** why a normal PT and aPTT do not rule out a consumptive coagulopathy.
5. **Distinguish** KMS from sepsis with disseminated intravascular coagulation (DIC), neonatal alloimmune thrombocytopenia (NAIT), infantile hemangioma and rapidly involuting congenital hemangioma (RICH) by their lab pattern and clinical picture.
"""),
("md", """
Run the next cell first. It loads the package (as `kt`) and its interactive
explorers (as `widgets`).
"""),
("check", IMPORTS),
("md", """
## 1. Clotting inside the tumour

Inside the tumour's abnormal vessels, trapped platelets and sluggish, abnormal
flow start local thrombin generation. Thrombin turns fibrinogen into
fibrin, and other clotting factors are used up with it: classically factors V
and VIII, and in severe cases II, IX, X and XI too (O'Rafferty 2015;
Am J Dis Child 1967).

The liver makes more fibrinogen in response (in the model, up to about twice
its usual output; docs/model.md), but it falls behind. At diagnosis fibrinogen
averaged 0.82 ± 0.27 g/L in ten infants (Liu 2022), against a healthy level of
about 2.7 g/L at one month (Andrew 1987). In healthy adults, fibrinogen has a
plasma half-life of about 4 days (Collen 1972).
"""),
("md", """
### Activity and bulk: an assumption of the model

In lesson 02 platelet trapping followed the tumour's *activity*, which changes
within about a day. In this model, the use of fibrinogen and clotting factors
follows the tumour's *bulk*, its bed of abnormal vessels, which changes over
weeks. That split was chosen to reproduce the observed timing of recovery: with
treatment, platelets rise within days and clotting proteins over weeks
(Cleveland Clinic 2026; Ji 2022). It is a modelling choice, not a measured
mechanism (docs/model.md), and lesson 04 puts it to use.
"""),
("md", """
## 2. Fibrinolysis: why D-dimer is so high

The body breaks the new fibrin down again with plasmin. Cross-linked fibrin
releases **D-dimer**, so D-dimer reflects both clotting and clot breakdown
(O'Rafferty 2015; Ji 2020). In KMS it is very high: a mean of about 38.6 mg/L
in one series (Liu 2022), roughly a hundred times the upper limit for a
one-month-old (derived from Liu 2022 and Monagle 2006; approximate).

Two traps when you read it:

1. **Age.** D-dimer is higher in young infants, especially in the first months
   (Toulon 2016). With one analyser, the mean was about 1.5 mg/L FEU on day 1
   and about 0.2 mg/L FEU from one month of age (Monagle 2006; approximate, and
   analyser-specific).
2. **Unit.** Laboratories report D-dimer in fibrinogen-equivalent units (FEU)
   or D-dimer units (DDU). The same sample gives a number about twice as high
   in FEU as in DDU (docs/model.md; approximate), and Liu 2022 did not say which
   unit it used. Also, 1 mg/L = 1,000 ng/mL = 1 µg/mL.
"""),
("md", """
The next cell prints the day-0 report of the six-week-old from lesson 00
(case `khe-kms`) in conventional units: platelets per µL, fibrinogen in mg/dL
(1 g/L = 100 mg/dL) and D-dimer in ng/mL FEU.
"""),
("check", """
diagnosis = kt.simulate("khe-kms", days=1)
print(diagnosis.lab_panel(0, units="conventional"))
"""),
("md", """
> **Think!** A referral letter says "D-dimer 19 mg/L" without a unit basis. If
> the laboratory used DDU, what would the result be in FEU? Does it matter for
> the diagnosis?

<details>
<summary>One way to answer</summary>

About 38 mg/L FEU, roughly twice the number (docs/model.md; approximate). For
the diagnosis it changes little: either way it is far above the range for age
(Monagle 2006, approximate). It matters when you compare results from two
laboratories or follow the trend during treatment, so always note the unit.
</details>
"""),
("md", """
## 3. Red cells: damaged in the tumour, and a normal dip

Red cells forced through the tumour's abnormal vessels are torn
(microangiopathic haemolysis; Ji 2020): the blood film shows fragments
(schistocytes) and burr cells, and reticulocytes rise as the marrow responds
(Medscape).
Bleeding and pooling of blood in the tumour add to the anaemia, which can be
severe (Mahajan 2017).

But haemoglobin also falls in **every** healthy term baby: from about
16.5 g/dL in cord blood to a normal low point of about 11 g/dL at 6–9 weeks
(Dallman). That is just when KMS is often diagnosed, at a mean age of about
2 months in the randomised trial (Ji 2022). So do not read a haemoglobin of
10–11 g/dL at 8 weeks as anaemia caused by KMS without comparing it with the
range for age.
"""),
("md", """
The next cell follows two versions of the newborn from lesson 02 for 60 days:
one with the tumour switched off (a healthy twin) and one with the active KHE.
"""),
("check", """
healthy = kt.simulate("khe-onset", days=60, severity=0.0)
affected = kt.simulate("khe-onset", days=60)

print("Healthy twin: ", kt.describe.describe_course(healthy, "hemoglobin"))
print("Active KHE:   ", kt.describe.describe_course(affected, "hemoglobin"))
"""),
("md", """
Both babies lost haemoglobin, the healthy twin by about 5 g/dL. Only the baby
with the tumour fell below the range for age, and only late (model output).
"""),
("md", """
## 4. PT and aPTT: the last tests to change

PT (prothrombin time) and aPTT (activated partial thromboplastin time)
measure how long plasma takes to clot in a tube. By a rule of
thumb from a teaching table (Arch Dis Child teaching table), both lengthen
once fibrinogen falls below about 0.8 g/L, and more so when the other factors
are also well below normal (approximate). Until then they can sit within the
range for age while fibrinogen is low and D-dimer is very high; published KMS
cases range from normal to markedly prolonged clotting times (reference pack
§3.1).

Read them against the range for age, too: a newborn's aPTT is longer than an
adult's and reaches adult values at about 3 months (Andrew 1987).
"""),
("widget", """
widgets.PredictReveal(
    "Day 21 of the newborn in lesson 02: platelets about 20 x10^9/L, fibrinogen just below "
    "its range for age and D-dimer far above it. What will his PT and aPTT show?",
    [
        "Both clearly prolonged",
        "Both within the range for age",
        "PT prolonged, aPTT within range",
        "Both shorter than normal",
    ],
    "Both are still within the range for age. His fibrinogen, about 1.6 g/L, is well above the "
    "level of about 0.8 g/L at which clotting times start to lengthen (Arch Dis Child teaching "
    "table), and his other factors are only moderately reduced (docs/model.md). So a normal PT "
    "and aPTT do not rule out a consumptive coagulopathy; fibrinogen and D-dimer show it "
    "earlier (reference pack §3.1).",
)
"""),
("check", """
print(affected.lab_panel(21))
"""),
("md", """
For contrast, the next cell gives the six-week-old a tumour twice as active as
usual. Fibrinogen now falls well below 0.8 g/L, and PT and aPTT both lengthen
clearly (model output).
"""),
("check", """
print(kt.simulate("khe-kms", days=1, severity=2.0).lab_panel(0))
"""),
("md", """
## 5. Interactive demo: the whole panel over time

**Guiding question:** In `khe-onset`, in what order do the six tests leave
their range for age? Then choose `nait` and `sepsis-dic` from the drop-down
list: which tests set them apart from KMS?

How to use the explorer:

- **Case** switches between all the teaching cases, including the look-alikes;
  the case's story appears under the list. Day 0 is birth for `khe-onset` and
  `rich`, and the day of presentation for the other cases.
- The **day slider** moves through the course; **Report units** switches
  between SI and conventional units in the report.
- Each of the six panels shows one test over time: the blue line is the
  course, the green band the range for age, and the dotted line the chosen day,
  where the marker carries the flag letter.
- The **Summary** line lists the abnormal tests in words (it is also the
  figure's alt text), and the lab report below gives every value with its flag.
"""),
("widget", """
panel_explorer = widgets.LabPanelExplorer("khe-onset", days=60)
panel_explorer
"""),
("md", """
The same `khe-onset` course in words, on five days:
"""),
("check", """
print(kt.describe.describe_day(affected, 7))
print(kt.describe.describe_day(affected, 14))
print(kt.describe.describe_day(affected, 21))
print(kt.describe.describe_day(affected, 40))
print(kt.describe.describe_day(affected, 60))
"""),
("md", """
In this model the order is: D-dimer and platelets (in the second week), then
fibrinogen (about day 21), then PT (about day 40), and haemoglobin last (model
output). The aPTT, with its wide range in young infants (Andrew 1987), has not
left its range by day 60.
"""),
("md", """
## 6. The look-alikes

Several conditions share part of the KMS picture. Before you compare their
reports, predict.
"""),
("widget", """
widgets.PredictReveal(
    "Which lab result separates neonatal alloimmune thrombocytopenia (NAIT) from KMS best?",
    [
        "The platelet count",
        "Fibrinogen and D-dimer",
        "Haemoglobin",
        "The aPTT",
    ],
    "Fibrinogen and D-dimer. In these teaching cases both bring platelets down to about 20 x10^9/L. In NAIT, "
    "maternal antibodies clear the baby's platelets but leave the clotting system alone, so "
    "fibrinogen and D-dimer stay within the range for age; in KMS fibrinogen is low and D-dimer "
    "far above the range (reference pack §6.1; Liu 2022). Read a newborn's D-dimer against its "
    "higher range for age (Toulon 2016).",
)
"""),
("md", """
The next five cells print each teaching case's lab report on day 0. Note each
infant's age on the first line of the report: the ranges shift with age.

**KHE with KMS** (`khe-kms`): a six-week-old with a firm, purple, growing thigh
mass and bruises.
"""),
("check", """
print(kt.simulate("khe-kms", days=1).lab_panel(0))
"""),
("md", """
**Sepsis with disseminated intravascular coagulation** (`sepsis-dic`): a
ten-day-old with fever and poor perfusion, oozing from puncture sites; no mass.
"""),
("check", """
print(kt.simulate("sepsis-dic", days=1).lab_panel(0))
"""),
("md", """
**Neonatal alloimmune thrombocytopenia** (`nait`): a well two-day-old with
petechiae; no mass.
"""),
("check", """
print(kt.simulate("nait", days=1).lab_panel(0))
"""),
("md", """
**Infantile hemangioma** (`infantile-hemangioma`): a well two-month-old with a
bright red, soft lump on the cheek.
"""),
("check", """
print(kt.simulate("infantile-hemangioma", days=1).lab_panel(0))
"""),
("md", """
**Rapidly involuting congenital hemangioma, RICH** (`rich`): a newborn with a
large tumour on the forearm, fully formed at birth.
"""),
("check", """
print(kt.simulate("rich", days=1).lab_panel(0))
"""),
("md", """
### Telling them apart

The table sums up the five reports and the clinical clues.

| Condition | Platelets | Fibrinogen | D-dimer | PT and aPTT | Other clues |
|---|---|---|---|---|---|
| KMS (KHE or tufted angioma) | very low, typically 5–30 ×10^9/L (Liu 2022; Li 2024; reference pack §6.1) | low, typically 0.5–1.5 g/L (Liu 2022; reference pack §6.1) | very high (Liu 2022) | normal to prolonged (reference pack §3.1) | an infant with a growing, firm, purple tumour (O'Rafferty 2015); about 1 in 10 has no skin sign (Croteau 2013) |
| Sepsis with DIC | low | low, or normal as an acute-phase protein | high | usually clearly prolonged | an ill infant: fever, shock, poor perfusion; no tumour (reference pack §6.1) |
| NAIT (newborn) or immune thrombocytopenia | low, on its own | normal | normal for age | normal | a well baby with no mass; NAIT in the first days of life (reference pack §6.1; approximate) |
| Infantile hemangioma | normal | normal | normal | normal | appears after birth; GLUT1-positive in 97% (North 2000); does not cause KMS (Ji 2020) |
| RICH | low for a short time | low | high | variable | already complete at birth; settles by itself, with platelets rising from about 2 weeks of age (Baselga 2008) |

The lab pattern narrows the list, but it rarely settles it alone. Sepsis with
DIC shares low platelets, low fibrinogen and a high D-dimer with KMS: an ill
infant with no tumour, and clotting times that are clearly long, point to
sepsis (reference pack §6.1; Medscape). RICH can look like KMS on day 1; the
history and the course tell them apart (Baselga 2008).
"""),
("md", """
RICH is the look-alike that fixes itself. The next cell follows the newborn
with RICH for six weeks without any treatment.
"""),
("check", """
rich = kt.simulate("rich", days=42)

print(kt.describe.describe_course(rich, "platelets", 0, 14))
print(kt.describe.describe_course(rich, "platelets", 14, 42))
print(kt.describe.describe_course(rich, "fibrinogen"))
"""),
("md", """
In the model the coagulopathy settles as the tumour involutes, as it did in all
7 infants of the published series (Baselga 2008). The model's involution rate is
illustrative (docs/model.md).
"""),
("md", """
> **Think!** An infant has very low platelets, low fibrinogen and a very high
> D-dimer, is otherwise well, and has no visible lump. Where do you look?

<details>
<summary>One way to answer</summary>

For a hidden tumour: 11% of infants with KHE in one large series had no skin
findings, and KMS occurred in 85% of retroperitoneal and in every intrathoracic
KHE (Croteau 2013). MRI is the imaging of choice (Drolet 2013). Sepsis should be
excluded too (Medscape).
</details>
"""),
("md", """
> **Think!** A newborn has a KMS-like panel on day 1 and a large tumour that was
> fully formed at birth. What would make you think of RICH rather than KHE, and
> what would you expect over the next weeks?

<details>
<summary>One way to answer</summary>

A tumour fully formed at birth, with a coagulopathy in the first week, fits RICH;
the picture is usually milder and settles by itself as the tumour involutes,
with platelets rising from about 2 weeks of age (Baselga 2008). A coagulopathy
that persists or worsens beyond the first weeks does not fit that pattern, and
should make you think again of KHE or tufted angioma (Baselga 2008).
</details>
"""),
("md", """
## Key points

- In the tumour, thrombin uses up fibrinogen and clotting factors; fibrinogen averaged about 0.8 g/L at diagnosis in one series (Liu 2022; O'Rafferty 2015).
- Fibrinolysis makes D-dimer very high, roughly a hundred times the upper limit (Liu 2022; approximate); read it against the higher range in young infants (Toulon 2016) and check whether it is in FEU or DDU.
- Anaemia comes from red-cell damage, bleeding and pooling in the tumour (Ji 2020; Medscape; Mahajan 2017), but every healthy baby reaches a low point of about 11 g/dL at 6–9 weeks (Dallman): read haemoglobin against the range for age.
- A teaching table gives a rule of thumb (Arch Dis Child teaching table): PT and aPTT lengthen mainly once fibrinogen is below about 0.8 g/L. A normal PT and aPTT therefore do not rule out consumption (reference pack §3.1).
- Low platelets + low fibrinogen + very high D-dimer + a tumour point to KMS; an ill infant with long clotting times to sepsis with DIC; isolated low platelets in a well newborn to NAIT; normal labs to infantile hemangioma; a self-limiting picture at birth to RICH (reference pack §6.1; Baselga 2008).
"""),
]

# ---------------------------------------------------------------------------
# Lesson 04: Treatment and recovery
# ---------------------------------------------------------------------------
LESSON_04 = [
("md", """
# Lesson 04 · Treatment and recovery

> **Educational use only, not for clinical decisions.**
> The infants and treatment courses in this lesson are simulated for teaching.
> Nothing here is a dose, a plan or a forecast for a real patient.

**Time:** about 40 minutes (20 minutes of reading, 20 minutes with the model).

**Before you start:** Lessons 02 and 03 (platelet trapping, consumption of clotting factors).

**Learning objectives.** By the end of this lesson you will be able to:

1. **Rank** the treatments for KMS by their evidence, from sirolimus with prednisolone to options that are avoided.
2. **Explain** why platelets recover within days but fibrinogen only over weeks.
3. **Explain** why platelets are not transfused just because the count is low.
4. **Interpret** a virtual trial honestly: what agreement with a real trial does and does not show.
5. **Describe** why treatment lasts months, how often KMS rebounds, and the outlook today.
"""),
("md", """
Run the next cell first. It loads the package (as `kt`) and its interactive
explorers (as `widgets`).
"""),
("check", IMPORTS),
("md", """
## 1. Treat the tumour, not the numbers

The blood counts recover only when the tumour stops trapping platelets and
using up clotting factors, so treatment is aimed at the tumour; blood products
are kept for bleeding and procedures (O'Rafferty 2015; Ji 2020). KMS is rare
and no single regimen suits every infant: treatment is planned by an
experienced team around the infant's tumour and bleeding risk (Cleveland
Clinic 2026; Drolet 2013).
"""),
("md", """
## 2. The options and their evidence

The table runs from the best-supported option to those that are avoided.

| Option | Role today | Evidence |
|---|---|---|
| **Sirolimus + prednisolone** | first choice in most current practice | the only randomised trial: a lasting platelet count above 100 ×10^9/L by week 4 was reached by 35 of 37 infants (94.6%) on both drugs and by 24 of 36 (66.7%) on sirolimus alone (Ji 2022) |
| **Sirolimus alone** | first-line, especially for milder disease | improvement in almost all of 52 patients (Ji 2017); durable response in 92.2% of 167 followed for a median of 56 months (Int J Cancer 2023) |
| **Vincristine** | earlier consensus first choice (Drolet 2013); now mostly an option when sirolimus is not enough (Cleveland Clinic 2026) | 15 of 15 responded over weeks, 4 of them relapsing later (Haisley-Royster 2002); complete remission in 26 of 37 steroid-resistant KHE (Wang 2015); no clear difference from sirolimus at 6 months in a US cohort (Borst 2024) |
| **Vincristine + aspirin + ticlopidine (VAT)** | an option, used more in Europe | 11 patients with a mean platelet count of 10 ×10^9/L at the start, all alive after a mean of 4.5 years (Fernandez-Pineda 2013) |
| **Corticosteroids alone** | an add-on, rarely enough by themselves | 5 of 15 responded to steroids alone, about a third (Ryan 2010) |
| **Propranolol** | not used alone | 4 of 11 (36%) responded (Chiu 2012); not recommended alone (Ji 2020) |
| **Interferon-alpha** | avoided in infants | spastic diplegia in 5 of 26 treated infants, persisting in 3 (Barlow 1998); not recommended under 1 year (Ji 2020) |
| **Embolization** | a bridge to drugs; the effect is temporary | partial responses in 10 children, a mean of 2.8 procedures each (Ryan 2010; Drolet 2013) |
| **Surgery** | curative if the whole tumour can be removed, which is rarely possible | infiltrating tumour and bleeding risk (Drolet 2013; Wu 2020) |
| **Radiation** | historical, or last resort | low doses have shrunk the tumour in case reports (White, RegionalDerm), but radiation brings side effects and a higher risk of cancer later in life (Cleveland Clinic 2026) |
| **Heparin** | not recommended | the platelets are lost mainly to trapping, which heparin does not stop (heparin tracer study); it may add to bleeding (docs/model.md; approximate) |
"""),
("md", """
> **Think!** Propranolol is the usual drug for infantile hemangioma. Why would
> you not expect it to work as well for KHE?

<details>
<summary>One way to answer</summary>

They are different tumours: infantile hemangioma is GLUT1-positive and does not
cause KMS, while KHE is GLUT1-negative and carries lymphatic markers
(North 2000; Ji 2020). A drug that works for one need not work for the other,
and in KHE and tufted angioma propranolol helped only 4 of 11 infants
(Chiu 2012). That is why it is not recommended on its own (Ji 2020).
</details>
"""),
("md", """
## 3. Which recovers first?
"""),
("widget", """
widgets.PredictReveal(
    "An infant with KMS starts sirolimus plus prednisolone today. Which returns to the range "
    "for age first?",
    [
        "The platelet count",
        "Fibrinogen",
        "Both together, because the same tumour causes both",
        "Haemoglobin",
    ],
    "The platelet count, within days; fibrinogen follows over a few weeks "
    "(Cleveland Clinic 2026), and the trial reported fibrinogen separately from the platelet "
    "response (Ji 2022). "
    "In the model, trapping follows the tumour's activity, which the drugs damp within days, "
    "while consumption follows the tumour's bulk, which shrinks over weeks. That split is a "
    "modelling assumption chosen to reproduce the observed timing, not a measured mechanism "
    "(docs/model.md).",
)
"""),
("md", """
The next cell treats the six-week-old from lesson 00 (`khe-kms`, day 0 =
diagnosis) with sirolimus and prednisolone from day 0, and follows her for
12 weeks.
"""),
("check", """
treated = kt.simulate("khe-kms", ["sirolimus@0", "prednisolone@0"], days=84)

print(kt.describe.describe_course(treated, "platelets", 0, 7))
print(kt.describe.describe_course(treated, "fibrinogen", 0, 7))
print("First day platelets >= 150 x10^9/L:", treated.first_day("platelets", lambda v: v >= 150))
print("First day fibrinogen >= 1.5 g/L:   ", treated.first_day("fibrinogen", lambda v: v >= 1.5))
"""),
("md", """
Platelets passed 150 ×10^9/L within about two weeks, but fibrinogen reached
1.5 g/L only weeks later (the two days printed above are model output). Why the gap? The next cell prints the
model's two tumour variables (1 = a typical untreated KMS). After a week,
activity, which drives trapping, has almost gone; bulk, which drives
consumption, has shrunk by only about a fifth (model output).
"""),
("check", """
print(f"Day 7:  tumour activity {treated.tumour_activity[treated.index(7)]:.2f}, "
      f"tumour bulk {treated.tumour_bulk[treated.index(7)]:.2f}")
print(f"Day 28: tumour activity {treated.tumour_activity[treated.index(28)]:.2f}, "
      f"tumour bulk {treated.tumour_bulk[treated.index(28)]:.2f}")
"""),
("md", """
## 4. Interactive demo: plan a treatment

**Guiding question:** Which plan brings the platelets above 100 ×10^9/L by
day 28? Compare sirolimus alone, sirolimus with prednisolone, and propranolol
alone, and watch fibrinogen on each. Then add a platelet transfusion on day 2:
does it change anything by day 28?

How to use the planner:

- Tick a treatment and choose the day it starts; the course is recalculated at
  once. Treatments can only be started here, not stopped.
- The figure shows platelets, fibrinogen, D-dimer and haemoglobin: your plan as
  a solid blue line, the untreated course as a dashed line, and the range for
  age as a green band.
- The **day slider** moves the dotted line on the figure and chooses the day of
  the lab report under it.
- The **Summary** line describes your plan's platelet and fibrinogen course up
  to that day in words (it is also the figure's alt text), and **Cautions**
  lists the main harms the module records for each ticked treatment, with a
  source.
"""),
("widget", """
planner = widgets.TreatmentPlanner("khe-kms", days=84)
planner
"""),
("md", """
**Try also:** vincristine alone (slower: responses take weeks; Haisley-Royster
2002), embolization alone (a partial, temporary improvement; Ryan 2010), and
heparin (see the Cautions). The model shows speed and direction, not doses or
harms (docs/model.md).
"""),
("md", """
## 5. Why not just give platelets?

A count of 15 ×10^9/L looks alarming, and a platelet transfusion of 5–10 mL/kg
would raise a child's count by about 50–100 ×10^9/L if nothing were consuming
the platelets (AccessPediatrics). In KMS the tumour traps the new platelets
within hours, so the rise is brief, and the extra platelets can make the tumour
swell and hurt. Platelets are therefore given for active bleeding or before a procedure,
not because of the number (Ji 2020; O'Rafferty 2015).
"""),
("widget", """
widgets.PredictReveal(
    "A platelet transfusion on day 2 raises the count from about 20 to about 95 x10^9/L. "
    "What will the count be one day later?",
    [
        "Still about 95, because transfused platelets live for days",
        "About halfway, around 60",
        "Back to about 20",
        "Higher than 95, because the marrow joins in",
    ],
    "Back to about 20. While the tumour is active it traps transfused platelets as fast as the "
    "infant's own, so the rise lasts hours, not days, and the extra platelets can make the "
    "tumour swell (Ji 2020; O'Rafferty 2015). In the model the swelling is an assumption of "
    "+30% activity fading over about 2 days (docs/model.md).",
)
"""),
("check", """
transfused = kt.simulate("khe-kms", ["platelet-transfusion@2"], days=5)
untreated = kt.simulate("khe-kms", days=5)

print("Day 1.75, just before:", kt.describe.format_value("platelets", transfused.labs_at(1.75)["platelets"]))
print("Day 2, just after:    ", kt.describe.format_value("platelets", transfused.labs_at(2)["platelets"]))
print("Day 2.25, 6 h later:  ", kt.describe.format_value("platelets", transfused.labs_at(2.25)["platelets"]))
print("Day 3, a day later:   ", kt.describe.format_value("platelets", transfused.labs_at(3)["platelets"]))
print("Day 4, with / without the transfusion:",
      kt.describe.format_value("platelets", transfused.labs_at(4)["platelets"]), "/",
      kt.describe.format_value("platelets", untreated.labs_at(4)["platelets"]))
print(f"Tumour activity: {transfused.tumour_activity[transfused.index(1.75)]:.2f} before, "
      f"{transfused.tumour_activity[transfused.index(3)]:.2f} a day after the transfusion")
"""),
("md", """
The count was back where it started within a day, and two days later it was
slightly *lower* than without the transfusion, because the tumour had swollen
(model output; the swelling is a model assumption, docs/model.md). The useful
window is a few hours: enough to cover a procedure or to stop active bleeding,
which is exactly when transfusion is advised (Ji 2020).
"""),
("md", """
> **Think!** The nurse calls: a well, non-bleeding infant on day 3 of sirolimus
> and prednisolone has platelets of 35 ×10^9/L. What do you say about a
> platelet transfusion?

<details>
<summary>One way to answer</summary>

No transfusion just for the number: she is not bleeding and needs no procedure
(Ji 2020). The transfused platelets would be trapped within hours and could
make the tumour swell (O'Rafferty 2015). Her count should rise over the coming
days as the drugs calm the tumour (Ji 2022; Cleveland Clinic 2026). Keep
watching for bleeding.
</details>
"""),
("md", """
## 6. A virtual trial

The model can run a *virtual cohort*: 2,000 infants like the six-week-old, each
with her own tumour activity and her own sensitivity to drugs, drawn at random
(docs/model.md). Because the random draws are seeded, the same 2,000 infants
receive each plan, something no real trial can do. The response test is a
simpler version of the trial's endpoint, a lasting count above 100 ×10^9/L by
week 4 (Ji 2022): the model checks only for a count of at least 100 on day 28
(docs/model.md).
"""),
("check", """
sirolimus_alone = kt.simulate_cohort("khe-kms", n=2000, seed=0, treatments=["sirolimus@0"], days=28)
combination = kt.simulate_cohort("khe-kms", n=2000, seed=0, treatments=["sirolimus@0", "prednisolone@0"], days=28)

print("Virtual cohort, sirolimus alone:        ", round(sirolimus_alone.response_rate("platelets>=100@28"), 3))
print("Virtual cohort, sirolimus + prednisolone:", round(combination.response_rate("platelets>=100@28"), 3))
print("Ji 2022 trial, sirolimus alone:          ", round(24 / 36, 3), "(24/36)")
print("Ji 2022 trial, sirolimus + prednisolone: ", round(35 / 37, 3), "(35/37)")
"""),
("md", """
### Read this agreement honestly

The virtual and real percentages are close **by construction**. The drug
strengths and the spread of drug sensitivity in the model were set so that the
cohort would reproduce these two percentages (docs/model.md). Matching the
numbers the model was fitted to shows that the fit worked, not that the model
is right. Three more cautions:

- The trial arms were small: with 24 responders out of 36, the true rate could
  plausibly lie anywhere from about 50% to 80% (docs/model.md; derived).
- The trial required a *durable* response; the model looks at day 28 only
  (docs/model.md).
- Real infants differ in ways the model leaves out, such as tumour site, age,
  drug levels and adherence (docs/model.md).
"""),
("md", """
> **Think!** What result would count as real evidence that the model's
> mechanism is right?

<details>
<summary>One way to answer</summary>

A correct prediction of data that played no part in building it: for example,
the timing of fibrinogen recovery in a new cohort, or the response to a plan
the model was never tuned to. Even then the model would remain a teaching tool,
not a forecast for one infant (docs/model.md).
</details>
"""),
("md", """
## 7. Months, not weeks: relapse and rebound

Treatment continues long after the platelet count is normal: for at least
12 months in the trial (Ji 2022), and in general until the tumour has settled
and bleeding and clotting problems are no longer a threat (Cleveland Clinic
2026). Stopping carries a risk: in a long-term cohort of 167 patients, rebound
after sirolimus was stopped was reported in 17.3% (Int J Cancer 2023), and
older series reported recurrence in more than half after treatment ended
(Borst 2024).

In the model, an effective drug calms the tumour within days and makes it
shrink over months; what is left when the drug stops grows back slowly. After a
year of sirolimus the typical simulated infant stays well, while infants whose
tumour responded only just enough rebound within months: about one in five of
a simulated cohort after one year of sirolimus, about one in eight after two
(model output; docs/validation.md, checkpoints S9 and S10). In the planner, give a drug a stop
day ("until day") and a course length of one or two years to watch this.
"""),
("md", """
> **Think!** A 14-month-old has had normal platelets and fibrinogen for 10 months
> on sirolimus, and the family asks to stop. What would you want to know first?

<details>
<summary>One way to answer</summary>

Whether the tumour itself has settled on imaging and examination, not just the
blood counts, and whether the family can return quickly for blood tests if the
lump swells or bruising comes back, because about 1 in 6 infants rebound after
stopping (Int J Cancer 2023). The decision belongs to the infant's specialist
team (Cleveland Clinic 2026).
</details>
"""),
("md", """
## 8. The outlook today

Published death rates vary widely with the era and with which infants were
counted. Older reports put them at 10–40%, mostly from uncontrolled bleeding
(Hall 2001; Szlachetka 1998). With modern treatment, 2 of 159 infants with KHE
or tufted angioma (1.3%) died in a 17-centre US cohort from 2005 to 2020, in
which 40% had KMS (Borst 2024), and 1 of 15 in an earlier Toronto series
(Ryan 2010). The 30% still quoted on a patient information page is the
historical figure (Cleveland Clinic 2026).
"""),
("md", """
## Key points

- Treat the tumour: sirolimus with prednisolone is the best-supported first choice, 94.6% against 66.7% with sirolimus alone in the only randomised trial (Ji 2022); vincristine, the former consensus choice (Drolet 2013), is now mostly used when sirolimus is not enough (Cleveland Clinic 2026).
- Steroids alone help about a third (Ryan 2010), propranolol is not used alone (Chiu 2012; Ji 2020), interferon is avoided in infants (Barlow 1998), and heparin is not recommended (heparin tracer study).
- Platelets recover within days and clotting proteins over weeks (Cleveland Clinic 2026); the model reproduces this with a fast *activity* and a slow *bulk*, an assumption (docs/model.md).
- Platelet transfusion gives a rise of hours and can make the tumour swell: keep it for bleeding or procedures (Ji 2020; O'Rafferty 2015).
- A virtual cohort that matches a trial it was calibrated to proves only that the calibration worked (docs/model.md).
- Treatment lasts a year or more, and about 1 in 6 rebound after stopping sirolimus (Int J Cancer 2023). Death rates vary between studies: historically 10–40%, about 1–7% in modern series (Hall 2001; Szlachetka 1998; Borst 2024; Ryan 2010).
"""),
]

LESSONS = [
    ("02_platelet_trapping.ipynb", "l02", LESSON_02),
    ("03_consuming_clotting_factors.ipynb", "l03", LESSON_03),
    ("04_treatment_and_recovery.ipynb", "l04", LESSON_04),
]

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
FORBIDDEN_CODE = re.compile(r"^\s*(def |class |async def )|^\s*\w+\s*=\s*lambda\b", re.MULTILINE)


def _cell(kind, source):
    if kind in ("code", "check", "widget"):
        if FORBIDDEN_CODE.search(source):
            sys.exit(f"code cell defines a function, class or named lambda:\n{source}")
        tags = {"check": CHECK, "widget": IGNORE}.get(kind)
        return new_code_cell(source, metadata={"tags": list(tags)} if tags else {})
    if kind == "quiz":
        return new_markdown_cell(source, metadata={"tags": ["quiz"]})
    if kind == "quizwidget":
        return new_code_cell(source, metadata={"tags": list(IGNORE)})
    return new_markdown_cell(source)


def _references(filename, cells):
    # Whitespace is normalised so that a citation broken over two lines is found.
    text = " ".join("\n".join(inspect.cleandoc(body) for kind, body in cells).split())
    cited = sorted((full for short, full in REFERENCES.items() if short in text), key=str.lower)
    if not cited:
        sys.exit(f"{filename}: no citation from REFERENCES found in the text")
    # Every bracketed piece that names a year or the reference pack must contain
    # a REFERENCES key, so that no citation is missing from the References list.
    # Checked in the prose: Markdown cells and the explanations of PredictReveal
    # cells (code calls such as simulate_cohort(n=2000) are not citations).
    prose = " ".join(" ".join(inspect.cleandoc(body).split()) for kind, body in cells if kind in ("md", "widget"))
    for group in re.findall(r"\(([^()]*)\)", prose):
        for piece in group.split(";"):
            needs_key = re.search(r"\b(19|20)\d\d\b", piece) or "reference pack" in piece
            if needs_key and not any(short in piece for short in REFERENCES):
                sys.exit(f"{filename}: citation {piece.strip()!r} has no entry in REFERENCES")
    return "## References\n\n" + "\n".join(f"- {full}" for full in cited), len(cited)


def write_notebook(filename, prefix, cells):
    """Write one notebook from (kind, body) cells plus its References section; return its path."""
    references, _n = _references(filename, cells)
    nb = new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    for number, (kind, body) in enumerate([*cells, ("md", references)], start=1):
        cell = _cell(kind, inspect.cleandoc(body))
        cell.id = f"{prefix}-{number:02d}"
        nb.cells.append(cell)
    path = NOTEBOOKS / filename
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"wrote {path.relative_to(NOTEBOOKS.parent)} ({len(nb.cells)} cells)")
    return path


def quiz_cells(filename):
    """The quiz heading and the quiz cell that end every lesson."""
    return [("quiz", QUIZ), ("quizwidget", QUIZ_CODE.format(lesson=int(filename[:2])))]


def build():
    return [write_notebook(filename, prefix, [*cells, *quiz_cells(filename)]) for filename, prefix, cells in LESSONS]


def execute(path):
    # Widget state is not stored: it would embed every figure as base64 in the
    # notebook metadata. The widget outputs fall back to their text form
    # ("run the notebook to use it") until the cells are run.
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
         "--ExecutePreprocessor.store_widget_state=False", str(path)],
        check=True,
    )
    # nbconvert records run times and the full language_info; keep only what
    # is deterministic so that a rebuild without changes gives the same file.
    nb = nbformat.read(path, as_version=4)
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    sys.exit(f"{path.name}: cell {cell.id} wrote to stderr:\n{output.get('text')}")
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"executed {path.relative_to(NOTEBOOKS.parent)}")


if __name__ == "__main__":
    paths = build()
    if "--no-execute" not in sys.argv[1:]:
        for p in paths:
            execute(p)

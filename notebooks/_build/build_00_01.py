"""Write lessons 00 and 01 as notebooks, execute them and tidy their metadata.

Run from anywhere:

    python notebooks/_build/build_00_01.py               # write, execute, tidy
    python notebooks/_build/build_00_01.py --no-execute  # write only (no outputs)

The lesson text lives here, so edit this file (not the .ipynb files) and run it
again. Cell ids, metadata and outputs are deterministic, so a rebuild without
content changes gives byte-identical notebooks.

Writing rules for the text (see the project's medical reference pack):
- every medical statement and every number carries a short citation, and each
  short citation used must have an entry in REFERENCES below (the build stops
  if a notebook cites nothing from it or if REFERENCES has a key the text
  cites in a different form);
- figures the pack marks as recalled from memory are called "approximate";
- British spelling in prose ("tumour", "haemoglobin", "anaemia"); disease names
  keep the module's spelling ("kaposiform hemangioendothelioma",
  "infantile hemangioma");
- code cells only import from kms_teach and call it.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_02_04 import QUIZ, QUIZ_CODE  # noqa: E402  (one text for every lesson's quiz)

# Short citation as written in the text -> full citation. Sources come from the
# reference pack (its Appendix B where possible; a few, such as Dallman and the
# trial registration text, are cited only in the pack's body) and the two seed
# articles; nothing from outside the pack. A notebook's References section lists
# every entry whose short form appears in its text, in alphabetical order.
REFERENCES = {
    "Andrew 1987": "Andrew M, Paes B, Milner R, et al. Development of the human coagulation system in the full-term infant. *Blood* 1987;70:165-72.",
    "Baselga 2008": "Baselga E, Cordisco MR, Garzon M, et al. Rapidly involuting congenital haemangioma associated with transient thrombocytopenia and coagulopathy. *Br J Dermatol* 2008;158:1363-70.",
    "Borst 2024": "Borst AJ, Eng W, Griffin M, et al. Treatment practices and response in kaposiform hemangioendothelioma: a multicenter cohort study. *Pediatr Blood Cancer* 2024.",
    "Chiu 2012": "Chiu YE, Drolet BA, Blei F, et al. Variable response to propranolol treatment of kaposiform hemangioendothelioma, tufted angioma, and Kasabach-Merritt phenomenon. *Pediatr Blood Cancer* 2012;59:934-8. (Citation details approximate.)",
    "Cleveland Clinic 2026": "Cleveland Clinic. Kasabach-Merritt syndrome. Health Library, patient information, medically reviewed 02/2026.",
    "Croteau 2013": "Croteau SE, Liang MG, Kozakewich HP, et al. Kaposiform hemangioendothelioma: atypical features and risks of Kasabach-Merritt phenomenon in 107 referrals. *J Pediatr* 2013;162:142-7.",
    "Dallman": "Dallman PR. Haemoglobin values of healthy term infants (reference table). In: Nathan DG, Oski FA, eds. *Hematology of Infancy and Childhood*. (Chapter and edition not recorded in the reference pack.)",
    "Dompmartin 2008": "Dompmartin A, et al. Association of localized intravascular coagulopathy with venous malformations. *Arch Dermatol* 2008;144:873-7.",
    "Drolet 2013": "Drolet BA, Trenor CC 3rd, Brandão LR, et al. Consensus-derived practice standards plan for complicated kaposiform hemangioendothelioma. *J Pediatr* 2013;163:285-91. (Some recommendations are summarised from memory in the reference pack: approximate.)",
    "Hall 2001": "Hall GW. Kasabach-Merritt syndrome: pathogenesis and management. *Br J Haematol* 2001;112:851-62. (Author name recalled in the reference pack: approximate.)",
    "Int J Cancer 2023": "Long-term outcomes of sirolimus treatment for kaposiform hemangioendothelioma: continuing successes and ongoing challenges. *Int J Cancer* 2023;153:600-8 (doi 10.1002/ijc.34509). (Author list not captured in the reference pack.)",
    "Ji 2017": "Ji Y, et al. Sirolimus for the treatment of progressive kaposiform hemangioendothelioma: a multicenter retrospective study. *Int J Cancer* 2017;141:848-55.",
    "Ji 2020": "Ji Y, Chen S, Yang K, Xia C, Li L. Kaposiform hemangioendothelioma: current knowledge and future perspectives. *Orphanet J Rare Dis* 2020;15 (doi 10.1186/s13023-020-1320-1).",
    "Ji 2022": "Ji Y, et al. Sirolimus plus prednisolone vs sirolimus monotherapy for kaposiform hemangioendothelioma: a randomized clinical trial. *Blood* 2022;139:1619-30.",
    "Ji trial registration": "Registration text of the randomised trial of sirolimus plus prednisolone versus sirolimus alone (Ji Y and colleagues, West China Hospital), which describes clinically significant KMP as platelets generally below 30 ×10^9/L.",
    "Li 2024": "Li M, et al. Treatment experience for different risk groups of kaposiform hemangioendothelioma. *Front Oncol* 2024;14:1336763.",
    "Liu 2022": "Liu Q, Xiong N, Gong X, et al. Cocktail therapy with prednisolone, vincristine and sirolimus for Kasabach-Merritt phenomenon in 10 infants. *Exp Ther Med* 2022;24:621.",
    "Mahajan 2017": "Mahajan P, Margolin J, Iacobas I. Kasabach-Merritt phenomenon: classic presentation and management options. *Clin Med Insights Blood Disord* 2017;10:1179545X17699849.",
    "Monagle 2006": "Monagle P, Barnes C, Ignjatovic V, et al. Developmental haemostasis: impact for clinical haemostasis laboratories. *Thromb Haemost* 2006;95:362-72. (Values recalled in the reference pack: approximate.)",
    "North 2000": "North PE, et al. GLUT1: a newly discovered immunohistochemical marker for juvenile hemangiomas. *Hum Pathol* 2000;31:11-22.",
    "O'Rafferty 2015": "O'Rafferty C, O'Regan GM, Irvine AD, Smith OP. Recent advances in the pathobiology and management of Kasabach-Merritt phenomenon. *Br J Haematol* 2015;171:38-51.",
    "reference pack §1.1": "kms-teach medical reference pack, section 1.1 and misconception 16: kaposiform hemangioendothelioma is not Kaposi sarcoma and is not linked to HHV-8; \"Kaposi's hemangioendothelioma\" is a wrong name (secondary source).",
    "reference pack §3.1": "kms-teach medical reference pack, section 3.1: summary of reviews and case reports on PT and aPTT in Kasabach-Merritt phenomenon (secondary source).",
    "reference pack §6.1": "kms-teach medical reference pack, section 6.1: table of conditions that resemble Kasabach-Merritt phenomenon (secondary source; NAIT details approximate).",
    "Ryan 2010": "Ryan C, Price V, John P, et al. Kasabach-Merritt phenomenon: a single centre experience. *Eur J Haematol* 2010;84:97-104.",
    "Szlachetka 1998": "Szlachetka 1998, review of about 205 reported cases of Kasabach-Merritt syndrome, as cited by OMIM/MedGen (original not checked in the reference pack).",
    "Toulon 2016": "Toulon P, et al. Age dependency for coagulation parameters in paediatric populations. *Thromb Haemost* 2016;116:9-16.",
    "White, RegionalDerm": "White GM. Kasabach-Merritt syndrome. RegionalDerm.com (web page for patients and clinicians).",
}

# ---------------------------------------------------------------------------
# Lesson 00: Start here
# ---------------------------------------------------------------------------
LESSON_00 = [
("md", """
# Lesson 00 · Start here

> **Educational use only, not for clinical decisions.**
> The infants, numbers and reference ranges in these lessons are simplified for
> teaching. Do not use them to diagnose, treat or dose a real patient.

**Time:** about 15 minutes (10 minutes of reading, 5 minutes of exercises).

**Learning objectives.** By the end of this lesson you will be able to:

1. **Run** the cells of a lesson in order, and **restart** the kernel and run every cell again.
2. **Name** the keys that move between the lessons' controls and operate them without a mouse.
3. **Define** Kasabach-Merritt phenomenon and **name** the two tumours that cause it.
4. **Interpret** the flags (L, H, LL, HH) and the "~" mark on a simulated lab report, and **convert** a result between SI and conventional units.
"""),
("md", """
## How the lessons work

Each lesson is a Jupyter notebook built from cells. Text cells, like this one,
explain one idea at a time. Code cells (the grey boxes marked `[ ]:`) ask the
`kms_teach` package to simulate an infant or print a report. You never need to
write code.

To run a cell, select it (click it, or move to it with the arrow keys) and press
**Shift+Enter**. The result appears under the cell and the next cell is
selected. Work from the top down: later cells rely on earlier ones, such as the
line `import kms_teach as kt`.
"""),
("md", """
### Starting again

An error such as `NameError: name 'kt' is not defined` means a cell was skipped
or the kernel (the Python process behind the notebook) was restarted. Choose
**Kernel → Restart Kernel and Run All Cells…** to run the whole lesson again
from a clean start. The lessons give the same results every time they run, so
nothing is lost.

On Binder your session is temporary: it shuts down when left idle, and your
edits go with it. Use **File → Download** to keep a copy.
"""),
("md", """
### Widgets and the keyboard

Later lessons contain *widgets*: sliders, drop-down lists and buttons that
re-run the simulation when you change them, for example the day a treatment
starts. Every widget works from the keyboard:

- **Tab** moves to the next control and **Shift+Tab** to the previous one.
- The **arrow keys** move a slider one step at a time, and choose an item in a drop-down list.
- **Enter** or **Space** presses the button that has the focus.

Every figure has a written summary of what it shows just under it, so a
screen reader (or anyone who prefers text) gets the same information. Lab
reports are plain-text tables, and each flag is written both as a symbol and as
a word.
"""),
("md", """
## The lessons, in order

| Lesson | What it covers |
|---|---|
| 00 Start here | How the lessons work, Kasabach-Merritt phenomenon on one page, reading a lab report (this lesson) |
| 01 The tumour and the patient | The tumours behind KMS and how they differ from infantile hemangioma, who develops KMS, warning signs and outlook |
| 02 Platelet trapping: why the count falls within days | How the tumour takes platelets out of the blood, explored with an interactive model |
| 03 Consuming the clotting factors, and the look-alikes | Fibrinogen, D-dimer, haemoglobin and clotting times, and the conditions that resemble KMS |
| 04 Treatment and recovery | Treatments and transfusions in simulated infants, how the blood counts recover, and the outlook today |

Every lesson opens with objectives and a time estimate, asks you to predict
before you run ("Think!"), and ends with key points, a short quiz and its
references.
"""),
("md", """
### How facts are referenced

Every medical statement and every number carries a short citation in brackets,
such as (Croteau 2013). The full reference is in the **References** section at
the end of the lesson. A few figures in our source material were recalled from
memory rather than re-checked against the original paper: the text calls them
*approximate*, and lab reports mark such reference ranges with "~".

Run the next cell. It loads the package (as `kt`) and prints the notice that
applies to everything in this module.
"""),
("code", """
import kms_teach as kt

print(kt.NOTICE)
"""),
("md", """
## Kasabach-Merritt phenomenon on one page

### What it is

Kasabach-Merritt phenomenon (KMP), also called Kasabach-Merritt syndrome (KMS),
is a dangerous bleeding and clotting disorder of infancy. The two names mean the
same thing; these lessons use KMS. It is caused by a vascular tumour, either a
**kaposiform hemangioendothelioma (KHE)** or a **tufted angioma (TA)** (Ji 2020;
O'Rafferty 2015).

The tumour's abnormal vessels catch and activate platelets. Clotting inside the
tumour then uses up fibrinogen and other clotting factors, and as those clots
are broken down, D-dimer rises in the blood (O'Rafferty 2015; Ji 2020). Red
cells are damaged on their way through the tumour, so the infant often becomes
anaemic (Mahajan 2017; Ji 2020).

The common infantile hemangioma does **not** cause KMS (Ji 2020; O'Rafferty 2015).
"""),
("md", """
### Who gets it

KHE is rare: at any one time about 0.9 in every 100,000 children in
Massachusetts had one (Croteau 2013). It became apparent in infancy in 93% of
cases, and in the newborn period in 60% (Croteau 2013).

How often KMS follows depends on the tumour and on the study. In the largest
KHE series, 71% of infants (about 7 in 10) developed it (Croteau 2013); other
KHE cohorts report between 61% and 78% (Ji 2017; Li 2024; Int J Cancer 2023).
For TA the figure usually quoted is roughly 1 in 10 (Cleveland Clinic 2026), but
it comes from a patient information page and the original TA series were not
re-checked for this module: treat it as approximate.

KMS usually starts in the first months of life: platelets first fell at a median
age of 27.8 days in one series (Li 2024), and the mean age at onset was about
2 months in the only randomised trial (Ji 2022). Girls and boys are affected
about equally (Borst 2024).
"""),
("md", """
### What you see

Usually a lump in or under the skin that grows and turns firm, warm, purple and
tender, with bruises and pinpoint bleeding spots (petechiae) as the platelets
fall (O'Rafferty 2015; Cleveland Clinic 2026; White, RegionalDerm). About
1 infant in 10 has nothing to see on the skin, because the tumour lies deep
inside the body (Croteau 2013; Cleveland Clinic 2026). Lesson 01 looks at the tumour in
detail.
"""),
("md", """
### The lab picture

The table sets typical published values at diagnosis beside the range for a
healthy infant.

| Test | Typical at diagnosis of KMS | Healthy infant of about one month |
|---|---|---|
| Platelets | median 24 ×10^9/L (Li 2024); mean 22 ± 15 ×10^9/L (Liu 2022) | 150–450 ×10^9/L (Mahajan 2017) |
| Fibrinogen | mean 0.82 ± 0.27 g/L (Liu 2022) | about 1.6–3.8 g/L (Andrew 1987) |
| D-dimer | mean about 38.6 mg/L; the paper does not say whether in FEU or DDU (Liu 2022) | about 0.11–0.42 mg/L FEU (Monagle 2006; approximate) |
| Haemoglobin | often low (Mahajan 2017; Ji 2020) | falls to a normal low point of about 11 g/dL at 6–9 weeks (Dallman) |
| PT and aPTT (prothrombin time, activated partial thromboplastin time) | anywhere from normal to clearly prolonged (reference pack §3.1) | depend on age (Andrew 1987) and on the laboratory's reagents (Toulon 2016) |

So the signature is **very low platelets, low fibrinogen and a D-dimer roughly
a hundred times the upper limit** (derived from Liu 2022 and Monagle 2006;
approximate). Normal clotting times do not rule KMS out (reference pack §3.1).
"""),
("md", """
### Definitions differ between studies

There is no single agreed cut-off, so check which definition a paper used:

- A 17-centre US cohort counted an infant as having KMS when platelets were at
  or below 50 ×10^9/L and, in addition, fibrinogen was under 1.5 g/L, D-dimer
  was over twice the upper limit of normal, or both (Borst 2024).
- The group that ran the randomised trial describes clinically significant KMS
  as platelets generally below 30 ×10^9/L (Ji trial registration).
- That trial counted a *response* as platelets durably above 100 ×10^9/L at
  week 4 (Ji 2022).

Some of the spread in published percentages comes from these differences.
"""),
("md", """
### Treatment in brief

Treatment is aimed at the tumour, because the blood counts recover only when it
stops trapping platelets (O'Rafferty 2015; Ji 2020). Sirolimus, usually with a
short course of prednisolone, is now the first choice in most expert practice
(Ji 2020; Ji 2022). In the only randomised trial, the platelet count was still
above 100 ×10^9/L at week 4 in 35 of 37 infants (94.6%) on both drugs, against
24 of 36 (66.7%) on sirolimus alone (Ji 2022). Vincristine, the earlier
consensus choice (Drolet 2013), remains an option when sirolimus is not enough
(Cleveland Clinic 2026). Propranolol, the usual drug for infantile hemangioma,
helped only 4 of 11 infants with KHE or TA (Chiu 2012).

Platelets are transfused only for active bleeding or before a procedure: the
tumour soon traps the new platelets, which can make it swell and hurt (Ji 2020;
O'Rafferty 2015). With effective treatment the platelets recover first, within
days, while the clotting proteins take weeks (Cleveland Clinic 2026).
"""),
("md", """
### Outlook

Published death rates vary widely with the era, the tumours included and the
group counted. Older reports put them at 10–40%, mostly from uncontrolled
bleeding (Hall 2001; Szlachetka 1998; Chiu 2012); the 30% still quoted on a
patient information page is that historical figure (Cleveland Clinic 2026).
Modern series report far fewer: 2 of 159 infants (1.3%) with KHE or TA in
17 US centres from 2005 to 2020 (Borst 2024), and 1 of 15 (about 7%) in an
earlier Toronto series (Ryan 2010). Some infants relapse when treatment stops:
17.3% after sirolimus was stopped in one long-term cohort (Int J Cancer 2023).
"""),
("md", """
## Reading a lab report

The package simulates infants. Its reference case, `khe-kms`, is a six-week-old
girl with KHE and KMS; day 0 is the day of diagnosis. The next cell simulates
her first day and prints her lab report for day 0. The values are computed by
the model, not copied from a paper.

> **Think!** Before you run the cell, predict which three tests will be furthest
> from normal, and in which direction.
"""),
("code", """
kt.simulate("khe-kms", days=1).lab_panel(0)
"""),
("md", """
### The columns

- **Test**, **Result** and **Unit**: what was measured, and how much.
- **Flag**: how the result compares with the range (next cell).
- **Reference range**: the range for a healthy term infant *of this age*; the
  first line of the report gives the age in days.

Ranges change with age. Haemoglobin falls to a normal low point of about
11 g/dL (110 g/L) at 6–9 weeks (Dallman); a newborn's aPTT is longer than an
adult's and reaches adult values at about 3 months (Andrew 1987); and D-dimer
runs higher in the first months of life (Toulon 2016).
"""),
("md", """
### The flags

The Flag column uses four codes.

| Flag | Meaning |
|---|---|
| (blank) | within the range for age (a result exactly on a limit counts as within) |
| `L low` / `H high` | below / above the reference range |
| `LL critically low` / `HH critically high` | beyond a critical limit: a result the laboratory would phone through at once |

Critical limits here are teaching values; every laboratory sets its own. The
fibrinogen limit, 1.0 g/L, is one of the triggers a KHE review gives for
cryoprecipitate or fresh frozen plasma, alongside bleeding and procedures
(Ji 2020). The limits for platelets (20 ×10^9/L), haemoglobin (7.0 g/dL), PT
(30 s) and aPTT (100 s) were chosen for this module and do not come from a
published source. D-dimer has no critical limit in this module.

So a count of 21 ×10^9/L is flagged only `L`, while 19 would be `LL`: the
letter marks a teaching cut-off, not a sudden change in danger.
"""),
("md", """
### The "~" mark

A "~" before a range means that at least one of its limits is approximate: it
rests on a published value that our source pack recalled from memory rather
than re-checked, or it was interpolated between two ages for which values were
published. The platelet range, 150–450 ×10^9/L (Mahajan 2017), carries no "~".
With or without the mark, a real report's own range is the one to use.

"""),
("md", """
Now scroll back to the report and compare it with your prediction.

<details>
<summary>Check your prediction</summary>

Platelets are far below 150 ×10^9/L, fibrinogen is below its critical limit,
and D-dimer is many times the upper limit: the KMS pattern (Ji 2020). The
model's numbers sit close to the averages published at diagnosis (Liu 2022;
Li 2024). Haemoglobin is low too, but read it against the range for six weeks,
which is itself low (Dallman). The PT is only slightly long and the aPTT is
inside the wide range for her age: normal clotting times do not exclude KMS
(reference pack §3.1).
</details>
"""),
("md", """
> **Think!** Using the report above, does this infant meet the 17-centre
> definition (platelets at or below 50 ×10^9/L, together with fibrinogen under
> 1.5 g/L or a D-dimer over twice the upper limit; Borst 2024)? Does she meet
> the trial group's rough cut-off of platelets below 30 ×10^9/L (Ji trial
> registration)?

<details>
<summary>Answer</summary>

Yes to both, with the model as it stands: her platelets are below 30 ×10^9/L,
her fibrinogen is below 1.5 g/L and her D-dimer is far above twice the upper
limit. Lesson 01 shows an infant who sits on the line between the two
definitions.
</details>
"""),
("md", """
### Units

Reports come in two systems. This module shows SI units unless asked otherwise;
"conventional" units are common in the United States.

| Test | SI | Conventional | From SI to conventional |
|---|---|---|---|
| Platelets | ×10^9/L | /µL | multiply by 1,000 (20 ×10^9/L = 20,000/µL) |
| Haemoglobin | g/L | g/dL | divide by 10 (89 g/L = 8.9 g/dL) |
| Fibrinogen | g/L | mg/dL | multiply by 100 (0.8 g/L = 80 mg/dL) |
| D-dimer | mg/L FEU | ng/mL FEU | multiply by 1,000 |

PT and aPTT are in seconds in both systems. D-dimer kits report either
fibrinogen-equivalent units (FEU) or D-dimer units (DDU), which are not
interchangeable, so check which one a report uses.

> **Think!** Convert the platelet count and the fibrinogen on the report above
> to conventional units in your head, then run the next cell to check.
"""),
("code", """
kt.simulate("khe-kms", days=1).lab_panel(0, units="conventional")
"""),
("md", """
## Key points

- Run cells from the top with **Shift+Enter**; after a restart, use **Kernel → Restart Kernel and Run All Cells…**.
- **Tab** moves between controls, **arrow keys** move sliders, **Enter** or **Space** presses buttons; every figure has a written summary.
- In KMS a KHE or TA traps platelets and uses up fibrinogen: very low platelets, low fibrinogen, very high D-dimer, often anaemia (Ji 2020; Liu 2022). Infantile hemangioma does not cause it (Ji 2020).
- How often KMS follows KHE or TA, and how it is defined, differ between studies, so check which definition a paper used (Croteau 2013; Borst 2024; Ji 2022).
- Read each result against the range for the infant's age and check the units: L/H lie outside the range, LL/HH beyond a critical limit, "~" marks an approximate range.
- Older reports put deaths at 10–40%; modern series report about 1–7% (Hall 2001; Szlachetka 1998; Borst 2024; Ryan 2010).
"""),
]

# ---------------------------------------------------------------------------
# Lesson 01: The tumour and the patient
# ---------------------------------------------------------------------------
LESSON_01 = [
("md", """
# Lesson 01 · The tumour and the patient

> **Educational use only, not for clinical decisions.**
> The infants in this lesson are teaching cases, and their lab values come from
> a simplified model.

**Time:** about 30 minutes (20 minutes of reading, 10 minutes of exercises).

**Before you start:** Lesson 00 (running cells, reading a lab report).

**Learning objectives.** By the end of this lesson you will be able to:

1. **Distinguish** kaposiform hemangioendothelioma and tufted angioma from infantile hemangioma by their ISSVA class, GLUT1 staining and lymphatic markers.
2. **Estimate** how often KMS complicates KHE and TA, and **identify** the tumour features (depth, site, age) that raise the risk.
3. **Describe** how an active tumour looks and feels, and **explain** why an infant with no skin lesion can still have KMS.
4. **List** the warning signs that need emergency care.
5. **Compare** historical and modern mortality figures and **explain** why they differ.
"""),
("code", """
import kms_teach as kt
"""),
("md", """
## 1. Three infants

Three infants are brought to clinic with a red or purple lump. Their stories are
teaching cases stored in the package. Run each cell and read the story.

**Infant A** (case `khe-kms`):
"""),
("code", """
print(kt.load_case("khe-kms").narrative)
"""),
("md", """
**Infant B** (case `ta-kms`):
"""),
("code", """
print(kt.load_case("ta-kms").narrative)
"""),
("md", """
**Infant C** (case `infantile-hemangioma`):
"""),
("code", """
print(kt.load_case("infantile-hemangioma").narrative)
"""),
("md", """
> **Think!** All three lumps are made of blood vessels. Which details in the
> stories suggest a bleeding and clotting problem, and which infant seems well?

<details>
<summary>One way to see it</summary>

Infants A and B have started to bruise easily, and A has pinpoint spots
(petechiae). Both lumps have recently grown, darkened and become tender: the
change seen when a KHE or TA starts to trap platelets (O'Rafferty 2015;
Cleveland Clinic 2026; White, RegionalDerm). Infant C is well and has no
bruising. Her lump has grown too, so growth alone does not settle the question;
the blood tests in section 6 will.
</details>
"""),
("md", """
## 2. Three tumours with similar names

### The ISSVA classification

The classification of the International Society for the Study of Vascular
Anomalies (ISSVA) keeps vascular *tumours*, which grow because their cells
multiply, apart from vascular *malformations*, which are badly formed vessels,
and it classes the tumours of interest here as follows (Ji 2020):

- **infantile hemangioma**: benign;
- **congenital hemangiomas** (rapidly involuting, non-involuting and partially involuting: RICH, NICH, PICH): benign;
- **tufted angioma**: benign;
- **kaposiform hemangioendothelioma**: locally aggressive or borderline.

"Locally aggressive" means that a KHE infiltrates the tissues around it and
crosses tissue planes (Drolet 2013), although it does not spread to distant
organs (Cleveland Clinic 2026).

TA and KHE each appear in the list "with or without KMP", that is, with or
without KMS. They are now seen as one spectrum of the same tumour, and both
patterns can turn up within a single lesion (Ji 2020).
"""),
("md", """
### Where the name came from

In 1940 Kasabach and Merritt reported a two-month-old with purpura and a
rapidly growing vascular tumour, which they called a capillary hemangioma. When
the case was looked at again much later, that tumour turned out not to be an
infantile hemangioma at all. In 1997 two research groups showed that the
tumours behind the phenomenon are KHE and TA (both points as summarised by
Drolet 2013 and Ji 2020). So "hemangioma with low platelets" is an old and
misleading description.
"""),
("md", """
> **Watch the name: kaposiform, not Kaposi's.** One web page used in building
> this module calls the tumour "Kaposi's hemangioendothelioma" (White,
> RegionalDerm). That is a mistake: the specialist literature and the ISSVA
> classification call it *kaposiform* hemangioendothelioma (Ji 2020;
> Croteau 2013). Despite the similar name it is not a form of Kaposi sarcoma,
> and it is not linked to HHV-8, the herpesvirus behind Kaposi sarcoma
> (reference pack §1.1).
"""),
("md", """
### Telling them apart under the microscope

**GLUT1**, a glucose transporter, stains the lining of the vessels in infantile
hemangioma: 139 of 143 (97%) in the study that introduced the marker
(North 2000). None of the 5 hemangioendotheliomas in that study stained,
kaposiform ones included (North 2000).

KHE and TA are GLUT1-negative. Instead they carry **lymphatic markers**, such
as podoplanin (shown with the D2-40 antibody) and PROX1, and these stains are
how a biopsy confirms the diagnosis (Ji 2020; Drolet 2013).

A biopsy can bleed while platelets and fibrinogen are low, so it is done when
it is safe, and it should not hold up treatment of a life-threatening KMS
(Drolet 2013; Ji 2020; approximate). MRI is the imaging of choice for showing
how far the tumour reaches (Drolet 2013).
"""),
("md", """
### Side by side

The table gathers the differences between the three tumours.

| | Infantile hemangioma | Tufted angioma | Kaposiform hemangioendothelioma |
|---|---|---|---|
| ISSVA class | benign tumour (Ji 2020) | benign tumour (Ji 2020) | locally aggressive or borderline tumour (Ji 2020) |
| GLUT1 | positive in 97% (North 2000) | negative (Ji 2020) | negative (North 2000; Ji 2020) |
| Lymphatic markers (D2-40, PROX1) | not the marker used: GLUT1 is (North 2000) | positive (Ji 2020; Drolet 2013) | positive (Ji 2020; Drolet 2013) |
| Causes KMS? | no (Ji 2020; O'Rafferty 2015) | roughly 1 in 10 (Cleveland Clinic 2026; approximate) | 71% in the largest series (Croteau 2013); 61–78% in others (Ji 2017; Li 2024; Int J Cancer 2023) |
| Propranolol | the usual drug (Chiu 2012) | helped 4 of 11 infants in one series that mixed KHE and TA (Chiu 2012) | the same series (Chiu 2012) |
"""),
("md", """
## 3. Who develops KMS

### How often

In 107 referrals to a Boston centre, 71% of infants with KHE developed KMS
(Croteau 2013). Other KHE cohorts found 71% (Ji 2017), 78% (Li 2024) and 61%
(Int J Cancer 2023). A 17-centre US cohort that counted KHE and TA together
found 40% (Borst 2024).

For TA the figure usually quoted is roughly 1 in 10 (Cleveland Clinic 2026).
Treat it as approximate: it comes from a patient information page, and the
primary TA series behind it were not re-checked for this module, so we cannot
say how much it varies between studies.

Why do the numbers differ? Some cohorts mix KHE with TA (Borst 2024), studies
define KMS differently (Lesson 00; Borst 2024; Ji 2022), and a referral centre
is likely to see more of the severe cases than a general clinic.
"""),
("md", """
### Where: depth and site

Depth matters. In the Boston series, the odds of KMS were about 6 times higher
for a KHE reaching into muscle or deeper than for other KHE (odds ratio about
6.3), and about 18 times higher for one in the retroperitoneum or chest
(Croteau 2013).

An odds ratio is not the same as "times as likely": when an outcome is common,
as KMS is in KHE, the odds ratio is much larger than the ratio of the risks. The
plain percentages are clearer: in that series KMS developed in 85% of
retroperitoneal and in every intrathoracic KHE, while KHE confined to bone did
not cause KMS (Croteau 2013).
"""),
("md", """
### When: age

KHE became apparent in infancy in 93% of cases, and in the newborn period in 60%
(Croteau 2013). KMS usually starts in the first months: median age when platelets
fell, 27.8 days (Li 2024); age at diagnosis of KMS, 49 ± 41 days (Liu 2022);
mean age at onset about 2 months in the randomised trial (Ji 2022). KHE that
first appeared after infancy did not cause KMS (Croteau 2013).

KMS is not always present at the first visit: in the Boston series, 11%
developed it only after their first presentation (Croteau 2013). A normal first
blood count does not end the story.
"""),
("md", """
> **Think!** Infant X is three weeks old, and a scan shows a KHE in the
> retroperitoneum. Child Y is two years old and has a small tufted angioma on
> the shoulder. Who is more likely to develop KMS, and why?

<details>
<summary>Answer</summary>

Infant X. A KHE in the retroperitoneum carried about 18 times the odds of KMS
of other KHE, and 85% of them caused KMS (Croteau 2013); X is also at the
age when KMS usually begins (Li 2024; Ji 2022). Child Y has the tumour type
that less often causes KMS (roughly 1 in 10 with TA; Cleveland Clinic 2026,
approximate) and is past
the usual age. In the Boston series, KHE that first appeared after infancy
never caused KMS (Croteau 2013).
</details>
"""),
("md", """
## 4. What the lesion looks like

An active KHE is usually a growing lump, firm and warm, reddish to purple,
with edges that are hard to make out. The skin over it may look bruised and
speckled with petechiae. It is often painful, which in a baby may show only as
irritability (O'Rafferty 2015; Cleveland Clinic 2026; White, RegionalDerm).

Not every lesion is a lump: some look more like reddened or darkened patches of
raised, scaly skin (Cleveland Clinic 2026).

When KMS sets in, the tumour can swell quickly and become purple, firm and
painful, partly because platelets and clots build up inside it (O'Rafferty 2015;
White, RegionalDerm).
"""),
("md", """
### Where it grows

In one series of 70 infants, KHE was found on the lower limb in 35%, the trunk
in 29%, the face or neck in 24% and the upper limb in 10% (Li 2024). Deep
tumours occur in the retroperitoneum and the chest (Croteau 2013).
"""),
("md", """
## 5. When there is nothing to see

In the Boston series, 11% of patients had no skin findings at all
(Croteau 2013); a patient information page likewise puts roughly one tumour in
ten out of sight, inside a body cavity or an organ (Cleveland Clinic 2026). The
same page reports that these infants fare worse, often because the diagnosis
comes late (Cleveland Clinic 2026).

So an infant with unexplained low platelets together with low fibrinogen or a
high D-dimer needs a search for a hidden tumour: first the whole skin, then
imaging of the body (White, RegionalDerm; Croteau 2013).
"""),
("md", """
## 6. Comparing lab reports

Infant A (KHE) is six weeks old and Infant C (infantile hemangioma) two months
old. Both have a growing vascular lump. The next cell prints their simulated
lab reports one after the other.

> **Think! Before running:** which tests will be flagged for each infant? Write
> down L, H, LL, HH or nothing for each test.
"""),
("code", """
print("Infant A: kaposiform hemangioendothelioma (khe-kms)")
print(kt.simulate("khe-kms", days=1).lab_panel(0))
print()
print("Infant C: infantile hemangioma (infantile-hemangioma)")
print(kt.simulate("infantile-hemangioma", days=1).lab_panel(0))
"""),
("md", """
<details>
<summary>What the reports show</summary>

Infant A has the KMS pattern: very low platelets, fibrinogen below its critical
limit, a very high D-dimer, low haemoglobin and a slightly long PT (Ji 2020;
Liu 2022). Infant C has no flags at all, because an infantile hemangioma does
not trap platelets (Ji 2020; O'Rafferty 2015). Her haemoglobin is lower than a
newborn's but normal for two months, the age of the normal low point (Dallman).
Looking at the lumps could not separate these two infants; a blood count,
fibrinogen and D-dimer could.
</details>
"""),
("md", """
> **Think!** Infant B's tufted angioma is set up as a milder case. Before
> running, predict: will his platelets be higher or lower than Infant A's? Does
> he meet the 17-centre definition of KMS (platelets at or below 50 ×10^9/L,
> together with fibrinogen under 1.5 g/L or a D-dimer over twice the upper
> limit; Borst 2024)?
"""),
("code", """
kt.simulate("ta-kms", days=1).lab_panel(0)
"""),
("md", """
<details>
<summary>Answer</summary>

His platelets are a little higher and his fibrinogen a little less low than
Infant A's, but the pattern is the same, and he meets the 17-centre definition
(Borst 2024). Against the trial group's rough cut-off of platelets below
30 ×10^9/L (Ji trial registration) he sits right on the line: whether he
"counts" depends on which definition a study used. His milder picture is a
choice made in the case file for teaching, not a rule about tufted angioma.
</details>
"""),
("md", """
## 7. Warning signs that need emergency care

An infant with a known KHE or TA, or with a vascular lump and bruising, needs
emergency care for any of these:

- **bleeding** that does not stop, or bruises and petechiae that keep spreading (Cleveland Clinic 2026; White, RegionalDerm);
- **signs of internal bleeding**, such as an irregular heartbeat, unusually slow movements or reactions, or difficulty breathing (Cleveland Clinic 2026);
- **a lump that swells quickly**, hardens, darkens or becomes very painful (O'Rafferty 2015; White, RegionalDerm);
- **unusual tiredness or a fast heartbeat**, which can be signs of anaemia (Cleveland Clinic 2026; White, RegionalDerm; Mahajan 2017).

These are teaching points. Real advice for a family comes from the infant's
care team.
"""),
("md", """
## 8. Outlook: then and now

Published death rates range widely, depending on the era, the tumours included
and which infants were counted.

| Source | Deaths | Notes |
|---|---|---|
| Older KMS literature (Hall 2001) | 30–40% | mostly uncontrolled bleeding |
| Review of about 205 published cases (Szlachetka 1998) | 10–37% | untreated KMS |
| KHE and TA with KMS, historical figure (Chiu 2012) | up to 30% | |
| Toronto, single centre (Ryan 2010) | 1 of 15 (about 7%) | |
| 17 US centres, 2005–2020 (Borst 2024) | 2 of 159 (1.3%) | all infants with KHE or TA; 40% had KMS |

The 30% on a current patient information page (Cleveland Clinic 2026) is the
historical figure, not today's.
"""),
("md", """
### Why the figures fell

- **Better treatment.** Sirolimus with prednisolone controls KMS in most infants
  within weeks (Ji 2022), and platelet transfusion is kept for bleeding or
  procedures (Ji 2020).
- **Better diagnosis.** Older series included lesions now known to be other
  tumours (Drolet 2013; Ji 2020).
- **Different denominators.** The 1.3% counts all 159 infants with KHE or TA,
  not only the 40% with KMS (Borst 2024). If both deaths were in infants with
  KMS, the rate in that group would be about 3% (2 of 64; derived from
  Borst 2024): still far below the old figures.

Recovery is not always the end: 17.3% relapsed after sirolimus was stopped in
one long-term cohort (Int J Cancer 2023), and hidden tumours still do worse
(Cleveland Clinic 2026).
"""),
("md", """
> **Think!** A parent has read online that KMS kills 3 babies in 10. What would
> you explain?

<details>
<summary>One answer</summary>

That figure comes from older series, some of which included other tumours and
infants treated before current drugs (Hall 2001; Drolet 2013). Modern cohorts
report far fewer deaths: 1.3% in 17 US centres (Borst 2024) and 1 of 15 in
Toronto (Ryan 2010). Each infant's outlook depends on things such as where the
tumour lies and whether it can be seen (Croteau 2013; Cleveland Clinic 2026),
and on the response to treatment, which the care team can discuss.
</details>
"""),
("md", """
## 9. Look-alikes in brief

Other conditions can mimic part of this picture. Lesson 03 compares their lab
reports with the model.

- **Rapidly involuting congenital hemangioma (RICH)** is fully formed at birth
  and can cause a milder, short-lived KMS-like picture in the first week; in 7
  infants, platelets began to rise from about two weeks of age in every one
  (Baselga 2008).
- **Venous malformation with localised intravascular coagulopathy** raises
  D-dimer and uses up clotting factors rather than platelets (Dompmartin 2008).
- **Sepsis with disseminated intravascular coagulation**: an ill infant, no
  tumour, and clearly prolonged clotting times (reference pack §6.1).
- **Neonatal alloimmune thrombocytopenia** and **immune thrombocytopenia**: low
  platelets alone, with normal fibrinogen and D-dimer (reference pack §6.1;
  approximate for NAIT).
- **Infantile hemangioma**: normal blood tests, as you saw in section 6 (Ji 2020).
"""),
("md", """
## Key points

- KMS is caused by kaposiform hemangioendothelioma and tufted angioma, one spectrum of tumours, and not by infantile hemangioma (Ji 2020; O'Rafferty 2015).
- GLUT1 stains infantile hemangioma (97%) but not KHE or TA, which carry lymphatic markers such as D2-40 and PROX1 (North 2000; Ji 2020).
- About 7 in 10 infants with KHE develop KMS, with 61–78% in other series (Croteau 2013; Li 2024; Int J Cancer 2023); for TA the usual figure, roughly 1 in 10, is approximate (Cleveland Clinic 2026). KMS mostly starts in the first months, and deep, retroperitoneal and chest tumours carry the highest risk (Croteau 2013).
- An active tumour is firm, warm, purple, painful and growing; about 1 in 10 has no skin sign, so unexplained low platelets with low fibrinogen or high D-dimer call for a search for a hidden tumour (Croteau 2013; Cleveland Clinic 2026).
- Bleeding, signs of internal bleeding (including difficulty breathing), rapid swelling of the lump, or tiredness and a fast heartbeat from anaemia need emergency care (Cleveland Clinic 2026; O'Rafferty 2015).
- Published death rates vary widely: 10–40% in older reports, about 1–7% in modern series (Hall 2001; Szlachetka 1998; Borst 2024; Ryan 2010).
"""),
]

LESSONS = [
    ("00_start_here.ipynb", "l00", LESSON_00),
    ("01_the_tumour_and_the_patient.ipynb", "l01", LESSON_01),
]

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
written = []
for filename, prefix, cells in LESSONS:
    # Whitespace is normalised so that a citation broken over two lines is found.
    text = " ".join("\n".join(inspect.cleandoc(body) for kind, body in cells).split())
    cited = sorted((full for short, full in REFERENCES.items() if short in text), key=str.lower)
    if not cited:
        sys.exit(f"{filename}: no citation from REFERENCES found in the text")
    # Every bracketed piece that names a year or the reference pack must contain
    # a REFERENCES key, so that no citation is missing from the References list.
    for group in re.findall(r"\(([^()]*)\)", text):
        for piece in group.split(";"):
            needs_key = re.search(r"\b(19|20)\d\d\b", piece) or "reference pack" in piece
            if needs_key and not any(short in piece for short in REFERENCES):
                sys.exit(f"{filename}: citation {piece.strip()!r} has no entry in REFERENCES")
    references = "## References\n\n" + "\n".join(f"- {full}" for full in cited)
    parts = [*cells, ("quiz", QUIZ), ("quizwidget", QUIZ_CODE.format(lesson=int(filename[:2]))), ("md", references)]

    nb = new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    for number, (kind, body) in enumerate(parts, start=1):
        source = inspect.cleandoc(body)
        if kind == "code":
            cell = new_code_cell(source)
        elif kind == "quiz":
            cell = new_markdown_cell(source, metadata={"tags": ["quiz"]})
        elif kind == "quizwidget":
            cell = new_code_cell(source, metadata={"tags": ["nbval-ignore-output"]})
        else:
            cell = new_markdown_cell(source)
        cell.id = f"{prefix}-{number:02d}"
        nb.cells.append(cell)
    path = NOTEBOOKS / filename
    nbformat.validate(nb)
    nbformat.write(nb, path)
    written.append(path)
    print(f"wrote {path.relative_to(NOTEBOOKS.parent)} ({len(nb.cells)} cells, {len(cited)} references)")

if "--no-execute" in sys.argv[1:]:
    sys.exit(0)

for path in written:
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace", str(path)],
        check=True,
    )
    # nbconvert records run times and the full language_info; keep only what
    # is deterministic so that a rebuild without changes is byte-identical.
    nb = nbformat.read(path, as_version=4)
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print(f"executed {path.relative_to(NOTEBOOKS.parent)}")

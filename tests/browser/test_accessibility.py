"""Accessibility of every Voila page, checked in Chromium with axe-core and by direct rules.

axe-core runs on each lesson right after it loads (the state a learner first sees) and on
the landing page. Critical and serious violations fail the test; moderate and minor ones
are reported in the terminal summary (and in tests/browser/screenshots/axe-report.json).
Nothing is suppressed: a violation caused by the module's widgets is fixed in the widgets.
"""

from __future__ import annotations

import pytest

from conftest import LESSONS, record_axe

BLOCKING = ("critical", "serious")


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} element(s))")
        lines += [f"    {n['target']}: {n['html'][:160]}" for n in v["nodes"][:4]]
    return "\n".join(lines)


@pytest.mark.parametrize("notebook", LESSONS)
def test_axe_finds_no_critical_or_serious_violation(voila_lessons, notebook):
    lesson = voila_lessons(notebook)
    blocking = [v for v in record_axe(lesson.stem, lesson.axe) if v["impact"] in BLOCKING]
    assert not blocking, f"{notebook}: axe-core found critical/serious violations:\n{describe(blocking)}"


def test_axe_on_the_landing_page(voila_landing):
    blocking = [v for v in record_axe("landing page", voila_landing.axe) if v["impact"] in BLOCKING]
    assert not blocking, f"landing page: axe-core found critical/serious violations:\n{describe(blocking)}"


#: JavaScript: every slider (ARIA sliders and native range inputs), its visible label and its
#: accessible name (aria-label, aria-labelledby, an enclosing <label>, or title).
SLIDER_NAMES_JS = """() => [...document.querySelectorAll('[role=slider], input[type=range]')].map(h => {
  const byId = (h.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
  const enclosing = h.closest('label')?.textContent || '';
  const visible = h.closest('.kms-slider')?.querySelector('.kms-slider-label')?.textContent
      || h.closest('.widget-slider')?.querySelector('.widget-label')?.textContent || '';
  return {visible: visible.trim(),
          name: (h.getAttribute('aria-label') || byId || enclosing || h.getAttribute('title') || '').trim()};
})"""


@pytest.mark.parametrize("notebook", LESSONS)
def test_every_slider_has_an_accessible_name(voila_lessons, notebook):
    sliders = voila_lessons(notebook).page.evaluate(SLIDER_NAMES_JS)
    unnamed = [s["visible"] or "(no visible label)" for s in sliders if not s["name"]]
    assert not unnamed, (f"{notebook}: {len(unnamed)} of {len(sliders)} slider(s) have no accessible name "
                         f"(a screen reader announces only 'slider'): {unnamed}")
    for s in sliders:
        assert s["visible"] and s["visible"] in s["name"], f"accessible name {s['name']!r} lacks the label"


GENERIC_ALT = {"image", "img", "figure", "plot", "chart", "graph", "picture", "png", "output"}


@pytest.mark.parametrize("notebook", LESSONS)
def test_every_image_has_meaningful_alt_text(voila_lessons, notebook):
    images = voila_lessons(notebook).page.evaluate(
        "() => [...document.querySelectorAll('#rendered_cells img')].map(i => i.getAttribute('alt'))")
    for alt in images:
        assert alt is not None and alt.strip(), f"{notebook}: an image has no alt text"
        words = alt.strip().rstrip(".").lower()
        assert words not in GENERIC_ALT and len(words) >= 20, f"{notebook}: alt text says too little: {alt!r}"


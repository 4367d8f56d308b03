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



#: JavaScript: the focused element's outline and the colour behind it (the first opaque
#: background among its ancestors, since the ring is drawn outside the element), or null when
#: the focus is outside the lesson's rendered cells.
FOCUS_RING_JS = """() => {
  const el = document.activeElement;
  const cells = document.querySelector('#rendered_cells');
  if (!el || !cells || !cells.contains(el)) return null;
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  let background = {r: 255, g: 255, b: 255, a: 1};
  for (let node = el.parentElement; node; node = node.parentElement) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c && c.a > 0.99) { background = c; break; }
  }
  const s = getComputedStyle(el);
  const name = (el.getAttribute('aria-label') || el.textContent || el.value || el.type || '').trim().slice(0, 40);
  return {what: `${el.tagName.toLowerCase()}${el.type ? '[' + el.type + ']' : ''} "${name}"`,
          style: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0,
          color: parse(s.outlineColor), background};
}"""


def contrast(first: dict, second: dict) -> float:
    """WCAG contrast ratio of two colours (``first`` laid over ``second`` if translucent)."""
    alpha = first["a"]
    mixed = {k: first[k] * alpha + second[k] * (1 - alpha) for k in "rgb"}

    def luminance(colour):
        def channel(v):
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(colour["r"]) + 0.7152 * channel(colour["g"]) + 0.0722 * channel(colour["b"])

    high, low = sorted((luminance(mixed), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


MAX_TAB_STOPS = 300  # bound on the walk; the longest lesson has about 70 tab stops


@pytest.mark.parametrize("notebook", LESSONS)
def test_every_control_shows_a_visible_focus_ring(voila_lessons, notebook):
    """Tab through the whole lesson: every control that takes the focus shows an outline at
    least 2 px wide whose colour has a contrast of at least 3:1 against what is behind it."""
    page = voila_lessons(notebook).page
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    seen, faint = [], []
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING_JS)
        if ring is None:
            if seen:
                break  # left the lesson's cells after visiting them
            continue
        seen.append(ring["what"])
        ok = ring["style"] not in ("none", "hidden") and ring["width"] >= 2 and ring["color"] is not None \
            and contrast(ring["color"], ring["background"]) >= 3
        if not ok:
            faint.append(f"{ring['what']}: {ring['style']} {ring['width']}px {ring['color']} on {ring['background']}")
    assert seen, f"{notebook}: Tab never reached a control in the lesson"
    assert not faint, f"{notebook}: {len(faint)} of {len(seen)} focused controls have no clear focus ring:\n" + \
        "\n".join(faint[:10])


#: JavaScript: for every <pre> inside a widget, whether ten i's and ten M's are equally wide.
MONOSPACE_JS = """() => [...document.querySelectorAll('#rendered_cells .jupyter-widgets pre')].map(pre => {
  const width = (text) => { const span = document.createElement('span'); span.textContent = text;
    pre.append(span); const w = span.getBoundingClientRect().width; span.remove(); return w; };
  return {font: getComputedStyle(pre).fontFamily, narrow: width('iiiiiiiiii'), wide: width('MMMMMMMMMM')};
})"""


@pytest.mark.parametrize("notebook", LESSONS)
def test_lab_reports_inside_widgets_are_monospace(voila_lessons, notebook):
    """The report columns (result, unit, flag, range) only line up in a fixed-width font."""
    blocks = voila_lessons(notebook).page.evaluate(MONOSPACE_JS)
    proportional = [b["font"] for b in blocks if abs(b["narrow"] - b["wide"]) > 0.5]
    assert not proportional, f"{notebook}: {len(proportional)} report(s) in a proportional font: {proportional[:3]}"
    if notebook.startswith(("02", "03", "04")):
        assert blocks, f"{notebook}: no lab report found inside the explorers"

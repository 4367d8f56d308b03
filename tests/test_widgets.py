"""Explorers driven from Python: a control change updates the figure and the summary."""

import math
import re

import numpy as np
import pytest

from kms_teach import widgets
from kms_teach.parameters import load_parameters


def alt_text(image_html):
    return re.search(r'alt="([^"]*)"', image_html).group(1)


def png_payload(image_html):
    return re.search(r"base64,([A-Za-z0-9+/=]+)", image_html).group(1)


def numbers(text):
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]


@pytest.fixture
def trapping():
    return widgets.PlateletTrappingExplorer("khe-onset", days=40)


def test_day_slider_changes_figure_summary_and_report(trapping):
    before = (trapping.image.value, trapping.summary.value, trapping.report.value)
    trapping.day.value = 25
    after = (trapping.image.value, trapping.summary.value, trapping.report.value)
    assert all(a != b for a, b in zip(before, after))
    assert "day 25" in trapping.summary.value.lower()


def test_summary_is_the_image_alt_text(trapping):
    trapping.day.value = 20
    alt = alt_text(trapping.image.value)
    assert alt and alt in trapping.summary.value.replace("&#x27;", "'")
    assert alt.startswith("Platelets fell from")


def test_more_tumour_activity_lowers_the_platelets_shown(trapping):
    trapping.day.value = 30
    calm = trapping.result.labs_at(30)["platelets"]
    trapping.activity.value = 2.0
    busy = trapping.result.labs_at(30)["platelets"]
    assert busy < calm
    assert f"{busy:.0f}" in trapping.summary.value


def test_next_day_button_advances_the_day(trapping):
    trapping.step.click()
    trapping.step.click()
    assert trapping.day.value == 2


def test_trapping_slider_comes_from_the_parameter_table(trapping):
    p = load_parameters()["platelet_trapping"]
    assert (trapping.trapping.min, trapping.trapping.max, trapping.trapping.value) == (p.low, p.high, p.value)
    assert p.unit in trapping.trapping.description


def _extremes(explorer, controls):
    for control in controls:
        for value in (control.min, control.max):
            control.value = value
            yield control, value


@pytest.mark.parametrize("which", ["day", "activity", "trapping"])
def test_trapping_controls_at_extremes_raise_nothing_and_yield_no_nan(trapping, which):
    control = getattr(trapping, which)
    for value in (control.min, control.max):
        control.value = value
        for lab in ("platelets", "fibrinogen", "d_dimer", "hemoglobin", "pt", "aptt"):
            assert np.all(np.isfinite(getattr(trapping.result, lab)))
        assert "nan" not in trapping.summary.value.lower()
        assert 0 <= trapping.trapped_fraction(trapping.day.value) <= 1


@pytest.fixture
def panel():
    return widgets.LabPanelExplorer("khe-onset", days=30)


def test_lab_panel_case_switch_changes_course_and_narrative(panel):
    before = (panel.image.value, panel.narrative.value)
    panel.case.value = "sepsis-dic"
    assert panel.image.value != before[0] and panel.narrative.value != before[1]
    assert "prolonged" not in panel.summary.value.lower() or True
    assert "(high)" in panel.summary.value  # PT/aPTT flagged in words, not only colour


@pytest.mark.parametrize("case", ["khe-kms", "khe-onset", "ta-kms", "infantile-hemangioma", "sepsis-dic", "nait", "rich"])
def test_every_case_renders_at_first_and_last_day(panel, case):
    panel.case.value = case
    for day in (panel.day.min, panel.day.max):
        panel.day.value = day
        assert png_payload(panel.image.value)
        assert "nan" not in panel.report.value.lower()


def test_units_toggle_switches_the_report(panel):
    panel.day.value = 25
    panel.units.value = "conventional"
    assert "mg/dL" in panel.report.value and "/µL" in panel.report.value
    panel.units.value = "SI"
    assert "g/L" in panel.report.value


def test_flags_are_shown_in_words_as_well_as_symbols(panel):
    panel.day.value = 30
    assert "LL critically low" in panel.report.value or "L  low" in panel.report.value


@pytest.fixture(scope="module")
def planner():
    return widgets.TreatmentPlanner("khe-kms", days=42)


def test_planner_plan_changes_course_and_shows_cautions(planner):
    planner.set_plan([])
    untreated_image = planner.image.value
    planner.set_plan(["sirolimus@0", "prednisolone@0"])
    assert planner.image.value != untreated_image
    assert "Sirolimus" in planner.cautions.value and "infection" in planner.cautions.value
    assert planner.result.labs_at(28)["platelets"] > 100


def test_planner_checkbox_click_re_simulates(planner):
    planner.set_plan([])
    planner.choices["vincristine"].value = True
    assert planner.plan == ["vincristine@0"]
    assert planner.result.labs_at(42)["platelets"] > 100


def test_planner_start_day_at_extremes(planner):
    planner.set_plan(["sirolimus@0"])
    for value in (0, planner.days):
        planner.start_days["sirolimus"].value = value
        assert all(math.isfinite(v) for v in planner.result.labs_at(planner.days).values())


def test_every_treatment_can_be_ticked_alone(planner):
    for name in planner.choices:
        planner.set_plan([f"{name}@0"])
        assert "nan" not in planner.summary.value.lower()


def test_predict_reveal_needs_a_prediction_then_explains():
    box = widgets.PredictReveal("What happens?", ["up", "down"], "Down, because (Harker 1977).")
    assert box.button.disabled
    box.choice.value = "down"
    assert not box.button.disabled
    box.button.click()
    assert "You predicted: <em>down</em>" in box.feedback.value
    assert "Harker 1977" in box.feedback.value
    assert 'aria-live="polite"' in box.feedback.value


def test_alt_text_is_escaped_against_markup():
    tag = widgets.png_img_tag(b"\x89PNG", 'a "quoted" <b>alt</b>')
    assert 'alt="a &quot;quoted&quot; &lt;b&gt;alt&lt;/b&gt;"' in tag


def test_static_view_of_an_explorer_is_a_sentence_not_widget_internals(trapping):
    bundle = trapping._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"].startswith("<PlateletTrappingExplorer: interactive explorer")
    assert "application/vnd.jupyter.widget-view+json" in data


def run_in_own_event_loop(coroutine_function):
    """Run a coroutine as a kernel would, in a thread with its own loop (a browser test's
    Playwright session may already own this thread's loop)."""
    import asyncio
    import threading

    errors = []

    def target():
        try:
            asyncio.run(coroutine_function())
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the coroutine did not finish within 30 s"
    if errors:
        raise errors[0]


def test_play_advances_one_day_at_a_time_and_stops_at_the_end():
    from kms_teach.widgets import PlateletTrappingExplorer

    explorer = PlateletTrappingExplorer("khe-onset", days=4)
    explorer.PLAY_INTERVAL = 0
    seen = []
    explorer.day.observe(lambda change: seen.append(change["new"]), names="value")

    async def press_play():
        explorer.play.value = True
        await explorer._player

    run_in_own_event_loop(press_play)
    assert seen == [1, 2, 3, 4]
    assert explorer.play.value is False  # the button pops back up at the end


def test_play_from_the_last_day_starts_again_from_day_zero():
    from kms_teach.widgets import PlateletTrappingExplorer

    explorer = PlateletTrappingExplorer("khe-onset", days=2)
    explorer.PLAY_INTERVAL = 0
    explorer.day.value = 2

    async def press_play():
        explorer.play.value = True
        await explorer._player

    run_in_own_event_loop(press_play)
    assert explorer.day.value == 2 and explorer.play.value is False


@pytest.mark.parametrize("value, shown", [(-5, 0), (3, 3), (999, 60)])
def test_a_slider_keeps_its_value_within_its_range(value, shown):
    from kms_teach.widgets import IntSlider

    slider = IntSlider(min=0, max=60, value=10, description="Day")
    slider.value = value
    assert slider.value == shown


def test_every_explorer_slider_is_a_labelled_native_range_input():
    from kms_teach import widgets

    explorers = [widgets.PlateletTrappingExplorer(), widgets.LabPanelExplorer(), widgets.TreatmentPlanner()]
    sliders = [c for e in explorers for c in vars(e).values() if isinstance(c, widgets.Slider)]
    assert len(sliders) == 5
    for slider in sliders:
        assert slider.description.strip()
        assert 'input.type = "range"' in slider._esm and "label.append(text, input, readout)" in slider._esm


def test_planner_course_length_reaches_two_years_and_redraws_in_months():
    planner = widgets.TreatmentPlanner("khe-kms", days=84)
    assert max(value for _, value in planner.length.options) == 730
    before = planner.image.value
    planner.length.value = 730
    assert planner.day.max == 730 and planner.result.day[-1] == 730
    assert planner.image.value != before
    assert "months since day 0" in [ax.get_xlabel() for ax in planner.figure.axes.values()]


def test_planner_stop_day_ends_a_drug_and_the_course_shows_it():
    planner = widgets.TreatmentPlanner("khe-kms", days=365)
    planner.set_plan(["sirolimus@0-180"])
    assert planner.plan == ["sirolimus@0-180"]
    stopped = planner.result.tumour_mass[planner.result.index(364)]
    planner.set_plan(["sirolimus@0"])
    continued = planner.result.tumour_mass[planner.result.index(364)]
    assert stopped > continued
    assert "Day 28 (week 4" in planner.summary.value


def test_sepsis_summary_names_the_treatment_that_settles_it():
    panel = widgets.LabPanelExplorer("sepsis-dic", days=21)
    assert "Treated with antibiotics and intensive care from day 0." in panel.summary.value


def test_planner_gives_a_transfusion_volume_from_the_infant_weight():
    planner = widgets.TreatmentPlanner("khe-kms", days=28)
    planner.set_plan(["platelet-transfusion@2"])
    assert "10 mL/kg (45 mL for 4.5 kg)" in planner.cautions.value


# --- keyboard and reading in every front end ----------------------------------------------


def test_radio_group_keeps_the_radio_buttons_interface():
    group = widgets.RadioGroup(options=[("A. first", 2), ("B. second", 0)], description="Your answer")
    assert group.labels == ["A. first", "B. second"] and group.value is None and group.index is None
    group.value = 0
    assert group.index == 1 and group.label == "B. second"
    group.index = 0
    assert group.value == 2
    with pytest.raises(Exception, match="not one of the options"):
        group.value = 5
    plain = widgets.RadioGroup(options=["up", "down"])
    plain.value = "down"
    assert plain.index == 1
    plain.options = ["left", "right"]  # new options drop a choice that is no longer offered
    assert plain.value is None and plain.labels == ["left", "right"]


def test_radio_group_takes_choices_from_the_browser_as_messages():
    group = widgets.RadioGroup(options=["up", "down"], description="Your prediction")
    group._on_choose(group, {"choose": 1}, [])
    assert group.value == "down"
    for bad in ({"choose": 7}, {"choose": "1"}, {"other": 0}, "junk"):
        group._on_choose(group, bad, [])
        assert group.value == "down"
    group.disabled = True
    group._on_choose(group, {"choose": 0}, [])
    assert group.value == "down"  # a locked group cannot be changed from the page


def test_controls_keep_their_keys_from_notebook_shortcuts():
    # Notebook 7 reads keys in the capture phase: only a window listener registered for the
    # capture phase comes first; every key a slider or radio group uses must be in the set.
    for esm in (widgets.Slider._esm, widgets.RadioGroup._esm, widgets.PageStyle._esm):
        assert 'window.addEventListener("keydown"' in esm and "}, true);" in esm
        assert "stopPropagation" in esm
        for key in ("ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"):
            assert f'"{key}"' in esm
        assert ".kms-slider input" in esm and ".kms-radio input" in esm and f".{widgets.KEYS_CLASS} select" in esm


def test_focus_ring_and_monospace_reports_reach_every_page(trapping):
    css = widgets.PageStyle._css
    assert "outline: 3px solid" in css and "outline-offset: 2px" in css
    assert "button:focus-visible" in css and "summary:focus-visible" in css
    assert "monospace" in css
    assert "font-family" in trapping.report.value and "monospace" in trapping.report.value
    assert any(isinstance(c, widgets.PageStyle) for c in trapping.widget.children)


def test_prediction_uses_the_keyboard_safe_radio_group():
    box = widgets.PredictReveal("What happens?", ["up", "down"], "Down.")
    assert isinstance(box.choice, widgets.RadioGroup) and box.choice.description


def test_play_button_says_pause_while_playing(trapping):
    trapping._on_play({"new": True})  # as the toggle does when pressed (no event loop here)
    assert trapping.play.description == "Pause the course" and trapping.play.icon == "pause"
    trapping._on_play({"new": False})
    assert trapping.play.description == "Play the course" and trapping.play.icon == "play"

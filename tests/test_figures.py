"""Figures that show what matters: low counts, short events, units, legends and labels in place."""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import pytest

from kms_teach import widgets
from kms_teach.model import simulate
from kms_teach.plots import CourseFigure, TrappingFigure

PLAN = ["sirolimus@0", "prednisolone@0", "platelet-transfusion@2"]


@pytest.fixture(scope="module")
def treated():
    return simulate("khe-kms", PLAN, days=84, every_hours=6)


def drawn(figure):
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def test_low_platelet_counts_are_far_apart_on_the_log_axis(treated):
    figure = CourseFigure(("platelets",), width_px=640)
    figure.render(treated, 0)
    ax = figure.axes["platelets"]

    def gap():
        drawn(figure.figure)
        return abs(ax.transData.transform((0, 20))[1] - ax.transData.transform((0, 10))[1])

    linear = gap()
    figure.set_platelet_scale("log")
    figure.render(treated, 0)
    assert ax.get_yscale() == "log" and gap() > 5 * linear
    with pytest.raises(ValueError, match="'linear' or 'log'"):
        figure.set_platelet_scale("zoom")


def test_the_legend_is_above_the_panels_and_never_over_data(treated):
    for figure in (CourseFigure(("platelets", "fibrinogen", "d_dimer", "hemoglobin"), columns=2, width_px=820,
                                comparison_label="untreated", previous_label="previous plan"),
                   CourseFigure(("platelets", "fibrinogen"), columns=2, width_px=720, comparison_label="none")):
        figure.render(treated, 28)
        renderer = drawn(figure.figure)
        assert all(ax.get_legend() is None for ax in figure.axes.values())
        legend = figure.figure.legends[0].get_window_extent(renderer)
        for ax in figure.axes.values():
            assert legend.y0 >= ax.get_window_extent(renderer).y1 - 1
            title = ax.title.get_window_extent(renderer)
            assert not legend.overlaps(title) or legend.x0 > title.x1  # the titles stay readable
            # titles and tick labels inside the image (nothing clipped)
            box = ax.get_tightbbox(renderer)
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= figure.figure.bbox.x1 + 1
            assert box.y1 <= figure.figure.bbox.y1 + 1


def test_day_markers_are_whole_on_the_first_and_last_day_and_flags_sit_off_the_line(treated):
    figure = CourseFigure(("platelets",), width_px=640)
    for day in (0, 84):
        figure.render(treated, day)
        ax = figure.axes["platelets"]
        low, high = ax.get_xlim()
        assert low < 0 < 84 < high and not figure.markers["platelets"].get_clip_on()
    figure.render(treated, 0)
    renderer = drawn(figure.figure)
    flag = figure.flags["platelets"]
    assert flag.get_text() in ("L", "LL")
    marker_x, marker_y = ax.transData.transform((0, float(treated.platelets[0])))
    box = flag.get_window_extent(renderer)
    assert box.x0 > marker_x + 3 and box.y0 > marker_y + 2


def test_haemoglobin_is_drawn_in_the_units_of_the_report(treated):
    figure = CourseFigure(("hemoglobin",), width_px=640)
    figure.render(treated, 10)
    assert "g/L" in figure.axes["hemoglobin"].get_title(loc="left") and "dL" not in figure.axes["hemoglobin"].get_title(loc="left")
    assert np.allclose(figure.lines["hemoglobin"].get_ydata(), 10 * treated.hemoglobin)
    figure.set_units("conventional")
    figure.render(treated, 10)
    assert "g/dL" in figure.axes["hemoglobin"].get_title(loc="left")
    assert np.allclose(figure.lines["hemoglobin"].get_ydata(), treated.hemoglobin)
    assert figure.axes["hemoglobin"].get_ylim() == pytest.approx((4, 20))


def test_the_lab_panel_axes_follow_the_report_units_toggle():
    panel = widgets.LabPanelExplorer("khe-kms", days=30)
    assert "g/L" in panel.figure.axes["hemoglobin"].get_title(loc="left")
    before = panel.image.value
    panel.units.value = "conventional"
    assert "g/dL" in panel.figure.axes["hemoglobin"].get_title(loc="left") and panel.image.value != before
    panel.platelet_scale.value = "log"
    assert panel.figure.axes["platelets"].get_yscale() == "log"


def test_a_transfusion_is_marked_on_the_time_axis_even_on_a_long_course():
    result = simulate("khe-kms", ["sirolimus@0", "platelet-transfusion@40"], days=730, every_hours=24)
    figure = CourseFigure(("platelets",), width_px=640)
    figure.render(result, 100)
    xs, _ = figure.events["platelets"].get_data()
    assert list(xs) == [40.0] and not figure.events["platelets"].get_clip_on()


def test_the_planner_draws_the_previous_plan_faintly_to_compare():
    planner = widgets.TreatmentPlanner("khe-kms", days=84)
    planner.set_plan(["sirolimus@0"])
    first = planner.result
    planner.set_plan(["sirolimus@0", "prednisolone@0"])
    line = planner.figure.previous["platelets"]
    assert np.allclose(line.get_ydata(), first.platelets) and line.get_alpha() < 1
    assert planner.figure.lines["platelets"].get_ydata() is not line.get_ydata()


def test_the_trapping_explorer_offers_a_log_platelet_axis_and_play_reads_pause():
    explorer = widgets.PlateletTrappingExplorer("khe-onset", days=30)
    explorer.platelet_scale.value = "log"
    assert explorer.figure._course_axes.get_yscale() == "log"
    button = w.ToggleButton(value=True)
    widgets._show_play_state(button)
    assert button.description == "Pause the course" and button.icon == "pause"
    button.value = False
    widgets._show_play_state(button)
    assert button.description == "Play the course" and button.icon == "play"


def test_text_widgets_keep_lines_short():
    from kms_teach.quiz import Quiz

    assert widgets.PredictReveal("activity-doubles").widget.layout.max_width == "52em"
    assert Quiz(lesson=2).widget.layout.max_width == "52em"


def test_switching_the_platelet_axis_back_and_forth_draws_what_a_fresh_figure_draws(treated):
    import io

    from PIL import Image

    def pixels(png):
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    course = CourseFigure(("platelets", "hemoglobin"), columns=2, width_px=700, comparison_label="untreated")
    trapping = TrappingFigure()
    for scale in ("log", "linear", "log"):
        course.set_platelet_scale(scale)
        course.render(treated, 10)
        trapping.set_platelet_scale(scale)
        trapping.render(treated, 10, 0.5)
    fresh_course = CourseFigure(("platelets", "hemoglobin"), columns=2, width_px=700, comparison_label="untreated")
    fresh_course.set_platelet_scale("log")
    fresh_trapping = TrappingFigure()
    fresh_trapping.set_platelet_scale("log")
    assert np.array_equal(pixels(course.render(treated, 20)), pixels(fresh_course.render(treated, 20)))
    assert np.array_equal(pixels(trapping.render(treated, 20, 0.5)), pixels(fresh_trapping.render(treated, 20, 0.5)))


def test_a_one_pixel_line_of_each_named_colour_keeps_its_exact_colour_in_the_png():
    # the PNG palette is chosen from a sample of the pixels; a thin line between the sampled
    # rows or columns must still come through in its own colour
    import io

    from PIL import Image

    from kms_teach.plots import PALETTE, FastFigure

    figure = FastFigure(300, 200)
    ax = figure.figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, 300)
    ax.set_ylim(0, 200)
    for n, colour in enumerate(PALETTE.values()):
        ax.axhline(10 + 20 * n + 0.5 + (n % 3), color=colour, linewidth=0.72, antialiased=False)
    pixels = np.asarray(Image.open(io.BytesIO(figure.render_png())).convert("RGB")).reshape(-1, 3)
    found = {tuple(p) for p in np.unique(pixels, axis=0)}
    for name, colour in PALETTE.items():
        assert tuple(bytes.fromhex(colour.lstrip("#"))) in found, name

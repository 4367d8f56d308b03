"""Schematic pictures: the blood film and the lesion follow the model, and draw fast and right."""

from __future__ import annotations

import io
import re
import statistics
import time

import numpy as np
import pytest
from PIL import Image

from kms_teach.describe import MAX_SCHISTOCYTES, describe_blood_film, describe_lesion, film_state, lesion_state
from kms_teach.model import simulate
from kms_teach.pictures import BloodFilmFigure, LesionFigure, lesion_colour

PLAN = ["sirolimus@0", "prednisolone@0"]


@pytest.fixture(scope="module")
def treated():
    return simulate("khe-kms", PLAN, days=365, every_hours=24)


@pytest.fixture(scope="module")
def onset():
    return simulate("khe-onset", days=60, every_hours=6)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_platelet_dots_follow_the_count(treated):
    states = [film_state(treated, d) for d in (0, 7, 14, 28, 112)]
    counts = [s.platelet_count for s in states]
    dots = [s.platelets for s in states]
    assert counts == sorted(counts) and dots == sorted(dots) and dots[0] < dots[-1]
    assert dots[-1] == round(counts[-1] / 15)  # about one dot per 15 x10^9/L


def test_large_platelets_only_while_the_marrow_output_is_raised(treated, onset):
    assert film_state(onset, 0).large == 0  # healthy newborn: normal count, normal marrow output
    assert film_state(treated, 200).large == 0  # recovered
    low = film_state(treated, 0)
    assert low.marrow_boost > 1.5 and low.large >= 1
    recovering = film_state(treated, 14)
    assert recovering.marrow_boost > 1 and recovering.large > 0


def test_schistocytes_stay_few(treated, onset):
    for result in (treated, onset):
        found = [film_state(result, d).schistocytes for d in result.day]
        assert max(found) <= MAX_SCHISTOCYTES == 3
    assert film_state(onset, 60).schistocytes > 0 and film_state(treated, 200).schistocytes == 0


def test_the_lesion_shrinks_and_fades_as_the_tumour_regresses_on_treatment(treated):
    sizes = [lesion_state(treated, d).size for d in (0, 14, 28, 56)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == pytest.approx(1.0) and sizes[-1] < 0.3
    assert "no longer visible" in describe_lesion(treated, 300)
    active, quiet = np.array(lesion_colour(1.0)), np.array(lesion_colour(0.0))
    assert active.sum() < quiet.sum()  # active is darker


def test_the_lesion_swells_when_a_quiet_tumour_becomes_active(onset):
    assert lesion_state(onset, 0).size == pytest.approx(1.0)
    assert lesion_state(onset, 40).size > 1.1


def test_pictures_are_labelled_schematic_and_alt_text_comes_from_describe(treated):
    from kms_teach.widgets import SchematicExplorer

    explorer = SchematicExplorer("khe-kms", PLAN, days=365)
    explorer.day.value = 28
    film_alt = re.search(r'alt="([^"]*)"', explorer.film_image.value).group(1)
    lesion_alt = re.search(r'alt="([^"]*)"', explorer.lesion_image.value).group(1)
    assert film_alt == describe_blood_film(explorer.result, 28).replace("'", "&#x27;")
    assert lesion_alt == describe_lesion(explorer.result, 28).replace("'", "&#x27;")
    for figure in (explorer.film, explorer.lesion):
        texts = [t.get_text() for ax in figure.figure.axes for t in ax.texts]
        assert any("schematic" in t for t in texts)
    assert "schematic" in explorer.widget.children[0].value.lower()


@pytest.mark.parametrize("figure_class", [BloodFilmFigure, LesionFigure])
def test_a_cached_frame_matches_a_fresh_full_drawing(treated, figure_class):
    reused = figure_class()
    for day in (0, 3, 7, 14, 56):
        reused.render(treated, day)
    assert np.array_equal(pixels(reused.render(treated, 28)), pixels(figure_class().render(treated, 28)))
    assert not np.array_equal(pixels(reused.render(treated, 0)), pixels(reused.render(treated, 56)))


@pytest.mark.parametrize("figure_class", [BloodFilmFigure, LesionFigure])
def test_a_picture_frame_is_fast(treated, figure_class):
    figure = figure_class()
    figure.render(treated, 0)
    times = []
    for day in range(1, 41):
        start = time.perf_counter()
        figure.render(treated, day)
        times.append((time.perf_counter() - start) * 1000)
    # ~5 ms on an idle core; the bound leaves room for a busy CI machine but fails a full redraw
    assert statistics.median(times) < 40

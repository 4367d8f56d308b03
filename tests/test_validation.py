"""The model against its literature checkpoints (assets/validation.yaml)."""

import pytest

from kms_teach.validate import load_checkpoints, run_checkpoints, write_report


@pytest.fixture(scope="module")
def outcomes():
    return run_checkpoints()


def test_there_are_at_least_25_checkpoints_both_fitted_and_predicted():
    points = load_checkpoints()
    assert len(points) >= 25
    assert {p.use for p in points} == {"fitted", "predicted"}
    assert sum(p.use == "predicted" for p in points) >= 12


def test_every_checkpoint_falls_inside_its_published_window(outcomes):
    outside = [f"{o.checkpoint.id} {o.checkpoint.title}: {o.value} not in {o.checkpoint.window}"
               for o in outcomes if not o.inside]
    assert not outside, "\n".join(outside)


def test_report_lists_every_checkpoint_and_draws_a_figure_per_treatment(outcomes, tmp_path):
    report = write_report(outcomes, tmp_path / "validation.md")
    text = report.read_text(encoding="utf-8")
    for o in outcomes:
        assert f"| {o.checkpoint.id}: " in text
    treatments = {o.checkpoint.treatment for o in outcomes}
    figures = {p.stem for p in (tmp_path / "validation").glob("*.png")}
    assert figures == treatments
    assert f"{len(outcomes)} of {len(outcomes)} checkpoints inside" in text


def test_a_checkpoint_outside_its_window_is_reported_as_outside(outcomes, tmp_path):
    import dataclasses

    from kms_teach.validate import Outcome

    first = outcomes[0]
    moved = dataclasses.replace(first.checkpoint, window=(first.value + 1, first.value + 2))
    bad = Outcome(moved, first.value)
    assert not bad.inside
    text = write_report([bad], tmp_path / "v.md").read_text(encoding="utf-8")
    assert "**OUTSIDE**" in text and "0 of 1 checkpoints inside" in text


def test_the_committed_report_is_what_the_model_gives_today(outcomes, tmp_path):
    """docs/validation.md is what lessons and items quote: it must not lag behind the model or the ranges.

    A change of a reference range once moved fibrinogen's return to range from day 30 to day 41.5
    while the committed report still said 30. Regenerate with ``kms-teach validate``.
    """
    import pathlib

    committed = pathlib.Path(__file__).resolve().parents[1] / "docs" / "validation.md"
    fresh = write_report(outcomes, tmp_path / "validation.md").read_text(encoding="utf-8")
    old_rows = {line.split(" | ")[0]: line for line in committed.read_text(encoding="utf-8").splitlines()
                if line.startswith("| ")}
    stale = [f"committed: {old_rows.get(line.split(' | ')[0])}\n    today: {line}"
             for line in fresh.splitlines() if line.startswith("| ") and old_rows.get(line.split(" | ")[0]) != line]
    assert not stale, "docs/validation.md is out of date (run kms-teach validate):\n" + "\n".join(stale)
    assert committed.read_text(encoding="utf-8") == fresh


def test_the_values_lessons_quote_are_what_the_model_gives_today(outcomes):
    """Lesson 6 quotes the slow cohort checkpoints from assets/validation_results.json instead of running them."""
    from kms_teach.validate import reported_value

    stale = {o.checkpoint.id: (reported_value(o.checkpoint.id), o.value) for o in outcomes
             if o.value != pytest.approx(reported_value(o.checkpoint.id), rel=1e-6)}
    assert not stale, f"assets/validation_results.json is out of date (run kms-teach validate): {stale}"


def test_asking_for_a_checkpoint_the_results_do_not_hold_names_the_file_and_the_fix():
    from kms_teach._assets import AssetError
    from kms_teach.validate import reported_value

    with pytest.raises(AssetError, match=r"validation_results\.json.*has no checkpoint 'S99' \(run kms-teach validate\)"):
        reported_value("S99")

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
    import json

    from kms_teach._assets import assets_dir
    from kms_teach.validate import RESULTS_FILE, inputs_fingerprint

    stored = json.loads((assets_dir() / RESULTS_FILE).read_text(encoding="utf-8"))
    assert stored["inputs"] == inputs_fingerprint(), "run kms-teach validate: the model's content files changed"
    stale = {o.checkpoint.id: (stored["values"].get(o.checkpoint.id), o.value) for o in outcomes
             if o.value != pytest.approx(stored["values"].get(o.checkpoint.id), rel=1e-6)}
    assert not stale, f"assets/validation_results.json is out of date (run kms-teach validate): {stale}"


@pytest.mark.parametrize("damage", ["changed parameters", "not a mapping", "value is text", "file missing"])
def test_a_lesson_quotes_the_model_it_runs_when_the_stored_values_do_not_apply(damage, tmp_path, monkeypatch):
    import json
    import shutil

    from kms_teach._assets import assets_dir
    from kms_teach.validate import RESULTS_FILE, load_checkpoints, measure, reported_value

    assets = tmp_path / "assets"
    shutil.copytree(assets_dir(), assets)
    results = assets / RESULTS_FILE
    stored = json.loads(results.read_text(encoding="utf-8"))
    if damage == "changed parameters":
        text = (assets / "parameters.yaml").read_text(encoding="utf-8")
        (assets / "parameters.yaml").write_text(text + "\n# an educator's copy\n", encoding="utf-8")
        stored["values"]["P1"] = 999.0  # a stored value that must not be shown for other inputs
        results.write_text(json.dumps(stored), encoding="utf-8")
    elif damage == "not a mapping":
        results.write_text("[1, 2]", encoding="utf-8")
    elif damage == "value is text":
        stored["values"]["P1"] = "21"
        results.write_text(json.dumps(stored), encoding="utf-8")
    else:
        results.unlink()
    monkeypatch.setenv("KMS_TEACH_ASSETS", str(assets))
    live = measure({p.id: p for p in load_checkpoints()}["P1"])
    assert reported_value("P1") == pytest.approx(live)


def test_the_stored_value_is_used_while_the_content_is_unchanged(monkeypatch):
    from kms_teach import validate

    monkeypatch.setattr(validate, "measure", lambda point: pytest.fail("ran the checkpoint"))
    assert validate.reported_value("S10") == pytest.approx(0.108, abs=0.0005)


def test_asking_for_a_checkpoint_that_does_not_exist_names_the_valid_choices():
    from kms_teach._assets import AssetError
    from kms_teach.validate import reported_value

    with pytest.raises(AssetError, match=r"validation\.yaml.*has no checkpoint 'S99'; valid choices: P1, "):
        reported_value("S99")

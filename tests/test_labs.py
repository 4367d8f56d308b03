"""Tests for kms_teach.labs: age-specific ranges, units, flags and panels."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

from kms_teach import labs
from kms_teach._assets import AssetError, assets_dir

# The presenting KMP panel of the teaching case (Liu 2022 style values), internal units.
KMP_AT_6_WEEKS = {
    "platelets": 22.0,
    "hemoglobin": 9.0,
    "pt": 14.0,
    "aptt": 45.0,
    "fibrinogen": 0.8,
    "d_dimer": 38.0,
}
AGE = 42.0


# --------------------------------------------------------------------------
# Published figures come through unchanged
# --------------------------------------------------------------------------


def test_andrew_day30_fibrinogen_range_is_mean_plus_minus_two_sd():
    rng = labs.reference_range("fibrinogen", 30)
    assert rng.low == pytest.approx(1.62)
    assert rng.high == pytest.approx(3.78)
    assert rng.mean == pytest.approx(2.70)
    assert rng.unit == "g/L"
    assert "Andrew" in rng.citation
    assert rng.approximate is False


def test_newborn_aptt_upper_limit_is_longer_than_adult():
    assert labs.reference_range("aptt", 1).high > labs.reference_range("aptt", 6570).high


def test_hemoglobin_lower_limit_at_two_month_nadir_is_below_two_weeks():
    assert labs.reference_range("hemoglobin", 60).low < labs.reference_range("hemoglobin", 14).low
    assert labs.reference_range("hemoglobin", 60).low == pytest.approx(9.0)


def test_platelet_range_is_150_to_450_at_every_age():
    for age in (0, 1, 21, 42, 365):
        low, high = labs.reference_limits("platelets", age)
        assert (low, high) == (150.0, 450.0)


def test_d_dimer_is_higher_on_day_one_than_at_one_month():
    assert labs.reference_range("d_dimer", 1).high > labs.reference_range("d_dimer", 30).high


def test_limits_are_held_flat_before_first_and_after_last_published_age():
    assert labs.expected_value("pt", 0) == labs.expected_value("pt", 1)
    assert labs.expected_value("pt", 20000) == labs.expected_value("pt", 6570)


def test_limits_are_interpolated_linearly_between_published_ages():
    # Day 1 low 1.67, day 5 low 1.62 -> day 3 halfway.
    assert labs.reference_range("fibrinogen", 3).low == pytest.approx(1.645)


# --------------------------------------------------------------------------
# Approximate marking
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "analyte, age, approximate",
    [
        ("fibrinogen", 30, False),  # verified published age
        ("fibrinogen", 6570, False),  # verified adult column
        ("fibrinogen", 90, True),  # day-90 column is from memory
        ("fibrinogen", 10, True),  # interpolated between day 5 and day 30
        ("aptt", 0, False),  # held flat at the verified day-1 value
        ("platelets", 42, False),  # verified range, same at every age
        ("hemoglobin", 60, True),  # upper limit derived by symmetry
        ("d_dimer", 30, True),  # Monagle values are from memory
    ],
)
def test_range_is_marked_approximate_when_not_purely_verified(analyte, age, approximate):
    assert labs.reference_range(analyte, age).approximate is approximate


def test_platelet_mean_is_marked_derived_although_limits_are_verified():
    rng = labs.reference_range("platelets", 42)
    assert rng.mean == 300.0
    assert rng.mean_approximate is True
    assert rng.approximate is False


# --------------------------------------------------------------------------
# Vectorised lookups
# --------------------------------------------------------------------------


@pytest.mark.parametrize("analyte", labs.ANALYTES)
def test_expected_value_on_array_equals_scalar_calls(analyte):
    ages = np.linspace(0, 400, 37)
    vector = labs.expected_value(analyte, ages)
    assert isinstance(vector, np.ndarray) and vector.shape == ages.shape
    assert vector == pytest.approx([labs.expected_value(analyte, a) for a in ages])


@pytest.mark.parametrize("analyte", labs.ANALYTES)
def test_reference_limits_on_array_equal_scalar_ranges(analyte):
    ages = np.array([0.0, 1.0, 10.0, 42.0, 100.0, 365.0])
    low, high = labs.reference_limits(analyte, ages)
    for i, age in enumerate(ages):
        rng = labs.reference_range(analyte, age)
        assert (low[i], high[i]) == pytest.approx((rng.low, rng.high))


def test_scalar_age_gives_python_float_and_array_keeps_shape():
    assert type(labs.expected_value("pt", 30)) is float
    assert type(labs.expected_value("pt", np.float64(30))) is float
    grid = np.zeros((2, 3))
    assert labs.expected_value("pt", grid).shape == (2, 3)
    assert labs.reference_limits("pt", grid)[0].shape == (2, 3)


@pytest.mark.parametrize("bad_age", [-1, float("nan"), np.array([1.0, -0.5])])
def test_negative_or_nan_age_is_rejected(bad_age):
    with pytest.raises(ValueError, match="age_days"):
        labs.expected_value("pt", bad_age)


def test_reference_range_rejects_negative_age():
    with pytest.raises(ValueError, match="age_days"):
        labs.reference_range("pt", -3)


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "analyte, internal, units, shown, unit",
    [
        ("platelets", 22, "conventional", 22000, "/µL"),
        ("platelets", 22, "SI", 22, "×10^9/L"),
        ("fibrinogen", 0.8, "conventional", 80, "mg/dL"),
        ("fibrinogen", 0.8, "SI", 0.8, "g/L"),
        ("hemoglobin", 9, "SI", 90, "g/L"),
        ("hemoglobin", 9, "conventional", 9, "g/dL"),
        ("d_dimer", 38, "conventional", 38000, "ng/mL FEU"),
        ("d_dimer", 38, "SI", 38, "mg/L FEU"),
        ("pt", 14.2, "conventional", 14.2, "s"),
        ("aptt", 45.0, "SI", 45.0, "s"),
    ],
)
def test_convert_to_display_units(analyte, internal, units, shown, unit):
    assert labs.convert(analyte, internal, units) == pytest.approx(shown)
    assert labs.display_unit(analyte, units) == unit


@pytest.mark.parametrize("units", labs.UNIT_SYSTEMS)
@pytest.mark.parametrize("analyte", labs.ANALYTES)
def test_convert_round_trips_through_to_internal(analyte, units):
    values = np.array([0.0, 0.37, 1.0, 22.0, 450.0])
    shown = labs.convert(analyte, values, units)
    assert labs.to_internal(analyte, shown, units) == pytest.approx(values)


def test_unit_strings_are_plain_utf8_with_micro_sign():
    unit = labs.display_unit("platelets", "conventional")
    assert unit.encode("utf-8").decode("utf-8") == unit
    assert "\u00b5" in unit


# --------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "analyte, value, expected",
    [
        ("platelets", 22, "L"),  # KMP-range count above the critical limit
        ("platelets", 15, "LL"),
        ("platelets", 20, "L"),  # the critical limit itself is not "critically low"
        ("platelets", 300, ""),
        ("platelets", 800, "H"),
        ("fibrinogen", 0.8, "LL"),
        ("fibrinogen", 1.2, "L"),
        ("fibrinogen", 2.5, ""),
        ("d_dimer", 38, "H"),
        ("hemoglobin", 6.1, "LL"),
        ("pt", 35, "HH"),
        ("aptt", 150, "HH"),
        ("aptt", 45, ""),
    ],
)
def test_flag_at_six_weeks(analyte, value, expected):
    assert labs.flag(analyte, value, AGE) == expected


@pytest.mark.parametrize("analyte", labs.ANALYTES)
def test_values_on_the_limits_count_as_normal(analyte):
    rng = labs.reference_range(analyte, 30)
    assert labs.flag(analyte, rng.low, 30) == ""
    assert labs.flag(analyte, rng.high, 30) == ""


def test_kmp_d_dimer_is_more_than_ten_times_the_upper_limit():
    high = labs.reference_range("d_dimer", AGE).high
    assert KMP_AT_6_WEEKS["d_dimer"] > 10 * high


def test_same_hemoglobin_is_low_at_two_weeks_but_normal_at_nadir():
    assert labs.flag("hemoglobin", 10.0, 14) == "L"
    assert labs.flag("hemoglobin", 10.0, 60) == ""


@pytest.mark.parametrize("units", labs.UNIT_SYSTEMS)
def test_flags_do_not_depend_on_display_units(units):
    low = labs.reference_range("fibrinogen", 30).low
    for value in (low - 1e-9, low, low + 1e-9):
        panel = labs.lab_panel({"fibrinogen": value}, 30, units)
        assert panel["fibrinogen"].flag == labs.flag("fibrinogen", value, 30)


@pytest.mark.parametrize(
    "flag_code, words",
    [("", ""), ("L", "low"), ("H", "high"), ("LL", "critically low"), ("HH", "critically high")],
)
def test_flag_text_spells_out_the_flag(flag_code, words):
    result = labs.LabResult("pt", "PT", 1.0, "s", 0.0, 2.0, flag_code, False, "x")
    assert result.flag_text == words


# --------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------


def test_panel_keeps_panel_order_and_omits_missing_and_unknown_keys():
    panel = labs.lab_panel({"d_dimer": 1.0, "platelets": 200, "ferritin": 50, "pt": None}, AGE)
    assert [r.analyte for r in panel] == ["platelets", "d_dimer"]
    assert len(panel) == 2
    assert "pt" not in panel and "platelets" in panel


def test_panel_is_indexed_by_name_and_position():
    panel = labs.lab_panel(KMP_AT_6_WEEKS, AGE)
    assert panel["fibrinogen"] is panel[4]
    assert panel[-1].analyte == "d_dimer"
    assert [r.analyte for r in panel[:2]] == ["platelets", "hemoglobin"]
    with pytest.raises(KeyError, match="ferritin"):
        panel["ferritin"]


def test_panel_and_results_are_immutable():
    panel = labs.lab_panel(KMP_AT_6_WEEKS, AGE)
    with pytest.raises(AttributeError):
        panel.units = "conventional"
    with pytest.raises(AttributeError):
        panel["platelets"].value = 300
    with pytest.raises(TypeError):
        panel[0] = panel[1]


def test_conventional_panel_shows_converted_values_and_limits():
    panel = labs.lab_panel(KMP_AT_6_WEEKS, AGE, units="conventional")
    plt = panel["platelets"]
    assert (plt.value, plt.unit, plt.low, plt.high) == (pytest.approx(22000), "/µL", 150000, 450000)
    assert panel["fibrinogen"].value == pytest.approx(80)
    assert panel.units == "conventional" and panel.age_days == AGE


def test_kmp_panel_flags():
    flags = {r.analyte: r.flag for r in labs.lab_panel(KMP_AT_6_WEEKS, AGE)}
    assert flags == {"platelets": "L", "hemoglobin": "L", "pt": "", "aptt": "", "fibrinogen": "LL", "d_dimer": "H"}


def test_as_dicts_gives_plain_dicts_in_display_units():
    rows = labs.lab_panel(KMP_AT_6_WEEKS, AGE, "SI").as_dicts()
    assert all(type(row) is dict for row in rows)
    hb = rows[1]
    assert hb["analyte"] == "hemoglobin" and hb["value"] == pytest.approx(90) and hb["unit"] == "g/L"
    assert hb["flag_text"] == "low"


def test_to_text_is_deterministic_and_shows_flags_as_symbols_and_words():
    text = labs.lab_panel(KMP_AT_6_WEEKS, AGE).to_text()
    assert text == labs.lab_panel(dict(KMP_AT_6_WEEKS), AGE).to_text()
    assert repr(labs.lab_panel(KMP_AT_6_WEEKS, AGE)) == text == str(labs.lab_panel(KMP_AT_6_WEEKS, AGE))
    assert "0x" not in text
    for cell in ("L  low", "LL critically low", "H  high"):
        assert cell in text
    for column in ("Test", "Result", "Unit", "Flag", "Reference range"):
        assert column in text.splitlines()[1]
    assert "~0.11–0.42" in text  # approximate D-dimer range
    assert "150–450" in text and "~150" not in text  # verified platelet range
    assert any(line.startswith("~ approximate range") for line in text.splitlines())
    assert "laboratory" in text.splitlines()[-1]
    text.encode("utf-8")


def test_to_text_columns_line_up():
    lines = labs.lab_panel(KMP_AT_6_WEEKS, AGE, "conventional").to_text().splitlines()
    header, rows = lines[1], lines[3:9]
    unit_col = header.index("Unit")
    result_end = header.index("Result") + len("Result")
    for row, analyte in zip(rows, labs.ANALYTES):
        assert row[unit_col:].startswith(labs.display_unit(analyte, "conventional"))
        assert row[result_end - 1] != " "  # results are right-aligned


def test_to_text_omits_footnote_when_no_range_is_approximate():
    text = labs.lab_panel({"platelets": 22}, AGE).to_text()
    assert "~" not in text


def test_empty_panel_still_renders():
    panel = labs.lab_panel({}, AGE)
    assert len(panel) == 0
    assert "(no results)" in panel.to_text()


@pytest.mark.parametrize("bad", [float("nan"), np.nan])
def test_nan_value_raises_naming_the_analyte(bad):
    with pytest.raises(ValueError, match="fibrinogen"):
        labs.lab_panel({"fibrinogen": bad}, AGE)


@pytest.mark.parametrize("bad", [-1.0, math.inf])
def test_negative_or_infinite_value_is_rejected(bad):
    with pytest.raises(ValueError, match="platelets"):
        labs.lab_panel({"platelets": bad}, AGE)


def test_non_numeric_value_is_rejected():
    with pytest.raises(TypeError, match="platelets"):
        labs.lab_panel({"platelets": "22"}, AGE)


# --------------------------------------------------------------------------
# Invalid names
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: labs.reference_range("platelet", 10),
        lambda: labs.expected_value("Fibrinogen", 10),
        lambda: labs.reference_limits("inr", 10),
        lambda: labs.convert("ddimer", 1.0, "SI"),
        lambda: labs.display_unit("hb", "SI"),
        lambda: labs.flag("ptt", 40, 10),
    ],
)
def test_unknown_analyte_error_lists_valid_names(call):
    with pytest.raises(ValueError) as info:
        call()
    for name in labs.ANALYTES:
        assert name in str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: labs.lab_panel(KMP_AT_6_WEEKS, AGE, units="metric"),
        lambda: labs.convert("platelets", 22, "si"),
        lambda: labs.display_unit("platelets", "US"),
    ],
)
def test_unknown_units_error_lists_both_systems(call):
    with pytest.raises(ValueError) as info:
        call()
    assert "'SI'" in str(info.value) and "'conventional'" in str(info.value)


# --------------------------------------------------------------------------
# The YAML file
# --------------------------------------------------------------------------


def shipped() -> dict:
    return yaml.safe_load((assets_dir() / labs.FILENAME).read_text(encoding="utf-8"))


def test_shipped_file_validates_and_matches_the_default_tables(tmp_path):
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(shipped(), allow_unicode=True), encoding="utf-8")
    loaded = labs.load_reference_ranges(path)
    assert tuple(loaded) == labs.ANALYTES
    default = labs.load_reference_ranges()
    for analyte in labs.ANALYTES:
        assert np.array_equal(loaded[analyte].low, default[analyte].low)
        assert loaded[analyte].citation and loaded[analyte].note


def test_fibrinogen_critical_limit_is_the_verified_ji_2020_threshold():
    crit = labs.load_reference_ranges()["fibrinogen"].critical_low
    assert crit.value == 1.0 and crit.evidence == "V" and "Ji" in crit.citation


def _set(path_in_doc, value):
    def mutate(doc):
        *parents, last = path_in_doc
        node = doc
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _delete(*path_in_doc):
    def mutate(doc):
        *parents, last = path_in_doc
        node = doc
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


@pytest.mark.parametrize(
    "mutate, analyte, field, message",
    [
        (_set(("fibrinogen", "points", 2, "low"), 4.0), "fibrinogen", "points[2].low", "greater than high"),
        (_delete("aptt", "points"), "aptt", "points", "missing"),
        (_set(("aptt", "points"), []), "aptt", "points", "at least one"),
        (_set(("pt", "points", 1, "mean"), "twelve"), "pt", "points[1].mean", "number"),
        (_set(("pt", "points", 1, "mean"), 20.0), "pt", "points[1].mean", "outside"),
        (_set(("d_dimer", "points", 0, "high"), -1.0), "d_dimer", "points[0].high", ">= 0"),
        (_set(("hemoglobin", "points", 3, "age_days"), 2), "hemoglobin", "points[3].age_days", "increasing"),
        (_set(("pt", "points", 0, "evidence"), "X"), "pt", "points[0].evidence", "evidence tag"),
        (
            _set(("platelets", "points", 0, "evidence", "mean"), "maybe"),
            "platelets",
            "points[0].evidence.mean",
            "evidence tag",
        ),
        (_set(("fibrinogen", "unit"), "mg/dL"), "fibrinogen", "unit", "g/L"),
        (
            _set(("fibrinogen", "critical_low", "value"), 2.0),
            "fibrinogen",
            "critical_low.value",
            "lowest reference limit",
        ),
        (_set(("pt", "critical_high", "evidence"), "?"), "pt", "critical_high.evidence", "evidence tag"),
        (_set(("platelets", "critcal_low"), {"value": 20}), "platelets", "critcal_low", "unknown field"),
        (_delete("d_dimer"), "d_dimer", None, "missing"),
    ],
)
def test_invalid_file_error_names_file_analyte_and_field(tmp_path, mutate, analyte, field, message):
    doc = copy.deepcopy(shipped())
    mutate(doc)
    path = tmp_path / "bad_ranges.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(AssetError) as info:
        labs.load_reference_ranges(path)
    text = str(info.value)
    assert str(path) in text
    assert info.value.item == analyte and f": {analyte}: " in text
    if field is not None:
        assert info.value.field == field and field in text
    assert message in text


def test_unknown_analyte_in_file_is_reported(tmp_path):
    doc = shipped()
    doc["platlets"] = doc.pop("platelets")
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(AssetError, match="platlets.*valid names are platelets"):
        labs.load_reference_ranges(path)


def test_unreadable_yaml_is_reported_as_asset_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("platelets: [unclosed\n", encoding="utf-8")
    with pytest.raises(AssetError, match="broken.yaml"):
        labs.load_reference_ranges(path)

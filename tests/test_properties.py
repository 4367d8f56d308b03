"""Property tests over random parameter sets within their declared ranges."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kms_teach as k
from kms_teach.parameters import load_parameters

TABLE = load_parameters()
CASES = ["khe-kms", "khe-onset", "ta-kms", "rich", "sepsis-dic", "nait", "infantile-hemangioma"]
PLANS = [[], ["sirolimus@0"], ["sirolimus@0", "prednisolone@0"], ["vincristine@3"], ["propranolol@0"],
         ["platelet-transfusion@1", "cryoprecipitate@1", "rbc-transfusion@2", "ffp@2"],
         ["embolization@2"], ["excision@5"], ["heparin@0"], ["interferon-alpha@0", "aspirin@0", "ticlopidine@0"],
         ["prednisolone@0-5", "radiation@1"]]
POOLS = k.LABS + ("tumour_activity", "tumour_bulk", "factors", "red_cells")


@st.composite
def parameter_sets(draw):
    return {name: draw(st.floats(p.low, p.high, allow_nan=False)) for name, p in TABLE.items()}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parameters=parameter_sets(), case=st.sampled_from(CASES), plan=st.sampled_from(PLANS),
       severity=st.floats(0, 5))
def test_every_pool_stays_finite_and_non_negative(parameters, case, plan, severity):
    result = k.simulate(case, plan, days=40, every_hours=12, parameters=parameters, severity=severity)
    for name in POOLS:
        values = getattr(result, name)
        assert np.all(np.isfinite(values)), name
        assert np.all(values >= 0), name


@settings(max_examples=500, deadline=None)
@given(parameters=parameter_sets(), plan=st.sampled_from(PLANS),
       low=st.floats(0, 4), extra=st.floats(0.01, 1))
def test_more_tumour_activity_never_raises_platelets(parameters, plan, low, extra):
    calm = k.simulate("khe-kms", plan, days=40, every_hours=12, parameters=parameters, severity=low)
    busy = k.simulate("khe-kms", plan, days=40, every_hours=12, parameters=parameters, severity=low + extra)
    assert np.all(busy.platelets <= calm.platelets * (1 + 1e-9))

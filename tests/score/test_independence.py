"""Distance to target: adding a school changes no other school's score (and min-max, for contrast, does)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ims_indicators.score.engine import score_table

from .conftest import small_model, small_table

value = st.one_of(st.none(), st.floats(min_value=-20, max_value=150, allow_nan=False))


@settings(max_examples=40, deadline=None)
@given(a=value, b=value, c=st.one_of(st.none(), st.floats(0, 20)), e=value, accredited=st.sampled_from([0, 1]))
def test_adding_a_school_changes_no_other_score(a, b, c, e, accredited):
    model = small_model()
    base = small_table()
    before = score_table(model, base).table.set_index("school_id")
    new = pd.DataFrame([{"school_id": "new", "region": "s", "accredited": accredited,
                         "a": a, "b": b, "c": c, "e": e}]).astype({k: float for k in "abce"})
    after = score_table(model, pd.concat([base, new], ignore_index=True)).table.set_index("school_id")
    cols = ["d1", "d2", "overall", "decision", "reasons"]
    pd.testing.assert_frame_equal(before[cols], after.loc[before.index, cols])


def test_minmax_depends_on_who_else_submitted():
    model = small_model(normalise={"method": "minmax"})
    base = small_table()
    before = score_table(model, base).table.set_index("school_id")["overall"]
    extra = pd.DataFrame([{"school_id": "new", "region": "s", "accredited": 1, "a": 200.0, "b": 0.0,
                           "c": 0.0, "e": 0.0}])
    after = score_table(model, pd.concat([base, extra], ignore_index=True)).table.set_index("school_id")["overall"]
    assert not np.allclose(before, after.loc[before.index])

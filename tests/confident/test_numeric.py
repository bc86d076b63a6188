"""The bit-exact helpers: rounding, selection and float bisection."""

from __future__ import annotations

import numpy as np
from cleanlab.internal.util import round_preserving_row_totals as cl_round
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ls_cleanlab.confident._binary import boundaries
from ls_cleanlab.confident._numeric import last_true, round_preserving_row_totals, select_smallest

finite = st.floats(-50, 50, allow_nan=False)


@given(matrix=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2), elements=finite))
def test_rounding_matches_cleanlab(matrix):
    np.testing.assert_array_equal(round_preserving_row_totals(matrix), cl_round(matrix))


@given(matrix=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2), elements=finite))
def test_rounding_keeps_row_totals(matrix):
    rounded = round_preserving_row_totals(matrix)
    np.testing.assert_array_equal(rounded.sum(axis=1), np.round(matrix.sum(axis=1)))


@given(
    key=hnp.arrays(np.float64, st.integers(1, 60), elements=st.sampled_from([0.0, 0.5, 1.0, -1.0])),
    data=st.data(),
)
def test_select_smallest_is_argsort_prefix_even_with_ties(key, data):
    m = data.draw(st.integers(-1, len(key) + 1))
    expected = np.zeros(len(key), dtype=bool)
    expected[np.argsort(key)[: max(m, 0)]] = True
    np.testing.assert_array_equal(select_smallest(key, m), expected)


@given(cut=st.floats(-0.9, 1.9, allow_nan=False))
def test_last_true_finds_the_exact_boundary(cut):
    x = last_true(lambda v: (1 - v) >= cut)
    assert (1 - x) >= cut
    assert not (1 - np.nextafter(x, np.inf)) >= cut


def test_last_true_edges():
    assert last_true(lambda v: v < -5) == -np.inf  # never true
    assert last_true(lambda v: v < 5) == 2.0  # true on the whole range
    bounds = last_true(lambda v: v <= np.array([0.1, 0.7]), (2,))
    np.testing.assert_array_equal(bounds, [0.1, 0.7])


def test_boundaries_are_cleanlabs_cuts():
    keep_pos, keep_neg, argmax0 = boundaries()
    assert argmax0 == 0.5
    assert keep_pos + 1e-6 <= 1 - keep_pos
    nxt = np.nextafter(keep_pos, 1)
    assert nxt + 1e-6 > 1 - nxt
    assert (1 - keep_neg) + 1e-6 >= keep_neg
    nxt = np.nextafter(keep_neg, 1)
    assert (1 - nxt) + 1e-6 < nxt

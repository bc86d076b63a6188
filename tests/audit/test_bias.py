"""Unit tests of the labeler-bias statistics."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab import Annotations
from ls_cleanlab.audit.bias import _pairs, annotator_bias, class_bias, session_positions
from ls_cleanlab.audit.stats import sign_test


def test_pairs_cover_every_ordered_pair_on_a_task() -> None:
    ann = Annotations(
        task=[3, 1, 3, 3, 1, 0],
        annotator=["a", "a", "b", "c", "b", "a"],
        labels=np.ones((6, 2)),
    )
    first, second = _pairs(ann)
    got = sorted(zip(first.tolist(), second.tolist(), strict=True))
    expected = sorted(
        (i, j) for i in range(6) for j in range(6) if i != j and ann.task[i] == ann.task[j]
    )
    assert got == expected


def test_sign_test_matches_the_binomial() -> None:
    p = sign_test(np.array([10.0, 5.0, 0.0]), np.array([0.0, 5.0, 0.0]))
    assert p[0] == pytest.approx(0.5**10)
    assert p[1] == pytest.approx(0.623046875)
    assert np.isnan(p[2])


def test_session_positions_restart_after_a_long_gap() -> None:
    times = np.array([0.0, 10, 20, 5000, 5010, 9000])
    np.testing.assert_array_equal(session_positions(times, gap=1800), [0, 1, 2, 0, 1, 0])


def test_subset_rates_and_label_counts() -> None:
    # "short" always gives a strict subset of "full"'s labels
    labels = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1]])
    ann = Annotations(task=[0, 0, 1, 1], annotator=["short", "full"] * 2, labels=labels)
    bias = annotator_bias(ann, None)
    assert list(bias.annotator_ids) == ["short", "full"]
    np.testing.assert_allclose(bias.subset_rate, [1.0, 0.0])
    np.testing.assert_allclose(bias.superset_rate, [0.0, 1.0])
    np.testing.assert_allclose(bias.labels_vs_coannotators, [-1.0, 1.0])
    assert np.isnan(bias.anchoring_p).all() and np.isnan(bias.fatigue_p).all()


def test_lead_time_per_label() -> None:
    ann = Annotations(
        task=[0, 1, 2],
        annotator=[7, 7, 8],
        labels=[[1, 1], [1, 0], [0, 0]],
        lead_time=[6.0, 3.0, 5.0],
    )
    bias = annotator_bias(ann, None)
    assert bias.lead_time_per_label[0] == pytest.approx(3.0)
    assert np.isnan(bias.lead_time_per_label[1])  # no labels given at all


def test_class_bias_rates() -> None:
    given = np.array([[1, 0], [0, 0], [1, 1], [0, 0]])
    present = np.array([[0.9, 0.8], [0.1, 0.6], [0.8, 0.9], [0.2, 0.1]])
    out = class_bias(given, present)
    np.testing.assert_allclose(out.prevalence, [0.5, 0.25])
    np.testing.assert_allclose(out.miss_rate, [0.3 / 2.0, 1.5 / 2.4])
    np.testing.assert_allclose(out.spurious_rate, [0.3 / 2, 0.1])

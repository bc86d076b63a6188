"""agreement(): Krippendorff's alpha on the published examples, Jaccard agreement per task and per
pair of annotators, identical annotators agreeing perfectly, no overlap giving NaN."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import Agreement, agreement
from tests.annotators.crowds import long_table


def test_identical_annotators_agree_perfectly() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random((30, 4)) < 0.4).astype(np.int8)
    labels[0] = [1, 1, 1, 1]
    labels[1] = 0
    n = len(labels)
    ann = Annotations(
        task=np.tile(np.arange(n), 3),
        annotator=np.repeat(["x", "y", "z"], n),
        labels=np.tile(labels, (3, 1)),
    )
    agree = agreement(ann, n)
    assert isinstance(agree, Agreement)
    np.testing.assert_array_equal(agree.per_task, 1.0)
    np.testing.assert_array_equal(agree.per_class_alpha, 1.0)
    assert agree.alpha == 1.0
    np.testing.assert_array_equal(agree.pairwise, 1.0)
    np.testing.assert_array_equal(agree.shared, n)


def test_krippendorff_binary_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", binary data, two
    # observers, ten units: alpha = 1 - 19 * 4 / (14 * 6) = 0.095
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    ann = Annotations(
        task=np.tile(np.arange(10), 2),
        annotator=np.repeat(["A", "B"], 10),
        labels=np.array(a + b)[:, None],
    )
    agree = agreement(ann, 10)
    assert agree.per_class_alpha[0] == pytest.approx(1 - 19 * 4 / 84)
    assert round(agree.alpha, 3) == 0.095


def test_krippendorff_nominal_example_with_missing_values() -> None:
    # Krippendorff (2011): four observers, twelve units, values 1..5, missing data;
    # nominal alpha = 0.743
    nan = np.nan
    table = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
        ]
    )
    observer, unit = np.nonzero(~np.isnan(table))
    ann = Annotations.from_class_indices(unit, observer, table[observer, unit].astype(int) - 1, 5)
    agree = agreement(ann, 12)
    assert round(agree.alpha, 3) == 0.743
    assert np.isnan(agree.per_task[11])  # one value: not pairable
    assert agree.per_task[0] == 1.0 and agree.per_task[5] == 0.0


def test_jaccard_definitions_and_pairwise_counts() -> None:
    sets = [
        [("a", []), ("b", [])],  # two empty sets agree: 1
        [("a", [0, 1]), ("b", [1]), ("c", [2])],  # pairs: 1/2, 0, 0
        [("c", [0])],  # one annotation: NaN
    ]
    ann = long_table(sets, 3)
    agree = agreement(ann, 4)
    np.testing.assert_allclose(agree.per_task[:2], [1.0, 1 / 6])
    assert np.isnan(agree.per_task[2:]).all()
    assert agree.annotator_ids.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(agree.shared, [[2, 2, 1], [2, 2, 1], [1, 1, 2]])
    np.testing.assert_allclose(agree.pairwise[0, 1], (1 + 0.5) / 2)
    assert agree.pairwise[0, 2] == 0.0 and agree.pairwise[2, 2] == 1.0


def test_agreement_without_overlap_is_nan_not_an_error() -> None:
    ann = long_table([[("a", [0])], [("b", [1])]], 2)
    agree = agreement(ann, 2)
    assert np.isnan(agree.per_task).all()
    assert np.isnan(agree.per_class_alpha).all() and np.isnan(agree.alpha)
    assert np.isnan(agree.pairwise[0, 1]) and agree.shared[0, 1] == 0

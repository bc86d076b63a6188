"""annotator_table(): one row per annotator, checked by hand, single-label, and refusing tables that
do not match the consensus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import annotator_table, consensus
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, InvalidPredProbsError
from tests.annotators.crowds import long_table, simulate_single


def test_annotator_table_by_hand() -> None:
    sets = [
        [("a", [0, 1]), ("b", [0, 1]), ("c", [0])],
        [("a", [2]), ("b", [2]), ("c", [])],
        [("a", [1])],
    ]
    lead = np.array([10.0, 5.0, np.nan, 20.0, np.nan, np.nan, 30.0])  # rows a, b, c, a, b, c, a
    ann = long_table(sets, 3, lead_time=lead)
    cons = consensus(ann, 3, method="majority")
    assert cons.labels.tolist() == [[1, 1, 0], [0, 0, 1], [0, 1, 0]]
    table = annotator_table(ann, cons, class_names=["cat", "dog", "fox"])
    assert table["annotator"].tolist() == ["c", "a", "b"]  # worst first
    row = table.set_index("annotator")
    assert row.loc["c", "quality"] == pytest.approx(0.25)
    assert row.loc["c", "agreement"] == pytest.approx(0.25)
    assert row.loc["c", "missing_rate"] == pytest.approx(2 / 3)
    assert row.loc["c", "spurious_rate"] == 0.0
    assert row.loc["c", "labels_per_task"] == 0.5
    assert row.loc["c", "expected_labels_per_task"] == pytest.approx((5 / 3 + 2 / 3) / 2)
    assert row.loc["c", "worst_class"] == "dog"
    assert np.isnan(row.loc["c", "mean_lead_time"])
    assert row.loc["a", "agreement"] == 1.0 and pd.isna(row.loc["a", "worst_class"])
    assert row.loc["a", "n_tasks"] == 3 and row.loc["a", "n_shared_tasks"] == 2
    assert row.loc["a", "labels_per_task"] == pytest.approx(4 / 3)
    assert row.loc["a", "mean_lead_time"] == 20.0 and row.loc["b", "mean_lead_time"] == 5.0
    assert "model_agreement" not in table.columns
    with_model = annotator_table(ann, cons, np.full((3, 3), 0.5))
    np.testing.assert_allclose(with_model["model_agreement"], 0.5)
    assert with_model.loc[with_model["annotator"] == "c", "worst_class"].item() == 1


def test_annotator_table_single_label() -> None:
    ann, _, probs = simulate_single(1, n=200)
    cons = consensus(ann, 200, probs)
    table = annotator_table(ann, cons, probs)
    assert table["annotator"].iloc[0] == "a4"
    np.testing.assert_allclose(table["labels_per_task"], 1.0)
    np.testing.assert_allclose(table["expected_labels_per_task"], 1.0)
    assert (table["quality"].diff().dropna() >= 0).all()


def test_annotator_table_rejects_mismatches(small_crowd: tuple[Annotations, np.ndarray]) -> None:
    small, probs = small_crowd
    cons = consensus(small, 2, probs)
    other = long_table([[("a", [0]), ("z", [1])], [("a", [1]), ("z", [1])]], 2)
    with pytest.raises(InvalidAnnotationsError, match="other annotators"):
        annotator_table(other, cons)
    wider = long_table([[("a", [0]), ("b", [2])]], 3)
    with pytest.raises(InvalidAnnotationsError, match="classes"):
        annotator_table(wider, cons)
    with pytest.raises(InvalidOptionError, match="class_names"):
        annotator_table(small, cons, class_names=["x"])
    with pytest.raises(InvalidPredProbsError, match=r"\(2, 2\)"):
        annotator_table(small, cons, np.full((3, 2), 0.5))
    with pytest.raises(InvalidOptionError, match="Consensus"):
        annotator_table(small, {"labels": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidAnnotationsError, match="Annotations table"):
        annotator_table(small.to_frame(), cons)  # type: ignore[arg-type]

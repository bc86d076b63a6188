"""Multi-label dataset summaries: the same DataFrames cleanlab 2.9.0 builds."""

from __future__ import annotations

import cleanlab.multilabel_classification.dataset as cl_dataset
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_cleanlab.confident import (
    common_multilabel_issues,
    multilabel_health_summary,
    overall_multilabel_health_score,
    rank_classes_by_multilabel_quality,
)
from ls_cleanlab.errors import InvalidOptionError
from tests.confident.strategies import as_lists, multilabel_case, quiet


@given(case=multilabel_case(max_n=60), named=st.booleans())
def test_summaries_match_cleanlab(case, named):
    given_matrix, probs = case
    names = [f"class {c}" for c in range(probs.shape[1])] if named else None
    lists = as_lists(given_matrix)
    expected_common = quiet(cl_dataset.common_multilabel_issues, lists, probs, class_names=names)
    expected_classes = quiet(
        cl_dataset.rank_classes_by_multilabel_quality, lists, probs, class_names=names
    )
    expected_score = quiet(cl_dataset.overall_multilabel_health_score, lists, probs)
    common = quiet(common_multilabel_issues, given_matrix, probs, class_names=names)
    classes = quiet(rank_classes_by_multilabel_quality, given_matrix, probs, class_names=names)
    pd.testing.assert_frame_equal(common, expected_common)
    pd.testing.assert_frame_equal(classes, expected_classes)
    assert quiet(overall_multilabel_health_score, given_matrix, probs) == expected_score
    summary = quiet(multilabel_health_summary, given_matrix, probs, class_names=names)
    assert summary.score == expected_score
    pd.testing.assert_frame_equal(summary.common_issues, expected_common)
    pd.testing.assert_frame_equal(summary.classes, expected_classes)


def test_summary_points_at_the_noisy_class():
    rng = np.random.default_rng(5)
    truth = rng.random((500, 3)) < 0.3
    probs = np.where(truth, 0.95, 0.05)
    given_matrix = truth.copy()
    dropped = np.flatnonzero(truth[:, 2])[:40]
    given_matrix[dropped, 2] = False  # annotators missed class 2 forty times
    summary = multilabel_health_summary(given_matrix, probs, class_names=["a", "b", "c"])
    top = summary.common_issues.iloc[0]
    assert (top["Class Name"], bool(top["In Given Label"]), top["Num Examples"]) == ("c", False, 40)
    assert summary.score == pytest.approx(1 - 40 / 500)


def test_class_names_must_match():
    with pytest.raises(InvalidOptionError, match="class_names has 1 entries"):
        common_multilabel_issues([[0], [1], []], np.full((3, 2), 0.3), class_names=["a"])

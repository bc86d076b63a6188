"""Tests of the out-of-distribution scores."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.audit.outliers import outlier_scores


def test_clean_data_flags_nothing_and_scores_are_percentiles() -> None:
    rng = np.random.default_rng(0)
    out = outlier_scores(rng.uniform(0.01, 0.2, (500, 4)), rng.normal(size=(500, 3)))
    assert not out.flagged.any()
    assert out.score.min() > 0 and out.score.max() == 1.0


def test_far_points_are_flagged_by_the_view_that_sees_them() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(400, 3))
    features[5] = 30.0
    probs = rng.uniform(0.0, 0.05, (400, 4))
    probs[9] = 0.5  # unsure about every class
    out = outlier_scores(probs, features)
    assert set(np.flatnonzero(out.flagged)) >= {5, 9}
    assert out.source[5] == "features" and out.source[9] == "model"


def test_single_label_entropy_and_missing_inputs() -> None:
    probs = np.tile([0.97, 0.01, 0.01, 0.01], (300, 1))
    probs[3] = 0.25
    out = outlier_scores(probs, single_label=True)
    assert out.flagged[3] and out.flagged.sum() == 1
    with pytest.raises(ValueError, match="needs pred_probs or features"):
        outlier_scores(None, None)

"""multiannotator_quality_ensemble() equals cleanlab 2.9.0's
get_label_quality_multiannotator_ensemble, bit for bit; with one model it is the one-model
function; bad input."""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cleanlab.multiannotator import get_label_quality_multiannotator_ensemble
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ls_cleanlab.annotators import multiannotator_quality, multiannotator_quality_ensemble
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, InvalidPredProbsError
from tests.annotators.test_multiannotator import assert_same, wide_case


@st.composite
def ensemble_case(draw: st.DrawFn, max_models: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's wide labels and ``(P, N, K)`` probabilities; with eight or more terms per
    average (models plus annotators), numpy sums them pairwise, which the sizes reach."""
    wide, first = draw(wide_case(max_n=12, max_m=4))
    p = draw(st.integers(1, max_models))
    raw = draw(hnp.arrays(np.float64, (p - 1, *first.shape), elements=st.floats(0.01, 1)))
    others = raw / raw.sum(axis=2, keepdims=True)
    return wide, np.concatenate((first[None], others))


def cleanlab_ensemble(wide: np.ndarray, probs: np.ndarray, **kwargs: Any) -> dict[str, Any]:
    """cleanlab's answer on a copy (it overwrites calibrated probabilities); cases it settles
    at random, or fails on, are skipped as in test_multiannotator."""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            result = get_label_quality_multiannotator_ensemble(
                wide, probs.copy(), verbose=False, **kwargs
            )
        except ValueError as exc:
            assume("cannot be empty" not in str(exc))
            raise
    assume(not any("random" in str(w.message) for w in caught))
    return result


def ours(wide: Any, probs: np.ndarray, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return multiannotator_quality_ensemble(wide, probs, **kwargs)


OPTIONS = {
    "default": {},
    "weights": {"return_weights": True},
    "no-detailed": {"return_detailed_quality": False, "return_weights": True},
    "no-stats": {"return_annotator_stats": False},
    "calibrated": {"calibrate_probs": True, "return_weights": True},
}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@given(case=ensemble_case())
def test_multiannotator_quality_ensemble_equals_cleanlab(
    case: tuple[np.ndarray, np.ndarray], options: dict[str, Any]
) -> None:
    wide, probs = case
    before = probs.copy()
    expected = cleanlab_ensemble(wide, probs, **options)
    assert_same(expected, ours(wide, probs, **options))
    np.testing.assert_array_equal(probs, before)  # never overwritten


@given(case=wide_case(max_n=12, max_m=4))
def test_one_model_ensemble_is_the_one_model_function(case: tuple[np.ndarray, np.ndarray]) -> None:
    # the same numbers summed in another order: equal to rounding
    wide, probs = case
    options = {
        "return_weights": True,
        "label_quality_score_kwargs": {"method": "normalized_margin"},
    }
    one = ours(wide, probs[None], **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        single = multiannotator_quality(wide, probs, **options)
    labels = one["label_quality"]
    assume((labels["consensus_label"] == single["label_quality"]["consensus_label"]).all())
    for key in ("label_quality", "detailed_label_quality", "annotator_stats"):
        got, want = one[key], single[key]
        assert list(got.columns) == list(want.columns)
        if key == "annotator_stats":
            # sorted by quality, whose near-ties may fall either way, and so may the worst
            # class's tie-break on mean quality: compare annotator by annotator, without it
            assert set(got.index) == set(want.index)
            got, want = (
                got.loc[want.index].drop(columns="worst_class"),
                want.drop(columns="worst_class"),
            )
        assert (got.index == want.index).all()
        np.testing.assert_allclose(
            got.to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=0, atol=1e-12
        )
    np.testing.assert_allclose(one["model_weight"], [single["model_weight"]], rtol=1e-15)
    np.testing.assert_array_equal(one["annotator_weight"], single["annotator_weight"])


WIDE = np.array([[0, 1, np.nan], [1, 1, 0], [2, np.nan, 2]])
PROBS = np.full((2, 3, 3), 1 / 3)
NAN_IN_SECOND = PROBS.copy()
NAN_IN_SECOND[1, 2, 0] = np.nan

ERRORS = {
    "one-model-2d": (dict(pred_probs=PROBS[0]), InvalidPredProbsError, "3-D.*without _ensemble"),
    "list": (dict(pred_probs=PROBS.tolist()), InvalidOptionError, "NumPy array"),
    "rows": (
        dict(pred_probs=PROBS[:, :2]),
        InvalidAnnotationsError,
        r"\(3 examples\) but pred_probs has shape \(2, 2, 3\) \(2 examples per model\)",
    ),
    "class-beyond-probs": (
        dict(pred_probs=np.full((2, 3, 2), 0.5)),
        InvalidAnnotationsError,
        r"shape \(3, 3\)\) holds class 2 but pred_probs has shape \(2, 3, 2\): only 2 classes",
    ),
    "nan-in-model-1": (dict(pred_probs=NAN_IN_SECOND), InvalidPredProbsError, r"model 1.*rows 2"),
    "one-annotator": (
        dict(labels_multiannotator=WIDE[:, :1]),
        InvalidAnnotationsError,
        "at least 2 annotators",
    ),
    "empty-row": (
        dict(labels_multiannotator=np.vstack([WIDE[:2], [np.nan] * 3])),
        InvalidAnnotationsError,
        r"examples \[2\]",
    ),
}


@pytest.mark.parametrize(("changes", "error", "match"), ERRORS.values(), ids=ERRORS.keys())
def test_multiannotator_quality_ensemble_rejects_bad_input(
    changes: dict[str, Any], error: type, match: str
) -> None:
    args: dict[str, Any] = {"labels_multiannotator": WIDE, "pred_probs": PROBS}
    args.update(changes)
    with pytest.raises(error, match=match):
        multiannotator_quality_ensemble(**args)


def test_multiannotator_quality_ensemble_dataframe_keeps_names_and_index() -> None:
    wide = pd.DataFrame(
        {"ann": [0, 1, np.nan, 2, 2], "bob": [0, np.nan, 1, 2, 1], "cy": [1, 1, 1, np.nan, 1]},
        index=[10, 11, 12, 13, 14],
    )
    rows = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6], [0.1, 0.5, 0.4]]
    )
    probs = np.stack([rows, rows[::-1], np.roll(rows, 1, axis=1)])
    with contextlib.redirect_stdout(io.StringIO()):
        expected = get_label_quality_multiannotator_ensemble(
            wide, probs.copy(), return_weights=True, verbose=False
        )
    got = ours(wide, probs, return_weights=True)
    assert_same(expected, got)
    assert list(got["annotator_stats"].index) == list(expected["annotator_stats"].index)
    assert list(got["detailed_label_quality"].columns) == [
        "quality_annotator_ann",
        "quality_annotator_bob",
        "quality_annotator_cy",
    ]

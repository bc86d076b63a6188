"""active_learning_scores() and active_learning_scores_ensemble() equal cleanlab 2.9.0's ActiveLab
(get_active_learning_scores, get_active_learning_scores_ensemble) bit for bit, labelled and
unlabelled examples, one label per example or several; inputs untouched; bad input."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from cleanlab.multiannotator import (
    get_active_learning_scores,
    get_active_learning_scores_ensemble,
)
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ls_cleanlab.annotators import active_learning_scores, active_learning_scores_ensemble
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, InvalidPredProbsError
from tests.annotators.test_multiannotator import wide_case


def probabilities(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    raw = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.01, 1)))
    return raw / raw.sum(axis=-1, keepdims=True)


@st.composite
def labelled_case(draw: st.DrawFn, models: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wide labels (several per example, or exactly one), ``(P, N, K)`` and ``(P, N_u, K)``
    probabilities."""
    wide, first = draw(wide_case(max_n=10, max_m=4))
    if draw(st.booleans()):  # one label per example: cleanlab's unweighted branch
        keep = ~np.isnan(wide)
        keep &= np.cumsum(keep, axis=1) == 1
        wide = np.where(keep, wide, np.nan)[:, keep.any(axis=0)]
    n, k = first.shape
    probs = np.concatenate((first[None], probabilities(draw, (models - 1, n, k))))
    unlabeled = probabilities(draw, (models, draw(st.integers(1, 6)), k))
    return wide, probs, unlabeled


def cleanlab_scores(function: Callable[..., Any], *args: Any) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's answer on copies (it scales probabilities in place); cases where one of its
    majority votes is left to chance, or fails, are skipped."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            result = function(*copies)
        except ValueError as exc:
            assume("cannot be empty" not in str(exc))
            raise
    assume(not any("random" in str(w.message) for w in caught))
    return result


def quiet(function: Callable[..., Any], *args: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return function(*args)


def assert_same(expected: tuple[np.ndarray, np.ndarray], got: Any) -> None:
    assert len(got) == 2
    for want, have in zip(expected, got, strict=True):
        assert have.shape == want.shape
        np.testing.assert_array_equal(have, want)
        assert ((have >= 0) & (have <= 1)).all()


PARTS = ["labelled", "unlabelled", "both"]


def arguments(part: str, wide: Any, probs: Any, unlabeled: Any) -> tuple[Any, Any, Any]:
    if part == "labelled":
        return wide, probs, None
    if part == "unlabelled":
        return None, None, unlabeled
    return wide, probs, unlabeled


@pytest.mark.parametrize("part", PARTS)
@given(case=labelled_case(models=1))
def test_active_learning_scores_equal_cleanlab(
    case: tuple[np.ndarray, np.ndarray, np.ndarray], part: str
) -> None:
    wide, probs, unlabeled = case
    args = arguments(part, wide, probs[0], unlabeled[0])
    before = [a.copy() for a in args if a is not None]
    expected = cleanlab_scores(get_active_learning_scores, *args)
    assert_same(expected, quiet(active_learning_scores, *args))
    for old, new in zip(before, [a for a in args if a is not None], strict=True):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("part", PARTS)
@given(data=st.data())
def test_active_learning_scores_ensemble_equal_cleanlab(data: st.DataObject, part: str) -> None:
    # cleanlab refuses the unlabelled examples' majority vote of a single model
    models = data.draw(st.integers(1 if part == "labelled" else 2, 4), label="models")
    wide, probs, unlabeled = data.draw(labelled_case(models=models), label="case")
    args = arguments(part, wide, probs, unlabeled)
    before = [a.copy() for a in args if a is not None]
    expected = cleanlab_scores(get_active_learning_scores_ensemble, *args)
    assert_same(expected, quiet(active_learning_scores_ensemble, *args))
    for old, new in zip(before, [a for a in args if a is not None], strict=True):
        np.testing.assert_array_equal(old, new)


@given(case=labelled_case(models=1))
def test_one_model_ensemble_scores_unlabelled_examples_as_one_model(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    # where cleanlab refuses (one model's majority vote is its argmax), the scores are the
    # one-model function's: the same numbers summed in another order. (With labelled examples
    # too, near-ties of the consensus can fall the other way and the scores differ more.)
    _, _, unlabeled = case
    _, one = active_learning_scores(pred_probs_unlabeled=unlabeled[0])
    _, ensemble = active_learning_scores_ensemble(pred_probs_unlabeled=unlabeled)
    np.testing.assert_allclose(ensemble, one, rtol=0, atol=1e-12)


def test_unlabelled_scores_rank_uncertain_examples_first() -> None:
    # a sure prediction is worth less to label than an unsure one, labelled or not
    unlabeled = np.array([[0.98, 0.01, 0.01], [0.4, 0.35, 0.25]])
    _, scores = active_learning_scores(pred_probs_unlabeled=unlabeled)
    assert scores[1] < scores[0]
    assert (scores > 1 / 3).all()


WIDE = np.array([[0, 1, np.nan], [1, 1, 0], [2, np.nan, 2]])
PROBS = np.full((3, 3), 1 / 3)

ERRORS = {
    "nothing": (active_learning_scores, dict(), InvalidOptionError, "both are None"),
    "probs-without-labels": (
        active_learning_scores,
        dict(pred_probs=PROBS),
        InvalidOptionError,
        "without labels_multiannotator",
    ),
    "three-d-to-one-model": (
        active_learning_scores,
        dict(pred_probs_unlabeled=PROBS[None]),
        InvalidPredProbsError,
        "active_learning_scores_ensemble",
    ),
    "two-d-to-ensemble": (
        active_learning_scores_ensemble,
        dict(labels_multiannotator=WIDE, pred_probs=PROBS),
        InvalidPredProbsError,
        "3-D",
    ),
    "classes-differ": (
        active_learning_scores,
        dict(labels_multiannotator=WIDE, pred_probs=PROBS, pred_probs_unlabeled=PROBS[:, :2] * 1.5),
        InvalidPredProbsError,
        "2 classes but pred_probs has 3",
    ),
    "models-differ": (
        active_learning_scores_ensemble,
        dict(
            labels_multiannotator=WIDE,
            pred_probs=np.stack([PROBS] * 2),
            pred_probs_unlabeled=PROBS[None],
        ),
        InvalidPredProbsError,
        "1 models but pred_probs has 2",
    ),
    "ensemble-rows-differ": (
        active_learning_scores_ensemble,
        dict(labels_multiannotator=WIDE, pred_probs=np.stack([PROBS[:2]] * 2)),
        InvalidAnnotationsError,
        r"pred_probs has shape \(2, 2, 3\) \(2 examples per model\)",
    ),
    "empty-row": (
        active_learning_scores,
        dict(
            labels_multiannotator=np.vstack([WIDE, [np.nan] * 3]), pred_probs=np.full((4, 3), 1 / 3)
        ),
        InvalidAnnotationsError,
        r"examples \[3\]",
    ),
    "unlabelled-nan": (
        active_learning_scores,
        dict(pred_probs_unlabeled=np.full((2, 3), np.nan)),
        InvalidPredProbsError,
        "pred_probs_unlabeled: .*NaN",
    ),
}


@pytest.mark.parametrize(("function", "args", "error", "match"), ERRORS.values(), ids=ERRORS.keys())
def test_active_learning_scores_reject_bad_input(
    function: Callable[..., Any], args: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        function(**args)

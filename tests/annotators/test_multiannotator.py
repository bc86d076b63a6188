"""multiannotator_quality() (cleanlab's get_label_quality_multiannotator on the wide table) and the
single-label CROWDLAB consensus are identical to cleanlab 2.9.0, ties included; bad input."""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cleanlab.multiannotator import get_label_quality_multiannotator
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus, multiannotator_quality
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError


@st.composite
def wide_case(draw: st.DrawFn, max_n: int = 16, max_m: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's input: (N, M) class indices with NaN, and (N, K) probabilities.

    Small label alphabets make ties; ``used < K`` leaves classes nobody chose; the masks make
    annotators with one task and tasks with one annotator.
    """
    n = draw(st.integers(2, max_n))
    m = draw(st.integers(2, max_m))
    k = draw(st.integers(2, 4))
    used = draw(st.integers(1, k))
    labels = draw(hnp.arrays(np.int64, (n, m), elements=st.integers(0, used - 1)))
    missing = draw(hnp.arrays(np.bool_, (n, m)))
    missing[:, draw(st.integers(0, m - 1))] &= draw(st.booleans())
    empty_rows = missing.all(axis=1)
    missing[empty_rows, draw(st.integers(0, m - 1))] = False
    for j in np.flatnonzero(missing.all(axis=0)):
        missing[draw(st.integers(0, n - 1)), j] = False
    missing[0, :2] = False  # some task has two annotations
    wide = labels.astype(np.float64)
    wide[missing] = np.nan
    mode = draw(st.sampled_from(["uniform", "ties", "onehot"]))
    if mode == "uniform":
        raw = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.01, 1)))
    elif mode == "ties":
        raw = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from([0.0, 1.0, 2.0])))
        raw[raw.sum(axis=1) == 0] = 1.0
    else:
        raw = np.eye(k)[draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))]
    return wide, raw / raw.sum(axis=1, keepdims=True)


def cleanlab_result(wide: Any, probs: np.ndarray, **kwargs: Any) -> dict[str, Any]:
    """cleanlab's answer; examples where cleanlab breaks a tie at random (or fails to, with
    "'a' cannot be empty" when no annotator has an untied task) are skipped, and so are those
    where its confidence-weighted entropy of one-hot probabilities rounds outside [0, 1] and its
    own range check then refuses them."""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            result = get_label_quality_multiannotator(wide, probs, verbose=False, **kwargs)
        except ValueError as exc:
            assume("cannot be empty" not in str(exc))
            assume("required to be in the interval [0, 1]" not in str(exc))
            raise
    assume(not any("random" in str(w.message) for w in caught))
    return result


def ours(wide: Any, probs: np.ndarray, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return multiannotator_quality(wide, probs, **kwargs)


def assert_same(expected: dict[str, Any], got: Any) -> None:
    assert set(got) == set(expected)
    for key, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got[key], value, check_exact=True)
        elif value is None:
            assert got[key] is None
        else:
            np.testing.assert_array_equal(got[key], value)


def from_wide(wide: np.ndarray) -> Annotations:
    """The same annotations as a long table; annotator codes follow cleanlab's columns."""
    annotator, task = np.nonzero(~np.isnan(wide.T))
    labels = wide[task, annotator].astype(np.int64)
    return Annotations.from_class_indices(task, annotator, labels, int(np.nanmax(wide)) + 1)


@pytest.mark.parametrize("quality_method", ["crowdlab", "agreement"])
@pytest.mark.parametrize("consensus_method", ["best_quality", "majority_vote"])
@given(case=wide_case())
def test_multiannotator_quality_equals_cleanlab(
    case: tuple[np.ndarray, np.ndarray], consensus_method: str, quality_method: str
) -> None:
    wide, probs = case
    options = {"consensus_method": consensus_method, "quality_method": quality_method}
    expected = cleanlab_result(wide, probs, **options)
    assert_same(expected, ours(wide, probs, **options))


OPTIONS = {
    "no-detailed": {"return_detailed_quality": False},
    "no-stats": {"return_annotator_stats": False},
    "weights": {"return_weights": True},
    "both-methods": {"consensus_method": ["best_quality", "majority_vote"]},
    "majority-first": {"consensus_method": ["majority_vote", "best_quality"]},
    # cleanlab's weights are the last method's, its frames the first's
    "majority-first-weights": {
        "consensus_method": ["majority_vote", "best_quality"],
        "return_weights": True,
    },
    "margin-scores": {"label_quality_score_kwargs": {"method": "normalized_margin"}},
    "entropy-no-detailed": {
        "label_quality_score_kwargs": {"method": "confidence_weighted_entropy"},
        "return_detailed_quality": False,
    },
    "calibrated": {"calibrate_probs": True},
}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@given(case=wide_case(max_n=10, max_m=4))
def test_multiannotator_quality_options_equal_cleanlab(
    case: tuple[np.ndarray, np.ndarray], options: dict[str, Any]
) -> None:
    wide, probs = case
    expected = cleanlab_result(wide, probs, **options)
    assert_same(expected, ours(wide, probs, **options))


def test_multiannotator_quality_dataframe_keeps_names_and_index() -> None:
    wide = pd.DataFrame(
        {"ann": [0, 1, np.nan, 2, 2], "bob": [0, np.nan, 1, 2, 1], "cy": [1, 1, 1, np.nan, 1]},
        index=[10, 11, 12, 13, 14],
    )
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6]] * 2)[:5]
    with contextlib.redirect_stdout(io.StringIO()):
        expected = get_label_quality_multiannotator(wide, probs, verbose=False)
    got = ours(wide, probs)
    assert_same(expected, got)
    assert list(got["detailed_label_quality"].columns) == [
        "quality_annotator_ann",
        "quality_annotator_bob",
        "quality_annotator_cy",
    ]
    assert dict(got).keys() == {"label_quality", "detailed_label_quality", "annotator_stats"}
    with pytest.raises(KeyError):
        got["model_weight"]


@given(case=wide_case())
def test_consensus_single_label_equals_cleanlab(case: tuple[np.ndarray, np.ndarray]) -> None:
    wide, probs = case
    expected = cleanlab_result(wide, probs)
    ann = from_wide(wide)
    k = probs.shape[1]
    if ann.n_classes < k:  # a class nobody chose: widen the one-hot labels
        ann = Annotations.from_class_indices(ann.task, ann.annotator, ann.class_indices(), k)
    got = consensus(ann, len(wide), probs, multi_label=False, method="crowdlab")
    frame = expected["label_quality"]
    np.testing.assert_array_equal(got.labels.argmax(axis=1), frame["consensus_label"])
    np.testing.assert_array_equal(got.quality, frame["consensus_quality_score"])
    stats = expected["annotator_stats"].sort_index()
    want = stats["annotator_quality"].to_numpy()
    known = ~np.isnan(want)  # cleanlab: NaN for annotators sharing no task; ours: label scores
    np.testing.assert_allclose(got.annotator_quality[known], want[known], rtol=0, atol=1e-9)
    assert np.all((got.annotator_quality >= 0) & (got.annotator_quality <= 1))
    np.testing.assert_array_equal(got.n_annotations, frame["num_annotations"])
    assert got.model_weight == pytest.approx(
        ours(wide, probs, return_weights=True)["model_weight"], abs=0
    )


TIE_CASES = {
    # two annotators disagree on every task: ties broken by the model
    "model-breaks-ties": (
        np.array([[0, 1], [1, 0], [0, 1], [0, 0]], dtype=float),
        np.array([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5], [0.9, 0.1]]),
    ),
    # equal model probabilities: the rarer class (task 2 -> class 2)
    "class-frequency": (
        np.array([[0, 1, np.nan], [1, 1, 1], [2, 1, np.nan], [0, 0, np.nan], [0, np.nan, 2]]),
        np.full((5, 3), 1 / 3),
    ),
    # equal probabilities and class frequencies on task 0: annotator 0 agrees with the untied
    # majority more often than annotator 1, so its class wins
    "better-annotators": (
        np.array([[0, 1, np.nan], [0, np.nan, 0], [0, 1, 0], [1, 1, 1]]),
        np.full((4, 2), 0.5),
    ),
    "annotator-with-one-task": (
        np.array([[0, 0, np.nan], [1, 1, np.nan], [1, 0, 1], [2, 2, np.nan]]),
        np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.4, 0.4, 0.2], [0.2, 0.2, 0.6]]),
    ),
    "class-nobody-chose": (
        np.array([[0, 0], [1, 0], [1, 1], [0, np.nan]]),
        np.array([[0.5, 0.2, 0.3], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]),
    ),
}


@pytest.mark.parametrize("quality_method", ["crowdlab", "agreement"])
@pytest.mark.parametrize("consensus_method", ["best_quality", "majority_vote"])
@pytest.mark.parametrize("case", TIE_CASES.values(), ids=TIE_CASES.keys())
def test_multiannotator_quality_tie_cases(
    case: tuple[np.ndarray, np.ndarray], consensus_method: str, quality_method: str
) -> None:
    wide, probs = case
    options = {"consensus_method": consensus_method, "quality_method": quality_method}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = get_label_quality_multiannotator(wide, probs, verbose=False, **options)
    assert_same(expected, ours(wide, probs, **options))


def test_leftover_ties_go_to_the_lowest_class() -> None:
    # one task, two annotators, two classes, equal probabilities and frequencies: cleanlab
    # picks at random; we pick class 0
    wide = np.array([[0.0, 1.0], [0.0, 1.0]])
    got = ours(wide, np.full((2, 2), 0.5), consensus_method="majority_vote")
    assert got["label_quality"]["consensus_label"].tolist() == [0, 0]


WIDE = np.array([[0, 1, np.nan], [1, 1, 0], [2, np.nan, 2]])


PROBS3 = np.full((3, 3), 1 / 3)


MULTIANNOTATOR_ERRORS = {
    "list-input": (dict(labels_multiannotator=WIDE.tolist()), InvalidAnnotationsError, "NumPy"),
    "three-d": (dict(labels_multiannotator=WIDE[None]), InvalidAnnotationsError, "2-D"),
    "strings": (
        dict(labels_multiannotator=np.array([["a", "b"]])),
        InvalidAnnotationsError,
        "integer class",
    ),
    "empty-row": (
        dict(labels_multiannotator=np.vstack([WIDE[:2], [np.nan] * 3])),
        InvalidAnnotationsError,
        r"examples \[2\]",
    ),
    "empty-column": (
        dict(
            labels_multiannotator=pd.DataFrame(WIDE[:, :2], columns=["ann", "bob"]).assign(
                cy=np.nan
            )
        ),
        InvalidAnnotationsError,
        r"annotators \['cy'\]",
    ),
    "one-annotator": (
        dict(labels_multiannotator=WIDE[:, :1]),
        InvalidAnnotationsError,
        "at least 2 annotators",
    ),
    "one-label-each": (
        dict(labels_multiannotator=np.array([[0, np.nan], [np.nan, 1], [2, np.nan]])),
        InvalidAnnotationsError,
        "exactly one label",
    ),
    "fractional-label": (
        dict(labels_multiannotator=np.where(WIDE == 2, 0.5, WIDE)),
        InvalidAnnotationsError,
        "integer",
    ),
    "negative-label": (
        dict(labels_multiannotator=np.where(WIDE == 2, -1, WIDE)),
        InvalidAnnotationsError,
        "non-negative",
    ),
    "probs-list": (dict(pred_probs=PROBS3.tolist()), InvalidOptionError, "NumPy array"),
    "probs-rows": (
        dict(pred_probs=PROBS3[:2]),
        InvalidAnnotationsError,
        r"but pred_probs has shape \(2, 3\) \(2 examples\)",
    ),
    "class-beyond-probs": (
        dict(pred_probs=np.full((3, 2), 0.5)),
        InvalidAnnotationsError,
        r"pred_probs has shape \(3, 2\): only 2 classes",
    ),
    "weights-need-crowdlab": (
        dict(return_weights=True, quality_method="agreement"),
        InvalidOptionError,
        "return_weights",
    ),
    "unknown-consensus": (dict(consensus_method="vote"), InvalidOptionError, "consensus_method"),
    "empty-consensus-list": (dict(consensus_method=[]), InvalidOptionError, "empty"),
    "unknown-quality": (dict(quality_method="vote"), InvalidOptionError, "quality_method"),
}


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    MULTIANNOTATOR_ERRORS.values(),
    ids=MULTIANNOTATOR_ERRORS.keys(),
)
def test_multiannotator_quality_rejects_bad_input(
    changes: dict[str, Any], error: type, match: str
) -> None:
    args: dict[str, Any] = {"labels_multiannotator": WIDE, "pred_probs": PROBS3}
    args.update(changes)
    with pytest.raises(error, match=match):
        multiannotator_quality(**args)


def test_multiannotator_quality_warns_when_nobody_agrees() -> None:
    wide = np.array([[0, 1], [1, 0]], dtype=float)
    with pytest.warns(UserWarning, match="do not agree"):
        multiannotator_quality(wide, np.full((2, 2), 0.5))

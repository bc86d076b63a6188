"""majority_vote_label() and convert_long_to_wide_dataset() equal cleanlab 2.9.0's
get_majority_vote_label and convert_long_to_wide_dataset; bad input."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cleanlab.multiannotator import convert_long_to_wide_dataset as cl_long_to_wide
from cleanlab.multiannotator import get_majority_vote_label
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ls_cleanlab.annotators import convert_long_to_wide_dataset, majority_vote_label
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, InvalidPredProbsError
from tests.annotators.test_multiannotator import wide_case


def cleanlab_majority(wide: np.ndarray, probs: np.ndarray | None) -> np.ndarray:
    """cleanlab's vote without its checks (``verbose=False``); cases it settles at random (or
    fails to, "'a' cannot be empty", when no annotator has an untied example) are skipped."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            expected = get_majority_vote_label(wide, probs, verbose=False)
        except ValueError as exc:
            assume("cannot be empty" not in str(exc))
            raise
    assume(not any("random" in str(w.message) for w in caught))
    return expected


@pytest.mark.parametrize("with_model", [True, False], ids=["model", "no-model"])
@given(case=wide_case())
def test_majority_vote_label_equals_cleanlab(
    case: tuple[np.ndarray, np.ndarray], with_model: bool
) -> None:
    wide, probs = case
    given_probs = probs if with_model else None
    expected = cleanlab_majority(wide, given_probs)
    got = majority_vote_label(wide, given_probs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@given(
    labels=hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 3)),
    probs=hnp.arrays(np.float64, (12, 4), elements=st.floats(0.01, 1)),
)
def test_majority_vote_label_of_one_annotator_is_its_label(
    labels: np.ndarray, probs: np.ndarray
) -> None:
    wide = labels[:, None].astype(float)
    expected = cleanlab_majority(wide, probs[: len(labels)])
    np.testing.assert_array_equal(majority_vote_label(wide, probs[: len(labels)]), expected)
    np.testing.assert_array_equal(majority_vote_label(wide), labels)


def test_majority_vote_label_reads_a_dataframe_with_missing_values() -> None:
    wide = pd.DataFrame({"ann": [0, pd.NA, 2], "bob": [1, 1, 2], "cy": [1, pd.NA, pd.NA]})
    np.testing.assert_array_equal(majority_vote_label(wide), [1, 1, 2])


def test_majority_vote_label_leftover_tie_goes_to_the_lowest_class() -> None:
    # equal votes, probabilities, class counts and annotators: cleanlab picks at random
    wide = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert majority_vote_label(wide, np.full((2, 2), 0.5)).tolist() == [0, 0]


WIDE = np.array([[0, 1, np.nan], [1, 1, 0], [2, np.nan, 2]])

MAJORITY_ERRORS = {
    "list-input": (dict(labels_multiannotator=WIDE.tolist()), InvalidAnnotationsError, "NumPy"),
    "empty-row": (
        dict(labels_multiannotator=np.vstack([WIDE, [np.nan] * 3])),
        InvalidAnnotationsError,
        r"examples \[3\]",
    ),
    "fractional-label": (
        dict(labels_multiannotator=np.where(WIDE == 2, 0.5, WIDE)),
        InvalidAnnotationsError,
        "integer",
    ),
    "probs-list": (dict(pred_probs=np.full((3, 3), 0.3).tolist()), InvalidOptionError, "NumPy"),
    "probs-rows": (
        dict(pred_probs=np.full((2, 3), 0.3)),
        InvalidAnnotationsError,
        r"shape \(3, 3\) \(3 examples\) but pred_probs has shape \(2, 3\) \(2 examples\)",
    ),
    "probs-nan": (dict(pred_probs=np.full((3, 3), np.nan)), InvalidPredProbsError, "NaN"),
    "class-beyond-probs": (
        dict(pred_probs=np.full((3, 2), 0.5)),
        InvalidAnnotationsError,
        r"holds class 2 but pred_probs has shape \(3, 2\): only 2 classes;",
    ),
}


@pytest.mark.parametrize(
    ("changes", "error", "match"), MAJORITY_ERRORS.values(), ids=MAJORITY_ERRORS.keys()
)
def test_majority_vote_label_rejects_bad_input(
    changes: dict[str, Any], error: type, match: str
) -> None:
    args: dict[str, Any] = {"labels_multiannotator": WIDE, "pred_probs": None}
    args.update(changes)
    with pytest.raises(error, match=match):
        majority_vote_label(**args)


@st.composite
def long_table(draw: st.DrawFn) -> pd.DataFrame:
    """At most one label per (task, annotator), tasks and annotators of mixed order."""
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 4))
    cells = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, m - 1)), min_size=1, unique=True)
    )
    labels = draw(st.lists(st.integers(0, 3), min_size=len(cells), max_size=len(cells)))
    names = draw(st.sampled_from([None, "str"]))
    return pd.DataFrame(
        {
            "task": [t * 7 for t, _ in cells],
            "annotator": [f"a{a}" if names else a for _, a in cells],
            "label": labels,
        }
    )


@given(long=long_table())
def test_convert_long_to_wide_dataset_equals_cleanlab(long: pd.DataFrame) -> None:
    expected = cl_long_to_wide(long.copy())
    got = convert_long_to_wide_dataset(long)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_convert_long_to_wide_dataset_feeds_the_vote() -> None:
    long = pd.DataFrame(
        {"task": [1, 1, 2, 2, 2], "annotator": ["x", "y", "x", "y", "z"], "label": [0, 0, 1, 2, 2]}
    )
    wide = convert_long_to_wide_dataset(long)
    assert list(wide.columns) == ["x", "y", "z"] and list(wide.index) == [1, 2]
    np.testing.assert_array_equal(majority_vote_label(wide), [0, 2])


LONG_ERRORS = {
    "not-a-frame": ({"task": [0], "annotator": [0], "label": [0]}, "DataFrame"),
    "no-label-column": (pd.DataFrame({"task": [0], "annotator": [0], "y": [1]}), r"\['label'\]"),
    "twice": (
        pd.DataFrame({"task": [0, 3, 3], "annotator": ["a", "b", "b"], "label": [0, 1, 2]}),
        r"rows \[1, 2\].*\(3, 'b'\)",
    ),
}


@pytest.mark.parametrize(("long", "match"), LONG_ERRORS.values(), ids=LONG_ERRORS.keys())
def test_convert_long_to_wide_dataset_rejects_bad_input(long: Any, match: str) -> None:
    with pytest.raises(InvalidAnnotationsError, match=match):
        convert_long_to_wide_dataset(long)

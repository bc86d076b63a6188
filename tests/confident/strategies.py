"""Hypothesis strategies for confident-learning inputs, biased toward the hard cases.

Besides random probabilities they draw from a small set of values that make ties (many
examples with the same probability), the exact cut points cleanlab's comparisons use
(0.5, 0.5 +- 5e-7, thresholds +- 1e-6), and exact 0 and 1.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

TIE_VALUES = [0.0, 1e-7, 1e-6, 0.1, 0.2, 0.25, 0.4999995, 0.5, 0.5000005, 0.75, 0.8, 0.9, 1.0]


@st.composite
def multilabel_case(
    draw: st.DrawFn, *, max_n: int = 40, max_k: int = 5, valid_for_issues: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(given (N, K) int8, pred_probs (N, K) float64) for multi-label data."""
    n = draw(st.integers(1 if not valid_for_issues else 2, max_n))
    k = draw(st.integers(1, max_k))
    given = draw(hnp.arrays(np.int8, (n, k), elements=st.integers(0, 1)))
    if valid_for_issues:
        given[0, :] = 0  # every class absent somewhere
        given[1, draw(st.integers(0, k - 1))] = 1  # some label somewhere
    mode = draw(st.sampled_from(["uniform", "ties", "informative"]))
    if mode == "uniform":
        probs = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0, 1)))
    elif mode == "ties":
        probs = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from(TIE_VALUES)))
    else:
        noise = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0, 0.45)))
        flip = draw(hnp.arrays(np.bool_, (n, k)))
        probs = np.where((given == 1) ^ flip, 1 - noise, noise)
    return given, probs


@st.composite
def single_label_case(
    draw: st.DrawFn, *, max_n: int = 40, max_k: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,) int, pred_probs (N, K) rows summing to 1) with at least two classes given."""
    n = draw(st.integers(2, max_n))
    k = draw(st.integers(2, max_k))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    if len(np.unique(labels)) < 2:
        labels[0] = (labels[1] + 1) % k
    mode = draw(st.sampled_from(["uniform", "ties", "informative"]))
    if mode == "ties":
        raw = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from([0.0, 1.0, 2.0, 3.0])))
    elif mode == "uniform":
        raw = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0, 1)))
    else:
        raw = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0, 0.3)))
        boost = draw(hnp.arrays(np.bool_, n))
        rows = np.arange(n)
        raw[rows, np.where(boost, (labels + 1) % k, labels)] += 1.0
    raw[raw.sum(axis=1) == 0, 0] = 1.0
    probs = raw / raw.sum(axis=1, keepdims=True)
    return labels, probs


def as_lists(given: np.ndarray) -> list[list[int]]:
    return [np.flatnonzero(row).tolist() for row in given]


def quiet(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with warnings silenced (cleanlab and we both warn on small classes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)

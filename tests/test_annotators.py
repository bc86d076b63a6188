"""Tests of ls_cleanlab.annotators: consensus, agreement, annotator table, cleanlab parity."""

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
from ls_cleanlab.annotators import (
    METHODS,
    Agreement,
    Consensus,
    agreement,
    annotator_table,
    consensus,
    multiannotator_quality,
)
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, InvalidPredProbsError

# -- strategies and helpers ---------------------------------------------------------------------


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


def long_table(sets: list[list[tuple[Any, list[int]]]], k: int, **extra: Any) -> Annotations:
    """Annotations from, per task, a list of (annotator, classes) pairs."""
    task, who, rows = [], [], []
    for t, entries in enumerate(sets):
        for annotator, classes in entries:
            task.append(t)
            who.append(annotator)
            row = np.zeros(k, dtype=np.int8)
            row[classes] = 1
            rows.append(row)
    return Annotations(task=np.array(task), annotator=np.array(who), labels=np.array(rows), **extra)


def simulate_multilabel(
    seed: int, n: int = 500, k: int = 6, miss: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5)
) -> tuple[Annotations, np.ndarray, np.ndarray]:
    """Every annotator labels every task; annotator j misses each true label with
    probability miss[j] and adds a wrong one with probability 0.02 per class."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, k)) < 0.3
    task, who, rows = [], [], []
    for j, rate in enumerate(miss):
        given = (truth & (rng.random((n, k)) > rate)) | (rng.random((n, k)) < 0.02)
        task.append(np.arange(n))
        who.append(np.full(n, f"annotator-{j}"))
        rows.append(given)
    ann = Annotations(
        task=np.concatenate(task), annotator=np.concatenate(who), labels=np.concatenate(rows)
    )
    probs = np.clip(np.where(truth, 0.75, 0.2) + rng.normal(0, 0.2, (n, k)), 0, 1)
    return ann, truth, probs


def simulate_single(
    seed: int, n: int = 500, k: int = 4, accuracy: tuple[float, ...] = (0.9, 0.85, 0.8, 0.7, 0.3)
) -> tuple[Annotations, np.ndarray, np.ndarray]:
    """Three of the annotators label each task; annotator j is right with accuracy[j]."""
    rng = np.random.default_rng(seed)
    m = len(accuracy)
    truth = rng.integers(0, k, n)
    chosen = np.argsort(rng.random((n, m)), axis=1)[:, :3]
    task = np.repeat(np.arange(n), 3)
    who = chosen.ravel()
    right = rng.random(len(task)) < np.asarray(accuracy)[who]
    other = (truth[task] + rng.integers(1, k, len(task))) % k
    labels = np.where(right, truth[task], other)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), truth] += 1.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    ann = Annotations.from_class_indices(task, np.array([f"a{j}" for j in who]), labels, k)
    return ann, truth, probs


def by_id(cons: Consensus) -> dict[Any, float]:
    return dict(zip(cons.annotator_ids.tolist(), cons.annotator_quality.tolist(), strict=True))


# -- single-label parity with cleanlab 2.9.0 ----------------------------------------------------


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


# -- multi-label consensus ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_model", [True, False], ids=["model", "no-model"])
@pytest.mark.parametrize("method", METHODS)
def test_worst_annotator_gets_lowest_quality(seed: int, with_model: bool, method: str) -> None:
    ann, _, probs = simulate_multilabel(seed)
    cons = consensus(ann, 500, probs if with_model else None, method=method)  # type: ignore[arg-type]
    quality = by_id(cons)
    assert min(quality, key=quality.__getitem__) == "annotator-3"
    assert np.all((cons.annotator_quality >= 0) & (cons.annotator_quality <= 1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_consensus_beats_majority_multilabel(seed: int) -> None:
    ann, truth, probs = simulate_multilabel(seed)

    def accuracy(method: str, p: np.ndarray | None) -> float:
        cons = consensus(ann, 500, p, method=method)  # type: ignore[arg-type]
        return float((cons.labels == truth).all(axis=1).mean())

    majority = accuracy("majority", probs)
    assert accuracy("crowdlab", probs) >= majority
    assert accuracy("dawid_skene", probs) >= majority
    assert accuracy("dawid_skene", None) >= accuracy("majority", None)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_consensus_beats_majority_single_label(seed: int) -> None:
    # 2,000 tasks: with 500, Dawid-Skene's 5 x 16 confusion entries are too noisy to beat a
    # majority vote whose frequent three-way ties go to the model
    n = 2000
    ann, truth, probs = simulate_single(seed, n=n)

    def run(method: str, p: np.ndarray | None = probs) -> Consensus:
        return consensus(ann, n, p, method=method)  # type: ignore[arg-type]

    def accuracy(cons: Consensus) -> float:
        return float((cons.labels.argmax(axis=1) == truth).mean())

    results = {method: run(method) for method in METHODS}
    acc = {m: accuracy(r) for m, r in results.items()}
    assert acc["crowdlab"] >= acc["majority"]
    assert acc["dawid_skene"] >= acc["majority"]
    assert accuracy(run("dawid_skene", None)) >= accuracy(run("majority", None))
    for cons in results.values():
        assert not cons.multi_label
        quality = by_id(cons)
        assert min(quality, key=quality.__getitem__) == "a4"
        np.testing.assert_allclose(cons.posterior.sum(axis=1), 1.0)


def test_majority_ties_multilabel() -> None:
    # two annotators, class 0 tied on both tasks; class 1 agreed on task 0
    ann = long_table([[("a", [0, 1]), ("b", [1])], [("a", []), ("b", [0])]], 2)
    probs = np.array([[0.2, 0.9], [0.7, 0.1]])
    with_model = consensus(ann, 2, probs, method="majority")
    assert with_model.labels.tolist() == [[0, 1], [1, 0]]
    no_model = consensus(ann, 2, method="majority")
    # annotator a agrees with the untied cells (class 1) as much as b: ties go to "present"
    assert no_model.labels.tolist() == [[1, 1], [1, 0]]
    np.testing.assert_array_equal(no_model.posterior, [[0.5, 1.0], [0.5, 0.0]])


def test_majority_tie_without_model_follows_better_annotators() -> None:
    # c agrees with the untied majority everywhere, d never: on the tied cell c's side wins
    sets = [
        [("c", [0]), ("d", [1]), ("e", [0])],
        [("c", [1]), ("d", [0]), ("e", [1])],
        [("c", []), ("d", [0])],
    ]
    cons = consensus(long_table(sets, 2), 3, method="majority")
    assert cons.labels[2].tolist() == [0, 0]


def test_unannotated_tasks_and_fallbacks() -> None:
    ann = long_table([[("a", [0]), ("b", [0, 1])], [], [("a", [1]), ("b", [1])]], 2)
    probs = np.array([[0.9, 0.4], [0.3, 0.8], [0.2, 0.7]])
    cons = consensus(ann, 4, np.vstack([probs, [[0.5, 0.5]]]))
    assert cons.method == "crowdlab" and cons.multi_label
    assert cons.annotated.tolist() == [True, False, True, False]
    assert cons.n_annotations.tolist() == [2, 0, 2, 0]
    assert cons.labels[[1, 3]].tolist() == [[0, 0], [0, 0]]
    assert np.isnan(cons.quality[[1, 3]]).all() and not np.isnan(cons.quality[[0, 2]]).any()
    np.testing.assert_array_equal(cons.posterior[1], probs[1])
    assert cons.class_model_weight is not None and cons.class_model_weight.shape == (2,)
    assert cons.model_weight == pytest.approx(cons.class_model_weight.mean())
    no_model = consensus(ann, 4)
    assert no_model.method == "majority" and no_model.model_weight is None
    assert np.isnan(no_model.posterior[1]).all()


def test_crowdlab_without_overlap_falls_back_to_majority() -> None:
    ann = long_table([[("a", [0])], [("b", [1])]], 2)
    with pytest.warns(UserWarning, match="falls back to method='majority'"):
        cons = consensus(ann, 2, np.array([[0.9, 0.1], [0.2, 0.7]]))
    assert cons.method == "majority"
    assert cons.labels.tolist() == [[1, 0], [0, 1]]
    assert np.isnan(cons.annotator_quality).all()  # nobody shares a task: nothing to compare
    table = annotator_table(ann, cons)
    assert table[["agreement", "missing_rate", "spurious_rate"]].isna().all().all()
    assert table["n_shared_tasks"].tolist() == [0, 0] and table["n_tasks"].tolist() == [1, 1]
    assert table["worst_class"].isna().all()


def test_no_annotations() -> None:
    ann = Annotations(task=np.zeros(0, int), annotator=np.zeros(0, int), labels=np.zeros((0, 3)))
    cons = consensus(ann, 2, method="majority")
    assert cons.labels.shape == (2, 3) and not cons.labels.any()
    assert np.isnan(cons.quality).all() and cons.annotator_quality.shape == (0,)
    agree = agreement(ann, 2)
    assert np.isnan(agree.per_task).all() and np.isnan(agree.alpha)


def test_multi_label_inference() -> None:
    single = long_table([[("a", [0]), ("b", [1])], [("a", [1]), ("b", [1])]], 2)
    assert not consensus(single, 2).multi_label
    assert consensus(single, 2, np.array([[0.9, 0.9], [0.1, 0.2]])).multi_label
    assert consensus(single, 2, multi_label=True).multi_label
    sets = long_table([[("a", [0, 1]), ("b", [1])]], 2)
    assert consensus(sets, 1).multi_label


@st.composite
def annotation_case(draw: st.DrawFn) -> tuple[Annotations, int, np.ndarray | None]:
    n = draw(st.integers(1, 12))
    k = draw(st.integers(1, 4))
    m = draw(st.integers(1, 4))
    pairs = draw(hnp.arrays(np.bool_, (n, m)))
    task, who = np.nonzero(pairs)
    labels = draw(hnp.arrays(np.int8, (len(task), k), elements=st.integers(0, 1)))
    ann = Annotations(task=task, annotator=who, labels=labels)
    probs = None
    if draw(st.booleans()):
        probs = draw(
            hnp.arrays(np.float64, (n, k), elements=st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0]))
        )
    return ann, n, probs


@given(case=annotation_case(), method=st.sampled_from(METHODS))
def test_consensus_properties(
    case: tuple[Annotations, int, np.ndarray | None], method: Any
) -> None:
    ann, n, probs = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cons = consensus(ann, n, probs, method=method, multi_label=True)
    assert cons.labels.shape == (n, ann.n_classes) and cons.labels.dtype == np.int8
    assert set(np.unique(cons.labels)) <= {0, 1}
    quality = cons.quality[cons.annotated]
    assert np.all((quality >= 0) & (quality <= 1))
    assert np.isnan(cons.quality[~cons.annotated]).all()
    post = cons.posterior[cons.annotated]
    assert np.all((post >= 0) & (post <= 1))
    known = cons.annotator_quality[~np.isnan(cons.annotator_quality)]
    assert np.all((known >= 0) & (known <= 1))
    assert cons.annotator_quality.shape == (ann.n_annotators,)


@st.composite
def single_label_annotation_case(draw: st.DrawFn) -> tuple[Annotations, int, np.ndarray | None]:
    n = draw(st.integers(1, 12))
    k = draw(st.integers(2, 4))
    m = draw(st.integers(1, 4))
    pairs = draw(hnp.arrays(np.bool_, (n, m)))
    task, who = np.nonzero(pairs)
    classes = draw(hnp.arrays(np.int64, len(task), elements=st.integers(0, k - 1)))
    ann = Annotations.from_class_indices(task, who, classes, k)
    probs = None
    if draw(st.booleans()):
        raw = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from([0.0, 1.0, 2.0])))
        raw[raw.sum(axis=1) == 0] = 1.0
        probs = raw / raw.sum(axis=1, keepdims=True)
    return ann, n, probs


@given(case=single_label_annotation_case(), method=st.sampled_from(METHODS))
def test_consensus_properties_single_label(
    case: tuple[Annotations, int, np.ndarray | None], method: Any
) -> None:
    ann, n, probs = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cons = consensus(ann, n, probs, method=method, multi_label=False)
    assert not cons.multi_label
    np.testing.assert_array_equal(cons.labels.sum(axis=1), cons.annotated.astype(int))
    post = cons.posterior[cons.annotated]
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    quality = cons.quality[cons.annotated]
    assert np.all((quality >= 0) & (quality <= 1))
    known = cons.annotator_quality[~np.isnan(cons.annotator_quality)]
    assert np.all((known >= 0) & (known <= 1))
    if cons.method == "majority" and len(ann):
        # the consensus class has the most votes
        votes = np.zeros((n, ann.n_classes))
        np.add.at(votes, (ann.task, ann.class_indices()), 1)
        chosen = votes[np.arange(n), cons.labels.argmax(axis=1)]
        np.testing.assert_array_equal(chosen[cons.annotated], votes.max(axis=1)[cons.annotated])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["multi", "single"])
def test_consensus_invariant_to_row_order(method: str, kind: str) -> None:
    if kind == "multi":
        ann, _, probs = simulate_multilabel(5, n=200)
    else:
        ann, _, probs = simulate_single(5, n=200)
    perm = np.random.default_rng(0).permutation(len(ann))
    shuffled = ann.subset(perm)
    a = consensus(ann, 200, probs, method=method)  # type: ignore[arg-type]
    b = consensus(shuffled, 200, probs, method=method)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.quality, b.quality, rtol=0, atol=1e-12)
    qa, qb = by_id(a), by_id(b)
    assert qa.keys() == qb.keys()
    np.testing.assert_allclose([qa[i] for i in qa], [qb[i] for i in qa], rtol=0, atol=1e-12)
    ga, gb = agreement(ann, 200), agreement(shuffled, 200)
    np.testing.assert_allclose(ga.per_task, gb.per_task, rtol=0, atol=1e-12)
    assert ga.alpha == pytest.approx(gb.alpha, abs=1e-12)


# -- Dawid-Skene steps ----------------------------------------------------------------------------


def test_dawid_skene_steps() -> None:
    from ls_cleanlab.annotators.dawid_skene import binary_e_step, binary_m_step
    from ls_cleanlab.annotators.votes import Votes

    ann, truth, _ = simulate_multilabel(3, n=2000)
    votes = Votes.from_annotations(ann)
    se, sp, prevalence = binary_m_step(votes, truth.astype(float))
    np.testing.assert_allclose(prevalence, truth.mean(axis=0))
    # sensitivity is 1 - miss rate (plus the 2% spurious labels), specificity about 0.98
    np.testing.assert_allclose(se.mean(axis=1), [0.95, 0.9, 0.8, 0.5], atol=0.03)
    np.testing.assert_allclose(sp.mean(axis=1), 0.98, atol=0.01)
    posterior = binary_e_step(votes, se, sp, prevalence)
    assert ((posterior > 0.5) == truth).mean() > 0.98
    # one perfect annotator: the posterior is its vote
    alone = Votes.from_annotations(ann.subset(ann.annotator == "annotator-0"))
    sure = np.full((1, se.shape[1]), 1 - 1e-6)
    posterior = binary_e_step(alone, sure, sure, prevalence)
    np.testing.assert_array_equal(posterior > 0.5, alone.labels)


def test_dawid_skene_model_steps() -> None:
    from ls_cleanlab.annotators.dawid_skene import (
        binary_model_evidence,
        binary_model_m_step,
        multiclass_model_m_step,
    )

    rng = np.random.default_rng(0)
    truth = (rng.random((400, 3)) < 0.4).astype(float)
    se, sp = binary_model_m_step(truth, truth)  # a perfect model
    assert np.all(se > 0.99) and np.all(sp > 0.99)
    se, sp = binary_model_m_step(truth, np.full_like(truth, 0.5))  # an uninformative one
    np.testing.assert_allclose(se, 0.5, atol=0.01)
    np.testing.assert_allclose(
        binary_model_evidence(np.full_like(truth, 0.5), se, sp), 0, atol=0.05
    )
    one_hot = np.eye(3)[rng.integers(0, 3, 300)]
    confusion = multiclass_model_m_step(one_hot, one_hot)
    assert np.all(np.diag(confusion) > 0.98)
    np.testing.assert_allclose(confusion.sum(axis=1), 1.0)


def test_dawid_skene_is_deterministic_and_reports_iterations() -> None:
    ann, _, probs = simulate_single(4, n=300)
    a = consensus(ann, 300, probs, method="dawid_skene", max_iter=3)
    b = consensus(ann, 300, probs, method="dawid_skene", max_iter=3)
    assert a.n_iter == 3
    np.testing.assert_array_equal(a.posterior, b.posterior)


# -- agreement ----------------------------------------------------------------------------------


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


# -- annotator table ----------------------------------------------------------------------------


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


# -- bad input ---------------------------------------------------------------------------------

SMALL = long_table([[("a", [0]), ("b", [1])], [("a", [1]), ("b", [1])]], 2)
GOOD_PROBS = np.array([[0.6, 0.4], [0.2, 0.8]])

CONSENSUS_ERRORS = {
    "probs-rows": (dict(pred_probs=np.full((3, 2), 0.5)), InvalidPredProbsError, r"\(2, 2\)"),
    "probs-columns": (dict(pred_probs=np.full((2, 3), 0.3)), InvalidPredProbsError, "classes"),
    "probs-nan": (
        dict(pred_probs=np.array([[np.nan, 0.5], [0.5, 0.5]])),
        InvalidPredProbsError,
        "NaN",
    ),
    "probs-range": (
        dict(pred_probs=np.array([[1.5, 0.5], [0.5, 0.5]])),
        InvalidPredProbsError,
        r"\[0, 1\]",
    ),
    "task-out-of-range": (dict(n_tasks=1), InvalidAnnotationsError, "past the end"),
    "negative-n-tasks": (dict(n_tasks=-1), InvalidOptionError, "n_tasks"),
    "float-n-tasks": (dict(n_tasks=2.0), InvalidOptionError, "n_tasks"),
    "unknown-method": (dict(method="vote"), InvalidOptionError, "choose one of"),
    "bad-multi-label": (dict(multi_label="yes"), InvalidOptionError, "multi_label"),
    "probs-not-summing": (
        dict(pred_probs=np.array([[0.9, 0.9], [0.5, 0.5]]), multi_label=False),
        InvalidPredProbsError,
        "sum to 1",
    ),
    "max-iter": (dict(max_iter=0), InvalidOptionError, "max_iter"),
    "tol": (dict(tol=0.0), InvalidOptionError, "tol"),
}


@pytest.mark.parametrize(
    ("changes", "error", "match"), CONSENSUS_ERRORS.values(), ids=CONSENSUS_ERRORS.keys()
)
def test_consensus_rejects_bad_input(changes: dict[str, Any], error: type, match: str) -> None:
    args: dict[str, Any] = {"annotations": SMALL, "n_tasks": 2, "pred_probs": GOOD_PROBS}
    args.update(changes)
    with pytest.raises(error, match=match):
        consensus(**args)


def test_consensus_rejects_label_sets_as_single_label() -> None:
    sets = long_table([[("a", [0, 1]), ("b", [1])]], 2)
    with pytest.raises(InvalidAnnotationsError, match="multi_label=True"):
        consensus(sets, 1, multi_label=False)
    one_class = long_table([[("a", [0]), ("b", [0])]], 1)
    with pytest.raises(InvalidAnnotationsError, match="at least 2 classes"):
        consensus(one_class, 1, multi_label=False)


@pytest.mark.parametrize("func", [consensus, agreement], ids=["consensus", "agreement"])
def test_not_an_annotations_table(func: Any) -> None:
    with pytest.raises(InvalidAnnotationsError, match="Annotations table"):
        func(pd.DataFrame({"task": [0]}), 1)


def test_annotator_table_rejects_mismatches() -> None:
    cons = consensus(SMALL, 2, GOOD_PROBS)
    other = long_table([[("a", [0]), ("z", [1])], [("a", [1]), ("z", [1])]], 2)
    with pytest.raises(InvalidAnnotationsError, match="other annotators"):
        annotator_table(other, cons)
    wider = long_table([[("a", [0]), ("b", [2])]], 3)
    with pytest.raises(InvalidAnnotationsError, match="classes"):
        annotator_table(wider, cons)
    with pytest.raises(InvalidOptionError, match="class_names"):
        annotator_table(SMALL, cons, class_names=["x"])
    with pytest.raises(InvalidPredProbsError, match=r"\(2, 2\)"):
        annotator_table(SMALL, cons, np.full((3, 2), 0.5))
    with pytest.raises(InvalidOptionError, match="Consensus"):
        annotator_table(SMALL, {"labels": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidAnnotationsError, match="Annotations table"):
        annotator_table(SMALL.to_frame(), cons)  # type: ignore[arg-type]


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
    "probs-rows": (dict(pred_probs=PROBS3[:2]), InvalidAnnotationsError, "2 rows"),
    "class-beyond-probs": (
        dict(pred_probs=np.full((3, 2), 0.5)),
        InvalidAnnotationsError,
        "only 2 columns",
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

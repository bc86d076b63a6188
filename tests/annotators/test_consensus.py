"""consensus(): what every method promises (labels, posteriors and qualities in range, invariance to
row order, unannotated tasks, inferring multi-label), CROWDLAB per class and its fallback, weighted
methods beating a majority vote on simulated crowds, and bad input."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import METHODS, Consensus, agreement, annotator_table, consensus
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError, InvalidPredProbsError
from tests.annotators.crowds import by_id, long_table, simulate_multilabel, simulate_single


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
def test_consensus_rejects_bad_input(
    small_crowd: tuple[Annotations, np.ndarray], changes: dict[str, Any], error: type, match: str
) -> None:
    ann, probs = small_crowd
    args: dict[str, Any] = {"annotations": ann, "n_tasks": 2, "pred_probs": probs}
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

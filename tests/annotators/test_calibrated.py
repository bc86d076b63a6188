"""The calibrated consensus: simulations with known annotator rates, properties, and its parts
(rates, the model as a source, the evidence weights) on their own."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import METHODS, consensus
from ls_cleanlab.annotators.model_source import (
    binary_calibration,
    model_logits,
    multiclass_calibration,
)
from ls_cleanlab.annotators.rates import (
    binary_rates,
    confusion_rates,
    dirichlet_confusion,
    shrink_rate,
)
from ls_cleanlab.annotators.tempering import binary_weights, golden_max
from ls_cleanlab.annotators.votes import Votes
from ls_cleanlab.errors import InvalidOptionError

# (sensitivity, false-positive rate): careful, satisficer (misses, never adds), adder
HABITS = {"careful": (0.95, 0.01), "satisficer": (0.55, 0.001), "adder": (0.95, 0.08)}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def calibrated_model(truth: np.ndarray, dprime: float, rng: np.random.Generator) -> np.ndarray:
    """P(present | score) for a score ~ N(d' z, 1): calibrated by construction."""
    prior = truth.mean(axis=0).clip(1e-3, 1 - 1e-3)
    score = dprime * truth + rng.normal(0.0, 1.0, truth.shape)
    return sigmoid(np.log(prior / (1 - prior)) + dprime * score - dprime**2 / 2)


def simulate(
    seed: int,
    n: int = 1500,
    k: int = 8,
    habits: tuple[str, ...] = ("careful", "satisficer", "adder"),
) -> tuple[Annotations, np.ndarray]:
    """Every annotator labels every task, independently given the truth, with its habit's
    sensitivity and false-positive rate."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n, k)) < np.linspace(0.4, 0.1, k)
    rows = []
    for name in habits:
        se, fp = HABITS[name]
        rows.append(np.where(truth, rng.random((n, k)) < se, rng.random((n, k)) < fp))
    names = [h if habits.count(h) == 1 else f"{h}{j}" for j, h in enumerate(habits)]
    ann = Annotations(
        task=np.tile(np.arange(n), len(habits)),
        annotator=np.repeat(names, n),
        labels=np.vstack(rows).astype(np.int8),
    )
    return ann, truth


def ece(scores: np.ndarray, wrong: np.ndarray, bins: int = 15) -> float:
    which = np.minimum((scores.ravel() * bins).astype(int), bins - 1)
    gap = np.bincount(which, scores.ravel(), bins) - np.bincount(which, wrong.ravel(), bins)
    return float(np.abs(gap).sum() / scores.size)


# -- the whole model on simulations ----------------------------------------------------------------


@pytest.mark.parametrize("with_model", [True, False], ids=["model", "no-model"])
def test_posterior_is_calibrated_on_independent_annotators(with_model: bool) -> None:
    ann, truth = simulate(0)
    probs = calibrated_model(truth, 2.0, np.random.default_rng(1)) if with_model else None
    cons = consensus(ann, len(truth), probs, method="calibrated")
    post = cons.posterior
    scores = np.minimum(post, 1 - post)
    wrong = cons.labels.astype(bool) != truth
    assert ece(scores, wrong) < 0.01
    # the expected number of wrong cells is the number of wrong cells
    assert scores.sum() == pytest.approx(wrong.sum(), rel=0.2)
    assert cons.temperature == pytest.approx(1.0, abs=0.05)


def test_one_sided_annotators_are_recovered() -> None:
    ann, truth = simulate(2, n=3000)
    cons = consensus(ann, len(truth), method="calibrated")
    assert cons.sensitivity is not None and cons.false_positive_rate is not None
    ids = list(cons.annotator_ids)
    for name, (se, fp) in HABITS.items():
        j = ids.index(name)
        assert cons.sensitivity[j].mean() == pytest.approx(se, abs=0.05)
        assert cons.false_positive_rate[j].mean() == pytest.approx(fp, abs=0.5 * fp + 0.004)
    # a satisficer's "present" vote is strong evidence and its "absent" vote weak
    sat, add = ids.index("satisficer"), ids.index("adder")
    ratio = cons.sensitivity / cons.false_positive_rate
    assert (ratio[sat] > ratio[add]).all()
    quality = dict(zip(ids, cons.annotator_quality, strict=True))
    assert quality["careful"] == max(quality.values())


def test_two_agreeing_annotators_outweigh_a_modest_model() -> None:
    ann, truth = simulate(3, habits=("careful", "careful"))
    rng = np.random.default_rng(4)
    probs = calibrated_model(truth, 1.0, rng)  # AUROC about 0.76
    cons = consensus(ann, len(truth), probs, method="calibrated")
    first, second = ann.labels[: len(truth)], ann.labels[len(truth) :]
    agreed = first == second
    kept = cons.labels[agreed] == first[agreed]
    assert kept.mean() > 0.998
    assert (cons.labels != truth).mean() < 0.75 * (first != truth).mean()


def test_useless_model_gets_no_weight_and_leaves_the_annotations_only_consensus() -> None:
    ann, truth = simulate(5)
    noise = np.random.default_rng(6).random(truth.shape)
    with_noise = consensus(ann, len(truth), noise, method="calibrated")
    alone = consensus(ann, len(truth), method="calibrated")
    assert with_noise.class_model_weight is not None
    np.testing.assert_array_equal(with_noise.class_model_weight, 0.0)
    np.testing.assert_array_equal(with_noise.labels, alone.labels)
    np.testing.assert_allclose(with_noise.posterior, alone.posterior, atol=1e-12)
    np.testing.assert_allclose(with_noise.annotator_quality, alone.annotator_quality, atol=1e-12)


def test_weak_model_gets_less_weight_than_a_strong_one() -> None:
    ann, truth = simulate(7, habits=("careful", "adder"))
    rng = np.random.default_rng(8)
    weights = {}
    for dprime in (0.7, 3.0):
        cons = consensus(ann, len(truth), calibrated_model(truth, dprime, rng), method="calibrated")
        assert cons.model_weight is not None
        weights[dprime] = cons.model_weight
    assert 0 < weights[0.7] < weights[3.0]
    assert weights[3.0] == pytest.approx(1.0, abs=0.25)  # calibrated: about its own slope


def test_model_that_overpredicts_a_class_is_corrected_by_its_intercept() -> None:
    ann, truth = simulate(9, habits=("careful", "careful", "careful"))
    rng = np.random.default_rng(10)
    probs = calibrated_model(truth, 2.0, rng)
    biased = probs.copy()
    biased[:, 0] = sigmoid(np.log(probs[:, 0] / (1 - probs[:, 0])) + 3.0)  # 0 always likelier
    fair = consensus(ann, len(truth), probs, method="calibrated")
    tilted = consensus(ann, len(truth), biased, method="calibrated")
    assert (tilted.labels != truth).sum() <= (fair.labels != truth).sum() + 3


@pytest.mark.parametrize("kind", ["multi", "single"])
def test_invariant_to_task_and_annotator_order(kind: str) -> None:
    ann, truth = simulate(11, n=400, k=4)
    probs = calibrated_model(truth, 2.0, np.random.default_rng(12))
    if kind == "single":
        rng = np.random.default_rng(13)
        classes = rng.integers(0, 4, len(ann))
        ann = Annotations.from_class_indices(ann.task, ann.annotator, classes, 4)
        probs = probs / probs.sum(axis=1, keepdims=True)
    n = len(truth)
    base = consensus(ann, n, probs, method="calibrated")
    rng = np.random.default_rng(14)
    perm = rng.permutation(n)  # task i becomes task where[i]
    where = np.argsort(perm)
    rows = rng.permutation(len(ann))
    renamed = {"careful": "zz", "satisficer": "aa", "adder": "mm"}
    moved = Annotations(
        task=where[ann.task[rows]],
        annotator=np.array([renamed[a] for a in ann.annotator_ids[ann.annotator_index[rows]]]),
        labels=ann.labels[rows],
    )
    again = consensus(moved, n, probs[perm], method="calibrated")
    np.testing.assert_array_equal(again.labels, base.labels[perm])
    np.testing.assert_allclose(again.posterior, base.posterior[perm], atol=1e-9)
    by_name = dict(zip(base.annotator_ids, base.annotator_quality, strict=True))
    for old, new in renamed.items():
        got = again.annotator_quality[list(again.annotator_ids).index(new)]
        assert got == pytest.approx(by_name[old], abs=1e-9)


def test_identical_annotators_agree_perfectly() -> None:
    ann, truth = simulate(15, n=300, habits=("careful",))
    n = len(truth)
    copies = Annotations(
        task=np.tile(np.arange(n), 3),
        annotator=np.repeat(["x", "y", "z"], n),
        labels=np.tile(ann.labels, (3, 1)),
    )
    cons = consensus(copies, n, method="calibrated")
    np.testing.assert_array_equal(cons.labels, ann.labels)
    assert np.ptp(cons.annotator_quality) == pytest.approx(0.0, abs=1e-12)


def test_votes_that_split_on_hard_items_are_tempered() -> None:
    rng = np.random.default_rng(21)
    n, m = 2000, 5
    truth = rng.random((n, 1)) < 0.5
    hard = rng.random(n) < 0.4  # everybody guesses on hard items
    right = np.where(hard[:, None], rng.random((n, m)) < 0.6, rng.random((n, m)) < 0.97)
    labels = np.where(right, truth, ~truth).T.reshape(-1, 1)
    ann = Annotations(
        task=np.tile(np.arange(n), m), annotator=np.repeat(np.arange(m), n), labels=labels
    )
    cons = consensus(ann, n, method="calibrated")
    assert cons.temperature is not None and cons.temperature < 0.8
    post = cons.posterior[:, 0]
    wrong = cons.labels[:, 0].astype(bool) != truth[:, 0]
    scores = np.minimum(post, 1 - post)
    untempered = consensus(ann, n, method="dawid_skene").posterior[:, 0]
    assert ece(scores, wrong) < ece(np.minimum(untempered, 1 - untempered), wrong)


def test_single_label_confusion_is_recovered_and_the_posterior_calibrated() -> None:
    rng = np.random.default_rng(16)
    n, k = 2000, 3
    truth = rng.integers(0, k, n)
    accuracy = {"good": 0.9, "fair": 0.7, "poor": 0.45}
    task, who, label = [], [], []
    for name, acc in accuracy.items():
        right = rng.random(n) < acc
        other = (truth + rng.integers(1, k, n)) % k
        task.append(np.arange(n))
        who.append(np.full(n, name))
        label.append(np.where(right, truth, other))
    ann = Annotations.from_class_indices(
        np.concatenate(task), np.concatenate(who), np.concatenate(label), k
    )
    cons = consensus(ann, n, method="calibrated")
    assert not cons.multi_label and cons.confusion is not None
    ids = list(cons.annotator_ids)
    for name, acc in accuracy.items():
        diagonal = np.diagonal(cons.confusion[ids.index(name)])
        assert diagonal.mean() == pytest.approx(acc, abs=0.05)
    np.testing.assert_allclose(cons.posterior.sum(axis=1), 1.0)
    chosen = cons.labels.argmax(axis=1)
    wrong = np.eye(k, dtype=bool)[chosen] != np.eye(k, dtype=bool)[truth]
    scores = np.where(cons.labels.astype(bool), 1 - cons.posterior, cons.posterior)
    assert ece(scores, wrong) < 0.02
    quality = dict(zip(ids, cons.annotator_quality, strict=True))
    assert quality["good"] > quality["fair"] > quality["poor"]


@st.composite
def small_case(draw: st.DrawFn) -> tuple[Annotations, int, np.ndarray | None]:
    n = draw(st.integers(1, 10))
    k = draw(st.integers(1, 4))
    pairs = draw(hnp.arrays(np.bool_, (n, draw(st.integers(1, 4)))))
    task, who = np.nonzero(pairs)
    labels = draw(hnp.arrays(np.int8, (len(task), k), elements=st.integers(0, 1)))
    probs = None
    if draw(st.booleans()):
        values = st.sampled_from([0.0, 1e-9, 0.2, 0.5, 0.9, 1.0])
        probs = draw(hnp.arrays(np.float64, (n, k), elements=values))
    return Annotations(task=task, annotator=who, labels=labels), n, probs


@settings(max_examples=60, deadline=None)
@given(case=small_case())
def test_posterior_and_quality_lie_in_the_unit_interval(case: Any) -> None:
    ann, n, probs = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cons = consensus(ann, n, probs, method="calibrated", multi_label=True)
    post = cons.posterior[cons.annotated]
    assert np.isfinite(post).all() and (post >= 0).all() and (post <= 1).all()
    decided = post != 0.5  # an exact tie goes to the majority vote
    np.testing.assert_array_equal(cons.labels[cons.annotated][decided], (post > 0.5)[decided])
    known = cons.annotator_quality[~np.isnan(cons.annotator_quality)]
    assert ((known >= 0) & (known <= 1)).all()


def test_unknown_method_lists_calibrated() -> None:
    ann, truth = simulate(17, n=20)
    assert "calibrated" in METHODS
    with pytest.raises(InvalidOptionError, match="'calibrated'"):
        consensus(ann, len(truth), method="bayes")  # type: ignore[arg-type]


# -- the parts ----------------------------------------------------------------------------------


def test_shrink_rate_is_a_beta_posterior_mean() -> None:
    # 2 errors in 10 trials, a prior of mean 0.5 worth 4 errors: (2 + 4) / (10 + 8)
    got = shrink_rate(np.array([2.0]), np.array([10.0]), np.array([0.5]), 4.0)
    np.testing.assert_allclose(got, 6 / 18)
    # no data: the prior mean
    np.testing.assert_allclose(shrink_rate(np.zeros(1), np.zeros(1), np.array([0.2]), 1.0), 0.2)


def test_rates_from_the_truth_and_se_never_below_fp() -> None:
    ann, truth = simulate(18, n=3000)
    votes = Votes.from_annotations(ann)
    se, fp = binary_rates(votes, truth[votes.tasks].astype(float))
    assert (se >= fp).all()
    ids = list(ann.annotator_ids)
    assert se[ids.index("satisficer")].mean() == pytest.approx(0.55, abs=0.03)
    assert fp[ids.index("adder")].mean() == pytest.approx(0.08, abs=0.02)
    # an annotator with no work on a class gets its habit on the class's rate, not 0 or 1
    rare = Annotations(task=[0, 1], annotator=["a", "b"], labels=np.zeros((2, 3), dtype=np.int8))
    se, fp = binary_rates(Votes.from_annotations(rare), np.zeros((2, 3)))
    assert ((se > 0) & (se < 1) & (fp > 0) & (fp < 1)).all()


def test_confusion_rows_sum_to_one() -> None:
    ann = Annotations.from_class_indices(
        [0, 0, 1, 1, 2], ["a", "b", "a", "b", "a"], [0, 1, 1, 1, 2], 3
    )
    votes = Votes.from_annotations(ann)
    confusion = confusion_rates(votes, np.eye(3)[[0, 1, 2]])
    np.testing.assert_allclose(confusion.sum(axis=2), 1.0)
    assert (confusion > 0).all()


def test_few_class_confusion_is_dawid_skenes_half_answer_smoothing() -> None:
    # a: true 0 -> said 0, true 1 -> said 1, true 2 -> said 2; b: true 0 -> said 1, true 1 -> 1
    ann = Annotations.from_class_indices(
        [0, 0, 1, 1, 2], ["a", "b", "a", "b", "a"], [0, 1, 1, 1, 2], 3
    )
    confusion = dirichlet_confusion(Votes.from_annotations(ann), np.eye(3))
    a, b = 0, 1
    np.testing.assert_allclose(confusion[a], (np.eye(3) + 0.5) / 2.5)
    np.testing.assert_allclose(confusion[b, 0], [0.5 / 2.5, 1.5 / 2.5, 0.5 / 2.5])
    np.testing.assert_allclose(confusion[b, 2], [1 / 3, 1 / 3, 1 / 3])  # never seen: uniform


def test_binary_calibration_recovers_a_logistic_relation_and_gates_noise() -> None:
    rng = np.random.default_rng(19)
    x = rng.normal(0.0, 2.0, (4000, 3))
    truth = (rng.random(x.shape) < sigmoid(-1.0 + 0.5 * x)).astype(float)
    fit = binary_calibration(x, truth)
    assert fit.used
    np.testing.assert_allclose(fit.slope, 0.5, atol=0.08)
    np.testing.assert_allclose(fit.intercept, -1.0, atol=0.15)
    noise = binary_calibration(rng.normal(size=x.shape), truth)
    assert not noise.used and (noise.slope == 0).all()
    # nearly separable classes do not diverge
    sure = binary_calibration(model_logits(np.where(truth > 0, 0.999, 0.001)), truth)
    assert sure.used and np.isfinite(sure.slope).all() and (sure.slope > 0).all()


def test_multiclass_calibration_recovers_a_temperature() -> None:
    rng = np.random.default_rng(20)
    logits = rng.normal(0.0, 2.0, (3000, 4))
    true_p = np.exp(0.5 * logits) / np.exp(0.5 * logits).sum(axis=1, keepdims=True)
    cls = (rng.random((3000, 1)) > np.cumsum(true_p, axis=1)).sum(axis=1)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    fit = multiclass_calibration(log_probs, np.eye(4)[cls])
    assert fit.used and fit.temperature == pytest.approx(0.5, abs=0.08)


def test_golden_max_and_weights_without_shared_tasks() -> None:
    assert golden_max(lambda t: -((t - 0.3) ** 2), 0.0, 1.0) == pytest.approx(0.3, abs=1e-3)
    assert golden_max(lambda t: t, 0.0, 1.0) == 1.0  # the edge itself when it is best
    alone = Annotations(task=[0, 1], annotator=["a", "b"], labels=np.ones((2, 2), dtype=np.int8))
    votes = Votes.from_annotations(alone)
    rates = np.full((2, 2), 0.9), np.full((2, 2), 0.1)
    # (omega, rho): the model at full weight, the votes undiscounted
    assert binary_weights(votes, np.zeros(2), None, np.zeros((2, 2)), *rates) == (1.0, 0.0)

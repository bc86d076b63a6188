"""The value of one more annotation: checked against brute-force Bayes over every vote an
annotator could cast, its invariants (in [0, 1], zero for settled or unanswerable questions,
independent of task order), the typical annotator's rates, and every refusal."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.active import (
    PRIOR_FALSE_POSITIVE_RATE,
    PRIOR_SENSITIVITY,
    annotation_value,
    multi_label_posterior,
    multi_label_value,
    single_label_posterior,
)
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError

probabilities = st.floats(0.0, 1.0, allow_nan=False)


def brute_force_multi(
    pi: np.ndarray, s: np.ndarray, f: np.ndarray, error: str
) -> tuple[float, float]:
    """P(the task's labels are right) before and expected after one vote, enumerated over all
    2**K vote patterns: labels decided at 1/2 (``"decision"``) or drawn from the posterior."""

    def right(post: np.ndarray) -> float:
        if error == "decision":
            return float(np.prod(np.maximum(post, 1 - post)))
        return float(np.prod(1 - 2 * post * (1 - post)))

    after = 0.0
    for vote in itertools.product((0, 1), repeat=len(pi)):
        v = np.array(vote)
        joint1 = pi * np.where(v == 1, s, 1 - s)  # P(vote, present)
        joint0 = (1 - pi) * np.where(v == 1, f, 1 - f)  # P(vote, absent)
        after += np.prod(joint1 + joint0) * right(joint1 / (joint1 + joint0))
    return right(pi), after


@settings(max_examples=200, deadline=None)
@given(
    pi=arrays(np.float64, st.integers(1, 4), elements=st.floats(0.001, 0.999)),
    rates=st.tuples(st.floats(0.5, 0.99), st.floats(0.01, 0.5)),
)
def test_multi_label_value_is_bayes_over_every_vote(
    pi: np.ndarray, rates: tuple[float, float]
) -> None:
    k = len(pi)
    s, f = np.full(k, rates[0]), np.full(k, rates[1])
    value, soft, right = multi_label_value(pi[None, :], s, f)
    before, after = brute_force_multi(pi, s, f, "decision")
    assert right[0] == pytest.approx(before, abs=1e-12)
    assert value[0] == pytest.approx(max(after - before, 0.0), abs=1e-9)
    before, after = brute_force_multi(pi, s, f, "drawn")
    assert soft[0] == pytest.approx(max(after - before, 0.0), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(pi=arrays(np.float64, st.integers(2, 5), elements=st.floats(0.01, 1.0)))
def test_single_label_value_is_bayes_over_every_vote(pi: np.ndarray) -> None:
    pi = pi / pi.sum()
    k = len(pi)
    found = annotation_value(pi[None, :], multi_label=False)
    a = PRIOR_SENSITIVITY
    confusion = np.full((k, k), (1 - a) / (k - 1))
    np.fill_diagonal(confusion, a)  # [true, vote]
    decided = drawn = 0.0
    for v in range(k):
        joint = pi * confusion[:, v]
        decided += joint.max()
        drawn += joint.sum() * ((joint / joint.sum()) ** 2).sum()
    assert found.p_right[0] == pytest.approx(pi.max())
    assert found.value[0] == pytest.approx(max(decided - pi.max(), 0.0), abs=1e-9)
    assert found.soft_value[0] == pytest.approx(max(drawn - (pi**2).sum(), 0.0), abs=1e-9)


def test_settled_tasks_are_worth_nothing_and_a_coin_flip_most() -> None:
    pi = np.array([[1.0, 0.0, 1.0], [0.5, 0.0, 1.0], [0.5, 0.5, 0.5], [0.2, 0.0, 1.0]])
    found = annotation_value(pi)
    assert found.value[0] < 1e-5 and found.soft_value[0] < 1e-5
    assert found.value[2] > found.value[1] > found.value[3] > 0.0
    assert np.all((0 <= found.value) & (found.value <= 1))
    assert list(found.ranking()) == [2, 1, 3, 0]


def test_ties_of_the_decision_value_are_broken_by_the_soft_value() -> None:
    # one vote cannot flip these cells, but it moves a 0.9 cell more than a 0.97 one
    pi = np.array([[0.97], [0.9], [0.999]])
    s, f = np.array([0.8]), np.array([0.2])
    value, soft, _ = multi_label_value(pi, s, f)
    assert np.all(value == 0.0) and soft[1] > soft[0] > soft[2] > 0


def test_an_uninformative_annotator_is_worth_nothing() -> None:
    pi = np.random.default_rng(0).random((50, 4))
    rates = np.full(4, 0.3)
    value, soft, _ = multi_label_value(pi, rates, rates)
    np.testing.assert_allclose(value, 0.0, atol=1e-15)
    np.testing.assert_allclose(soft, 0.0, atol=1e-12)


def test_without_annotations_the_prior_annotator_is_assumed() -> None:
    value = annotation_value(np.full((2, 3), 0.4))
    np.testing.assert_array_equal(value.sensitivity, PRIOR_SENSITIVITY)
    np.testing.assert_array_equal(value.false_positive_rate, PRIOR_FALSE_POSITIVE_RATE)
    assert value.multi_label


def test_rates_are_fitted_by_em_from_shared_tasks() -> None:
    rng = np.random.default_rng(1)
    n, k = 3000, 3
    model = rng.beta(0.6, 1.2, (n, k))  # a calibrated model: the truth is drawn from it
    truth = rng.random((n, k)) < model
    sens, fpr = np.array([0.95, 0.7, 0.8]), np.array([0.01, 0.1, 0.05])
    labels, tasks = [], []
    for _ in range(3):  # three annotations per task
        marked = np.where(truth, rng.random((n, k)) < sens, rng.random((n, k)) < fpr)
        labels.append(marked.astype(np.int8))
        tasks.append(np.arange(n))
    ann = Annotations(task=np.concatenate(tasks), annotator=np.repeat([1, 2, 3], n),
                      labels=np.vstack(labels))  # fmt: skip
    found = annotation_value(model, ann)
    np.testing.assert_allclose(found.sensitivity, sens, atol=0.03)
    np.testing.assert_allclose(found.false_positive_rate, fpr, atol=0.02)
    together = ((found.posterior >= 0.5) == truth).mean()
    assert together > 0.95 and together > ((model >= 0.5) == truth).mean() + 0.1


def test_lone_votes_do_not_make_annotators_look_perfect() -> None:
    rng = np.random.default_rng(3)
    model = rng.uniform(0.3, 0.7, (500, 2))  # a weak model
    ann = Annotations.from_labels((rng.random((500, 2)) < 0.5).astype(np.int8))
    found = annotation_value(model, ann)  # one vote per task: nothing to learn the rates from
    np.testing.assert_allclose(found.sensitivity, PRIOR_SENSITIVITY)
    np.testing.assert_allclose(found.false_positive_rate, PRIOR_FALSE_POSITIVE_RATE)


def test_the_posterior_is_the_model_prior_times_the_votes() -> None:
    probs = np.array([[0.2, 0.9]])
    ann = Annotations.from_labels(np.array([[1, 0]], dtype=np.int8))
    s, f = np.array([0.8, 0.8]), np.array([0.1, 0.1])
    pi = multi_label_posterior(probs, ann, s, f)
    expected = [0.2 * 0.8 / (0.2 * 0.8 + 0.8 * 0.1), 0.9 * 0.2 / (0.9 * 0.2 + 0.1 * 0.9)]
    np.testing.assert_allclose(pi[0], expected)
    single = single_label_posterior(np.array([[0.5, 0.3, 0.2]]), ann.subset(np.array([True])), 0.8)
    np.testing.assert_allclose(single.sum(axis=1), 1.0)


def test_a_vote_against_a_confident_model_makes_the_task_worth_asking_again() -> None:
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.5, 0.05]])
    ann = Annotations(task=np.array([0, 1]), annotator=np.array([1, 1]),
                      labels=np.array([[1, 0], [0, 0]], dtype=np.int8))  # fmt: skip
    value = annotation_value(probs, ann).value
    assert value[1] > value[0]  # the annotator contradicts the model on task 1
    assert value[2] > value[0]  # nobody labelled task 2 and the model is unsure


def test_value_does_not_depend_on_task_order() -> None:
    rng = np.random.default_rng(2)
    pi = rng.random((30, 4))
    labels = (rng.random((30, 4)) < pi).astype(np.int8)
    ann = Annotations.from_labels(labels)
    order = rng.permutation(30)
    moved = Annotations(task=np.argsort(order)[ann.task], annotator=ann.annotator, labels=labels)
    first = annotation_value(pi, ann).value
    np.testing.assert_allclose(annotation_value(pi[order], moved).value, first[order], atol=1e-12)


def test_single_label_tasks() -> None:
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.4, 0.3, 0.3]])
    ann = Annotations.from_class_indices(
        np.array([0, 0, 1, 1]), np.array([1, 2, 1, 2]), np.array([0, 0, 1, 2]), 3
    )
    value = annotation_value(probs, ann, multi_label=False)
    assert 0.5 < value.sensitivity[0] < PRIOR_SENSITIVITY  # one disagreement in four votes
    np.testing.assert_allclose(value.false_positive_rate, (1 - value.sensitivity) / 2)
    np.testing.assert_allclose(value.posterior.sum(axis=1), 1.0)
    assert value.value[1] > value.value[0]  # its two annotators disagree


@pytest.mark.parametrize(
    ("probs", "multi_label", "match"),
    [
        (np.zeros(3), True, r"\(n, K\) array"),
        (np.full((2, 2), np.nan), True, "no NaN"),
        (np.full((2, 2), 1.5), True, r"in \[0, 1\]"),
        (np.full((2, 3), 0.5), False, "sum to 1"),
        (np.ones((2, 1)), False, r"\(n, K\) array"),
    ],
    ids=["1-d", "nan", "above-one", "single-rows", "single-one-class"],
)
def test_bad_probabilities_are_refused(probs: np.ndarray, multi_label: bool, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        annotation_value(probs, multi_label=multi_label)


def test_bad_annotations_and_options_are_refused() -> None:
    pi = np.full((2, 2), 0.5)
    with pytest.raises(InvalidAnnotationsError, match=r"must be an ls_cleanlab\.Annotations"):
        annotation_value(pi, np.zeros((2, 2)))  # type: ignore[arg-type]
    three = Annotations.from_labels(np.zeros((2, 3), dtype=np.int8))
    with pytest.raises(InvalidAnnotationsError, match="3 classes but pred_probs 2"):
        annotation_value(pi, three)
    beyond = Annotations.from_labels(np.zeros((3, 2), dtype=np.int8))
    with pytest.raises(InvalidAnnotationsError):
        annotation_value(pi, beyond)
    with pytest.raises(InvalidOptionError, match="prior_weight"):
        annotation_value(pi, prior_weight=0)
    with pytest.raises(InvalidOptionError, match="max_iter"):
        annotation_value(pi, max_iter=0)

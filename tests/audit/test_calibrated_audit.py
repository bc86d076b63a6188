"""The audit's calibrated scores, task probabilities, tabs and missing-label gate: simulations
with known truth, properties, and the new options' error paths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ls_cleanlab import Annotations, audit_labels
from ls_cleanlab.audit.expected import expected_issues, task_probabilities
from ls_cleanlab.audit.satisficing import cell_evidence, deficit_weight
from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.pipeline.queues import QUEUES, queue_members


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def calibrated_model(truth: np.ndarray, dprime: float, rng: np.random.Generator) -> np.ndarray:
    prior = truth.mean(axis=0).clip(1e-3, 1 - 1e-3)
    score = dprime * truth + rng.normal(0.0, 1.0, truth.shape)
    return sigmoid(np.log(prior / (1 - prior)) + dprime * score - dprime**2 / 2)


def make_truth(seed: int, n: int = 1500, k: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((n, k)) < np.linspace(0.4, 0.1, k)


def team(truth: np.ndarray, rates: list[tuple[float, float]], seed: int) -> Annotations:
    """Every annotator labels every task with its (sensitivity, false-positive rate)."""
    rng = np.random.default_rng(seed)
    n, k = truth.shape
    rows = [np.where(truth, rng.random((n, k)) < se, rng.random((n, k)) < fp) for se, fp in rates]
    return Annotations(
        task=np.tile(np.arange(n), len(rates)),
        annotator=np.repeat([f"a{j}" for j in range(len(rates))], n),
        labels=np.vstack(rows).astype(np.int8),
    )


def ece(scores: np.ndarray, wrong: np.ndarray, bins: int = 15) -> float:
    which = np.minimum((scores.ravel() * bins).astype(int), bins - 1)
    gap = np.bincount(which, scores.ravel(), bins) - np.bincount(which, wrong.ravel(), bins)
    return float(np.abs(gap).sum() / scores.size)


def issue_tasks(res: Any, kinds: tuple[str, ...]) -> set[int]:
    return set(res.issues.loc[res.issues["kind"].isin(kinds), "task"].tolist())


@pytest.fixture(scope="module")
def several() -> tuple[np.ndarray, Annotations, np.ndarray, Any]:
    truth = make_truth(0)
    ann = team(truth, [(0.95, 0.01), (0.55, 0.001), (0.9, 0.06)], seed=1)
    probs = calibrated_model(truth, 2.0, np.random.default_rng(2))
    return truth, ann, probs, audit_labels(probs, annotations=ann)


def test_several_annotators_scores_are_calibrated_probabilities(several: Any) -> None:
    truth, _, _, res = several
    wrong = res.consensus.astype(bool) != truth
    assert ece(res.cell_scores, wrong) < 0.01
    task_wrong = wrong.any(axis=1)
    assert res.expected_issues["errors"] == pytest.approx(task_wrong.sum(), rel=0.2)
    missing = (truth & ~res.consensus.astype(bool)).any(axis=1)
    assert res.expected_issues["missing"] == pytest.approx(missing.sum(), rel=0.25)
    # with several annotators the priority is the probability the task's consensus is wrong
    np.testing.assert_allclose(res.priority, res.task_wrong)
    for array in (res.priority, res.cell_scores, res.present, res.task_wrong):
        assert array.min() >= 0 and array.max() <= 1


def test_fixed_threshold_flags_tasks_mostly_real(several: Any) -> None:
    truth, ann, probs, _ = several
    res = audit_labels(probs, annotations=ann, threshold=0.5)
    cons = res.consensus.astype(bool)
    flagged = issue_tasks(res, ("missing", "spurious"))
    wrong = np.flatnonzero((cons != truth).any(axis=1))
    if len(flagged) >= 10:
        assert len(flagged & set(wrong.tolist())) / len(flagged) >= 0.5
    task_p = task_probabilities(cons, res.cell_scores, multi_label=True)
    assert all(max(task_p.missing[t], task_p.spurious[t]) >= 0.5 for t in flagged)
    assert res.thresholds == {"missing": 0.5, "spurious": 0.5}


def _precision_recall(flagged: set[int], problem: np.ndarray) -> tuple[float, float]:
    hits = len(flagged & set(np.flatnonzero(problem).tolist()))
    return hits / max(len(flagged), 1), hits / max(int(problem.sum()), 1)


def test_default_tabs_hold_the_expected_count(several: Any) -> None:
    """By default each error tab holds about as many tasks as the audit expects to have its
    problem, its precision is about the expected precision it reports, and it balances
    precision and recall far better than a fixed bar of 0.5, which admits almost nothing
    where the consensus is the most probable labelling."""
    truth, ann, probs, res = several
    fixed = audit_labels(probs, annotations=ann, threshold=0.5)
    cons = res.consensus.astype(bool)
    problems = {"errors": (cons != truth).any(axis=1), "missing": (truth & ~cons).any(axis=1)}
    kinds = {"errors": ("missing", "spurious", "rule"), "missing": ("missing",)}
    for tab, problem in problems.items():
        flagged = issue_tasks(res, kinds[tab])
        expected = res.expected_issues[tab]
        assert abs(len(flagged) - expected) <= max(2.0, 0.1 * expected)
        precision, recall = _precision_recall(flagged, problem)
        assert precision == pytest.approx(res.expected_precision[tab], abs=0.15)
        chance = (
            res.task_wrong
            if tab == "errors"
            else task_probabilities(cons, res.cell_scores, multi_label=True).missing
        )
        assert res.expected_precision[tab] == pytest.approx(chance[sorted(flagged)].mean())
        old_p, old_r = _precision_recall(issue_tasks(fixed, kinds[tab]), problem)
        assert recall > old_r + 0.2
        assert min(precision, recall) > min(old_p, old_r) + 0.2


def test_one_slip_is_feedback_not_an_error() -> None:
    truth = make_truth(3, n=400)
    n = len(truth)
    labels = [truth.copy() for _ in range(3)]
    labels[2][0] = ~truth[0]  # annotator a2 slips on every class of task 0
    labels[1][1, 0] = ~truth[1, 0]  # a1 slips on one class of task 1
    ann = Annotations(
        task=np.tile(np.arange(n), 3),
        annotator=np.repeat(["a0", "a1", "a2"], n),
        labels=np.vstack(labels).astype(np.int8),
    )
    probs = np.where(truth, 0.9, 0.1)
    res = audit_labels(probs, annotations=ann)
    np.testing.assert_array_equal(res.consensus, truth)
    assert {0, 1} <= issue_tasks(res, ("disagreement",))
    assert not issue_tasks(res, ("missing", "spurious", "rule"))
    members = queue_members(res, np.ones(n, dtype=bool))
    assert set(members["disagree"].tolist()) >= {0, 1} and len(members["errors"]) == 0


def test_nothing_is_flagged_when_everyone_agrees_with_a_confident_model() -> None:
    truth = make_truth(4, n=300, k=5)
    n = len(truth)
    ann = Annotations(
        task=np.tile(np.arange(n), 2),
        annotator=np.repeat(["x", "y"], n),
        labels=np.vstack([truth, truth]).astype(np.int8),
    )
    probs = np.where(truth, 0.97, 0.03)
    res = audit_labels(probs, annotations=ann)
    assert len(res.issues) == 0
    assert res.priority.max() < 0.05 and res.expected_issues["errors"] < 1.0


def test_one_annotator_scores_are_calibrated_and_rank_as_cleanlab() -> None:
    from cleanlab.multilabel_classification import get_label_quality_scores

    truth = make_truth(5, n=2000, k=10)
    rng = np.random.default_rng(6)
    probs = calibrated_model(truth, 2.0, rng)
    given = truth ^ (rng.random(truth.shape) < 0.03)  # symmetric slips: nothing is missing more
    res = audit_labels(probs, labels=given.astype(int))
    assert ece(res.cell_scores, given != truth) < 0.01
    lists = [np.flatnonzero(row).tolist() for row in given]
    np.testing.assert_allclose(res.priority, 1 - get_label_quality_scores(lists, probs), atol=1e-12)
    # the calibrated scores add up to the real count; the expected count shown beside the tab
    # is at least that (one annotator: at least the tasks confident learning flags)
    calibrated = expected_issues(
        task_probabilities(given, res.cell_scores, True), res.priority >= 0, True
    )
    assert calibrated["errors"] == pytest.approx((given != truth).any(axis=1).sum(), rel=0.3)
    assert res.expected_issues["errors"] >= calibrated["errors"]


def test_one_satisficing_annotator_is_found_and_calibrated() -> None:
    truth = make_truth(7, n=2000, k=10)
    rng = np.random.default_rng(8)
    probs = calibrated_model(truth, 2.5, rng)
    given = truth & (rng.random(truth.shape) < 0.6)  # misses 40% of the labels, adds none
    res = audit_labels(probs, labels=given.astype(int))
    missing = (truth & ~given).any(axis=1)
    flagged = issue_tasks(res, ("missing",))
    assert len(flagged & set(np.flatnonzero(missing).tolist())) / len(flagged) >= 0.6
    assert ece(res.cell_scores, given != truth) < 0.02
    assert res.expected_issues["spurious"] < 0.2 * res.expected_issues["missing"]


def test_task_probabilities_combine_cells() -> None:
    given = np.array([[True, False, False], [False, False, False]])
    scores = np.array([[0.5, 0.5, 0.0], [0.1, 0.2, 0.0]])
    probs = task_probabilities(given, scores, multi_label=True)
    np.testing.assert_allclose(probs.spurious, [0.5, 0.0])
    np.testing.assert_allclose(probs.missing, [0.5, 1 - 0.9 * 0.8])
    np.testing.assert_allclose(probs.wrong, [0.75, 1 - 0.9 * 0.8])
    counts = expected_issues(probs, np.array([True, False]), multi_label=True)
    assert counts == pytest.approx({"errors": 0.75, "spurious": 0.5, "missing": 0.5})
    single = task_probabilities(np.eye(2, dtype=bool), np.array([[0.3, 0.3], [0.1, 0.9]]), False)
    np.testing.assert_allclose(single.wrong, [0.3, 0.9])
    assert "missing" not in expected_issues(single, np.ones(2, bool), multi_label=False)


def test_missing_label_evidence_stays_off_without_missing_labels() -> None:
    truth = make_truth(9, n=2000, k=10)
    rng = np.random.default_rng(10)
    probs = calibrated_model(truth, 2.0, rng)
    added = truth | (rng.random(truth.shape) < 0.05)  # spurious labels only
    ev = cell_evidence(added.astype(np.int8), probs, seed=0)
    assert (ev.extra == 0).all() and (ev.lift_weight == 0).all()
    satisficed = truth & (rng.random(truth.shape) < 0.5)
    ev = cell_evidence(satisficed.astype(np.int8), probs, seed=0)
    assert ev.extra.max() > 0
    no_deficit = np.zeros(len(truth))
    assert deficit_weight(no_deficit, probs, np.random.default_rng(0)) == 0.0


def test_errors_tab_holds_the_kinds_that_need_fixing() -> None:
    kinds = {q.key: q.kinds for q in QUEUES}
    assert "disagreement" not in kinds["errors"]
    assert set(kinds["errors"]) == {"missing", "spurious", "rule"}
    assert kinds["disagree"] == ("disagreement",)


@pytest.mark.parametrize(
    ("threshold", "match"),
    [
        pytest.param(True, "threshold must be a number", id="bool"),
        pytest.param("0.5", "threshold must be a number", id="string"),
        pytest.param(0.0, r"threshold must be a number in \(0, 1\), got 0.0", id="zero"),
        pytest.param(1.5, r"threshold must be a number in \(0, 1\), got 1.5", id="above-one"),
    ],
)
def test_threshold_is_checked(threshold: Any, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        audit_labels(np.full((4, 3), 0.5), labels=np.ones((4, 3)), threshold=threshold)


def test_consensus_method_lists_calibrated() -> None:
    with pytest.raises(InvalidOptionError, match="'calibrated'"):
        audit_labels(np.full((4, 3), 0.5), labels=np.ones((4, 3)), consensus_method="bayes")


def test_higher_threshold_flags_a_subset(several: Any) -> None:
    _, ann, probs, res = several
    strict = audit_labels(probs, annotations=ann, threshold=0.8)
    kinds = ("missing", "spurious")
    assert issue_tasks(strict, kinds) <= issue_tasks(res, kinds)
    np.testing.assert_array_equal(strict.consensus, res.consensus)


@pytest.mark.parametrize("multi_label", [True, False], ids=["multi-label", "single-label"])
def test_one_annotator_tabs_keep_confident_learnings_flags(multi_label: bool) -> None:
    """An under-confident model (probabilities near 0.9 where the truth is certain) must not
    hide the errors of one annotator: the tabs hold at least what confident learning flags."""
    from cleanlab.filter import find_label_issues
    from cleanlab.multilabel_classification.filter import find_label_issues as multi_issues

    rng = np.random.default_rng(11)
    n, k = 1500, 6
    wrong = rng.random(n) < 0.1
    if multi_label:
        truth = rng.random((n, k)) < 0.3
        probs = sigmoid(np.where(truth, 2.5, -2.5) + rng.normal(0.0, 1.0, (n, k)))
        given = truth.copy()
        given[np.flatnonzero(wrong), rng.integers(k, size=wrong.sum())] ^= True
        labels: Any = given.astype(int)
        cl = multi_issues(labels=[np.flatnonzero(r).tolist() for r in given], pred_probs=probs)
    else:
        truth_class = rng.integers(k, size=n)
        logits = 5.0 * np.eye(k)[truth_class] + rng.normal(0.0, 1.0, (n, k))
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        labels = np.where(wrong, (truth_class + rng.integers(1, k, size=n)) % k, truth_class)
        cl = find_label_issues(labels, probs)
    res = audit_labels(probs, labels=labels)
    flagged = issue_tasks(res, ("missing", "spurious"))
    assert set(np.flatnonzero(cl).tolist()) <= flagged
    real = set(np.flatnonzero(wrong).tolist())
    assert len(flagged & real) >= 0.85 * len(real)
    assert len(flagged & real) >= 0.85 * len(flagged)
    assert res.expected_issues["errors"] >= cl.sum()
    # the suggestion undoes the flagged errors
    fixed = res.suggested[np.flatnonzero(cl)]
    truth_rows = (truth if multi_label else np.eye(k, dtype=bool)[truth_class])[np.flatnonzero(cl)]
    assert (fixed == truth_rows).all(axis=1).mean() >= 0.8


def test_tab_thresholds_cut_at_the_expected_counts() -> None:
    from ls_cleanlab.audit.expected import SURE, TaskProbabilities, tab_thresholds

    rng = np.random.default_rng(5)
    n = 400
    missing, spurious = rng.beta(0.3, 3.0, n), rng.beta(0.2, 4.0, n)
    wrong = 1 - (1 - missing) * (1 - spurious)
    labelled = rng.random(n) < 0.9
    probs = TaskProbabilities(wrong, missing, spurious)
    cut = tab_thresholds(probs, labelled, multi_label=True, threshold=None)
    in_missing = labelled & (missing >= cut["missing"])
    in_errors = in_missing | (labelled & (spurious >= cut["spurious"]))
    assert in_missing.sum() == max(
        round(missing[labelled].sum()), (missing[labelled] >= SURE).sum()
    )
    assert abs(int(in_errors.sum()) - round(wrong[labelled].sum())) <= 1
    assert (missing[labelled & (missing >= SURE)] >= cut["missing"]).all()
    # nothing expected wrong: empty tabs; a fixed threshold is used as given
    none = TaskProbabilities(np.zeros(n), np.zeros(n), np.zeros(n))
    empty = tab_thresholds(none, labelled, multi_label=True, threshold=None)
    assert all(t > 0 for t in empty.values())
    assert tab_thresholds(probs, labelled, True, 0.7) == {"missing": 0.7, "spurious": 0.7}
    one = TaskProbabilities(spurious, spurious, spurious)  # single-label: all three alike
    single = tab_thresholds(one, labelled, multi_label=False, threshold=None)
    assert (labelled & (spurious >= single["spurious"])).sum() == round(spurious[labelled].sum())

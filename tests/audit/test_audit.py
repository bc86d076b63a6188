"""Tests of audit_labels: simulations with known truth, properties, and every error path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ls_cleanlab import Annotations
from ls_cleanlab.audit import LabelAudit, audit_labels
from ls_cleanlab.audit.inputs import confident_cells
from ls_cleanlab.errors import (
    InvalidAnnotationsError,
    InvalidLabelsError,
    InvalidOptionError,
    InvalidPredProbsError,
)
from ls_cleanlab.testing.simulate import careless, make_project, satisfice

NAMES = ["airplane", "airport", "buildings", "cars", "runway", "trees"]


def team(
    truth: np.ndarray, labelings: list[np.ndarray], seed: int = 0, **extra: Any
) -> Annotations:
    """Every annotator labels every task, in a random order of their own, 20 s apart."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    tasks, created = [], []
    for _ in labelings:
        order = rng.permutation(n)
        tasks.append(order)
        created.append(np.cumsum(rng.exponential(20.0, n)))
    labels = np.vstack([lab[t] for lab, t in zip(labelings, tasks, strict=True)])
    names = [f"annotator-{a}" for a in range(len(labelings))]
    return Annotations(
        task=np.concatenate(tasks),
        annotator=np.repeat(names, n),
        labels=labels.astype(np.int8),
        created_at=np.concatenate(created),
        **extra,
    )


@pytest.fixture(scope="module")
def project() -> Any:
    return make_project(n=1200, seed=11)


def test_satisficing_misses_are_found_from_one_annotator(project: Any) -> None:
    given = satisfice(project.truth, 0.4, np.random.default_rng(1))
    res = audit_labels(project.pred_probs, labels=given.astype(int), class_names=NAMES)
    assert isinstance(res, LabelAudit) and res.annotators is None
    missing = project.truth & ~given
    assert roc_auc_score(missing[~given], res.cell_scores[~given]) >= 0.9
    wrong_task = (given != project.truth).any(axis=1)
    assert roc_auc_score(wrong_task, res.priority) >= 0.9
    top = res.issues[res.issues["kind"] == "missing"].head(20)
    assert len(top) == 20
    hits = [missing[t, NAMES.index(c)] for t, c in zip(top["task"], top["class"], strict=True)]
    assert np.mean(hits) >= 0.8
    assert top["reason"].str.contains("probably missing: model").all()
    assert top["confident_learning"].mean() >= 0.8  # confident learning agrees on most
    np.testing.assert_array_equal(res.consensus, given)
    # suggestions flip the cells more likely wrong than right, and (one annotator) the cells
    # confident learning flags
    confident = confident_cells(given, np.ones(len(given), bool), project.pred_probs, True)
    assert ((res.suggested != given) == ((res.cell_scores >= 0.5) | confident)).all()


def test_nothing_is_flagged_when_labels_match_confident_predictions() -> None:
    rng = np.random.default_rng(2)
    truth = rng.random((400, 5)) < 0.3
    probs = np.where(truth, 0.97, 0.03) + rng.uniform(-0.02, 0.02, truth.shape)
    res = audit_labels(probs, labels=truth.astype(int))
    assert len(res.issues) == 0
    assert res.issues["task"].dtype == np.int64 and res.issues["score"].dtype == np.float64
    assert res.priority.max() < 0.2
    np.testing.assert_array_equal(res.suggested, truth)


def test_scores_lie_in_the_unit_interval_and_ignore_row_order(project: Any) -> None:
    rng = np.random.default_rng(3)
    labelings = [satisfice(project.truth, 0.5, rng), careless(project.truth, 0.1, 0.02, rng)]
    ann = team(project.truth, labelings)
    res = audit_labels(project.pred_probs, annotations=ann, class_names=NAMES)
    for array in (res.priority, res.cell_scores, res.present):
        assert array.min() >= 0 and array.max() <= 1
    shuffled = ann.subset(rng.permutation(len(ann)))
    again = audit_labels(project.pred_probs, annotations=shuffled, class_names=NAMES)
    np.testing.assert_allclose(again.priority, res.priority, atol=1e-9)
    np.testing.assert_array_equal(again.consensus, res.consensus)
    by_name = res.annotators.set_index("annotator")["quality"]
    np.testing.assert_allclose(
        again.annotators.set_index("annotator")["quality"][by_name.index], by_name
    )


def test_three_annotators_satisficer_and_careless_are_told_apart(project: Any) -> None:
    rng = np.random.default_rng(4)
    labelings = [
        satisfice(project.truth, 0.7, rng),
        careless(project.truth, 0.2, 0.05, rng),
        careless(project.truth, 0.03, 0.005, rng),
    ]
    ann = team(project.truth, labelings)
    res = audit_labels(project.pred_probs, annotations=ann, class_names=NAMES)
    table = res.annotators.set_index("annotator")
    assert list(table.index[table["satisficing"]]) == ["annotator-0"]
    assert table["quality"].idxmax() == "annotator-2"
    assert table["spurious_rate"].idxmax() == "annotator-1"  # the careless one adds labels
    assert table["missing_rate"].idxmax() == "annotator-0"  # the satisficer leaves them out
    assert table["labels_vs_coannotators"].idxmin() == "annotator-0"
    assert table.loc["annotator-0", "subset_rate"] > table.loc["annotator-2", "subset_rate"]
    majority = np.mean(labelings, axis=0) >= 0.5
    assert (res.consensus != project.truth).any(axis=1).mean() <= (
        (majority != project.truth).any(axis=1).mean()
    )
    disagree = res.issues[res.issues["kind"] == "disagreement"]
    assert len(disagree) and disagree["reason"].str.contains(r"\d of 3 annotators marked it").all()
    assert res.agreement is not None and res.agreement.pairwise.shape == (3, 3)
    assert np.isfinite(res.classes["alpha"]).all()


def test_annotation_only_audit_without_a_model(project: Any) -> None:
    rng = np.random.default_rng(5)
    labelings = [careless(project.truth, 0.1, 0.02, rng) for _ in range(3)]
    res = audit_labels(annotations=team(project.truth, labelings), class_names=NAMES)
    assert res.consensus.shape == project.truth.shape
    assert (res.consensus != project.truth).any(axis=1).mean() < 0.1
    assert not res.issues["reason"].str.contains("model").any()


def test_anchoring_and_gamblers_fallacy_are_flagged() -> None:
    project = make_project(n=1500, seed=6)
    rng = np.random.default_rng(7)
    n = len(project.truth)
    anchored = project.truth.copy()
    avoiding = project.truth.copy()
    for i in range(1, n):  # annotators see tasks in index order here
        if rng.random() < 0.3:
            anchored[i] |= anchored[i - 1]  # repeat the previous answer
        avoiding[i] &= ~(avoiding[i - 1] & (rng.random(6) < 0.5))  # avoid repeating it
    steady = careless(project.truth, 0.05, 0.01, rng)
    ann = Annotations(
        task=np.tile(np.arange(n), 3),
        annotator=np.repeat(["anchored", "avoiding", "steady"], n),
        labels=np.vstack([anchored, avoiding, steady]).astype(np.int8),
        created_at=np.tile(np.arange(n) * 30.0, 3),
    )
    res = audit_labels(project.pred_probs, annotations=ann)
    table = res.annotators.set_index("annotator")
    assert list(table.index[table["anchoring"]]) == ["anchored"]
    assert list(table.index[table["gamblers_fallacy"]]) == ["avoiding"]
    assert table.loc["anchored", "anchoring_effect"] > 3


def test_fatigue_and_rushing_are_flagged() -> None:
    project = make_project(n=1200, seed=8)
    rng = np.random.default_rng(9)
    n = len(project.truth)
    position = np.arange(n) % 100  # sessions of 100 tasks, an hour apart
    created = (np.arange(n) // 100) * 7200.0 + position * 20.0
    tired = project.truth.copy()
    drop = rng.random(tired.shape) < (position / 100.0 * 0.6)[:, None]
    tired &= ~drop
    rested = careless(project.truth, 0.05, 0.01, rng)
    lead = np.where(drop.any(axis=1), 3.0, 12.0) + rng.uniform(0, 1, n)
    ann = Annotations(
        task=np.tile(np.arange(n), 2),
        annotator=np.repeat(["tired", "rested"], n),
        labels=np.vstack([tired, rested]).astype(np.int8),
        created_at=np.concatenate([created, rng.permutation(created)]),
        lead_time=np.concatenate([lead, rng.uniform(8, 12, n)]),
    )
    res = audit_labels(project.pred_probs, annotations=ann)
    table = res.annotators.set_index("annotator")
    assert list(table.index[table["fatigue"]]) == ["tired"]
    assert list(table.index[table["rushing"]]) == ["tired"]
    assert table.loc["tired", "fatigue_rho"] > 0.2


def test_under_labelled_rare_class_is_flagged() -> None:
    project = make_project(n=2000, seed=10)
    given = project.truth.copy()
    rng = np.random.default_rng(11)
    given[:, 5] &= rng.random(len(given)) < 0.4  # the rarest class is mostly overlooked
    res = audit_labels(project.pred_probs, labels=given.astype(int), class_names=NAMES)
    classes = res.classes.set_index("class")
    assert classes["miss_rate"].idxmax() == "trees"
    assert list(classes.index[classes["under_labelled"]]) == ["trees"]


def test_rules_become_issues(project: Any) -> None:
    given = project.truth.copy()
    given[:5, 4] = True  # runway ...
    given[:5, 1] = False  # ... without airport
    rules = {"implies": {"runway": ["airport"]}}
    res = audit_labels(project.pred_probs, labels=given.astype(int), class_names=NAMES, rules=rules)
    ruled = res.issues[res.issues["kind"] == "rule"]
    assert set(range(5)) <= set(ruled["task"])
    assert ruled["reason"].str.contains("'runway' implies 'airport'").all()
    assert (ruled["score"] >= 0.9).all()
    with pytest.raises(InvalidOptionError, match="unknown class 'hangar'"):
        audit_labels(
            project.pred_probs,
            labels=given.astype(int),
            class_names=NAMES,
            rules={"implies": {"runway": ["hangar"]}},
        )


def test_outliers_by_features(project: Any) -> None:
    rng = np.random.default_rng(12)
    features = rng.normal(size=(len(project.truth), 4))
    features[7] += 40.0
    res = audit_labels(project.pred_probs, labels=project.truth.astype(int), features=features)
    outliers = res.issues[res.issues["kind"] == "outlier"]
    assert 7 in set(outliers["task"]) and len(outliers) < 10
    assert outliers["class"].isna().all()


def test_unlabelled_tasks_get_suggestions_not_priority(project: Any) -> None:
    rows = np.arange(0, 1000)
    ann = Annotations(task=rows, annotator=np.zeros(1000), labels=project.truth[rows].astype(int))
    res = audit_labels(project.pred_probs, annotations=ann)
    assert (res.priority[1000:] == 0).all() and (res.cell_scores[1000:] == 0).all()
    np.testing.assert_array_equal(res.suggested[1000:], project.pred_probs[1000:] >= 0.5)
    assert (res.uncertainty[1000:] > 0).all() and (res.uncertainty[:1000] == 0).all()
    assert (res.issues["task"] < 1000).all()  # labels equal the truth: there may be none


def test_single_label_priority_is_cleanlab_self_confidence() -> None:
    from cleanlab.rank import get_label_quality_scores

    rng = np.random.default_rng(13)
    probs = rng.dirichlet(np.ones(4) * 0.7, 300)
    labels = rng.integers(0, 4, 300)
    res = audit_labels(probs, labels=labels)
    assert not res.multi_label
    np.testing.assert_allclose(
        res.priority, 1 - get_label_quality_scores(labels, probs), atol=1e-12
    )
    wrong = res.issues[res.issues["kind"] == "spurious"]
    p_wrong = res.cell_scores[np.arange(300), labels]  # calibrated P(given class wrong)
    doubtful = p_wrong >= 0.5
    given = np.eye(4, dtype=bool)[labels]
    by_flag = confident_cells(given, np.ones(300, bool), probs, False).any(axis=1)
    # the default tab: every task more likely wrong than right, at least the expected number of
    # wrong tasks, and (one annotator) every task confident learning flags
    cut = res.thresholds["spurious"]
    assert cut <= 0.5 and (p_wrong >= cut).sum() >= round(p_wrong.sum())
    assert set(wrong["task"]) == set(np.flatnonzero((p_wrong >= cut) | by_flag))
    assert wrong["reason"].str.contains("probably wrong").all()
    # suggested: the most probable class; where only confident learning doubts the given
    # class (one annotator), the model's class
    best = res.present.argmax(axis=1)
    best = np.where(by_flag & (best == labels), probs.argmax(axis=1), best)
    np.testing.assert_array_equal(
        res.suggested.argmax(axis=1), np.where(doubtful | by_flag, best, labels)
    )


def test_single_label_consensus_is_cleanlab_crowdlab() -> None:
    from cleanlab.multiannotator import get_label_quality_multiannotator

    rng = np.random.default_rng(14)
    n, k = 300, 3
    truth = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n) * 0.5 + np.eye(k)[truth] * 0.5
    votes = np.where(rng.random((n, 3)) < 0.75, truth[:, None], rng.integers(0, k, (n, 3)))
    cleanlab = get_label_quality_multiannotator(votes, probs, verbose=False)
    ann = Annotations.from_class_indices(
        np.tile(np.arange(n), 3), np.repeat([0, 1, 2], n), votes.T.ravel(), k
    )
    res = audit_labels(probs, annotations=ann, consensus_method="crowdlab")
    np.testing.assert_array_equal(
        res.consensus.argmax(axis=1), cleanlab["label_quality"]["consensus_label"]
    )
    quality = res.annotators.set_index("annotator")["quality"].sort_index()
    np.testing.assert_allclose(
        quality.to_numpy(), cleanlab["annotator_stats"]["annotator_quality"].sort_index(), atol=1e-9
    )


GOOD = np.full((4, 3), 0.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({}, InvalidLabelsError, "nothing to audit", id="nothing"),
        pytest.param(
            {"labels": np.ones((4, 3)), "annotations": Annotations.from_labels(np.ones((4, 3)))},
            InvalidOptionError,
            "not both",
            id="both",
        ),
        pytest.param({"labels": np.ones((5, 3))}, InvalidLabelsError, "5", id="rows"),
        pytest.param(
            {"labels": np.ones((4, 2))}, InvalidLabelsError, r"shape \(4, 2\)", id="columns"
        ),
        pytest.param(
            {"annotations": Annotations(task=[0, 9], annotator=[1, 2], labels=np.ones((2, 3)))},
            InvalidAnnotationsError,
            r"\[0, 4\)",
            id="task-out-of-range",
        ),
        pytest.param(
            {"annotations": Annotations(task=[0, 1], annotator=[1, 2], labels=np.ones((2, 2)))},
            InvalidAnnotationsError,
            "2 classes",
            id="annotation-classes",
        ),
        pytest.param(
            {"annotations": "labels"}, InvalidAnnotationsError, "str", id="not-annotations"
        ),
        pytest.param(
            {"labels": np.ones((4, 3)), "class_names": ["a", "b"]},
            InvalidOptionError,
            "2 names",
            id="names",
        ),
        pytest.param(
            {"labels": np.ones((4, 3)), "class_names": ["a", "b", "a"]},
            InvalidOptionError,
            "'a' repeats",
            id="dup-names",
        ),
        pytest.param(
            {"labels": np.ones((4, 3)), "threshold": 1.0},
            InvalidOptionError,
            "threshold",
            id="threshold",
        ),
        pytest.param(
            {"labels": np.ones((4, 3)), "consensus_method": "vote"},
            InvalidOptionError,
            "'crowdlab'",
            id="method",
        ),
        pytest.param(
            {"labels": np.ones((4, 3)), "features": np.ones((3, 2))},
            InvalidOptionError,
            r"\(4, d\)",
            id="features",
        ),
        pytest.param(
            {"labels": np.ones((4, 3)), "n_tasks": 5}, InvalidOptionError, "n_tasks=5", id="n-tasks"
        ),
    ],
)
def test_bad_input_is_named(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        audit_labels(GOOD, **kwargs)


def test_bad_probabilities_and_missing_model() -> None:
    bad = GOOD.copy()
    bad[2, 1] = np.nan
    with pytest.raises(InvalidPredProbsError, match="rows 2"):
        audit_labels(bad, labels=np.ones((4, 3)))
    with pytest.raises(InvalidAnnotationsError, match="several annotators on shared tasks"):
        audit_labels(labels=np.ones((4, 3)))
    lonely = Annotations(task=[0, 1], annotator=["a", "b"], labels=np.ones((2, 3)))
    with pytest.raises(InvalidAnnotationsError, match=r"more than one annotation \(2 in all\)"):
        audit_labels(annotations=lonely)


def test_without_missing_label_evidence_the_ranking_is_cleanlabs() -> None:
    from cleanlab.multilabel_classification import get_label_quality_scores

    rng = np.random.default_rng(15)
    probs = rng.beta(0.4, 1.2, (800, 5))
    labels = rng.random(probs.shape) < probs  # calibrated model, independent classes
    res = audit_labels(probs, labels=labels.astype(int))
    lists = [np.flatnonzero(row).tolist() for row in labels]
    np.testing.assert_allclose(res.priority, 1 - get_label_quality_scores(lists, probs), atol=1e-12)


def test_task_order_does_not_matter(project: Any) -> None:
    rng = np.random.default_rng(16)
    labelings = [satisfice(project.truth, 0.5, rng), careless(project.truth, 0.1, 0.02, rng)]
    ann = team(project.truth, labelings, lead_time=rng.uniform(1, 9, 2 * len(project.truth)))
    res = audit_labels(project.pred_probs, annotations=ann)
    perm = rng.permutation(len(project.truth))
    where = np.argsort(perm)  # new index of each old task
    moved = Annotations(
        task=where[ann.task],
        annotator=ann.annotator,
        labels=ann.labels,
        lead_time=ann.lead_time,
        created_at=ann.created_at,
    )
    again = audit_labels(project.pred_probs[perm], annotations=moved)
    np.testing.assert_allclose(again.priority, res.priority[perm], atol=1e-9)
    np.testing.assert_array_equal(again.consensus, res.consensus[perm])
    np.testing.assert_allclose(again.cell_scores, res.cell_scores[perm], atol=1e-9)


def test_identical_annotators_agree_perfectly(project: Any) -> None:
    labels = project.truth.astype(np.int8)
    n = len(labels)
    ann = Annotations(
        task=np.tile(np.arange(n), 2),
        annotator=np.repeat(["a", "b"], n),
        labels=np.vstack([labels, labels]),
    )
    res = audit_labels(project.pred_probs, annotations=ann)
    assert res.agreement is not None
    assert res.agreement.alpha == pytest.approx(1.0)
    np.testing.assert_allclose(res.agreement.per_task, 1.0)
    assert (res.issues["kind"] != "disagreement").all()
    np.testing.assert_array_equal(res.consensus, labels)

"""Gold labels: ground truth or a reviewer's annotation is its task's truth (the latest when
several), and annotators are counted against it by hand-checkable exact matches."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.gold import Gold, find_gold, gold_accuracy
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError
from ls_cleanlab.testing.gold_crowd import biased_crowd, biased_multilabel_crowd, gold_on


def small() -> Annotations:
    # task 0: annotators 1, 2 and reviewer 9; task 1: 1, 2 and a ground-truth annotation by 3;
    # task 2: 1 and 2 only; task 3: reviewer 9, then a later ground-truth annotation by 3
    return Annotations(
        task=[0, 0, 0, 1, 1, 1, 2, 2, 3, 3],
        annotator=[1, 2, 9, 1, 2, 3, 1, 2, 9, 3],
        labels=[[1, 0], [0, 1], [1, 0], [0, 1], [0, 1], [0, 1], [1, 0], [1, 1], [1, 0], [0, 1]],
        created_at=[1, 2, 3, 1, 2, 3, 1, 2, 5, 7],
        ground_truth=[0, 0, 0, 0, 0, 1, 0, 0, 0, 1],
    )


def test_gold_is_ground_truth_or_a_reviewer_latest_wins() -> None:
    gold = find_gold(small(), 5, reviewers=[9])
    assert gold.annotation.tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 1, 1]
    assert gold.tasks.tolist() == [True, True, False, True, False] and gold.any
    assert gold.labels.tolist() == [[1, 0], [0, 1], [0, 0], [0, 1], [0, 0]]  # task 3: later GT
    only_marked = find_gold(small(), 5)
    assert only_marked.tasks.tolist() == [False, True, False, True, False]
    assert only_marked.labels[3].tolist() == [0, 1]
    none = find_gold(Annotations(task=[0], annotator=[1], labels=[[1, 0]]), 2)
    assert not none.any and none.labels.shape == (2, 2)
    # Label Studio marks annotations imported with their tasks as ground truth: all marked reads
    # as imported; a mark beside unmarked annotations as a reviewer's
    imported = Annotations(task=[0, 0, 1], annotator=[1, 2, 1], labels=[[1, 0], [0, 1], [1, 0]],
                           ground_truth=[True, True, True])  # fmt: skip
    assert not find_gold(imported, 2).any


def test_accuracy_on_gold_counts_exact_matches() -> None:
    ann = small()
    table = gold_accuracy(ann, find_gold(ann, 5, reviewers=[9]))
    rows = table.set_index("annotator")
    # annotator 1: task 0 right, task 1 right; annotator 2: task 0 wrong, task 1 right
    assert rows.loc[1, "n_gold"] == 2 and rows.loc[1, "n_correct"] == 2
    assert rows.loc[2, "n_gold"] == 2 and rows.loc[2, "n_correct"] == 1
    assert rows.loc[2, "gold_accuracy"] == 0.5
    assert set(table["annotator"]) == {1, 2}  # reviewers' and ground-truth rows are the gold
    plain = ann.subset([0, 1, 3, 4, 6, 7])  # no reviewer, no ground truth
    no_gold = gold_accuracy(plain, find_gold(plain, 5))
    assert no_gold["n_gold"].tolist() == [0, 0] and no_gold["gold_accuracy"].isna().all()


# -- gold as known truth in the consensus ------------------------------------------------------


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1])


@pytest.mark.parametrize("method", ["dawid_skene", "calibrated", "crowdlab"])
def test_a_few_gold_tasks_overturn_a_wrong_majority(method: str) -> None:
    crowd = biased_crowd(seed=3)
    ann, n = crowd.annotations, len(crowd.truth)
    order = np.argsort(ann.annotator_ids)  # quality in annotator id order 0..m-1
    alone = consensus(ann, n, crowd.probs, method=method)
    gold = gold_on(crowd, 0.05, seed=4)
    told = consensus(ann, n, crowd.probs, method=method, gold=gold)
    # without gold the swapping majority looks best; with 5% gold the careful annotators do
    assert _spearman(alone.annotator_quality[order], crowd.accuracy) < 0
    assert _spearman(told.annotator_quality[order], crowd.accuracy) > 0.6
    rest = ~gold.tasks
    right_alone = np.mean(alone.labels.argmax(axis=1)[rest] == crowd.truth[rest])
    right_told = np.mean(told.labels.argmax(axis=1)[rest] == crowd.truth[rest])
    assert right_told > right_alone + 0.2
    # the gold tasks' consensus and posterior are their gold label
    on = gold.tasks
    assert (told.labels[on] == gold.labels[on]).all()
    assert np.array_equal(told.posterior[on], gold.labels[on].astype(float))


def test_multilabel_crowdlab_weighs_annotators_against_gold() -> None:
    crowd = biased_multilabel_crowd(seed=1)
    ann, n = crowd.annotations, len(crowd.truth)
    order = np.argsort(ann.annotator_ids)
    alone = consensus(ann, n, crowd.probs, method="crowdlab", multi_label=True)
    gold = gold_on(crowd, 0.05, seed=11)
    told = consensus(ann, n, crowd.probs, method="crowdlab", multi_label=True, gold=gold)
    # the majority swapping classes 1 and 2 wins the votes; gold cells show who is right
    assert _spearman(alone.annotator_quality[order], crowd.accuracy) < 0
    assert _spearman(told.annotator_quality[order], crowd.accuracy) > 0.6
    rest = ~gold.tasks
    right_alone = np.mean(alone.labels[rest] == crowd.truth[rest])
    right_told = np.mean(told.labels[rest] == crowd.truth[rest])
    assert right_told > right_alone + 0.15
    assert (told.labels[gold.tasks] == gold.labels[gold.tasks]).all()


@pytest.mark.parametrize("method", ["dawid_skene", "calibrated", "crowdlab", "majority"])
@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
def test_gold_clamps_and_an_empty_gold_changes_nothing(method: str, multi_label: bool) -> None:
    crowd = biased_crowd(seed=5, n=200)
    ann, n = crowd.annotations, len(crowd.truth)
    probs = crowd.probs
    plain = consensus(ann, n, probs, method=method, multi_label=multi_label)
    empty = gold_on(crowd, 0.0, seed=0)
    same = consensus(ann, n, probs, method=method, multi_label=multi_label, gold=empty)
    for field in ("labels", "posterior", "quality", "annotator_quality"):
        assert np.array_equal(getattr(plain, field), getattr(same, field), equal_nan=True)
    gold = gold_on(crowd, 0.1, seed=6)
    told = consensus(ann, n, probs, method=method, multi_label=multi_label, gold=gold)
    assert (told.labels[gold.tasks] == gold.labels[gold.tasks]).all()
    assert np.allclose(told.posterior[gold.tasks], gold.labels[gold.tasks])
    assert np.isfinite(told.annotator_quality).all()


def test_gold_is_checked() -> None:
    crowd = biased_crowd(seed=1, n=30)
    ann, n = crowd.annotations, len(crowd.truth)
    with pytest.raises(InvalidOptionError, match="find_gold"):
        consensus(ann, n, crowd.probs, gold=np.zeros(n))  # type: ignore[arg-type]
    short = Gold(np.zeros(len(ann), dtype=bool), np.zeros(5, dtype=bool), np.zeros((5, 3)))
    with pytest.raises(InvalidAnnotationsError, match="gold covers 5 tasks"):
        consensus(ann, n, crowd.probs, gold=short)
    two = gold_on(crowd, 1.0, seed=0)
    labels = two.labels.copy()
    labels[7] = [1, 1, 0]
    with pytest.raises(InvalidAnnotationsError, match="task 7 has 2"):
        consensus(ann, n, crowd.probs, gold=Gold(two.annotation, two.tasks, labels))

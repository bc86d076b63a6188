"""Gold labels: ground truth or a reviewer's annotation is its task's truth (the latest when
several), and annotators are counted against it by hand-checkable exact matches."""

from __future__ import annotations

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.gold import find_gold, gold_accuracy


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

"""The audit in blocks of rows: the same to the bit whatever the block size.

At scale the audit's per-row work runs a block of rows at a time (``annotators.blocks``); its
sums must add the same numbers in the same order as one pass, or the results would depend on
the block size. Here the blocks are a few rows, so every block boundary, task split and running
total is exercised on a small project, and every output is compared with one block.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ls_cleanlab import audit_labels
from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import blocks, consensus
from ls_cleanlab.annotators import votes as votes_module
from ls_cleanlab.annotators.active import annotation_value
from ls_cleanlab.annotators.gold import Gold
from ls_cleanlab.annotators.votes import key_sums
from ls_cleanlab.pipeline.next_annotator import next_annotator_rows

N, K, M = 240, 6, 7


def _project(seed: int) -> tuple[np.ndarray, Annotations, np.ndarray]:
    """Probabilities, annotations (one to four per task from seven annotators, some tasks
    unlabelled) and which tasks are labelled."""
    rng = np.random.default_rng(seed)
    truth = rng.random((N, K)) < np.linspace(0.4, 0.1, K)
    probs = 1 / (1 + np.exp(-(np.where(truth, 2.0, -2.0) + rng.normal(0, 1.5, (N, K)))))
    count = rng.choice([0, 1, 2, 3, 4], N, p=[0.1, 0.2, 0.3, 0.3, 0.1])
    task = np.repeat(np.arange(N), count)
    who = np.concatenate([rng.choice(M, c, replace=False) for c in count])
    labels = truth[task] ^ (rng.random((len(task), K)) < np.where(who < 2, 0.15, 0.03)[:, None])
    order = rng.permutation(len(task))  # the table in no particular order
    ann = Annotations(task=task[order], annotator=who[order], labels=labels[order].astype(np.int8))
    return probs, ann, count > 0


def _outputs(probs: np.ndarray, ann: Annotations, labelled: np.ndarray) -> dict[str, Any]:
    audit = audit_labels(probs, annotations=ann)
    gold = Gold(np.zeros(len(ann), bool), labelled & (np.arange(N) % 5 == 0), np.zeros((N, K)))
    gold.labels[gold.tasks] = audit.suggested[gold.tasks]
    golden = consensus(ann, N, probs, method="calibrated", multi_label=True, gold=gold)
    value = annotation_value(probs, ann)
    out = {
        name: getattr(audit, name)
        for name in ("priority", "cell_scores", "consensus", "suggested", "present", "task_wrong")
    }
    out |= {
        "posterior": audit.consensus_detail.posterior,
        "quality": audit.consensus_detail.annotator_quality,
        "sensitivity": audit.consensus_detail.sensitivity,
        "alpha": audit.agreement.per_class_alpha if audit.agreement else None,
        "issues": audit.issues.to_csv(),
        "annotators": audit.annotators.to_csv() if audit.annotators is not None else None,
        "gold_posterior": golden.posterior,
        "gold_temperature": golden.temperature,
        "value": value.value,
        "cells": value.cells,
        "next": next_annotator_rows(probs, labelled, ann, multi_label=True),
    }
    return out


@pytest.mark.parametrize("dense", [True, False])
def test_the_audit_in_blocks_of_a_few_rows_equals_it_in_one_block(
    monkeypatch: pytest.MonkeyPatch, dense: bool
) -> None:
    probs, ann, labelled = _project(0)
    if not dense:  # sums over the annotations, not the dense task x annotator matrix
        monkeypatch.setattr(votes_module, "DENSE_INCIDENCE", 0)
    whole = _outputs(probs, ann, labelled)
    monkeypatch.setattr(blocks, "BLOCK_CELLS", 3 * K)  # three rows a block
    split = _outputs(probs, ann, labelled)
    assert whole.keys() == split.keys()
    for name, value in whole.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(split[name], value, err_msg=name, strict=True)
        else:
            assert split[name] == value, name
    assert len(whole["next"]) and whole["issues"].count("\n") > 10  # something to compare


def test_block_sums_add_in_the_order_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(1001, 4)) * 10.0 ** rng.integers(-8, 8, (1001, 4))
    key = rng.integers(0, 5, 1001)
    flat = (key[:, None] * 4 + np.arange(4)).ravel()
    one_pass = np.bincount(flat, weights=values.ravel(), minlength=20).reshape(5, 4)
    monkeypatch.setattr(blocks, "BLOCK_CELLS", 7 * 4)
    np.testing.assert_array_equal(key_sums(values, key, 5), one_pass, strict=True)
    summed = blocks.column_sums(lambda rows: values[rows], len(values), 4)
    np.testing.assert_array_equal(summed, values.sum(axis=0), strict=True)
    assert [(s.start, s.stop) for s in blocks.row_blocks(15, 4)] == [(0, 7), (7, 14), (14, 15)]

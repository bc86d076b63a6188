"""Gold as known truth: what a few reviewed tasks do to annotator rankings and consensus.

For each set and each gold share (0, 2%, 5% of the tasks, drawn three times), the truth of the
gold tasks is given to :func:`~ls_cleanlab.annotators.consensus` as ``gold=`` and we print the
Spearman correlation of annotator quality with each annotator's true accuracy (workers with at
least 10 answers), the accuracy of the consensus on the other tasks, and the gain over no gold.

* ``biased``: :func:`ls_cleanlab.testing.gold_crowd.biased_crowd`, a majority of annotators who
  swap two classes (the votes alone cannot tell who is right), 600 tasks, a weak model;
* ``biased-ml``: its multi-label twin
  (:func:`~ls_cleanlab.testing.gold_crowd.biased_multilabel_crowd`, the majority swaps the
  presence of two classes; accuracy per (task, class) cell), CROWDLAB multi-label;
* the five single-label crowd sets of the robustness benchmark (annotation-only, so CROWDLAB,
  which needs a model, runs on ``biased`` only).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_gold.py [--data ../shared/datasets]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _realsets as realsets
import numpy as np
import pandas as pd

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.gold import Gold
from ls_cleanlab.testing.gold_crowd import biased_crowd, biased_multilabel_crowd

SHARES = (0.0, 0.02, 0.05)
DRAWS = 3
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(pd.Series(a).corr(pd.Series(b), method="spearman"))


def sets(root: Path) -> list[tuple[str, Annotations, np.ndarray, np.ndarray | None, np.ndarray]]:
    """(name, annotations, truth, probs, true accuracy per annotator id, NaN if < 10 answers)."""
    crowd = biased_crowd(seed=0)
    ids = crowd.annotations.annotator_ids.astype(int)
    out = [("biased", crowd.annotations, crowd.truth, crowd.probs, crowd.accuracy[ids])]
    ml = biased_multilabel_crowd(seed=0)
    ml_ids = ml.annotations.annotator_ids.astype(int)
    out.append(("biased-ml", ml.annotations, ml.truth, ml.probs, ml.accuracy[ml_ids]))
    for key in realsets.SINGLE_LABEL_SETS:
        s = realsets.load_single_label(root, key, None, 0)
        k = len(s.class_names)
        ann = Annotations(task=s.task, annotator=s.worker,
                          labels=np.eye(k, dtype=np.int8)[s.answer])  # fmt: skip
        right = pd.Series(s.answer == s.truth[s.task]).groupby(s.worker)
        accuracy = right.mean().where(right.size() >= 10)
        out.append((key, ann, s.truth, None, accuracy.reindex(ann.annotator_ids).to_numpy()))
    return out


def measure(
    ann: Annotations, truth: np.ndarray, probs: np.ndarray | None, accuracy: np.ndarray,
    method: str, share: float,
) -> tuple[float, float]:  # fmt: skip
    """Mean Spearman and accuracy on the non-gold tasks (per cell when multi-label, ``truth``
    ``(n, K)``) over the draws."""
    n, k = len(truth), ann.n_classes
    multi = truth.ndim == 2
    truth_sets = truth.astype(np.int8) if multi else np.eye(k, dtype=np.int8)[truth]
    rho, right = [], []
    for draw in range(DRAWS if share else 1):
        tasks = np.random.default_rng(100 + draw).random(n) < share
        labels = truth_sets * tasks[:, None].astype(np.int8)
        gold = Gold(np.zeros(len(ann), dtype=bool), tasks, labels) if share else None
        cons = consensus(ann, n, probs, method=method, multi_label=multi,  # type: ignore[arg-type]
                         gold=gold)  # fmt: skip
        seen = ~np.isnan(accuracy)
        rho.append(spearman(cons.annotator_quality[seen], accuracy[seen]))
        rest = cons.annotated & ~tasks
        given = cons.labels if multi else cons.labels.argmax(axis=1)
        right.append(float(np.mean(given[rest] == (truth_sets if multi else truth)[rest])))
    return float(np.mean(rho)), float(np.mean(right))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    print(f"{'set':<9} {'method':<12} {'gold':>5} {'spearman':>9} {'gain':>7} {'accuracy':>9} "
          f"{'gain':>7}")  # fmt: skip
    for name, ann, truth, probs, accuracy in sets(args.data):
        methods = ("dawid_skene", "calibrated", "crowdlab") if probs is not None else (
            "dawid_skene", "calibrated")  # fmt: skip
        if name == "biased-ml":
            methods = ("crowdlab",)
        for method in methods:
            base = measure(ann, truth, probs, accuracy, method, 0.0)
            for share in SHARES:
                rho, right = base if share == 0 else measure(
                    ann, truth, probs, accuracy, method, share)  # fmt: skip
                print(f"{name:<9} {method:<12} {share:>5.0%} {rho:>9.3f} {rho - base[0]:>+7.3f} "
                      f"{right:>9.4f} {right - base[1]:>+7.4f}")  # fmt: skip


if __name__ == "__main__":
    main()

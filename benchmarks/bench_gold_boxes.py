"""Gold boxes as known truth in the box consensus: what a few reviewed images do elsewhere.

Simulated scenes (:mod:`ls_cleanlab.testing.scenes`) annotated by pairs of annotators (a box
only one of them drew is an object the other missed or a spurious box, which the votes alone
cannot tell apart) and by a satisficer, a sloppy and a careful one; with and without a simulated
detector. For 0, 5% and 10% of the images given as gold
(:class:`~ls_cleanlab.detection.KnownBoxes`), over three seeds, on the other images:

* accuracy of the consensus' keep/drop decision per candidate (a candidate is real when one of
  its boxes outlines a true object, or, for a detector-only candidate, when it overlaps one);
* the mean absolute error of each annotator's fitted recall against the share of true objects
  they drew;
* the keep accuracy of the simple baselines: every drawn box (union), and the boxes most of the
  image's annotators drew (majority).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_gold_boxes.py

``--check`` runs an untuned check instead: mixes and seeds the consensus was not tuned on (a
spammer who draws three boxes on nothing per image and a fifth of the objects; three
satisficers), without gold.
"""

from __future__ import annotations

import argparse

import numpy as np

from ls_cleanlab.detection import KnownBoxes, audit_boxes
from ls_cleanlab.detection.gold import pairwise_iou
from ls_cleanlab.testing.scenes import Scenes, simulate_detector, simulate_scenes

SHARES = (0.0, 0.05, 0.10)
HABITS = (
    ("satisficer", "sloppy"),
    ("satisficer", "careful"),
    ("careful", "sloppy"),
    ("careful", "careful"),
    ("sloppy", "sloppy"),
    ("satisficer", "satisficer"),
    ("satisficer", "sloppy", "careful"),
)
SEEDS = (0, 1, 2)
CHECK_HABITS = (
    ("careful", "careful", "sloppy", "spammer"),
    ("satisficer", "careful", "spammer"),
    ("satisficer", "spammer"),
    ("satisficer", "satisficer", "satisficer"),
    ("satisficer", "satisficer", "sloppy"),
)
CHECK_SEEDS = (3, 4, 5)
N_IMAGES = 600


def _real(scenes: Scenes, audit: object) -> np.ndarray:
    """(C,) whether each candidate is a true object."""
    c = audit.consensus  # type: ignore[attr-defined]
    rows = audit.candidate  # type: ignore[attr-defined]
    real = np.bincount(rows, weights=scenes.source >= 0, minlength=len(c.image)) > 0
    for i in np.flatnonzero(np.bincount(rows, minlength=len(c.image)) == 0).tolist():
        truth = scenes.truth_boxes[scenes.truth_image == c.image[i]]
        real[i] = len(truth) > 0 and pairwise_iou(c.boxes[i : i + 1], truth).max() >= 0.5
    return real


def _true_recall(scenes: Scenes, names: list[str]) -> np.ndarray:
    ann = scenes.annotations
    n_true = len(scenes.truth_image)
    return np.array([
        len(np.unique(scenes.source[(ann.annotator == a) & (scenes.source >= 0)])) / n_true
        for a in names
    ])  # fmt: skip


def run(
    habits: tuple[str, ...], detector: bool, share: float, seed: int
) -> tuple[float, float, float, float]:
    """Keep accuracy, recall error, and the keep accuracy of the two simple baselines: every
    drawn box (union) and the boxes most of the image's annotators drew (majority)."""
    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(N_IMAGES, rng=rng, habits=habits, objects=(1, 6))
    preds = simulate_detector(scenes, rng=rng) if detector else None
    gold = np.random.default_rng(1000 + seed).random(N_IMAGES) < share
    on = gold[scenes.truth_image]
    known = KnownBoxes(gold, scenes.truth_image[on], scenes.truth_boxes[on],
                       scenes.truth_labels[on]) if share else None  # fmt: skip
    audit = audit_boxes(scenes.annotations, preds, known=known)
    real = _real(scenes, audit)
    rest = ~gold[audit.consensus.image]
    c = audit.consensus
    union, majority = c.votes >= 1, c.votes > c.seen / 2
    accuracy = [float(np.mean(keep[rest] == real[rest])) for keep in (c.keep, union, majority)]
    names = [str(a) for a in scenes.annotations.annotator_ids]
    fitted = audit.model.recall  # type: ignore[union-attr]
    error = float(np.mean(np.abs(fitted - _true_recall(scenes, names))))
    return accuracy[0], error, accuracy[1], accuracy[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="the untuned check")
    check = parser.parse_args().check
    print(f"{'annotators':<32} {'detector':<8} {'gold':>5} {'keep accuracy':>14} {'gain':>7} "
          f"{'recall error':>13} {'union':>7} {'majority':>9}")  # fmt: skip
    for habits in CHECK_HABITS if check else HABITS:
        for detector in (False, True):
            base = None
            for share in (0.0,) if check else SHARES:
                seeds = CHECK_SEEDS if check else SEEDS
                got = np.mean([run(habits, detector, share, s) for s in seeds], axis=0)
                base = got if base is None else base
                print(f"{' + '.join(habits):<32} {'yes' if detector else 'no':<8} {share:>5.0%} "
                      f"{got[0]:>14.4f} {got[0] - base[0]:>+7.4f} {got[1]:>13.3f} "
                      f"{got[2]:>7.4f} {got[3]:>9.4f}")  # fmt: skip


if __name__ == "__main__":
    main()

"""Speed of ls-cleanlab's ports of cleanlab 2.9.0's smaller public functions, against cleanlab
itself in the same run, on the same synthetic inputs (fixed seed), results checked equal.

* multi-annotator (``ls_cleanlab.annotators``): ``multiannotator_quality_ensemble``,
  ``active_learning_scores`` (labelled and unlabelled examples), ``active_learning_scores_ensemble``
  and ``majority_vote_label``, on ``N`` examples, ``M`` annotators of whom a few label each
  example (70% accurate), ``K`` classes and ``P`` models;
* object detection summaries (``ls_cleanlab.detection.summary``) on ``N / 10`` images of up to
  8 given boxes of 5 classes, each predicted with jitter, some missed, some extra boxes.

Prints each function's time, cleanlab's, and the ratio (cleanlab / ours). No target is asserted.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cleanlab_extras.py            # N = 20,000
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cleanlab_extras.py --quick    # N = 2,000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def _timed(work: Callable[[], Any]) -> tuple[Any, float]:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        result = work()
        return result, time.perf_counter() - start


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame):
        return bool(a.equals(b))
    if isinstance(a, dict):
        return all(_equal(a[key], b[key]) for key in a)
    if isinstance(a, tuple):
        return all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def multiannotator_inputs(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Wide labels (3 of 10 annotators per example, 70% accurate), 3 models' probabilities of
    the labelled examples and of ``n // 4`` unlabelled ones, 5 classes."""
    rng = np.random.default_rng(seed)
    m, k, p = 10, 5, 3
    truth = rng.integers(0, k, n)
    wide = np.full((n, m), np.nan)
    for i, who in enumerate(rng.random((n, m)).argsort(axis=1)[:, :3]):
        right = rng.random(3) < 0.7
        wide[i, who] = np.where(right, truth[i], rng.integers(0, k, 3))

    def probs(rows: int, sure: np.ndarray) -> np.ndarray:
        logits = rng.normal(size=(p, rows, k))
        logits[:, np.arange(rows), sure] += 2.0
        e = np.exp(logits)
        return e / e.sum(axis=2, keepdims=True)

    return {
        "wide": wide,
        "probs": probs(n, truth),
        "unlabeled": probs(n // 4, rng.integers(0, k, n // 4)),
    }


def multiannotator_cases(n: int) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    import cleanlab.multiannotator as cl

    import ls_cleanlab.annotators as ours

    x = multiannotator_inputs(n)
    wide, probs, unlabeled = x["wide"], x["probs"], x["unlabeled"]
    return [
        (
            "multiannotator_quality_ensemble",
            lambda: cl.get_label_quality_multiannotator_ensemble(wide, probs.copy()),
            lambda: dict(ours.multiannotator_quality_ensemble(wide, probs)),
        ),
        (
            "active_learning_scores",
            lambda: cl.get_active_learning_scores(wide, probs[0].copy(), unlabeled[0].copy()),
            lambda: tuple(ours.active_learning_scores(wide, probs[0], unlabeled[0])),
        ),
        (
            "active_learning_scores_ensemble",
            lambda: cl.get_active_learning_scores_ensemble(wide, probs.copy(), unlabeled.copy()),
            lambda: tuple(ours.active_learning_scores_ensemble(wide, probs, unlabeled)),
        ),
        (
            "majority_vote_label",
            lambda: cl.get_majority_vote_label(wide, probs[0]),
            lambda: ours.majority_vote_label(wide, probs[0]),
        ),
    ]


def detection_inputs(n_images: int, seed: int = 0) -> tuple[list, list]:
    """cleanlab-format labels and predictions: jittered copies of the given boxes (a tenth
    missed, a tenth of another class) and a few extra boxes, confidences uniform."""
    rng = np.random.default_rng(seed)
    k = 5
    labels, predictions = [], []
    for _ in range(n_images):
        n = int(rng.integers(0, 9))
        corner = rng.uniform(0, 200, (n, 2))
        boxes = np.hstack((corner, corner + rng.uniform(5, 60, (n, 2))))
        classes = rng.integers(0, k, n)
        labels.append({"bboxes": boxes, "labels": classes})
        kept = rng.random(n) > 0.1
        shown = np.where(rng.random(n) < 0.1, rng.integers(0, k, n), classes)[kept]
        extra = int(rng.integers(0, 3))
        corner = rng.uniform(0, 200, (extra, 2))
        moved = boxes[kept] + rng.normal(0, 3, (int(kept.sum()), 4))
        moved[:, 2:] = np.maximum(moved[:, 2:], moved[:, :2])  # still x1 <= x2, y1 <= y2
        pred = np.vstack((moved, np.hstack((corner, corner + 20))))
        pred_classes = np.concatenate((shown, rng.integers(0, k, extra)))
        rows = np.hstack((pred, rng.uniform(0, 1, (len(pred), 1))))
        predictions.append([rows[pred_classes == c] for c in range(k)])
    return labels, predictions


def detection_cases(n: int) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    from cleanlab.object_detection import summary as cl

    from ls_cleanlab.detection import summary as ours

    labels, predictions = detection_inputs(n // 10)
    return [
        (
            name,
            lambda name=name: getattr(cl, name)(labels, predictions),
            lambda name=name: getattr(ours, name)(labels, predictions),
        )
        for name in (
            "object_counts_per_image",
            "bounding_box_size_distribution",
            "class_label_distribution",
            "calculate_per_class_metrics",
        )
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 2,000 instead of 20,000")
    args = parser.parse_args(argv)
    n = 2_000 if args.quick else 20_000
    print(f"{'function':36} {'ours':>9} {'cleanlab':>9} {'ratio':>7}  equal")
    for name, theirs, ours in multiannotator_cases(n) + detection_cases(n):
        expected, slow = _timed(theirs)
        got, fast = _timed(ours)
        print(f"{name:36} {fast:8.3f}s {slow:8.3f}s {slow / fast:6.1f}x  {_equal(expected, got)}")


if __name__ == "__main__":
    main()

"""The class of each candidate object: Dawid & Skene's one-coin model over the annotators' classes
and the detector's (:mod:`.consensus`).

One accuracy per annotator (errors spread evenly over the other classes) and one for the
detector; candidates with a known class (gold) hold it in every round.
"""

from __future__ import annotations

import numpy as np

__all__ = ["class_posterior"]


def class_posterior(
    box_cluster: np.ndarray,
    box_annotator: np.ndarray,
    box_label: np.ndarray,
    detector_label: np.ndarray,
    n_clusters: int,
    n_annotators: int,
    n_classes: int,
    *,
    n_iter: int = 50,
    known_label: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """EM for each candidate's class with one accuracy per annotator and for the detector;
    candidates with a ``known_label`` (gold, -1 elsewhere) hold it in every round.

    Returns
    -------
    posterior : ndarray, shape (C, K)
    accuracy : ndarray, shape (A,)
    detector_accuracy : float
    """
    has_det = detector_label >= 0
    det_rows = np.flatnonzero(has_det)
    counts = np.zeros((n_clusters, n_classes))
    np.add.at(counts, (box_cluster, box_label), 1.0)
    counts[det_rows, detector_label[det_rows]] += 0.5
    empty = counts.sum(1) == 0
    counts[empty] = 1.0
    gold = np.full(n_clusters, -1) if known_label is None else known_label
    settled = np.flatnonzero(gold >= 0)

    def hold(posterior: np.ndarray) -> np.ndarray:
        posterior[settled] = 0.0
        posterior[settled, gold[settled]] = 1.0
        return posterior

    posterior = hold(counts / counts.sum(1, keepdims=True))
    accuracy: np.ndarray = np.ones(n_annotators)
    detector_accuracy = 1.0
    if n_classes == 1:
        return posterior, accuracy, detector_accuracy
    for _ in range(n_iter):
        right = posterior[box_cluster, box_label]
        accuracy = (np.bincount(box_annotator, right, n_annotators) + 1) / (
            np.bincount(box_annotator, minlength=n_annotators) + 2
        )
        det_right = posterior[det_rows, detector_label[det_rows]]
        detector_accuracy = float((det_right.sum() + 1) / (len(det_rows) + 2))
        prior = (posterior.sum(0) + 1) / (n_clusters + n_classes)
        miss = np.log((1 - accuracy) / (n_classes - 1))
        log_post = np.tile(np.log(prior), (n_clusters, 1))
        log_post += np.bincount(box_cluster, miss[box_annotator], n_clusters)[:, None]
        np.add.at(
            log_post,
            (box_cluster, box_label),
            np.log(accuracy[box_annotator]) - miss[box_annotator],
        )
        det_miss = np.log((1 - detector_accuracy) / (n_classes - 1))
        log_post[det_rows] += det_miss
        log_post[det_rows, detector_label[det_rows]] += np.log(detector_accuracy) - det_miss
        log_post -= log_post.max(1, keepdims=True)
        posterior = np.exp(log_post)
        posterior = hold(posterior / posterior.sum(1, keepdims=True))
    return posterior, accuracy, detector_accuracy

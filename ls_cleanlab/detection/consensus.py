"""The consensus set of boxes: which candidate objects are real, of which class, where.

Candidates are the groups of :func:`~.matching.match_annotators` plus the detector boxes that no
annotator drew. Whether candidate ``c`` is a real object (``z_c = 1``) is estimated with the
two-class model of Dawid & Skene (1979), one "coin" pair per annotator: an annotator ``a`` who
saw the image draws a real object with probability ``r_a`` (sensitivity, recall) and a spurious
candidate with probability ``f_a``; the detector's evidence is the confidence bin of its box on
the candidate (or "no box"), with per-bin probabilities ``phi_1`` and ``phi_0``:

    log P(z_c = 1 | .) / P(z_c = 0 | .) = log pi / (1 - pi)
        + sum_{a saw c} [ v_ac log(r_a / f_a) + (1 - v_ac) log((1 - r_a) / (1 - f_a)) ]
        + log phi_1[d_c] / phi_0[d_c]

EM alternates these posteriors with the parameters' posterior means under uniform priors
(Laplace smoothing), starting from the share of annotators who drew each candidate. A candidate
is kept when its posterior is at least 0.5: drawn by enough reliable annotators, or supported
by the detector where that has been reliable.

The class of a kept object is estimated the same way with one accuracy per annotator
(``psi_a``, errors spread evenly over the other classes) and one for the detector; its box is
the precision-weighted mean of the annotators' boxes (:mod:`.localization`; the detector's box
where no annotator drew it).

Reference: A. P. Dawid and A. M. Skene, "Maximum likelihood estimation of observer error-rates
using the EM algorithm", Applied Statistics 28(1), 1979.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "DETECTOR_BIN_EDGES",
    "ConsensusBoxes",
    "ObjectModel",
    "class_posterior",
    "object_posterior",
]

#: Confidence bins of the detector's evidence: bin 0 is "no detector box", then
#: [0, .25), [.25, .5), [.5, .75), [.75, .9), [.9, .95), [.95, 1].
DETECTOR_BIN_EDGES = (0.25, 0.5, 0.75, 0.9, 0.95)


@dataclass(frozen=True, eq=False)
class ConsensusBoxes:
    """Candidate objects, image by image, with how likely each is real.

    Attributes
    ----------
    image : ndarray of int64, shape (C,)
    boxes : ndarray of float64, shape (C, 4)
        Precision-weighted mean of the annotators' boxes (the detector's box when no annotator
        drew it).
    labels : ndarray of int64, shape (C,)
        Most likely class.
    votes : ndarray of int64, shape (C,)
        Annotators who drew it.
    seen : ndarray of int64, shape (C,)
        Annotators who annotated the image.
    detector_confidence : ndarray of float64, shape (C,)
        Confidence of the supporting detector box, NaN without one.
    detector_label : ndarray of int64, shape (C,)
        Class of the supporting detector box, -1 without one.
    probability : ndarray of float64, shape (C,)
        Posterior probability that the candidate is a real object, in [0, 1].
    label_probability : ndarray of float64, shape (C,)
        Posterior probability of ``labels``, in [0, 1].
    keep : ndarray of bool, shape (C,)
        ``probability >= 0.5``: the consensus set.
    """

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    votes: np.ndarray
    seen: np.ndarray
    detector_confidence: np.ndarray
    detector_label: np.ndarray
    probability: np.ndarray
    label_probability: np.ndarray
    keep: np.ndarray


@dataclass(frozen=True, eq=False)
class ObjectModel:
    """Fitted parameters of the object model.

    Attributes
    ----------
    prevalence : float
        ``pi``, share of candidates that are real.
    sensitivity, false_alarm : ndarray, shape (A,)
        ``r_a`` and ``f_a`` per annotator.
    detector_given_real, detector_given_spurious : ndarray, shape (7,)
        ``phi_1``, ``phi_0`` per detector bin (all ones' share when there is no detector).
    class_accuracy : ndarray, shape (A,)
        ``psi_a``: chance an annotator's class for a real object is right.
    detector_class_accuracy : float
    iterations : int
        EM iterations of the object model.
    """

    prevalence: float
    sensitivity: np.ndarray
    false_alarm: np.ndarray
    detector_given_real: np.ndarray
    detector_given_spurious: np.ndarray
    class_accuracy: np.ndarray
    detector_class_accuracy: float
    iterations: int


def detector_bins(confidence: np.ndarray) -> np.ndarray:
    """(C,) bin of each candidate's detector confidence; 0 where it is NaN (no box)."""
    bins = np.searchsorted(np.array(DETECTOR_BIN_EDGES), np.nan_to_num(confidence), side="right")
    return np.where(np.isnan(confidence), 0, bins + 1)


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return np.log(p) - np.log1p(-p)


def _object_m_step(
    q: np.ndarray, drew: np.ndarray, saw: np.ndarray, bins: np.ndarray, n_bins: int
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Posterior-mean parameters (uniform priors) given the current posteriors ``q``."""
    weight_real = q[:, None] * saw
    weight_spurious = (1 - q)[:, None] * saw
    prevalence = (q.sum() + 1) / (len(q) + 2)
    sensitivity = ((weight_real * drew).sum(0) + 1) / (weight_real.sum(0) + 2)
    false_alarm = ((weight_spurious * drew).sum(0) + 1) / (weight_spurious.sum(0) + 2)
    real = np.bincount(bins, weights=q, minlength=n_bins) + 1
    spurious = np.bincount(bins, weights=1 - q, minlength=n_bins) + 1
    return prevalence, sensitivity, false_alarm, real / real.sum(), spurious / spurious.sum()


def _object_e_step(
    params: tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    drew: np.ndarray,
    saw: np.ndarray,
    bins: np.ndarray,
) -> np.ndarray:
    prevalence, sensitivity, false_alarm, real, spurious = params
    yes = np.log(sensitivity) - np.log(false_alarm)
    no = np.log1p(-sensitivity) - np.log1p(-false_alarm)
    log_odds = (
        _logit(prevalence)
        + (saw * np.where(drew, yes, no)).sum(axis=1)
        + np.log(real[bins])
        - np.log(spurious[bins])
    )
    return 1 / (1 + np.exp(-np.clip(log_odds, -700, 700)))


def object_posterior(
    drew: np.ndarray,
    saw: np.ndarray,
    detector_confidence: np.ndarray,
    *,
    max_iter: int = 200,
    tol: float = 1e-7,
) -> tuple[np.ndarray, tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray], int]:
    """EM for the object model.

    Parameters
    ----------
    drew, saw : ndarray of bool, shape (C, A)
        Annotator ``a`` drew candidate ``c``; annotator ``a`` annotated its image.
    detector_confidence : ndarray, shape (C,)
        NaN where no detector box supports the candidate (or there is no detector).

    Returns
    -------
    q : ndarray, shape (C,)
        Posterior probability that each candidate is real.
    params : tuple
        ``(pi, r, f, phi_1, phi_0)``.
    iterations : int
    """
    bins = detector_bins(detector_confidence)
    # Without any detector evidence the detector term must be exactly 0: one bin.
    n_bins = 1 if not bins.any() else len(DETECTOR_BIN_EDGES) + 2
    share = drew.sum(1) / np.maximum(saw.sum(1), 1)
    support = np.nan_to_num(detector_confidence)
    q = np.where(np.isnan(detector_confidence), share, (share + support) / 2)
    params = _object_m_step(q, drew, saw, bins, n_bins)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        new = _object_e_step(params, drew, saw, bins)
        params = _object_m_step(new, drew, saw, bins, n_bins)
        done = len(q) == 0 or float(np.max(np.abs(new - q))) < tol
        q = new
        if done:
            break
    return q, params, iterations


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
) -> tuple[np.ndarray, np.ndarray, float]:
    """EM for each candidate's class with one accuracy per annotator and for the detector.

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
    posterior = counts / counts.sum(1, keepdims=True)
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
        posterior /= posterior.sum(1, keepdims=True)
    return posterior, accuracy, detector_accuracy

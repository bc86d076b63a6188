"""The consensus set of boxes: which candidate objects are real, of which class, where.

Candidates are the groups of :func:`~.matching.match_annotators` plus the detector boxes that no
annotator drew. Whether candidate ``c`` is a real object is a latent-class model in the spirit
of Dawid & Skene (1979), with the structure of how candidates arise. Per image, candidates are
points of independent Poisson processes:

* real objects, rate ``mu``; annotator ``a`` who saw the image draws each with probability
  ``r_a`` (their recall), and the detector's box on it falls in confidence bin ``d`` with
  probability ``phi_1[d]`` (bin 0: no box);
* spurious boxes of annotator ``a`` (on nothing, or not matching the object), rate
  ``lambda_a``: drawn by ``a`` alone, detector bin ``d`` with probability ``psi_ann[d]``;
* false detections, rate ``lambda_det``: drawn by no annotator, bin ``d >= 1`` with
  probability ``psi_det[d]``.

A spurious candidate is one annotator's (or the detector's) mistake, so it carries at most one
vote; two annotators drawing the same box is taken as a real object. For candidate ``c`` with
votes ``v_ac`` of the annotators ``S`` who saw its image, the posterior odds of being real are

    mu prod_{a in S} r_a^v_ac (1 - r_a)^(1 - v_ac) phi_1[d_c]
    -----------------------------------------------------------------
    lambda_a psi_ann[d_c] (one vote, by a) | lambda_det psi_det[d_c] (no vote) | 0 (more votes)

EM alternates these posteriors with the rates and probabilities they imply (Laplace-smoothed
counts), starting with every drawn box real (and a detector-only box at its confidence). A
two-class Dawid-Skene model without this structure lets the latent class drift to "objects the
satisficer drew" versus the rest, which is why the structure is imposed. With two annotators
per image a box only one of them drew is either an object the other missed or a spurious box,
and the counts cannot tell the two apart; so each annotator's spurious rate has a Gamma prior
(:data:`SPURIOUS_PRIOR`: mean 0.01 boxes per image, weight a tenth of the images it saw) and
EM starts from "drawn boxes are real", which together keep it from explaining every lone box as
spurious. A candidate is kept when its posterior is at least 0.5.

The class of an object is estimated with Dawid & Skene's one-coin model: one accuracy per
annotator (``psi_a``, errors spread evenly over the other classes) and one for the detector. Its
box is the precision-weighted mean of the annotators' boxes (:mod:`.localization`; the
detector's box where no annotator drew it).

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
    """Fitted parameters of the object and class models.

    Attributes
    ----------
    objects_per_image : float
        ``mu``.
    recall : ndarray, shape (A,)
        ``r_a``.
    spurious_per_image : ndarray, shape (A,)
        ``lambda_a``, spurious boxes per image the annotator saw.
    false_detections_per_image : float
        ``lambda_det``.
    detector_given_real, detector_given_spurious, detector_given_false : ndarray, shape (D,)
        ``phi_1``, ``psi_ann`` and ``psi_det`` over the detector bins (one bin, "no box",
        without a detector).
    class_accuracy : ndarray, shape (A,)
        Chance an annotator's class for a real object is right.
    detector_class_accuracy : float
    iterations : int
        EM iterations of the object model.
    """

    objects_per_image: float
    recall: np.ndarray
    spurious_per_image: np.ndarray
    false_detections_per_image: float
    detector_given_real: np.ndarray
    detector_given_spurious: np.ndarray
    detector_given_false: np.ndarray
    class_accuracy: np.ndarray
    detector_class_accuracy: float
    iterations: int


def detector_bins(confidence: np.ndarray) -> np.ndarray:
    """(C,) bin of each candidate's detector confidence; 0 where it is NaN (no box)."""
    bins = np.searchsorted(np.array(DETECTOR_BIN_EDGES), np.nan_to_num(confidence), side="right")
    return np.where(np.isnan(confidence), 0, bins + 1)


@dataclass(frozen=True, eq=False)
class _Votes:
    """What the object model reads: who drew each candidate and the detector's bin."""

    drew: np.ndarray  # (C, A) bool
    saw: np.ndarray  # (C, A) bool
    bins: np.ndarray  # (C,) int
    n_bins: int
    sole: np.ndarray  # (C,) the only voter, -1 with zero or several votes
    n_votes: np.ndarray  # (C,)
    images_seen: np.ndarray  # (A,) images each annotator annotated
    n_images: int


@dataclass(frozen=True, eq=False)
class _Params:
    mu: float
    recall: np.ndarray
    spurious: np.ndarray
    false_det: float
    phi_real: np.ndarray
    phi_spurious: np.ndarray
    phi_false: np.ndarray


#: Prior of each annotator's spurious boxes per image: mean, and weight as a share of the
#: images it saw (a Gamma prior; :func:`_m_step`).
SPURIOUS_PRIOR = (0.01, 0.1)


def _m_step(q: np.ndarray, v: _Votes) -> _Params:
    """Rates and probabilities implied by the posteriors ``q`` (Laplace-smoothed; spurious
    rates shrunk toward :data:`SPURIOUS_PRIOR`)."""
    mean, weight_share = SPURIOUS_PRIOR
    weight = weight_share * v.images_seen
    real = q[:, None] * v.saw
    alone = v.sole >= 0
    spurious = np.bincount(v.sole[alone], 1 - q[alone], v.drew.shape[1])
    false_det = v.n_votes == 0
    real_bins = np.bincount(v.bins, q, v.n_bins) + 1
    spur_bins = np.bincount(v.bins[alone], 1 - q[alone], v.n_bins) + 1
    det_bins = np.bincount(v.bins[false_det], 1 - q[false_det], v.n_bins) + 1
    det_bins[0] = 0.0  # a false detection always has a box
    return _Params(
        mu=float((q.sum() + 1) / max(v.n_images, 1)),
        recall=((real * v.drew).sum(0) + 1) / (real.sum(0) + 2),
        spurious=(spurious + 0.5 + mean * weight) / (np.maximum(v.images_seen, 1) + weight),
        false_det=float(((1 - q[false_det]).sum() + 0.5) / max(v.n_images, 1)),
        phi_real=real_bins / real_bins.sum(),
        phi_spurious=spur_bins / spur_bins.sum(),
        phi_false=det_bins / max(det_bins.sum(), 1.0),
    )


def _e_step(p: _Params, v: _Votes) -> np.ndarray:
    pattern = v.saw * np.where(v.drew, np.log(p.recall), np.log1p(-p.recall))
    log_real = np.log(p.mu) + pattern.sum(axis=1) + np.log(p.phi_real[v.bins])
    with np.errstate(divide="ignore"):
        log_spurious = np.where(
            v.sole >= 0,
            np.log(np.append(p.spurious, 1.0)[v.sole]) + np.log(p.phi_spurious[v.bins]),
            np.where(v.n_votes == 0, np.log(p.false_det) + np.log(p.phi_false[v.bins]), -np.inf),
        )
    return 1 / (1 + np.exp(np.clip(log_spurious - log_real, -700, 700)))


def object_posterior(
    drew: np.ndarray,
    saw: np.ndarray,
    detector_confidence: np.ndarray,
    images_seen: np.ndarray,
    n_images: int,
    *,
    max_iter: int = 200,
    tol: float = 1e-8,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, ObjectModel, int]:
    """EM for the object model.

    Parameters
    ----------
    drew, saw : ndarray of bool, shape (C, A)
        Annotator ``a`` drew candidate ``c``; annotator ``a`` annotated its image.
    detector_confidence : ndarray, shape (C,)
        NaN where no detector box supports the candidate (or there is no detector).
    images_seen : ndarray of int, shape (A,)
        Images each annotator annotated.
    n_images : int
    known : ndarray of float, shape (C,), optional
        1 or 0 where gold says whether the candidate is real (:mod:`.gold`), NaN elsewhere:
        held there in every round.

    Returns
    -------
    q : ndarray, shape (C,)
        Posterior probability that each candidate is real.
    model : ObjectModel
        The fitted rates (class fields filled with placeholders; see :func:`class_posterior`).
    iterations : int
    """
    bins = detector_bins(detector_confidence)
    n_votes = drew.sum(axis=1)
    votes = _Votes(
        drew=drew,
        saw=saw,
        bins=bins,
        # Without any detector evidence the detector terms must cancel: one bin.
        n_bins=1 if not bins.any() else len(DETECTOR_BIN_EDGES) + 2,
        sole=np.where(n_votes == 1, drew.argmax(axis=1) if drew.size else 0, -1),
        n_votes=n_votes,
        images_seen=np.asarray(images_seen, dtype=np.float64),
        n_images=n_images,
    )
    q, p, iterations = _fit(votes, detector_confidence, max_iter, tol, known)
    model = ObjectModel(
        objects_per_image=p.mu,
        recall=p.recall,
        spurious_per_image=p.spurious,
        false_detections_per_image=p.false_det,
        detector_given_real=p.phi_real,
        detector_given_spurious=p.phi_spurious,
        detector_given_false=p.phi_false,
        class_accuracy=np.full(drew.shape[1], np.nan),
        detector_class_accuracy=float("nan"),
        iterations=iterations,
    )
    return q, model, iterations


def _fit(
    votes: _Votes,
    detector_confidence: np.ndarray,
    max_iter: int,
    tol: float,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, _Params, int]:
    def hold(q: np.ndarray) -> np.ndarray:
        return q if known is None else np.where(np.isnan(known), q, known)

    # drawn boxes start as real: with two annotators a box one of them drew alone is a real
    # object the other missed or a spurious box, which the votes cannot tell apart, and
    # starting from "undecided" let EM settle on "every lone box is spurious"
    q = np.where(votes.n_votes >= 1, 1.0, np.nan_to_num(detector_confidence))
    q = hold(q)
    params = _m_step(q, votes)
    iterations = 0
    while iterations < max_iter and len(q):
        iterations += 1
        new = hold(_e_step(params, votes))
        params = _m_step(new, votes)
        done = float(np.max(np.abs(new - q))) < tol
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

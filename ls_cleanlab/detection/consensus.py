"""The consensus set of boxes: which candidate objects are real, of which class, where.

Candidates are the groups of :func:`~.matching.match_annotators` plus the detector boxes that no
annotator drew. Whether candidate ``c`` is a real object is a latent-class model in the spirit
of Dawid & Skene (1979), with the structure of how candidates arise. Per image, candidates are
points of independent Poisson processes:

* real objects, rate ``mu``; annotator ``a`` who saw the image draws each with probability
  ``r_a`` (their recall; both by crowding, see below), and the detector's box on it falls in
  confidence bin ``d`` with probability ``phi_1[d]`` (bin 0: no box);
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
satisficer drew" versus the rest, which is why the structure is imposed. Four refinements
keep the model from explaining boxes as spurious where the evidence cannot say so:

* Recall and ``mu`` are fitted by how crowded the image is (:data:`CROWDING`, the number of
  other candidates some annotator drew there). A satisficer draws nearly every object of a
  sparse image and a small share of a crowded one; pooled, the objects annotators agree on come
  from sparse images, recall looks high, and the lone boxes of crowded images look spurious.
* With fewer than three annotators on an image and no gold, a box one of them drew alone is an
  object the other missed or a spurious box, and the counts cannot tell which (a family of
  rates fits them equally well). There the model does not use recall: of annotator ``a``'s
  such boxes per image, ``lambda_a`` are spurious and the rest real, and only a detector that
  passes :func:`detector_is_reliable` says which are which (``psi_ann`` is then learned from the
  boxes three annotators or gold settle, with a prior that a box on nothing meets no detection).
  Without such a detector ``lambda_a`` is measured only where it is identified (images with
  three or more annotators, or gold) and is the prior mean :data:`SPURIOUS_PRIOR` elsewhere, so
  the audit keeps what either drew unless there is evidence against it.
* The detector's profile on real objects ``phi_1`` is learned from the candidates annotators
  drew (detector-only candidates are selected by having a detector box).
* Objects nobody drew and the detector missed are never candidates: for each real candidate
  the M-step adds the expected number of such objects like it (``m / (1 - m)``, ``m`` the
  chance that everyone who saw the image and the detector missed it), missed by all, to the
  recall denominators and ``mu``. Without them recall is overstated, most for satisficers, and
  the lone boxes it does not explain are taken for spurious ones.

A candidate is kept when its posterior is at least 0.5.

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

from ls_cleanlab.detection._class_model import class_posterior
from ls_cleanlab.detection._object_em import (
    CROWDING,
    DETECTOR_BIN_EDGES,
    SPURIOUS_PRIOR,
    detector_bins,
    detector_is_reliable,
    fit,
    votes_of,
)

__all__ = [
    "CROWDING",
    "DETECTOR_BIN_EDGES",
    "SPURIOUS_PRIOR",
    "ConsensusBoxes",
    "ObjectModel",
    "class_posterior",
    "detector_bins",
    "detector_is_reliable",
    "object_posterior",
]


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
        ``mu`` over all images.
    recall : ndarray, shape (A,)
        ``r_a`` over all images (the model fits it by crowding).
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
    checked: np.ndarray | None = None,
    image: np.ndarray | None = None,
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
    checked : ndarray of int, shape (A,), optional
        Images each annotator annotated where a box it drew alone can be told from the others'
        miss without a detector: three or more annotators, or gold. Elsewhere (two annotators)
        its spurious rate is not identified, and stays at :data:`SPURIOUS_PRIOR` unless a
        detector that passes :func:`detector_is_reliable` tells. Default: every image.
    image : ndarray of int, shape (C,), optional
        Each candidate's image in ``[0, n_images)``: recall is fitted by how crowded the image
        is (:data:`CROWDING`). Default: one recall per annotator.

    Returns
    -------
    q : ndarray, shape (C,)
        Posterior probability that each candidate is real.
    model : ObjectModel
        The fitted rates (class fields filled with placeholders; see :func:`class_posterior`).
    iterations : int
    """
    votes = votes_of(drew, saw, detector_bins(detector_confidence), images_seen, n_images,
                   known, checked, image)  # fmt: skip
    q, p, iterations = fit(votes, detector_confidence, max_iter, tol, known)
    model = ObjectModel(
        objects_per_image=float(q.sum() + 1) / max(n_images, 1),
        recall=p.overall_recall,
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

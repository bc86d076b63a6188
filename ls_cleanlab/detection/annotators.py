"""How well each annotator boxes objects, measured against the consensus set.

For annotator ``a``, over the images they annotated:

* recall: share of consensus objects they drew;
* precision: share of their boxes that belong to a consensus object;
* localization: mean IoU of their boxes with the consensus boxes (the precision-weighted mean of
  the annotators' boxes of the object, :mod:`.localization`; the detector's box when nobody
  else drew it), and their relative edge noise ``box_noise``;
* satisficing (H. A. Simon's term; "satisfaction of search" in radiology: stopping after the
  first object or two): recall that falls with the number of objects in the image. Each consensus
  object on an image with ``n_i`` objects is a Bernoulli trial "drawn by ``a``"; the
  Cochran-Armitage test for a trend in proportions with scores ``n_i``,

      T = sum_i n_i (x_i - n_i p),  Var T = p (1 - p) [sum_i n_i^3 - (sum_i n_i^2)^2 / sum_i n_i],

  with ``x_i`` the objects drawn and ``p`` the overall recall, gives the one-sided p-value
  ``Phi(T / sqrt(Var T))`` of "recall decreases with crowding". As any test on many objects
  finds small trends significant, an annotator is flagged only when the p-value is below
  ``alpha`` *and* their recall on crowded images (more objects than their median image) is at
  least ``min_drop`` lower, relatively, than on the other images. Objects of one image are not
  independent trials, so the p-value is optimistic; the effect size guards against that.

Reference: P. Armitage, "Tests for linear trends in proportions and frequencies", Biometrics
11(3), 1955.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

__all__ = ["AnnotatorQuality", "annotator_quality", "trend_test"]


@dataclass(frozen=True, eq=False)
class AnnotatorQuality:
    """One entry per annotator; NaN where there is nothing to measure.

    Attributes
    ----------
    annotator : ndarray, shape (A,)
        Annotator ids.
    n_images, n_boxes : ndarray of int64, shape (A,)
        Images annotated and boxes drawn.
    recall, precision, localization : ndarray of float64, shape (A,)
        In [0, 1].
    box_noise : ndarray of float64, shape (A,)
        Standard deviation of their box edges relative to the object's size (Grubbs'
        estimator, :mod:`.localization`); lower is more precise.
    satisficing : ndarray of float64, shape (A,)
        Relative drop of recall on crowded images, in [0, 1].
    satisficing_pvalue : ndarray of float64, shape (A,)
        One-sided Cochran-Armitage p-value of recall falling with the number of objects.
    satisficer : ndarray of bool, shape (A,)
    """

    annotator: np.ndarray
    n_images: np.ndarray
    n_boxes: np.ndarray
    recall: np.ndarray
    precision: np.ndarray
    localization: np.ndarray
    box_noise: np.ndarray
    satisficing: np.ndarray
    satisficing_pvalue: np.ndarray
    satisficer: np.ndarray


def trend_test(objects: np.ndarray, drawn: np.ndarray) -> tuple[float, float]:
    """Cochran-Armitage test that the share drawn falls with the number of objects.

    Parameters
    ----------
    objects, drawn : ndarray of int, shape (I,)
        Per image: consensus objects ``n_i >= 1`` and how many of them were drawn.

    Returns
    -------
    pvalue : float
        One-sided (decreasing trend); 1.0 when untestable (one distinct ``n_i``, or recall 0
        or 1 everywhere).
    drop : float
        ``1 - recall(n_i > median) / recall(n_i <= median)`` clipped to [0, 1]; 0 when no image
        is above the median.
    """
    n = objects.astype(np.float64)
    x = drawn.astype(np.float64)
    total = n.sum()
    if total == 0:
        return 1.0, 0.0
    p = x.sum() / total
    variance = p * (1 - p) * ((n**3).sum() - (n**2).sum() ** 2 / total)
    statistic = float((n * (x - n * p)).sum())
    pvalue = float(norm.cdf(statistic / np.sqrt(variance))) if variance > 1e-12 else 1.0
    crowded = objects > np.median(objects)
    sparse_recall = x[~crowded].sum() / max(n[~crowded].sum(), 1.0)
    if not crowded.any() or sparse_recall == 0:
        return pvalue, 0.0
    crowded_recall = x[crowded].sum() / n[crowded].sum()
    return pvalue, float(np.clip(1 - crowded_recall / sparse_recall, 0.0, 1.0))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def annotator_quality(
    annotator_ids: np.ndarray,
    seen: np.ndarray,
    keep: np.ndarray,
    candidate_image: np.ndarray,
    drew: np.ndarray,
    box_annotator: np.ndarray,
    box_candidate: np.ndarray,
    reference_iou: np.ndarray,
    box_noise: np.ndarray,
    *,
    alpha: float = 0.01,
    min_drop: float = 0.3,
) -> AnnotatorQuality:
    """Recall, precision, localization and satisficing of each annotator.

    Parameters
    ----------
    annotator_ids : ndarray, shape (A,)
    seen : ndarray of bool, shape (N, A)
    keep : ndarray of bool, shape (C,)
        Candidates in the consensus set.
    candidate_image : ndarray of int, shape (C,)
    drew : ndarray of bool, shape (C, A)
    box_annotator, box_candidate : ndarray of int, shape (B,)
        Each box's annotator and candidate.
    reference_iou : ndarray, shape (B,)
        IoU of each box with its consensus box (NaN without one).
    box_noise : ndarray, shape (A,)
        Relative edge standard deviation of each annotator.
    alpha, min_drop : float
        Satisficer flag: p-value below ``alpha`` and relative recall drop at least ``min_drop``.
    """
    n_annotators = len(annotator_ids)
    saw = seen[candidate_image]
    kept_seen = (saw & keep[:, None]).sum(0)
    recall = _ratio((drew & saw & keep[:, None]).sum(0), kept_seen)
    n_boxes = np.bincount(box_annotator, minlength=n_annotators)
    precision = _ratio(
        np.bincount(box_annotator, keep[box_candidate].astype(float), n_annotators), n_boxes
    )
    measured = keep[box_candidate] & ~np.isnan(reference_iou)
    localization = _ratio(
        np.bincount(box_annotator[measured], reference_iou[measured], n_annotators),
        np.bincount(box_annotator[measured], minlength=n_annotators),
    )
    n_images = seen.shape[0]
    objects = np.bincount(candidate_image[keep], minlength=n_images)
    pvalues, drops = np.ones(n_annotators), np.zeros(n_annotators)
    for a in range(n_annotators):
        images = np.flatnonzero(seen[:, a] & (objects > 0))
        drawn = np.bincount(candidate_image[keep & drew[:, a]], minlength=n_images)
        pvalues[a], drops[a] = trend_test(objects[images], drawn[images])
    return AnnotatorQuality(
        annotator=annotator_ids,
        n_images=seen.sum(0).astype(np.int64),
        n_boxes=n_boxes.astype(np.int64),
        recall=recall,
        precision=precision,
        localization=localization,
        box_noise=box_noise,
        satisficing=drops,
        satisficing_pvalue=pvalues,
        satisficer=(pvalues < alpha) & (drops >= min_drop),
    )

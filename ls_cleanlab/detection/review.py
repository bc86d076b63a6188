"""Boxes to review: likely missing ones (per annotator) and likely wrong ones (per drawn box).

Given the consensus candidates (:mod:`.consensus`):

* **missing**: for each candidate and each annotator who saw its image but did not draw it, the
  score is the posterior probability that the candidate is a real object. Objects other
  annotators drew and detector boxes no annotator drew are both candidates, so both sources
  count, each weighted by how reliable it has proven.
* **wrong**, for each drawn box, three scores in [0, 1]:
  ``swapped`` = 1 - posterior probability of the box's class for its object;
  ``badly_placed`` = 1 - IoU with the object's consensus box, the precision-weighted mean of the
  annotators' boxes (the detector's box when nobody else drew it; 0 when there is nothing to
  compare with);
  ``spurious`` = 1 - posterior probability that the object is real.
  The box's score is the largest; its kind says which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.detection._geometry import iou
from ls_cleanlab.detection.consensus import ConsensusBoxes

__all__ = ["KINDS", "MissingBoxes", "WrongBoxes", "missing_boxes", "reference_iou", "wrong_boxes"]

#: The kinds of wrong boxes, in the order ties are broken.
KINDS = ("swapped", "badly_placed", "spurious")


@dataclass(frozen=True, eq=False)
class MissingBoxes:
    """Boxes an annotator likely missed, one row per (candidate, annotator).

    Attributes
    ----------
    image, annotator : ndarray of int64, shape (R,)
        The image, and the annotator (index into the annotator ids) who did not draw the box.
    candidate : ndarray of int64, shape (R,)
        The consensus candidate; -1 for a detector box outside the consensus (one-annotator
        mode).
    boxes : ndarray of float64, shape (R, 4)
    labels : ndarray of int64, shape (R,)
    score : ndarray of float64, shape (R,)
        In [0, 1]; higher is more likely missing.
    reason : tuple of str, length R
    """

    image: np.ndarray
    annotator: np.ndarray
    candidate: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    score: np.ndarray
    reason: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class WrongBoxes:
    """How likely each drawn box is wrong, one row per annotation row, in their order.

    Attributes
    ----------
    score : ndarray of float64, shape (B,)
        The largest of the three kinds' scores, in [0, 1].
    kind : tuple of str, length B
        ``"swapped"``, ``"badly_placed"`` or ``"spurious"``: the kind with the largest score.
    swapped, badly_placed, spurious : ndarray of float64, shape (B,)
        Each kind's score, in [0, 1].
    suggested_label : ndarray of int64, shape (B,)
        The most likely class when it differs from the box's, else -1.
    reason : tuple of str, length B
    """

    score: np.ndarray
    kind: tuple[str, ...]
    swapped: np.ndarray
    badly_placed: np.ndarray
    spurious: np.ndarray
    suggested_label: np.ndarray
    reason: tuple[str, ...]


def reference_iou(
    boxes: np.ndarray,
    box_candidate: np.ndarray,
    votes: np.ndarray,
    consensus_boxes: np.ndarray,
    detector_boxes: np.ndarray,
) -> np.ndarray:
    """(B,) IoU of each drawn box with its object's consensus box.

    For an object only one annotator drew, the IoU with the detector's box on it; NaN without
    one (nothing to compare with).
    """
    reference = np.where(
        (votes[box_candidate] > 1)[:, None],
        consensus_boxes[box_candidate],
        detector_boxes[box_candidate],
    )
    out = np.full(len(boxes), np.nan)
    known = ~np.isnan(reference[:, 0])
    out[known] = iou(boxes[known], reference[known])
    return out


def _evidence(consensus: ConsensusBoxes, c: int) -> str:
    votes, seen = int(consensus.votes[c]), int(consensus.seen[c])
    text = f"{votes} of {seen} annotators drew it" if votes else "no annotator drew it"
    if not np.isnan(consensus.detector_confidence[c]):
        text += (
            f"; the detector found it (class {int(consensus.detector_label[c])}, confidence "
            f"{consensus.detector_confidence[c]:.2f})"
        )
    return text


def missing_boxes(consensus: ConsensusBoxes, drew: np.ndarray, saw: np.ndarray) -> MissingBoxes:
    """One row per candidate and annotator who saw its image but did not draw it."""
    candidate, annotator = np.nonzero(saw & ~drew)
    score = consensus.probability[candidate]
    reason = tuple(
        f"{_evidence(consensus, int(c))}; {p:.0%} likely a real object"
        for c, p in zip(candidate, score, strict=True)
    )
    return MissingBoxes(
        image=consensus.image[candidate],
        annotator=annotator.astype(np.int64),
        candidate=candidate.astype(np.int64),
        boxes=consensus.boxes[candidate],
        labels=consensus.labels[candidate],
        score=score,
        reason=reason,
    )


def wrong_boxes(
    labels: np.ndarray,
    box_candidate: np.ndarray,
    consensus: ConsensusBoxes,
    class_posterior: np.ndarray,
    box_reference_iou: np.ndarray,
) -> WrongBoxes:
    """Swapped, badly placed and spurious scores of every drawn box (see the module docstring)."""
    posterior = class_posterior[box_candidate]
    swapped = np.clip(1 - posterior[np.arange(len(labels)), labels], 0.0, 1.0)
    best = posterior.argmax(axis=1) if len(labels) else np.zeros(0, dtype=np.int64)
    suggested = np.where(best != labels, best, -1).astype(np.int64)
    badly_placed = np.where(np.isnan(box_reference_iou), 0.0, 1 - box_reference_iou)
    spurious = 1 - consensus.probability[box_candidate]
    scores = np.stack([swapped, badly_placed, spurious], axis=1)
    kind_index = scores.argmax(axis=1) if len(labels) else np.zeros(0, dtype=np.int64)
    reason = []
    for b, k in enumerate(kind_index):
        c = int(box_candidate[b])
        if k == 0:
            reason.append(
                f"class {int(labels[b])}, but class {int(best[b])} is "
                f"{posterior[b, best[b]]:.0%} likely ({_evidence(consensus, c)})"
            )
        elif k == 1 and not np.isnan(box_reference_iou[b]):
            reason.append(f"IoU {box_reference_iou[b]:.2f} with the consensus box of this object")
        else:
            reason.append(f"{_evidence(consensus, c)}; {spurious[b]:.0%} likely not an object")
    return WrongBoxes(
        score=scores.max(axis=1) if len(labels) else np.zeros(0),
        kind=tuple(KINDS[k] for k in kind_index),
        swapped=swapped,
        badly_placed=badly_placed,
        spurious=spurious,
        suggested_label=suggested,
        reason=tuple(reason),
    )

"""Audit the boxes of several annotators (and optionally a detector): one call, one result.

``audit_boxes`` matches the annotators' boxes (:mod:`.matching`), estimates which candidates are
real objects and of which class (:mod:`.consensus`), measures each annotator
(:mod:`.annotators`) and scores likely missing and likely wrong boxes (:mod:`.review`).

With at most one annotator per image there is no disagreement to learn from. Given a detector,
the audit then reduces to cleanlab's ObjectLab scores: a detector box's missing score is
``1 - overlooked score`` (boxes cleanlab leaves unscored are not listed), and a drawn box's
``swapped`` and ``badly_placed`` scores are ``1 - `` cleanlab's swap and badly-located scores,
exactly (``spurious`` is 0; annotator measures are NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ls_cleanlab.detection import _objectlab, rank
from ls_cleanlab.detection._boxes import FlatBoxes, check_predictions, flat_boxes
from ls_cleanlab.detection._constants import HIGH_PROBABILITY_THRESHOLD, LOW_PROBABILITY_THRESHOLD
from ls_cleanlab.detection._options import check_unit
from ls_cleanlab.detection.annotators import AnnotatorQuality, annotator_quality
from ls_cleanlab.detection.box_annotations import BoxAnnotations
from ls_cleanlab.detection.consensus import (
    ConsensusBoxes,
    ObjectModel,
    class_posterior,
    object_posterior,
)
from ls_cleanlab.detection.gold import KnownBoxes, known_candidates
from ls_cleanlab.detection.localization import box_noise, weighted_boxes
from ls_cleanlab.detection.matching import match_annotators, match_detector
from ls_cleanlab.detection.review import (
    KINDS,
    MissingBoxes,
    WrongBoxes,
    missing_boxes,
    reference_iou,
    wrong_boxes,
)
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError

__all__ = ["BoxAudit", "audit_boxes"]


@dataclass(frozen=True, eq=False)
class BoxAudit:
    """What :func:`audit_boxes` found.

    Attributes
    ----------
    mode : {"consensus", "cleanlab"}
        ``"cleanlab"`` when every image has at most one annotator and a detector is given.
    consensus : ConsensusBoxes
        Candidate objects; in cleanlab mode, the drawn boxes (probabilities NaN).
    candidate : ndarray of int64, shape (B,)
        The candidate of each annotation row.
    annotators : AnnotatorQuality
    missing : MissingBoxes
    wrong : WrongBoxes
    image_scores : ndarray of float64, shape (N,)
        Largest missing or wrong score of each image (0 without any): review priority.
    model : ObjectModel or None
        The fitted object and class model (None in cleanlab mode).
    """

    mode: Literal["consensus", "cleanlab"]
    consensus: ConsensusBoxes
    candidate: np.ndarray
    annotators: AnnotatorQuality
    missing: MissingBoxes
    wrong: WrongBoxes
    image_scores: np.ndarray
    model: ObjectModel | None


def _image_scores(
    n_images: int, missing: MissingBoxes, image: np.ndarray, wrong: np.ndarray
) -> np.ndarray:
    out = np.zeros(n_images)
    np.maximum.at(out, missing.image, missing.score)
    np.maximum.at(out, image, wrong)
    return out


def _check_options(**options: float) -> dict[str, float]:
    checked = {name: check_unit(name, value, 0.0) for name, value in options.items()}
    if checked["min_iou"] <= 0 or not 0 < checked["loose_iou"] <= checked["min_iou"]:
        raise InvalidOptionError(
            f"need 0 < loose_iou <= min_iou <= 1; got loose_iou={options['loose_iou']!r}, "
            f"min_iou={options['min_iou']!r}."
        )
    return checked


def audit_boxes(
    annotations: BoxAnnotations,
    predictions: Any = None,
    *,
    min_iou: float = 0.5,
    loose_iou: float = 0.25,
    min_confidence: float = 0.05,
    satisficer_alpha: float = 0.01,
    satisficer_min_drop: float = 0.3,
    known: KnownBoxes | None = None,
) -> BoxAudit:
    """Find likely missing and wrong boxes and measure annotators.

    Parameters
    ----------
    annotations : BoxAnnotations
    predictions : list of N lists of K arrays (M, 5), optional
        A detector's boxes in cleanlab's format (x1, y1, x2, y2, confidence per class array),
        out-of-sample.
    min_iou : float in (0, 1]
        IoU at which two boxes outline the same object.
    loose_iou : float in (0, min_iou]
        IoU with an object's median box at which a lone box is a badly placed box of it.
    min_confidence : float in [0, 1]
        Detector boxes below this confidence are ignored.
    satisficer_alpha, satisficer_min_drop : float in [0, 1]
        See :func:`~.annotators.annotator_quality`.
    known : KnownBoxes, optional
        Gold boxes of some images (not among ``annotations``): their candidates are held at
        what the gold says in the consensus EM (:mod:`.gold`), which measures the annotators
        against it. Unused with one annotator per image and a detector (cleanlab's scores).

    Returns
    -------
    BoxAudit

    Raises
    ------
    InvalidPredProbsError, InvalidAnnotationsError, InvalidOptionError
    """
    if not isinstance(annotations, BoxAnnotations):
        raise InvalidAnnotationsError(
            f"annotations must be a BoxAnnotations, got {type(annotations).__name__}."
        )
    options = _check_options(
        min_iou=min_iou,
        loose_iou=loose_iou,
        min_confidence=min_confidence,
        satisficer_alpha=satisficer_alpha,
        satisficer_min_drop=satisficer_min_drop,
    )
    n_images = int(annotations.n_images or 0)
    preds, n_classes = None, int(annotations.labels.max()) + 1 if len(annotations.labels) else 1
    if predictions is not None:
        preds, n_classes = check_predictions(predictions, n_images=n_images)
        if len(annotations.labels) and annotations.labels.max() >= n_classes:
            raise InvalidAnnotationsError(
                f"labels hold class {int(annotations.labels.max())}, but the predictions have "
                f"{n_classes} classes."
            )
        if n_images and annotations.n_annotators and annotations.seen.sum(axis=1).max() <= 1:
            return _cleanlab_audit(annotations, preds, n_classes)
    if known is not None:
        _check_known(known, n_images)
    return _consensus_audit(annotations, preds, max(n_classes, 1), options, known)


def _check_known(known: KnownBoxes, n_images: int) -> None:
    if not isinstance(known, KnownBoxes):
        raise InvalidAnnotationsError(f"known must be a KnownBoxes, got {type(known).__name__}.")
    images, image = np.asarray(known.images), np.asarray(known.image)
    if images.dtype != bool or images.shape != (n_images,):
        raise InvalidAnnotationsError(
            f"known.images must be a boolean array of the {n_images} images, got dtype "
            f"{images.dtype} and shape {images.shape}."
        )
    g = len(image)
    if np.shape(known.boxes) != (g, 4) or np.shape(known.labels) != (g,):
        raise InvalidAnnotationsError(
            f"known holds {g} gold boxes: boxes must have shape ({g}, 4) and labels ({g},), "
            f"got {np.shape(known.boxes)} and {np.shape(known.labels)}."
        )
    if g and (image.min() < 0 or image.max() >= n_images or not images[image].all()):
        raise InvalidAnnotationsError(
            "every gold box must lie on an image marked in known.images (index in "
            f"[0, {n_images}))."
        )


def _candidates(
    annotations: BoxAnnotations, preds: FlatBoxes | None, options: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidate objects: (image, box, detector box index or -1, candidate of each row), and
    the annotators' relative edge variances."""
    n_images = int(annotations.n_images or 0)
    clusters = match_annotators(
        annotations, min_iou=options["min_iou"], loose_iou=options["loose_iou"]
    )
    where = (annotations.boxes, clusters.cluster, annotations.annotator_index, clusters.n_clusters)
    noise = box_noise(*where, annotations.n_annotators, use=~clusters.loose)
    medians = weighted_boxes(*where, noise)
    image, boxes = clusters.image, medians
    detector = np.full(clusters.n_clusters, -1, dtype=np.int64)
    if preds is not None and preds.confidence is not None:
        found = match_detector(
            medians, clusters.image, preds.boxes, preds.image, preds.confidence, n_images,
            min_iou=options["min_iou"], min_confidence=options["min_confidence"],
        )  # fmt: skip
        image = np.concatenate([image, preds.image[found.unmatched]])
        boxes = np.concatenate([boxes, preds.boxes[found.unmatched]])
        detector = np.concatenate([found.cluster_pred, found.unmatched])
    order = np.argsort(image, kind="stable")
    number = np.empty(len(order), dtype=np.int64)
    number[order] = np.arange(len(order))
    return image[order], boxes[order], detector[order], number[clusters.cluster], noise


def _consensus_audit(
    annotations: BoxAnnotations,
    preds: FlatBoxes | None,
    n_classes: int,
    options: dict[str, float],
    known: KnownBoxes | None = None,
) -> BoxAudit:
    image, boxes, detector, row_candidate, noise = _candidates(annotations, preds, options)
    real, gold_label = None, None
    if known is not None:
        real, gold_label = known_candidates(known, image, boxes, options["min_iou"])
    n_candidates, n_annotators = len(image), annotations.n_annotators
    has_det = detector >= 0
    det_conf = np.full(n_candidates, np.nan)
    det_label = np.full(n_candidates, -1, dtype=np.int64)
    det_boxes = np.full((n_candidates, 4), np.nan)
    if preds is not None and preds.confidence is not None:
        det_conf[has_det] = preds.confidence[detector[has_det]]
        det_label[has_det] = preds.classes[detector[has_det]]
        det_boxes[has_det] = preds.boxes[detector[has_det]]
    drew = np.zeros((n_candidates, n_annotators), dtype=bool)
    drew[row_candidate, annotations.annotator_index] = True
    saw = annotations.seen[image]
    n_images = len(annotations.seen)
    seen = annotations.seen
    told = seen.sum(1) >= 3  # images where a lone box is told from a miss without a detector
    if known is not None:
        told = told | known.images
    q, model, _ = object_posterior(
        drew, saw, det_conf, seen.sum(0), n_images,
        known=real, checked=seen[told].sum(0), image=image,
    )  # fmt: skip
    labels = annotations.labels
    posterior, accuracy, det_accuracy = class_posterior(
        row_candidate, annotations.annotator_index, labels, det_label,
        n_candidates, n_annotators, n_classes, known_label=gold_label,
    )  # fmt: skip
    votes = drew.sum(1)
    consensus = ConsensusBoxes(
        image=image,
        boxes=np.where(votes[:, None] > 0, boxes, det_boxes),
        labels=posterior.argmax(1) if n_candidates else np.zeros(0, dtype=np.int64),
        votes=votes.astype(np.int64),
        seen=saw.sum(1).astype(np.int64),
        detector_confidence=det_conf,
        detector_label=det_label,
        probability=q,
        label_probability=posterior.max(1) if n_candidates else np.zeros(0),
        keep=q >= 0.5,
    )
    ref = reference_iou(annotations.boxes, row_candidate, votes, consensus.boxes, det_boxes)
    quality = annotator_quality(
        annotations.annotator_ids, annotations.seen, consensus.keep, image, drew,
        annotations.annotator_index, row_candidate, ref,
        np.sqrt(noise), alpha=options["satisficer_alpha"], min_drop=options["satisficer_min_drop"],
    )  # fmt: skip
    missing = missing_boxes(consensus, drew, saw)
    wrong = wrong_boxes(labels, row_candidate, consensus, posterior, ref)
    model = replace(model, class_accuracy=accuracy, detector_class_accuracy=det_accuracy)
    scores = _image_scores(n_images, missing, annotations.image, wrong.score)
    return BoxAudit("consensus", consensus, row_candidate, quality, missing, wrong, scores, model)


def _cleanlab_audit(annotations: BoxAnnotations, preds: FlatBoxes, n_classes: int) -> BoxAudit:
    """One annotator per image and a detector: cleanlab's ObjectLab scores, as 1 - score."""
    n_images, size = int(annotations.n_images or 0), len(annotations.labels)
    order = np.argsort(annotations.image, kind="stable")
    labels = flat_boxes(
        annotations.boxes[order],
        annotations.labels[order],
        np.bincount(annotations.image, minlength=n_images),
    )
    pairs = _objectlab.pair_table(labels, preds, rank.default_alpha(None))
    s_min = np.full(n_images, _objectlab.min_similarity(pairs.similarity))
    data = rank.ScoringData(labels, preds, pairs, pairs.iou, s_min, n_classes)
    overlooked = rank.overlooked(data, HIGH_PROBABILITY_THRESHOLD)
    swapped, badly_placed = np.empty(size), np.empty(size)
    swapped[order] = 1 - rank.swap(data, HIGH_PROBABILITY_THRESHOLD, True)
    badly_placed[order] = 1 - rank.badloc(data, LOW_PROBABILITY_THRESHOLD)
    sole = annotations.seen.argmax(axis=1)
    annotated = np.asarray(annotations.seen.any(axis=1))
    listed = np.flatnonzero(~np.isnan(overlooked) & annotated[preds.image])
    assert preds.confidence is not None
    missing = MissingBoxes(
        image=preds.image[listed],
        annotator=sole[preds.image[listed]].astype(np.int64),
        candidate=np.full(len(listed), -1, dtype=np.int64),
        boxes=preds.boxes[listed],
        labels=preds.classes[listed],
        score=1 - overlooked[listed],
        reason=tuple(
            f"detector box (class {k}, confidence {p:.2f}) overlapping no drawn box; "
            f"ObjectLab overlooked score {s:.3f}"
            for k, p, s in zip(
                preds.classes[listed], preds.confidence[listed], overlooked[listed], strict=True
            )
        ),
    )
    kinds = np.where(swapped >= badly_placed, 0, 1)
    wrong = WrongBoxes(
        score=np.maximum(swapped, badly_placed),
        kind=tuple(KINDS[k] for k in kinds),
        swapped=swapped,
        badly_placed=badly_placed,
        spurious=np.zeros(size),
        suggested_label=np.full(size, -1, dtype=np.int64),
        reason=tuple(
            f"ObjectLab {'swap' if k == 0 else 'badly located'} score {1 - s:.3f}"
            for k, s in zip(kinds, np.maximum(swapped, badly_placed), strict=True)
        ),
    )
    nan = np.full(annotations.n_annotators, np.nan)
    quality = AnnotatorQuality(
        annotator=annotations.annotator_ids,
        n_images=annotations.seen.sum(0).astype(np.int64),
        n_boxes=np.bincount(annotations.annotator_index, minlength=len(nan)).astype(np.int64),
        recall=nan, precision=nan, localization=nan, box_noise=nan, satisficing=nan,
        satisficing_pvalue=nan,
        satisficer=np.zeros(len(nan), dtype=bool),
    )  # fmt: skip
    consensus = ConsensusBoxes(
        image=annotations.image, boxes=annotations.boxes, labels=annotations.labels,
        votes=np.ones(size, dtype=np.int64), seen=np.ones(size, dtype=np.int64),
        detector_confidence=np.full(size, np.nan), detector_label=np.full(size, -1),
        probability=np.full(size, np.nan), label_probability=np.full(size, np.nan),
        keep=np.ones(size, dtype=bool),
    )  # fmt: skip
    scores = _image_scores(n_images, missing, annotations.image, wrong.score)
    return BoxAudit("cleanlab", consensus, np.arange(size), quality, missing, wrong, scores, None)

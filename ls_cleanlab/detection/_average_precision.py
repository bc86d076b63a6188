"""Per-class COCO-style mean average precision, as cleanlab 2.9.0's ``find_label_issues`` uses it.

For class ``k`` and an IoU threshold ``t``, the predicted boxes of class ``k`` of each image are
visited in decreasing confidence; each is matched to the given box of class ``k`` it overlaps
most (the first such box on ties). It is a true positive when that IoU is at least ``t`` and the
given box is not matched yet, otherwise a false positive. A box whose best given box is already
taken does not fall back to its second best (mmdetection's ``tpfp_default``, which cleanlab
copies). So the true positives are, among the boxes that reach ``t``, the first in confidence
order of each group sharing a best given box: one sort per class, then a cheap pass per ``t``.

All predicted boxes of the class are then ranked by confidence over the whole data set; AP is
the area under the precision envelope at the recall steps (VOC "area" AP), averaged over
``t = 0.50, 0.55, ..., 0.95`` and scaled by 0.25. The float32 and float64 steps (cumulative
counts and precision in float32, recall in float64, AP stored as float32) follow cleanlab's, so
the thresholds compare equal. Ties in confidence are ordered by ``np.argsort`` on the same arrays
cleanlab sorts (numpy's default sort is not stable on ties), so tie-breaking matches too.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.detection._boxes import FlatBoxes
from ls_cleanlab.detection._constants import AP_IOU_THRESHOLDS, AP_SCALE_FACTOR
from ls_cleanlab.detection._objectlab import Pairs

__all__ = ["class_average_precision", "true_positive_counts"]

_EPS32 = np.finfo(np.float32).eps


def _best_given_box(
    labels: FlatBoxes, preds: FlatBoxes, pairs: Pairs
) -> tuple[np.ndarray, np.ndarray]:
    """For every predicted box: the IoU with its best given box of the same class and image, and
    that box's index (the first one on ties; -1 when the image has no given box of the class)."""
    size = len(preds.classes)
    same = labels.classes[pairs.label] == preds.classes[pairs.pred]
    label, pred, overlap = pairs.label[same], pairs.pred[same], pairs.iou[same]
    best = np.full(size, -np.inf)
    np.maximum.at(best, pred, overlap)
    none = np.iinfo(np.int64).max
    first = np.full(size, none)
    at_best = overlap == best[pred]
    np.minimum.at(first, pred[at_best], label[at_best])
    return best, np.where(first == none, -1, first)


def _rank_in_image(image: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Position of each box in ``np.argsort(-confidence)`` of its image (boxes ordered by image).

    A stable sort gives the order where confidences differ; images with tied confidences are
    sorted again with numpy's default sort, as cleanlab does per image."""
    n = len(image)
    order = np.lexsort((-confidence, image))
    rank = np.empty(n, dtype=np.int64)
    starts = np.searchsorted(image, image[order], side="left")
    rank[order] = np.arange(n) - starts
    tied = (image[order][1:] == image[order][:-1]) & (
        confidence[order][1:] == confidence[order][:-1]
    )
    for img in np.unique(image[order][1:][tied]):
        lo, hi = np.searchsorted(image, [img, img + 1])
        rank[lo + np.argsort(-confidence[lo:hi])] = np.arange(hi - lo)
    return rank


def _true_positives(
    owner: np.ndarray, best_iou: np.ndarray, rank: np.ndarray, threshold: float
) -> np.ndarray:
    """(n,) float32 1/0: the first box in confidence order of each group with the same best
    given box, among boxes whose best IoU reaches ``threshold``."""
    candidates = np.flatnonzero((owner >= 0) & (best_iou >= threshold))
    order = candidates[np.lexsort((rank[candidates], owner[candidates]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    tp = np.zeros(len(owner), dtype=np.float32)
    tp[order[first]] = 1
    return tp


def _area_average_precision(tp: np.ndarray, by_confidence: np.ndarray, n_given: int) -> np.float32:
    tp = tp[by_confidence]
    fp = (1 - tp).astype(np.float32)
    tp_cum = np.cumsum(tp, dtype=np.float32)
    fp_cum = np.cumsum(fp, dtype=np.float32)
    recall = tp_cum / np.maximum(np.array([n_given]), _EPS32)
    precision = tp_cum / np.maximum(tp_cum + fp_cum, _EPS32)
    recall = np.concatenate(([0.0], recall, [1.0]))
    envelope = np.concatenate(([0.0], precision, [0.0]))
    envelope = np.maximum.accumulate(envelope[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return np.float32(np.sum((recall[steps + 1] - recall[steps]) * envelope[steps + 1]))


def class_average_precision(
    labels: FlatBoxes, preds: FlatBoxes, pairs: Pairs, n_classes: int
) -> np.ndarray:
    """(K,) float32: 0.25 times each class's mean AP over IoU thresholds 0.50:0.05:0.95.

    ``pairs`` must hold the IoU of every (given, predicted) pair of the same image.
    """
    assert preds.confidence is not None
    best_iou_all, owner_all = _best_given_box(labels, preds, pairs)
    given_per_class = np.bincount(labels.classes, minlength=n_classes)
    out = np.zeros(n_classes, dtype=np.float32)
    for k in range(n_classes):
        members = np.flatnonzero(preds.classes == k)
        confidence = preds.confidence[members]
        best_iou, owner = best_iou_all[members], owner_all[members]
        rank = _rank_in_image(preds.image[members], confidence)
        by_confidence = np.argsort(-confidence)
        aps = []
        for threshold in AP_IOU_THRESHOLDS:
            tp = _true_positives(owner, best_iou, rank, threshold)
            ap = _area_average_precision(tp, by_confidence, int(given_per_class[k]))
            aps.append(np.array([ap], dtype=np.float32))
        out[k] = np.mean(aps) * AP_SCALE_FACTOR
    return out


def true_positive_counts(
    labels: FlatBoxes, preds: FlatBoxes, pairs: Pairs, n_classes: int
) -> np.ndarray:
    """``(T, K)`` int64: at each IoU threshold of :data:`AP_IOU_THRESHOLDS` and for each class,
    the predicted boxes that are true positives under the matching above (cleanlab's
    ``_calculate_true_positives_false_positives`` summed over images). Each covers one given
    box, so false positives are the other predicted boxes and false negatives the other given
    boxes. ``pairs`` as in :func:`class_average_precision`."""
    assert preds.confidence is not None
    best_iou_all, owner_all = _best_given_box(labels, preds, pairs)
    out = np.zeros((len(AP_IOU_THRESHOLDS), n_classes), dtype=np.int64)
    for k in range(n_classes):
        members = np.flatnonzero(preds.classes == k)
        rank = _rank_in_image(preds.image[members], preds.confidence[members])
        for t, threshold in enumerate(AP_IOU_THRESHOLDS):
            tp = _true_positives(owner_all[members], best_iou_all[members], rank, threshold)
            out[t, k] = int(tp.sum())
    return out

"""Known truth on some images: gold boxes settle the candidates of their images in the EM.

A reviewer's boxes (or boxes marked ground truth) say which objects an image holds. Given them,
:func:`known_candidates` tells the object and class models (:mod:`.consensus`) what each
candidate on a gold image is: real when it pairs with a gold box (IoU at least ``min_iou``, one
to one, best overlaps first, class aside: a real object drawn with a wrong class is still
real), spurious otherwise, and of the paired gold box's class. The EM then holds those
candidates at their known value in every round, so the annotators' recall, spurious rate and
class accuracy are measured against the truth where it is known, and that reweights their
votes on every other image too. Gold objects that no candidate outlines add nothing here: they
are counted by the pipeline's per-annotator gold recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KnownBoxes", "known_candidates", "pair_best_first", "pairwise_iou"]


@dataclass(frozen=True, eq=False)
class KnownBoxes:
    """Gold of some of an audit's images.

    Attributes
    ----------
    images : ndarray of bool, shape (N,)
        Images whose objects are known (they may hold none).
    image : ndarray of int, shape (G,)
        Image of each gold box, in ``[0, N)``.
    boxes : ndarray of float, shape (G, 4)
        ``x1, y1, x2, y2``.
    labels : ndarray of int, shape (G,)
        Class of each gold box.
    """

    images: np.ndarray
    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray


def pair_best_first(overlap: np.ndarray, min_overlap: float) -> list[tuple[int, int]]:
    """Rows and columns of ``overlap`` (R, S) paired one to one, best overlaps first, down to
    ``min_overlap``."""
    used_r: set[int] = set()
    used_s: set[int] = set()
    pairs = []
    for flat in np.argsort(-overlap, axis=None, kind="stable").tolist():
        r, s = divmod(flat, overlap.shape[1])
        if overlap[r, s] < min_overlap:
            break
        if r not in used_r and s not in used_s:
            used_r.add(r)
            used_s.add(s)
            pairs.append((r, s))
    return pairs


def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(R, S) intersection over union of boxes ``a`` (R, 4) and ``b`` (S, 4)."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def known_candidates(
    known: KnownBoxes, image: np.ndarray, boxes: np.ndarray, min_iou: float
) -> tuple[np.ndarray, np.ndarray]:
    """What the gold says of candidates at ``image`` (C,) with ``boxes`` (C, 4).

    Returns
    -------
    real : ndarray of float, shape (C,)
        1 for a candidate paired with a gold box, 0 for another candidate on a gold image, NaN
        off gold images.
    label : ndarray of int64, shape (C,)
        The paired gold box's class, -1 elsewhere.
    """
    real = np.where(known.images[image], 0.0, np.nan)
    label = np.full(len(image), -1, dtype=np.int64)
    ours, gold = np.argsort(image, kind="stable"), np.argsort(known.image, kind="stable")
    on, at = image[ours], known.image[gold]  # sorted once: each image is a slice of them
    for g in np.flatnonzero(known.images).tolist():
        mine = ours[np.searchsorted(on, g) : np.searchsorted(on, g, "right")]
        theirs = gold[np.searchsorted(at, g) : np.searchsorted(at, g, "right")]
        if not len(mine) or not len(theirs):
            continue
        overlap = pairwise_iou(boxes[mine], known.boxes[theirs])
        for r, s in pair_best_first(overlap, min_iou):
            real[mine[r]] = 1.0
            label[mine[r]] = int(known.labels[theirs[s]])
    return real, label

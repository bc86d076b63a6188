"""Which boxes of different annotators (and of a detector) outline the same object.

Annotators' boxes are grouped per image by **greedy agglomeration by IoU**, not by the Hungarian
algorithm. Hungarian assignment is optimal for two sets of boxes, but with three or more
annotators the matching is a multi-dimensional assignment problem (NP-hard), and pairwise
Hungarian matchings need not agree with each other (a~b, b~c, but a!~c). Greedy merging by
decreasing IoU, as COCO evaluation and box fusion (WBF) do, gives consistent groups directly:

1. candidate pairs: boxes of two different annotators of the same image with IoU >= ``min_iou``,
   same-class pairs first, then by decreasing IoU;
2. two groups merge when they share no annotator (one box per annotator and object) and every
   pair of boxes across them reaches ``min_iou`` (complete linkage, so a chain of overlapping
   boxes in a crowd does not collapse into one object);
3. a box left alone is then attached to the overlapping group (possibly another lone box) that
   lacks its annotator and has the highest IoU with it, if at least ``loose_iou``: a badly
   placed box of that object, not a separate object; marked ``loose``.

For two annotators and separated objects this gives the Hungarian matching. Detector boxes are
then attached to the groups by IoU with the group's median box (the most confident one per
group); the other confident ones, after non-maximum suppression, are objects no annotator drew.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.detection._geometry import block_pairs, iou
from ls_cleanlab.detection.box_annotations import BoxAnnotations

__all__ = ["BoxClusters", "DetectorMatch", "cluster_medians", "match_annotators", "match_detector"]


@dataclass(frozen=True, eq=False)
class BoxClusters:
    """Annotators' boxes grouped into objects.

    Attributes
    ----------
    cluster : ndarray of int64, shape (B,)
        The object (cluster) of each annotation row.
    image : ndarray of int64, shape (C,)
        The image of each cluster; clusters are numbered image by image.
    loose : ndarray of bool, shape (B,)
        The box joined its cluster by the loose rule (IoU with the median below ``min_iou``).
    """

    cluster: np.ndarray
    image: np.ndarray
    loose: np.ndarray

    @property
    def n_clusters(self) -> int:
        return len(self.image)


@dataclass(frozen=True, eq=False)
class DetectorMatch:
    """Detector boxes matched to clusters, and detector boxes no annotator drew.

    Attributes
    ----------
    cluster_pred : ndarray of int64, shape (C,)
        Index of the detector box supporting each cluster (the most confident one with IoU
        >= ``min_iou`` with the cluster's median box), -1 for none.
    unmatched : ndarray of int64, shape (U,)
        Detector boxes overlapping no cluster that survive non-maximum suppression, image by
        image, most confident first.
    """

    cluster_pred: np.ndarray
    unmatched: np.ndarray


def _offsets(sorted_image: np.ndarray, n_images: int) -> np.ndarray:
    return np.searchsorted(sorted_image, np.arange(n_images + 1)).astype(np.int64)


def cluster_medians(boxes: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """(C, 4) coordinate-wise median of each cluster's boxes (NaN for an empty cluster)."""
    out = np.full((n_clusters, 4), np.nan)
    order = np.argsort(cluster, kind="stable")
    sizes = np.bincount(cluster, minlength=n_clusters)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    for size in np.unique(sizes[sizes > 0]):
        members = np.flatnonzero(sizes == size)
        rows = order[starts[members, None] + np.arange(size)]
        out[members] = np.median(boxes[rows], axis=1)
    return out


def _merge_greedily(
    pairs: list[tuple[int, int, float]], annotator: np.ndarray, size: int
) -> np.ndarray:
    """Union boxes along ``pairs`` (in priority order) under the two merge rules."""
    close = {(i, j) for i, j, _ in pairs} | {(j, i) for i, j, _ in pairs}
    parent = np.arange(size)
    members: dict[int, list[int]] = {i: [i] for i in range(size)}
    who: dict[int, set[int]] = {i: {int(annotator[i])} for i in range(size)}
    for i, j, _ in pairs:
        a, b = int(parent[i]), int(parent[j])
        if a == b or who[a] & who[b]:
            continue
        if any((u, v) not in close for u in members[a] for v in members[b]):
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[members[b]] = a
        members[a] += members.pop(b)
        who[a] |= who.pop(b)
    return parent


def _attach_loose(
    boxes: np.ndarray,
    image: np.ndarray,
    annotator: np.ndarray,
    parent: np.ndarray,
    n_images: int,
    loose_iou: float,
) -> np.ndarray:
    """Attach lone boxes to another group lacking their annotator; returns the loose mask."""
    roots, root_of, sizes = np.unique(parent, return_inverse=True, return_counts=True)
    lone = np.flatnonzero(sizes[root_of] == 1)
    loose = np.zeros(len(parent), dtype=bool)
    if not len(lone):
        return loose
    medians = cluster_medians(boxes, root_of, len(roots))
    group_image = image[roots]
    groups = np.argsort(group_image, kind="stable")
    rows, cols, _ = block_pairs(
        _offsets(image[lone], n_images), _offsets(group_image[groups], n_images)
    )
    overlap = iou(boxes[lone[rows]], medians[groups[cols]])
    keep = (overlap >= loose_iou) & (root_of[lone[rows]] != groups[cols])
    rows, cols, overlap = rows[keep], cols[keep], overlap[keep]
    taken = {(int(root_of[i]), int(annotator[i])) for i in range(len(parent))}
    members: dict[int, list[int]] = {}
    for i in range(len(parent)):
        members.setdefault(int(root_of[i]), []).append(i)
    fixed: set[int] = set()
    for k in np.lexsort((cols, rows, -overlap)):
        box, group = int(lone[rows[k]]), int(groups[cols[k]])
        if box in fixed or (group, int(annotator[box])) in taken:
            continue
        parent[box] = roots[group]
        taken.add((group, int(annotator[box])))
        fixed.add(box)
        fixed.update(members[group])  # a box others joined stays where it is
        loose[box] = True
    return loose


def match_annotators(
    annotations: BoxAnnotations, *, min_iou: float = 0.5, loose_iou: float = 0.25
) -> BoxClusters:
    """Group the annotators' boxes of each image into objects (see the module docstring).

    Parameters
    ----------
    annotations : BoxAnnotations
    min_iou : float in (0, 1]
        IoU at which two annotators' boxes outline the same object.
    loose_iou : float in (0, min_iou]
        IoU with a group's median box at which a lone box is taken as a badly placed box of
        that object.

    Returns
    -------
    BoxClusters
    """
    order = np.lexsort((annotations.annotator_index, annotations.image))
    boxes = annotations.boxes[order]
    image = annotations.image[order]
    annotator = annotations.annotator_index[order]
    labels = annotations.labels[order]
    offsets = _offsets(image, int(annotations.n_images or 0))
    rows, cols, _ = block_pairs(offsets, offsets)
    keep = (rows < cols) & (annotator[rows] != annotator[cols])
    rows, cols = rows[keep], cols[keep]
    overlap = iou(boxes[rows], boxes[cols])
    keep = overlap >= min_iou
    rows, cols, overlap = rows[keep], cols[keep], overlap[keep]
    same = labels[rows] == labels[cols]
    priority = np.lexsort((cols, rows, -overlap, ~same, image[rows]))
    pairs = [(int(rows[k]), int(cols[k]), float(overlap[k])) for k in priority]
    parent = _merge_greedily(pairs, annotator, len(boxes))
    loose = _attach_loose(boxes, image, annotator, parent, len(offsets) - 1, loose_iou)
    roots, first = np.unique(parent, return_index=True)
    by_image = np.lexsort((first, image[roots]))
    number = np.empty(len(roots), dtype=np.int64)
    number[by_image] = np.arange(len(roots))
    cluster_sorted = number[np.searchsorted(roots, parent)]
    cluster = np.empty(len(order), dtype=np.int64)
    cluster[order] = cluster_sorted
    loose_rows = np.empty(len(order), dtype=bool)
    loose_rows[order] = loose
    return BoxClusters(cluster=cluster, image=image[roots][by_image], loose=loose_rows)


def _suppress(boxes: np.ndarray, image: np.ndarray, min_iou: float) -> np.ndarray:
    """Greedy non-maximum suppression of boxes given most confident first, within images."""
    kept: list[int] = []
    kept_by_image: dict[int, list[int]] = {}
    for k in range(len(boxes)):
        others = kept_by_image.setdefault(int(image[k]), [])
        if (
            others
            and (iou(boxes[others], np.repeat(boxes[k : k + 1], len(others), 0)) >= min_iou).any()
        ):
            continue
        others.append(k)
        kept.append(k)
    return np.array(kept, dtype=np.int64)


def match_detector(
    medians: np.ndarray,
    cluster_image: np.ndarray,
    pred_boxes: np.ndarray,
    pred_image: np.ndarray,
    pred_confidence: np.ndarray,
    n_images: int,
    *,
    min_iou: float = 0.5,
    min_confidence: float = 0.05,
) -> DetectorMatch:
    """Attach detector boxes to clusters; keep the others that survive suppression.

    Parameters
    ----------
    medians : ndarray, shape (C, 4)
        Each cluster's median box; clusters ordered by image.
    cluster_image : ndarray of int, shape (C,)
    pred_boxes, pred_image, pred_confidence : ndarrays, shapes (M, 4), (M,), (M,)
        Detector boxes ordered by image.
    n_images : int
    min_iou : float
    min_confidence : float
        Detector boxes below this confidence are ignored.
    """
    usable = np.flatnonzero(pred_confidence >= min_confidence)
    rows, cols, _ = block_pairs(
        _offsets(cluster_image, n_images), _offsets(pred_image[usable], n_images)
    )
    overlap = iou(medians[rows], pred_boxes[usable[cols]])
    keep = overlap >= min_iou
    rows, cols, overlap = rows[keep], cols[keep], overlap[keep]
    cluster_pred = np.full(len(medians), -1, dtype=np.int64)
    best = np.lexsort((-overlap, -pred_confidence[usable[cols]], rows))
    first = np.ones(len(best), dtype=bool)
    first[1:] = rows[best][1:] != rows[best][:-1]
    cluster_pred[rows[best][first]] = usable[cols[best][first]]
    absorbed = np.zeros(len(pred_boxes), dtype=bool)
    absorbed[usable[cols]] = True
    rest = usable[~absorbed[usable]]
    rest = rest[np.lexsort((rest, -pred_confidence[rest], pred_image[rest]))]
    kept = _suppress(pred_boxes[rest], pred_image[rest], min_iou)
    return DetectorMatch(cluster_pred=cluster_pred, unmatched=rest[kept])

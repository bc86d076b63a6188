"""How precisely each annotator places box edges, and the consensus box of each object.

Model: annotator ``a``'s box edge is the object's true edge plus noise of variance
``s_a * side^2`` (``side`` the object's width for x edges, height for y edges), independent
across annotators. For two annotators' boxes of the same object, the mean squared relative edge
difference then has expectation ``s_a + s_b``; the variances are the least-squares solution over
all such pairs (Grubbs' estimator, the "three-cornered hat" of clock comparisons: identifiable
from three or more annotators; with two, the sum is split evenly).

The consensus box of an object is the mean of its boxes weighted by ``1 / s_a``, the
minimum-variance combination, so a sloppy annotator's box barely moves it. Boxes matched only
loosely (see :mod:`.matching`) are left out of the variance estimate.

Reference: F. E. Grubbs, "On estimating precision of measuring instruments and product
variability", JASA 43(242), 1948.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.detection._geometry import block_pairs
from ls_cleanlab.detection.matching import cluster_medians

__all__ = ["box_noise", "weighted_boxes"]

_FLOOR = 1e-6  # smallest relative variance, so weights stay finite


def _member_pairs(cluster: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (u < v) of rows in the same cluster."""
    order = np.argsort(cluster, kind="stable")
    offsets = np.searchsorted(cluster[order], np.arange(n_clusters + 1))
    rows, cols, _ = block_pairs(offsets, offsets)
    keep = rows < cols
    return order[rows[keep]], order[cols[keep]]


def box_noise(
    boxes: np.ndarray,
    cluster: np.ndarray,
    annotator: np.ndarray,
    n_clusters: int,
    n_annotators: int,
    *,
    use: np.ndarray,
) -> np.ndarray:
    """(A,) relative edge variance ``s_a`` of each annotator; NaN where never paired.

    Parameters
    ----------
    boxes : ndarray, shape (B, 4)
    cluster, annotator : ndarray of int, shape (B,)
    n_clusters, n_annotators : int
    use : ndarray of bool, shape (B,)
        Rows to use (the loosely matched ones excluded).
    """
    rows = np.flatnonzero(use)
    u, v = _member_pairs(cluster[rows], n_clusters)
    u, v = rows[u], rows[v]
    median = cluster_medians(boxes[rows], cluster[rows], n_clusters)
    side = np.tile(np.maximum(median[:, 2:] - median[:, :2], 1e-9), 2)[cluster[u]]
    squared = (((boxes[u] - boxes[v]) / side) ** 2).mean(axis=1)
    normal = np.zeros((n_annotators, n_annotators))
    np.add.at(normal, (annotator[u], annotator[u]), 1.0)
    np.add.at(normal, (annotator[v], annotator[v]), 1.0)
    np.add.at(normal, (annotator[u], annotator[v]), 1.0)
    np.add.at(normal, (annotator[v], annotator[u]), 1.0)
    target = np.bincount(annotator[u], squared, n_annotators) + np.bincount(
        annotator[v], squared, n_annotators
    )
    paired = np.diag(normal) > 0
    out = np.full(n_annotators, np.nan)
    if paired.any():
        solution = np.linalg.lstsq(normal[np.ix_(paired, paired)], target[paired], rcond=None)[0]
        out[paired] = np.maximum(solution, _FLOOR)
    return out


def weighted_boxes(
    boxes: np.ndarray,
    cluster: np.ndarray,
    annotator: np.ndarray,
    n_clusters: int,
    noise: np.ndarray,
) -> np.ndarray:
    """(C, 4) mean of each cluster's boxes weighted by ``1 / s_a``.

    Annotators without a variance estimate get the median of the others' (1 when there is
    none). Loosely matched boxes count too: when two lone boxes were paired loosely, the one
    marked loose may well be the precise one, and the weights sort that out.
    """
    known = noise[~np.isnan(noise)]
    fill = float(np.median(known)) if len(known) else 1.0
    weight = 1 / np.where(np.isnan(noise), fill, noise)[annotator]
    total = np.bincount(cluster, weight, n_clusters)
    out = np.stack(
        [np.bincount(cluster, weight * boxes[:, j], n_clusters) for j in range(4)], axis=1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / total[:, None]

"""Box geometry over all images at once: the pairs of boxes that share an image, their IoU and
ObjectLab's similarity.

Pairs are enumerated image by image (row box major), so the pairs of one image form the
row-major flattening of its ``(L, M)`` matrix, the layout cleanlab's per-image matrices have.
Every formula is written as cleanlab 2.9.0 evaluates it, operation for operation, so the results
are the same floats:

* IoU (``_get_iou``): the intersection of boxes that do not overlap, or only touch along an
  edge, is 0; otherwise ``inter / max(area_a + area_b - inter, 1e-6)``.
* closeness (``_euc_dis``): ``exp(-0.1 * ||c_a - c_b||)`` of the box centres, where the norm is
  ``sqrt(dot(d, d))`` through BLAS's ``ddot``, as ``np.linalg.norm`` computes it (a plain
  ``dx*dx + dy*dy`` differs in the last bit for about 8 % of pairs: BLAS fuses the multiply-add).
* similarity: ``alpha * IoU + (1 - alpha) * (1 - (1 - closeness))``; the double complement is
  cleanlab's (it stores ``1 - closeness`` as a "distance") and changes the last bit.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.detection._constants import EPSILON, EUC_FACTOR

__all__ = ["block_pairs", "closeness", "iou", "segment_any", "segment_max", "similarity"]


def block_pairs(
    row_offsets: np.ndarray, col_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (row box, column box) pair of the same image.

    Parameters
    ----------
    row_offsets, col_offsets : ndarray of int, shape (N + 1,)
        Where each image's boxes start in the two flat box arrays.

    Returns
    -------
    rows, cols : ndarray of int64, shape (P,)
        Global indices of the two boxes of each pair; image by image, and within an image the
        row-major order of its ``(L_i, M_i)`` matrix.
    pair_offsets : ndarray of int64, shape (N + 1,)
        Image ``i`` holds pairs ``pair_offsets[i]:pair_offsets[i + 1]``.
    """
    n_rows = np.diff(row_offsets)
    n_cols = np.diff(col_offsets)
    sizes = n_rows * n_cols
    pair_offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=pair_offsets[1:])
    total = int(pair_offsets[-1])
    image = np.repeat(np.arange(len(sizes)), sizes)
    local = np.arange(total, dtype=np.int64) - pair_offsets[image]
    width = n_cols[image]
    rows = row_offsets[image] + local // np.maximum(width, 1)
    cols = col_offsets[image] + local % np.maximum(width, 1)
    return rows.astype(np.int64), cols.astype(np.int64), pair_offsets


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``a[p]`` and ``b[p]``, shape (P, 4) each -> (P,)."""
    x_left = np.maximum(a[:, 0], b[:, 0])
    y_top = np.maximum(a[:, 1], b[:, 1])
    x_right = np.minimum(a[:, 2], b[:, 2])
    y_bottom = np.minimum(a[:, 3], b[:, 3])
    apart = (x_right < x_left) | (y_bottom < y_top)
    inter = (x_right - x_left) * (y_bottom - y_top)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    out = inter / np.maximum(area_a + area_b - inter, EPSILON)
    out[apart] = 0.0
    return out


def closeness(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``exp(-0.1 * distance between the centres)`` of boxes ``a[p]`` and ``b[p]`` -> (P,)."""
    delta = np.empty((len(a), 2), dtype=np.float64)
    delta[:, 0] = (a[:, 0] + a[:, 2]) / 2 - (b[:, 0] + b[:, 2]) / 2
    delta[:, 1] = (a[:, 1] + a[:, 3]) / 2 - (b[:, 1] + b[:, 3]) / 2
    # (P, 1, 2) @ (P, 2, 1) runs BLAS ddot on each pair, like np.linalg.norm on one vector.
    squared = np.matmul(delta[:, None, :], delta[:, :, None])[:, 0, 0]
    return np.exp(-np.sqrt(squared) * EUC_FACTOR)


def similarity(overlap: np.ndarray, near: np.ndarray, alpha: float) -> np.ndarray:
    """ObjectLab's box similarity from IoU and closeness, evaluated as cleanlab does."""
    distance = 1 - near
    return overlap * alpha + (1 - alpha) * (1 - distance)


def segment_max(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``out[j] = max(values[index == j])``, or ``-inf`` where ``index`` never equals ``j``."""
    out = np.full(size, -np.inf, dtype=np.float64)
    if len(index):
        np.maximum.at(out, index, values)
    return out


def segment_any(index: np.ndarray, size: int) -> np.ndarray:
    """``out[j] = (j in index)``, shape (size,)."""
    out = np.zeros(size, dtype=bool)
    out[index] = True
    return out

"""Count-matrix algebra of confident learning, for one ``(K, K)`` matrix or a stack of them.

Multi-label data is K binary problems, so its confident joint is a ``(K, 2, 2)`` stack; a
single-label confident joint is one ``(K, K)`` matrix. Every function here takes either and works
on the last two axes, so the K binary problems are computed together. Axis conventions follow
cleanlab: a confident joint is indexed ``[given label, true label]``; a prune-count matrix is its
transpose, ``[true label, given label]``.

On a plain ``(K, K)`` matrix the expressions are the same numpy operations cleanlab performs, so
results agree to the bit; on ``(K, 2, 2)`` stacks every reduction adds two numbers, which is exact
in any order, except the calibration total, whose order is made explicit.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.confident._numeric import round_preserving_row_totals

TINY_VALUE = 1e-100


def diagonal(matrix: np.ndarray) -> np.ndarray:
    return np.diagonal(matrix, axis1=-2, axis2=-1)


def as_row(vector: np.ndarray) -> np.ndarray:
    """Broadcast per-column values over rows; a (K,) vector is left as is (cleanlab's form)."""
    return vector if vector.ndim == 1 else vector[..., None, :]


def set_diagonal(matrix: np.ndarray, values: np.ndarray | float) -> None:
    idx = np.arange(matrix.shape[-1])
    matrix[..., idx, idx] = values


def _total(matrix: np.ndarray, *, column_major: bool) -> np.ndarray:
    """Sum of each 2x2 matrix in a stack, in the order ``np.sum`` uses for that layout."""
    a = matrix[..., 0, 0]
    if column_major:
        return ((a + matrix[..., 1, 0]) + matrix[..., 0, 1]) + matrix[..., 1, 1]
    return ((a + matrix[..., 0, 1]) + matrix[..., 1, 0]) + matrix[..., 1, 1]


def calibrate(
    confident_joint: np.ndarray, label_counts: np.ndarray, *, column_major: bool = False
) -> np.ndarray:
    """Rescale a confident joint so each row sums to its given-label count, then round.

    Row ``i`` is scaled to ``label_counts[i]``, the whole matrix to ``sum(label_counts)``, and the
    result rounded with :func:`round_preserving_row_totals` (Northcutt et al. 2021, eq. 2).

    Parameters
    ----------
    confident_joint : ndarray of shape (K, K) or (B, 2, 2)
    label_counts : ndarray of shape (K,) or (B, 2)
        Number of examples given each label.
    column_major : bool
        For stacks only: add the four entries column by column, as ``np.sum`` does on the
        Fortran-ordered matrices cleanlab builds internally (row by row otherwise).
    """
    cj = confident_joint
    row_sums = np.clip(cj.sum(axis=-1), a_min=TINY_VALUE, a_max=None)
    if cj.ndim == 2:
        scaled = (cj.T / row_sums * label_counts).T
        scaled = (
            scaled / np.clip(np.sum(scaled), a_min=TINY_VALUE, a_max=None) * int(label_counts.sum())
        )
    else:
        scaled = cj / row_sums[..., :, None] * label_counts[..., :, None]
        total = _total(scaled, column_major=column_major)
        n = label_counts.sum(axis=-1)
        scaled = scaled / np.clip(total, a_min=TINY_VALUE, a_max=None)[..., None, None]
        scaled = scaled * n[..., None, None]
    return round_preserving_row_totals(scaled)


def prune_counts(
    confident_joint: np.ndarray,
    label_counts: np.ndarray,
    *,
    min_examples_per_class: int,
    frac_noise: float,
    num_to_remove_per_class: np.ndarray | None,
) -> np.ndarray:
    """How many examples to prune per (true, given) pair: cleanlab's prune-count matrix.

    The diagonal (examples kept) is raised to at least ``min_examples_per_class`` by taking
    evenly from the off-diagonal counts of the same column; off-diagonal counts are scaled by
    ``frac_noise`` with the difference moved to the diagonal; and, if
    ``num_to_remove_per_class`` is given, the off-diagonals of each row are redistributed to
    remove exactly that many.

    Returns
    -------
    ndarray of int64, shape (K, K) or (B, 2, 2), indexed ``[true label, given label]``.
    """
    pcm = np.swapaxes(confident_joint, -1, -2)
    diag = diagonal(pcm)
    new_diag = np.maximum(diag, min_examples_per_class)
    per_col = new_diag - diag
    rates_per_col = np.maximum(np.count_nonzero(pcm, axis=-2) - 1.0, 1.0)
    new = pcm - as_row(per_col / rates_per_col)
    new[new < 0] = 0
    set_diagonal(new, new_diag)
    # frac_noise: shrink off-diagonals, keep column totals by growing the diagonal.
    shrunk = new * frac_noise
    set_diagonal(shrunk, diagonal(new))
    set_diagonal(shrunk, diagonal(new) + np.sum(new - shrunk, axis=-2))
    with np.errstate(invalid="ignore"):
        pcm = round_preserving_row_totals(shrunk.astype(np.int64)).astype(np.int64)
    if num_to_remove_per_class is None:
        return pcm
    with np.errstate(divide="ignore", invalid="ignore"):
        psy = pcm / as_row(np.sum(pcm, axis=-1))
        noise_per_row = psy.sum(axis=-1) - diagonal(psy)
        ntr = num_to_remove_per_class
        tmp = np.swapaxes(np.swapaxes(psy, -1, -2) * as_row(ntr) / as_row(noise_per_row), -1, -2)
        set_diagonal(tmp, label_counts - ntr)
        return round_preserving_row_totals(tmp)

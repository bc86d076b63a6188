"""Work over many rows a block at a time, with sums added in the order one pass would add them.

Private helper of :mod:`ls_cleanlab.annotators` and :mod:`ls_cleanlab.audit`. An audit's
per-row work (over tasks x classes, or annotations x classes: 400 MB and 1 GB of float64 at a
million tasks of 50 classes) is done in blocks of at most :data:`BLOCK_CELLS` cells, written
into one preallocated output, so no full-size temporary exists. Sums across rows are where
blocking could change results: numpy adds a column (``sum(axis=0)``) or a ``bincount`` bin
sequentially in row order, so the helpers here carry the running total from block to block
and add the next block's rows after it, the same additions in the same order: the result is the
one pass's, to the bit, whatever the block size (the tests run the audit with blocks of a few
rows and compare). Blocks depend on the data's shape only, never on where the work runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

__all__ = ["BLOCK_CELLS", "column_sums", "keyed_sums", "row_blocks"]

#: Cells (rows x columns) per block: 2 M cells, 16 MB of float64 for each temporary.
BLOCK_CELLS = 1 << 21


def row_blocks(n_rows: int, width: int) -> Iterator[slice]:
    """Consecutive slices of ``n_rows`` rows of ``width`` cells, at most :data:`BLOCK_CELLS`
    cells each (at least one row)."""
    step = max(1, BLOCK_CELLS // max(int(width), 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def column_sums(take: Callable[[slice], np.ndarray], n_rows: int, width: int) -> np.ndarray:
    """``(width,)`` sums over rows of the blocks ``take(rows)`` ``(r, width)``, equal to the
    bit to ``sum(axis=0)`` of all rows stacked (each column added in row order)."""
    total: np.ndarray | None = None
    for rows in row_blocks(n_rows, width):
        block = np.asarray(take(rows), dtype=np.float64)
        total = block.sum(axis=0) if total is None else np.vstack((total, block)).sum(axis=0)
    return np.zeros(width) if total is None else total


def keyed_sums(
    take: Callable[[slice], np.ndarray], key: np.ndarray, n_groups: int, width: int
) -> np.ndarray:
    """``(n_groups, width)`` float sums of the rows ``take(rows)`` ``(r, width)`` of each
    ``key`` in ``[0, n_groups)``, equal to the bit to one ``bincount`` over all the rows (each
    group's rows added in row order: ``np.add.at`` adds in index order as ``bincount`` does)."""
    out = np.zeros(n_groups * width)
    columns = np.arange(width)
    for rows in row_blocks(len(key), width):
        values = np.asarray(take(rows), dtype=np.float64)
        flat = (key[rows][:, None] * width + columns).ravel()
        np.add.at(out, flat, values.ravel())
    return out.reshape(n_groups, width)

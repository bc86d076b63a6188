"""A 2-D array in an ``.npy`` file, read and written in row chunks through a memory map.

Why a memory-mapped ``.npy`` (and not zarr or parquet): the features are a dense float32 matrix
read by row selections (a fold's training rows, a chunk of unlabelled tasks). numpy maps such a
file with no extra dependency and no decoding: a row selection is one copy from the page cache,
the operating system keeps hot pages and drops cold ones, and every process on the machine (or on
a shared filesystem) reads the same bytes. zarr would add compression, which dense embeddings
hardly reward, and object stores, which the rest of the audit (SQLite cache, data dir) does not
use; parquet is columnar, the wrong layout for reading whole rows of 128-2,500 numbers.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ls_cleanlab.errors import EngineError, InvalidOptionError

__all__ = ["CHUNK_BYTES", "DiskArray", "column_moments", "scratch_dir"]

#: Bytes per chunk of rows (the rows per chunk follow from the width, so they never depend on
#: the machine, and sums over chunks are reproducible).
CHUNK_BYTES = 32 * 2**20


@dataclass(frozen=True, eq=False)
class DiskArray:
    """Rows of a 2-D array stored in the ``.npy`` file ``path``.

    Attributes
    ----------
    path : str
    stored : tuple of int
        Shape of the whole array in the file, ``(N, D)``.
    dtype : str
    rows : np.ndarray of int64, optional
        A view: these rows of the file, in this order (None: all of them).
    """

    path: str
    stored: tuple[int, int]
    dtype: str
    rows: np.ndarray | None = None

    # -- making ------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, shape: tuple[int, int], dtype: Any = np.float32) -> DiskArray:
        """A new array of zeros at ``path`` (a sparse file: nothing is written yet)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        n, d = (int(shape[0]), int(shape[1]))
        made = np.lib.format.open_memmap(path, mode="w+", dtype=np.dtype(dtype), shape=(n, d))
        del made
        return cls(str(path), (n, d), np.dtype(dtype).str)

    @classmethod
    def save(cls, path: str | Path, values: np.ndarray) -> DiskArray:
        """Write ``values`` (2-D, or 1-D stored as one column) to ``path`` in chunks."""
        values = np.asarray(values)
        matrix = values.reshape(len(values), -1) if values.ndim != 2 else values
        out = cls.create(path, (matrix.shape[0], matrix.shape[1]), matrix.dtype)
        for start, stop in out.chunks():
            out.write(start, matrix[start:stop])
        return out

    @classmethod
    def open(cls, path: str | Path) -> DiskArray:
        """An array written before (by :meth:`create` or :meth:`save`)."""
        mapped = _map(str(path), "r")
        if mapped.ndim != 2:
            raise InvalidOptionError(f"{path} holds a {mapped.ndim}-D array, not a matrix.")
        return cls(str(path), (int(mapped.shape[0]), int(mapped.shape[1])), mapped.dtype.str)

    # -- shape -------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        n = self.stored[0] if self.rows is None else len(self.rows)
        return (n, self.stored[1])

    @property
    def ndim(self) -> int:
        return 2

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        view = "" if self.rows is None else f", {len(self.rows)} rows selected"
        return f"DiskArray({self.path!r}, {self.stored}, {np.dtype(self.dtype).name}{view})"

    @property
    def chunk_rows(self) -> int:
        """Rows per chunk: :data:`CHUNK_BYTES` of them, at least one."""
        width = max(1, self.stored[1]) * np.dtype(self.dtype).itemsize
        return max(1, CHUNK_BYTES // width)

    def chunks(self, size: int | None = None) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` of each chunk of this array's rows (positions in the view)."""
        step = size or self.chunk_rows
        for start in range(0, len(self), step):
            yield start, min(start + step, len(self))

    # -- reading -----------------------------------------------------------------------------

    def memmap(self, mode: Literal["r", "r+"] = "r") -> np.memmap:
        """The whole stored array, memory-mapped (rows not selected)."""
        return _map(self.path, mode)

    def select(self, index: Any) -> DiskArray:
        """A view of the rows at ``index`` (positions, a slice or a boolean mask of this view)."""
        positions = np.arange(len(self))[index] if not _is_positions(index) else np.asarray(index)
        base = positions if self.rows is None else self.rows[positions]
        return DiskArray(self.path, self.stored, self.dtype, np.asarray(base, dtype=np.int64))

    def take(self, index: Any = None, dtype: Any = None) -> np.ndarray:
        """The rows at ``index`` of this view (all by default), read into memory."""
        mapped = self.memmap()
        if index is None and self.rows is None:
            chosen: Any = slice(None)
        elif index is None:
            chosen = self.rows
        else:
            positions = index if _is_positions(index) else np.arange(len(self))[index]
            positions = np.asarray(positions, dtype=np.int64)
            chosen = positions if self.rows is None else self.rows[positions]
        out = np.asarray(mapped[chosen])
        if dtype is not None and out.dtype != np.dtype(dtype):
            return out.astype(dtype)
        return out.copy() if isinstance(chosen, slice) else out

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, tuple):
            raise IndexError("a DiskArray selects rows only; take() the rows, then index columns.")
        if isinstance(index, (int, np.integer)):
            return self.take(np.array([int(index)]))[0]
        return self.take(index)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.take(dtype=dtype)

    # -- writing -----------------------------------------------------------------------------

    def write(self, start: int, values: np.ndarray) -> None:
        """Write ``values`` at rows ``start:start + len(values)`` of the stored array."""
        if self.rows is not None:
            raise InvalidOptionError("write to the stored array, not to a view of some rows.")
        mapped = self.memmap("r+")
        mapped[start : start + len(values)] = values
        mapped.flush()

    def scatter(self, positions: np.ndarray, values: np.ndarray) -> None:
        """Write ``values[i]`` at stored row ``positions[i]``."""
        mapped = self.memmap("r+")
        mapped[np.asarray(positions, dtype=np.int64)] = values
        mapped.flush()


def _is_positions(index: Any) -> bool:
    if isinstance(index, slice):
        return False
    arr = np.asarray(index)
    return arr.dtype.kind in "iu"


def _map(path: str, mode: Literal["r", "r+"]) -> np.memmap:
    try:
        mapped = np.load(path, mmap_mode=mode)
    except FileNotFoundError as error:
        raise EngineError(
            f"the array file {path} is not readable here ({error.strerror}); when a Dask "
            "cluster runs the audit, put the data dir (--data-dir, LS_CLEANLAB_DATA_DIR) on "
            "storage every worker mounts at the same path."
        ) from error
    return mapped


def column_moments(
    array: DiskArray | np.ndarray, ok: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-column mean and standard deviation over the rows in ``ok`` (all by default), in
    float64, and the number of rows: exactly ``rows.mean(axis=0)`` and ``rows.std(axis=0)`` of
    the selected rows cast to float64, computed one chunk at a time.

    numpy reduces a C-ordered matrix along axis 0 one row after another, so carrying the running
    sum from chunk to chunk (as the first row of the next reduction) adds in the same order.
    A single column is contiguous, which numpy sums pairwise instead: it is read whole (8 bytes
    a row) and reduced by numpy itself.
    """
    source = array if isinstance(array, DiskArray) else None
    n, d = array.shape
    if d == 1:
        column = np.asarray(source.take() if source is not None else array, dtype=np.float64)
        picked = column if ok is None else column[ok]
        if not len(picked):
            return np.zeros(1), np.zeros(1), 0
        return picked.mean(axis=0), picked.std(axis=0), len(picked)
    step = source.chunk_rows if source is not None else max(1, CHUNK_BYTES // max(1, 4 * d))

    def blocks() -> Iterator[np.ndarray]:
        for start in range(0, n, step):
            stop = min(start + step, n)
            rows = source.take(slice(start, stop)) if source is not None else array[start:stop]
            if ok is not None:
                rows = rows[ok[start:stop]]
            if len(rows):
                yield np.asarray(rows, dtype=np.float64)

    total: np.ndarray | None = None
    count = 0
    for rows in blocks():
        total = rows.sum(axis=0) if total is None else np.add.reduce(np.vstack([total, rows]))
        count += len(rows)
    if total is None:
        return np.zeros(d), np.zeros(d), 0
    mean = total / count
    spread = np.zeros(d)
    for first, rows in enumerate(blocks()):
        centred = rows - mean
        squares = np.multiply(centred, centred)
        spread = squares.sum(axis=0) if first == 0 else np.add.reduce(np.vstack([spread, squares]))
    return mean, np.sqrt(spread / count), count


@contextmanager
def scratch_dir(parent: str | Path | None = None) -> Iterator[Path]:
    """A fresh directory for one run's arrays (under ``parent``, else the system's temporary
    directory), removed with everything in it when the block ends."""
    if parent is not None:
        base = Path(parent)
        base.mkdir(parents=True, exist_ok=True)
        path = base / f"run-{uuid.uuid4().hex[:12]}"
        path.mkdir()
    else:
        path = Path(tempfile.mkdtemp(prefix="ls-cleanlab-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

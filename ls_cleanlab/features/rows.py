"""Feature rows collected as they are computed, into memory or onto disk."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.ondisk import DiskArray

__all__ = ["RowSink"]


class RowSink:
    """An ``(n, D)`` float32 matrix filled one vector at a time; ``D`` is the first vector's
    length. With ``store_dir`` the matrix is a :class:`~ls_cleanlab.ondisk.DiskArray` written in
    chunks; otherwise an array in memory.

    Parameters
    ----------
    n : int
        Rows.
    store_dir : str or Path, optional
    name : str
        Names the source in errors (an embedder's name).
    """

    def __init__(self, n: int, store_dir: str | Path | None, *, name: str) -> None:
        self.n = n
        self.store_dir = Path(store_dir) if store_dir is not None else None
        self.name = name
        self.ok = np.zeros(n, dtype=bool)
        self._matrix: Any = None
        self._sizes: set[int] = set()
        self._rows: list[int] = []
        self._values: list[np.ndarray] = []

    def put(self, rows: list[int] | np.ndarray, vector: np.ndarray) -> None:
        """Set the rows ``rows`` (positions) to ``vector``."""
        vector = np.asarray(vector, dtype=np.float32).ravel()
        if self._matrix is None:
            shape = (self.n, len(vector))
            if self.store_dir is not None and len(vector):
                path = self.store_dir / f"{_safe(self.name)}-{uuid.uuid4().hex}.npy"
                self._matrix = DiskArray.create(path, shape)
            else:
                self._matrix = np.zeros(shape, dtype=np.float32)
        self._sizes.add(len(vector))
        if len(self._sizes) > 1:
            raise InvalidOptionError(
                f"the embedder {self.name!r} returned vectors of sizes {sorted(self._sizes)}"
            )
        if isinstance(self._matrix, DiskArray):
            for row in rows:
                self._rows.append(int(row))
                self._values.append(vector)
            if len(self._rows) >= self._matrix.chunk_rows:
                self._flush()
        else:
            self._matrix[rows] = vector
        self.ok[rows] = True

    def _flush(self) -> None:
        if self._rows:
            self._matrix.scatter(np.asarray(self._rows), np.stack(self._values))
            self._rows, self._values = [], []

    def finish(self) -> tuple[Any, np.ndarray]:
        """The matrix (zeros ``(n, 0)`` when no vector came) and the rows that were set."""
        if isinstance(self._matrix, DiskArray):
            self._flush()
        matrix = self._matrix if self._matrix is not None else np.zeros((self.n, 0), np.float32)
        return matrix, self.ok


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)[:60]

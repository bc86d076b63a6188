"""Embeddings files read in chunks: an ``.npz`` (``task_ids`` and ``embeddings``, compressed or
not) or an ``.npy`` whose rows follow the tasks, never loaded whole.

An ``.npy`` is memory-mapped; an ``.npz`` member is streamed: its header is parsed and its rows
are read in order, a chunk at a time, so a million 512-wide embeddings cost one chunk of memory.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError

__all__ = ["EmbeddingsFile", "align_ids", "open_embeddings"]


class EmbeddingsFile:
    """An open embeddings file: its ``task_ids`` (None for an ``.npy``), ``shape`` and
    ``dtype``, and :meth:`blocks` of rows in file order."""

    def __init__(
        self, path: Path, task_ids: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype,
        reader: Any,
    ) -> None:  # fmt: skip
        self.path = path
        self.task_ids = task_ids
        self.shape = shape
        self.dtype = dtype
        self._reader = reader

    def blocks(self, rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, block)`` with ``rows`` rows each (the last may be shorter), in order."""
        yield from self._reader(rows)


def _check_matrix(path: Path, shape: tuple[int, ...], fortran: bool, what: str) -> None:
    if len(shape) != 2:
        raise InvalidOptionError(f"{path}: {what} must be 2-D (tasks, dimensions), got {shape}.")
    if fortran and shape[0] > 1 and shape[1] > 1:
        raise InvalidOptionError(
            f"{path}: {what} is stored column-major (Fortran order) and cannot be read by rows; "
            "save it with np.savez(..., embeddings=np.ascontiguousarray(x))."
        )


def _member_header(handle: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(handle)
    return np.lib.format.read_array_header_2_0(handle)


@contextmanager
def open_embeddings(path: str | Path) -> Iterator[EmbeddingsFile]:
    """Open ``path`` (``.npy`` or ``.npz``) for reading in blocks.

    Raises
    ------
    InvalidOptionError
        When the file is missing, of another kind, or lacks ``task_ids`` and ``embeddings``.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidOptionError(f"no embeddings file at {path}.")
    if path.suffix == ".npy":
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        _check_matrix(path, mapped.shape, False, "the array")

        def npy_blocks(rows: int) -> Iterator[tuple[int, np.ndarray]]:
            for start in range(0, len(mapped), rows):
                yield start, np.asarray(mapped[start : start + rows])

        yield EmbeddingsFile(path, None, mapped.shape, mapped.dtype, npy_blocks)
        return
    if path.suffix != ".npz":
        raise InvalidOptionError(f"embeddings must be an .npy or .npz file, got {path.name}.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidOptionError(f"{path} is not a readable .npz file: {error}") from error
    with archive:
        names = set(archive.namelist())
        if not {"task_ids.npy", "embeddings.npy"} <= names:
            found = sorted(n.removesuffix(".npy") for n in names)
            raise InvalidOptionError(
                f"{path} must hold arrays 'task_ids' and 'embeddings'; it has {found}."
            )
        with archive.open("task_ids.npy") as handle:
            task_ids = np.lib.format.read_array(handle, allow_pickle=False)
        with archive.open("embeddings.npy") as handle:
            shape, fortran, dtype = _member_header(handle)
        _check_matrix(path, shape, fortran, "embeddings")
        if task_ids.ndim != 1 or len(task_ids) != shape[0]:
            raise InvalidOptionError(
                f"{path}: embeddings {shape} must be 2-D with one row per task id "
                f"({len(task_ids)})."
            )

        def npz_blocks(rows: int) -> Iterator[tuple[int, np.ndarray]]:
            width = int(shape[1]) * dtype.itemsize
            with archive.open("embeddings.npy") as member:
                _member_header(member)
                for start in range(0, int(shape[0]), rows):
                    count = min(rows, int(shape[0]) - start)
                    data = member.read(count * width)
                    if len(data) != count * width:
                        raise InvalidOptionError(f"{path}: the embeddings array is truncated.")
                    yield start, np.frombuffer(data, dtype=dtype).reshape(count, int(shape[1]))

        yield EmbeddingsFile(path, task_ids.astype(np.int64), shape, dtype, npz_blocks)


def align_ids(file_ids: np.ndarray, task_ids: np.ndarray) -> np.ndarray:
    """For each of ``task_ids``, the row of ``file_ids`` holding it (the last one when an id
    repeats), or -1."""
    order = np.argsort(file_ids, kind="stable")
    ordered = file_ids[order]
    at = np.searchsorted(ordered, task_ids, side="right") - 1
    found = (at >= 0) & (ordered[np.maximum(at, 0)] == task_ids) if len(ordered) else at >= 0
    return (
        np.where(found, order[np.maximum(at, 0)], -1)
        if len(ordered)
        else np.full(len(task_ids), -1, dtype=np.int64)
    )

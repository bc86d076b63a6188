"""Cross-validation folds kept on disk, so an interrupted audit resumes instead of starting over.

An audit's stages each leave something a rerun reuses: the fetch a task snapshot (the next
fetch is incremental), the features the feature cache (nothing is downloaded or described
twice), the push replaces its model version whole. The model stage keeps nothing by itself: its
folds are minutes of fitting on large projects. :class:`FoldCheckpoints` is an executor
(``concurrent.futures.Executor``, the seam every stage already takes) that stores the result of
each fold it runs under a digest of the fold's inputs (features, targets, rows, options), and
answers a fold it has seen from disk. A rerun after a crash or a restart therefore refits only
the folds that had not finished; with other inputs (new annotations, other options) the
digests differ and nothing stale is reused. Every other piece of work is handed to the wrapped
executor (default: a thread pool of 8, the size the feature stage uses by itself).

The box detector's folds are not ``fit_fold`` calls; its pipeline keeps them through
:meth:`FoldCheckpoints.load_arrays` and :meth:`FoldCheckpoints.save_arrays` (arrays under a
digest of what the fold is made of, see :mod:`.box_detector`).

Files are written atomically (a fold's file is whole or absent); :meth:`FoldCheckpoints.clear`
removes them once the audit they belong to has finished.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.model.cross_val import Targets, fit_fold
from ls_cleanlab.ondisk import DiskArray
from ls_cleanlab.pipeline.workspace import write_atomic

__all__ = ["FoldCheckpoints"]

logger = logging.getLogger("ls_cleanlab")

#: Changes when the meaning of a stored fold changes (the digest covers the inputs).
FORMAT = b"ls-cleanlab fold v1"


class FoldCheckpoints(Executor):
    """An executor that keeps each cross-validation fold's result in ``directory``.

    Parameters
    ----------
    directory : path
        Where fold results live (the workspace's ``folds(project)``); created on first write.
    inner : Executor, optional
        Where work runs; default folds one after another in the calling thread (as without an
        executor) and other work on a pool of ``workers`` threads, shut down by
        :meth:`shutdown`.
    workers : int
        Threads of the default pool.

    Attributes
    ----------
    reused, computed : int
        Folds answered from disk, and folds fitted (and stored) here.
    """

    def __init__(self, directory: str | Path, inner: Executor | None = None, workers: int = 8):
        self.directory = Path(directory)
        self.inner = inner
        self.workers = workers
        self.reused = 0
        self.computed = 0
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _runner(self) -> Executor:
        if self.inner is not None:
            return self.inner
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ls-cleanlab")
            return self._pool

    # -- Executor -------------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._runner().submit(fn, *args, **kwargs)

    def map(
        self,
        fn: Callable[..., Any],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[Any]:
        if fn is not fit_fold:
            return self._runner().map(fn, *iterables, timeout=timeout, chunksize=chunksize)
        jobs = list(zip(*iterables, strict=True))
        digests: dict[int, str] = {}  # id of an argument -> its digest (X is shared by all folds)
        keys = [_key(job, digests) for job in jobs]
        futures: dict[int, Future[Any]] = {}
        if self.inner is not None:  # run the missing folds in parallel, as asked
            missing = [i for i, key in enumerate(keys) if self._load(key) is None]
            futures = {i: self.inner.submit(fn, *jobs[i]) for i in missing}
        return self._results(fn, jobs, keys, futures)

    def _results(
        self,
        fn: Callable[..., Any],
        jobs: list[tuple[Any, ...]],
        keys: list[str | None],
        futures: dict[int, Future[Any]],
    ) -> Iterator[Any]:
        for i, (job, key) in enumerate(zip(jobs, keys, strict=True)):
            stored = self._load(key)
            if stored is not None:
                self.reused += 1
                yield stored
                continue
            value = futures[i].result() if i in futures else fn(*job)
            self.computed += 1
            self._save(key, value)
            yield value

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    # -- storage --------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.npy"

    def _load(self, key: str | None) -> np.ndarray | None:
        return None if key is None else self._read(self._path(key), np.load)

    def _save(self, key: str | None, value: Any) -> None:
        if key is None or not isinstance(value, np.ndarray) or value.dtype == object:
            return
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        self._write(self._path(key), buffer)

    def _read(self, path: Path, read: Callable[..., Any]) -> Any:
        """``read(path, allow_pickle=False)``, or None when the file is absent or unreadable
        (then the work is done again)."""
        if not path.is_file():
            return None
        try:
            return read(path, allow_pickle=False)
        except (OSError, ValueError, KeyError) as error:
            logger.warning("ignoring unreadable fold checkpoint %s: %s", path, error)
            return None

    def _write(self, path: Path, buffer: io.BytesIO) -> None:
        try:
            write_atomic(path, buffer.getvalue())
        except OSError as error:  # a checkpoint is an optimization: the audit goes on
            logger.warning("could not keep a fold checkpoint in %s: %s", self.directory, error)

    def load_arrays(self, parts: Sequence[Any]) -> dict[str, np.ndarray] | None:
        """Arrays :meth:`save_arrays` kept under the same ``parts`` (values a fold argument may
        be), or None; counted in :attr:`reused`. Folds of work that does not go through
        :func:`~ls_cleanlab.model.cross_val.fit_fold` (the box detector's) use these."""
        key = _parts_key(parts)
        if key is None:
            return None
        arrays = self._read(self.directory / f"{key}.npz", _read_npz)
        if arrays is not None:
            with self._lock:
                self.reused += 1
        return arrays

    def save_arrays(self, parts: Sequence[Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Keep ``arrays`` under a digest of ``parts`` (see :meth:`load_arrays`); counted in
        :attr:`computed`."""
        with self._lock:
            self.computed += 1
        key = _parts_key(parts)
        if key is None:
            return
        buffer = io.BytesIO()
        np.savez(buffer, **dict(arrays))  # type: ignore[arg-type]
        self._write(self.directory / f"{key}.npz", buffer)

    def stored(self) -> int:
        """Fold results on disk now."""
        if not self.directory.is_dir():
            return 0
        return sum(1 for p in self.directory.iterdir() if p.suffix in (".npy", ".npz"))

    def clear(self) -> None:
        """Remove every stored fold (the audit they belong to has finished)."""
        shutil.rmtree(self.directory, ignore_errors=True)


def _key(job: tuple[Any, ...], digests: dict[int, str]) -> str | None:
    """A digest of one fold's arguments, or None when one cannot be digested (a custom model
    object): then the fold is fitted and not stored."""
    hasher = hashlib.blake2b(FORMAT, digest_size=20)
    for value in job:
        part = digests.get(id(value))
        if part is None:
            part = _digest(value)
            if part is None:
                return None
            digests[id(value)] = part
        hasher.update(part.encode())
    return hasher.hexdigest()


def _read_npz(path: Path, allow_pickle: bool) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=allow_pickle) as stored:
        return {name: stored[name] for name in stored.files}


def _parts_key(parts: Sequence[Any]) -> str | None:
    """The digest :func:`_key` makes of ``parts``, marked apart from fold arguments."""
    return _key(("arrays", *parts), {})


def _digest(value: Any) -> str | None:
    hasher = hashlib.blake2b(digest_size=20)
    if value is None or isinstance(value, (bool, int, float, str)):
        hasher.update(f"{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, np.ndarray):
        if value.dtype == object:
            return None
        hasher.update(f"ndarray:{value.dtype.str}:{value.shape}".encode())
        hasher.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Targets):  # labels packed to bits
        hasher.update(f"targets:{value.n_classes}:{value.multi_label}:".encode())
        hasher.update(_digest(value.packed).encode())  # type: ignore[union-attr]
    elif isinstance(value, DiskArray):  # features on disk: their values, read a chunk at a time
        hasher.update(f"ndarray:{np.dtype(value.dtype).str}:{value.shape}".encode())
        for start, stop in value.chunks():
            hasher.update(np.ascontiguousarray(value.take(slice(start, stop))).tobytes())
    elif hasattr(value, "tocsr") and hasattr(value, "shape"):  # scipy.sparse
        csr = value.tocsr()
        hasher.update(f"sparse:{csr.dtype.str}:{csr.shape}".encode())
        for part in (csr.data, csr.indices, csr.indptr):
            hasher.update(np.ascontiguousarray(part).tobytes())
    else:
        return None
    return hasher.hexdigest()

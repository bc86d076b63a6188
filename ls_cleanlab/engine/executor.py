"""Executors for the pipeline's work: one Dask task per call, or the same calls in this thread.

:class:`DaskExecutor` adapts a ``distributed.Client`` to :class:`concurrent.futures.Executor`
(``submit``, and so ``map``), so the functions that accept ``executor=`` run on a cluster
unchanged. What it adds to ``Client.get_executor()``: every call is impure (a task is never
skipped because an equal one ran), an ``ImportError`` of ls-cleanlab on a worker becomes an
:class:`~ls_cleanlab.errors.EngineError` that says what to install, and, with ``profile=True``,
each task's wall time, CPU time and peak memory are recorded (:class:`TaskStats`).

What crosses to a worker is pickled: module-level functions and small arguments (row ranges and
paths of the on-disk feature store, settings from which a media fetcher is rebuilt), never
closures over open connections.
"""

from __future__ import annotations

import importlib
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from ls_cleanlab.engine.workers import check_workers
from ls_cleanlab.errors import EngineError

__all__ = ["DaskExecutor", "Profiled", "SerialExecutor", "TaskStats", "task_stats"]


@dataclass(frozen=True)
class TaskStats:
    """One task's cost: ``name`` (the function), ``wall`` and ``cpu`` seconds (the process's,
    which on a single-threaded Dask worker is the task's), ``peak`` bytes of memory above what
    the process held when it started, and where it ran (``worker``: a Dask worker's address, or
    ``"driver"``)."""

    name: str
    wall: float
    cpu: float
    peak: int
    worker: str


def _name(fn: Any) -> str:
    inner = getattr(fn, "fn", fn)
    return str(getattr(inner, "__qualname__", None) or type(inner).__name__)


def _where() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "driver"


def _anonymous_memory() -> int | None:
    """This process's anonymous resident memory in bytes (Linux), else None."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class _PeakSampler:
    """The peak of :func:`_anonymous_memory` above its value at the start, sampled every 10 ms
    in a thread (a Dask worker runs one task at a time, so that is the task's peak)."""

    def __init__(self) -> None:
        self.base = _anonymous_memory() or 0
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _anonymous_memory() or 0)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _anonymous_memory() or 0) - self.base


class Profiled:
    """``fn`` wrapped to return ``(result, TaskStats)``; picklable when ``fn`` is.

    Peak memory is the process's anonymous resident memory sampled while the task runs (on
    Linux; cheap, and it counts native allocations too), else tracemalloc's peak (which slows
    code that makes many small objects)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.__name__ = _name(fn)  # Dask names the task's key after it

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, TaskStats]:
        sampler = _PeakSampler() if _anonymous_memory() is not None else None
        tracing = sampler is None and not tracemalloc.is_tracing()
        if tracing:
            tracemalloc.start()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            result = self.fn(*args, **kwargs)
        finally:
            if sampler is not None:
                peak = sampler.stop()
            else:
                peak = tracemalloc.get_traced_memory()[1]
                if tracing:
                    tracemalloc.stop()
        stats = TaskStats(_name(self.fn), time.perf_counter() - wall, time.process_time() - cpu,
                          max(0, peak), _where())  # fmt: skip
        return result, stats


class _Recorder:
    """Task stats collected by an executor (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: list[TaskStats] = []

    def add(self, stats: TaskStats) -> None:
        with self._lock:
            self._stats.append(stats)

    def all(self) -> list[TaskStats]:
        with self._lock:
            return list(self._stats)


def task_stats(executor: Executor | None) -> list[TaskStats]:
    """The tasks an executor profiled so far (empty unless built with ``profile=True``)."""
    recorder = getattr(executor, "recorder", None)
    return recorder.all() if isinstance(recorder, _Recorder) else []


def explain(error: BaseException, name: str) -> BaseException:
    """A worker's failure to import ls-cleanlab as an :class:`EngineError`; other errors as
    they are (errors raised on purpose on a worker arrive with their own type and message)."""
    if isinstance(error, ImportError) and "ls_cleanlab" in str(error):
        __version__ = importlib.import_module("ls_cleanlab").__version__
        return EngineError(
            f"a Dask worker could not import ls-cleanlab to run {name} ({error}); install "
            f"ls-cleanlab {__version__} (with the same numpy and scikit-learn) in every "
            "worker's environment."
        )
    return error


class DaskExecutor(Executor):
    """Run each submitted call as one Dask task of ``client`` (see the module docs).

    Workers that joined since the last check are checked (:func:`~ls_cleanlab.engine.workers.
    check_workers`, at most once a second) before a call is submitted: a worker without
    ls-cleanlab cannot even read a task of ours, and would leave it pending forever.

    Parameters
    ----------
    client : distributed.Client
    profile : bool
        Record a :class:`TaskStats` per task (:func:`task_stats`).
    checked : iterable of str
        Worker addresses already checked.
    """

    def __init__(self, client: Any, *, profile: bool = False, checked: Iterable[str] = ()) -> None:
        self.client = client
        self.profile = profile
        self.recorder = _Recorder()
        self._inner = client.get_executor(pure=False)
        self._checked = set(checked)
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def _check_new_workers(self) -> None:
        with self._lock:
            if time.monotonic() - self._checked_at < 1.0:
                return
            self._checked_at = time.monotonic()
            new = set(self.client.scheduler_info(n_workers=-1)["workers"]) - self._checked
            if new:
                check_workers(self.client, sorted(new))  # EngineError names them
                self._checked |= new

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client.scheduler.address!r})"

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self._check_new_workers()
        name = _name(fn)
        call = Profiled(fn) if self.profile else fn
        inner = self._inner.submit(call, *args, **kwargs)
        outer: Future[Any] = Future()

        def relay(done: Future[Any]) -> None:
            if done.cancelled():
                outer.cancel()
                outer.set_running_or_notify_cancel()
                return
            error = done.exception()
            if error is not None:
                outer.set_exception(explain(error, name))
                return
            result = done.result()
            if self.profile:
                result, stats = result
                self.recorder.add(stats)
            outer.set_result(result)

        inner.add_done_callback(relay)
        return outer

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait)


class SerialExecutor(Executor):
    """Run each call at once in the calling thread: the executor seam without concurrency (for
    profiling in-process runs and for tests); ``profile=True`` as in :class:`DaskExecutor`."""

    def __init__(self, *, profile: bool = False) -> None:
        self.profile = profile
        self.recorder = _Recorder()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        try:
            if self.profile:
                result, stats = Profiled(fn)(*args, **kwargs)
                self.recorder.add(stats)
            else:
                result = fn(*args, **kwargs)
        except BaseException as error:  # delivered through the future, like any executor
            future.set_exception(error)
        else:
            future.set_result(result)
        return future

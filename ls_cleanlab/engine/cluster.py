"""Opening the engine: a ``LocalCluster`` started here, or a Dask scheduler connected to, with
every worker checked before any work is sent.

A worker needs ls-cleanlab (the same version as the driver, with the same numpy, scipy and
scikit-learn for results identical to an in-process run) and read access to the media (Label
Studio's URL, or ``LOCAL_FILES_DOCUMENT_ROOT``) and to the data dir, where the feature store and
the model's inputs are written for the workers to read. :func:`check_workers` asks each worker,
with a probe that needs nothing of ls-cleanlab to be sent, and raises
:class:`~ls_cleanlab.errors.EngineError` naming the workers that cannot run it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from ls_cleanlab.engine.address import EngineAddress, parse_address
from ls_cleanlab.engine.executor import DaskExecutor
from ls_cleanlab.errors import EngineError, warn_user

__all__ = ["Engine", "check_workers", "open_engine"]

logger = logging.getLogger("ls_cleanlab")

#: Seconds to wait for a scheduler and its first worker.
CONNECT_TIMEOUT = 60.0
#: Evaluated on each worker by the builtin ``eval`` (so the probe itself needs no ls-cleanlab).
_PROBE = (
    "(__import__('ls_cleanlab').__version__, __import__('numpy').__version__, "
    "__import__('scipy').__version__, __import__('sklearn').__version__)"
)


@dataclass
class Engine:
    """An open engine: ``executor`` for the pipeline (None: in this process), the Dask client
    and cluster it owns, and a description for logs. Close it (or use ``with``) to stop a
    ``LocalCluster`` it started."""

    executor: Executor | None
    description: str
    client: Any = None
    cluster: Any = None
    workers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = self.executor = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _versions() -> tuple[str, ...]:
    """This process's answer to :data:`_PROBE`."""
    found: tuple[str, ...] = eval(_PROBE)  # the same expression the workers evaluate
    return found


def check_workers(client: Any) -> dict[str, tuple[str, ...]]:
    """Ask every worker of ``client`` for its ls-cleanlab, numpy, scipy and scikit-learn
    versions; returns them by worker address.

    Raises
    ------
    EngineError
        When a worker cannot import ls-cleanlab or runs another version of it; the message
        names the workers and what to install. Other libraries of other versions only warn:
        the work runs, but results may differ from an in-process run in the last digits.
    """
    found = client.run(eval, _PROBE, on_error="return")
    if not found:
        raise EngineError("the Dask cluster has no workers; start some (dask worker ADDRESS).")
    mine = _versions()
    broken = {w: v for w, v in found.items() if isinstance(v, BaseException)}
    if broken:
        shown = "; ".join(f"{w}: {type(e).__name__}: {e}" for w, e in sorted(broken.items()))
        raise EngineError(
            f"{len(broken)} of {len(found)} Dask workers cannot import ls-cleanlab ({shown}); "
            f"install ls-cleanlab {mine[0]} in every worker's environment "
            f"(pip install 'ls-cleanlab[dask]=={mine[0]}') and restart the workers."
        )
    other = {w: v for w, v in found.items() if v[0] != mine[0]}
    if other:
        shown = ", ".join(f"{w} has {v[0]}" for w, v in sorted(other.items()))
        raise EngineError(
            f"Dask workers run another ls-cleanlab than this one ({mine[0]}): {shown}; install "
            f"ls-cleanlab {mine[0]} on every worker."
        )
    names = ("numpy", "scipy", "scikit-learn")
    for worker, versions in sorted(found.items()):
        differ = [f"{n} {v} (here {m})" for n, v, m in zip(names, versions[1:], mine[1:],
                                                          strict=True) if v != m]  # fmt: skip
        if differ:
            warn_user(
                f"Dask worker {worker} runs {', '.join(differ)}: results may differ from an "
                "in-process run in the last digits."
            )
    return {w: tuple(v) for w, v in found.items()}


def open_engine(address: str | EngineAddress | None, *, profile: bool = False) -> Engine:
    """Open the engine ``address`` names (see :func:`parse_address`); None runs in process.

    ``local`` / ``local:N`` start a ``LocalCluster`` of N single-threaded worker processes on
    this machine (stopped by :meth:`Engine.close`); a scheduler address connects to a running
    cluster and waits for its first worker. Every worker is checked (:func:`check_workers`)
    before the engine is returned.

    Raises
    ------
    EngineError
        When Dask is not installed, the scheduler cannot be reached, or a worker cannot run
        ls-cleanlab.
    """
    if address is None:
        return Engine(None, "in process")
    where = parse_address(address) if isinstance(address, str) else address
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise EngineError(
            f"Dask is not installed ({error}); pip install 'ls-cleanlab[dask]'."
        ) from error
    cluster = client = None
    try:
        if where.kind == "local":
            cluster = LocalCluster(
                n_workers=where.workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.WARNING,
            )  # fmt: skip
            client = Client(cluster)
        else:
            client = Client(where.address, timeout=CONNECT_TIMEOUT)
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        workers = check_workers(client)
    except EngineError:
        _close(client, cluster)
        raise
    except (OSError, TimeoutError) as error:
        _close(client, cluster)
        raise EngineError(
            f"cannot reach the {where.describe()} ({type(error).__name__}: {error}); check the "
            "address and that the scheduler is running."
        ) from error
    logger.info("engine: %s, %d workers", where.describe(), len(workers))
    executor = DaskExecutor(client, profile=profile)
    return Engine(executor, where.describe(), client, cluster, workers)


def _close(client: Any, cluster: Any) -> None:
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()

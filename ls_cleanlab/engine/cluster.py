"""Opening the engine: a ``LocalCluster`` started here, or a Dask scheduler connected to, with
every worker checked before any work is sent (:func:`~ls_cleanlab.engine.workers.check_workers`).
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from ls_cleanlab.engine.address import EngineAddress, parse_address
from ls_cleanlab.engine.executor import DaskExecutor
from ls_cleanlab.engine.workers import check_workers
from ls_cleanlab.errors import EngineError

__all__ = ["Engine", "open_engine"]

logger = logging.getLogger("ls_cleanlab")

#: Seconds to wait for a scheduler and its first worker.
CONNECT_TIMEOUT = 60.0


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
    executor = DaskExecutor(client, profile=profile, checked=workers)
    return Engine(executor, where.describe(), client, cluster, workers)


def _close(client: Any, cluster: Any) -> None:
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()

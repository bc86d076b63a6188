"""Where the work of an audit runs: in this process, or on a Dask cluster.

The pipeline hands work that may run on many machines (media download and feature extraction,
the cross-validation folds, the final fit, predictions for unlabelled tasks, the audit itself)
to a :class:`concurrent.futures.Executor`; results never depend on which one.

* :mod:`.address`: ``--dask`` / ``LS_CLEANLAB_DASK_SCHEDULER`` values parsed
  (:class:`EngineAddress`: ``local``, ``local:N`` or a scheduler address);
* :mod:`.cluster`: :func:`open_engine` starts a ``LocalCluster`` or connects to a scheduler,
  giving an :class:`Engine`; :mod:`.workers`: :func:`check_workers`, every worker able to run
  ls-cleanlab (the same version) before work is sent;
* :mod:`.executor`: :class:`DaskExecutor`, one Dask task per call, errors explained;
  :class:`SerialExecutor`, the same seam in this thread; :class:`TaskStats`, per-task time and
  peak memory when asked.

Dask is an optional extra (``pip install 'ls-cleanlab[dask]'``), imported only when an engine is
opened.
"""

from ls_cleanlab.engine.address import ADDRESS_FORMS, EngineAddress, parse_address
from ls_cleanlab.engine.cluster import Engine, open_engine
from ls_cleanlab.engine.executor import DaskExecutor, SerialExecutor, TaskStats, task_stats
from ls_cleanlab.engine.workers import check_workers

__all__ = [
    "ADDRESS_FORMS",
    "DaskExecutor",
    "Engine",
    "EngineAddress",
    "SerialExecutor",
    "TaskStats",
    "check_workers",
    "open_engine",
    "parse_address",
    "task_stats",
]

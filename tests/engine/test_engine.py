"""The engine: Dask addresses, executors (one Dask task per call, the same calls in this thread),
every worker checked before work is sent, and a worker that cannot import ls-cleanlab refused
with a message that says what to install."""

from __future__ import annotations

import operator
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.engine import (
    DaskExecutor,
    EngineAddress,
    SerialExecutor,
    open_engine,
    parse_address,
    task_stats,
)
from ls_cleanlab.errors import EngineError, InvalidOptionError
from ls_cleanlab.media import MediaFetcher


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("local:3", EngineAddress("local", workers=3)),
        (" local:1 ", EngineAddress("local", workers=1)),
        ("tcp://10.0.0.5:8786", EngineAddress("scheduler", address="tcp://10.0.0.5:8786")),
        ("tls://sched.example.com:8786", EngineAddress("scheduler",
                                                       address="tls://sched.example.com:8786")),
        ("sched:8786", EngineAddress("scheduler", address="tcp://sched:8786")),
    ],
    ids=["local-n", "spaces", "tcp", "tls", "host-port"],
)  # fmt: skip
def test_parse_address(text: str, expected: EngineAddress) -> None:
    assert parse_address(text) == expected


def test_local_without_a_number_uses_every_cpu() -> None:
    found = parse_address("local")
    assert found.kind == "local" and found.workers >= 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("local:0", r"number of workers in \[1, 512\]"),
        ("local:two", "number of workers"),
        ("http://sched:8786", "not a Dask address"),
        ("sched", "not a Dask address"),
    ],
    ids=["empty", "zero-workers", "words", "http", "no-port"],
)
def test_bad_addresses_name_the_forms(text: str, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        parse_address(text)


def test_in_process_engine_has_no_executor() -> None:
    with open_engine(None) as engine:
        assert engine.executor is None and engine.description == "in process"


def _double(x: int) -> int:
    return 2 * x


def test_serial_executor_runs_at_once_and_profiles() -> None:
    executor = SerialExecutor(profile=True)
    assert list(executor.map(_double, [1, 2, 3])) == [2, 4, 6]
    failed = executor.submit(int, "x")
    with pytest.raises(ValueError, match="invalid literal"):
        failed.result()
    stats = task_stats(executor)
    assert [s.name for s in stats] == ["_double"] * 3 + []  # a failed call records nothing
    assert all(s.worker == "driver" and s.wall >= 0 and s.peak >= 0 for s in stats)
    assert task_stats(None) == []


@pytest.fixture(scope="module")
def dask_client(dask_cluster: str) -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    with distributed.Client(dask_cluster) as client:
        yield client


def test_dask_executor_runs_calls_as_tasks_in_order(dask_client: object) -> None:
    executor = DaskExecutor(dask_client, profile=True)
    assert list(executor.map(_double, range(8))) == [2 * i for i in range(8)]
    assert executor.submit(np.sum, np.arange(5)).result() == 10
    with pytest.raises(ValueError, match="invalid literal"):  # a worker's error, as it was
        executor.submit(int, "x").result()
    stats = task_stats(executor)
    assert len(stats) == 9 and {s.name for s in stats} == {"_double", "sum"}
    assert all(s.worker.startswith("tcp://") for s in stats)


def test_connecting_checks_every_worker(dask_cluster: str) -> None:
    with open_engine(dask_cluster) as engine:
        assert isinstance(engine.executor, DaskExecutor)
        assert len(engine.workers) == 2
        versions = {v[0] for v in engine.workers.values()}
        assert versions == {__import__("ls_cleanlab").__version__}
        assert engine.description == f"Dask scheduler {dask_cluster}"


def test_the_key_never_reaches_worker_logs(dask_client: object) -> None:
    """A fetcher pickles with its key (workers fetch from Label Studio with it), but the key is
    never shown: not in a task's description when it fails, not in the worker's logs."""
    key = "secret-key-0123456789-do-not-log"
    fetcher = MediaFetcher("http://127.0.0.1:9", key)
    executor = DaskExecutor(dask_client)
    with pytest.raises(TypeError):
        executor.submit(operator.itemgetter(5), fetcher).result()  # fails with the fetcher
    logs = dask_client.get_worker_logs()  # type: ignore[attr-defined]
    text = " ".join(str(entry) for entries in logs.values() for entry in entries)
    assert "Compute Failed" in text or "itemgetter" in text or logs
    assert key not in text


# A worker whose environment cannot import ls_cleanlab: an import hook refuses it, and the
# worker runs without a nanny so the hook stays in its process.
BLOCKED_WORKER = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "ls_cleanlab" or name.startswith("ls_cleanlab."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    from distributed.cli.dask_worker import main

    sys.argv = ["dask-worker", sys.argv[1], "--no-nanny", "--nthreads", "1", "--no-dashboard"]
    main()
    """
)


def test_a_worker_without_the_package_is_refused_clearly() -> None:
    """Checked when the engine opens, and again for a worker that joins later: a task of ours
    would otherwise break that worker's connection and stay pending forever."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, dashboard_address=None, processes=True) as cluster:
        address = cluster.scheduler_address
        blocked = subprocess.Popen(
            [sys.executable, "-c", BLOCKED_WORKER, address],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            with pytest.raises(EngineError, match="1 of 1 Dask workers cannot import") as info:
                open_engine(address)
            message = str(info.value)
            assert "No module named 'ls_cleanlab'" in message
            assert "install ls-cleanlab" in message and "in every worker's environment" in message
            with distributed.Client(address) as client:
                cluster.scale(1)  # a worker that can run us: the executor's engine opens
                client.wait_for_workers(2, timeout=120)
                good = [w for w in client.scheduler_info()["workers"] if w != _blocked(client)]
                executor = DaskExecutor(client, checked=good)  # the late one is not checked yet
                with pytest.raises(EngineError, match="cannot import ls-cleanlab"):
                    executor.submit(_double, 1)
        finally:
            blocked.terminate()
            blocked.wait(timeout=30)


def _blocked(client: Any) -> str:
    """The worker that cannot import ls_cleanlab."""
    answers = client.run(eval, "__import__('ls_cleanlab').__version__", on_error="return")
    return next(w for w, v in answers.items() if isinstance(v, BaseException))

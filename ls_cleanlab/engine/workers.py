"""What a Dask worker needs to run an audit, checked before work is sent to it.

A worker needs ls-cleanlab (the same version as the driver, with the same numpy, scipy and
scikit-learn for results identical to an in-process run), read access to the media (Label
Studio's URL, or ``LOCAL_FILES_DOCUMENT_ROOT``) and to the data dir, where the feature store and
the model's inputs are written for the workers to read. :func:`check_workers` asks each worker
with a probe that needs nothing of ls-cleanlab to be sent (the builtin ``eval`` of an
expression): a worker that cannot even unpickle a task of ours would otherwise drop its
connection and leave the task pending forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ls_cleanlab.errors import EngineError, warn_user

__all__ = ["check_workers"]

#: Evaluated on each worker by the builtin ``eval`` (so the probe itself needs no ls-cleanlab).
_PROBE = (
    "(__import__('ls_cleanlab').__version__, __import__('numpy').__version__, "
    "__import__('scipy').__version__, __import__('sklearn').__version__)"
)


def _versions() -> tuple[str, ...]:
    """This process's answer to :data:`_PROBE`."""
    found: tuple[str, ...] = eval(_PROBE)  # the same expression the workers evaluate
    return found


def check_workers(client: Any, workers: Sequence[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Ask ``workers`` (default: every worker of ``client``) for their ls-cleanlab, numpy,
    scipy and scikit-learn versions; returns them by worker address.

    Raises
    ------
    EngineError
        When a worker cannot import ls-cleanlab or runs another version of it; the message
        names the workers and what to install. Other libraries of other versions only warn:
        the work runs, but results may differ from an in-process run in the last digits.
    """
    found = client.run(eval, _PROBE, workers=list(workers) if workers else None,
                       on_error="return")  # fmt: skip
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

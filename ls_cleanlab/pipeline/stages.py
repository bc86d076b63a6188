"""The stages of an audit that may run on other machines, through an executor.

* the final model is fitted as one task beside the cross-validation folds (:func:`fit_models`);
* the unlabelled tasks are predicted in chunks, one task each (:func:`predict_rows`);
* ``audit_labels`` runs as one task (:func:`run_audit`): its inputs are written to the run's
  directory first, so what crosses to the worker is two paths, not a gigabyte of arrays; and its
  per-task arrays come back the same way, as files the driver maps read-only (a million tasks
  of 50 classes: 1.4 GB of arrays the driver reads from the page cache instead of holding).

Without an executor every stage runs here, in the same order and on the same chunks, so the
results are the same to the bit.
"""

from __future__ import annotations

import pickle
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.gold import Gold
from ls_cleanlab.audit import LabelAudit, Rules, audit_labels
from ls_cleanlab.model import TrainedModel, out_of_sample_probs, train_model
from ls_cleanlab.model.cross_val import Targets, fit_model
from ls_cleanlab.model.inputs import as_label_matrix
from ls_cleanlab.ondisk import DiskArray
from ls_cleanlab.pipeline.next_annotator import next_annotator_rows
from ls_cleanlab.pipeline.options import AuditOptions, Progress

__all__ = ["Predicted", "fit_models", "mapped_audit", "next_rows", "predict_rows", "run_audit"]


def fit_models(
    X: Any,
    target: np.ndarray,
    *,
    class_names: tuple[str, ...],
    options: AuditOptions,
    executor: Executor | None,
    progress: Progress | None,
    encoder: Any = None,
    extractor: Any = None,
) -> tuple[np.ndarray, TrainedModel]:
    """Out-of-sample probabilities of the labelled rows ``X`` and the final model fitted on all
    of them; with an executor the final fit is a task beside the folds."""
    k = len(class_names)
    multi_label = np.ndim(target) == 2

    def folds_done(done: int, total: int) -> None:
        if progress is not None:
            progress("model", done, total + 1)

    final = None
    if executor is not None:
        matrix, _ = as_label_matrix(target, None if multi_label else k)
        final = executor.submit(fit_model, X, Targets.pack(matrix, multi_label), None)
    oos = out_of_sample_probs(
        X, target, n_folds=options.n_folds, seed=options.seed, progress=folds_done,
        n_classes=k, class_names=class_names, executor=executor,
    )  # fmt: skip
    trained = train_model(
        X, target, class_names=class_names, oos_probs=oos, seed=options.seed, encoder=encoder,
        extractor=extractor, fitted=final.result() if final is not None else None,
    )  # fmt: skip
    return oos, trained


@dataclass(frozen=True, eq=False)
class Predicted:
    """A trained model's probabilities ``(m, K)`` and suggested labels ``(m, K)`` for rows."""

    probs: np.ndarray
    chosen: np.ndarray


#: Rows per prediction task when the features are in memory.
PREDICT_ROWS = 65_536


def predict_rows(
    trained: TrainedModel, X: Any, rows: np.ndarray, executor: Executor | None
) -> Predicted:
    """``trained``'s predictions for ``X[rows]``, one chunk of rows per task (the chunks are
    the same with and without an executor)."""
    step = X.chunk_rows if isinstance(X, DiskArray) else PREDICT_ROWS
    pieces = [rows[i : i + step] for i in range(0, len(rows), step)]
    inputs = [X.select(p) if isinstance(X, DiskArray) else X[p] for p in pieces]
    if executor is None:
        made = [trained.predict(x) for x in inputs]
    else:
        made = list(executor.map(trained.predict, inputs))
    k = len(trained.class_names)
    probs = np.concatenate([m.probs for m in made]) if made else np.zeros((0, k))
    chosen = np.concatenate([m.chosen for m in made]) if made else np.zeros((0, k), np.int8)
    return Predicted(probs, chosen)


#: What :func:`run_audit` writes to the run directory for a worker (and :func:`next_rows` reuses).
PROBS_FILE, ANNOTATIONS_FILE = "audit-probs.npy", "audit-annotations.pickle"


def run_audit(
    probs: np.ndarray,
    annotations: Annotations,
    *,
    class_names: list[str],
    rules: Rules,
    multi_label: bool,
    options: AuditOptions,
    executor: Executor | None,
    work_dir: Path,
    gold: Gold | None = None,
) -> LabelAudit:
    """``audit_labels`` of the audited rows (``gold``: their known truth): here, or as one task
    of ``executor`` reading its inputs from ``work_dir``."""
    kwargs: dict[str, Any] = {"class_names": class_names, "rules": rules,
                              "multi_label": multi_label, "threshold": options.threshold,
                              "seed": options.seed, "gold": gold}  # fmt: skip
    if executor is None:
        return audit_labels(probs, annotations=annotations, **kwargs)
    on_disk = DiskArray.save(work_dir / PROBS_FILE, probs)
    table = work_dir / ANNOTATIONS_FILE
    table.write_bytes(pickle.dumps(annotations, protocol=pickle.HIGHEST_PROTOCOL))
    found = executor.submit(audit_from_disk, on_disk, str(table), kwargs, str(work_dir))
    return mapped_audit(found.result(), work_dir)


#: The audit's arrays over tasks that travel back from a worker as ``.npy`` files.
SPILLED = ("priority", "cell_scores", "consensus", "suggested", "present", "uncertainty",
           "task_wrong")  # fmt: skip
#: The same of its consensus.
SPILLED_CONSENSUS = ("labels", "posterior")


def audit_from_disk(
    probs: DiskArray, annotations: str, kwargs: dict[str, Any], out_dir: str | None = None
) -> LabelAudit:
    """``audit_labels`` of probabilities and annotations the driver wrote to its run directory
    (one executor task); with ``out_dir``, its per-task arrays are written there and returned
    empty (:func:`mapped_audit` maps them back)."""
    table = pickle.loads(Path(annotations).read_bytes())  # our own file, written by run_audit
    audited = audit_labels(probs.take(), annotations=table, **kwargs)
    if out_dir is None:
        return audited
    folder = Path(out_dir)
    stub: dict[str, Any] = dict.fromkeys(SPILLED, np.zeros(0))
    stub_detail: dict[str, Any] = dict.fromkeys(SPILLED_CONSENSUS, np.zeros(0))
    for name in SPILLED:
        np.save(folder / f"audit-{name}.npy", getattr(audited, name))
    for name in SPILLED_CONSENSUS:
        np.save(folder / f"audit-consensus-{name}.npy", getattr(audited.consensus_detail, name))
    detail = replace(audited.consensus_detail, **stub_detail)
    return replace(audited, consensus_detail=detail, **stub)


def mapped_audit(audited: LabelAudit, folder: Path) -> LabelAudit:
    """``audited`` with the arrays :func:`audit_from_disk` wrote to ``folder`` memory-mapped,
    read-only (the mapping outlives the files' removal with the run directory)."""

    def load(name: str) -> np.ndarray:
        return np.load(folder / f"audit-{name}.npy", mmap_mode="r")

    arrays: dict[str, Any] = {name: load(name) for name in SPILLED}
    detail_arrays: dict[str, Any] = {name: load(f"consensus-{name}") for name in SPILLED_CONSENSUS}
    detail = replace(audited.consensus_detail, **detail_arrays)
    return replace(audited, consensus_detail=detail, **arrays)


def next_rows(
    probs: np.ndarray,
    annotations: Annotations,
    labelled: np.ndarray,
    *,
    multi_label: bool,
    executor: Executor | None,
    work_dir: Path,
) -> np.ndarray:
    """The "Needs another annotator" rows (:func:`~ls_cleanlab.pipeline.next_annotator.
    next_annotator_rows`): here, or as one task of ``executor`` reading the inputs
    :func:`run_audit` wrote (it runs in blocks of rows, but still holds a few ``(n, K)``
    arrays: 1.2 GB at a million tasks of 50 classes, which a Dask driver need not)."""
    if executor is None:
        return next_annotator_rows(probs, labelled, annotations, multi_label=multi_label)
    found = executor.submit(next_rows_from_disk, DiskArray.open(work_dir / PROBS_FILE),
                            str(work_dir / ANNOTATIONS_FILE), labelled, multi_label)  # fmt: skip
    rows: np.ndarray = found.result()
    return rows


def next_rows_from_disk(
    probs: DiskArray, annotations: str, labelled: np.ndarray, multi_label: bool
) -> np.ndarray:
    """:func:`next_rows` on a worker (one executor task)."""
    table = pickle.loads(Path(annotations).read_bytes())  # our own file, written by run_audit
    return next_annotator_rows(probs.take(), labelled, table, multi_label=multi_label)

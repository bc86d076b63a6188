"""The stages of an audit that may run on other machines, through an executor.

* the final model is fitted as one task beside the cross-validation folds (:func:`fit_models`);
* the unlabelled tasks are predicted in chunks, one task each (:func:`predict_rows`);
* ``audit_labels`` runs as one task (:func:`run_audit`): its inputs are written to the run's
  directory first, so what crosses to the worker is two paths, not a gigabyte of arrays.

Without an executor every stage runs here, in the same order and on the same chunks, so the
results are the same to the bit.
"""

from __future__ import annotations

import pickle
from concurrent.futures import Executor
from dataclasses import dataclass
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
from ls_cleanlab.pipeline.options import AuditOptions, Progress

__all__ = ["Predicted", "fit_models", "predict_rows", "run_audit"]


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
    on_disk = DiskArray.save(work_dir / "audit-probs.npy", probs)
    table = work_dir / "audit-annotations.pickle"
    table.write_bytes(pickle.dumps(annotations, protocol=pickle.HIGHEST_PROTOCOL))
    audited: LabelAudit = executor.submit(audit_from_disk, on_disk, str(table), kwargs).result()
    return audited


def audit_from_disk(probs: DiskArray, annotations: str, kwargs: dict[str, Any]) -> LabelAudit:
    """``audit_labels`` of probabilities and annotations the driver wrote to its run directory
    (one executor task)."""
    table = pickle.loads(Path(annotations).read_bytes())  # our own file, written by run_audit
    return audit_labels(probs.take(), annotations=table, **kwargs)

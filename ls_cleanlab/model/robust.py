"""The noise-robust final model: fitted without the labels confident learning doubts, again and
again while the estimated noise falls.

Deep networks memorize wrong labels late in training, so INCV (Chen et al. 2019, "Understanding
and utilizing deep neural networks trained with noisy labels", ICML) keeps the examples whose
label a cross-validated model agrees with and retrains on them, round after round, and
co-teaching (Han et al. 2018, NeurIPS) trains each of two networks on the examples the other
finds easy. A ridge-penalized logistic regression memorizes nothing, and its out-of-sample
probabilities are already the "other network"; the cheap form left is to leave out of the final
fit the cells confident learning flags, refit, and flag again.

Which cells. Confident learning (:func:`~ls_cleanlab.confident.multilabel_issue_matrix`, per
class) flags a given label whose out-of-sample probability falls on the other side of the
class's confident threshold. Measured on real human errors (CIFAR-10N mosaics, one annotator),
only about 37% of those cells are wrong, and leaving them all out cost 0.008 micro-F1: the
correct ones are the hard cases that place the boundary. People mostly *name the wrong class*,
and a wrong name leaves two traces on one task, a label present that is doubted and a label
absent that is expected. So a multi-label task's flagged cells are left out only when its flags
point both ways (the swap pattern; cells of the other tasks stay). Single-label data is all
swaps: a flagged task is left out whole.

The rounds. The estimated noise of a model is the share of all cells it flags (with its
out-of-sample probabilities ``P_r``, against the given labels). Round 0 flags cells with the plain
model's ``P_0``; the folds are refitted without them, giving ``P_1``, which flags cells again, from
scratch (a label left out before may come back). While the estimated noise falls, the newest flags
are left out instead and the rounds go on (at most ``max_rounds``); when it stops falling, the
last refit stands. The final model is fitted on every task without its round's cells, and its
per-class thresholds maximize F1 on the kept cells' out-of-sample probabilities. With nothing
flagged it is the plain model, bit for bit.

Measured (``benchmarks/bench_model.py``, pre-annotation micro-F1 against the truth on held-out
tasks): see the README.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ls_cleanlab.confident import issue_matrix_where_defined, single_label_issues
from ls_cleanlab.confident.issues import small_classes
from ls_cleanlab.errors import InvalidLabelsError, SmallClassWarning, warn_user
from ls_cleanlab.model.classifiers import OneVsRestLogistic, SoftmaxLogistic, checked_proba
from ls_cleanlab.model.cross_val import (
    Targets,
    best_f1_thresholds,
    fit_model,
    out_of_sample_probs,
)
from ls_cleanlab.model.folds import stratified_folds
from ls_cleanlab.model.inputs import (
    as_features,
    as_label_matrix,
    check_n_folds,
    classes_shown,
    dense_rows,
)
from ls_cleanlab.model.trained import TrainedModel, train_model
from ls_cleanlab.validation import check_int

__all__ = [
    "NoiseRobustFit",
    "doubted_cells",
    "fit_weighted",
    "fit_weighted_fold",
    "train_noise_robust",
]

Progress = Callable[[int, int], Any]


@dataclass(frozen=True, eq=False)
class NoiseRobustFit:
    """The noise-robust final model and how it was reached.

    Attributes
    ----------
    model : TrainedModel
        Fitted without the ``left_out`` cells; use it like :func:`train_model`'s.
    left_out : ndarray of bool, shape (N, K)
        Cells (single-label: whole rows) whose labels the fit did not use.
    noise : tuple of float
        The estimated noise after each round: the share of all cells the round's model flags.
    rounds : int
        Rounds whose flags were left out (0: the plain model).
    oos_probs : ndarray, shape (N, K)
        Out-of-sample probabilities of the last round's model.
    """

    model: TrainedModel
    left_out: np.ndarray
    noise: tuple[float, ...]
    rounds: int
    oos_probs: np.ndarray


def doubted_cells(
    labels: np.ndarray, probs: np.ndarray, multi_label: bool, names: tuple[str, ...] = ()
) -> np.ndarray:
    """Cells to leave out: multi-label, the confident-learning flags of tasks flagged both ways
    (a doubted label and an expected one, the trace of a wrong class name); single-label, every
    class of a flagged task. A class given on one task only (or, multi-label, absent from one
    only) gets no flags: a warning names it, by ``names`` when given. Single-label tasks all of
    one class other than the first get none either, as in the audit (confident learning refuses
    them, as cleanlab does).

    Parameters
    ----------
    labels : ndarray of bool, shape (N, K)
    probs : ndarray, shape (N, K)
        Out-of-sample probabilities.
    names : tuple of str, length K, optional
    """
    if not multi_label:  # warn=False: said below, with the names
        rows = _single_label_flags(labels, probs)
    else:
        flags = issue_matrix_where_defined(labels, probs, warn=False)
    present = np.asarray(labels, dtype=bool).sum(axis=0)
    _warn_small(present, "given on", names)
    if not multi_label:
        return np.repeat(rows[:, None], labels.shape[1], axis=1)
    _warn_small(len(labels) - present, "absent from", names)
    both_ways = np.asarray((flags < 0).any(axis=1) & (flags > 0).any(axis=1))
    return (flags != 0) & both_ways[:, None]


def _single_label_flags(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``(N,)`` tasks confident learning flags among one-hot ``labels``; none where it cannot
    run (every task of one class, not class 0: the audit's
    :func:`~ls_cleanlab.audit.inputs.confident_cells` flags none there either, and the model
    fitted on them is the plain one)."""
    try:
        return single_label_issues(np.argmax(labels, axis=1), probs, warn=False)
    except InvalidLabelsError:
        return np.zeros(len(labels), dtype=bool)


def _warn_small(counts: np.ndarray, what: str, names: tuple[str, ...]) -> None:
    """Warn of the classes :func:`~ls_cleanlab.confident.issues.small_classes` finds in
    ``counts`` (the library's default ``min_examples_per_class=1``), by name when ``names``
    are given, else by index."""
    small = small_classes(counts, 1)
    if len(small):
        warn_user(
            f"classes {classes_shown(small, names)} are {what} a single task "
            "(min_examples_per_class=1): confident learning doubts none of their labels there, "
            "and the noise-robust model keeps them.",
            SmallClassWarning,
        )


def fit_weighted(X: Any, labels: Targets, kept: Targets, rows: np.ndarray | None) -> Any:
    """The default logistic regression fitted on ``rows`` (all when None) with cell weights 1
    where ``kept`` and 0 elsewhere: the final fit, or a fold's, as one executor task. The labels
    and the kept cells travel packed to bits (:class:`~ls_cleanlab.model.cross_val.Targets`),
    and ``X`` on disk is read here (as float64, like features in memory), so neither the task
    nor the driver holds an ``(N, K)`` array or the training rows."""
    x = dense_rows(X, rows)
    weight = kept.values(rows).astype(np.float64)
    if labels.multi_label:
        return OneVsRestLogistic().fit(x, labels.values(rows), cell_weight=weight)
    return SoftmaxLogistic(n_classes=labels.n_classes).fit(
        x, labels.values(rows), sample_weight=weight[:, 0]
    )


def fit_weighted_fold(
    X: Any, labels: Targets, kept: Targets, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """Probabilities for the ``test`` rows of :func:`fit_weighted` on the ``train`` rows: one
    fold, as one executor task."""
    fitted = fit_weighted(X, labels, kept, train)
    k, multi_label = labels.n_classes, labels.multi_label
    return checked_proba(fitted, dense_rows(X, test), n_classes=k, multi_label=multi_label)


def _weighted_oos(
    X: Any,
    matrix: np.ndarray,
    kept: np.ndarray,
    fold_of: np.ndarray,
    multi_label: bool,
    executor: Executor | None,
) -> np.ndarray:
    probs = np.empty(matrix.shape, dtype=np.float64)
    tests = [np.flatnonzero(fold_of == f) for f in np.unique(fold_of)]
    labels, cells = Targets.pack(matrix, multi_label), Targets.pack(kept, True)
    jobs = [(X, labels, cells, np.flatnonzero(~np.isin(np.arange(len(matrix)), test)), test)
            for test in tests]  # fmt: skip
    if executor is None:
        results: Any = (fit_weighted_fold(*job) for job in jobs)
    else:
        results = executor.map(fit_weighted_fold, *zip(*jobs, strict=True))
    for test, fold_probs in zip(tests, results, strict=True):
        probs[test] = fold_probs
    return probs


def _refit(
    X: Any,
    matrix: np.ndarray,
    left_out: np.ndarray,
    fold_of: np.ndarray,
    multi_label: bool,
    executor: Executor | None,
) -> np.ndarray:
    return _weighted_oos(X, matrix, ~left_out, fold_of, multi_label, executor)


def _kept_thresholds(matrix: np.ndarray, probs: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Per-class F1-optimal thresholds over the kept cells only."""
    out = np.full(matrix.shape[1], np.inf)
    for c in range(matrix.shape[1]):
        rows = np.flatnonzero(kept[:, c])
        if len(rows):
            out[c] = best_f1_thresholds(matrix[rows, c : c + 1], probs[rows, c : c + 1])[0]
    return out


def _rounds(
    X: Any,
    matrix: np.ndarray,
    probs: np.ndarray,
    fold_of: np.ndarray,
    multi_label: bool,
    rounds_max: int,
    executor: Executor | None,
    progress: Progress | None,
    names: tuple[str, ...],
) -> tuple[np.ndarray, list[float], int, np.ndarray]:
    """Refit without the doubted cells while the estimated noise falls: the cells left out, the
    noise of each round, the refits done and the last out-of-sample probabilities (``names``
    the classes', for warnings)."""
    left_out = doubted_cells(matrix, probs, multi_label, names)
    noise = [float(left_out.mean())]
    done = 0
    if rounds_max > 0 and left_out.any():
        probs = _refit(X, matrix, left_out, fold_of, multi_label, executor)
        done = 1
        while done < rounds_max:
            if progress is not None:
                progress(done, rounds_max)
            flagged = doubted_cells(matrix, probs, multi_label, names)
            noise.append(float(flagged.mean()))
            if noise[-1] >= noise[-2] or not flagged.any():
                break
            left_out = flagged
            probs = _refit(X, matrix, left_out, fold_of, multi_label, executor)
            done += 1
    if progress is not None:
        progress(rounds_max, rounds_max)
    return left_out, noise, done, probs


def train_noise_robust(
    features: Any,
    labels: Any,
    *,
    class_names: tuple[str, ...] | list[str],
    oos_probs: Any = None,
    n_folds: int = 5,
    seed: int = 0,
    max_rounds: int = 3,
    encoder: Any = None,
    extractor: Any = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> NoiseRobustFit:
    """Fit the final model without the cells confident learning doubts (see the module docs).

    Parameters
    ----------
    features : ndarray or scipy.sparse matrix, shape (N, D)
    labels : ndarray, shape (N, K) with 0/1 entries, or (N,) of class indices
        The audited labels of the labelled tasks.
    class_names : sequence of str, length K
    oos_probs : ndarray, shape (N, K), optional
        The plain model's out-of-sample probabilities (computed when omitted).
    n_folds, seed : int
        The stratified folds of every round (the same folds each round).
    max_rounds : int
        Refits at most; 0 gives the plain model.
    encoder, extractor : optional
        Kept with the model, as in :func:`train_model`.
    executor : concurrent.futures.Executor, optional
        Where each round's folds are fitted; the result does not depend on it.
    progress : callable(done, total), optional
        Called after each refit.

    Returns
    -------
    NoiseRobustFit
    """
    names = tuple(str(c) for c in class_names)
    k = len(names)
    matrix, multi_label = as_label_matrix(labels, None if np.ndim(labels) == 2 else k)
    if matrix.shape[1] != k:
        raise InvalidLabelsError(f"labels have {matrix.shape[1]} classes but {k} class_names.")
    n = len(matrix)
    X = as_features(features, n)
    rounds_max = check_int(max_rounds, "max_rounds", low=0)
    fold_of = stratified_folds(matrix, n_folds=check_n_folds(n_folds, n), seed=seed)
    probs = (
        out_of_sample_probs(X, labels, folds=fold_of, n_classes=k, class_names=names)
        if oos_probs is None
        else np.asarray(oos_probs, dtype=np.float64)
    )
    if probs.shape != matrix.shape:
        raise InvalidLabelsError(
            f"oos_probs has shape {probs.shape} but labels give {matrix.shape}."
        )
    first = probs
    left_out, noise, done, probs = _rounds(
        X, matrix, probs, fold_of, multi_label, rounds_max, executor, progress, names
    )
    if done == 0:  # the plain model, fitted on every cell
        fitted = _run(executor, fit_model, X, Targets.pack(matrix, multi_label), None)
        plain = train_model(X, labels, class_names=names, oos_probs=first, seed=seed,
                            encoder=encoder, extractor=extractor, fitted=fitted)  # fmt: skip
        return NoiseRobustFit(plain, np.zeros_like(left_out), tuple(noise), 0, probs)
    packed = Targets.pack(matrix, multi_label), Targets.pack(~left_out, True)
    fitted = _run(executor, fit_weighted, X, *packed, None)
    model = replace(
        train_model(X, labels, class_names=names, oos_probs=probs, seed=seed, encoder=encoder,
                    extractor=extractor, fitted=fitted),
        thresholds=_kept_thresholds(matrix, probs, ~left_out),
        n_train=int((~left_out).any(axis=1).sum()),
    )  # fmt: skip
    return NoiseRobustFit(model, left_out, tuple(noise), done, probs)


def _run(executor: Executor | None, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` here, or as one task of ``executor`` (features on disk are read
    there)."""
    if executor is None:
        return function(*args)
    return executor.submit(function, *args).result()

"""Find label issues with confident learning (Northcutt et al. 2021; Thyagarajan et al. 2022).

``filter_by`` chooses how the confident joint becomes a set of flagged examples:

* ``prune_by_noise_rate`` (default): for each off-diagonal cell ``(given k, true j)`` of the
  calibrated joint, flag that many examples given ``k`` with the largest margin ``p_j - p_k``.
* ``prune_by_class``: per given class ``k``, flag the examples with the lowest ``p_k``, as many
  as the joint says are not truly ``k``.
* ``both``: flagged by both of the above.
* ``confident_learning``: the examples counted off the diagonal of the confident joint.
* ``predicted_neq_given``: ``argmax p != given`` (a baseline).
* ``low_self_confidence`` / ``low_normalized_margin``: the ``num_label_issues`` examples with
  the lowest such score.

Except for the ``low_*`` filters, an example whose given label is the model's argmax (nudged by
1e-6 toward the given label) is never flagged. Multi-label data is handled per class as a binary
problem; an example is flagged when any of its classes is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ls_cleanlab.confident import _binary, _counts, _inputs, _multiclass, scores
from ls_cleanlab.confident._binary import BinaryData
from ls_cleanlab.confident._multiclass import SingleData
from ls_cleanlab.confident._options import FILTERS, LOW_SCORE, PRUNING, FilterBy, Options
from ls_cleanlab.confident.joint import (
    binary_joint,
    binary_off_diagonal_count,
    single_joint,
    single_off_diagonal_count,
)
from ls_cleanlab.errors import (
    InvalidLabelsError,
    InvalidOptionError,
    SmallClassWarning,
    warn_user,
)

__all__ = [
    "find_label_issues",
    "issue_matrix_where_defined",
    "multilabel_issue_matrix",
    "single_label_issues",
    "small_classes",
]


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    multi_label: bool = False,
    filter_by: FilterBy = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    return_indices_ranked_by: scores.Method | None = None,
    rank_by_kwargs: dict[str, Any] | None = None,
    confident_joint: Any = None,
) -> np.ndarray:
    """Find examples whose given label is likely wrong.

    Parameters
    ----------
    labels : array_like
        Single-label: ``(N,)`` class indices in ``0..K-1`` of two classes or more (or class 0
        alone with the pruning filters and ``confident_learning``, as cleanlab). Multi-label:
        an ``(N, K)`` 0/1 matrix or N lists of class indices, e.g. ``[[0, 2], [1], []]``.
    pred_probs : array_like of shape (N, K)
        Out-of-sample predicted probabilities (from cross-validation). Single-label rows sum
        to 1; multi-label entries are independent per-class probabilities.
    multi_label : bool
    filter_by : str
        See the module docstring. Default ``"prune_by_noise_rate"``.
    frac_noise : float in [0, 1]
        Flag only this fraction of the estimated issues (pruning filters only).
    num_to_remove_per_class : sequence of K ints, optional
        Exact number of issues to flag per class (``prune_by_class``; approximate with
        ``prune_by_noise_rate``). Multi-label: per class, among examples given it present.
    min_examples_per_class : int
        Never flag examples of a class (multi-label: of a class value) with this many examples
        or fewer.
    return_indices_ranked_by : {None, "self_confidence", "normalized_margin", \
"confidence_weighted_entropy"}
        ``None`` returns a boolean mask; otherwise the indices of the flagged examples, worst
        label quality first.
    rank_by_kwargs : dict, optional
        ``{"adjust_pred_probs": bool}`` for the ranking score.
    confident_joint : array_like, optional
        A precomputed confident joint, ``(K, K)`` or multi-label ``(K, 2, 2)`` (see
        :func:`~ls_cleanlab.confident.compute_confident_joint`), used instead of computing one.

    Returns
    -------
    ndarray
        ``(N,)`` bool mask, or int64 indices when ``return_indices_ranked_by`` is set.

    Notes
    -----
    Equals cleanlab 2.9.0's ``cleanlab.filter.find_label_issues`` (single-label) and
    ``cleanlab.multilabel_classification.filter.find_label_issues`` (multi-label) for the same
    arguments, including cleanlab's choice among tied examples. One cleanlab behaviour is kept
    for parity although it looks unintended: multi-label ``low_*`` filters rank with
    ``self_confidence`` whatever the filter, and with ``return_indices_ranked_by`` they return
    the flagged indices permuted by the rank of their scores in index order.

    ``pred_probs`` are computed in float64. For float32 input cleanlab does part of its
    arithmetic in float32, so its scores, and rarely its ranking, can differ slightly from ours;
    parity is exact for float64.
    """
    data = _multi_data(labels, pred_probs) if multi_label else _inputs.single(labels, pred_probs)
    opts = Options.parse(
        k=data.k,
        multi_label=multi_label,
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        return_indices_ranked_by=return_indices_ranked_by,
        rank_by_kwargs=rank_by_kwargs,
        confident_joint=confident_joint,
    )
    if isinstance(data, BinaryData):
        return _multi(data, opts)
    _inputs.require_two_classes(data, zero_alone=opts.filter_by in (*PRUNING, "confident_learning"))
    return _single(data, opts)


def multilabel_issue_matrix(
    labels: Any,
    pred_probs: Any,
    *,
    filter_by: FilterBy = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
) -> np.ndarray:
    """Per class and example, whether the given value looks wrong, and in which direction.

    Returns
    -------
    ndarray of int8, shape (N, K)
        ``+1``: class given absent but confidently present (a likely missing label);
        ``-1``: class given present but confidently absent (a likely spurious label);
        ``0``: no issue. Rows with a nonzero entry are exactly the examples
        :func:`find_label_issues` flags with the same arguments.
    """
    if filter_by in LOW_SCORE:
        valid = [f for f in FILTERS if f not in LOW_SCORE]
        raise InvalidOptionError(
            f"filter_by={filter_by!r} ranks whole examples and has no per-class result; "
            f"choose one of {', '.join(map(repr, valid))}."
        )
    data = _multi_data(labels, pred_probs)
    opts = Options.parse(
        k=data.k,
        multi_label=True,
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        confident_joint=confident_joint,
    )
    return _signs(data, _multi_cells(data, opts))


def _signs(data: BinaryData, cells: np.ndarray) -> np.ndarray:
    """``(N, K)`` int8: at the flat ``cells``, -1 where the class is given, +1 where not."""
    out = np.zeros(data.probs.shape, dtype=np.int8)
    flat = out.reshape(-1)
    flat[cells] = np.where(data.given.reshape(-1)[cells], -1, 1)
    return out


def issue_matrix_where_defined(
    labels: np.ndarray, pred_probs: np.ndarray, *, warn: bool = True
) -> np.ndarray:
    """:func:`multilabel_issue_matrix` (default filter) on the classes it is defined for.

    A class present in every example has nothing to compare it against and gets no flags, where
    :func:`multilabel_issue_matrix` refuses the whole input (as cleanlab does); with no other
    class present anywhere nothing is flagged. Classes are judged independently, so the other
    classes' flags are exactly those of the full call.

    labels : ndarray of 0/1, shape (N, K); pred_probs : ndarray, shape (N, K).
    warn : bool
        False leaves the :class:`~ls_cleanlab.errors.SmallClassWarning` unsaid, for a caller that
        names the classes itself (silencing it with ``warnings.catch_warnings`` would change
        every thread's warning filters).
    """
    given = np.asarray(labels, dtype=np.int8)
    out = np.zeros(given.shape, dtype=np.int8)
    cols = np.flatnonzero(~given.all(axis=0))
    if len(cols) and given[:, cols].any():
        data = _multi_data(given[:, cols], np.asarray(pred_probs)[:, cols])
        opts = Options.parse(k=data.k, multi_label=True, filter_by="prune_by_noise_rate")
        out[:, cols] = _signs(data, _multi_cells(data, opts, warn=False))
        present = given[:, cols].sum(axis=0)
        if warn:  # by the column in ``labels``, not in the kept ones
            _warn_small(present, 1, "class given present", cols)
            _warn_small(len(given) - present, 1, "class given absent", cols)
    return out


def single_label_issues(labels: Any, pred_probs: Any, *, warn: bool = True) -> np.ndarray:
    """:func:`find_label_issues` with its defaults on single-label data, ``(N,)`` bool; ``warn``
    as in :func:`issue_matrix_where_defined`."""
    data = _inputs.single(labels, pred_probs)
    opts = Options.parse(k=data.k, multi_label=False, filter_by="prune_by_noise_rate")
    _inputs.require_two_classes(data, zero_alone=True)
    return _single(data, opts, warn=warn)


# Single-label ---------------------------------------------------------------------------


def _single(data: SingleData, opts: Options, *, warn: bool = True) -> np.ndarray:
    n = len(data.labels)
    mask = np.zeros(n, dtype=np.bool_)
    if opts.filter_by in LOW_SCORE:
        method: scores.Method = opts.filter_by[4:]  # type: ignore[assignment]
        quality = scores._single_scores(data, method, False)
        mask[np.argsort(quality)[: single_off_diagonal_count(data)]] = True
        return _single_ranked(data, mask, opts)
    if opts.filter_by == "confident_learning":
        mask[single_joint(data, calibrate=True)[1]] = True
    elif opts.filter_by in PRUNING:
        cj = opts.confident_joint
        if cj is None:
            cj = single_joint(data, calibrate=True)[0]
        if warn:
            _warn_small(data.label_counts, opts.min_examples, "class")
        pcm = _counts.prune_counts(
            cj,
            data.label_counts,
            min_examples_per_class=opts.min_examples,
            frac_noise=opts.frac_noise,
            num_to_remove_per_class=opts.num_to_remove,
        )
        by = {"prune_by_class": [True], "prune_by_noise_rate": [False], "both": [True, False]}
        mask[:] = True
        for by_class in by[opts.filter_by]:
            mask &= _multiclass.prune(
                data, pcm, min_examples_per_class=opts.min_examples, by_class=by_class
            )
    else:  # predicted_neq_given
        mask = data.probs.argmax(axis=1) != data.labels
    mask &= ~_multiclass.explained(data)
    return _single_ranked(data, mask, opts)


def _single_ranked(data: SingleData, mask: np.ndarray, opts: Options) -> np.ndarray:
    if opts.rank_by is None:
        return mask
    quality = scores._single_scores(data, opts.rank_by, opts.adjust_for_rank)
    return np.flatnonzero(mask)[np.argsort(quality[mask])]


# Multi-label ----------------------------------------------------------------------------


def _multi_data(labels: Any, pred_probs: Any) -> BinaryData:
    data = _inputs.multi(labels, pred_probs)
    n_pos = data.n_pos
    if not n_pos.any():
        raise InvalidLabelsError(
            "no example has any label; finding label issues needs some classes marked present."
        )
    everywhere = np.flatnonzero(n_pos == data.n)
    if len(everywhere):
        raise InvalidLabelsError(
            f"classes {everywhere.tolist()} are present in every example, so there is nothing to "
            "compare them against (cleanlab refuses this too); drop those columns first."
        )
    return data


def _multi(data: BinaryData, opts: Options) -> np.ndarray:
    if opts.filter_by in LOW_SCORE:
        return _multi_low_score(data, opts)
    cells = _multi_cells(data, opts)
    rows = np.unique(cells // data.k)
    if opts.rank_by is None:
        mask = np.zeros(data.n, dtype=np.bool_)
        mask[rows] = True
        return mask
    quality = _multi_quality(data, opts.rank_by, opts.adjust_for_rank)
    return rows[np.argsort(quality[rows])]


def _multi_quality(data: BinaryData, method: scores.Method, adjust: bool) -> np.ndarray:
    return scores.ema_scores(data, method, adjust, 0.8)


def _multi_low_score(data: BinaryData, opts: Options) -> np.ndarray:
    count = binary_off_diagonal_count(data)
    flagged = np.argsort(_multi_quality(data, "self_confidence", False))[:count]
    mask = np.zeros(data.n, dtype=np.bool_)
    mask[flagged] = True
    if opts.rank_by is None:
        return mask
    subset = BinaryData(probs=data.probs[mask], given=data.given[mask])
    return flagged[np.argsort(_multi_quality(subset, opts.rank_by, opts.adjust_for_rank))]


def _multi_cells(data: BinaryData, opts: Options, *, warn: bool = True) -> np.ndarray:
    """Flat indices ``row * K + class`` of the flagged cells; ``warn`` of small classes."""
    computed, scan = binary_joint(data, calibrate=True)
    if opts.filter_by == "confident_learning":
        return scan.candidates[scan.off_diagonal]
    if opts.filter_by == "predicted_neq_given":
        cells = scan.candidates
        predicted = data.probs.reshape(-1)[cells] > _binary.boundaries()[2]
        return cells[predicted != data.given.reshape(-1)[cells]]
    counts = data.label_counts
    if warn:
        _warn_small(counts[:, 1], opts.min_examples, "class given present")
        _warn_small(counts[:, 0], opts.min_examples, "class given absent")
    removal = opts.num_to_remove
    pcm = _counts.prune_counts(
        computed if opts.confident_joint is None else opts.confident_joint,
        counts,
        min_examples_per_class=opts.min_examples,
        frac_noise=opts.frac_noise,
        num_to_remove_per_class=(
            None if removal is None else np.column_stack([removal, np.zeros_like(removal)])
        ),
    )
    active = (counts > opts.min_examples) & (counts >= 2)
    chosen = np.ones(len(scan.candidates), dtype=np.bool_)
    if opts.filter_by in ("prune_by_noise_rate", "both"):
        # given k: flag pcm[true = 1 - k, given = k] examples
        num = np.where(active, np.column_stack([pcm[:, 1, 0], pcm[:, 0, 1]]), 0)
        chosen &= _binary.select_candidates(data, scan.candidates, num, "noise_rate")
    if opts.filter_by in ("prune_by_class", "both"):
        num = np.where(active, counts - np.column_stack([pcm[:, 0, 0], pcm[:, 1, 1]]), 0)
        chosen &= _binary.select_candidates(data, scan.candidates, num, "by_class")
    return scan.candidates[chosen]


def small_classes(counts: np.ndarray, min_examples: int) -> np.ndarray:
    """Indices of the classes with ``counts`` ``(K,)`` between 1 and ``min_examples``: their
    examples are never flagged (``min_examples_per_class``)."""
    return np.flatnonzero((counts > 0) & (counts <= min_examples))


def _warn_small(
    counts: np.ndarray, min_examples: int, what: str, classes: np.ndarray | None = None
) -> None:
    """Warn of :func:`small_classes`, named by their index in ``classes`` when given."""
    small = small_classes(counts, min_examples)
    if len(small):
        shown = small if classes is None else classes[small]
        warn_user(
            f"{what} {shown.tolist()} has at most min_examples_per_class={min_examples} "
            "examples; label issues there are not flagged.",
            SmallClassWarning,
        )

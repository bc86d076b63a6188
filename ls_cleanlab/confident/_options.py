"""The options of ``find_label_issues``, validated once into a frozen record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ls_cleanlab import validation
from ls_cleanlab.confident import scores
from ls_cleanlab.confident.joint import check_joint
from ls_cleanlab.errors import InvalidOptionError, warn_user

FilterBy = Literal[
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
]
FILTERS: tuple[FilterBy, ...] = get_args(FilterBy)
PRUNING: tuple[FilterBy, ...] = ("prune_by_noise_rate", "prune_by_class", "both")
LOW_SCORE: tuple[FilterBy, ...] = ("low_normalized_margin", "low_self_confidence")


@dataclass(frozen=True)
class Options:
    """Validated ``find_label_issues`` options for data with ``k`` classes.

    ``confident_joint`` is the user's matrix when the chosen filter uses it, else ``None``
    (with a warning when one was given but is not used).
    """

    filter_by: FilterBy
    frac_noise: float
    num_to_remove: np.ndarray | None
    min_examples: int
    rank_by: scores.Method | None
    adjust_for_rank: bool
    confident_joint: np.ndarray | None

    @classmethod
    def parse(
        cls,
        *,
        k: int,
        multi_label: bool,
        filter_by: Any,
        frac_noise: Any = 1.0,
        num_to_remove_per_class: Any = None,
        min_examples_per_class: Any = 1,
        return_indices_ranked_by: Any = None,
        rank_by_kwargs: Any = None,
        confident_joint: Any = None,
    ) -> Options:
        filter_by = validation.check_option(filter_by, FILTERS, "filter_by")
        validation.check_real(frac_noise, "frac_noise", low=0.0, high=1.0)
        min_examples = validation.check_int(min_examples_per_class, "min_examples_per_class", low=0)
        if filter_by not in PRUNING and num_to_remove_per_class is not None:
            raise InvalidOptionError(
                f"num_to_remove_per_class works only with filter_by in {PRUNING}, "
                f"not {filter_by!r}."
            )
        if filter_by not in PRUNING and frac_noise != 1.0:
            warn_user(
                f"frac_noise is ignored with filter_by={filter_by!r}; it applies to "
                f"{', '.join(PRUNING)}."
            )
        rank_by = return_indices_ranked_by
        if rank_by is not None:
            rank_by = validation.check_option(rank_by, scores.METHODS, "return_indices_ranked_by")
        kwargs = dict(rank_by_kwargs or {})
        unknown = set(kwargs) - {"adjust_pred_probs"}
        if unknown:
            raise InvalidOptionError(
                f"rank_by_kwargs accepts only 'adjust_pred_probs', got {sorted(unknown)}."
            )
        return cls(
            filter_by=filter_by,
            frac_noise=float(frac_noise),
            num_to_remove=_removal_counts(num_to_remove_per_class, k),
            min_examples=int(min_examples),
            rank_by=rank_by,
            adjust_for_rank=bool(kwargs.get("adjust_pred_probs", False)),
            confident_joint=_joint(confident_joint, k, multi_label, filter_by),
        )


def _removal_counts(value: Any, k: int) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.shape != (k,) or arr.dtype.kind not in "iu" or np.any(arr < 0):
        shown = f"shape {arr.shape}" if arr.size > 10 else repr(arr.tolist())
        raise InvalidOptionError(
            f"num_to_remove_per_class must be {k} non-negative integers (one per class), "
            f"got {shown}."
        )
    return arr.astype(np.int64)


def _joint(value: Any, k: int, multi_label: bool, filter_by: FilterBy) -> np.ndarray | None:
    if value is None:
        return None
    if multi_label and np.shape(value) == (k, k):
        warn_user(
            f"a ({k}, {k}) confident_joint is the old multi-label format and is ignored; pass "
            f"the ({k}, 2, 2) one from compute_confident_joint(..., multi_label=True)."
        )
        return None
    if filter_by not in PRUNING:
        reason = (
            "re-estimates it from labels and pred_probs"
            if filter_by in ("confident_learning", *LOW_SCORE)
            else "does not use one"
        )
        warn_user(f"confident_joint is ignored with filter_by={filter_by!r}, which {reason}.")
        return None
    return check_joint(value, multi_label=multi_label, k=k)

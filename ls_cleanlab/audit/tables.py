"""The audit's per-annotator and per-class tables (pandas). Private to :mod:`ls_cleanlab.audit`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import Agreement
from ls_cleanlab.annotators.blocks import row_blocks
from ls_cleanlab.annotators.jaccard import jaccard_cells
from ls_cleanlab.audit.bias import AnnotatorBias, ClassBias
from ls_cleanlab.audit.stats import sign_test

__all__ = ["annotators_frame", "classes_frame", "quality_without_shared_tasks"]

#: Labels per task fewer than co-annotators' (or than expected) before satisficing is flagged.
SHORTFALL = 0.2
FLAGS = ("satisficing", "anchoring", "gamblers_fallacy", "fatigue", "rushing")


def _expected_counts(ann: Annotations, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per annotator: mean own label count minus the expected count on the same tasks, and the
    sign-test p-value that the annotator gives fewer labels than expected."""
    m = ann.n_annotators
    expected = np.empty(len(ann))
    for rows in row_blocks(len(ann), ann.n_classes):  # not an (A, K) copy of present
        expected[rows] = present[ann.task[rows]].sum(axis=1)
    diff = ann.labels.sum(axis=1) - expected
    who = ann.annotator_index
    mean = np.bincount(who, weights=diff, minlength=m) / np.maximum(
        np.bincount(who, minlength=m), 1
    )
    fewer = np.bincount(who, weights=diff <= -0.5, minlength=m)
    more = np.bincount(who, weights=diff >= 0.5, minlength=m)
    return mean, sign_test(fewer, more)


def quality_without_shared_tasks(
    table: Any, ann: Annotations, present: np.ndarray, multi_label: bool
) -> Any:
    """``table`` with each annotator's ``quality`` measured against the audit's posterior
    ``present`` ``(n, K)`` where no task has two annotations (the consensus cannot compare
    annotators there, and left it NaN): the mean over its tasks of the probability its class is
    right (single-label) or of the expected Jaccard index of its set (multi-label), as the
    calibrated consensus measures quality; sorted again, worst first."""
    t = np.clip(present, 1e-12, 1.0 - 1e-12)
    if multi_label:
        none = np.exp(np.log1p(-t).sum(axis=1))
        score = np.empty(len(ann))
        for rows in row_blocks(len(ann), ann.n_classes):
            score[rows] = jaccard_cells(ann.labels[rows], t, none, ann.task[rows])
    else:
        score = t[ann.task, ann.labels.argmax(axis=1)]
    m = ann.n_annotators
    who = ann.annotator_index
    quality = np.bincount(who, weights=score, minlength=m) / np.maximum(
        np.bincount(who, minlength=m), 1
    )
    frame = table.copy()
    key = frame["annotator"].map({a: i for i, a in enumerate(ann.annotator_ids)})
    frame["quality"] = quality[key.to_numpy(dtype=np.int64)]
    return frame.sort_values("quality", kind="stable").reset_index(drop=True)


def annotators_frame(
    table: Any, bias: AnnotatorBias, ann: Annotations, present: np.ndarray, alpha: float
) -> Any:
    """Join the annotator quality table with the bias statistics and set the bias flags.

    Flags (each a bool column, and together in ``flags``):

    * ``satisficing``: gives strictly fewer labels than co-annotators on shared tasks more often
      than more (sign test p < ``alpha``), at least :data:`SHORTFALL` fewer per task; an
      annotator who shares no task is compared with the expected label count instead;
    * ``anchoring`` / ``gamblers_fallacy``: positive / negative dependence on the previous task;
    * ``fatigue``: more errors later in a work session; ``rushing``: more errors when faster.
    """
    import pandas as pd

    vs_expected, expected_p = _expected_counts(ann, present)
    stats = pd.DataFrame(
        {
            "annotator": bias.annotator_ids,
            "subset_rate": bias.subset_rate,
            "superset_rate": bias.superset_rate,
            "labels_vs_coannotators": bias.labels_vs_coannotators,
            "labels_vs_expected": vs_expected,
            "satisficing_p": np.where(np.isnan(bias.satisficing_p), expected_p, bias.satisficing_p),
            "anchoring_effect": bias.anchoring_effect,
            "anchoring_p": bias.anchoring_p,
            "gamblers_p": bias.gamblers_p,
            "fatigue_rho": bias.fatigue_rho,
            "fatigue_p": bias.fatigue_p,
            "rushing_rho": bias.rushing_rho,
            "rushing_p": bias.rushing_p,
            "lead_time_per_label": bias.lead_time_per_label,
        }
    )
    shortfall = np.where(
        np.isnan(bias.labels_vs_coannotators), vs_expected, bias.labels_vs_coannotators
    )
    with np.errstate(invalid="ignore"):
        stats["satisficing"] = (stats["satisficing_p"].to_numpy() < alpha) & (
            shortfall <= -SHORTFALL
        )
        stats["anchoring"] = stats["anchoring_p"].to_numpy() < alpha
        stats["gamblers_fallacy"] = stats["gamblers_p"].to_numpy() < alpha
        stats["fatigue"] = stats["fatigue_p"].to_numpy() < alpha
        stats["rushing"] = stats["rushing_p"].to_numpy() < alpha
    flag_matrix = stats[list(FLAGS)].to_numpy()
    stats["flags"] = [
        ", ".join(name for name, on in zip(FLAGS, row, strict=True) if on) for row in flag_matrix
    ]
    frame = table.copy()
    key = frame["annotator"].map({a: i for i, a in enumerate(bias.annotator_ids)})
    stats = stats.drop(columns="annotator")
    for column in stats.columns:
        frame[column] = stats[column].to_numpy()[key.to_numpy(dtype=np.int64)]
    return frame.reset_index(drop=True)


def classes_frame(
    names: Sequence[str],
    bias: ClassBias,
    issues: Any,
    agree: Agreement | None,
    cell_scores: np.ndarray,
    labelled: np.ndarray,
) -> Any:
    """One row per class: prevalence, estimated miss and spurious rates, issue counts, label
    quality (1 - mean cell score), Krippendorff's alpha with several annotators, and the
    ``under_labelled`` availability-bias flag."""
    import pandas as pd

    k = len(names)
    counts = {
        kind: np.bincount(
            issues.loc[issues["kind"] == kind, "class_index"].to_numpy(dtype=np.int64).clip(0),
            minlength=k,
        )[:k]
        for kind in ("missing", "spurious", "disagreement", "rule")
    }
    quality = 1.0 - cell_scores[labelled].mean(axis=0) if labelled.any() else np.full(k, np.nan)
    frame = pd.DataFrame(
        {
            "class": list(names),
            "prevalence": bias.prevalence,
            "expected_prevalence": bias.expected_prevalence,
            "miss_rate": bias.miss_rate,
            "spurious_rate": bias.spurious_rate,
            "n_missing": counts["missing"],
            "n_spurious": counts["spurious"],
            "n_disagreement": counts["disagreement"],
            "n_rule": counts["rule"],
            "quality": quality,
            "alpha": agree.per_class_alpha if agree is not None else np.full(k, np.nan),
            "under_labelled": bias.under_labelled,
        }
    )
    return frame

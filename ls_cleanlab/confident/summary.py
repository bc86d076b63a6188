"""Dataset-level summaries of multi-label label quality, as pandas DataFrames.

The same tables cleanlab 2.9.0's ``cleanlab.multilabel_classification.dataset`` prints, returned
instead of printed: which (class, direction) pairs hold the most issues, classes ranked by label
quality, and one overall health score (the fraction of examples with no flagged class).
pandas is imported only when a summary is asked for; the scoring core needs numpy alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ls_cleanlab.confident.issues import find_label_issues, multilabel_issue_matrix
from ls_cleanlab.errors import InvalidOptionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MultilabelHealth",
    "common_multilabel_issues",
    "multilabel_health_summary",
    "overall_multilabel_health_score",
    "rank_classes_by_multilabel_quality",
]


@dataclass(frozen=True)
class MultilabelHealth:
    """Everything :func:`multilabel_health_summary` finds.

    Attributes
    ----------
    score : float
        Fraction of examples with no flagged class (1 = no issues found).
    classes : pandas.DataFrame
        :func:`rank_classes_by_multilabel_quality`.
    common_issues : pandas.DataFrame
        :func:`common_multilabel_issues`.
    """

    score: float
    classes: pd.DataFrame
    common_issues: pd.DataFrame


def common_multilabel_issues(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Sequence[str] | None = None,
    confident_joint: Any = None,
) -> pd.DataFrame:
    """Issue counts per class and direction, most frequent first.

    One row per class and direction: ``In Given Label`` True means the class was given but
    looks absent (spurious), False means it was not given but looks present (missing).

    Returns
    -------
    DataFrame with columns ``Class Name`` (if ``class_names``), ``Class Index``,
    ``In Given Label``, ``In Suggested Label``, ``Num Examples``, ``Issue Probability``
    (``Num Examples / N``).
    """
    matrix = multilabel_issue_matrix(labels, pred_probs, confident_joint=confident_joint)
    return _common_issues(matrix, _class_names(class_names, matrix.shape[1]))


def _common_issues(matrix: np.ndarray, names: list[str] | None) -> pd.DataFrame:
    import pandas as pd

    n, k = matrix.shape
    spurious = np.count_nonzero(matrix == -1, axis=0)
    missing = np.count_nonzero(matrix == 1, axis=0)
    columns: dict[str, list[Any]] = {}
    if names is not None:
        columns["Class Name"] = [name for name in names for _ in range(2)]
    columns["Class Index"] = [c for c in range(k) for _ in range(2)]
    columns["In Given Label"] = [True, False] * k
    columns["In Suggested Label"] = [False, True] * k
    counts = np.column_stack([spurious, missing]).reshape(-1).astype(np.int64)
    columns["Num Examples"] = list(counts)
    columns["Issue Probability"] = list(counts / n)
    frame = pd.DataFrame(columns)
    return frame.sort_values(by=["Issue Probability"], ascending=False).reset_index(drop=True)


def rank_classes_by_multilabel_quality(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Sequence[str] | None = None,
    confident_joint: Any = None,
) -> pd.DataFrame:
    """Classes from worst to best label quality.

    Returns
    -------
    DataFrame with columns ``Class Name`` (if ``class_names``), ``Class Index``,
    ``Label Issues`` (given but looks absent), ``Inverse Label Issues`` (not given but looks
    present), ``Label Noise`` and ``Inverse Label Noise`` (those counts over N), and
    ``Label Quality Score`` (1 - Label Noise), sorted by the score, lowest first.

    Notes
    -----
    As in cleanlab, the two issue counts are recomputed as ``int(Label Noise * N)``, which can
    come out one lower than the true count through rounding (e.g. ``int(1 / 49 * 49) == 0``);
    kept for parity. :func:`common_multilabel_issues` holds the exact counts.
    """
    matrix = multilabel_issue_matrix(labels, pred_probs, confident_joint=confident_joint)
    names = _class_names(class_names, matrix.shape[1])
    return _ranked_classes(_common_issues(matrix, names), matrix.shape[0], names is not None)


def _ranked_classes(issues: pd.DataFrame, n: int, named: bool) -> pd.DataFrame:
    import pandas as pd

    per_class: dict[int, dict[str, Any]] = {}
    for row in issues.to_dict("records"):
        entry = per_class.setdefault(row["Class Index"], {})
        if named:
            entry["Class Name"] = row["Class Name"]
        prob = row["Issue Probability"]
        if row["In Given Label"]:
            entry.update(
                {
                    "Label Issues": int(prob * n),
                    "Label Noise": prob,
                    "Label Quality Score": 1 - prob,
                }
            )
        else:
            entry.update({"Inverse Label Issues": int(prob * n), "Inverse Label Noise": prob})
    frame = pd.DataFrame([{"Class Index": c, **entry} for c, entry in per_class.items()])
    order = [
        "Class Name",
        "Class Index",
        "Label Issues",
        "Inverse Label Issues",
        "Label Noise",
        "Inverse Label Noise",
        "Label Quality Score",
    ]
    if not named:
        order = order[1:]
    frame = frame.sort_values(by="Label Quality Score", ascending=True)
    return frame.reset_index(drop=True)[order]


def overall_multilabel_health_score(
    labels: Any, pred_probs: Any, *, confident_joint: Any = None
) -> float:
    """Fraction of examples none of whose classes is flagged as a label issue."""
    issues = find_label_issues(
        labels, pred_probs, multi_label=True, confident_joint=confident_joint
    )
    return 1.0 - int(np.count_nonzero(issues)) / len(issues)


def multilabel_health_summary(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Sequence[str] | None = None,
    confident_joint: Any = None,
) -> MultilabelHealth:
    """Health score, classes ranked by quality, and the most common issues, in one call."""
    matrix = multilabel_issue_matrix(labels, pred_probs, confident_joint=confident_joint)
    n, k = matrix.shape
    names = _class_names(class_names, k)
    common = _common_issues(matrix, names)
    flagged = int(np.count_nonzero(matrix.any(axis=1)))
    return MultilabelHealth(
        score=1.0 - flagged / n,
        classes=_ranked_classes(common, n, names is not None),
        common_issues=common,
    )


def _class_names(class_names: Sequence[str] | None, k: int) -> list[str] | None:
    if class_names is None:
        return None
    names = list(class_names)
    if len(names) != k:
        raise InvalidOptionError(
            f"class_names has {len(names)} entries but pred_probs has {k} columns (classes)."
        )
    return names

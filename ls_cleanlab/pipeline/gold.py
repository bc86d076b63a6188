"""Reviewed tasks: a reviewer's annotation, or one marked as ground truth, is the task's truth.

A gold task's consensus and suggested labels are its gold label, it has no issue and no review
priority, so its prediction carries no tab's marker and it leaves every review tab at the next
audit or incremental refresh (the webhook's path). Its other annotations are not votes against
the gold: the gold is known truth to the consensus (annotators' rates and weights are measured
against it, :mod:`ls_cleanlab.annotators.gold`), and
:func:`~ls_cleanlab.annotators.gold.gold_accuracy` counts per annotator how often they matched
the gold label.

Reviewers are named by email (``--reviewer``, ``LS_CLEANLAB_REVIEWERS``) or user id;
:func:`resolve_reviewers` turns emails into Label Studio user ids.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ls_cleanlab.annotators.gold import Gold
from ls_cleanlab.audit import LabelAudit
from ls_cleanlab.errors import InvalidOptionError

if TYPE_CHECKING:
    from ls_cleanlab.pipeline.options import AuditOptions, ProjectAudit
    from ls_cleanlab.studio import StudioClient

__all__ = [
    "GOLD_MEASURES",
    "gold_counts",
    "gold_scores",
    "resolve_reviewers",
    "reviewer_ids",
    "with_gold",
]


def with_gold(audit: LabelAudit, gold: Gold) -> LabelAudit:
    """``audit`` with each gold task's consensus and suggestion set to its gold label, its
    issues dropped and its priority zero."""
    if not gold.any:
        return audit
    on = gold.tasks
    consensus = np.array(audit.consensus, copy=True)
    consensus[on] = gold.labels[on]
    suggested = np.array(audit.suggested, copy=True)
    suggested[on] = gold.labels[on]
    priority = np.array(audit.priority, copy=True)
    priority[on] = 0.0
    issues = audit.issues
    if len(issues):
        issues = issues[~on[issues["task"].to_numpy(dtype=np.int64)]].reset_index(drop=True)
    return dataclasses.replace(
        audit, consensus=consensus, suggested=suggested, priority=priority, issues=issues
    )


def reviewer_ids(options: AuditOptions) -> tuple[int, ...]:
    """The reviewers' user ids; emails must have been resolved (:func:`resolve_reviewers`)."""
    emails = [r for r in options.reviewers if isinstance(r, str)]
    if emails:
        raise InvalidOptionError(
            f"reviewers named by email ({', '.join(emails)}) need Label Studio to find their "
            "user ids; audit a project (--project), or name reviewers by user id."
        )
    return tuple(int(r) for r in options.reviewers)


def resolve_reviewers(client: StudioClient, options: AuditOptions) -> AuditOptions:
    """``options`` with reviewer emails replaced by their Label Studio user ids; an email no
    user has is refused by name."""
    emails = [r for r in options.reviewers if isinstance(r, str)]
    if not emails:
        return options
    known = {
        str(user.get("email", "")).strip().lower(): int(user["id"])
        for user in client.users()
        if isinstance(user.get("id"), int)
    }
    unknown = [e for e in emails if e.strip().lower() not in known]
    if unknown:
        raise InvalidOptionError(
            f"no Label Studio user has the email {unknown[0]!r} (reviewers: "
            f"{', '.join(emails)}); check the spelling, or invite the reviewer first."
        )
    ids = [known[r.strip().lower()] if isinstance(r, str) else int(r) for r in options.reviewers]
    return dataclasses.replace(options, reviewers=tuple(dict.fromkeys(ids)))


def gold_counts(result: ProjectAudit) -> list[tuple[Any, int, int, float]]:
    """``(annotator, gold tasks labelled, matches, accuracy)`` of each annotator who labelled a
    gold task (none without gold), from ``result.gold_accuracy``."""
    table = result.gold_accuracy
    if table is None:
        return []
    shown = table[table["n_gold"] > 0]
    columns = (shown[c] for c in ("annotator", "n_gold", "n_correct", "gold_accuracy"))
    # not iterrows: a row of numbers would turn the user id into a float
    rows = zip(*columns, strict=True)
    return [(who, int(n), int(right), float(share)) for who, n, right, share in rows]


#: Column of ``ProjectAudit.gold_accuracy`` -> the measure it is called by in
#: :func:`gold_scores`: exact matches in classification, box recall and precision in boxes.
GOLD_MEASURES = {
    "gold_accuracy": "accuracy",
    "gold_recall": "box_recall",
    "gold_precision": "box_precision",
}


def gold_scores(result: ProjectAudit) -> dict[str, dict[str, float]]:
    """Each annotator who labelled a gold task, by :meth:`~ProjectAudit.annotator_name`, with
    the measures of :data:`GOLD_MEASURES` their gold tasks define (a measure with nothing to
    count is left out), rounded to 0.0001; empty without gold. Classification and box
    projects alike."""
    table = result.gold_accuracy
    if table is None:
        return {}
    scores: dict[str, dict[str, float]] = {}
    for row in table[table["n_gold"] > 0].to_dict("records"):  # records keep the ids int
        measured = {
            name: round(float(row[column]), 4)
            for column, name in GOLD_MEASURES.items()
            if column in row and np.isfinite(row[column])
        }
        if measured:
            scores[result.annotator_name(row["annotator"])] = measured
    return scores

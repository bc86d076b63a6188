"""What a box audit found, task by task: issues with reasons, annotator and class tables, and the
boxes to suggest.

:func:`review_boxes` turns the box-level :class:`~ls_cleanlab.detection.BoxAudit` into
:class:`BoxReview`:

* ``issues``, one row per finding at or above the threshold: ``missing`` (an object an annotator
  who saw the image did not box), ``swapped`` / ``badly_placed`` / ``spurious`` (a drawn box of
  the wrong class, in the wrong place, or on nothing), and ``disagreement`` (an object the
  annotators who saw the image boxed differently, some did and some did not or with different
  classes, where the audit's outcome is at least :data:`DISAGREEMENT_DOUBT` likely wrong: the
  cases a person must settle; scored by twice that doubt);
* ``priority`` per task: its worst missing or wrong score (the audit's image score);
* ``suggested``: the boxes a reviewer should end up with, the consensus objects (probability at
  least 1/2, with their most likely class and precision-weighted box) plus, with one annotator and
  a detector, the detector boxes ObjectLab finds overlooked;
* ``annotators``: recall, precision, localization, box noise, the satisficing test and a
  ``quality`` (F1 of recall and precision);
* ``classes``: objects and findings per class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.detection import BoxAnnotations, BoxAudit

__all__ = ["BoxReview", "SuggestedBoxes", "reindex_boxes", "review_boxes"]

WRONG_KINDS = ("swapped", "badly_placed", "spurious")
#: An object the annotators boxed differently is a ``disagreement`` when the audit's outcome (it
#: is an object or not; its class) is at least this likely to be wrong.
DISAGREEMENT_DOUBT = 0.1
_CLASS = re.compile(r"class (\d+)")


@dataclass(frozen=True, eq=False)
class SuggestedBoxes:
    """Boxes to suggest, over the audited tasks.

    Attributes
    ----------
    task : ndarray of int64, shape (S,)
        Row of the audited task.
    boxes : ndarray, shape (S, 4)
        x1, y1, x2, y2 in percent.
    labels : ndarray of int64, shape (S,)
    score : ndarray, shape (S,)
        Confidence that the box is a real object of that class, in [0, 1].
    kind : tuple of str, length S
        ``"agreed"`` (every annotator who saw the image boxed it), ``"missed"`` (some annotator
        did not) or ``"found"`` (no annotator did: the detector's).
    """

    task: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    score: np.ndarray
    kind: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class BoxReview:
    """A box audit over ``m`` tasks (see the module docstring).

    Attributes
    ----------
    boxes : BoxAudit
        The box-level audit; images are the audited tasks' rows.
    annotations : BoxAnnotations
        The boxes audited, ``image`` indexing the audited tasks.
    detections : list or None
        The detector's boxes per task (cleanlab's format, percent), None without a detector.
    class_names : list of str
    priority : ndarray, shape (m,)
    issues : pandas.DataFrame
        ``task, class, class_index, kind, score, reason, annotator, box, x1, y1, x2, y2``;
        ``box`` is the annotation row of a drawn box (-1 for missing and disagreement rows).
    annotators : pandas.DataFrame
    classes : pandas.DataFrame
    suggested : SuggestedBoxes
    """

    boxes: BoxAudit
    annotations: BoxAnnotations
    detections: list[list[np.ndarray]] | None
    class_names: list[str]
    priority: np.ndarray
    issues: Any
    annotators: Any
    classes: Any
    suggested: SuggestedBoxes


def reindex_boxes(ann: BoxAnnotations, rows: np.ndarray) -> BoxAnnotations:
    """The boxes and annotations of the images at ``rows``, renumbered ``0..len(rows)``."""
    n = int(ann.n_images or 0)
    position = np.full(n, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    keep = position[ann.image] >= 0
    seen_image, seen_who = np.nonzero(ann.seen[rows])
    return BoxAnnotations(
        image=position[ann.image[keep]],
        annotator=ann.annotator[keep],
        boxes=ann.boxes[keep],
        labels=ann.labels[keep],
        n_images=len(rows),
        seen_image=seen_image,
        seen_annotator=ann.annotator_ids[seen_who],
    )


def _named(reason: str, names: Sequence[str]) -> str:
    return _CLASS.sub(lambda m: repr(names[int(m.group(1))]) if int(m.group(1)) < len(names)
                      else m.group(0), reason)  # fmt: skip


def _disagreements(
    audit: BoxAudit, ann: BoxAnnotations, names: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per object its annotators boxed differently where the audit doubts the outcome."""
    c = audit.consensus
    if audit.mode != "consensus" or len(c.image) == 0:
        return []
    classes = np.zeros((len(c.image), len(names)), dtype=np.int64)  # boxes per candidate, class
    np.add.at(classes, (audit.candidate, ann.labels), 1)
    rows = []
    for cand in np.flatnonzero((c.seen >= 2) & (c.votes >= 1)):
        drawn = classes[cand]
        missed = int(c.seen[cand] - c.votes[cand])
        doubt = 0.0
        if missed:  # boxed by some, not by others: is it an object?
            doubt = min(float(c.probability[cand]), 1 - float(c.probability[cand]))
        if (drawn > 0).sum() > 1:  # boxed with different classes: which?
            doubt = max(doubt, 1 - float(c.label_probability[cand]))
        if doubt < DISAGREEMENT_DOUBT:
            continue
        drew = ", ".join(f"{n} as {names[k]!r}" for k, n in enumerate(drawn.tolist()) if n)
        rows.append({
            "task": int(c.image[cand]), "class": names[int(c.labels[cand])],
            "class_index": int(c.labels[cand]), "kind": "disagreement",
            "score": min(1.0, 2 * doubt),
            "reason": f"of {c.seen[cand]} annotators, {drew}"
                      + (f" and {missed} did not box it" if missed else "")
                      + f"; {c.probability[cand]:.0%} likely an object",
            "annotator": None, "box": -1, "box_xyxy": c.boxes[cand],
        })  # fmt: skip
    return rows


def _issues(
    audit: BoxAudit,
    ann: BoxAnnotations,
    names: Sequence[str],
    threshold: float,
    who: Mapping[int, str],
) -> Any:
    import pandas as pd

    def by(annotator: Any) -> str:
        known = annotator.item() if hasattr(annotator, "item") else annotator
        return who[known] if isinstance(known, int) and known in who else f"annotator {known}"

    rows: list[dict[str, Any]] = []
    m = audit.missing
    ids = ann.annotator_ids
    for r in np.flatnonzero(m.score >= threshold):
        k = int(m.labels[r])
        rows.append({
            "task": int(m.image[r]), "class": names[k], "class_index": k, "kind": "missing",
            "score": float(m.score[r]),
            "reason": f"{names[k]!r} not boxed by {by(ids[m.annotator[r]])}: "
                      f"{_named(m.reason[r], names)}",
            "annotator": ids[m.annotator[r]].item(), "box": -1, "box_xyxy": m.boxes[r],
        })  # fmt: skip
    w = audit.wrong
    for b in np.flatnonzero(w.score >= threshold):
        k = int(ann.labels[b])
        rows.append({
            "task": int(ann.image[b]), "class": names[k], "class_index": k, "kind": w.kind[b],
            "score": float(w.score[b]),
            "reason": f"{w.kind[b].replace('_', ' ')} box by {by(ann.annotator[b])}: "
                      f"{_named(w.reason[b], names)}",
            "annotator": ann.annotator[b].item(), "box": int(b), "box_xyxy": ann.boxes[b],
        })  # fmt: skip
    rows.extend(_disagreements(audit, ann, names))
    columns = ["task", "class", "class_index", "kind", "score", "reason", "annotator", "box"]
    frame = pd.DataFrame(rows, dtype=object, columns=[*columns, "box_xyxy"])
    corners = np.vstack(frame["box_xyxy"].to_list()) if len(frame) else np.zeros((0, 4))
    for j, name in enumerate(("x1", "y1", "x2", "y2")):
        frame[name] = corners[:, j]
    frame = frame.drop(columns=["box_xyxy"]).astype(
        {"task": np.int64, "class_index": np.int64, "score": np.float64, "box": np.int64}
    )
    return frame.sort_values(["task", "score"], ascending=[True, False], kind="stable").reset_index(
        drop=True
    )


def _annotators(audit: BoxAudit) -> Any:
    import pandas as pd

    q = audit.annotators
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * q.recall * q.precision / (q.recall + q.precision)
    return pd.DataFrame({
        "annotator": q.annotator, "quality": f1, "n_tasks": q.n_images, "n_boxes": q.n_boxes,
        "recall": q.recall, "precision": q.precision, "localization": q.localization,
        "box_noise": q.box_noise, "satisficing": q.satisficing,
        "satisficing_p": q.satisficing_pvalue, "satisficer": q.satisficer,
        "flags": np.where(q.satisficer, "satisficing", ""),
    })  # fmt: skip


def _classes(audit: BoxAudit, issues: Any, names: Sequence[str]) -> Any:
    import pandas as pd

    c = audit.consensus
    k = len(names)
    counts = {
        kind: np.bincount(
            issues.loc[issues["kind"] == kind, "class_index"].to_numpy(dtype=np.int64), minlength=k
        )[:k]
        for kind in ("missing", *WRONG_KINDS, "disagreement")
    }
    return pd.DataFrame({
        "class": list(names), "objects": np.bincount(c.labels[c.keep], minlength=k)[:k],
        **{f"n_{kind}": counts[kind] for kind in counts},
    })  # fmt: skip


def _suggested(audit: BoxAudit, threshold: float) -> SuggestedBoxes:
    c = audit.consensus
    keep = np.flatnonzero(c.keep)
    probability = np.nan_to_num(c.probability[keep], nan=1.0)
    score = probability * np.nan_to_num(c.label_probability[keep], nan=1.0)
    kind = np.where(
        c.votes[keep] == 0, "found", np.where(c.votes[keep] < c.seen[keep], "missed", "agreed")
    )
    task, boxes, labels = c.image[keep], c.boxes[keep], c.labels[keep]
    if audit.mode == "cleanlab":  # one annotator: add the detector boxes ObjectLab finds overlooked
        m = audit.missing
        extra = np.flatnonzero(m.score >= threshold)
        task = np.concatenate([task, m.image[extra]])
        boxes = np.vstack([boxes, m.boxes[extra]])
        labels = np.concatenate([labels, m.labels[extra]])
        score = np.concatenate([score, m.score[extra]])
        kind = np.concatenate([kind, np.full(len(extra), "missed")])
    order = np.lexsort((-score, task))
    return SuggestedBoxes(
        task=task[order].astype(np.int64),
        boxes=boxes[order],
        labels=labels[order].astype(np.int64),
        score=np.clip(score[order], 0.0, 1.0),
        kind=tuple(str(x) for x in kind[order]),
    )


def review_boxes(
    audit: BoxAudit,
    annotations: BoxAnnotations,
    detections: list[list[np.ndarray]] | None,
    class_names: Sequence[str],
    *,
    threshold: float = 0.5,
    settled: np.ndarray | None = None,
    names: Mapping[int, str] | None = None,
) -> BoxReview:
    """The task-level view of ``audit`` (see the module docstring); tasks ``settled`` (bool,
    ``(m,)``: reviewed, :mod:`.box_gold`) have no finding and priority zero. A finding's reason
    names its annotator as ``names`` does (user id -> name), else by id."""
    classes = [str(n) for n in class_names]
    issues = _issues(audit, annotations, classes, threshold, names or {})
    priority = np.clip(audit.image_scores, 0.0, 1.0)
    if settled is not None and settled.any():
        if len(issues):
            drop = settled[issues["task"].to_numpy(dtype=np.int64)]
            issues = issues[~drop].reset_index(drop=True)
        priority = np.where(settled, 0.0, priority)
    return BoxReview(
        boxes=audit,
        annotations=annotations,
        detections=detections,
        class_names=classes,
        priority=priority,
        issues=issues,
        annotators=_annotators(audit),
        classes=_classes(audit, issues, classes),
        suggested=_suggested(audit, threshold),
    )

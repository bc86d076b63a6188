"""Reviewed images in a bounding-box project: a reviewer's boxes, or boxes marked as ground
truth, are the image's truth.

The rule is classification's (:func:`~ls_cleanlab.annotators.gold.gold_rows`): an annotation
is gold when a reviewer made it, or when it is marked as ground truth on a task that also has
unmarked annotations; a task's gold is its latest gold annotation. A gold annotation is not one
more annotator's boxes: the audit runs on the others (:attr:`BoxGold.crowd`), the image's
findings and priority are dropped (:func:`~.box_review.review_boxes` with ``settled``) and
:func:`with_box_gold` makes the gold boxes its suggested boxes, so it leaves every box tab on
the next audit or refresh. The consensus EM holds the candidates of gold images at what the
gold says (:func:`known_boxes`, :mod:`ls_cleanlab.detection.gold`), so the annotators' rates
it learns there weigh their boxes on every other image. Each annotator's boxes on gold images
are matched one to one with
the gold boxes (same class, IoU at least :data:`GOLD_IOU`, best overlaps first): recall is the
share of gold boxes they drew, precision the share of their boxes that are gold ones, with the
counts behind both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.annotators.gold import gold_rows
from ls_cleanlab.detection import BoxAnnotations, KnownBoxes
from ls_cleanlab.detection.gold import pair_best_first, pairwise_iou
from ls_cleanlab.pipeline.box_review import BoxReview, SuggestedBoxes
from ls_cleanlab.studio import BoxTable

__all__ = [
    "GOLD_IOU",
    "BoxGold",
    "find_box_gold",
    "gold_box_accuracy",
    "known_boxes",
    "with_box_gold",
]

#: Overlap at which an annotator's box counts as drawing a gold box (of the same class).
GOLD_IOU = 0.5


@dataclass(frozen=True, eq=False)
class BoxGold:
    """Gold of a :class:`~ls_cleanlab.studio.BoxTable`'s ``n`` tasks.

    Attributes
    ----------
    tasks : np.ndarray of bool, shape (n,)
        Tasks with a gold annotation.
    boxes : BoxAnnotations
        The gold annotations' boxes (``image`` the task's row).
    crowd : BoxAnnotations
        Every other annotation's boxes and what it saw: what the audit weighs.
    """

    tasks: np.ndarray
    boxes: BoxAnnotations
    crowd: BoxAnnotations

    @property
    def any(self) -> bool:
        """Whether any task has gold."""
        return bool(self.tasks.any())


_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def _pairs(
    ann: BoxAnnotations, keep: np.ndarray, seen: tuple[np.ndarray, np.ndarray]
) -> BoxAnnotations:
    """``ann``'s boxes at ``keep`` and the (image, annotator) pairs ``seen``."""
    return BoxAnnotations(
        image=ann.image[keep], annotator=ann.annotator[keep], boxes=ann.boxes[keep],
        labels=ann.labels[keep], n_images=ann.n_images, seen_image=seen[0],
        seen_annotator=seen[1],
    )  # fmt: skip


def find_box_gold(table: BoxTable, reviewers: Collection[Any] = ()) -> BoxGold:
    """The gold of ``table`` (reviewers by Label Studio user id)."""
    n = len(table.task_ids)
    ann = table.annotations
    kept = table.kept
    tasks = np.zeros(n, dtype=bool)
    none = BoxGold(tasks, _pairs(ann, np.zeros(len(ann.image), dtype=bool), _NONE), ann)
    if kept is None or not len(kept.task):
        return none
    marked, chosen = gold_rows(
        kept.task, kept.user, kept.ground_truth, kept.created_at, n, reviewers
    )
    if not marked.any():  # the table as read: an audit without gold is unchanged
        return none
    tasks[kept.task[chosen]] = True
    width = int(max(kept.user.max(initial=0), ann.annotator.max(initial=0))) + 1
    pair = ann.image.astype(np.int64) * width + ann.annotator.astype(np.int64)
    is_gold = np.isin(pair, kept.task[chosen] * width + kept.user[chosen])
    gold_boxes = _pairs(ann, is_gold, (kept.task[chosen], kept.user[chosen]))
    if marked.all():  # nothing else to audit: the gold is all there is to weigh
        return BoxGold(tasks, gold_boxes, ann)
    crowd_pairs = np.isin(pair, kept.task[marked] * width + kept.user[marked])
    crowd = _pairs(ann, ~crowd_pairs, (kept.task[~marked], kept.user[~marked]))
    return BoxGold(tasks, gold_boxes, crowd)


def _matched(drawn: np.ndarray, drawn_labels: np.ndarray, gold: np.ndarray,
             gold_labels: np.ndarray) -> int:  # fmt: skip
    """How many of ``drawn`` boxes pair one to one with ``gold`` boxes of the same class at
    IoU at least :data:`GOLD_IOU`, best overlaps first."""
    if not len(drawn) or not len(gold):
        return 0
    same = drawn_labels[:, None] == gold_labels[None, :]
    return len(pair_best_first(np.where(same, pairwise_iou(drawn, gold), 0.0), GOLD_IOU))


def known_boxes(gold: BoxGold, rows: np.ndarray) -> KnownBoxes:
    """The gold of the tasks at ``rows``, numbered as the audit of those rows numbers them."""
    position = np.full(len(gold.tasks), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    truth = gold.boxes
    mine = position[truth.image] >= 0
    return KnownBoxes(images=gold.tasks[rows], image=position[truth.image[mine]],
                      boxes=truth.boxes[mine], labels=truth.labels[mine])  # fmt: skip


def gold_box_accuracy(gold: BoxGold) -> Any:
    """Per annotator of ``gold.crowd``: gold images it annotated (``n_gold``), gold boxes on
    them (``gold_boxes``), how many it drew (``gold_found``, recall ``gold_recall``), its own
    boxes there (``gold_drawn``) and the share of them that are gold ones (``gold_precision``);
    NaN without gold images or boxes.

    Returns
    -------
    pandas.DataFrame
        One row per annotator id of ``gold.crowd``, in id order.
    """
    import pandas as pd

    crowd, truth = gold.crowd, gold.boxes
    ids = crowd.annotator_ids
    counts = np.zeros((len(ids), 4), dtype=np.int64)  # images, gold boxes, found, drawn
    for a, who in enumerate(ids.tolist()):
        for image in np.flatnonzero(crowd.seen[:, a] & gold.tasks).tolist():
            mine = (crowd.image == image) & (crowd.annotator == who)
            real = truth.image == image
            found = _matched(crowd.boxes[mine], crowd.labels[mine], truth.boxes[real],
                             truth.labels[real])  # fmt: skip
            counts[a] += (1, int(real.sum()), found, int(mine.sum()))
    frame = pd.DataFrame(counts, columns=["n_gold", "gold_boxes", "gold_found", "gold_drawn"])
    frame.insert(0, "annotator", ids)
    found = frame["gold_found"].to_numpy(dtype=np.float64)
    for name, total in (("gold_recall", "gold_boxes"), ("gold_precision", "gold_drawn")):
        of = frame[total].to_numpy(dtype=np.float64)
        frame[name] = np.divide(found, of, out=np.full(len(of), np.nan), where=of > 0)
    return frame


def with_box_gold(review: BoxReview, gold: BoxGold, rows: np.ndarray, accuracy: Any) -> BoxReview:
    """``review`` of the tasks at ``rows`` (audited with their gold tasks settled, see
    :func:`~.box_review.review_boxes`) with each gold task's suggested boxes the gold ones
    (score 1, ``"gold"``) and the annotator table joined with ``accuracy``
    (:func:`gold_box_accuracy`; None without gold)."""
    on = gold.tasks[rows]
    if accuracy is None or not on.any():
        return review
    position = np.full(len(gold.tasks), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    s, truth = review.suggested, gold.boxes
    keep = ~on[s.task]
    mine = position[truth.image] >= 0
    task = np.concatenate([s.task[keep], position[truth.image[mine]]])
    order = np.argsort(task, kind="stable")
    kinds = [k for k, kept in zip(s.kind, keep.tolist(), strict=True) if kept]
    kinds += ["gold"] * int(mine.sum())
    suggested = SuggestedBoxes(
        task=task[order],
        boxes=np.vstack([s.boxes[keep], truth.boxes[mine]])[order],
        labels=np.concatenate([s.labels[keep], truth.labels[mine]]).astype(np.int64)[order],
        score=np.concatenate([s.score[keep], np.ones(int(mine.sum()))])[order],
        kind=tuple(kinds[i] for i in order.tolist()),
    )
    annotators = review.annotators.merge(accuracy, on="annotator", how="left")
    return dataclasses.replace(review, suggested=suggested, annotators=annotators)

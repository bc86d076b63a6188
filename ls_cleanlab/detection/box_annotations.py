"""Boxes drawn by several annotators on ``N`` images: a long-form table, one row per box.

Besides the boxes, the table records which annotator looked at which image (``seen``): an
annotator who saw an image and drew nothing says "no object here", which is evidence, while one
who never saw it says nothing. Label Studio stores exactly this: one annotation per (task,
annotator), possibly with an empty result.

Validated once, when built; every array is read-only afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidAnnotationsError

__all__ = ["BoxAnnotations"]


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def _rows(mask: np.ndarray, limit: int = 5) -> str:
    rows = np.flatnonzero(mask)
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return ", ".join(str(int(r)) for r in rows[:limit]) + more


def _indices(values: Any, name: str, size: int) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (size,):
        raise InvalidAnnotationsError(f"{name} must have shape ({size},); got {array.shape}.")
    if size and (
        array.dtype.kind not in "iuf" or not np.all(np.isfinite(array) & (array == np.floor(array)))
    ):
        raise InvalidAnnotationsError(f"{name} must hold integer indices, got dtype {array.dtype}.")
    array = array.astype(np.int64)
    if (array < 0).any():
        raise InvalidAnnotationsError(f"{name} is negative in rows {_rows(array < 0)}.")
    return array


@dataclass(frozen=True, eq=False)
class BoxAnnotations:
    """Boxes drawn by annotators on images, one row per box.

    Parameters
    ----------
    image : array_like of int, shape (B,)
        Image index of each box, in ``[0, n_images)``.
    annotator : array_like, shape (B,)
        Who drew each box: ids of any sortable scalar type (ints, strings).
    boxes : array_like of float, shape (B, 4)
        x1, y1, x2, y2 with x1 <= x2 and y1 <= y2.
    labels : array_like of int, shape (B,)
        Class index of each box, in ``[0, K)``.
    n_images : int, optional
        Number of images; by default one more than the largest image index.
    seen_image, seen_annotator : array_like, shape (S,), optional
        The (image, annotator) pairs of every annotation, including those without boxes. By
        default every annotator saw every image.

    Attributes
    ----------
    annotator_ids : ndarray, shape (A,)
        The distinct annotator ids, sorted.
    annotator_index : ndarray of int64, shape (B,)
        Each box's annotator as an index into ``annotator_ids``.
    seen : ndarray of bool, shape (N, A)
        ``seen[i, a]``: annotator ``a`` annotated image ``i``.

    Raises
    ------
    InvalidAnnotationsError
        On mismatched shapes, bad coordinates or class indices, or a box by an annotator on
        an image they are not recorded to have seen; the message names the rows.
    """

    image: np.ndarray
    annotator: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    n_images: int | None = None
    seen_image: np.ndarray | None = None
    seen_annotator: np.ndarray | None = None
    annotator_ids: np.ndarray = field(init=False, repr=False)
    annotator_index: np.ndarray = field(init=False, repr=False)
    seen: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes)
        if boxes.size == 0 and boxes.ndim <= 2:
            boxes = boxes.reshape(0, 4)
        if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.dtype.kind not in "iuf":
            raise InvalidAnnotationsError(
                f"boxes must be numbers of shape (B, 4), got shape {boxes.shape} and dtype "
                f"{boxes.dtype}."
            )
        boxes = boxes.astype(np.float64)
        size = len(boxes)
        bad = ~np.isfinite(boxes).all(axis=1)
        if bad.any():
            raise InvalidAnnotationsError(f"boxes has NaN or infinite values in rows {_rows(bad)}.")
        bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
        if bad.any():
            raise InvalidAnnotationsError(
                f"boxes must be x1, y1, x2, y2 with x1 <= x2 and y1 <= y2; rows {_rows(bad)} "
                "are not (x, y, width, height by mistake?)."
            )
        image = _indices(self.image, "image", size)
        labels = _indices(self.labels, "labels", size)
        n_images = self._n_images(image)
        annotator = np.asarray(self.annotator)
        if annotator.shape != (size,):
            raise InvalidAnnotationsError(
                f"annotator must have one id per box, shape ({size},); got {annotator.shape}."
            )
        seen_annotator = None if self.seen_annotator is None else np.asarray(self.seen_annotator)
        pool = annotator if seen_annotator is None else np.concatenate([annotator, seen_annotator])
        try:
            ids, codes = np.unique(pool, return_inverse=True)
        except TypeError as exc:
            raise InvalidAnnotationsError(f"annotator ids must be sortable: {exc}") from exc
        codes = codes.reshape(-1)
        seen = self._seen(image, codes, n_images, len(ids))
        set_ = object.__setattr__
        set_(self, "image", _frozen(image))
        set_(self, "annotator", _frozen(annotator))
        set_(self, "boxes", _frozen(boxes))
        set_(self, "labels", _frozen(labels))
        set_(self, "n_images", n_images)
        set_(self, "annotator_ids", _frozen(ids))
        set_(self, "annotator_index", _frozen(codes[:size].astype(np.int64)))
        set_(self, "seen", _frozen(seen))

    def _n_images(self, image: np.ndarray) -> int:
        top = int(image.max()) + 1 if len(image) else 0
        if self.n_images is None:
            return top
        if isinstance(self.n_images, bool) or not isinstance(self.n_images, (int, np.integer)):
            raise InvalidAnnotationsError(f"n_images must be an int, got {self.n_images!r}.")
        if self.n_images < top:
            raise InvalidAnnotationsError(
                f"image holds index {top - 1}, but n_images is {self.n_images}."
            )
        return int(self.n_images)

    def _seen(
        self, image: np.ndarray, codes: np.ndarray, n_images: int, n_annotators: int
    ) -> np.ndarray:
        if self.seen_image is None and self.seen_annotator is None:
            return np.ones((n_images, n_annotators), dtype=bool)
        if self.seen_image is None or self.seen_annotator is None:
            raise InvalidAnnotationsError("give both seen_image and seen_annotator, or neither.")
        size = len(image)
        seen_image = _indices(self.seen_image, "seen_image", len(codes) - size)
        if (seen_image >= n_images).any():
            raise InvalidAnnotationsError(
                f"seen_image holds index {int(seen_image.max())}, but n_images is {n_images}."
            )
        seen = np.zeros((n_images, n_annotators), dtype=bool)
        seen[seen_image, codes[size:]] = True
        unseen = ~seen[image, codes[:size]]
        if unseen.any():
            raise InvalidAnnotationsError(
                f"rows {_rows(unseen)} are boxes by an annotator on an image that seen_image and "
                "seen_annotator do not list; list every (image, annotator) annotation."
            )
        return seen

    @property
    def n_annotators(self) -> int:
        return len(self.annotator_ids)

    @classmethod
    def from_labels(cls, per_annotator: Mapping[Any, Sequence[Any]]) -> BoxAnnotations:
        """Build from cleanlab-style labels, one list per annotator.

        Parameters
        ----------
        per_annotator : dict
            ``{annotator id: [labels of image 0, labels of image 1, ...]}``, each entry a dict
            ``{"bboxes": (L, 4), "labels": (L,)}``, or None where the annotator did not
            annotate the image. All lists have the same length ``N``.
        """
        lengths = {len(v) for v in per_annotator.values()}
        if len(lengths) > 1:
            raise InvalidAnnotationsError(
                f"every annotator's list must have one entry per image; got lengths {lengths}."
            )
        n_images = lengths.pop() if lengths else 0
        parts: dict[str, list[Any]] = {k: [] for k in ("image", "who", "box", "label", "si", "sa")}
        for who, per_image in per_annotator.items():
            for i, item in enumerate(per_image):
                if item is None:
                    continue
                if not isinstance(item, Mapping) or "bboxes" not in item or "labels" not in item:
                    raise InvalidAnnotationsError(
                        f"annotator {who!r}, image {i}: expected a dict with 'bboxes' and "
                        "'labels', or None."
                    )
                found = np.asarray(item["bboxes"], dtype=np.float64).reshape(-1, 4)
                parts["box"].append(found)
                parts["label"].append(np.asarray(item["labels"]).reshape(-1))
                parts["image"].append(np.full(len(found), i))
                parts["who"].append([who] * len(found))
                parts["si"].append(i)
                parts["sa"].append(who)
        return cls(
            image=np.concatenate(parts["image"]) if parts["image"] else np.zeros(0, np.int64),
            annotator=np.array([w for chunk in parts["who"] for w in chunk]),
            boxes=np.concatenate(parts["box"]) if parts["box"] else np.zeros((0, 4)),
            labels=np.concatenate(parts["label"]) if parts["label"] else np.zeros(0, np.int64),
            n_images=n_images,
            seen_image=np.array(parts["si"], dtype=np.int64),
            seen_annotator=np.array(parts["sa"]),
        )

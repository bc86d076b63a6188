"""Boxes of many images as flat arrays, and the checks that turn cleanlab-style inputs into them.

cleanlab's object detection API takes, for ``N`` images,

* ``labels``: a list of ``N`` dicts with ``"bboxes"`` ``(L, 4)`` (x1, y1, x2, y2) and
  ``"labels"`` ``(L,)`` class indices;
* ``predictions``: a list of ``N`` sequences of ``K`` arrays, ``predictions[i][k]`` of shape
  ``(M, 5)``: x1, y1, x2, y2 and the confidence that the box holds an object of class ``k``.

Every computation of this package runs on all images at once, so both are concatenated into a
:class:`FlatBoxes`: the boxes of image 0, then image 1, ... with ``offsets`` marking where each
image starts. Predicted boxes of one image are ordered class by class, rows in given order, which
is the order cleanlab gives them (``_separate_prediction``).

The checks run once, at the public edge; the message names the image, the field and the box.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidLabelsError, InvalidPredProbsError

__all__ = [
    "FlatBoxes",
    "check_label_classes",
    "check_labels",
    "check_predictions",
    "flat_boxes",
    "image_of",
]


@dataclass(frozen=True, eq=False)
class FlatBoxes:
    """Boxes of ``N`` images, concatenated image by image.

    Attributes
    ----------
    boxes : ndarray of float64, shape (B, 4)
        x1, y1, x2, y2.
    classes : ndarray of int64, shape (B,)
    offsets : ndarray of int64, shape (N + 1,)
        Image ``i`` holds boxes ``offsets[i]:offsets[i + 1]``.
    image : ndarray of int64, shape (B,)
        The image of each box.
    confidence : ndarray of float64, shape (B,), or None
        Predicted boxes only: the model's confidence in the box's class.
    """

    boxes: np.ndarray
    classes: np.ndarray
    offsets: np.ndarray
    image: np.ndarray
    confidence: np.ndarray | None = None

    @property
    def n_images(self) -> int:
        return len(self.offsets) - 1

    @property
    def counts(self) -> np.ndarray:
        """(N,) number of boxes per image."""
        return np.diff(self.offsets)

    def split(self, values: np.ndarray) -> list[np.ndarray]:
        """Cut a per-box array ``(B, ...)`` into a list of ``N`` per-image arrays."""
        return [values[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)]


def image_of(counts: np.ndarray) -> np.ndarray:
    """(B,) image index of each box, given ``(N,)`` box counts per image."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def flat_boxes(
    boxes: np.ndarray,
    classes: np.ndarray,
    counts: np.ndarray | list[int],
    confidence: np.ndarray | None = None,
) -> FlatBoxes:
    """Build a :class:`FlatBoxes` from concatenated arrays and per-image counts."""
    counts = np.asarray(counts, dtype=np.int64)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return FlatBoxes(
        boxes=np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
        classes=np.asarray(classes, dtype=np.int64),
        offsets=offsets,
        image=image_of(counts),
        confidence=confidence,
    )


def _label_locator(counts: np.ndarray) -> Callable[[int], str]:
    """Name of the given box at a flat index: ``labels[i]['bboxes'] row j``."""
    starts = np.concatenate(([0], np.cumsum(counts)))

    def locate(flat_index: int) -> str:
        image = int(np.searchsorted(starts, flat_index, side="right")) - 1
        return f"labels[{image}]['bboxes'] row {flat_index - int(starts[image])}"

    return locate


def _prediction_locator(per_class: np.ndarray) -> Callable[[int], str]:
    """Name of the predicted box at a flat index: ``predictions[i][k] row j``."""
    starts = np.concatenate(([0], np.cumsum(per_class.ravel())))
    n_classes = per_class.shape[1]

    def locate(flat_index: int) -> str:
        cell = int(np.searchsorted(starts, flat_index, side="right")) - 1
        image, k = divmod(cell, n_classes)
        return f"predictions[{image}][{k}] row {flat_index - int(starts[cell])}"

    return locate


def _numeric(array: np.ndarray, field: str, error: type[Exception]) -> None:
    if array.dtype.kind not in "iuf":
        raise error(f"{field} must hold numbers, got dtype {array.dtype}.")


def _check_coordinates(
    boxes: np.ndarray, locate: Callable[[int], str], error: type[Exception]
) -> None:
    """Finite coordinates with x1 <= x2 and y1 <= y2, or an error naming the first bad box."""
    bad = ~np.isfinite(boxes).all(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        raise error(f"{locate(first)} has a NaN or infinite coordinate: {boxes[first].tolist()}.")
    bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if bad.any():
        first = int(np.argmax(bad))
        raise error(
            f"{locate(first)} is {boxes[first].tolist()}: boxes are x1, y1, x2, y2 with "
            "x1 <= x2 and y1 <= y2 (are they x, y, width, height?); "
            f"{int(bad.sum())} such boxes in all."
        )


def _label_arrays(item: Any, i: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(item, Mapping) or "bboxes" not in item or "labels" not in item:
        raise InvalidLabelsError(
            f"labels[{i}] must be a dict with keys 'bboxes' (L, 4) and 'labels' (L,); got "
            f"{type(item).__name__}"
            + (f" with keys {sorted(map(str, item))}" if isinstance(item, Mapping) else "")
            + "."
        )
    bboxes = np.asarray(item["bboxes"])
    classes = np.asarray(item["labels"])
    if bboxes.size == 0 and bboxes.ndim <= 2:
        bboxes = bboxes.reshape(0, 4)
    if bboxes.ndim != 2 or bboxes.shape[1] != 4:
        raise InvalidLabelsError(
            f"labels[{i}]['bboxes'] has shape {bboxes.shape}; expected (L, 4) rows of "
            "x1, y1, x2, y2."
        )
    if classes.ndim != 1 or len(classes) != len(bboxes):
        raise InvalidLabelsError(
            f"labels[{i}]['labels'] has shape {classes.shape}; expected ({len(bboxes)},), one "
            "class index per row of 'bboxes'."
        )
    _numeric(bboxes, f"labels[{i}]['bboxes']", InvalidLabelsError)
    if len(classes) and (
        classes.dtype.kind not in "iuf"
        or (classes.dtype.kind == "f" and not np.all(np.floor(classes) == classes))
    ):
        raise InvalidLabelsError(
            f"labels[{i}]['labels'] must hold integer class indices, got "
            f"{classes[:5].tolist()} (dtype {classes.dtype})."
        )
    return bboxes, classes


def _as_sequence(value: Any, name: str, error: type[Exception]) -> Sequence[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__"):
        raise error(f"{name} must be a list with one entry per image, got {type(value).__name__}.")
    return value


def check_labels(labels: Any) -> FlatBoxes:
    """Validate cleanlab-style ``labels`` and flatten them.

    Parameters
    ----------
    labels : list of N dicts
        ``{"bboxes": (L, 4), "labels": (L,)}`` per image; other keys are ignored.

    Raises
    ------
    InvalidLabelsError
        Naming the image and the field that is wrong.
    """
    labels = _as_sequence(labels, "labels", InvalidLabelsError)
    parts = [_label_arrays(item, i) for i, item in enumerate(labels)]
    counts = np.array([len(c) for _, c in parts], dtype=np.int64)
    boxes = (
        np.concatenate([b for b, _ in parts]).astype(np.float64)
        if parts
        else np.zeros((0, 4), dtype=np.float64)
    )
    classes = np.concatenate([c.astype(np.float64) for _, c in parts]) if parts else np.zeros(0)
    locate = _label_locator(counts)
    _check_coordinates(boxes, locate, InvalidLabelsError)
    bad = ~(np.abs(classes) < 2**53)
    if bad.any():
        first = int(np.argmax(bad))
        raise InvalidLabelsError(
            f"{locate(first).replace('bboxes', 'labels')}: {classes[first]!r} is not a class index."
        )
    return flat_boxes(boxes, classes.astype(np.int64), counts)


def check_label_classes(labels: FlatBoxes, n_classes: int) -> None:
    """Every given class index lies in ``[0, n_classes)``, or InvalidLabelsError."""
    bad = (labels.classes < 0) | (labels.classes >= n_classes)
    if bad.any():
        first = int(np.argmax(bad))
        where = _label_locator(labels.counts)(first).replace("'bboxes'", "'labels'")
        raise InvalidLabelsError(
            f"{where} is {labels.classes[first]}, but the predictions "
            f"have {n_classes} classes: class indices must lie in [0, {n_classes}); "
            f"{int(bad.sum())} such boxes in all."
        )


def _prediction_arrays(item: Any, i: int, n_classes: int) -> list[np.ndarray]:
    if isinstance(item, (str, bytes, Mapping)) or not hasattr(item, "__len__"):
        raise InvalidPredProbsError(
            f"predictions[{i}] must be a list of {n_classes} arrays of shape (M, 5), one per "
            f"class; got {type(item).__name__}."
        )
    if len(item) != n_classes:
        raise InvalidPredProbsError(
            f"predictions[{i}] has {len(item)} class arrays but predictions[0] has {n_classes}; "
            "every image needs one (M, 5) array per class, empty ones as np.zeros((0, 5))."
        )
    arrays = []
    for k, per_class in enumerate(item):
        array = np.asarray(per_class)
        if array.ndim != 2 or array.shape[1] != 5:
            raise InvalidPredProbsError(
                f"predictions[{i}][{k}] has shape {array.shape}; expected (M, 5) rows of "
                "x1, y1, x2, y2, confidence (an image without boxes of a class: "
                "np.zeros((0, 5)))."
            )
        _numeric(array, f"predictions[{i}][{k}]", InvalidPredProbsError)
        arrays.append(array)
    return arrays


def check_predictions(predictions: Any, *, n_images: int) -> tuple[FlatBoxes, int]:
    """Validate cleanlab-style ``predictions`` and flatten them.

    Returns
    -------
    FlatBoxes
        With ``confidence`` set; each image's boxes ordered class by class.
    int
        The number of classes ``K`` (``len(predictions[0])``).

    Raises
    ------
    InvalidPredProbsError
        Naming the image, the class and the field that is wrong.
    InvalidLabelsError
        When there are not as many predictions as images in ``labels``.
    """
    predictions = _as_sequence(predictions, "predictions", InvalidPredProbsError)
    if len(predictions) != n_images:
        raise InvalidLabelsError(
            f"labels and predictions must describe the same images: got {n_images} labels and "
            f"{len(predictions)} predictions."
        )
    if n_images == 0:
        return flat_boxes(np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(0)), 0
    first = predictions[0]
    n_classes = len(first) if hasattr(first, "__len__") and not isinstance(first, str) else 0
    if n_classes == 0:
        raise InvalidPredProbsError(
            "predictions[0] must be a list of K >= 1 arrays of shape (M, 5), one per class."
        )
    arrays = [_prediction_arrays(item, i, n_classes) for i, item in enumerate(predictions)]
    per_class = np.array([[len(a) for a in row] for row in arrays], dtype=np.int64)
    rows = np.concatenate([a for row in arrays for a in row]).astype(np.float64)
    counts = per_class.sum(axis=1)
    locate = _prediction_locator(per_class)
    _check_coordinates(rows[:, :4], locate, InvalidPredProbsError)
    confidence = rows[:, 4]
    bad = ~((confidence >= 0) & (confidence <= 1))
    if bad.any():
        first = int(np.argmax(bad))
        raise InvalidPredProbsError(
            f"{locate(first)} has confidence {float(confidence[first])!r}; "
            f"confidences (column 5) must lie in [0, 1]; {int(bad.sum())} such boxes in all."
        )
    classes = np.repeat(np.tile(np.arange(n_classes), n_images), per_class.ravel())
    return flat_boxes(rows[:, :4], classes, counts, np.ascontiguousarray(confidence)), n_classes

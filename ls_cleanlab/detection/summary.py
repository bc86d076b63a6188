"""Data set summaries of object detection labels and predictions, as cleanlab 2.9.0's
``cleanlab.object_detection.summary``.

The same functions, arguments and results (lists and dicts of the same values, keys in the same
order), computed on the flat arrays of :mod:`._boxes` instead of box by box; the per-class
confusion counts reuse the matching of the mean average precision (:mod:`._average_precision`).
Left out: cleanlab's ``auxiliary_inputs`` argument (the output of one of its private functions;
pass ``labels`` and ``predictions``), ``num_procs`` (accepted, nothing to parallelize), and the
matplotlib drawings ``plot_class_size_distributions``, ``plot_class_distribution`` and
``visualize``.

cleanlab's quirks, kept for parity: the "average" confusion counts are divided by the number of
thresholds times the number of classes (not the thresholds alone), in float32; a class without
predicted boxes gets NaN precision and F1 (0 / 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ls_cleanlab.detection._average_precision import true_positive_counts
from ls_cleanlab.detection._boxes import (
    FlatBoxes,
    check_label_classes,
    check_labels,
    check_predictions,
)
from ls_cleanlab.detection._constants import ALPHA, AP_IOU_THRESHOLDS, EPSILON, TINY_VALUE
from ls_cleanlab.detection._objectlab import pair_table
from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError

__all__ = [
    "bounding_box_size_distribution",
    "calculate_per_class_metrics",
    "class_label_distribution",
    "get_average_per_class_confusion_matrix",
    "get_sorted_bbox_count_idxs",
    "object_counts_per_image",
]

_KINDS = ("TP", "FP", "FN")


def object_counts_per_image(labels: Any = None, predictions: Any = None) -> tuple[list, list]:
    """Given and predicted boxes per image: two lists of ``N`` ints.

    ``labels`` and ``predictions`` in cleanlab's format (see :mod:`ls_cleanlab.detection`)."""
    given, predicted, _ = _inputs(labels, predictions)
    return given.counts.tolist(), predicted.counts.tolist()


def get_sorted_bbox_count_idxs(labels: Any, predictions: Any) -> tuple[list, list]:
    """``(image, count)`` pairs from most boxes to fewest (ties in image order), for the given
    and for the predicted boxes."""
    given, predicted = object_counts_per_image(labels, predictions)
    return _sorted_counts(given), _sorted_counts(predicted)


def _sorted_counts(counts: list[int]) -> list[tuple[int, int]]:
    order = np.argsort(-np.asarray(counts, dtype=np.int64), kind="stable")
    return [(int(i), counts[i]) for i in order]


def bounding_box_size_distribution(
    labels: Any = None,
    predictions: Any = None,
    *,
    class_names: Mapping[Any, Any] | None = None,
    sort: bool = False,
) -> tuple[dict[Any, list], dict[Any, list]]:
    """Areas of the given and of the predicted boxes, by class.

    Parameters
    ----------
    labels, predictions
        cleanlab's formats.
    class_names : dict, optional
        ``{"0": "cat", ...}``: keys become names, and classes without a name are left out.
    sort : bool
        Order the classes by number of boxes, most first.

    Returns
    -------
    tuple of two dicts
        Class (or name) to the list of box areas ``(x2 - x1)(y2 - y1)``, in image order; given
        boxes' areas in their array's dtype, predicted ones' in float64, as cleanlab's.
    """
    given, predicted, _ = _inputs(labels, predictions)
    given_areas = _given_areas(labels)
    out = []
    for flat, areas in ((given, given_areas), (predicted, _areas(predicted.boxes))):
        by_class = _grouped(flat.classes, areas, class_names, skip_unnamed=True)
        if sort:
            by_class = dict(sorted(by_class.items(), key=lambda item: -len(item[1])))
        out.append(by_class)
    return out[0], out[1]


def class_label_distribution(
    labels: Any = None, predictions: Any = None, *, class_names: Mapping[Any, Any] | None = None
) -> tuple[dict[Any, float], dict[Any, float]]:
    """Share of the given and of the predicted boxes in each class (or name), rounded to two
    decimals as cleanlab does (``round(count / (total + 1e-6), 2)``); every class needs a name
    when ``class_names`` is given."""
    given, predicted, _ = _inputs(labels, predictions)
    out = []
    for flat in (given, predicted):
        counts = _grouped(flat.classes, None, class_names, skip_unnamed=False)
        total = sum(counts.values())
        out.append({key: round(value / (total + EPSILON), 2) for key, value in counts.items()})
    return out[0], out[1]


def get_average_per_class_confusion_matrix(
    labels: Any,
    predictions: Any,
    num_procs: int = 1,
    class_names: Mapping[Any, Any] | None = None,
) -> dict[Any, dict[str, Any]]:
    """Per class, the true positive, false positive and false negative predicted boxes,
    averaged over the IoU thresholds 0.50, 0.55, ..., 0.95 as cleanlab does (float32, divided by
    10 times the number of classes).

    A predicted box is a true positive when, visited in decreasing confidence within its image,
    its best-overlapping given box of its class reaches the threshold and is not matched yet;
    given boxes left unmatched are false negatives. ``class_names`` ``{"0": "cat", ...}``
    (sorted by key) renames the classes; ``num_procs`` is accepted and ignored.
    """
    given, predicted, k = _inputs(labels, predictions)
    check_label_classes(given, k)
    names = _names(class_names, k)
    pairs = pair_table(given, predicted, ALPHA)
    tp = true_positive_counts(given, predicted, pairs, k)
    fp = np.bincount(predicted.classes, minlength=k) - tp
    fn = np.bincount(given.classes, minlength=k) - tp
    counts = {"TP": tp, "FP": fp, "FN": fn}
    # cleanlab's scalar arithmetic: float32 counts added to 0.0, then divided
    avg: dict[Any, dict[str, Any]] = {name: dict.fromkeys(_KINDS, 0.0) for name in names}
    for t in range(len(AP_IOU_THRESHOLDS)):
        for c in range(k):
            for kind in _KINDS:
                avg[names[c]][kind] += np.float32(counts[kind][t, c])
    n_thresholds = len(AP_IOU_THRESHOLDS) * k
    for metrics in avg.values():
        for kind in _KINDS:
            metrics[kind] /= n_thresholds
    return avg


def calculate_per_class_metrics(
    labels: Any,
    predictions: Any,
    num_procs: int = 1,
    class_names: Mapping[Any, Any] | None = None,
) -> dict[Any, dict[str, Any]]:
    """Per class, ``"average precision"``, ``"average recall"`` and ``"average f1"`` of the
    detector, from :func:`get_average_per_class_confusion_matrix` (NaN precision and F1 for a
    class without predicted boxes, as cleanlab's 0 / 0)."""
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, m in get_average_per_class_confusion_matrix(
            labels, predictions, num_procs, class_names
        ).items():
            precision = m["TP"] / (m["TP"] + m["FP"] + TINY_VALUE)
            recall = m["TP"] / (m["TP"] + m["FN"] + TINY_VALUE)
            f1 = 2 * (precision * recall) / (precision + recall + TINY_VALUE)
            out[name] = {"average precision": precision, "average recall": recall, "average f1": f1}
    return out


def _inputs(labels: Any, predictions: Any) -> tuple[FlatBoxes, FlatBoxes, int]:
    if labels is None or predictions is None:
        raise InvalidOptionError(
            "both labels and predictions are needed (cleanlab's auxiliary_inputs is not taken)."
        )
    given = check_labels(labels)
    predicted, k = check_predictions(predictions, n_images=given.n_images)
    return given, predicted, k


def _names(class_names: Mapping[Any, Any] | None, k: int) -> list[Any]:
    """cleanlab's class names: the values sorted by integer key, or the class indices."""
    if class_names is None:
        return list(range(k))
    try:
        names = [name for _, name in sorted(class_names.items(), key=lambda kv: int(kv[0]))]
    except (TypeError, ValueError) as exc:
        raise InvalidOptionError(
            f"class_names keys must be class indices such as '0', '1'; got {list(class_names)}."
        ) from exc
    if len(names) < k:
        raise InvalidOptionError(
            f"class_names has {len(names)} names but the predictions have {k} classes."
        )
    return names


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _given_areas(labels: Any) -> np.ndarray:
    """Given boxes' areas computed in their own arrays' dtype, as cleanlab does box by box."""
    arrays = [np.asarray(item["bboxes"]).reshape(-1, 4) for item in labels]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return np.zeros(0)
    if len({a.dtype for a in arrays}) == 1:
        return _areas(np.concatenate(arrays))
    # dtypes differ between images: keep each area a scalar of its own image's dtype
    out = np.empty(sum(len(a) for a in arrays), dtype=object)
    out[:] = [area for a in arrays for area in _areas(a)]
    return out


def _grouped(
    classes: np.ndarray,
    values: np.ndarray | None,
    class_names: Mapping[Any, Any] | None,
    *,
    skip_unnamed: bool,
) -> dict[Any, Any]:
    """Per class (or name), in order of first appearance: the list of ``values`` of its boxes
    in box order, or (``values`` None) their number."""
    present, first = np.unique(classes, return_index=True)
    keys: dict[Any, list[int]] = {}  # key -> its classes, keys by first appearance
    for c in present[np.argsort(first)]:
        key: Any = int(c)
        if class_names is not None:
            if str(key) not in class_names:
                if skip_unnamed:
                    continue
                raise InvalidLabelsError(
                    f"class {key} has no name in class_names (which names {list(class_names)})."
                )
            key = class_names[str(key)]
        keys.setdefault(key, []).append(int(c))
    out: dict[Any, Any] = {}
    for key, members in keys.items():
        mask = np.isin(classes, members)
        out[key] = int(mask.sum()) if values is None else list(values[mask])
    return out

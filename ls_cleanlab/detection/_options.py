"""Checks of the scalar options and of auxiliary inputs of the cleanlab-compatible functions."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.detection._boxes import FlatBoxes, flat_boxes
from ls_cleanlab.detection._constants import ALPHA, DEFAULT_WEIGHTS
from ls_cleanlab.detection._geometry import block_pairs, closeness, iou, similarity
from ls_cleanlab.detection._objectlab import Pairs
from ls_cleanlab.errors import InvalidOptionError

__all__ = ["AuxiliaryData", "check_unit", "check_weights", "from_auxiliary"]

_AUX_KEYS = ("lab_bboxes", "lab_labels", "pred_bboxes", "pred_labels", "pred_label_probs")


def _real(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def check_unit(name: str, value: Any, default: float) -> float:
    """``value`` (``default`` when None) as a float in [0, 1], or InvalidOptionError."""
    if value is None:
        return default
    number = _real(value)
    if number is None or not 0 <= number <= 1:
        raise InvalidOptionError(f"{name} must be a number in [0, 1], got {value!r}.")
    return number


def check_positive(name: str, value: Any, default: float) -> float:
    """``value`` (``default`` when None) as a positive float, or InvalidOptionError."""
    if value is None:
        return default
    number = _real(value)
    if number is None or number <= 0:
        raise InvalidOptionError(f"{name} must be a positive number, got {value!r}.")
    return number


def check_weights(weights: Mapping[str, Any] | None) -> dict[str, float]:
    """Aggregation weights of the three subscores: non-negative and summing to 1."""
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(weights, Mapping) or set(weights) != set(DEFAULT_WEIGHTS):
        raise InvalidOptionError(
            "aggregation_weights must be a dict with keys 'overlooked', 'swap' and 'badloc'; "
            f"got {weights!r}."
        )
    values = {key: weights[key] for key in DEFAULT_WEIGHTS}
    numbers_ = [_real(v) for v in values.values()]
    if any(v is None or v < 0 for v in numbers_) or not np.isclose(
        sum(v or 0.0 for v in numbers_), 1.0
    ):
        raise InvalidOptionError(
            f"aggregation_weights must be non-negative numbers summing to 1; got {values}."
        )
    return {key: float(v) for key, v in values.items()}


@dataclass(frozen=True, eq=False)
class AuxiliaryData:
    """What cleanlab's ``auxiliary_inputs`` carry, flattened: boxes, pairs and ``s_min``.

    Attributes
    ----------
    labels, preds : FlatBoxes
    pairs : Pairs
        Similarity as given (computed from the boxes with ``alpha`` where not given), IoU
        computed from the boxes.
    given_iou : ndarray, shape (P,)
        The IoU matrices as given, where given (else computed): only the badly-located score
        reads them, as in cleanlab.
    s_min : ndarray, shape (N,)
        Each image's ``min_possible_similarity``, or its own smallest non-zero similarity.
    """

    labels: FlatBoxes
    preds: FlatBoxes
    pairs: Pairs
    given_iou: np.ndarray
    s_min: np.ndarray


def _aux_array(item: Mapping[str, Any], i: int, key: str, width: int | None) -> np.ndarray:
    array = np.asarray(item[key])
    if width is not None and array.size == 0:
        array = array.reshape(0, width)
    bad_shape = array.ndim != (1 if width is None else 2) or (
        width is not None and array.shape[1] != width
    )
    if bad_shape or array.dtype.kind not in "iuf" or not np.all(np.isfinite(array)):
        want = "(n,)" if width is None else f"(n, {width})"
        raise InvalidOptionError(
            f"auxiliary_inputs[{i}][{key!r}] must be a finite numeric array of shape {want}; "
            f"got shape {array.shape}, dtype {array.dtype}."
        )
    return array.astype(np.float64)


def _aux_matrix(item: Mapping[str, Any], i: int, key: str, shape: tuple[int, int]) -> Any:
    value = item.get(key)
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape and not (array.size == 0 and 0 in shape):
        raise InvalidOptionError(
            f"auxiliary_inputs[{i}][{key!r}] has shape {array.shape}; expected {shape} "
            "(given boxes by predicted boxes)."
        )
    return array.reshape(shape)


def from_auxiliary(aux: Any, alpha: float) -> AuxiliaryData:
    """Check and flatten cleanlab-style ``auxiliary_inputs`` (a list of N per-image dicts)."""
    if isinstance(aux, (str, bytes, Mapping)) or not hasattr(aux, "__len__"):
        raise InvalidOptionError("auxiliary_inputs must be a list of per-image dicts.")
    parts = []
    for i, item in enumerate(aux):
        if not isinstance(item, Mapping) or any(key not in item for key in _AUX_KEYS):
            raise InvalidOptionError(
                f"auxiliary_inputs[{i}] must be a dict with keys {list(_AUX_KEYS)}, and "
                "optionally 'similarity_matrix', 'iou_matrix', 'min_possible_similarity'."
            )
        lab_boxes = _aux_array(item, i, "lab_bboxes", 4)
        pred_boxes = _aux_array(item, i, "pred_bboxes", 4)
        vectors = [_aux_array(item, i, key, None) for key in _AUX_KEYS[3:]]
        vectors.insert(0, _aux_array(item, i, "lab_labels", None))
        for key, vector in (("lab_labels", vectors[0]), ("pred_labels", vectors[1])):
            if not np.all(np.floor(vector) == vector):
                raise InvalidOptionError(
                    f"auxiliary_inputs[{i}][{key!r}] must hold integer class indices."
                )
        if (len(vectors[0]), len(vectors[1]), len(vectors[2])) != (
            len(lab_boxes),
            len(pred_boxes),
            len(pred_boxes),
        ):
            raise InvalidOptionError(
                f"auxiliary_inputs[{i}]: lab_labels needs one entry per row of lab_bboxes, and "
                "pred_labels and pred_label_probs one per row of pred_bboxes."
            )
        shape = (len(lab_boxes), len(pred_boxes))
        sim = _aux_matrix(item, i, "similarity_matrix", shape)
        given_iou = _aux_matrix(item, i, "iou_matrix", shape) if sim is not None else None
        floor = item.get("min_possible_similarity")
        parts.append((lab_boxes, pred_boxes, vectors, sim, given_iou, floor))
    return _flatten_auxiliary(parts, alpha)


def _flatten_auxiliary(parts: list[Any], alpha: float) -> AuxiliaryData:
    n = len(parts)
    labels = flat_boxes(
        np.concatenate([p[0] for p in parts]) if n else np.zeros((0, 4)),
        np.concatenate([p[2][0] for p in parts]) if n else np.zeros(0),
        [len(p[0]) for p in parts],
    )
    preds = flat_boxes(
        np.concatenate([p[1] for p in parts]) if n else np.zeros((0, 4)),
        np.concatenate([p[2][1] for p in parts]) if n else np.zeros(0),
        [len(p[1]) for p in parts],
        np.concatenate([p[2][2] for p in parts]) if n else np.zeros(0),
    )
    rows, cols, offsets = block_pairs(labels.offsets, preds.offsets)
    overlap = iou(labels.boxes[rows], preds.boxes[cols])
    sim = similarity(overlap, closeness(labels.boxes[rows], preds.boxes[cols]), alpha)
    given_iou = overlap.copy()
    s_min = np.ones(n)
    for i, (_, _, _, given_sim, given_overlap, floor) in enumerate(parts):
        block = slice(offsets[i], offsets[i + 1])
        if given_sim is not None:
            sim[block] = given_sim.ravel()
        if given_overlap is not None:
            given_iou[block] = given_overlap.ravel()
        if floor is not None:
            s_min[i] = float(floor)
        else:
            nonzero = sim[block][sim[block] != 0]
            s_min[i] = nonzero.min() if len(nonzero) else 1.0
    pairs = Pairs(label=rows, pred=cols, offsets=offsets, iou=overlap, similarity=sim)
    return AuxiliaryData(labels, preds, pairs, given_iou, s_min)


def default_alpha(alpha: Any) -> float:
    return check_unit("alpha", alpha, ALPHA)

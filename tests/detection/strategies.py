"""Hypothesis strategies for object detection inputs, biased toward the hard cases.

Boxes sit on a small grid (so given and predicted boxes coincide, touch along an edge or overlap
exactly), some are zero-area, some far apart (similarity 0), and confidences come from a set of
tie values that includes cleanlab's cut points 0.5 and 0.95. Images without given boxes, without
predictions, and data sets with one class are all drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

CONFIDENCES = [0.0, 0.3, 0.5, 0.5000001, 0.9, 0.95, 0.9500001, 0.97, 1.0]


@st.composite
def box(draw: st.DrawFn, scale: float) -> np.ndarray:
    coordinate = st.one_of(st.integers(0, 12).map(float), st.floats(0, 12, width=32))
    x1, y1 = draw(coordinate), draw(coordinate)
    side = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 4.0]), st.floats(0, 8, width=32))
    return np.array([x1, y1, x1 + draw(side), y1 + draw(side)]) * scale


@st.composite
def near(draw: st.DrawFn, base: np.ndarray) -> np.ndarray:
    """A copy of ``base`` or a jittered one (still x1 <= x2, y1 <= y2)."""
    jitter = np.array([draw(st.sampled_from([0.0, 0.0, 0.5, -1.0, 2.0])) for _ in range(4)])
    out = base + jitter
    out[2:] = np.maximum(out[2:], out[:2])
    return out


@st.composite
def detection_case(
    draw: st.DrawFn, *, max_images: int = 6, max_boxes: int = 5
) -> tuple[list[dict[str, Any]], list[list[np.ndarray]]]:
    """(labels, predictions) in cleanlab's format."""
    n_classes = draw(st.integers(1, 3))
    n_images = draw(st.integers(1, max_images))
    scale = draw(st.sampled_from([1.0, 1.0, 10.0, 300.0]))
    confidence = st.one_of(st.sampled_from(CONFIDENCES), st.floats(0, 1))
    labels, predictions = [], []
    for _ in range(n_images):
        n_given = draw(st.integers(0, max_boxes))
        boxes = [draw(box(scale)) for _ in range(n_given)]
        classes = [draw(st.integers(0, n_classes - 1)) for _ in range(n_given)]
        if n_given >= 2 and draw(st.booleans()):  # a conflicting annotation
            boxes[1], classes[1] = boxes[0].copy(), (classes[0] + 1) % n_classes
        labels.append(
            {
                "bboxes": np.array(boxes, dtype=np.float64).reshape(-1, 4),
                "labels": np.array(classes, dtype=np.int64),
            }
        )
        per_class: list[list[np.ndarray]] = [[] for _ in range(n_classes)]
        for _ in range(draw(st.integers(0, max_boxes))):
            if boxes and draw(st.booleans()):
                where = draw(near(boxes[draw(st.integers(0, len(boxes) - 1))]))
            else:
                where = draw(box(scale))
            per_class[draw(st.integers(0, n_classes - 1))].append(
                np.append(where, draw(confidence))
            )
        predictions.append([np.array(rows).reshape(-1, 5) for rows in per_class])
    return labels, predictions

"""A small object detector trained inside a project: sliding windows, then a region classifier.

Three fitted parts, all on the window features of :mod:`ls_cleanlab.features.windows`:

1. **Proposals.** Window shapes (anchors) are the k-means centres of the training boxes' log
   widths and heights. A multinomial logistic regression on the windows' cell means and shape
   (classes + background) is linear in the cell means, so every window of a dense scan
   (stride: half a cell) is scored with a few matrix products over a grid of block means
   (``image.cell_grid``); the most object-like windows, after
   non-maximum suppression, are the proposals.
2. **Classification.** Gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``)
   on the full window features (cells, context ring, contrast, shape) give each proposal's
   class probabilities, background included. Negatives are random windows away from every box
   and the proposals the first stage ranks highest on training images (hard negatives).
3. **Box regression.** Four boosted regressors move a proposal's edges by fractions of its
   width and height, learned from jittered copies of the training boxes (R-CNN's box
   regression: R. Girshick et al., CVPR 2014).

Detections are the refined proposals with their most likely class and its probability as
confidence, after per-class non-maximum suppression.
:func:`~ls_cleanlab.model.detector_fit.out_of_sample_detections` trains one detector per fold of
images and detects on the images it left out, so no image is scored by a detector that saw its
boxes; the final detector, fitted on every image, is returned for images nobody labelled. This
module holds the fitted detector; :mod:`.detector_fit` the training.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ls_cleanlab.model import persist as _persist
from ls_cleanlab.model.persist import ModelFileError

__all__ = ["BoxDetector", "Detections", "WindowImage", "iou_matrix", "non_max_suppression"]


class WindowImage(Protocol):
    """An image as the detector reads it: window features and the dense grid of cell means
    (:class:`ls_cleanlab.features.windows.ChannelImage`; features and model are independent
    layers, so the detector names only what it needs)."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...

    @property
    def cells(self) -> int: ...

    @property
    def n_channels(self) -> int: ...

    def window_features(self, boxes: np.ndarray) -> np.ndarray: ...

    def cell_grid(
        self, cell: tuple[int, int], offset: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of boxes x1, y1, x2, y2."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, max_iou: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    suppressed = np.zeros(len(boxes), dtype=bool)
    overlaps = iou_matrix(boxes[order], boxes[order]) if len(order) <= 4000 else None
    for rank, index in enumerate(order):
        if suppressed[rank]:
            continue
        keep.append(int(index))
        if overlaps is not None:
            row = overlaps[rank]
        else:
            row = iou_matrix(boxes[index : index + 1], boxes[order])[0]
        suppressed |= row > max_iou
    return np.asarray(keep, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Detections:
    """A detector's boxes on one image.

    Attributes
    ----------
    boxes : ndarray of float64, shape (M, 4)
        x1, y1, x2, y2 in the pixels of the image given to the detector.
    labels : ndarray of int64, shape (M,)
    scores : ndarray of float64, shape (M,)
        Probability of ``labels``, in [0, 1].
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4)), np.zeros(0, dtype=np.int64), np.zeros(0))


@dataclass(frozen=True, eq=False)
class BoxDetector:
    """A fitted detector (see the module docstring); :meth:`detect` finds boxes in an image.

    Attributes
    ----------
    class_names : tuple of str, length K
    anchors : ndarray, shape (A, 2)
        Window widths and heights, relative to the image's width and height.
    proposal_weights : ndarray, shape (D1, K + 1)
        The first stage on raw cell means and shape features (standardization folded in).
    proposal_bias : ndarray, shape (K + 1,)
    classifier : fitted HistGradientBoostingClassifier
        Classes ``0..K-1`` and background ``K``.
    regressors : tuple of fitted regressors (or empty)
        Edge offsets dx1, dy1, dx2, dy2 as fractions of the width and height.
    """

    class_names: tuple[str, ...]
    anchors: np.ndarray
    proposal_weights: np.ndarray
    proposal_bias: np.ndarray
    classifier: Any
    regressors: tuple[Any, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the detector to ``path`` atomically (versioned joblib, like trained models)."""
        import sklearn

        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        _persist.dump({"kind": "box-detector", "sklearn_version": sklearn.__version__,
                       **fields}, path)  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BoxDetector:
        """Read a detector written by :meth:`save` (only load files you wrote: it unpickles)."""
        fields = dict(_persist.load(path))
        if fields.pop("kind", None) != "box-detector":
            raise ModelFileError(f"{str(path)!r} does not hold a box detector; retrain.")
        fields.pop("sklearn_version", None)
        try:
            return cls(**fields)
        except TypeError as exc:
            raise ModelFileError(f"{str(path)!r} does not hold a box detector: {exc}") from exc

    def proposals(self, image: WindowImage, limit: int = 150) -> np.ndarray:
        """(P, 4) the most object-like windows of a dense scan, after suppression."""
        boxes, scores = [], []
        k1 = self.n_classes + 1
        cells = image.cells
        n_cell = cells * cells * image.n_channels
        cell_w = self.proposal_weights[:n_cell].reshape(cells, cells, image.n_channels, k1)
        shape_w = self.proposal_weights[n_cell:]
        for rel_w, rel_h in self.anchors:
            cw = max(1, round(rel_w * image.width / cells))
            ch = max(1, round(rel_h * image.height / cells))
            w, h = cw * cells, ch * cells
            shape = np.array([np.log(w / image.width), np.log(h / image.height), np.log(w / h)])
            base = self.proposal_bias + shape @ shape_w
            offsets = {(0, 0), (cw // 2, 0), (0, ch // 2), (cw // 2, ch // 2)}
            for offset in sorted(offsets):
                grid, xs, ys = image.cell_grid((cw, ch), offset)
                rows, cols = grid.shape[0] - cells + 1, grid.shape[1] - cells + 1
                if rows < 1 or cols < 1:
                    continue
                logits = np.broadcast_to(base, (rows, cols, k1)).copy()
                for gy in range(cells):
                    for gx in range(cells):
                        logits += grid[gy : gy + rows, gx : gx + cols] @ cell_w[gy, gx]
                logits -= logits.max(axis=2, keepdims=True)
                probs = np.exp(logits)
                objectness = 1 - probs[..., -1] / probs.sum(axis=2)
                i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
                boxes.append(
                    np.stack([xs[j], ys[i], xs[j + cells], ys[i + cells]], axis=2).reshape(-1, 4)
                )
                scores.append(objectness.ravel())
        if not boxes:
            return np.zeros((0, 4))
        all_boxes = np.vstack(boxes).astype(np.float64)
        all_scores = np.concatenate(scores)
        top = np.argsort(-all_scores, kind="stable")[: limit * 4]
        kept = non_max_suppression(all_boxes[top], all_scores[top], 0.6)[:limit]
        return all_boxes[top[kept]]

    def detect(
        self, image: WindowImage, *, min_score: float = 0.05, max_iou: float = 0.45
    ) -> Detections:
        """Boxes found in ``image``, most confident first."""
        proposals = self.proposals(image)
        if len(proposals) == 0:
            return Detections.empty()
        features = image.window_features(proposals)
        probs = self.classifier.predict_proba(features)
        boxes = self._refine(proposals, features)
        labels = probs[:, : self.n_classes].argmax(axis=1)
        scores = probs[np.arange(len(labels)), labels]
        keep = np.flatnonzero(scores >= min_score)
        chosen: list[np.ndarray] = []
        for k in np.unique(labels[keep]):
            rows = keep[labels[keep] == k]
            chosen.append(rows[non_max_suppression(boxes[rows], scores[rows], max_iou)])
        if not chosen:
            return Detections.empty()
        rows = np.concatenate(chosen)
        rows = rows[non_max_suppression(boxes[rows], scores[rows], 0.7)]
        return Detections(boxes[rows], labels[rows].astype(np.int64), scores[rows])

    def _refine(self, boxes: np.ndarray, features: np.ndarray) -> np.ndarray:
        if not self.regressors:
            return boxes
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        scale = np.stack([w, h, w, h], axis=1)
        moves = self.regressors[0].predict(features)
        refined = boxes + np.clip(moves, -0.5, 0.5) * scale
        x1 = np.minimum(refined[:, 0], refined[:, 2] - 1)
        y1 = np.minimum(refined[:, 1], refined[:, 3] - 1)
        return np.stack([x1, y1, refined[:, 2], refined[:, 3]], axis=1)

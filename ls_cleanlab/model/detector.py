"""A small object detector trained inside a project: sliding windows, then a region classifier.

Three fitted parts, all on the window features of :mod:`ls_cleanlab.features.windows`:

1. **Proposals.** Window shapes (anchors) are the k-means centres of the training boxes' log
   widths and heights. A multinomial logistic regression on the windows' cell means and shape
   (classes + background) is linear in the cell means, so every window of a dense scan
   (stride: half a cell) is scored with a few matrix products over a grid of block means
   (:func:`~ls_cleanlab.features.windows.cell_grid`); the most object-like windows, after
   non-maximum suppression, are the proposals.
2. **Classification.** Gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``)
   on the full window features (cells, context ring, contrast, shape) give each proposal's
   class probabilities, background included. Negatives are random windows away from every box
   and the proposals the first stage ranks highest on training images (hard negatives).
3. **Box regression.** Four boosted regressors move a proposal's edges by fractions of its
   width and height, learned from jittered copies of the training boxes (R-CNN's box
   regression: R. Girshick et al., CVPR 2014).

Detections are the refined proposals with their most likely class and its probability as
confidence, after per-class non-maximum suppression. :func:`out_of_sample_detections` trains one
detector per fold of images and detects on the images it left out, so no image is scored by a
detector that saw its boxes; the final detector, fitted on every image, is returned for images
nobody labelled.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.features.windows import CELLS, N_CHANNELS, ChannelImage, cell_grid, window_features
from ls_cleanlab.model import persist as _persist
from ls_cleanlab.model.persist import ModelFileError

__all__ = [
    "BoxDetector",
    "Detections",
    "fit_detector",
    "non_max_suppression",
    "out_of_sample_detections",
]

#: Images decoded to channels on demand: ``load(i) -> ChannelImage``.
ImageSource = Callable[[int], ChannelImage]

_N_CELL = CELLS * CELLS * N_CHANNELS
_POSITIVE_IOU = 0.6  # a jittered window at least this close to a box is that object
_NEGATIVE_IOU = 0.3  # a window below this with every box is background


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
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
    overlaps = _iou_matrix(boxes[order], boxes[order]) if len(order) <= 4000 else None
    for rank, index in enumerate(order):
        if suppressed[rank]:
            continue
        keep.append(int(index))
        if overlaps is not None:
            row = overlaps[rank]
        else:
            row = _iou_matrix(boxes[index : index + 1], boxes[order])[0]
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

    def proposals(self, image: ChannelImage, limit: int = 150) -> np.ndarray:
        """(P, 4) the most object-like windows of a dense scan, after suppression."""
        boxes, scores = [], []
        k1 = self.n_classes + 1
        cell_w = self.proposal_weights[:_N_CELL].reshape(CELLS, CELLS, N_CHANNELS, k1)
        shape_w = self.proposal_weights[_N_CELL:]
        for rel_w, rel_h in self.anchors:
            cw = max(1, round(rel_w * image.width / CELLS))
            ch = max(1, round(rel_h * image.height / CELLS))
            w, h = cw * CELLS, ch * CELLS
            shape = np.array([np.log(w / image.width), np.log(h / image.height), np.log(w / h)])
            base = self.proposal_bias + shape @ shape_w
            offsets = {(0, 0), (cw // 2, 0), (0, ch // 2), (cw // 2, ch // 2)}
            for offset in sorted(offsets):
                grid, xs, ys = cell_grid(image, (cw, ch), offset)
                rows, cols = grid.shape[0] - CELLS + 1, grid.shape[1] - CELLS + 1
                if rows < 1 or cols < 1:
                    continue
                logits = np.broadcast_to(base, (rows, cols, k1)).copy()
                for gy in range(CELLS):
                    for gx in range(CELLS):
                        logits += grid[gy : gy + rows, gx : gx + cols] @ cell_w[gy, gx]
                logits -= logits.max(axis=2, keepdims=True)
                probs = np.exp(logits)
                objectness = 1 - probs[..., -1] / probs.sum(axis=2)
                i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
                boxes.append(
                    np.stack([xs[j], ys[i], xs[j + CELLS], ys[i + CELLS]], axis=2).reshape(-1, 4)
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
        self, image: ChannelImage, *, min_score: float = 0.05, max_iou: float = 0.45
    ) -> Detections:
        """Boxes found in ``image``, most confident first."""
        proposals = self.proposals(image)
        if len(proposals) == 0:
            return Detections.empty()
        features = window_features(image, proposals)
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


# -- training -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Samples:
    """Training windows of one image: features, class (K = background), regression targets."""

    features: np.ndarray
    labels: np.ndarray
    regress_features: np.ndarray
    regress_targets: np.ndarray


def _anchors(boxes: Sequence[np.ndarray], sizes: np.ndarray, n_anchors: int) -> np.ndarray:
    """(A, 2) k-means centres of the boxes' log relative widths and heights."""
    rel = np.vstack(
        [(b[:, 2:] - b[:, :2]) / s for b, s in zip(boxes, sizes, strict=True) if len(b)]
    )
    points = np.log(np.maximum(rel, 1e-4))
    count = min(n_anchors, len(np.unique(points.round(3), axis=0)))
    order = np.argsort(points.sum(axis=1), kind="stable")
    centres = points[order[np.linspace(0, len(order) - 1, count).round().astype(int)]]
    for _ in range(50):
        nearest = ((points[:, None] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        moved = np.array(
            [points[nearest == c].mean(axis=0) if (nearest == c).any() else centres[c]
             for c in range(count)]
        )  # fmt: skip
        if np.allclose(moved, centres):
            break
        centres = moved
    return np.exp(centres)


def _jitter(
    rng: np.random.Generator, boxes: np.ndarray, count: int, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` jittered copies of each box: (copies (B * count, 4), source index)."""
    source = np.repeat(np.arange(len(boxes)), count)
    base = boxes[source]
    w = base[:, 2] - base[:, 0]
    h = base[:, 3] - base[:, 1]
    cx = (base[:, 0] + base[:, 2]) / 2 + rng.normal(0, spread, len(base)) * w
    cy = (base[:, 1] + base[:, 3]) / 2 + rng.normal(0, spread, len(base)) * h
    nw = w * np.exp(rng.normal(0, spread, len(base)))
    nh = h * np.exp(rng.normal(0, spread, len(base)))
    copies = np.stack([cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2], axis=1)
    return copies, source


def _random_windows(
    rng: np.random.Generator, anchors: np.ndarray, image: ChannelImage, count: int
) -> np.ndarray:
    pick = anchors[rng.integers(0, len(anchors), count)] * np.exp(rng.normal(0, 0.25, (count, 2)))
    w = np.minimum(pick[:, 0] * image.width, image.width - 1)
    h = np.minimum(pick[:, 1] * image.height, image.height - 1)
    x = rng.uniform(0, 1, count) * (image.width - w)
    y = rng.uniform(0, 1, count) * (image.height - h)
    return np.stack([x, y, x + w, y + h], axis=1)


def _samples(
    image: ChannelImage,
    boxes: np.ndarray,
    labels: np.ndarray,
    known: np.ndarray,
    anchors: np.ndarray,
    n_classes: int,
    rng: np.random.Generator,
    hard: np.ndarray,
) -> _Samples:
    """Positives (boxes and close jitters), negatives (random and hard), regression pairs."""
    near, near_source = _jitter(rng, boxes, 4, 0.08)
    close = _iou_matrix(near, boxes)[np.arange(len(near)), near_source] >= _POSITIVE_IOU
    positives = np.vstack([boxes, near[close]])
    positive_labels = np.concatenate([labels, labels[near_source[close]]])
    negatives = np.vstack([_random_windows(rng, anchors, image, 60), hard.reshape(-1, 4)])
    if len(known):
        negatives = negatives[_iou_matrix(negatives, known).max(axis=1) < _NEGATIVE_IOU]
    windows = np.vstack([positives, negatives])
    classes = np.concatenate([positive_labels, np.full(len(negatives), n_classes)])
    moved, source = _jitter(rng, boxes, 6, 0.15)
    target = boxes[source]
    w = moved[:, 2] - moved[:, 0]
    h = moved[:, 3] - moved[:, 1]
    targets = (target - moved) / np.stack([w, h, w, h], axis=1)
    usable = _iou_matrix(moved, boxes)[np.arange(len(moved)), source] >= 0.4
    return _Samples(
        window_features(image, windows),
        classes.astype(np.int64),
        window_features(image, moved[usable]),
        targets[usable],
    )


def _fit_proposals(
    features: np.ndarray, labels: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on cell means and shape, standardization folded in."""
    from sklearn.linear_model import LogisticRegression

    columns = np.r_[0:_N_CELL, features.shape[1] - 3 : features.shape[1]]
    x = features[:, columns].astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=0.1, max_iter=300)
    model.fit((x - mean) / std, labels)
    coef = np.zeros((n_classes + 1, x.shape[1]))
    intercept = np.full(n_classes + 1, -30.0)  # a class absent from training is never proposed
    coef[model.classes_] = model.coef_ if len(model.classes_) > 2 else 0.0
    intercept[model.classes_] = model.intercept_ if len(model.classes_) > 2 else 0.0
    if len(model.classes_) == 2:  # binary: sklearn keeps one row for the second class
        coef[model.classes_[1]] = model.coef_[0]
        intercept[model.classes_[1]] = model.intercept_[0]
    weights = (coef / std).T
    bias = intercept - (coef / std) @ mean
    return weights, bias


def fit_detector(
    load: ImageSource,
    images: Sequence[int],
    boxes: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    known: Sequence[np.ndarray],
    sizes: np.ndarray,
    *,
    class_names: Sequence[str],
    seed: int = 0,
    n_anchors: int = 6,
) -> BoxDetector:
    """Fit a detector on the given images.

    Parameters
    ----------
    load : callable(int) -> ChannelImage
        The channels of image ``i`` (decoded on demand, so images need not fit in memory).
    images : sequence of int
        The images to train on.
    boxes, labels : sequences indexed by image
        Training boxes ``(B_i, 4)`` in the image's pixels and their classes ``(B_i,)``.
    known : sequence indexed by image
        Every box drawn on the image ``(U_i, 4)``, by anyone: never used as background.
    sizes : ndarray, shape (N, 2)
        Width and height of every image, in pixels.
    class_names : sequence of str, length K
        Labels index them.
    seed : int
    n_anchors : int
        Window shapes.
    """
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    n_classes = len(class_names)
    images = [i for i in images if len(boxes[i])]
    if len(images) < 2:
        raise InvalidOptionError(
            f"the detector needs boxes on at least 2 images to train, got {len(images)}."
        )
    rng = np.random.default_rng(seed)
    sizes = np.asarray(sizes, dtype=np.float64)
    anchors = _anchors([boxes[i] for i in images], sizes[images], n_anchors)
    empty = np.zeros((0, 4))
    first = [
        _samples(load(i), boxes[i], labels[i], known[i], anchors, n_classes, rng, empty)
        for i in images
    ]
    weights, bias = _fit_proposals(
        np.vstack([s.features for s in first]), np.concatenate([s.labels for s in first]), n_classes
    )
    draft = BoxDetector(tuple(class_names), anchors, weights, bias, None, ())
    samples = []
    for i in images:  # again, with the hard negatives of the first stage
        image = load(i)
        proposals = draft.proposals(image, limit=40)
        if len(proposals) and len(known[i]):
            proposals = proposals[_iou_matrix(proposals, known[i]).max(axis=1) < _NEGATIVE_IOU]
        samples.append(
            _samples(image, boxes[i], labels[i], known[i], anchors, n_classes, rng, proposals[:20])
        )
    classifier = ExtraTreesClassifier(
        n_estimators=120, min_samples_leaf=2, max_features="sqrt", random_state=seed, n_jobs=1
    )
    classifier.fit(
        np.vstack([s.features for s in samples]), np.concatenate([s.labels for s in samples])
    )
    if len(classifier.classes_) != n_classes + 1:
        classifier = _PaddedClassifier(classifier, n_classes + 1)
    x_reg = np.vstack([s.regress_features for s in samples])
    y_reg = np.vstack([s.regress_targets for s in samples])
    regressors: tuple[Any, ...] = ()
    if len(x_reg) >= 20:
        regressors = (
            ExtraTreesRegressor(
                n_estimators=60, min_samples_leaf=3, max_features=0.3, random_state=seed, n_jobs=1
            ).fit(x_reg, y_reg),
        )
    return BoxDetector(tuple(class_names), anchors, weights, bias, classifier, regressors)


class _PaddedClassifier:
    """A classifier fitted on some of the classes, answering with a column for each."""

    def __init__(self, fitted: Any, n_columns: int) -> None:
        self.fitted = fitted
        self.n_columns = n_columns

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), self.n_columns))
        out[:, self.fitted.classes_] = self.fitted.predict_proba(x)
        return out


def out_of_sample_detections(
    load: ImageSource,
    n_images: int,
    boxes: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    known: Sequence[np.ndarray],
    sizes: np.ndarray,
    labelled: np.ndarray,
    *,
    class_names: Sequence[str],
    n_folds: int = 3,
    seed: int = 0,
    fit_final: bool = True,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Detections | None], BoxDetector | None]:
    """Detections on every image, each by a detector that never saw that image's boxes.

    Labelled images are split into ``n_folds`` folds; the detector fitted on the other folds
    detects on each fold. Images nobody labelled get the detector fitted on every labelled
    image, which is also returned.

    Returns
    -------
    detections : list of Detections or None, length n_images
        None where the image could not be loaded.
    final : BoxDetector or None
        None when ``fit_final`` is false and every image is labelled.
    """
    rng = np.random.default_rng(seed)
    train = np.flatnonzero(labelled)
    folds = np.array_split(rng.permutation(train), n_folds)
    jobs = [(fold, np.setdiff1d(train, fold)) for fold in folds if len(fold)]
    fold_jobs = len(jobs)
    if fit_final or (~labelled).any():
        jobs.append((np.flatnonzero(~labelled), train))
    total = len(jobs)

    def run(job: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, list[Detections], Any]:
        target, fit_on = job
        detector = fit_detector(
            load, fit_on.tolist(), boxes, labels, known, sizes, class_names=class_names, seed=seed
        )
        return target, [detector.detect(load(int(i))) for i in target], detector

    found: list[Detections | None] = [None] * n_images
    results = executor.map(run, jobs) if executor is not None else map(run, jobs)
    final = None
    for done, (target, detections, detector) in enumerate(results, start=1):
        for i, d in zip(target, detections, strict=True):
            found[int(i)] = d
        if done > fold_jobs:
            final = detector
        if progress is not None:
            progress(done, total)
    return found, final

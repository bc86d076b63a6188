"""Training the in-project detector (:mod:`.detector`): window samples, the three stages, and
out-of-sample detections with folds by image.

Positives are the training boxes and jittered copies at IoU >= 0.6; negatives are random windows
of the anchor shapes and (second pass) the first stage's best proposals, both at IoU < 0.3 with
every box anybody drew (a box one annotator drew and the consensus dropped is never taught as
background). The box regressor learns from copies jittered by 15% of the box's size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.model.detector import BoxDetector, Detections, WindowImage, iou_matrix

__all__ = ["FoldStore", "ImageSource", "fit_detector", "out_of_sample_detections"]

#: Images decoded to channels on demand: ``load(i) -> WindowImage`` (e.g. a
#: :class:`~ls_cleanlab.features.windows.ChannelImage`).
ImageSource = Callable[[int], WindowImage]
_POSITIVE_IOU = 0.6  # a jittered window at least this close to a box is that object
_NEGATIVE_IOU = 0.3  # a window below this with every box is background


@dataclass(frozen=True, eq=False)
class _Samples:
    """Training windows of one image: features, class (K = background), regression targets."""

    features: np.ndarray
    labels: np.ndarray
    regress_features: np.ndarray
    regress_targets: np.ndarray
    n_cell: int  # leading features that are the window's cell means


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
    rng: np.random.Generator, anchors: np.ndarray, image: WindowImage, count: int
) -> np.ndarray:
    pick = anchors[rng.integers(0, len(anchors), count)] * np.exp(rng.normal(0, 0.25, (count, 2)))
    w = np.minimum(pick[:, 0] * image.width, image.width - 1)
    h = np.minimum(pick[:, 1] * image.height, image.height - 1)
    x = rng.uniform(0, 1, count) * (image.width - w)
    y = rng.uniform(0, 1, count) * (image.height - h)
    return np.stack([x, y, x + w, y + h], axis=1)


def _samples(
    image: WindowImage,
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
    close = iou_matrix(near, boxes)[np.arange(len(near)), near_source] >= _POSITIVE_IOU
    positives = np.vstack([boxes, near[close]])
    positive_labels = np.concatenate([labels, labels[near_source[close]]])
    negatives = np.vstack([_random_windows(rng, anchors, image, 60), hard.reshape(-1, 4)])
    if len(known):
        negatives = negatives[iou_matrix(negatives, known).max(axis=1) < _NEGATIVE_IOU]
    windows = np.vstack([positives, negatives])
    classes = np.concatenate([positive_labels, np.full(len(negatives), n_classes)])
    moved, source = _jitter(rng, boxes, 6, 0.15)
    target = boxes[source]
    w = moved[:, 2] - moved[:, 0]
    h = moved[:, 3] - moved[:, 1]
    targets = (target - moved) / np.stack([w, h, w, h], axis=1)
    usable = iou_matrix(moved, boxes)[np.arange(len(moved)), source] >= 0.4
    return _Samples(
        image.window_features(windows),
        classes.astype(np.int64),
        image.window_features(moved[usable]),
        targets[usable],
        image.cells * image.cells * image.n_channels,
    )


def _fit_proposals(
    features: np.ndarray, labels: np.ndarray, n_classes: int, n_cell: int
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on cell means (the first ``n_cell`` features) and shape
    (the last three), standardization folded in."""
    from sklearn.linear_model import LogisticRegression

    columns = np.r_[0:n_cell, features.shape[1] - 3 : features.shape[1]]
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
    load : callable(int) -> WindowImage
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
        np.vstack([s.features for s in first]), np.concatenate([s.labels for s in first]),
        n_classes, first[0].n_cell,
    )  # fmt: skip
    draft = BoxDetector(tuple(class_names), anchors, weights, bias, None, ())
    samples = []
    for i in images:  # again, with the hard negatives of the first stage
        image = load(i)
        proposals = draft.proposals(image, limit=40)
        if len(proposals) and len(known[i]):
            proposals = proposals[iou_matrix(proposals, known[i]).max(axis=1) < _NEGATIVE_IOU]
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


class FoldStore(Protocol):
    """Where finished folds of :func:`out_of_sample_detections` are kept, so that a rerun after
    an interruption fits only the folds that had not finished
    (:class:`~ls_cleanlab.pipeline.FoldCheckpoints` keeps them on disk). A fold is named by the
    images it holds out (``target``) and the images its detector fits on (``fit_on``), both
    indices into the images of the call."""

    def load(self, target: np.ndarray, fit_on: np.ndarray) -> list[Detections] | None: ...

    def save(self, target: np.ndarray, fit_on: np.ndarray, found: list[Detections]) -> None: ...


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
    store: FoldStore | None = None,
) -> tuple[list[Detections | None], BoxDetector | None]:
    """Detections on every image, each by a detector that never saw that image's boxes.

    Labelled images are split into ``n_folds`` folds; the detector fitted on the other folds
    detects on each fold. Images nobody labelled get the detector fitted on every labelled
    image, which is also returned. With a ``store``, folds it holds are not fitted again and
    the others are put in it as they finish (in the calling process: ``executor`` may be a
    cluster's); the final detector is always fitted.

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
    kept = [store.load(*job) if store is not None else None for job in jobs]
    fold_jobs = len(jobs)
    if fit_final or (~labelled).any():
        jobs.append((np.flatnonzero(~labelled), train))
        kept.append(None)

    def run(job: tuple[np.ndarray, np.ndarray]) -> tuple[list[Detections], BoxDetector]:
        target, fit_on = job
        detector = fit_detector(
            load, fit_on.tolist(), boxes, labels, known, sizes, class_names=class_names, seed=seed
        )
        return [detector.detect(load(int(i))) for i in target], detector

    todo = [job for job, found in zip(jobs, kept, strict=True) if found is None]
    results = iter(executor.map(run, todo) if executor is not None else map(run, todo))
    found: list[Detections | None] = [None] * n_images
    final = None
    for done, (job, stored) in enumerate(zip(jobs, kept, strict=True), start=1):
        detections = stored
        if detections is None:
            detections, detector = next(results)
            if done <= fold_jobs and store is not None:
                store.save(*job, detections)
            elif done > fold_jobs:
                final = detector  # fitted on every labelled image
        for i, d in zip(job[0], detections, strict=True):
            found[int(i)] = d
        if progress is not None:
            progress(done, len(jobs))
    return found, final

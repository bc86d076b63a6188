"""Simulated box annotation: scenes, annotators with habits, and an imperfect detector.

For tests, benchmarks and demos (:mod:`ls_cleanlab.testing.aerial_boxes` draws the objects as
pixels for the box demo and the in-project detector). Nothing here looks at pixels: the detector
is simulated as noisy, incomplete copies of the true boxes plus false positives, which is enough
to exercise the math, not to claim anything about a real detector.

* Scenes: ``objects`` objects per image (uniform in the range), boxes 24-96 px a side at random
  places in a 640x480 image, overlapping earlier objects by IoU <= 0.1.
* Annotators, by habit: each true object is drawn with probability ``recall``, each coordinate
  jittered by ``jitter`` times the box side (Gaussian), the class replaced by another with
  probability ``class_error``, plus Poisson(``spurious``) boxes on nothing per image. A
  satisficer scans the objects in random order and stops after the first 1 or 2; a spammer
  draws a fifth of the objects and three boxes on nothing per image.
* Detector: each true object found with probability ``recall`` (a miss otherwise), jittered by
  ``jitter``, wrong class with probability ``class_error``, confidence ``1 - 0.5 Beta(1, 4)``
  (mean 0.9; a third above cleanlab's 0.95 cut); Poisson(``false_positives``) boxes on
  nothing per image, confidence uniform in [0.05, 0.6], or in [0.9, 1] for a share
  ``confident_false``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.detection._geometry import iou
from ls_cleanlab.detection.box_annotations import BoxAnnotations

__all__ = ["HABITS", "Habit", "Scenes", "annotate_scenes", "simulate_detector", "simulate_scenes"]

IMAGE_SIZE = (640.0, 480.0)


@dataclass(frozen=True)
class Habit:
    """How an annotator draws boxes (see the module docstring)."""

    recall: float
    jitter: float
    class_error: float
    spurious: float
    stops_after: tuple[int, ...] = ()


HABITS = {
    "careful": Habit(recall=0.97, jitter=0.03, class_error=0.02, spurious=0.02),
    "sloppy": Habit(recall=0.9, jitter=0.12, class_error=0.08, spurious=0.15),
    "satisficer": Habit(
        recall=0.97, jitter=0.04, class_error=0.02, spurious=0.02, stops_after=(1, 2)
    ),
    "spammer": Habit(recall=0.2, jitter=0.1, class_error=0.5, spurious=3.0),
}


@dataclass(frozen=True, eq=False)
class Scenes:
    """True objects of simulated images and what the annotators drew.

    Attributes
    ----------
    truth_image, truth_labels : ndarray of int64, shape (T,)
    truth_boxes : ndarray of float64, shape (T, 4)
    annotations : BoxAnnotations
        Annotator ids are the habit names (suffixed when a habit repeats).
    source : ndarray of int64, shape (B,)
        The true object each drawn box outlines, -1 for a box on nothing.
    n_classes : int
    """

    truth_image: np.ndarray
    truth_boxes: np.ndarray
    truth_labels: np.ndarray
    annotations: BoxAnnotations
    source: np.ndarray
    n_classes: int

    @property
    def n_images(self) -> int:
        return int(self.annotations.n_images or 0)

    def labels_of(self, annotator: str) -> list[dict[str, np.ndarray]]:
        """One annotator's boxes in cleanlab's ``labels`` format."""
        ann = self.annotations
        rows = np.flatnonzero(ann.annotator == annotator)
        return [
            {"bboxes": ann.boxes[r], "labels": ann.labels[r]}
            for r in np.split(rows, np.searchsorted(ann.image[rows], np.arange(1, self.n_images)))
        ]


def _random_boxes(
    rng: np.random.Generator, count: int, image_size: tuple[float, float] = IMAGE_SIZE
) -> np.ndarray:
    size = rng.uniform(24, 96, (count, 2))
    corner = rng.uniform(0, 1, (count, 2)) * (np.array(image_size) - size)
    return np.hstack([corner, corner + size])


def _place_objects(rng: np.random.Generator, count: int) -> np.ndarray:
    placed: list[np.ndarray] = []
    for _ in range(count):
        for _try in range(30):
            box = _random_boxes(rng, 1)
            if not placed or iou(np.repeat(box, len(placed), 0), np.array(placed)).max() <= 0.1:
                placed.append(box[0])
                break
    return np.array(placed).reshape(-1, 4)


def _jitter(rng: np.random.Generator, boxes: np.ndarray, scale: float) -> np.ndarray:
    side = np.tile(boxes[:, 2:] - boxes[:, :2], 2)
    out = boxes + rng.normal(0, 1, boxes.shape) * scale * side
    lo = np.minimum(out[:, :2], out[:, 2:])
    hi = np.maximum(out[:, :2], out[:, 2:])
    return np.hstack([lo, hi])


def _other_class(rng: np.random.Generator, labels: np.ndarray, rate: float, k: int) -> np.ndarray:
    if k < 2:
        return labels
    flip = rng.random(len(labels)) < rate
    return np.where(flip, (labels + rng.integers(1, k, len(labels))) % k, labels)


def _draw(
    rng: np.random.Generator,
    habit: Habit,
    boxes: np.ndarray,
    labels: np.ndarray,
    k: int,
    image_size: tuple[float, float] = IMAGE_SIZE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One annotator on one image: (boxes, labels, source index or -1)."""
    chosen = np.flatnonzero(rng.random(len(boxes)) < habit.recall)
    if habit.stops_after:
        chosen = rng.permutation(chosen)[: rng.choice(habit.stops_after)]
    extra = rng.poisson(habit.spurious)
    drawn = np.vstack(
        [_jitter(rng, boxes[chosen], habit.jitter), _random_boxes(rng, extra, image_size)]
    )
    classes = np.concatenate(
        [_other_class(rng, labels[chosen], habit.class_error, k), rng.integers(0, k, extra)]
    )
    return drawn, classes, np.concatenate([chosen, np.full(extra, -1)])


def simulate_scenes(
    n_images: int,
    *,
    rng: np.random.Generator,
    habits: tuple[str, ...] = ("satisficer", "sloppy", "careful"),
    objects: tuple[int, int] = (1, 10),
    n_classes: int = 4,
) -> Scenes:
    """Simulate ``n_images`` scenes, each annotated by every annotator in ``habits``."""
    names = [h if habits.count(h) == 1 else f"{h}{i}" for i, h in enumerate(habits)]
    truth_image, truth_boxes, truth_labels = [], [], []
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("image", "who", "box", "label", "src")}
    start = 0
    for i in range(n_images):
        boxes = _place_objects(rng, int(rng.integers(objects[0], objects[1] + 1)))
        labels = rng.integers(0, n_classes, len(boxes))
        truth_image.append(np.full(len(boxes), i))
        truth_boxes.append(boxes)
        truth_labels.append(labels)
        for name, habit in zip(names, habits, strict=True):
            drawn, classes, source = _draw(rng, HABITS[habit], boxes, labels, n_classes)
            rows["image"].append(np.full(len(drawn), i))
            rows["who"].append(np.full(len(drawn), name, dtype=object))
            rows["box"].append(drawn)
            rows["label"].append(classes)
            rows["src"].append(np.where(source >= 0, source + start, -1))
        start += len(boxes)
    annotations = BoxAnnotations(
        image=np.concatenate(rows["image"]),
        annotator=np.concatenate(rows["who"]).astype(str),
        boxes=np.concatenate(rows["box"]),
        labels=np.concatenate(rows["label"]),
        n_images=n_images,
        seen_image=np.repeat(np.arange(n_images), len(names)),
        seen_annotator=np.tile(np.array(names), n_images),
    )
    return Scenes(
        truth_image=np.concatenate(truth_image).astype(np.int64),
        truth_boxes=np.concatenate(truth_boxes),
        truth_labels=np.concatenate(truth_labels).astype(np.int64),
        annotations=annotations,
        source=np.concatenate(rows["src"]).astype(np.int64),
        n_classes=n_classes,
    )


def annotate_scenes(
    truth_image: np.ndarray,
    truth_boxes: np.ndarray,
    truth_labels: np.ndarray,
    *,
    n_images: int,
    n_classes: int,
    rng: np.random.Generator,
    habits: tuple[str, ...] = ("satisficer", "sloppy", "careful"),
    seen: np.ndarray | None = None,
    image_size: tuple[float, float] = IMAGE_SIZE,
) -> Scenes:
    """Annotators with ``habits`` drawing boxes of given true objects.

    Parameters
    ----------
    truth_image : ndarray of int, shape (T,)
        Image of each true object, sorted.
    truth_boxes : ndarray, shape (T, 4)
    truth_labels : ndarray of int, shape (T,)
    seen : ndarray of bool, shape (n_images, len(habits)), optional
        Who annotates which image (default: everybody everything).
    image_size : (width, height)
        Where spurious boxes may fall.
    """
    names = [h if habits.count(h) == 1 else f"{h}{i}" for i, h in enumerate(habits)]
    if seen is None:
        seen = np.ones((n_images, len(names)), dtype=bool)
    starts = np.searchsorted(truth_image, np.arange(n_images + 1))
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("image", "who", "box", "label", "src")}
    for i in range(n_images):
        boxes = truth_boxes[starts[i] : starts[i + 1]]
        labels = truth_labels[starts[i] : starts[i + 1]]
        for a in np.flatnonzero(seen[i]):
            habit = HABITS[habits[a]]
            drawn, classes, source = _draw(rng, habit, boxes, labels, n_classes, image_size)
            rows["image"].append(np.full(len(drawn), i))
            rows["who"].append(np.full(len(drawn), names[a], dtype=object))
            rows["box"].append(drawn)
            rows["label"].append(classes)
            rows["src"].append(np.where(source >= 0, source + starts[i], -1))
    pairs = np.argwhere(seen)
    empty = np.zeros(0)
    annotations = BoxAnnotations(
        image=np.concatenate(rows["image"]) if rows["image"] else empty.astype(np.int64),
        annotator=np.concatenate(rows["who"]).astype(str) if rows["who"] else empty.astype(str),
        boxes=np.concatenate(rows["box"]) if rows["box"] else empty.reshape(0, 4),
        labels=np.concatenate(rows["label"]) if rows["label"] else empty.astype(np.int64),
        n_images=n_images,
        seen_image=pairs[:, 0],
        seen_annotator=np.array(names)[pairs[:, 1]],
    )
    return Scenes(
        truth_image=np.asarray(truth_image, dtype=np.int64),
        truth_boxes=np.asarray(truth_boxes, dtype=np.float64),
        truth_labels=np.asarray(truth_labels, dtype=np.int64),
        annotations=annotations,
        source=np.concatenate(rows["src"]).astype(np.int64) if rows["src"] else empty.astype(int),
        n_classes=n_classes,
    )


def simulate_detector(
    scenes: Scenes,
    *,
    rng: np.random.Generator,
    recall: float = 0.85,
    jitter: float = 0.05,
    class_error: float = 0.05,
    false_positives: float = 0.5,
    confident_false: float = 0.2,
) -> list[list[np.ndarray]]:
    """A detector's predictions on the scenes, in cleanlab's format (see the module docstring)."""
    found = np.flatnonzero(rng.random(len(scenes.truth_image)) < recall)
    n_false = rng.poisson(false_positives, scenes.n_images)
    image = np.concatenate(
        [scenes.truth_image[found], np.repeat(np.arange(scenes.n_images), n_false)]
    )
    boxes = np.vstack(
        [_jitter(rng, scenes.truth_boxes[found], jitter), _random_boxes(rng, int(n_false.sum()))]
    )
    labels = np.concatenate(
        [
            _other_class(rng, scenes.truth_labels[found], class_error, scenes.n_classes),
            rng.integers(0, scenes.n_classes, int(n_false.sum())),
        ]
    )
    confident = rng.random(int(n_false.sum())) < confident_false
    confidence = np.concatenate(
        [
            1 - 0.5 * rng.beta(1, 4, len(found)),
            np.where(
                confident,
                rng.uniform(0.9, 1.0, len(confident)),
                rng.uniform(0.05, 0.6, len(confident)),
            ),
        ]
    )
    rows = np.hstack([boxes, confidence[:, None]])
    order = np.lexsort((labels, image))
    rows, image, labels = rows[order], image[order], labels[order]
    cut = np.searchsorted(
        image * scenes.n_classes + labels, np.arange(1, scenes.n_images * scenes.n_classes)
    )
    cells = np.split(rows, cut)
    k = scenes.n_classes
    return [[cells[i * k + c].reshape(-1, 5) for c in range(k)] for i in range(scenes.n_images)]

"""Data for the detection benchmark: loaders, image features, injected noise, simulated annotators.

Everything here reads the shared benchmark sets (never copied into the repository) and returns
numpy arrays; randomness comes in as a ``numpy.random.Generator``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ANNOTATOR_HABITS",
    "SINGLE_HABIT",
    "Crowd",
    "Habit",
    "Multilabel",
    "corrupt",
    "image_features",
    "load_cifar10n",
    "load_crowdtruth",
    "load_mulan",
    "simulate_annotators",
]


@dataclass(frozen=True)
class Multilabel:
    """Features ``x`` (n, d), true labels ``truth`` (n, K) bool, and the class names."""

    x: np.ndarray
    truth: np.ndarray
    class_names: list[str]


@dataclass(frozen=True)
class Habit:
    """How one annotator errs, applied in this order to the true label set of each task.

    ``swap``: share of tasks where one present label is replaced by an absent class;
    ``satisfice``: share of tasks with several labels where the annotator keeps only 1 to
    ``keep_max`` of them (the search stopped early); ``drop``: chance of dropping each remaining
    label (the last one is kept); ``add``: chance of adding each absent class.
    """

    name: str
    swap: float
    satisfice: float
    keep_max: int
    drop: float
    add: float


#: The annotator of the single-annotator scenario: every kind of noise, moderately.
SINGLE_HABIT = Habit("annotator", swap=0.05, satisfice=0.15, keep_max=2, drop=0.03, add=0.01)
#: Three annotators with different habits for the several-annotator scenario.
ANNOTATOR_HABITS = (
    Habit("satisficer", swap=0.02, satisfice=0.50, keep_max=1, drop=0.02, add=0.002),
    Habit("careless", swap=0.12, satisfice=0.10, keep_max=2, drop=0.12, add=0.03),
    Habit("careful", swap=0.01, satisfice=0.03, keep_max=2, drop=0.01, add=0.002),
)


# -- loaders ------------------------------------------------------------------------------------


def load_mulan(root: Path, name: str) -> Multilabel:
    """A dense MULAN set from its ``-train`` and ``-test`` ARFF files (label names in the XML)."""
    from scipy.io import arff

    folder = root / "mulan" / name
    tags = ET.parse(folder / f"{name}.xml").getroot().iter()
    label_names = {e.attrib["name"] for e in tags if e.tag.endswith("label")}
    parts = []
    for split in ("train", "test"):
        data, meta = arff.loadarff(folder / f"{name}-{split}.arff")
        parts.append(pd.DataFrame(data))
    frame = pd.concat(parts, ignore_index=True)
    labels = [c for c in meta.names() if c in label_names]
    features = [c for c in meta.names() if c not in label_names]
    truth = np.stack([frame[c].to_numpy() == b"1" for c in labels], axis=1)
    x = frame[features].to_numpy(dtype=np.float64)
    return Multilabel(x=x, truth=truth, class_names=labels)


def load_cifar10n(root: Path, limit: int | None = None) -> tuple[Multilabel, list[np.ndarray]]:
    """CIFAR-10N mosaics (the first ``limit``): hand-made image features, the clean truth and
    three human labelings."""
    keep = slice(None, limit)
    with np.load(root / "cifar10n_mosaic" / "cifar10n_mosaic_5000.npz") as data:
        x = image_features(data["X"][keep])
        truth = data["Y_clean"][keep].astype(bool)
        humans = [data[f"Y_random{i}"][keep].astype(bool) for i in (1, 2, 3)]
        names = [str(c) for c in data["classes"]]
    return Multilabel(x=x, truth=truth, class_names=names), humans


@dataclass(frozen=True)
class Crowd:
    """CrowdTruth judgments (one row each, latest per worker and item) and reference quality."""

    task: np.ndarray
    worker: np.ndarray
    labels: np.ndarray
    duration: np.ndarray
    started_at: np.ndarray
    class_names: list[str]
    reference: pd.Series  # crowdtruth_wqs indexed by worker


def load_crowdtruth(root: Path, max_items: int | None = None) -> Crowd:
    """The open-domain relation judgments; empty label sets stay as all-zero rows."""
    folder = root / "crowdtruth_opendomain"
    frame = pd.read_csv(folder / "annotations.csv.gz")
    if max_items is not None:
        keep = frame["item"].drop_duplicates().iloc[:max_items]
        frame = frame[frame["item"].isin(keep)].reset_index(drop=True)
    sets = frame["labels"].fillna("").str.split("|")
    names = sorted({name for row in sets for name in row if name})
    position = {name: k for k, name in enumerate(names)}
    labels = np.zeros((len(frame), len(names)), dtype=np.int8)
    for row, values in enumerate(sets):
        labels[row, [position[v] for v in values if v]] = 1
    task = pd.factorize(frame["item"])[0]
    reference = pd.read_csv(folder / "worker_quality_reference.csv")
    return Crowd(
        task=task,
        worker=frame["worker"].to_numpy(dtype=object),
        labels=labels,
        duration=frame["duration_s"].to_numpy(dtype=np.float64),
        started_at=frame["started_at"].to_numpy(dtype=object),
        class_names=names,
        reference=reference.set_index("worker")["crowdtruth_wqs"],
    )


# -- image features -----------------------------------------------------------------------------


def _colour_histogram(tiles: np.ndarray, bins: int = 4) -> np.ndarray:
    """Joint RGB histogram (bins**3) of each tile, as square-rooted frequencies."""
    q = (tiles.astype(np.int64) * bins) // 256
    code = ((q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]).reshape(len(tiles), -1)
    code += np.arange(len(tiles))[:, None] * bins**3
    counts = np.bincount(code.ravel(), minlength=len(tiles) * bins**3)
    return np.sqrt(counts.reshape(len(tiles), -1) / code.shape[1])


def _orientation_histogram(tiles: np.ndarray, cells: int = 4, bins: int = 9) -> np.ndarray:
    """HOG-like: magnitude-weighted unsigned gradient orientations over a cells x cells grid,
    L2-normalized per tile and square-rooted."""
    grey = tiles.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    gy, gx = np.gradient(grey, axis=(1, 2))
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    which = np.minimum((angle / np.pi * bins).astype(np.int64), bins - 1)
    m, side = len(tiles), tiles.shape[1]
    cell = np.arange(side) * cells // side
    grid = cell[:, None] * cells + cell[None, :]
    index = (np.arange(m)[:, None, None] * cells**2 + grid) * bins + which
    size = m * cells**2 * bins
    hist = np.bincount(index.ravel(), weights=np.hypot(gx, gy).ravel(), minlength=size)
    hist = hist.reshape(m, -1)
    return np.sqrt(hist / (np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6))


def _thumbnail(tiles: np.ndarray, size: int = 4) -> np.ndarray:
    """Mean colour over a size x size grid, scaled to [0, 1]."""
    m, side = len(tiles), tiles.shape[1] // size
    blocks = tiles.reshape(m, size, side, size, side, 3).astype(np.float64)
    return blocks.mean(axis=(2, 4)).reshape(m, -1) / 255.0


def image_features(images: np.ndarray, chunk: int = 500) -> np.ndarray:
    """Per-quadrant colour, gradient-orientation and thumbnail features of 2x2 mosaics, pooled
    over the quadrants by mean and max (a class may sit in any quadrant)."""
    out = []
    for start in range(0, len(images), chunk):
        batch = images[start : start + chunk]
        n, half = len(batch), batch.shape[1] // 2
        tiles = batch.reshape(n, 2, half, 2, half, 3).transpose(0, 1, 3, 2, 4, 5)
        tiles = tiles.reshape(n * 4, half, half, 3)
        per_tile = np.hstack(
            [_colour_histogram(tiles), _orientation_histogram(tiles), _thumbnail(tiles)]
        ).reshape(n, 4, -1)
        out.append(np.hstack([per_tile.mean(axis=1), per_tile.max(axis=1)]))
    return np.vstack(out)


# -- noise --------------------------------------------------------------------------------------


def _swap(labels: np.ndarray, share: float, rng: np.random.Generator) -> None:
    for i in np.flatnonzero(rng.random(len(labels)) < share):
        on, off = np.flatnonzero(labels[i]), np.flatnonzero(~labels[i])
        if len(on) and len(off):
            labels[i, rng.choice(on)] = False
            labels[i, rng.choice(off)] = True


def _satisfice(labels: np.ndarray, share: float, keep_max: int, rng: np.random.Generator) -> None:
    for i in np.flatnonzero(rng.random(len(labels)) < share):
        on = np.flatnonzero(labels[i])
        if len(on) > 1:
            keep = rng.integers(1, min(keep_max, len(on) - 1) + 1)
            labels[i, rng.choice(on, size=len(on) - keep, replace=False)] = False


def corrupt(truth: np.ndarray, habit: Habit, rng: np.random.Generator) -> np.ndarray:
    """One annotator's labels of every task: ``truth`` (n, K) bool with ``habit``'s errors."""
    labels = truth.copy()
    _swap(labels, habit.swap, rng)
    _satisfice(labels, habit.satisfice, habit.keep_max, rng)
    before = labels.copy()
    labels &= rng.random(labels.shape) >= habit.drop
    emptied = np.flatnonzero(~labels.any(axis=1) & before.any(axis=1))
    for i in emptied:
        labels[i, rng.choice(np.flatnonzero(before[i]))] = True
    labels |= ~before & (rng.random(labels.shape) < habit.add)
    return labels


def simulate_annotators(
    truth: np.ndarray, habits: tuple[Habit, ...], rng: np.random.Generator, all_three: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each task labelled by all annotators (share ``all_three``) or by a random pair.

    Returns the long-form ``task`` (A,), ``annotator`` (A,) names and ``labels`` (A, K) bool.
    """
    n, m = len(truth), len(habits)
    covers = np.ones((n, m), dtype=bool)
    pairs = np.flatnonzero(rng.random(n) >= all_three)
    covers[pairs, rng.integers(0, m, len(pairs))] = False
    tasks, names, rows = [], [], []
    for j, habit in enumerate(habits):
        mine = np.flatnonzero(covers[:, j])
        tasks.append(mine)
        names.append(np.full(len(mine), habit.name, dtype=object))
        rows.append(corrupt(truth, habit, rng)[mine])
    return np.concatenate(tasks), np.concatenate(names), np.vstack(rows)

"""Synthetic aerial scenes for the demo: six classes, drawn with Pillow, and three annotators.

Classes (multi-label): ``airplane``, ``airport``, ``buildings``, ``cars``, ``runway``, ``trees``,
drawn as textures and shapes on a ground texture seen from above:

* ``airport``: a large grey apron (concrete with joints);
* ``runway``: a long dark strip with white centre dashes, almost always at an airport;
* ``airplane``: white cross-shaped planes, on runways or aprons;
* ``buildings``: clusters of roofs (red or grey rectangles with shadows);
* ``cars``: small bright rectangles, mostly near buildings or on the apron;
* ``trees``: dark green round canopies.

Scenes follow realistic co-occurrence: a runway comes with an airport 90% of the time,
airplanes appear with a runway or an airport, cars mostly with buildings. Everything is
deterministic for a seed.

Annotators (each task is labelled by two or three of them):

* ``satisficer``: stops after the first label found (search satisficing): keeps the most
  salient class only, on 80% of the tasks that have several;
* ``hasty``: fast and careless: short lead times, misses each label with probability 0.2 and
  adds a spurious one on 10% of the tasks;
* ``careful``: slower, almost always right (misses 2% of labels).

Lead times are log-normal around each annotator's pace (more labels take longer); timestamps
advance through a working day per annotator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["ANNOTATORS", "CLASSES", "Annotation", "make_scenes", "simulate_annotations"]

CLASSES = ("airplane", "airport", "buildings", "cars", "runway", "trees")
AIRPLANE, AIRPORT, BUILDINGS, CARS, RUNWAY, TREES = range(6)
#: Drawing order (salience for the satisficer: the first present class is the one kept).
SALIENCE = (RUNWAY, AIRPORT, AIRPLANE, BUILDINGS, TREES, CARS)
SIDE = 128


@dataclass(frozen=True)
class Annotator:
    name: str
    pace: float  # median seconds per task
    satisfice: float  # share of multi-label tasks cut to one label
    miss: float  # chance of dropping each label
    spurious: float  # chance of adding one wrong label


ANNOTATORS = (
    Annotator("satisficer", pace=6.0, satisfice=0.8, miss=0.02, spurious=0.01),
    Annotator("hasty", pace=3.0, satisfice=0.0, miss=0.2, spurious=0.1),
    Annotator("careful", pace=14.0, satisfice=0.0, miss=0.02, spurious=0.0),
)


@dataclass(frozen=True)
class Annotation:
    task: int
    annotator: str
    labels: tuple[str, ...]
    lead_time: float
    created_at: str


def _scene_labels(rng: np.random.Generator) -> np.ndarray:
    y = np.zeros(len(CLASSES), dtype=np.int8)
    if rng.random() < 0.35:  # an airfield
        y[AIRPORT] = 1
        y[RUNWAY] = rng.random() < 0.6
        y[AIRPLANE] = rng.random() < 0.55
        y[CARS] = rng.random() < 0.4
        y[BUILDINGS] = rng.random() < 0.3
    else:
        y[RUNWAY] = rng.random() < 0.04  # a lone strip
        y[BUILDINGS] = rng.random() < 0.55
        y[CARS] = rng.random() < (0.6 if y[BUILDINGS] else 0.1)
    y[TREES] = rng.random() < 0.45
    if not y.any():
        y[TREES] = 1
    return y


def _ground(rng: np.random.Generator) -> Image.Image:
    base = np.array([110, 120, 80]) + rng.integers(-15, 15, 3)
    noise = rng.normal(0, 9, (SIDE // 4, SIDE // 4, 1))
    small = np.clip(base + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(small).resize((SIDE, SIDE), Image.Resampling.BILINEAR)


def _draw(y: np.ndarray, rng: np.random.Generator) -> Image.Image:
    image = _ground(rng)
    draw = ImageDraw.Draw(image)
    if y[AIRPORT]:
        x0, y0 = int(rng.integers(0, SIDE // 3)), int(rng.integers(0, SIDE // 3))
        w, h = int(rng.integers(SIDE // 2, SIDE * 3 // 4)), int(rng.integers(SIDE // 3, SIDE // 2))
        draw.rectangle((x0, y0, x0 + w, y0 + h), fill=(170, 170, 165))
        for gx in range(x0, x0 + w, 10):
            draw.line((gx, y0, gx, y0 + h), fill=(150, 150, 148))
    if y[RUNWAY]:
        horizontal = rng.random() < 0.5
        pos = int(rng.integers(SIDE // 4, SIDE * 3 // 4))
        box = (0, pos - 7, SIDE, pos + 7) if horizontal else (pos - 7, 0, pos + 7, SIDE)
        draw.rectangle(box, fill=(55, 55, 60))
        for d in range(4, SIDE, 16):
            dash = (d, pos - 1, d + 8, pos + 1) if horizontal else (pos - 1, d, pos + 1, d + 8)
            draw.rectangle(dash, fill=(245, 245, 245))
    if y[BUILDINGS]:
        for _ in range(int(rng.integers(3, 7))):
            bx, by = int(rng.integers(0, SIDE - 20)), int(rng.integers(0, SIDE - 20))
            bw, bh = int(rng.integers(8, 18)), int(rng.integers(8, 18))
            roof = (180, 60, 50) if rng.random() < 0.6 else (120, 120, 130)
            draw.rectangle((bx + 3, by + 3, bx + bw + 3, by + bh + 3), fill=(40, 40, 35))
            draw.rectangle((bx, by, bx + bw, by + bh), fill=roof)
    if y[TREES]:
        for _ in range(int(rng.integers(4, 12))):
            tx, ty, r = (
                int(rng.integers(0, SIDE)),
                int(rng.integers(0, SIDE)),
                int(rng.integers(4, 8)),
            )
            draw.ellipse(
                (tx - r, ty - r, tx + r, ty + r), fill=(30, 80 + int(rng.integers(0, 30)), 35)
            )
    if y[CARS]:
        for _ in range(int(rng.integers(3, 9))):
            cx, cy = int(rng.integers(0, SIDE - 6)), int(rng.integers(0, SIDE - 6))
            colour = tuple(
                int(v) for v in rng.choice([[230, 40, 40], [40, 90, 230], [240, 220, 40]])
            )
            vertical = rng.random() < 0.5
            draw.rectangle(
                (cx, cy, cx + (2 if vertical else 5), cy + (5 if vertical else 2)), fill=colour
            )
    if y[AIRPLANE]:
        for _ in range(int(rng.integers(1, 3))):
            px, py = int(rng.integers(14, SIDE - 14)), int(rng.integers(14, SIDE - 14))
            draw.rectangle((px - 2, py - 12, px + 2, py + 12), fill=(250, 250, 250))  # fuselage
            draw.rectangle((px - 12, py - 3, px + 12, py + 2), fill=(250, 250, 250))  # wings
            draw.rectangle((px - 5, py + 8, px + 5, py + 10), fill=(250, 250, 250))  # tail
    return image.filter(ImageFilter.GaussianBlur(0.6))


def make_scenes(n: int, *, seed: int = 0) -> tuple[list[Image.Image], np.ndarray]:
    """``n`` RGB scenes (128x128) and their true labels ``(n, 6)`` int8."""
    rng = np.random.default_rng(seed)
    truth = np.stack([_scene_labels(rng) for _ in range(n)])
    images = [_draw(y, rng) for y in truth]
    return images, truth


def _labels_of(y: np.ndarray, who: Annotator, rng: np.random.Generator) -> np.ndarray:
    given = y.copy()
    present = [k for k in SALIENCE if y[k]]
    if len(present) > 1 and rng.random() < who.satisfice:
        given[:] = 0
        given[present[0]] = 1
        return given
    drops = (rng.random(len(y)) < who.miss) & (given == 1)
    if drops.sum() < given.sum():  # keep at least one label
        given[drops] = 0
    if rng.random() < who.spurious:
        absent = np.flatnonzero(given == 0)
        if len(absent):
            given[rng.choice(absent)] = 1
    return given


def simulate_annotations(
    truth: np.ndarray, *, seed: int = 0, unlabelled: float = 0.15, start: datetime | None = None
) -> list[Annotation]:
    """Two or three annotators per task (a third of the tasks get all three); the last
    ``unlabelled`` share of the tasks is left for pre-annotation."""
    rng = np.random.default_rng(seed + 1)
    clock = {a.name: start or datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc) for a in ANNOTATORS}
    out = []
    labelled = len(truth) - round(unlabelled * len(truth))
    for task, y in enumerate(truth[:labelled]):
        chosen = ANNOTATORS if rng.random() < 1 / 3 else tuple(rng.permutation(ANNOTATORS)[:2])
        for who in chosen:
            given = _labels_of(y, who, rng)
            lead = float(who.pace * (1 + 0.25 * given.sum()) * rng.lognormal(0, 0.35))
            clock[who.name] += timedelta(seconds=lead + float(rng.exponential(4.0)))
            names = tuple(CLASSES[k] for k in np.flatnonzero(given))
            out.append(
                Annotation(task, who.name, names, round(lead, 2), clock[who.name].isoformat())
            )
    return out

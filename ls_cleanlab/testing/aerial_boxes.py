"""Aerial scenes with drawn objects, for the box demo, its test and the detector benchmark.

Four classes seen from above, drawn with Pillow inside their true boxes on a textured ground with
distractors (fields, roads, bushes), so that a detector has to look at the pixels:

=============  ==============================================================================
``airplane``   a white cross (fuselage, wings, tail) along the box's longer side
``car``        a small bright rounded rectangle with a dark windscreen, elongated
``building``   a red, grey or brown roof with a ridge line and a shadow
``tree``       a dark green round canopy with a lighter crown
=============  ==============================================================================

:func:`make_aerial_scenes` places objects with class-typical sizes (airplanes large, cars small)
and draws them; :func:`draw_scene` draws any boxes (the benchmark draws the class-agnostic boxes
of :func:`~ls_cleanlab.testing.scenes.simulate_scenes`). Deterministic for a generator.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ls_cleanlab.model.detector import iou_matrix
from ls_cleanlab.testing.scenes import Scenes

__all__ = [
    "CLASSES",
    "AerialScenes",
    "annotation_results",
    "draw_scene",
    "label_config",
    "make_aerial_scenes",
    "png_data_uri",
    "rectangle_results",
    "task_json",
]

CLASSES = ("airplane", "car", "building", "tree")
AIRPLANE, CAR, BUILDING, TREE = range(4)
#: Side ranges (pixels) of each class's boxes: (short side low, high), aspect low, high.
_SIZES = {
    AIRPLANE: ((36, 60), (1.0, 1.3)),
    CAR: ((10, 14), (1.7, 2.2)),
    BUILDING: ((18, 40), (1.0, 1.8)),
    TREE: ((16, 28), (0.9, 1.1)),
}
#: How often each class is placed.
_SHARES = (0.15, 0.35, 0.25, 0.25)


@dataclass(frozen=True, eq=False)
class AerialScenes:
    """Drawn scenes and their true objects.

    Attributes
    ----------
    images : list of PIL.Image.Image, length N
    truth_image, truth_labels : ndarray of int64, shape (T,)
        Image and class of each true object (sorted by image).
    truth_boxes : ndarray of float64, shape (T, 4)
        x1, y1, x2, y2 in pixels.
    size : (width, height)
    """

    images: list[Image.Image]
    truth_image: np.ndarray
    truth_boxes: np.ndarray
    truth_labels: np.ndarray
    size: tuple[int, int]


def _ground(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    width, height = size
    base = np.array([105, 118, 78]) + rng.integers(-12, 12, 3)
    noise = rng.normal(0, 8, (height // 8 + 1, width // 8 + 1, 1))
    small = np.clip(base + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 4))):  # fields
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(60, 180)), int(rng.integers(60, 160))
        tone = (int(rng.integers(120, 160)), int(rng.integers(110, 140)), int(rng.integers(60, 90)))
        draw.rectangle((x0, y0, x0 + w, y0 + h), fill=tone)
    if rng.random() < 0.6:  # a road
        pos = int(rng.integers(20, min(width, height) - 20))
        half = int(rng.integers(5, 9))
        box = (
            (0, pos - half, width, pos + half)
            if rng.random() < 0.5
            else (pos - half, 0, pos + half, height)
        )
        draw.rectangle(box, fill=(92, 92, 96))
    for _ in range(int(rng.integers(4, 14))):  # bushes: small, paler than trees
        x, y, r = int(rng.integers(0, width)), int(rng.integers(0, height)), int(rng.integers(2, 5))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(70, 105, 60))
    return image


def _airplane(draw: ImageDraw.ImageDraw, box: np.ndarray, rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    colour = (245, 245, 245) if rng.random() < 0.7 else (215, 220, 228)
    if h >= w:  # nose up or down
        cx, body = (x1 + x2) / 2, max(w * 0.12, 2)
        draw.rectangle((cx - body, y1, cx + body, y2), fill=colour)
        wing = y1 + h * (0.35 if rng.random() < 0.5 else 0.5)
        draw.rectangle((x1, wing - h * 0.07, x2, wing + h * 0.07), fill=colour)
        tail = y2 - h * 0.1 if wing < y1 + h * 0.45 else y1 + h * 0.1
        draw.rectangle(
            (cx - w * 0.22, tail - h * 0.04, cx + w * 0.22, tail + h * 0.04), fill=colour
        )
    else:
        cy, body = (y1 + y2) / 2, max(h * 0.12, 2)
        draw.rectangle((x1, cy - body, x2, cy + body), fill=colour)
        wing = x1 + w * (0.35 if rng.random() < 0.5 else 0.5)
        draw.rectangle((wing - w * 0.07, y1, wing + w * 0.07, y2), fill=colour)
        tail = x2 - w * 0.1 if wing < x1 + w * 0.45 else x1 + w * 0.1
        draw.rectangle(
            (tail - w * 0.04, cy - h * 0.22, tail + w * 0.04, cy + h * 0.22), fill=colour
        )


def _car(draw: ImageDraw.ImageDraw, box: np.ndarray, rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    colours = ((225, 40, 40), (40, 90, 230), (240, 215, 40), (235, 235, 235), (30, 30, 30))
    colour = colours[int(rng.integers(0, len(colours)))]
    draw.rounded_rectangle((x1, y1, x2, y2), radius=2, fill=colour)
    w, h = x2 - x1, y2 - y1
    if h >= w:
        y = y1 + h * (0.22 if rng.random() < 0.5 else 0.62)
        draw.rectangle((x1 + 1, y, x2 - 1, y + h * 0.16), fill=(40, 50, 60))
    else:
        x = x1 + w * (0.22 if rng.random() < 0.5 else 0.62)
        draw.rectangle((x, y1 + 1, x + w * 0.16, y2 - 1), fill=(40, 50, 60))


def _building(draw: ImageDraw.ImageDraw, box: np.ndarray, rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    shade = max(2.0, 0.15 * min(w, h))
    roofs = ((178, 62, 50), (125, 125, 135), (140, 100, 70))
    roof = roofs[int(rng.integers(0, len(roofs)))]
    draw.rectangle((x1 + shade, y1 + shade, x2, y2), fill=(38, 38, 34))
    draw.rectangle((x1, y1, x2 - shade, y2 - shade), fill=roof)
    darker = tuple(int(c * 0.75) for c in roof)
    if w >= h:
        cy = y1 + (h - shade) / 2
        draw.line((x1, cy, x2 - shade, cy), fill=darker, width=1)
    else:
        cx = x1 + (w - shade) / 2
        draw.line((cx, y1, cx, y2 - shade), fill=darker, width=1)


def _tree(draw: ImageDraw.ImageDraw, box: np.ndarray, rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    green = (28, 72 + int(rng.integers(0, 25)), 32)
    draw.ellipse((x1, y1, x2, y2), fill=green)
    w, h = x2 - x1, y2 - y1
    lighter = (green[0] + 20, green[1] + 30, green[2] + 15)
    draw.ellipse((x1 + w * 0.2, y1 + h * 0.15, x1 + w * 0.6, y1 + h * 0.55), fill=lighter)


_DRAW = {AIRPLANE: _airplane, CAR: _car, BUILDING: _building, TREE: _tree}


def draw_scene(
    boxes: np.ndarray, labels: np.ndarray, *, size: tuple[int, int], rng: np.random.Generator
) -> Image.Image:
    """Draw objects of classes ``labels % 4`` in ``boxes`` (pixels) on a fresh ground."""
    image = _ground(rng, size)
    draw = ImageDraw.Draw(image)
    for box, label in zip(np.asarray(boxes, dtype=np.float64), np.asarray(labels), strict=True):
        _DRAW[int(label) % len(CLASSES)](draw, box, rng)
    return image.filter(ImageFilter.GaussianBlur(0.5))


def _place(
    rng: np.random.Generator, count: int, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    boxes: list[np.ndarray] = []
    labels: list[int] = []
    for _ in range(count):
        label = int(rng.choice(len(CLASSES), p=_SHARES))
        (low, high), (a_low, a_high) = _SIZES[label]
        short = rng.uniform(low, high)
        long = short * rng.uniform(a_low, a_high)
        w, h = (long, short) if rng.random() < 0.5 else (short, long)
        for _try in range(30):
            x, y = rng.uniform(2, size[0] - w - 2), rng.uniform(2, size[1] - h - 2)
            box = np.array([[x, y, x + w, y + h]])
            if not boxes or iou_matrix(box, np.array(boxes)).max() <= 0.05:
                boxes.append(box[0])
                labels.append(label)
                break
    return np.array(boxes).reshape(-1, 4), np.array(labels, dtype=np.int64)


def make_aerial_scenes(
    n_images: int,
    *,
    rng: np.random.Generator,
    size: tuple[int, int] = (320, 240),
    objects: tuple[int, int] = (1, 8),
) -> AerialScenes:
    """``n_images`` scenes with ``objects`` objects each (uniform in the range), drawn."""
    images, image_of, all_boxes, all_labels = [], [], [], []
    for i in range(n_images):
        boxes, labels = _place(rng, int(rng.integers(objects[0], objects[1] + 1)), size)
        images.append(draw_scene(boxes, labels, size=size, rng=rng))
        image_of.append(np.full(len(boxes), i))
        all_boxes.append(boxes)
        all_labels.append(labels)
    return AerialScenes(
        images=images,
        truth_image=np.concatenate(image_of).astype(np.int64),
        truth_boxes=np.concatenate(all_boxes),
        truth_labels=np.concatenate(all_labels),
        size=size,
    )


def rectangle_results(
    boxes: np.ndarray,
    labels: np.ndarray,
    *,
    size: tuple[int, int],
    class_names: tuple[str, ...] = CLASSES,
    from_name: str = "label",
    to_name: str = "image",
) -> list[dict[str, Any]]:
    """Label Studio ``rectanglelabels`` results of boxes in pixels (clipped to the image)."""
    width, height = size
    out = []
    for i, (box, label) in enumerate(zip(np.asarray(boxes), np.asarray(labels), strict=True)):
        x1, y1 = max(float(box[0]), 0.0), max(float(box[1]), 0.0)
        x2, y2 = min(float(box[2]), width), min(float(box[3]), height)
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        out.append({
            "id": f"r{i}", "from_name": from_name, "to_name": to_name, "type": "rectanglelabels",
            "original_width": width, "original_height": height, "image_rotation": 0,
            "value": {"x": 100 * x1 / width, "y": 100 * y1 / height,
                      "width": 100 * (x2 - x1) / width, "height": 100 * (y2 - y1) / height,
                      "rotation": 0, "rectanglelabels": [class_names[int(label)]]},
        })  # fmt: skip
    return out


def png_data_uri(image: Image.Image) -> str:
    """The image as a ``data:image/png;base64,...`` URI (task data without a server)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def label_config(class_names: tuple[str, ...] = CLASSES) -> str:
    """A ``RectangleLabels`` labeling config over ``$image`` with these classes."""
    labels = "".join(f'<Label value="{name}"/>' for name in class_names)
    return (
        '<View><Image name="image" value="$image"/>'
        f'<RectangleLabels name="label" toName="image">{labels}</RectangleLabels></View>'
    )


def annotation_results(scenes: Scenes, image: int, annotator: str, size: tuple[int, int]) -> list:
    """The ``rectanglelabels`` results of one simulated annotator on one image."""
    ann = scenes.annotations
    rows = np.flatnonzero((ann.image == image) & (ann.annotator == annotator))
    return rectangle_results(ann.boxes[rows], ann.labels[rows], size=size)


def task_json(
    aerial: AerialScenes, scenes: Scenes, users: dict[str, int], *, first_id: int = 1
) -> list[dict[str, Any]]:
    """Label Studio task JSON (images as ``data:`` URIs, one annotation per simulated annotator
    who saw the image), as an export would hold them: for offline tests."""
    ann = scenes.annotations
    tasks = []
    for i, picture in enumerate(aerial.images):
        annotations = [
            {"id": 1000 * (i + 1) + a, "completed_by": users[str(name)],
             "result": annotation_results(scenes, i, str(name), aerial.size),
             "created_at": f"2026-11-02T09:{a:02d}:00Z", "was_cancelled": False}
            for a, name in enumerate(ann.annotator_ids) if ann.seen[i, a]
        ]  # fmt: skip
        tasks.append({"id": first_id + i, "data": {"image": png_data_uri(picture)},
                      "annotations": annotations, "predictions": []})  # fmt: skip
    return tasks

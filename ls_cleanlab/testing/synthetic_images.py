"""Generated multi-label images with known truth, for tests and benchmarks of features and models.

Five classes drawn with Pillow into random quadrants of a noisy background: a yellow disc,
horizontal stripes, a green grass texture, a blue box outline and a red checkerboard. Each class
is present independently with probability ``rate``; deterministic for a seed. A project of such
images in Label Studio uses :data:`LABEL_CONFIG`; :func:`annotation` writes one annotation of it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["CLASSES", "LABEL_CONFIG", "annotation", "encode", "label_config", "make_images"]

CLASSES = ("sun", "stripes", "grass", "box", "checker")


def label_config(choices: str = "objects") -> str:
    """Label Studio's label config of a multi-label project of these images, its ``Choices``
    named ``choices``."""
    return (
        f'<View><Image name="image" value="$image"/><Choices name="{choices}" toName="image" '
        'choice="multiple">'
        + "".join(f'<Choice value="{c}"/>' for c in CLASSES)
        + "</Choices></View>"
    )


#: :func:`label_config` as :func:`annotation` writes it.
LABEL_CONFIG = label_config()


def _patch(kind: int, side: int, rng: np.random.Generator) -> Image.Image:
    from PIL import Image, ImageDraw

    patch = Image.new("RGB", (side, side), (0, 0, 0))
    draw = ImageDraw.Draw(patch)
    if kind == 0:
        patch = Image.new("RGB", (side, side), tuple(int(v) for v in rng.integers(40, 90, 3)))
        draw = ImageDraw.Draw(patch)
        pad = int(rng.integers(2, side // 5))
        draw.ellipse((pad, pad, side - pad, side - pad), fill=(250, 220, 40))
    elif kind == 1:
        step = int(rng.integers(3, 6))
        for y in range(0, side, 2 * step):
            draw.rectangle((0, y, side, y + step - 1), fill=(235, 235, 235))
    elif kind == 2:
        green = rng.integers(60, 200, (side, side))
        pixels = np.stack([green // 4, green, green // 5], axis=-1).astype(np.uint8)
        patch = Image.fromarray(pixels)
    elif kind == 3:
        patch = Image.new("RGB", (side, side), (200, 200, 200))
        draw = ImageDraw.Draw(patch)
        draw.rectangle((3, 3, side - 4, side - 4), outline=(20, 40, 220), width=4)
    else:
        step = int(rng.integers(4, 8))
        for y in range(0, side, step):
            for x in range(0, side, step):
                if (x // step + y // step) % 2 == 0:
                    draw.rectangle((x, y, x + step - 1, y + step - 1), fill=(220, 30, 30))
    return patch


def make_images(
    n: int, *, seed: int = 0, side: int = 96, rate: float = 0.35
) -> tuple[list[Image.Image], np.ndarray]:
    """``n`` images and their labels ``(n, 5)`` int8."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    labels = (rng.random((n, k)) < rate).astype(np.int8)
    images = []
    half = side // 2
    for row in labels:
        noise = rng.integers(90, 160, (side, side, 3)).astype(np.uint8)
        canvas = Image.fromarray(noise)
        present = np.flatnonzero(row)
        quadrants = rng.permutation(4)
        for slot, kind in enumerate(present[:4]):
            q = int(quadrants[slot])
            canvas.paste(_patch(int(kind), half, rng), ((q % 2) * half, (q // 2) * half))
        images.append(canvas)
    if (labels.sum(axis=1) > 4).any():  # a fifth class has no quadrant left: it is not drawn
        over = labels.sum(axis=1) > 4
        labels[over, np.array([np.flatnonzero(r)[4] for r in labels[over]])] = 0
    return images, labels


def encode(image: Image.Image, format: str = "PNG") -> bytes:
    """The image file's bytes."""
    out = io.BytesIO()
    image.save(out, format=format)
    return out.getvalue()


def annotation(user: int, labels: np.ndarray, lead: float = 5.0) -> dict[str, Any]:
    """One annotation of a :data:`LABEL_CONFIG` task in Label Studio's JSON: the classes where
    ``labels`` (``(5,)`` 0/1) is 1, by user id ``user``, after ``lead`` seconds."""
    chosen = [CLASSES[k] for k in np.flatnonzero(labels)]
    return {
        "completed_by": user,
        "lead_time": lead,
        "created_at": "2026-11-01T10:00:00Z",
        "result": [
            {
                "from_name": "objects",
                "to_name": "image",
                "type": "choices",
                "value": {"choices": chosen},
            }
        ],
    }

"""Features of image windows for a sliding-window detector: aggregate channel features.

An image becomes ten channels, the ones the built-in descriptors (:mod:`.descriptors`) are made
of: CIE L*a*b* colour (3), the gradient magnitude of lightness (1) and six magnitude-weighted
unsigned orientation channels (6). A window ``(x1, y1, x2, y2)`` is described by

* the mean of every channel in each cell of a ``G x G`` grid over the window (shape and colour
  layout; ``G = 4``),
* the mean of every channel in a ring around the window (its context: twice its area) and the
  window's mean minus the ring's (contrast),
* its log width, log height and log aspect ratio relative to the image.

Means over rectangles come from integral images, so any window costs the same; for the dense
scan of one window shape, the cell means are the block means of a grid of cells, and every
window is a ``G x G`` block of that grid (:func:`cell_grid`). This is the "aggregate channel
features" detector design of P. Dollár, R. Appel, S. Belongie and P. Perona, "Fast feature
pyramids for object detection", IEEE TPAMI 36(8), 2014, with the channels of Dalal & Triggs'
HOG (CVPR 2005).

Numpy only; images are ``(H, W, 3)`` uint8 RGB arrays. A :class:`ChannelImage` is what the box
detector (:mod:`ls_cleanlab.model.detector`, which may not import this package) reads: its
``WindowImage`` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.features.descriptors import srgb_to_lab

__all__ = [
    "CELLS",
    "N_CHANNELS",
    "ChannelImage",
    "cell_grid",
    "channel_image",
    "n_window_features",
    "window_features",
]

#: Cells per side of the window grid.
CELLS = 4
_ORIENTATIONS = 6
#: Channels per pixel: L*, a*, b*, gradient magnitude, orientations.
N_CHANNELS = 4 + _ORIENTATIONS


@dataclass(frozen=True, eq=False)
class ChannelImage:
    """An image's channels as an integral image.

    Attributes
    ----------
    integral : ndarray of float64, shape (H + 1, W + 1, C)
        ``integral[y, x] = sum of channels over rows < y and columns < x``.
    """

    integral: np.ndarray

    @property
    def height(self) -> int:
        return int(self.integral.shape[0] - 1)

    @property
    def width(self) -> int:
        return int(self.integral.shape[1] - 1)

    @property
    def cells(self) -> int:
        """Cells per side of a window's grid (:data:`CELLS`)."""
        return CELLS

    @property
    def n_channels(self) -> int:
        return N_CHANNELS

    def window_features(self, boxes: np.ndarray) -> np.ndarray:
        """:func:`window_features` of this image."""
        return window_features(self, boxes)

    def cell_grid(
        self, cell: tuple[int, int], offset: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`cell_grid` of this image."""
        return cell_grid(self, cell, offset)

    def means(self, boxes: np.ndarray) -> np.ndarray:
        """(N, C) mean channels over integer-clipped ``boxes`` (N, 4) x1, y1, x2, y2; a box
        clipped to nothing gets zeros."""
        x1 = np.clip(np.floor(boxes[:, 0]), 0, self.width).astype(np.int64)
        y1 = np.clip(np.floor(boxes[:, 1]), 0, self.height).astype(np.int64)
        x2 = np.clip(np.ceil(boxes[:, 2]), 0, self.width).astype(np.int64)
        y2 = np.clip(np.ceil(boxes[:, 3]), 0, self.height).astype(np.int64)
        s = self.integral
        total = s[y2, x2] - s[y1, x2] - s[y2, x1] + s[y1, x1]
        area = ((x2 - x1) * (y2 - y1)).astype(np.float64)
        return total / np.maximum(area, 1.0)[:, None]


def channel_image(image: np.ndarray) -> ChannelImage:
    """The channels of an RGB image ``(H, W, 3)`` uint8, as an integral image."""
    lab = srgb_to_lab(image.astype(np.float32) / 255)
    lightness = lab[..., 0]
    dx = np.zeros_like(lightness)
    dy = np.zeros_like(lightness)
    dx[:, 1:-1] = (lightness[:, 2:] - lightness[:, :-2]) / 2
    dy[1:-1, :] = (lightness[2:, :] - lightness[:-2, :]) / 2
    magnitude = np.hypot(dx, dy)
    angle = np.mod(np.arctan2(dy, dx), np.pi)
    bins = np.minimum((angle * (_ORIENTATIONS / np.pi)).astype(np.int64), _ORIENTATIONS - 1)
    orientations = (bins[..., None] == np.arange(_ORIENTATIONS)) * magnitude[..., None]
    stacked = np.concatenate(
        [lab / np.array([100.0, 60.0, 60.0], dtype=np.float32), magnitude[..., None] / 10,
         orientations / 10],
        axis=2,
    )  # fmt: skip
    integral = np.zeros((stacked.shape[0] + 1, stacked.shape[1] + 1, N_CHANNELS))
    integral[1:, 1:] = stacked.astype(np.float64).cumsum(axis=0).cumsum(axis=1)
    return ChannelImage(integral)


def n_window_features() -> int:
    """The length of one window's features."""
    return CELLS * CELLS * N_CHANNELS + 2 * N_CHANNELS + 3


def _cells(boxes: np.ndarray) -> np.ndarray:
    """(N * G * G, 4) the grid cells of each box, row-major."""
    steps = np.arange(CELLS + 1) / CELLS
    w = (boxes[:, 2] - boxes[:, 0])[:, None]
    h = (boxes[:, 3] - boxes[:, 1])[:, None]
    xs = boxes[:, 0:1] + w * steps  # (N, G + 1)
    ys = boxes[:, 1:2] + h * steps
    gy, gx = np.meshgrid(np.arange(CELLS), np.arange(CELLS), indexing="ij")
    gy, gx = gy.ravel(), gx.ravel()
    cells = np.stack([xs[:, gx], ys[:, gy], xs[:, gx + 1], ys[:, gy + 1]], axis=2)
    return cells.reshape(-1, 4)


def window_features(image: ChannelImage, boxes: np.ndarray) -> np.ndarray:
    """(N, :func:`n_window_features`) features of windows ``boxes`` (N, 4) in pixels."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    n = len(boxes)
    cells = image.means(_cells(boxes)).reshape(n, -1)
    inside = image.means(boxes)
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    grown = boxes + np.stack([-w, -h, w, h], axis=1) * (np.sqrt(2) - 1) / 2
    grown_area = _clipped_area(image, grown)
    inner_area = _clipped_area(image, boxes)
    ring = (image.means(grown) * grown_area[:, None] - inside * inner_area[:, None]) / np.maximum(
        grown_area - inner_area, 1.0
    )[:, None]
    geometry = np.stack([np.log(w / image.width), np.log(h / image.height), np.log(w / h)], axis=1)
    return np.hstack([cells, ring, inside - ring, geometry]).astype(np.float32)


def _clipped_area(image: ChannelImage, boxes: np.ndarray) -> np.ndarray:
    x1 = np.clip(np.floor(boxes[:, 0]), 0, image.width)
    y1 = np.clip(np.floor(boxes[:, 1]), 0, image.height)
    x2 = np.clip(np.ceil(boxes[:, 2]), 0, image.width)
    y2 = np.clip(np.ceil(boxes[:, 3]), 0, image.height)
    return (x2 - x1) * (y2 - y1)


def cell_grid(
    image: ChannelImage, cell: tuple[int, int], offset: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block means of a grid of ``cell = (width, height)`` pixel cells starting at ``offset =
    (x, y)``.

    Returns
    -------
    grid : ndarray, shape (rows, cols, C)
        Mean channels of each cell.
    xs, ys : ndarray of int64, shape (cols + 1,), (rows + 1,)
        Pixel edges of the cells.
    """
    cw, ch = cell
    xs = np.arange(offset[0], image.width + 1, cw, dtype=np.int64)
    ys = np.arange(offset[1], image.height + 1, ch, dtype=np.int64)
    s = image.integral
    if len(xs) < 2 or len(ys) < 2:
        return np.zeros((0, 0, N_CHANNELS)), xs, ys
    corners = s[np.ix_(ys, xs)]  # (rows + 1, cols + 1, C)
    grid = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]
    return grid / float(cw * ch), xs, ys

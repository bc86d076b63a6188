"""Weight-free image descriptors: colour, gradient orientation and layout, for a batch at once.

Every image of a batch is a ``(S, S, 3)`` uint8 RGB array of the same side ``S`` (the caller
resizes). The descriptor concatenates, all computed in CIE L*a*b* (a perceptual colour space, D65
white; :func:`srgb_to_lab`):

* **gradient-orientation histograms** of lightness on a spatial pyramid (1x1, 2x2, 4x4 and 8x8
  cells, 9 unsigned orientation bins, magnitude-weighted), each cell L2-normalized then
  square-rooted, in the spirit of HOG (Dalal & Triggs 2005) and spatial pyramids (Lazebnik,
  Schmid & Ponce 2006);
* **joint colour histograms** (4 x 4 x 4 bins of L*, a*, b*) on a 1x1, 2x2 and 4x4 pyramid,
  square-rooted (the Hellinger map, which makes a linear model compare histograms sensibly);
* **quadrant pooling**: the quadrants' descriptors (gradients at 1x1 and 2x2, colour at 1x1)
  max- and mean-pooled over the four quadrants, so an object is described the same wherever it
  sits;
* a **thumbnail**: the mean L*a*b* of an 8x8 grid.

Numpy only, vectorized over the batch; about 2,500 numbers per image for ``S = 64``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DESCRIPTOR_VERSION", "SIDE", "describe", "descriptor_size", "srgb_to_lab"]

#: Bump when the descriptor changes, so cached vectors of the old one are not reused.
DESCRIPTOR_VERSION = "lab-hog-v1"
#: Images are resized to SIDE x SIDE pixels before description.
SIDE = 64

_ORIENTATIONS = 9
_COLOUR_BINS = 4  # per L*, a*, b* axis: 64 joint bins
_FINEST = 8  # finest grid of gradient cells (8 x 8 cells of 8 x 8 pixels at SIDE = 64)
_GRADIENT_LEVELS = (1, 2, 4, 8)
_COLOUR_LEVELS = (1, 2, 4)
_THUMBNAIL = 8

# sRGB (linear) -> XYZ, D65, and the D65 white point (IEC 61966-2-1; CIE 15).
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float32,
)
_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB values.

    Parameters
    ----------
    rgb : np.ndarray, shape (..., 3)
        sRGB in [0, 1].

    Returns
    -------
    np.ndarray of float32, shape (..., 3)
        L* in [0, 100]; a* and b* roughly in [-110, 110].
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = (linear @ _RGB_TO_XYZ.T) / _WHITE
    epsilon, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > epsilon, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1).astype(np.float32)


def _grid(values: np.ndarray, cells: int) -> np.ndarray:
    """(B, S, S, ...) -> (B, cells * cells, S/cells * S/cells, ...): pixels grouped by cell."""
    batch, side = values.shape[0], values.shape[1]
    step = side // cells
    blocks = values.reshape(batch, cells, step, cells, step, *values.shape[3:]).swapaxes(2, 3)
    return blocks.reshape(batch, cells * cells, step * step, *values.shape[3:])


def _cell_histograms(bins: np.ndarray, weights: np.ndarray | None, cells: int, n_bins: int):
    """Histogram of ``bins`` (B, S, S) ints in [0, n_bins) per cell: (B, cells, cells, n_bins)."""
    batch = bins.shape[0]
    grouped = _grid(bins, cells)
    offsets = (np.arange(batch * cells * cells) * n_bins).reshape(batch, cells * cells, 1)
    flat_weights = None if weights is None else _grid(weights, cells).ravel()
    counts = np.bincount(
        (grouped + offsets).ravel(), weights=flat_weights, minlength=batch * cells * cells * n_bins
    )
    return counts.reshape(batch, cells, cells, n_bins)


def _coarsen(grid: np.ndarray, cells: int) -> np.ndarray:
    """Sum a (B, G, G, d) cell grid into (B, cells, cells, d)."""
    batch, fine, _, depth = grid.shape
    step = fine // cells
    return grid.reshape(batch, cells, step, cells, step, depth).sum(axis=(2, 4))


def _gradient_norm(histograms: np.ndarray) -> np.ndarray:
    norm = np.sqrt(np.einsum("...i,...i->...", histograms, histograms))[..., None]
    return np.sqrt(histograms / (norm + 1e-6))


def _colour_norm(histograms: np.ndarray) -> np.ndarray:
    return np.sqrt(histograms / np.maximum(histograms.sum(axis=-1, keepdims=True), 1e-12))


def _orientation_grid(lightness: np.ndarray) -> np.ndarray:
    """Magnitude-weighted orientation histograms on the finest grid: (B, 8, 8, 9)."""
    dx = np.zeros_like(lightness)
    dy = np.zeros_like(lightness)
    dx[:, :, 1:-1] = lightness[:, :, 2:] - lightness[:, :, :-2]
    dy[:, 1:-1, :] = lightness[:, 2:, :] - lightness[:, :-2, :]
    magnitude = np.hypot(dx, dy)
    angle = np.mod(np.arctan2(dy, dx), np.pi)
    bins = np.minimum((angle * (_ORIENTATIONS / np.pi)).astype(np.int64), _ORIENTATIONS - 1)
    return _cell_histograms(bins, magnitude, _FINEST, _ORIENTATIONS)


def _colour_grid(lab: np.ndarray) -> np.ndarray:
    """Joint L*a*b* histograms on a 4x4 grid, as fractions of each cell's pixels."""
    n = _COLOUR_BINS
    lightness = np.clip((lab[..., 0] * (n / 100)).astype(np.int64), 0, n - 1)
    a = np.clip(((lab[..., 1] + 60) * (n / 120)).astype(np.int64), 0, n - 1)
    b = np.clip(((lab[..., 2] + 60) * (n / 120)).astype(np.int64), 0, n - 1)
    codes = (lightness * n + a) * n + b
    finest = max(_COLOUR_LEVELS)
    counts = _cell_histograms(codes, None, finest, n**3)
    return counts / (lab.shape[1] // finest) ** 2


def _quadrants(grid: np.ndarray) -> np.ndarray:
    """(B, 2G, 2G, d) -> (B, 4, G, G, d): the four quadrants of a cell grid."""
    batch, side, _, depth = grid.shape
    half = side // 2
    return (
        grid.reshape(batch, 2, half, 2, half, depth)
        .transpose(0, 1, 3, 2, 4, 5)
        .reshape(batch, 4, half, half, depth)
    )


def describe(images: np.ndarray) -> np.ndarray:
    """Descriptors of a batch of images.

    Parameters
    ----------
    images : np.ndarray of uint8, shape (B, SIDE, SIDE, 3)
        RGB images.

    Returns
    -------
    np.ndarray of float32, shape (B, descriptor_size())
    """
    if images.ndim != 4 or images.shape[1:] != (SIDE, SIDE, 3):
        raise ValueError(f"images must have shape (B, {SIDE}, {SIDE}, 3), got {images.shape}")
    batch = images.shape[0]
    lab = srgb_to_lab(images.astype(np.float32) / 255)
    orientations = _orientation_grid(lab[..., 0])
    colours = _colour_grid(lab)
    parts = [_gradient_norm(_coarsen(orientations, g)).reshape(batch, -1) for g in _GRADIENT_LEVELS]
    parts += [_colour_norm(_coarsen(colours, g)).reshape(batch, -1) for g in _COLOUR_LEVELS]

    quadrant_parts = [
        _gradient_norm(_coarsen(orientations, 2)).reshape(batch, 4, -1),
        _gradient_norm(_quadrants(_coarsen(orientations, 4))).reshape(batch, 4, -1),
        _colour_norm(_coarsen(colours, 2)).reshape(batch, 4, -1),
    ]
    pooled = np.concatenate(quadrant_parts, axis=2)
    parts += [pooled.max(axis=1), pooled.mean(axis=1)]

    thumbnail = _grid(lab, _THUMBNAIL).mean(axis=2) / 50
    parts.append(thumbnail.reshape(batch, -1))
    return np.concatenate(parts, axis=1).astype(np.float32)


def descriptor_size() -> int:
    """The length of one descriptor."""
    gradients = sum(g * g for g in _GRADIENT_LEVELS) * _ORIENTATIONS
    colours = sum(g * g for g in _COLOUR_LEVELS) * _COLOUR_BINS**3
    quadrant = 2 * (_ORIENTATIONS + 4 * _ORIENTATIONS + _COLOUR_BINS**3)
    return gradients + colours + quadrant + _THUMBNAIL * _THUMBNAIL * 3

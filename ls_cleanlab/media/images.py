"""Decoding image bytes safely: the pixel limit from the header, then a loaded RGB image.

Public through :mod:`ls_cleanlab.media.fetcher` (:func:`~ls_cleanlab.media.fetcher.decode_image`).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ls_cleanlab.errors import MediaError

__all__ = ["DEFAULT_MAX_PIXELS", "decode_image"]

DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's default Image.MAX_IMAGE_PIXELS, fixed here


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode image bytes into a loaded RGB image, refusing decompression bombs.

    Parameters
    ----------
    data : bytes
        The encoded image (PNG, JPEG, GIF, WebP, TIFF, ... whatever Pillow reads).
    max_pixels : int
        Largest width × height accepted; checked from the header before pixels are decoded.
        Pillow itself refuses more than twice its global ``MAX_IMAGE_PIXELS`` whatever this says,
        and above it warns (``DecompressionBombWarning``, left alone: silencing it would change
        the warning filters of every thread); raise ``PIL.Image.MAX_IMAGE_PIXELS`` with this.

    Returns
    -------
    PIL.Image.Image
        Mode ``RGB``, EXIF orientation applied, transparency composited on white, 16-bit and
        float grey scaled to 8 bits (float in [0, 1] is taken as a fraction of white).

    Raises
    ------
    MediaError
        ``kind="bad_image"`` for bytes that are no image or a broken one, ``"too_large"`` for
        too many pixels.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MediaError(f"image data must be bytes, not {type(data).__name__}", "bad_image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise MediaError(
                    f"decompression bomb: {width}x{height} = {width * height} pixels > "
                    f"{max_pixels} limit",
                    "too_large",
                )
            image.load()
            return _to_rgb(ImageOps.exif_transpose(image))
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:  # over twice Pillow's global limit
        raise MediaError(f"decompression bomb: {exc}", "too_large") from exc
    except UnidentifiedImageError as exc:
        raise MediaError("not an image (cannot identify image file)", "bad_image") from exc
    except Exception as exc:  # Pillow's decoders raise many types on malformed input
        raise MediaError(f"broken image ({type(exc).__name__}: {exc})", "bad_image") from exc


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("I", "F") or mode.startswith("I;"):
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        if mode == "F":
            scale = 255.0 if values.size and values.max() <= 1.0 else 1.0
        else:
            scale = 255.0 / 65535.0
        grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")

"""Image embedders: the weight-free default and optional pretrained networks found at run time.

An embedder turns decoded images into vectors in two steps, so that the per-image work (resizing,
cropping) runs in the download threads and the batch work runs once per batch:

* ``prepare(image) -> np.ndarray``: one PIL image (RGB) to a fixed-shape array;
* ``embed(batch) -> np.ndarray``: the stacked arrays ``(B, ...)`` to vectors ``(B, D)``.

``name`` identifies the embedder *and its weights* in the feature cache; change it whenever the
vectors would change.

The optional embedders never download anything: they use weights already on disk (a path the user
gives, or the default file in torch's hub cache) and otherwise explain what is missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.features.descriptors import DESCRIPTOR_VERSION, SIDE, describe

__all__ = [
    "DescriptorEmbedder",
    "ImageEmbedder",
    "OpenClipEmbedder",
    "TorchvisionEmbedder",
    "available_embedders",
    "find_embedder",
]

_IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@runtime_checkable
class ImageEmbedder(Protocol):
    """What :func:`ls_cleanlab.features.images.image_features` needs from an embedder."""

    name: str

    def prepare(self, image: Image.Image) -> np.ndarray: ...

    def embed(self, batch: np.ndarray) -> np.ndarray: ...


class DescriptorEmbedder:
    """The default: colour, gradient and layout descriptors (:mod:`._image_descriptors`).

    Needs no weights and no GPU; about 2,500 numbers per image.
    """

    name = f"descriptors:{DESCRIPTOR_VERSION}"

    def prepare(self, image: Image.Image) -> np.ndarray:
        if image.size != (SIDE, SIDE):
            image = image.resize((SIDE, SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return np.asarray(image.convert("RGB"), dtype=np.uint8)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return describe(batch)


def _center_crop(image: Image.Image, side: int) -> np.ndarray:
    """Short side resized to ``side``, centre cropped: (3, side, side) floats in [0, 1]."""
    width, height = image.size
    scale = side / min(width, height)
    size = (max(side, round(width * scale)), max(side, round(height * scale)))
    resized = image.convert("RGB").resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    left, top = (size[0] - side) // 2, (size[1] - side) // 2
    cropped = resized.crop((left, top, left + side, top + side))
    return np.asarray(cropped, dtype=np.float32).transpose(2, 0, 1) / 255


def _file_tag(path: Path) -> str:
    """Name and size of a weights file, for the cache key (hashing gigabytes would be slow)."""
    return f"{path.name}:{path.stat().st_size}"


class TorchvisionEmbedder:
    """A torchvision ImageNet classifier's penultimate layer (needs torch and torchvision).

    Parameters
    ----------
    arch : str
        A torchvision model builder, e.g. ``"resnet18"`` or ``"resnet50"``.
    weights_path : str or Path, optional
        A state dict on disk. By default the file torchvision would download for the architecture's
        default weights is looked up in torch's hub cache (``torch.hub.get_dir()/checkpoints``);
        nothing is ever downloaded.
    """

    def __init__(self, arch: str = "resnet18", weights_path: str | Path | None = None) -> None:
        import torch
        import torchvision

        builder = getattr(torchvision.models, arch, None)
        if builder is None:
            raise InvalidOptionError(f"torchvision has no model {arch!r}.")
        path = Path(weights_path) if weights_path is not None else self._cached_weights(arch)
        if path is None or not path.is_file():
            raise InvalidOptionError(
                f"no weights for torchvision {arch!r} on disk (looked for {path}); download them "
                "once (e.g. torchvision.models.get_weight(...).get_state_dict()) or pass "
                "weights_path."
            )
        model = builder(weights=None)
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        model.fc = torch.nn.Identity()
        self._model = model.eval()
        self._torch = torch
        self.name = f"torchvision:{arch}:{_file_tag(path)}"

    @staticmethod
    def _cached_weights(arch: str) -> Path | None:
        import torch
        import torchvision

        try:
            weights = torchvision.models.get_model_weights(arch).DEFAULT
        except (ValueError, AttributeError):
            return None
        return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name

    def prepare(self, image: Image.Image) -> np.ndarray:
        pixels = _center_crop(image, 224)
        return (pixels - _IMAGENET_MEAN[:, None, None]) / _IMAGENET_STD[:, None, None]

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            out = self._model(self._torch.from_numpy(np.ascontiguousarray(batch)))
        return np.asarray(out.numpy(), dtype=np.float32)


class OpenClipEmbedder:
    """An open_clip image tower (needs open_clip and torch), with weights from a local file.

    Parameters
    ----------
    model : str
        An open_clip architecture, e.g. ``"ViT-B-32"``.
    weights_path : str or Path
        The checkpoint on disk (open_clip accepts a file path as ``pretrained``).
    """

    def __init__(self, model: str = "ViT-B-32", weights_path: str | Path | None = None) -> None:
        import open_clip
        import torch

        if weights_path is None or not Path(weights_path).is_file():
            raise InvalidOptionError(
                f"open_clip needs its weights on disk; pass weights_path (got {weights_path!r})."
            )
        path = Path(weights_path)
        network, _, preprocess = open_clip.create_model_and_transforms(model, pretrained=str(path))
        self._model = network.eval()
        self._preprocess = preprocess
        self._torch = torch
        self.name = f"open_clip:{model}:{_file_tag(path)}"

    def prepare(self, image: Image.Image) -> np.ndarray:
        return np.asarray(self._preprocess(image.convert("RGB")).numpy(), dtype=np.float32)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            out = self._model.encode_image(self._torch.from_numpy(np.ascontiguousarray(batch)))
        vectors = np.asarray(out.numpy(), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def available_embedders() -> dict[str, str]:
    """Which embedders this environment can run, with the reason when one cannot.

    Only checks that the packages are importable; weights are looked up when one is built.
    """
    status = {"descriptors": "ready (built in, no weights)"}
    torch = importlib.util.find_spec("torch") is not None
    vision = importlib.util.find_spec("torchvision") is not None
    clip = importlib.util.find_spec("open_clip") is not None
    status["torchvision"] = (
        "installed; needs weights on disk"
        if torch and vision
        else "not installed (pip install torch torchvision)"
    )
    status["open_clip"] = (
        "installed; needs weights on disk"
        if torch and clip
        else "not installed (pip install open_clip_torch)"
    )
    return status


_BUILDERS: dict[str, Any] = {
    "descriptors": lambda weights: DescriptorEmbedder(),
    "torchvision": lambda weights: TorchvisionEmbedder(weights_path=weights),
    "open_clip": lambda weights: OpenClipEmbedder(weights_path=weights),
}


def find_embedder(name: str = "auto", weights_path: str | Path | None = None) -> ImageEmbedder:
    """The embedder called ``name``; ``"auto"`` picks the best one that can run here.

    ``"auto"`` tries open_clip (when ``weights_path`` is given), then torchvision with weights in
    torch's hub cache, then falls back to the built-in descriptors, which always work.

    Raises
    ------
    InvalidOptionError
        For an unknown name, or a named embedder that cannot run (missing package or weights).
    """
    if name == "auto":
        status = available_embedders()
        order = ["open_clip", "torchvision"] if weights_path is not None else ["torchvision"]
        for candidate in order:
            if status[candidate].startswith("installed"):
                try:
                    return _BUILDERS[candidate](weights_path)
                except (InvalidOptionError, OSError, RuntimeError):
                    continue
        return DescriptorEmbedder()
    if name not in _BUILDERS:
        raise InvalidOptionError(
            f"unknown image embedder {name!r}; choose one of {['auto', *_BUILDERS]}."
        )
    if name != "descriptors" and not available_embedders()[name].startswith("installed"):
        raise InvalidOptionError(f"image embedder {name!r} is {available_embedders()[name]}.")
    return _BUILDERS[name](weights_path)


def content_digest(data: bytes) -> str:
    """SHA-256 of media bytes, the feature cache's key."""
    return hashlib.sha256(data).hexdigest()

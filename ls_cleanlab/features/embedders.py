"""Image embedders: the weight-free default and optional pretrained networks found at run time.

An embedder turns decoded images into vectors in two steps, so that the per-image work (resizing,
cropping) runs in the download threads and the batch work runs once per batch:

* ``prepare(image) -> np.ndarray``: one PIL image (RGB) to a fixed-shape array;
* ``embed(batch) -> np.ndarray``: the stacked arrays ``(B, ...)`` to vectors ``(B, D)``.

``name`` identifies the embedder *and its weights* in the feature cache; change it whenever the
vectors would change.

Registered here (:func:`find_embedder`, :func:`available_embedders`):

* ``descriptors``: colour, gradient and layout descriptors, built in, no weights;
* ``efficientnet_lite0``: ImageNet EfficientNet-Lite0 run by onnxruntime, weights shipped in the
  ``embed`` extra (:mod:`.pretrained`), the default when installed;
* ``torchvision``, ``open_clip``: need torch and weights already on disk.

None of them downloads anything: they use weights shipped in a package (checked by SHA-256), a
path the user gives, or the default file in torch's hub cache, and otherwise explain what is
missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from ls_cleanlab.errors import InvalidOptionError, LsCleanlabError
from ls_cleanlab.features.descriptors import DESCRIPTOR_VERSION, SIDE, describe
from ls_cleanlab.features.pretrained import (
    IMAGE_EMBEDDER,
    TEXT_EMBEDDER,
    EfficientNetLite0Embedder,
    MiniLMEmbedder,
    pretrained_embedders,
)
from ls_cleanlab.features.pretrained.common import default_image_embedder, default_text_embedder

__all__ = [
    "TEXT_EMBEDDERS",
    "DescriptorEmbedder",
    "EfficientNetLite0Embedder",
    "ImageEmbedder",
    "OpenClipEmbedder",
    "SentenceEmbedder",
    "TorchvisionEmbedder",
    "available_embedders",
    "check_embedder_name",
    "content_digest",
    "find_embedder",
    "find_text_embedder",
]

logger = logging.getLogger("ls_cleanlab")

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


#: Status words of :func:`available_embedders`: the embedder runs now / needs files on disk.
READY, NEEDS_WEIGHTS = "ready", "installed; needs weights on disk"


def available_embedders() -> dict[str, str]:
    """Every embedder, image and text, with whether it can run here and, when not, why.

    The status starts with ``"ready"`` (runs as is), ``"installed; needs weights on disk"``
    (torchvision, open_clip: nothing is downloaded) or ``"not installed"`` with what to install.
    Only checks that packages are installed; files are verified by SHA-256 when an embedder is
    built.
    """
    status = {"descriptors": f"{READY} (image; built in, no weights)"}
    for info in pretrained_embedders():
        status[info.name] = (
            f"{READY} ({info.kind}; packaged weights, checked by SHA-256)"
            if info.ready
            else f"not installed ({info.kind}; {info.detail})"
        )
    torch = importlib.util.find_spec("torch") is not None
    vision = importlib.util.find_spec("torchvision") is not None
    clip = importlib.util.find_spec("open_clip") is not None
    status["torchvision"] = (
        NEEDS_WEIGHTS if torch and vision else "not installed (pip install torch torchvision)"
    )
    status["open_clip"] = (
        NEEDS_WEIGHTS if torch and clip else "not installed (pip install open_clip_torch)"
    )
    return status


def _efficientnet(name: str, weights: Any, cache_dir: Any) -> ImageEmbedder:
    """EfficientNet-Lite0 at the side and output a full name records (``efficientnet_lite0:
    <weights>:<graph>:224px:stages``), else the defaults."""
    parts = name.split(":")
    options: dict[str, Any] = {}
    if len(parts) == 5 and parts[3].endswith("px") and parts[3][:-2].isdigit():
        options = {"side": int(parts[3][:-2]), "output": parts[4]}
    return EfficientNetLite0Embedder(cache_dir, weights_path=weights, **options)


#: name -> builder(full name, weights_path, cache_dir), for image embedders.
_BUILDERS: dict[str, Callable[[str, Any, Any], ImageEmbedder]] = {
    "descriptors": lambda name, weights, cache_dir: DescriptorEmbedder(),
    IMAGE_EMBEDDER: _efficientnet,
    "torchvision": lambda name, weights, cache_dir: TorchvisionEmbedder(weights_path=weights),
    "open_clip": lambda name, weights, cache_dir: OpenClipEmbedder(weights_path=weights),
}
#: What ``"auto"`` tries, in order (open_clip only with a weights file).
_AUTO = ("open_clip", IMAGE_EMBEDDER, "torchvision")


def check_embedder_name(name: Any) -> str:
    """``name`` when :func:`find_embedder` knows it (``"auto"``, a registered embedder, or a
    full name whose first part is one), without building anything: a text project, which never
    builds an image embedder, refuses an unknown name as early as an image project.

    Raises
    ------
    InvalidOptionError
        Naming the value and the embedders known.
    """
    if name != "auto" and (not isinstance(name, str) or name.split(":", 1)[0] not in _BUILDERS):
        raise InvalidOptionError(
            f"unknown image embedder {name!r}; choose one of {['auto', *_BUILDERS]}."
        )
    return name


def find_embedder(
    name: str = "auto",
    weights_path: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
) -> ImageEmbedder:
    """The image embedder called ``name``; ``"auto"`` picks the best one that can run here.

    ``"auto"`` tries open_clip (only when ``weights_path`` is given), then the pretrained
    EfficientNet-Lite0 of the ``embed`` extra, then torchvision with weights in torch's hub
    cache, and falls back to the built-in descriptors, which always work (logging one warning
    that says what to install when the extra is missing).

    Parameters
    ----------
    name : str
        ``"auto"``, ``"descriptors"``, ``"efficientnet_lite0"``, ``"torchvision"``,
        ``"open_clip"``; or an embedder's full ``name`` (e.g. from a trained model's extractor),
        whose first part picks the builder.
    weights_path : str or Path, optional
        A weights file for the pretrained networks (default: their packaged or cached weights).
    cache_dir : str or Path, optional
        Where built files are kept (the EfficientNet-Lite0 ONNX graph, built once per weights);
        the data dir's ``Workspace.embedders_dir``. Without it the graph is built in memory.

    Raises
    ------
    InvalidOptionError
        For an unknown name, or a named embedder whose packages are not installed.
    WeightsError
        A pretrained embedder's files do not match their pinned SHA-256.
    """
    if name == "auto":
        status = available_embedders()
        for candidate in _AUTO:
            if candidate == "open_clip" and weights_path is None:
                continue
            if status[candidate].startswith(("ready", "installed")):
                try:
                    return _BUILDERS[candidate](candidate, weights_path, cache_dir)
                except (LsCleanlabError, OSError, RuntimeError) as error:
                    logger.warning("image embedder %s cannot run here: %s", candidate, error)
        default_image_embedder()  # the one log line, when the extra is missing
        return DescriptorEmbedder()
    key = check_embedder_name(name).split(":", 1)[0]
    state = available_embedders()[key]
    if state.startswith("not installed"):
        raise InvalidOptionError(f"image embedder {key!r} is {state}.")
    return _BUILDERS[key](name, weights_path, cache_dir)


@runtime_checkable
class SentenceEmbedder(Protocol):
    """What :func:`ls_cleanlab.features.sentences.sentence_vectors` needs: ``name`` (identifying
    the weights) and ``embed(texts) -> (n, D)`` unit-length vectors."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


#: Text embedder choices: ``auto`` (MiniLM when installed), ``minilm_l6``, ``none`` (TF-IDF only).
TEXT_EMBEDDERS = ("auto", TEXT_EMBEDDER, "none")


def find_text_embedder(name: str = "auto") -> SentenceEmbedder | None:
    """The sentence embedder whose vectors go beside the TF-IDF of task texts, or None.

    ``"auto"``: all-MiniLM-L6-v2 when the ``embed`` extra is installed, else None (TF-IDF alone,
    logging one warning that says what to install). ``"minilm_l6"`` (or a full MiniLM ``name``
    from a trained model's extractor, whose token limit it keeps): that embedder, or an error
    when it cannot run. ``"none"``: None.

    Raises
    ------
    InvalidOptionError
        For an unknown name.
    MissingExtraError
        ``"minilm_l6"`` without the extra.
    WeightsError
        Its files do not match their pinned SHA-256.
    """
    if name == "none":
        return None
    if name == "auto":
        if default_text_embedder() != TEXT_EMBEDDER:
            return None
        name = TEXT_EMBEDDER
    parts = name.split(":")
    if parts[0] != TEXT_EMBEDDER:
        raise InvalidOptionError(
            f"unknown text embedder {name!r}; choose one of {list(TEXT_EMBEDDERS)}."
        )
    last = parts[-1]
    if len(parts) == 4 and last.endswith("tok") and last[:-3].isdigit():
        return MiniLMEmbedder(max_tokens=int(last[:-3]))
    return MiniLMEmbedder()


def content_digest(data: bytes) -> str:
    """SHA-256 of media bytes, the feature cache's key."""
    return hashlib.sha256(data).hexdigest()

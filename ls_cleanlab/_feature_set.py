"""The result type of every feature function: one row per task, which rows worked, and why not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FeatureSet", "standardize"]


@dataclass(frozen=True)
class FeatureSet:
    """Features of ``n`` tasks.

    Attributes
    ----------
    features : np.ndarray of float32, shape (n, D), or scipy.sparse.csr_matrix
        One row per task; rows of skipped tasks are zeros.
    ok : np.ndarray of bool, shape (n,)
        Rows that were computed.
    skipped : dict of int to str
        Position (row) of each skipped task -> why.
    source : str
        What made the features, e.g. ``"descriptors:lab-hog-v1"`` or ``"tfidf"``.
    downloaded, computed, cached : int
        Media fetched, vectors computed, and vectors read from the cache (images only).
    """

    features: Any
    ok: np.ndarray
    skipped: dict[int, str] = field(default_factory=dict)
    source: str = ""
    downloaded: int = 0
    computed: int = 0
    cached: int = 0

    @property
    def n_skipped(self) -> int:
        """Tasks without features."""
        return len(self.skipped)


def standardize(features: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Z-scores per column over the rows in ``ok``; constant columns become 0; other rows 0."""
    out = np.zeros(features.shape, dtype=np.float32)
    if not ok.any():
        return out
    rows = features[ok].astype(np.float64)
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    scale = np.where(std > 1e-8 * np.maximum(1.0, np.abs(mean)), std, np.inf)
    out[ok] = ((rows - mean) / scale).astype(np.float32)
    return out

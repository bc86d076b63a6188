"""What the model and embedder benchmarks measure alike: throughput and CPU cost, macro AUROC."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Speed", "macro_auroc"]


@dataclass(frozen=True)
class Speed:
    """Items per second (wall clock) and CPU milliseconds per item (all threads)."""

    per_second: float
    cpu_ms: float

    @staticmethod
    def of(work: Callable[[], Any], items: int) -> tuple[Any, Speed]:
        """``work()``'s result and its speed over ``items`` items."""
        start, cpu = time.perf_counter(), time.process_time()
        result = work()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return result, Speed(items / wall, 1000 * cpu / max(items, 1))

    def __add__(self, other: Speed) -> Speed:
        """Two stages one after the other: their times add up."""
        return Speed(1 / (1 / self.per_second + 1 / other.per_second), self.cpu_ms + other.cpu_ms)


def macro_auroc(truth: np.ndarray, probs: np.ndarray) -> float:
    """Mean AUROC over the classes that have both positives and negatives."""
    from sklearn.metrics import roc_auc_score

    classes = [k for k in range(truth.shape[1]) if 0 < truth[:, k].sum() < len(truth)]
    return float(np.mean([roc_auc_score(truth[:, k], probs[:, k]) for k in classes]))

"""Small statistical tests shared by the audit's monitors and tables."""

from __future__ import annotations

import numpy as np

__all__ = ["sign_test"]


def sign_test(successes: np.ndarray, failures: np.ndarray) -> np.ndarray:
    """One-sided p-value of ``P(success) > 1/2`` given the counts; NaN without trials.

    ``successes`` and ``failures`` are counts per item (same shape); ties are not counted."""
    from scipy.stats import binom

    trials = successes + failures
    with np.errstate(invalid="ignore"):
        p = binom.sf(successes - 1, trials, 0.5)
    return np.where(trials > 0, p, np.nan)

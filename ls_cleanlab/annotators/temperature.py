"""cleanlab's temperature scaling of model probabilities against several annotators' labels.

Private helper of :mod:`ls_cleanlab.annotators` (:func:`~.multiannotator.multiannotator_quality`
with ``calibrate_probs=True``, the ensemble and ActiveLab scores): the temperature ``T`` whose
``softmax(log p / T)`` best matches each example's share of annotators choosing each class (soft
cross-entropy, normalized by ``log K``), searched on cleanlab 2.9.0's coarse grid, then on a
finer one around the best coarse value; operation for operation as cleanlab, so the same ``T``.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotators import crowdlab as _crowdlab
from ls_cleanlab.annotators.votes import Votes

__all__ = ["best_temperature", "temperature_scale"]

_SMALL = 1e-30  # cleanlab's SMALL_CONST for temperature scaling
_COARSE_TEMPS = (0.1, 0.2, 0.5, 0.8, 1, 2, 3, 5, 8)


def _softmax(x: np.ndarray, temperature: float) -> np.ndarray:
    x = x / max(temperature, 1e-6)
    e = np.exp(x)
    return e / np.sum(e, axis=1, keepdims=True)


def best_temperature(votes: Votes, probs: np.ndarray) -> float:
    """cleanlab's ``find_best_temp_scaler``: the temperature of least soft cross-entropy between
    ``probs`` ``(N, K)`` and the annotators' label shares of ``votes`` (all ``N`` tasks)."""
    k = probs.shape[1]
    # cleanlab's empirical label distribution has the value_counts quirk too (see packed_counts)
    shares = _crowdlab.packed_counts(_crowdlab.vote_counts(votes)) / votes.count[:, None]
    log_probs = np.log(probs, where=probs > 0, out=np.full(probs.shape, -np.inf))

    def loss(temp: float) -> float:
        clipped = np.clip(_softmax(log_probs, temp), _SMALL, None)
        return float(np.mean(-np.sum(shares * np.log(clipped), axis=1) / np.log(k)))

    coarse = list(_COARSE_TEMPS)
    best = int(np.argmin([loss(t) for t in coarse]))
    fine = np.array([])
    if best != 0:
        fine = np.append(np.linspace(coarse[best - 1], coarse[best], 4, endpoint=False), fine)
    if best != len(coarse) - 1:
        fine = np.append(fine, np.linspace(coarse[best], coarse[best + 1], 5, endpoint=True))
    return float(fine[np.argmin([loss(t) for t in fine])])


def temperature_scale(probs: np.ndarray, temperature: float) -> np.ndarray:
    """cleanlab's ``temp_scale_pred_probs``: ``probs`` ``(N, K)`` clipped away from 0,
    renormalized, then ``softmax(log p / T)`` renormalized (a new array, even for ``T = 1``)."""
    clipped = np.clip(probs, _SMALL, None)
    clipped = clipped / np.sum(clipped, axis=1)[:, np.newaxis]
    scaled = _softmax(np.log(clipped), temperature)
    return scaled / np.sum(scaled, axis=1)[:, np.newaxis]

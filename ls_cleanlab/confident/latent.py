"""Class priors and noise matrices estimated from the confident joint.

From the confident joint ``C[i, j]`` (given ``i``, true ``j``) and the given-label frequencies
``ps``: the noise matrix ``P(given = i | true = j)`` is ``C`` with columns normalized, the inverse
noise matrix ``P(true = j | given = i)`` is ``C^T`` with columns normalized, and the true-class
prior ``py`` is, by default (``"cnt"``), ``P(true=j|given=j) / P(given=j|true=j) * ps_j``
(Northcutt et al. 2017, "Learning with confident examples", and 2021). Optionally the three
estimates are iterated to mutual consistency, as cleanlab does (``converge_latent_estimates``).

Multi-label data gets the same per class, on its ``(K, 2, 2)`` binary confident joint, all
classes computed together; cleanlab offers no multi-label version, so there the reference is
cleanlab's single-label estimate applied to each class's binary problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ls_cleanlab import validation
from ls_cleanlab.confident._counts import TINY_VALUE, as_row, diagonal, set_diagonal
from ls_cleanlab.confident.joint import check_joint, joint_with_counts, label_counts_for_joint
from ls_cleanlab.errors import InvalidOptionError

__all__ = ["LatentEstimates", "estimate_latent", "estimate_noise_matrices"]

PriorMethod = Literal["cnt", "eqn", "marginal", "marginal_ps"]
PRIOR_METHODS: tuple[PriorMethod, ...] = get_args(PriorMethod)
CLIP_LOW = 1e-6


@dataclass(frozen=True)
class LatentEstimates:
    """Latent-label estimates. Single-label shapes ``(K,)``/``(K, K)``; multi-label add a leading
    class axis: ``(K, 2)``/``(K, 2, 2)``, with 0 = absent and 1 = present.

    Attributes
    ----------
    prior : ndarray
        ``P(true = j)``.
    noise_matrix : ndarray
        ``P(given = i | true = j)``, indexed ``[..., i, j]``; columns sum to 1.
    inverse_noise_matrix : ndarray
        ``P(true = j | given = i)``, indexed ``[..., j, i]``; columns sum to 1.
    confident_joint : ndarray
        The confident joint the estimates come from.
    """

    prior: np.ndarray
    noise_matrix: np.ndarray
    inverse_noise_matrix: np.ndarray
    confident_joint: np.ndarray


def estimate_latent(
    confident_joint: Any,
    labels: Any,
    *,
    multi_label: bool = False,
    py_method: PriorMethod = "cnt",
    converge_latent_estimates: bool = False,
) -> LatentEstimates:
    """Estimate prior, noise matrix and inverse noise matrix from a confident joint.

    Parameters
    ----------
    confident_joint : array_like of shape (K, K), or (K, 2, 2) multi-label
    labels : array_like
        Only supply the given-label counts: single-label ``(N,)``, multi-label ``(N, K)`` or
        lists of class indices.
    multi_label : bool
    py_method : {"cnt", "eqn", "marginal", "marginal_ps"}
        How the true-class prior is estimated (see the module docstring).
    converge_latent_estimates : bool
        Iterate prior, noise and inverse noise matrices to mutual consistency.

    Returns
    -------
    LatentEstimates
    """
    py_method = validation.check_option(py_method, PRIOR_METHODS, "py_method")
    cj = np.array(check_joint(confident_joint, multi_label=multi_label))  # a copy we own
    counts = label_counts_for_joint(cj, labels, multi_label=multi_label)
    n = int(counts[0].sum()) if multi_label else int(counts.sum())
    prior, noise, inverse = _latent(cj, counts, n, py_method, converge_latent_estimates)
    return LatentEstimates(prior, noise, inverse, cj)


def estimate_noise_matrices(
    labels: Any,
    pred_probs: Any,
    *,
    multi_label: bool = False,
    thresholds: Any = None,
    converge_latent_estimates: bool = True,
    py_method: PriorMethod = "cnt",
    calibrate: bool = True,
) -> LatentEstimates:
    """Compute the confident joint from ``pred_probs`` and estimate the latent quantities.

    The equivalent of cleanlab's ``estimate_py_and_noise_matrices_from_probabilities``.

    Parameters
    ----------
    labels, pred_probs : see :func:`~ls_cleanlab.find_label_issues`
    multi_label : bool
    thresholds : array_like, optional
        Confident thresholds, as in :func:`~ls_cleanlab.confident.compute_confident_joint`.
    converge_latent_estimates, py_method : see :func:`estimate_latent`
    calibrate : bool
        Calibrate the confident joint first.

    Returns
    -------
    LatentEstimates
    """
    py_method = validation.check_option(py_method, PRIOR_METHODS, "py_method")
    cj, counts = joint_with_counts(
        labels, pred_probs, multi_label=multi_label, calibrate=calibrate, thresholds=thresholds
    )
    n = int(counts[0].sum()) if multi_label else int(counts.sum())
    prior, noise, inverse = _latent(cj, counts, n, py_method, converge_latent_estimates)
    return LatentEstimates(prior, noise, inverse, cj)


def _latent(
    cj: np.ndarray, label_counts: np.ndarray, n: int, py_method: PriorMethod, converge: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ps = label_counts / float(n)
    given_counts = cj.sum(axis=-1).astype(float)
    true_counts = cj.sum(axis=-2).astype(float)
    noise = cj / as_row(np.clip(true_counts, a_min=TINY_VALUE, a_max=None))
    inverse = np.swapaxes(cj, -1, -2) / as_row(np.clip(given_counts, a_min=TINY_VALUE, a_max=None))
    prior = _prior(ps, noise, inverse, py_method, true_counts)
    noise = _clip_noise_rates(noise)
    inverse = _clip_noise_rates(inverse)
    if converge:
        for _ in range(3):
            for _ in range(5):
                inverse = _inverse_from_noise(prior, noise, ps)
                prior = _prior(ps, noise, inverse, "cnt", true_counts)
            noise = _noise_from_inverse(ps, inverse, prior)
        prior = _clip_values(prior, 1e-5, 1.0, 1.0)
        noise = _clip_noise_rates(noise)
        inverse = _clip_noise_rates(inverse)
    return prior, noise, inverse


def _prior(
    ps: np.ndarray,
    noise: np.ndarray,
    inverse: np.ndarray,
    method: PriorMethod,
    true_counts: np.ndarray,
) -> np.ndarray:
    if method == "cnt":
        prior = diagonal(inverse) / np.clip(diagonal(noise), a_min=TINY_VALUE, a_max=None) * ps
    elif method == "marginal":
        if true_counts.ndim == 1:
            total = np.clip(float(sum(true_counts)), a_min=TINY_VALUE, a_max=None)
        else:
            total = np.clip(true_counts.sum(axis=-1, keepdims=True), TINY_VALUE, None)
        prior = true_counts / total
    else:  # "eqn", "marginal_ps": small linear algebra, matrix by matrix as cleanlab does
        solve = (
            (lambda nm, inv, s: np.linalg.inv(nm).dot(s))
            if method == "eqn"
            else (lambda nm, inv, s: np.dot(inv, s))
        )
        try:
            if noise.ndim == 2:
                prior = solve(noise, inverse, ps)
            else:
                prior = np.stack([solve(*args) for args in zip(noise, inverse, ps, strict=True)])
        except np.linalg.LinAlgError:
            raise InvalidOptionError(
                "py_method='eqn' inverts the noise matrix, which is singular here; "
                "use py_method='cnt' (the default)."
            ) from None
    return _clip_values(prior, CLIP_LOW, 1.0, 1.0)


def _clip_values(x: np.ndarray, low: float, high: float, new_sum: float) -> np.ndarray:
    x = np.clip(x, low, high)
    total = np.sum(x) if x.ndim == 1 else x.sum(axis=-1, keepdims=True)
    return x * new_sum / np.clip(total, a_min=TINY_VALUE, a_max=None)


def _clip_noise_rates(matrix: np.ndarray) -> np.ndarray:
    kept = diagonal(matrix)
    clipped = np.clip(matrix, 0, 0.9999)
    set_diagonal(clipped, kept)
    return clipped / as_row(np.clip(clipped.sum(axis=-2), a_min=TINY_VALUE, a_max=None))


def _inverse_from_noise(prior: np.ndarray, noise: np.ndarray, ps: np.ndarray) -> np.ndarray:
    joint = noise * as_row(prior)
    inverse = np.swapaxes(joint, -1, -2) / as_row(np.clip(ps, a_min=TINY_VALUE, a_max=None))
    return _clip_noise_rates(inverse)


def _noise_from_inverse(ps: np.ndarray, inverse: np.ndarray, prior: np.ndarray) -> np.ndarray:
    joint = np.swapaxes(inverse * as_row(ps), -1, -2)
    noise = joint / as_row(np.clip(prior, a_min=TINY_VALUE, a_max=None))
    return _clip_noise_rates(noise)

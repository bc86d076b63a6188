"""The model as one more source of evidence, weighted by how reliable it proves to be.

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input. Following Raykar et al.
2010 ("Learning from crowds", JMLR 11), the classifier's output is the prior of the truth that
the annotators' votes then update; here the classifier is fixed (out-of-sample probabilities
``p``) and only its calibration is learned, against the posterior ``T`` of the EM
(:mod:`.calibrated`), so the model's weight is its measured reliability:

* multi-label, per class: ``P(z_ik = 1 | p) = sigmoid(a_k + b_k x_ik)``, ``x = logit p``. The
  slope ``b_k`` is the model's weight on class ``k`` (0: the model says nothing, 1: trust its
  probabilities as they are). Slopes are shrunk toward the pooled slope ``b`` (a Gaussian prior
  worth :data:`SLOPE_PRIOR` observations), so a rare class borrows the model's overall
  reliability, and never negative. The intercept ``a_k`` absorbs a model that over- or
  under-predicts the class (one trained on a vote that misses labels, say).
* single-label: ``P(z_i = c | p) = softmax_c(a_c + b log p_ic)`` (temperature and class biases,
  Guo et al. 2017's "vector scaling" with one temperature).

The model counts only if it earns it: a likelihood-ratio test against the intercept-only fit
(the class prevalences) at ``p <`` :data:`GATE_P`; a model that fails it, or whose slopes are
all 0, gets weight 0, and the consensus is then exactly the annotations-only one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotators.blocks import row_blocks

__all__ = [
    "GATE_CHI2",
    "SLOPE_PRIOR",
    "BinaryCalibration",
    "MulticlassCalibration",
    "binary_calibration",
    "model_logits",
    "multiclass_calibration",
]

#: Gaussian prior on a class's slope around the pooled slope, in observations.
SLOPE_PRIOR = 20.0
#: Likelihood-ratio statistic the model must exceed to count (chi-square, 1 dof, p < 1e-3).
GATE_CHI2 = 10.83
GATE_P = 1e-3
#: Probabilities are clipped to [CLIP, 1 - CLIP] before taking log-odds.
CLIP = 1e-6
#: Rows the calibration is fitted on at most (an even stride through the tasks beyond this).
MAX_ROWS = 10_000
_NEWTON = 25
_WARM = 1
_HALVINGS = 30


def model_logits(probs: np.ndarray) -> np.ndarray:
    """``logit p`` with ``p`` clipped to ``[CLIP, 1 - CLIP]`` (a block of rows at a time)."""
    out = np.empty(np.shape(probs))
    for rows in row_blocks(len(out), int(np.prod(out.shape[1:]))):
        q = np.clip(probs[rows], CLIP, 1 - CLIP)
        out[rows] = np.log(q) - np.log1p(-q)
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _soft_loglik(z: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``(K,)`` sum over rows of ``T log sigmoid(z) + (1 - T) log(1 - sigmoid(z))``."""
    return -(np.logaddexp(0.0, z) - target * z).sum(axis=0)


@dataclass(frozen=True)
class BinaryCalibration:
    """``P(z = 1 | p) = sigmoid(intercept + slope * logit p)`` per class; ``used`` False when
    the model failed its test (the fit is then kept only as the next fit's starting point)."""

    intercept: np.ndarray  # (K,)
    slope: np.ndarray  # (K,)
    used: bool
    statistic: float  # likelihood-ratio statistic against the prevalences

    def logits(self, x: np.ndarray) -> np.ndarray:
        """``(U, K)`` calibrated log-odds for model log-odds ``l``."""
        return self.intercept[None, :] + self.slope[None, :] * x


def _rows(u: int) -> np.ndarray | slice:
    """Rows the calibration is fitted on: all, or an even stride of :data:`MAX_ROWS`."""
    return slice(None) if u <= MAX_ROWS else slice(None, None, -(-u // MAX_ROWS))


def _newton(
    x: np.ndarray, target: np.ndarray, a: np.ndarray, b: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``(a_k, b_k)`` of ``sigmoid(a + b x)`` to soft targets per class, with the penalty
    ``SLOPE_PRIOR / 2 (b_k - b)^2`` around the pooled slope ``b`` (the Fisher-information
    weighted mean of the slopes, updated at every step), by Newton's method: closed-form
    2 x 2 steps, each halved until the penalized log-likelihood does not decrease (nearly
    separable classes overshoot)."""
    fit = _soft_loglik(a[None, :] + b[None, :] * x, target)
    for _ in range(steps):
        p = _sigmoid(a[None, :] + b[None, :] * x)
        w = p * (1 - p)
        h_aa = w.sum(axis=0) + 1e-9
        h_ab = (w * x).sum(axis=0)
        h_bb = (w * x * x).sum(axis=0) + 1e-9
        info = np.maximum(h_bb - h_ab * h_ab / h_aa, 0.0)  # information on b, a profiled out
        pooled = float((info * b).sum() / max(info.sum(), 1e-12))
        r = p - target
        g_a = r.sum(axis=0)
        g_b = (r * x).sum(axis=0) + SLOPE_PRIOR * (b - pooled)
        h_bb = h_bb + SLOPE_PRIOR
        det = np.maximum(h_aa * h_bb - h_ab * h_ab, 1e-12)
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        value = fit - SLOPE_PRIOR / 2 * (b - pooled) ** 2
        scale = np.ones_like(a)
        for _ in range(_HALVINGS):
            na, nb = a - scale * step_a, b - scale * step_b
            new_fit = _soft_loglik(na[None, :] + nb[None, :] * x, target)
            worse = ~(new_fit - SLOPE_PRIOR / 2 * (nb - pooled) ** 2 >= value - 1e-9)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        a, b, fit = na, nb, new_fit
        if max(np.abs(scale * step_a).max(initial=0), np.abs(scale * step_b).max(initial=0)) < 1e-6:
            break
    return a, b


def binary_calibration(
    x: np.ndarray, target: np.ndarray, start: BinaryCalibration | None = None
) -> BinaryCalibration:
    """Calibrate the model's log-odds ``x`` ``(U, K)`` against the soft truth ``target``.

    Each class's slope is shrunk toward the pooled slope (:data:`SLOPE_PRIOR`); the gate
    compares the fit with the prevalences. ``start``, a previous fit (EM's last round), makes
    a few Newton steps enough. At most :data:`MAX_ROWS` rows are used (an even stride).
    """
    rows = _rows(len(x))
    x, target = x[rows], target[rows]
    k = target.shape[1]
    mean = np.clip(target.mean(axis=0), CLIP, 1 - CLIP)
    base = np.log(mean) - np.log1p(-mean)
    if start is None:
        a, b = _newton(x, target, base.copy(), np.ones(k), _NEWTON)
    else:
        a, b = _newton(x, target, start.intercept, start.slope, _WARM)
    b = np.maximum(b, 0.0)
    null = _soft_loglik(np.broadcast_to(base, target.shape), target)
    fit = _soft_loglik(a[None, :] + b[None, :] * x, target)
    statistic = float(2.0 * (fit - null).sum())
    return BinaryCalibration(a, b, bool(b.any()) and statistic > GATE_CHI2, statistic)


@dataclass(frozen=True)
class MulticlassCalibration:
    """``log P(z = c | p) = a_c + b log p_c`` (normalized); ``used`` as for binary."""

    bias: np.ndarray  # (K,)
    temperature: float  # b
    used: bool
    statistic: float

    def log_prior(self, log_probs: np.ndarray) -> np.ndarray:
        """``(U, K)`` calibrated log-probabilities (up to a constant per row)."""
        return self.bias[None, :] + self.temperature * log_probs


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def multiclass_calibration(log_probs: np.ndarray, target: np.ndarray) -> MulticlassCalibration:
    """Fit ``a`` and ``b`` to the soft truth ``target`` ``(U, K)`` by alternating a Newton
    step on ``b`` and matching each class's mean probability with ``a``."""
    k = target.shape[1]
    mean = np.clip(target.mean(axis=0), CLIP, None)
    base = np.log(mean / mean.sum())
    null = float((target * _log_softmax(np.broadcast_to(base, target.shape))).sum())
    a, b = base.copy(), 1.0
    for _ in range(50):
        q = np.exp(_log_softmax(a[None, :] + b * log_probs))
        expected = (q * log_probs).sum(axis=1)
        grad = float((target * log_probs).sum() - expected.sum())
        second = (q * log_probs * log_probs).sum(axis=1) - expected * expected
        step = grad / max(float(second.sum()), 1e-12)
        b = max(b + step, 0.0)
        q = np.exp(_log_softmax(a[None, :] + b * log_probs))
        a = a + np.log(mean) - np.log(np.clip(q.mean(axis=0), CLIP, None))
        if abs(step) < 1e-6:
            break
    fit = float((target * _log_softmax(a[None, :] + b * log_probs)).sum())
    statistic = 2.0 * (fit - null)
    if b <= 0 or statistic <= GATE_CHI2:
        return MulticlassCalibration(base, 0.0, False, statistic)
    del k
    return MulticlassCalibration(a, b, True, statistic)

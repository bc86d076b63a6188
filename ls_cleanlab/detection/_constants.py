"""ObjectLab's constants, as cleanlab 2.9.0 sets them (``cleanlab.internal.constants``).

Kept in one place so that every module of the package uses the same numbers; changing one breaks
parity with cleanlab.
"""

from __future__ import annotations

__all__ = [
    "ALPHA",
    "AP_IOU_THRESHOLDS",
    "AP_SCALE_FACTOR",
    "BADLOC_THRESHOLD_FACTOR",
    "DEFAULT_WEIGHTS",
    "EPSILON",
    "EUC_FACTOR",
    "HIGH_PROBABILITY_THRESHOLD",
    "LABEL_OVERLAP_THRESHOLD",
    "LOW_PROBABILITY_THRESHOLD",
    "OVERLOOKED_THRESHOLD_FACTOR",
    "SWAP_THRESHOLD_FACTOR",
    "TEMPERATURE",
    "TINY_VALUE",
]

#: Weight of IoU against centre distance in the box similarity ``alpha IoU + (1 - alpha) d``.
ALPHA = 0.9
#: Centre-distance decay: ``d = exp(-EUC_FACTOR * ||c1 - c2||)``.
EUC_FACTOR = 0.1
#: Floor of an IoU's union area.
EPSILON = 1e-6
#: Added before taking logs of image subscores.
TINY_VALUE = 1e-100
#: Predicted boxes above this confidence are considered for badly located boxes.
LOW_PROBABILITY_THRESHOLD = 0.5
#: Predicted boxes at or above this confidence are considered for overlooked and swapped boxes.
HIGH_PROBABILITY_THRESHOLD = 0.95
#: Temperature of the softmin that pools box scores into an image score.
TEMPERATURE = 0.1
#: Two given boxes with IoU at least this and different classes are conflicting annotations.
LABEL_OVERLAP_THRESHOLD = 0.95
#: A box is an issue when its score is at most its class's threshold times this factor.
OVERLOOKED_THRESHOLD_FACTOR = 0.8
BADLOC_THRESHOLD_FACTOR = 0.8
SWAP_THRESHOLD_FACTOR = 0.8
#: A class's threshold is this times its COCO-style mean average precision.
AP_SCALE_FACTOR = 0.25
#: The IoU thresholds 0.50, 0.55, ..., 0.95 of the COCO mean average precision, as cleanlab
#: computes them with ``np.linspace(0.5, 0.95, 10)`` (hence 0.8999999999999999, not 0.9).
AP_IOU_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95)
#: Default weights of the image subscores (cleanlab's ``CUSTOM_SCORE_WEIGHT_*``).
DEFAULT_WEIGHTS = {"overlooked": 1 / 3, "swap": 1 / 3, "badloc": 1 / 3}

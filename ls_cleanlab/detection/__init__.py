"""Box-level label quality for object detection.

* cleanlab-exact ObjectLab scores (:mod:`.rank`, :mod:`.filter`): the same functions,
  signatures and numbers as cleanlab 2.9.0's ``cleanlab.object_detection``, vectorized.

Layer: below ``audit``, above the confident core; imports numpy, scipy and
``ls_cleanlab.errors`` only.
"""

from ls_cleanlab.detection.filter import find_label_issues
from ls_cleanlab.detection.rank import (
    compute_badloc_box_scores,
    compute_overlooked_box_scores,
    compute_swap_box_scores,
    get_label_quality_scores,
    issues_from_scores,
    pool_box_scores_per_image,
)

__all__ = [
    "compute_badloc_box_scores",
    "compute_overlooked_box_scores",
    "compute_swap_box_scores",
    "find_label_issues",
    "get_label_quality_scores",
    "issues_from_scores",
    "pool_box_scores_per_image",
]

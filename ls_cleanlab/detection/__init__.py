"""Box-level label quality for object detection.

* cleanlab-exact ObjectLab (:mod:`.rank`, :mod:`.filter`): the functions, signatures and numbers
  of cleanlab 2.9.0's ``cleanlab.object_detection``, vectorized over images.
* Several annotators per image (:func:`audit_boxes`): boxes matched across annotators
  (:mod:`.matching`), a consensus set of objects (:mod:`.consensus`, :mod:`.localization`),
  annotator recall, precision, localization and satisficing (:mod:`.annotators`), likely
  missing and likely wrong boxes with reasons (:mod:`.review`); gold boxes of some images held
  as known truth in that consensus (:mod:`.gold`).
* Data set summaries (:mod:`.summary`): cleanlab's ``cleanlab.object_detection.summary``, box
  counts per image, box sizes and class shares by class, per-class confusion counts and
  precision, recall and F1 of the detector (cleanlab's names, plots left out).

Layer: below ``audit``, above the confident core; imports numpy, scipy and
``ls_cleanlab.errors`` only.
"""

from ls_cleanlab.detection.annotators import AnnotatorQuality
from ls_cleanlab.detection.audit import BoxAudit, audit_boxes
from ls_cleanlab.detection.box_annotations import BoxAnnotations
from ls_cleanlab.detection.consensus import ConsensusBoxes, ObjectModel
from ls_cleanlab.detection.filter import find_label_issues
from ls_cleanlab.detection.gold import KnownBoxes
from ls_cleanlab.detection.rank import (
    compute_badloc_box_scores,
    compute_overlooked_box_scores,
    compute_swap_box_scores,
    get_label_quality_scores,
    issues_from_scores,
    pool_box_scores_per_image,
)
from ls_cleanlab.detection.review import MissingBoxes, WrongBoxes
from ls_cleanlab.detection.summary import (
    bounding_box_size_distribution,
    calculate_per_class_metrics,
    class_label_distribution,
    get_average_per_class_confusion_matrix,
    get_sorted_bbox_count_idxs,
    object_counts_per_image,
)

__all__ = [
    "AnnotatorQuality",
    "BoxAnnotations",
    "BoxAudit",
    "ConsensusBoxes",
    "KnownBoxes",
    "MissingBoxes",
    "ObjectModel",
    "WrongBoxes",
    "audit_boxes",
    "bounding_box_size_distribution",
    "calculate_per_class_metrics",
    "class_label_distribution",
    "compute_badloc_box_scores",
    "compute_overlooked_box_scores",
    "compute_swap_box_scores",
    "find_label_issues",
    "get_average_per_class_confusion_matrix",
    "get_label_quality_scores",
    "get_sorted_bbox_count_idxs",
    "issues_from_scores",
    "object_counts_per_image",
    "pool_box_scores_per_image",
]

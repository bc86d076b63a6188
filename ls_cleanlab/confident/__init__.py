"""Confident learning for single- and multi-label classification, in numpy.

Finds examples whose given labels are likely wrong from out-of-sample predicted probabilities
(Northcutt, Jiang & Chuang 2021, "Confident learning: estimating uncertainty in dataset labels",
JAIR 70; Thyagarajan et al. 2022, "Identifying incorrect annotations in multi-label
classification data"). Every function returns exactly what cleanlab 2.9.0 returns for the same
arguments, faster: multi-label data is computed for all classes at once instead of class by
class, and selections use linear-time partitions instead of sorts.

Modules: :mod:`.issues` (``find_label_issues``), :mod:`.scores` (label quality scores),
:mod:`.joint` (confident joint, thresholds, ``num_label_issues``), :mod:`.latent` (priors and
noise matrices), :mod:`.summary` (multi-label dataset summaries as DataFrames).
"""

from ls_cleanlab.confident.issues import (
    FILTERS,
    FilterBy,
    find_label_issues,
    issue_matrix_where_defined,
    multilabel_issue_matrix,
    single_label_issues,
)
from ls_cleanlab.confident.joint import (
    calibrate_confident_joint,
    compute_confident_joint,
    confident_thresholds,
    estimate_joint,
    num_label_issues,
)
from ls_cleanlab.confident.latent import LatentEstimates, estimate_latent, estimate_noise_matrices
from ls_cleanlab.confident.scores import (
    METHODS,
    Method,
    exponential_moving_average,
    label_quality_scores,
    label_quality_scores_per_class,
    softmin,
)
from ls_cleanlab.confident.summary import (
    MultilabelHealth,
    common_multilabel_issues,
    multilabel_health_summary,
    overall_multilabel_health_score,
    rank_classes_by_multilabel_quality,
)

__all__ = [
    "FILTERS",
    "METHODS",
    "FilterBy",
    "LatentEstimates",
    "Method",
    "MultilabelHealth",
    "calibrate_confident_joint",
    "common_multilabel_issues",
    "compute_confident_joint",
    "confident_thresholds",
    "estimate_joint",
    "estimate_latent",
    "estimate_noise_matrices",
    "exponential_moving_average",
    "find_label_issues",
    "issue_matrix_where_defined",
    "label_quality_scores",
    "label_quality_scores_per_class",
    "multilabel_health_summary",
    "multilabel_issue_matrix",
    "num_label_issues",
    "overall_multilabel_health_score",
    "rank_classes_by_multilabel_quality",
    "single_label_issues",
    "softmin",
]

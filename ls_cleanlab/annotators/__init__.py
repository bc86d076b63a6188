"""Several annotators: consensus labels, annotator quality and inter-annotator agreement.

One algorithm per module, all on the long-form :class:`~ls_cleanlab.annotations.Annotations`
table packed into :class:`~ls_cleanlab.annotators.votes.Votes`:

* :mod:`.consensus`: :func:`consensus` (``"crowdlab"``, ``"majority"``, ``"dawid_skene"``), which
  validates once and dispatches through :mod:`.runners` to :mod:`.crowdlab` (single-label,
  cleanlab-exact), :mod:`.multilabel` (CROWDLAB per class) and :mod:`.dawid_skene` (EM);
* :mod:`.agreement`: :func:`agreement`, pairwise Jaccard and Krippendorff's alpha;
* :mod:`.table`: :func:`annotator_table`, one row per annotator against a consensus;
* :mod:`.multiannotator`: :func:`multiannotator_quality`, cleanlab's multi-annotator formats;
* :mod:`.ensemble`: :func:`multiannotator_quality_ensemble`, the same with several models;
* :mod:`.activelab`: :func:`active_learning_scores` (and ``_ensemble``), cleanlab's ActiveLab;
* :mod:`.wide`: :func:`majority_vote_label` and :func:`convert_long_to_wide_dataset`, cleanlab's.

cleanlab 2.9.0's ``cleanlab.multiannotator`` functions keep their names here without ``get_``
(``get_label_quality_multiannotator`` is :func:`multiannotator_quality`,
``get_majority_vote_label`` is :func:`majority_vote_label`).
"""

from ls_cleanlab.annotators.activelab import (
    ActiveLearningScores,
    active_learning_scores,
    active_learning_scores_ensemble,
)
from ls_cleanlab.annotators.agreement import Agreement, agreement
from ls_cleanlab.annotators.consensus import METHODS, Consensus, Method, consensus
from ls_cleanlab.annotators.ensemble import multiannotator_quality_ensemble
from ls_cleanlab.annotators.multiannotator import MultiannotatorQuality, multiannotator_quality
from ls_cleanlab.annotators.table import annotator_table
from ls_cleanlab.annotators.wide import convert_long_to_wide_dataset, majority_vote_label

__all__ = [
    "METHODS",
    "ActiveLearningScores",
    "Agreement",
    "Consensus",
    "Method",
    "MultiannotatorQuality",
    "active_learning_scores",
    "active_learning_scores_ensemble",
    "agreement",
    "annotator_table",
    "consensus",
    "convert_long_to_wide_dataset",
    "majority_vote_label",
    "multiannotator_quality",
    "multiannotator_quality_ensemble",
]

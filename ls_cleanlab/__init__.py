"""ls-cleanlab: find label errors in Label Studio projects.

The public scoring API (see DESIGN.md): :func:`find_label_issues` and
:func:`label_quality_scores` return exactly what cleanlab 2.9.0 returns for the same arguments;
the rest of the confident-learning toolkit lives in :mod:`ls_cleanlab.confident`.
"""

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.audit import LabelAudit, audit_labels
from ls_cleanlab.confident import find_label_issues, label_quality_scores
from ls_cleanlab.errors import (
    InvalidAnnotationsError,
    InvalidLabelsError,
    InvalidOptionError,
    InvalidPredProbsError,
    InvalidTasksError,
    LabelConfigError,
    LsCleanlabError,
    MediaError,
    StudioError,
)
from ls_cleanlab.features import (
    FeatureCache,
    FeatureSet,
    image_features,
    task_features,
    text_features,
)
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import (
    ModelStore,
    Preannotations,
    TrainedModel,
    best_f1_thresholds,
    out_of_sample_probs,
    stratified_folds,
    train_model,
)
from ls_cleanlab.schema import LabelSchema, parse_label_config
from ls_cleanlab.studio import StudioClient
from ls_cleanlab.tasks import TaskTable, read_tasks

__version__ = "0.1.0.dev0"

__all__ = [
    "Annotations",
    "FeatureCache",
    "FeatureSet",
    "InvalidAnnotationsError",
    "InvalidLabelsError",
    "InvalidOptionError",
    "InvalidPredProbsError",
    "InvalidTasksError",
    "LabelAudit",
    "LabelConfigError",
    "LabelSchema",
    "LsCleanlabError",
    "MediaError",
    "MediaFetcher",
    "ModelStore",
    "Preannotations",
    "StudioClient",
    "StudioError",
    "TaskTable",
    "TrainedModel",
    "__version__",
    "audit_labels",
    "best_f1_thresholds",
    "find_label_issues",
    "image_features",
    "label_quality_scores",
    "out_of_sample_probs",
    "parse_label_config",
    "read_tasks",
    "stratified_folds",
    "task_features",
    "text_features",
    "train_model",
]

"""ls-cleanlab: find label errors in Label Studio projects.

The public scoring API (see DESIGN.md): :func:`find_label_issues` and
:func:`label_quality_scores` return exactly what cleanlab 2.9.0 returns for the same arguments;
the rest of the confident-learning toolkit lives in :mod:`ls_cleanlab.confident`.

Names are imported lazily (PEP 562): ``import ls_cleanlab`` loads nothing but this file, and
``from ls_cleanlab import audit_labels`` loads only the math it needs, never a network, model
or web library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "Annotations": "ls_cleanlab.annotations",
    "LabelAudit": "ls_cleanlab.audit",
    "audit_labels": "ls_cleanlab.audit",
    "find_label_issues": "ls_cleanlab.confident",
    "label_quality_scores": "ls_cleanlab.confident",
    **dict.fromkeys(
        (
            "InvalidAnnotationsError",
            "InvalidLabelsError",
            "InvalidOptionError",
            "InvalidPredProbsError",
            "InvalidTasksError",
            "LabelConfigError",
            "LsCleanlabError",
            "MediaError",
            "StudioError",
        ),
        "ls_cleanlab.errors",
    ),
    **dict.fromkeys(
        ("FeatureCache", "FeatureSet", "image_features", "task_features", "text_features"),
        "ls_cleanlab.features",
    ),
    "MediaFetcher": "ls_cleanlab.media",
    **dict.fromkeys(
        (
            "ModelStore",
            "Preannotations",
            "TrainedModel",
            "best_f1_thresholds",
            "out_of_sample_probs",
            "stratified_folds",
            "train_model",
        ),
        "ls_cleanlab.model",
    ),
    **dict.fromkeys(
        ("LabelSchema", "StudioClient", "TaskTable", "parse_label_config", "read_tasks"),
        "ls_cleanlab.studio",
    ),
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ls_cleanlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
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
    from ls_cleanlab.studio import (
        LabelSchema,
        StudioClient,
        TaskTable,
        parse_label_config,
        read_tasks,
    )

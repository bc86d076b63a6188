"""What an audit of a project is asked to do (:class:`AuditOptions`) and what it found
(:class:`ProjectAudit`), shared by every task kind, the CLI, the backend and the report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.features import TEXT_EMBEDDERS, check_embedder_name
from ls_cleanlab.model import TrainedModel
from ls_cleanlab.model.detector import BoxDetector
from ls_cleanlab.studio import BoxTable, LabelSchema, PushReport, TaskTable, annotator_name
from ls_cleanlab.validation import check_bool, check_int, check_option, check_threshold

__all__ = [
    "MODEL_VERSION_RULE",
    "STAGES",
    "AuditOptions",
    "AuditT",
    "Progress",
    "ProjectAudit",
    "check_model_version",
    "is_model_version",
]

#: Stages in order, as named in progress reports.
STAGES = ("fetch", "features", "model", "audit", "save", "push")
#: ``progress(stage, done, total)``, called as each stage advances.
Progress = Callable[[str, int, int], None]

#: What our model version may hold (it names our predictions in Label Studio, and each run's as
#: ``<version>-<run>``): the one rule of ``--model-version``, ``LS_CLEANLAB_MODEL_VERSION`` and
#: :class:`AuditOptions`.
MODEL_VERSION_RULE = "1-100 letters, digits, '-', '_' or '.'"


def is_model_version(value: Any) -> bool:
    """True when ``value`` follows :data:`MODEL_VERSION_RULE`."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 100
        and all(c.isalnum() or c in "-_." for c in value)
    )


def check_model_version(value: Any, name: str = "model_version") -> str:
    """``value`` when it follows :data:`MODEL_VERSION_RULE`; else an error naming ``name``."""
    if not is_model_version(value):
        raise InvalidOptionError(f"{name} must be {MODEL_VERSION_RULE}, got {value!r}.")
    return str(value)


@dataclass(frozen=True)
class AuditOptions:
    """How to audit a project; every field has a sensible default.

    Attributes
    ----------
    model_version : str
        The base of the versions our predictions are stored under: a pushed run's predictions
        carry ``<model_version>-<run id>`` (:mod:`ls_cleanlab.pipeline.runs`);
        :data:`MODEL_VERSION_RULE`.
    from_model_version : str, optional
        Use that model's predictions, already in the project, as probabilities (no model fit).
    pred_probs : path or ndarray, optional
        Probabilities ``(n, K)`` in task order (``.npy``): no model fit (classification).
    predictions_file : path, optional
        A detector's boxes as a COCO-style JSON file: no detector fit (bounding boxes).
    embedding_field, embeddings_file : optional
        Precomputed features: a task data field, or an ``.npy``/``.npz`` (see ``features``).
    embedder : str
        Image embedder (:func:`~ls_cleanlab.features.find_embedder`): ``"auto"`` is the
        pretrained EfficientNet-Lite0 when the ``embed`` extra is installed, else the built-in
        ``"descriptors"``; also ``"efficientnet_lite0"``, ``"torchvision"``, ``"open_clip"``.
    text_embedder : {"auto", "minilm_l6", "none"}
        Sentence embeddings beside the TF-IDF of text tasks
        (:func:`~ls_cleanlab.features.find_text_embedder`): ``"auto"`` uses MiniLM when the
        extra is installed; ``"none"`` keeps the TF-IDF alone.
    rules : dict, path or None
        Implies/excludes rules for ``audit_labels``.
    choices_name : str, optional
        The Choices tag to audit when the config has several.
    n_folds, seed, threshold
        Cross-validation folds, the seed, and the audit's issue threshold (None: each error
        tab holds the number of tasks the audit expects to have its problem).
    allowed_hosts : tuple of str
        Media hosts besides Label Studio's (names, ``*.domain``, IPs, CIDR networks).
    local_files_root : str, optional
        Label Studio's ``LOCAL_FILES_DOCUMENT_ROOT`` when readable here.
    dry_run : bool
        Compute everything, write nothing to Label Studio.
    reviewers : tuple of int or str
        Reviewers by Label Studio user id or email: their annotations are gold (as are
        annotations marked as ground truth); emails are looked up in Label Studio.
    noise_robust : bool
        Fit the final model (pre-annotations, ``/predict``) on the audited labels without the
        ones confident learning doubts (:func:`~ls_cleanlab.model.train_noise_robust`); False
        keeps the plain model fitted on the majority vote.
    work_dir : str or Path, optional
        Where an audit keeps its arrays (features, the model's and the audit's inputs) on disk
        while it runs, in a directory of its own removed at the end; default the data dir's
        ``scratch`` (:func:`~ls_cleanlab.pipeline.run_project_audit`), else the system's
        temporary directory. With a Dask cluster, storage every worker mounts at the same path.
    run_id : str, optional
        The run the predictions belong to (:func:`~ls_cleanlab.pipeline.runs.new_run_id`): they
        carry version ``<model_version>-<run_id>`` and markers of that run. None (an offline or
        dry run): version ``model_version`` and the queues' plain markers.
    annotator_names : mapping of int to str, optional
        User id -> ``"First Last <email>"``, read from Label Studio by a project audit: a box
        finding's reason names its annotator so (by id without it).
    """

    model_version: str = "ls-cleanlab"
    from_model_version: str | None = None
    pred_probs: str | Path | np.ndarray | None = None
    predictions_file: str | Path | None = None
    embedding_field: str | None = None
    embeddings_file: str | Path | None = None
    embedder: str = "auto"
    text_embedder: str = "auto"
    rules: Any = None
    choices_name: str | None = None
    n_folds: int = 5
    seed: int = 0
    threshold: float | None = None
    allowed_hosts: tuple[str, ...] = ()
    local_files_root: str | None = None
    dry_run: bool = False
    reviewers: tuple[int | str, ...] = ()
    noise_robust: bool = True
    work_dir: str | Path | None = None
    run_id: str | None = None
    annotator_names: Mapping[int, str] | None = None

    def __post_init__(self) -> None:
        check_int(self.n_folds, "n_folds", low=2)
        check_int(self.seed, "seed", low=0)
        if self.threshold is not None:
            check_threshold(self.threshold)
        check_bool(self.dry_run, "dry_run")
        for who in self.reviewers:
            if (
                isinstance(who, bool)
                or not isinstance(who, (int, str))
                or (isinstance(who, str) and "@" not in who)
            ):
                raise InvalidOptionError(f"reviewers are user ids or email addresses, got {who!r}.")
        check_bool(self.noise_robust, "noise_robust")
        check_option(self.text_embedder, TEXT_EMBEDDERS, "text_embedder")
        check_embedder_name(self.embedder)  # also where no image embedder is built (texts)
        check_model_version(self.model_version)


#: The audit result of a task kind: ``LabelAudit`` (classification), ``BoxReview`` (boxes).
AuditT = TypeVar("AuditT")


@dataclass(frozen=True)
class ProjectAudit(Generic[AuditT]):
    """What an audit found and did. Arrays are over the ``m`` audited tasks.

    Generic in the task kind's audit result (``ProjectAudit[LabelAudit]`` for classification,
    ``ProjectAudit[BoxReview]`` for boxes); what the pipeline, the tabs and the push need is the
    same for every kind.

    Attributes
    ----------
    project : int or None
    schema : LabelSchema
    table : TaskTable or BoxTable
        Every task read (including skipped ones).
    task_ids : np.ndarray of int64, shape (m,)
        Label Studio ids of the audited tasks (tasks with features or probabilities).
    labelled : np.ndarray of bool, shape (m,)
    pred_probs : np.ndarray, shape (m, K)
        Out-of-sample for labelled tasks, the final model's for the others (boxes: the
        probability that an object of each class is on the image).
    audit : LabelAudit or BoxReview
        Rows follow ``task_ids``; ``issues.task`` indexes them.
    queues : dict of str to np.ndarray
        Queue key -> task ids in review order (the task kind's ``queues``).
    predictions : sequence of dict
        One prediction per audited task (pushed unless a dry run), built on demand a block at a
        time (:class:`~ls_cleanlab.pipeline.prediction_list.QueuePredictions`).
    skipped : dict of int to str
        Task id -> why it was left out (no media, no prediction of the chosen version ...).
    skip_reasons : dict of int to str
        Task id -> the reason code of its skip (a key of
        :data:`ls_cleanlab.pipeline.skips.REASONS`), where the kind knows it; otherwise it is
        read from the message (:func:`~ls_cleanlab.pipeline.skips.skip_report`).
    source : str
        Where the probabilities came from (``"model:descriptors:lab-hog-v1"``, ``"predictions:v3"``
        ...).
    model_version : str
        The version the predictions carry (``<base>-<run id>`` for a pushed run).
    run : str or None
        The run id of the predictions (None: an offline or dry run).
    stale_versions : tuple of str
        Earlier runs' versions still in the project after the push, left for
        :func:`~ls_cleanlab.pipeline.runs.remove_runs` (the CLI deletes them in a background
        thread, the backend in a cleanup job).
    push : PushReport or None
        None for a dry run or an offline audit.
    views : dict of str to int
        Queue title -> Data Manager view id.
    seconds : dict of str to float
        Time per stage.
    trained : TrainedModel, BoxDetector or None
        The model fitted here (a detector for boxes), None when predictions were given.
    gold : np.ndarray of bool, shape (m,) or None
        Audited tasks with a gold label (a reviewer's or a ground-truth annotation): out of
        every tab, their consensus the gold label.
    gold_accuracy : pandas.DataFrame or None
        Per annotator: ``n_gold`` gold tasks they labelled, ``n_correct`` matching the gold
        label, ``gold_accuracy`` (None when no task has gold).
    annotator_names : dict of int to str
        User id -> ``"First Last <email>"`` read from Label Studio (empty offline or when users
        cannot be read: annotators then show as ids).
    """

    project: int | None
    schema: LabelSchema
    table: TaskTable | BoxTable
    task_ids: np.ndarray
    labelled: np.ndarray
    pred_probs: np.ndarray
    audit: AuditT
    queues: dict[str, np.ndarray]
    predictions: Sequence[dict[str, Any]]
    skipped: dict[int, str]
    source: str
    model_version: str
    run: str | None = None
    stale_versions: tuple[str, ...] = ()
    push: PushReport | None = None
    views: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    trained: TrainedModel | BoxDetector | None = None
    skip_reasons: dict[int, str] = field(default_factory=dict)
    annotator_names: dict[int, str] = field(default_factory=dict)
    gold: np.ndarray | None = None
    gold_accuracy: Any = None

    def annotator_name(self, annotator: Any) -> str:
        """How ``annotator`` (a user id) is shown: ``"First Last <email>"`` when known."""
        return annotator_name(annotator, self.annotator_names)

"""A Label Studio project audited end to end, shared by the CLI, the ML backend and the demo.

* :mod:`.project`: :func:`audit_tasks` (task JSON -> :class:`ProjectAudit`) and
  :func:`run_project_audit` (fetch, features, model, audit, push);
* :mod:`.options`: :class:`AuditOptions` (checked when built) and :class:`ProjectAudit`;
* :mod:`.kinds`: the task-kind seam (:func:`task_kind`), with :mod:`.classification` its first
  kind;
* :mod:`.queues`: which tasks go in which review tab, and the predictions that carry them;
* :mod:`.snapshot`: incremental fetches against a task snapshot;
* :mod:`.refresh`: re-audits from stored probabilities that push only what changed;
* :mod:`.preannotate`: a trained model applied to new tasks, encoded like its training set;
* :mod:`.workspace`: :class:`Workspace`, the one owner of the data dir's layout;
* :mod:`.checkpoint`: :class:`FoldCheckpoints`, folds kept so an interrupted audit resumes;
* :mod:`.skips`: :func:`skip_report`, everything an audit left out, counted by reason.
"""

from ls_cleanlab.pipeline.checkpoint import FoldCheckpoints
from ls_cleanlab.pipeline.kinds import KINDS, TaskKind, task_kind
from ls_cleanlab.pipeline.options import (
    MODEL_VERSION_RULE,
    STAGES,
    AuditOptions,
    ProjectAudit,
    check_model_version,
    is_model_version,
)
from ls_cleanlab.pipeline.project import audit_tasks, check_plan, run_project_audit
from ls_cleanlab.pipeline.queues import (
    QUEUES,
    Queue,
    queue_expected,
    queue_members,
    queue_precision,
    queue_predictions,
    queue_view,
)
from ls_cleanlab.pipeline.refresh import Refresh, refresh_project, save_audit_state
from ls_cleanlab.pipeline.skips import REASONS, Skip, SkipReport, annotation_skips, skip_report
from ls_cleanlab.pipeline.snapshot import fetch_with_snapshot
from ls_cleanlab.pipeline.workspace import Workspace

__all__ = [
    "KINDS",
    "MODEL_VERSION_RULE",
    "QUEUES",
    "REASONS",
    "STAGES",
    "AuditOptions",
    "FoldCheckpoints",
    "ProjectAudit",
    "Queue",
    "Refresh",
    "Skip",
    "SkipReport",
    "TaskKind",
    "Workspace",
    "annotation_skips",
    "audit_tasks",
    "check_model_version",
    "check_plan",
    "fetch_with_snapshot",
    "is_model_version",
    "queue_expected",
    "queue_members",
    "queue_precision",
    "queue_predictions",
    "queue_view",
    "refresh_project",
    "run_project_audit",
    "save_audit_state",
    "skip_report",
    "task_kind",
]

"""A Label Studio project audited end to end, shared by the CLI, the ML backend and the demo.

* :mod:`.project`: :func:`audit_tasks` (task JSON -> :class:`ProjectAudit`) and
  :func:`run_project_audit` (fetch, features, model, audit, push);
* :mod:`.queues`: which tasks go in which review tab, and the predictions that carry them.
"""

from ls_cleanlab.pipeline.project import (
    STAGES,
    AuditOptions,
    ProjectAudit,
    audit_tasks,
    fetch_with_snapshot,
    run_project_audit,
)
from ls_cleanlab.pipeline.queues import QUEUES, Queue, queue_members, queue_predictions, queue_view

__all__ = [
    "QUEUES",
    "STAGES",
    "AuditOptions",
    "ProjectAudit",
    "Queue",
    "audit_tasks",
    "fetch_with_snapshot",
    "queue_members",
    "queue_predictions",
    "queue_view",
    "run_project_audit",
]

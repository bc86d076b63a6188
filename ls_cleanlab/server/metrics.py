"""``/metrics`` of the ML backend in the Prometheus text format (no client library needed)."""

from __future__ import annotations

from ls_cleanlab.server.jobstore import JOB_KINDS, JOB_STATES, Store

__all__ = ["metrics_text"]


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics_text(store: Store, pending: int) -> str:
    """Jobs by kind and state, the queue, last audit times, flagged tasks, annotator quality."""
    lines = [
        "# HELP ls_cleanlab_jobs Background jobs by kind and state.",
        "# TYPE ls_cleanlab_jobs gauge",
    ]
    counts = store.job_counts()
    for kind in JOB_KINDS:
        for state in JOB_STATES:
            lines.append(f'ls_cleanlab_jobs{{kind="{kind}",state="{state}"}} '
                         f"{counts.get((kind, state), 0)}")  # fmt: skip
    lines += [
        "# HELP ls_cleanlab_queue_size Jobs queued plus projects waiting for their debounce.",
        "# TYPE ls_cleanlab_queue_size gauge",
        f"ls_cleanlab_queue_size {pending}",
        "# HELP ls_cleanlab_last_audit_timestamp_seconds Last full audit (or refresh) per project.",
        "# TYPE ls_cleanlab_last_audit_timestamp_seconds gauge",
    ]
    projects = store.projects()
    for p in projects:
        for kind, column in (("audit", "audited_at"), ("refresh", "refreshed_at")):
            if p.get(column):
                lines.append(f'ls_cleanlab_last_audit_timestamp_seconds{{project="{p["project"]}",'
                             f'kind="{kind}"}} {p[column]:.3f}')  # fmt: skip
    lines += [
        "# HELP ls_cleanlab_flagged_tasks Tasks in each review queue after the last audit.",
        "# TYPE ls_cleanlab_flagged_tasks gauge",
    ]
    for p in projects:
        for queue, n in p["flagged"].get("queues", {}).items():
            lines.append(f'ls_cleanlab_flagged_tasks{{project="{p["project"]}",'
                         f'queue="{_label(queue)}"}} {int(n)}')  # fmt: skip
    lines += [
        "# HELP ls_cleanlab_annotator_quality Annotator quality (CROWDLAB) after the last audit.",
        "# TYPE ls_cleanlab_annotator_quality gauge",
    ]
    for p in projects:
        for who, quality in p["flagged"].get("annotators", {}).items():
            lines.append(f'ls_cleanlab_annotator_quality{{project="{p["project"]}",'
                         f'annotator="{_label(who)}"}} {float(quality):.4f}')  # fmt: skip
    return "\n".join(lines) + "\n"

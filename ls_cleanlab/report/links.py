"""Links from a report to Label Studio (shared by the classification and the box report)."""

from __future__ import annotations

__all__ = ["task_link"]


def task_link(studio_url: str | None, project: int | None, task_id: int) -> str | None:
    """The task's page in Label Studio's Data Manager, when the URL and project are known."""
    if not studio_url or project is None:
        return None
    return f"{studio_url.rstrip('/')}/projects/{int(project)}/data?task={int(task_id)}"

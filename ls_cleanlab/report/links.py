"""What the classification and the box report share: links to Label Studio and the "Left out"
section."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ls_cleanlab.report.parts import escape as e

if TYPE_CHECKING:
    from ls_cleanlab.pipeline import ProjectAudit

__all__ = ["left_out_section", "task_link"]


def task_link(studio_url: str | None, project: int | None, task_id: int) -> str | None:
    """The task's page in Label Studio's Data Manager, when the URL and project are known."""
    if not studio_url or project is None:
        return None
    return f"{studio_url.rstrip('/')}/projects/{int(project)}/data?task={int(task_id)}"


def left_out_section(result: ProjectAudit, studio_url: str | None) -> str:
    """Everything the audit left out, by reason (:func:`ls_cleanlab.pipeline.skip_report`)."""
    from ls_cleanlab.pipeline import skip_report

    report = skip_report(result)
    if not report.skips:
        return '<p class="note">Nothing was left out: every task and annotation was used.</p>'
    rows = ["<tr><th>left out</th><th>reason</th><th>meaning</th><th>example</th>"
            "<th>tasks</th></tr>"]  # fmt: skip
    for skip in report.skips:
        links = []
        for task in skip.tasks:
            link = task_link(studio_url, result.project, task)
            links.append(f'<a href="{e(link)}">{task}</a>' if link else str(task))
        rows.append(
            f'<tr class="skip"><td class="num">{skip.count} {e(skip.items)}</td>'
            f"<td>{e(skip.reason)}</td><td>{e(skip.meaning)}</td>"
            f"<td>{e(skip.example[:200])}</td><td>{', '.join(links)}</td></tr>"
        )
    return f'<table id="left-out">{"".join(rows)}</table>'

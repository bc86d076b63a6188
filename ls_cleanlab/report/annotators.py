"""The report's annotators section: quality, flags, accuracy on gold tasks, agreement, lead time.

Annotators appear by name (``"First Last <email>"``, read from Label Studio) where known, by user
id otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.pipeline.gold import gold_counts
from ls_cleanlab.report import figures as figures
from ls_cleanlab.report.parts import chart as _chart
from ls_cleanlab.report.parts import escape as _e
from ls_cleanlab.report.parts import number as _num

if TYPE_CHECKING:
    from ls_cleanlab.pipeline import ProjectAudit

__all__ = ["annotators_section"]


def annotators_section(result: ProjectAudit) -> str:
    """The annotator table and charts, annotators by name where Label Studio gave it."""
    frame = result.audit.annotators
    if frame is None or len(frame) == 0:
        return '<p class="note">No annotator information.</p>'
    frame = frame.sort_values("quality", kind="stable")
    columns = (
        ("quality", 3),
        ("agreement", 3),
        ("missing_rate", 3),
        ("spurious_rate", 3),
        ("n_tasks", 0),
        ("mean_lead_time", 1),
    )
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c, _ in columns)
    rows = [f"<tr><th>annotator</th>{head}<th>flags</th></tr>"]
    for _, row in frame.iterrows():
        cells = "".join(f'<td class="num">{_num(row[c], d)}</td>' for c, d in columns)
        flags = f'<span class="flag">{_e(row["flags"])}</span>' if row["flags"] else ""
        who = _e(result.annotator_name(row["annotator"]))
        rows.append(f'<tr class="annotator-row"><td>{who}</td>{cells}<td>{flags}</td></tr>')
    parts = [f'<table id="annotators">{"".join(rows)}</table>', _gold(result)]
    agree = result.audit.agreement
    if agree is not None and len(agree.annotator_ids) > 1:
        keep = np.argsort(-np.diag(agree.shared), kind="stable")[: figures.MAX_MATRIX]
        names = [result.annotator_name(a) for a in agree.annotator_ids[keep]]
        png = figures.agreement_heatmap(agree.pairwise[np.ix_(keep, keep)], names)
        parts.append(_chart(png, "fig-agreement", "pairwise annotator agreement"))
    png = figures.quality_vs_lead_time(
        frame["quality"].to_numpy(dtype=float),
        frame["mean_lead_time"].to_numpy(dtype=float),
        frame["n_tasks"].to_numpy(dtype=float),
        [result.annotator_name(a) for a in frame["annotator"]],
    )
    parts.append(_chart(png, "fig-lead-time", "annotator quality against lead time"))
    return "\n".join(p for p in parts if p)


def _gold(result: ProjectAudit) -> str:
    """Each annotator's exact matches on the tasks a reviewer (or ground truth) settled."""
    if result.gold_accuracy is None or result.gold is None:
        return ""
    rows = ["<tr><th>annotator</th><th>gold tasks</th><th>correct</th><th>accuracy</th></tr>"]
    for who, n_gold, n_correct, accuracy in gold_counts(result):
        rows.append(
            f'<tr class="gold-row"><td>{_e(result.annotator_name(who))}</td>'
            f'<td class="num">{n_gold}</td><td class="num">{n_correct}</td>'
            f'<td class="num">{_num(accuracy, 3)}</td></tr>'
        )
    note = (
        f'<p class="note">{int(result.gold.sum())} tasks have a gold label (a reviewer\'s or a '
        "ground-truth annotation): out of every tab, their consensus the gold label. Accuracy "
        "is the share of an annotator's labels on them that match it exactly.</p>"
    )
    return f'<h3>Accuracy on reviewed tasks</h3>{note}<table id="gold">{"".join(rows)}</table>'

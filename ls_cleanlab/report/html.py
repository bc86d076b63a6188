"""The audit report: one self-contained HTML file a reviewer or a project lead opens in a browser.

Sections: overview (counts, issues by kind, queue sizes), label-quality distribution, classes
(estimated miss and spurious rates, issue counts, a given-vs-suggested 2x2 per class), label
co-occurrence (multi-label) or given-vs-suggested classes (single-label), annotators (quality,
flags, pairwise agreement, quality against lead time) and the top issues with thumbnails or text
snippets, reasons and links to the tasks in Label Studio.

Charts are PNGs drawn by matplotlib (imported only here, when a report is written) and inlined as
``data:`` URIs with the CSS, so the file makes no request. Every string from tasks, classes,
annotators or reasons is escaped. Only the top ``top`` tasks get a row, so the report stays small
and quick for large projects.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ls_cleanlab.errors import MediaError
from ls_cleanlab.features.texts import task_texts
from ls_cleanlab.report import figures as figures
from ls_cleanlab.report.annotators import annotators_section
from ls_cleanlab.report.links import left_out_section, task_link
from ls_cleanlab.report.page import BASE_CSS, html_page
from ls_cleanlab.report.parts import chart as _chart
from ls_cleanlab.report.parts import escape as _e
from ls_cleanlab.report.parts import number as _num

if TYPE_CHECKING:
    from ls_cleanlab.media import MediaFetcher
    from ls_cleanlab.pipeline import ProjectAudit

__all__ = ["render_report", "task_link", "write_report"]

#: Thumbnails give up after this many media failures in a row (an unreachable host).
_GIVE_UP = 3
_THUMB = (112, 112)
_SNIPPET = 280

_CSS = (
    BASE_CSS
    + """table.mini td{border:none;padding:0 .3em;font-size:.8em;text-align:center;min-width:2.2em}
.flag{color:#b03a2e;font-weight:600}.kind{font-weight:600}.missing{color:#b9770e}
.spurious,.rule{color:#b03a2e}.disagreement{color:#6c3483}.outlier{color:#555}
.snippet{max-width:22em;white-space:pre-wrap;font-size:.85em;color:#333}
.ref{font-family:monospace;font-size:.75em;color:#777;word-break:break-all;max-width:14em}
.note{color:#555;font-size:.9em}
"""
)
#: The page's only script: a broken inline image shows up as a console error (the browser test
#: reads the console).


def _thumbnail(fetcher: MediaFetcher, ref: str) -> str:
    image = fetcher.open_image(ref)
    image = image.convert("RGB")
    image.thumbnail(_THUMB)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class _Media:
    """Thumbnails or snippets of the top tasks; gives up on images after repeated failures."""

    def __init__(self, result: ProjectAudit, fetcher: MediaFetcher | None) -> None:
        self.schema = result.schema
        self.fetcher = fetcher
        self.failures = 0

    def cell(self, data: dict[str, Any]) -> str:
        value = data.get(self.schema.data_key)
        if self.schema.object_tag != "Image":
            if self.schema.text_encoding in ("base64", "base64unicode"):  # shown as read
                value = task_texts([data], self.schema.data_key, self.schema.text_encoding)[0]
            text = str(value) if value is not None else ""
            if len(text) > _SNIPPET:
                text = text[:_SNIPPET] + "…"
            return f'<div class="snippet">{_e(text)}</div>'
        if not isinstance(value, str):
            return '<div class="ref">no image reference</div>'
        if self.fetcher is not None and self.failures < _GIVE_UP:
            try:
                png = _thumbnail(self.fetcher, value)
            except MediaError:
                self.failures += 1
            else:
                self.failures = 0
                return f'<img class="thumb" alt="task image" src="data:image/jpeg;base64,{png}">'
        shown = value if not value.startswith("data:") else value[:40] + "…"
        return f'<div class="ref">{_e(shown)}</div>'


def _overview(result: ProjectAudit) -> str:
    audit = result.audit
    issues = audit.issues
    cards = {
        "tasks read": len(result.table.task_ids),
        "tasks audited": len(result.task_ids),
        "labelled": int(result.labelled.sum()),
        "issues": len(issues),
        "tasks with issues": int(issues["task"].nunique()) if len(issues) else 0,
        "skipped": len(result.skipped),
        "annotators": 0 if audit.annotators is None else len(audit.annotators),
    }
    out = ['<div class="cards">']
    out += [f'<div class="card"><b>{v}</b>{_e(k)}</div>' for k, v in cards.items()]
    out.append("</div>")
    by_kind = issues["kind"].value_counts().to_dict() if len(issues) else {}
    by_kind = {kind: count for kind, count in by_kind.items() if count}
    from ls_cleanlab.pipeline import QUEUES

    queues = {q.title: len(result.queues.get(q.key, ())) for q in QUEUES}
    out.append(_tabs(result))
    if by_kind or any(queues.values()):
        png = figures.overview_bars({str(k): int(v) for k, v in by_kind.items()}, queues)
        out.append(_chart(png, "fig-overview", "issues by kind and queue sizes"))
    return "\n".join(out)


def _tabs(result: ProjectAudit) -> str:
    """Each review tab's size beside the tasks expected to have its problem in all."""
    from ls_cleanlab.pipeline import QUEUES, queue_expected, queue_precision

    expected = queue_expected(result.audit)
    precision = queue_precision(result.audit)
    rows = []
    for q in QUEUES:
        shown = f"{expected[q.key]:.0f}" if q.key in expected else ""
        real = f"{precision[q.key]:.0%}" if q.key in precision else ""
        size = len(result.queues.get(q.key, ()))
        cells = "".join(f'<td class="num">{v}</td>' for v in (size, real, shown))
        rows.append(f"<tr><td>{_e(q.title)}</td>{cells}</tr>")
    head = (
        "<tr><th>review tab</th><th>tasks</th><th>expected real</th>"
        "<th>expected with the problem, in all</th></tr>"
    )
    return f'<table class="tabs">{head}{"".join(rows)}</table>'


def _mini(counts: np.ndarray) -> str:
    """A 2x2 given (rows) vs suggested (columns) table, cells shaded by row share."""
    rows = []
    for i, label in enumerate(("given", "not given")):
        total = max(int(counts[i].sum()), 1)
        cells = []
        for j in range(2):
            share = counts[i, j] / total
            shade = f"rgba(59,110,165,{0.1 + 0.8 * share:.2f})"
            cells.append(f'<td style="background:{shade}">{int(counts[i, j])}</td>')
        rows.append(f"<tr><td>{label}</td>{''.join(cells)}</tr>")
    head = "<tr><td></td><td>kept</td><td>flip</td></tr>"
    return f'<table class="mini">{head}{"".join(rows)}</table>'


def _classes(result: ProjectAudit) -> str:
    audit = result.audit
    frame = audit.classes
    labelled = result.labelled
    given = audit.consensus[labelled].astype(bool)
    suggested = audit.suggested[labelled].astype(bool)
    issue_counts = frame[["n_missing", "n_spurious", "n_disagreement", "n_rule"]].sum(axis=1)
    order = np.argsort(-issue_counts.to_numpy(), kind="stable")[:200]
    head = (
        "<tr><th>class</th><th>prevalence</th><th>expected</th><th>est. miss rate</th>"
        "<th>est. spurious rate</th><th>missing</th><th>spurious</th><th>disagree</th>"
        "<th>rule</th><th>quality</th><th>alpha</th><th>given vs suggested</th></tr>"
    )
    rows = [head]
    for k in order:
        row = frame.iloc[k]
        counts = np.array(
            [
                [np.sum(given[:, k] & suggested[:, k]), np.sum(given[:, k] & ~suggested[:, k])],
                [np.sum(~given[:, k] & ~suggested[:, k]), np.sum(~given[:, k] & suggested[:, k])],
            ]
        )
        flag = ' <span class="flag">under-labelled</span>' if row["under_labelled"] else ""
        cells = [f"<td>{_e(row['class'])}{flag}</td>"]
        for column in ("prevalence", "expected_prevalence", "miss_rate", "spurious_rate"):
            cells.append(f'<td class="num">{_num(row[column], 3)}</td>')
        for column in ("n_missing", "n_spurious", "n_disagreement", "n_rule"):
            cells.append(f'<td class="num">{int(row[column])}</td>')
        cells.append(f'<td class="num">{_num(row["quality"], 3)}</td>')
        cells.append(f'<td class="num">{_num(row["alpha"], 2)}</td>')
        cells.append(f"<td>{_mini(counts)}</td>")
        rows.append(f'<tr class="class-row">{"".join(cells)}</tr>')
    note = ""
    if len(frame) > len(order):
        note = f'<p class="note">The {len(order)} classes with most issues of {len(frame)}.</p>'
    return f'<table id="classes">{"".join(rows)}</table>{note}'


def _matrix_section(result: ProjectAudit) -> str:
    audit = result.audit
    labelled = result.labelled
    names = list(audit.class_names)
    if not labelled.any():
        return '<p class="note">No labelled tasks.</p>'
    if audit.multi_label:
        png = figures.cooccurrence_heatmap(audit.consensus[labelled], names)
        return _chart(png, "fig-cooccurrence", "label co-occurrence matrix")
    given = audit.consensus[labelled].argmax(axis=1)
    suggested = audit.suggested[labelled].argmax(axis=1)
    png = figures.confusion_heatmap(given, suggested, names)
    return _chart(png, "fig-cooccurrence", "given versus suggested classes")


def _labels(row: np.ndarray, names: Sequence[str]) -> str:
    chosen = [names[k] for k in np.flatnonzero(row)]
    return _e(", ".join(chosen)) if chosen else "<i>none</i>"


def _issues(
    result: ProjectAudit, studio_url: str | None, fetcher: MediaFetcher | None, top: int
) -> str:
    audit = result.audit
    issues = audit.issues
    if len(issues) == 0:
        return '<p class="note">No issues found.</p>'
    rows_with = np.unique(issues["task"].to_numpy(dtype=np.int64))
    order = rows_with[np.argsort(-audit.priority[rows_with], kind="stable")][:top]
    shown = issues[issues["task"].isin(order)].sort_values("score", ascending=False)
    by_task = {int(t): g for t, g in shown.groupby("task")}
    position = {int(t): i for i, t in enumerate(result.table.task_ids)}
    media = _Media(result, fetcher)
    names = audit.class_names
    head = (
        "<tr><th>task</th><th>media</th><th>priority</th><th>given</th><th>suggested</th>"
        "<th>issues and reasons</th></tr>"
    )
    rows = [head]
    for row in order:
        task_id = int(result.task_ids[row])
        link = task_link(studio_url, result.project, task_id)
        label = f'<a href="{_e(link)}">{task_id}</a>' if link else str(task_id)
        found = by_task[int(row)]
        reasons = "<br>".join(
            f'<span class="kind {_e(kind)}">{_e(kind)}</span> {_e(cls)} ({score:.2f}): {_e(why)}'
            for kind, cls, score, why in zip(
                found["kind"], found["class"], found["score"], found["reason"], strict=True
            )
        )
        cells = [
            f"<td>{label}</td>",
            f"<td>{media.cell(result.table.data[position[task_id]])}</td>",
            f'<td class="num">{audit.priority[row]:.3f}</td>',
            f"<td>{_labels(audit.consensus[row], names)}</td>",
            f"<td>{_labels(audit.suggested[row], names)}</td>",
            f"<td>{reasons}</td>",
        ]
        rows.append(f'<tr class="issue" data-task="{task_id}">{"".join(cells)}</tr>')
    note = f'<p class="note">The {len(order)} tasks of highest priority of {len(rows_with)}.</p>'
    return f'{note}<table id="issues">{"".join(rows)}</table>'


def render_report(
    result: ProjectAudit,
    *,
    studio_url: str | None = None,
    fetcher: MediaFetcher | None = None,
    top: int = 100,
    title: str | None = None,
    notes: Sequence[str] = (),
    threshold: float | None = None,
) -> str:
    """The report's HTML.

    Parameters
    ----------
    result : ProjectAudit
    studio_url : str, optional
        Label Studio's URL, for links to the tasks (with ``result.project``).
    fetcher : MediaFetcher, optional
        Reads images for thumbnails; without it (or when an image fails) the reference is shown.
    top : int
        Tasks listed in the top issues.
    title : str, optional
    notes : sequence of str
        Lines shown under the title (e.g. "the schema was inferred").
    threshold : float, optional
        The issue threshold marked on the quality histogram; default the lower of the two
        the audit applied (``LabelAudit.thresholds``).

    Bounding-box audits get their own report (:mod:`ls_cleanlab.report.boxes`).
    """
    if result.schema.kind == "boxes":
        from ls_cleanlab.report.boxes import render_box_report

        return render_box_report(
            result, studio_url=studio_url, fetcher=fetcher, top=top, title=title, notes=notes
        )
    audit = result.audit
    where = f"project {result.project}" if result.project is not None else "export file"
    title = title or f"ls-cleanlab audit: {where}"
    meta = (
        f"{_e(where)} · probabilities from {_e(result.source)} · model version "
        f"{_e(result.model_version)} · {'multi' if audit.multi_label else 'single'}-label, "
        f"{len(audit.class_names)} classes"
    )
    quality = 1.0 - audit.priority[result.labelled]
    if threshold is None:
        threshold = min(min(audit.thresholds.values()), 1.0)
    sections = [
        ("overview", "Overview", _overview(result)),
        ("left-out", "Left out", left_out_section(result, studio_url)),
        (
            "quality",
            "Label quality",
            _chart(figures.quality_histogram(quality, threshold), "fig-quality", "label quality")
            if len(quality)
            else '<p class="note">No labelled tasks.</p>',
        ),
        ("classes", "Classes", _classes(result)),
        (
            "matrix",
            "Label co-occurrence" if audit.multi_label else "Given vs suggested classes",
            _matrix_section(result),
        ),
        ("annotators-section", "Annotators", annotators_section(result)),
        ("issues-section", "Top issues", _issues(result, studio_url, fetcher, top)),
    ]
    return html_page(title, meta, notes, sections, _CSS)


def write_report(result: ProjectAudit, path: str | Path, **options: Any) -> Path:
    """Write :func:`render_report` to ``path`` (atomically) and return the path."""
    path = Path(path)
    text = render_report(result, **options)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path

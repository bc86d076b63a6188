"""The audit report of a bounding-box project: one self-contained HTML file.

Sections: overview (counts, findings by kind, tab sizes), annotators (recall, precision,
localization, box noise, the satisficing test; a flagged satisficer in red), classes (objects and
findings) and the top tasks: each image with the boxes the annotators drew (thin white), the boxes
the audit suggests (green: every annotator who looked drew it; orange: some annotator missed it;
blue: only the detector found it) and the drawn boxes it doubts (red, dashed), with the reasons
and a link to the task in Label Studio. :func:`~ls_cleanlab.report.render_report` dispatches here
for schemas of kind ``"boxes"``. Every string from tasks is escaped; images are inlined.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ls_cleanlab.errors import MediaError
from ls_cleanlab.report import figures
from ls_cleanlab.report.links import left_out_section, task_link
from ls_cleanlab.report.page import BASE_CSS, html_page

if TYPE_CHECKING:
    from ls_cleanlab.media import MediaFetcher
    from ls_cleanlab.pipeline import ProjectAudit
    from ls_cleanlab.pipeline.box_review import BoxReview

__all__ = ["render_box_report"]

_GIVE_UP = 3  # thumbnails stop after this many media failures in a row
_THUMB = 360  # thumbnail width in pixels
_FINDINGS = 12  # findings listed per task; the rest are counted (an image may hold hundreds)
_COLOURS = {"agreed": (46, 204, 113), "missed": (243, 156, 18), "found": (52, 152, 219)}
_WRONG = (231, 76, 60)

_CSS = (
    BASE_CSS
    + """.flag{color:#b03a2e;font-weight:600}.kind{font-weight:600}.missing{color:#b9770e}
.swapped,.badly_placed,.spurious{color:#b03a2e}.disagreement{color:#6c3483}
.note{color:#555;font-size:.9em}.ref{font-family:monospace;font-size:.75em;color:#777}
.legend span{display:inline-block;margin-right:1.2em}
.swatch{display:inline-block;width:.9em;height:.9em;border:2px solid;margin-right:.3em;
vertical-align:middle;background:#6b7a55}
"""
)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _e(value)
    return "–" if not np.isfinite(number) else f"{number:.{digits}f}"


def _dashed(draw: Any, box: Sequence[float], colour: tuple[int, int, int], width: int) -> None:
    x1, y1, x2, y2 = box
    for a, b in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)),
                 ((x1, y2), (x1, y1))):  # fmt: skip
        length = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
        steps = max(int(length // 6), 1)
        for s in range(0, steps, 2):
            t0, t1 = s / steps, min((s + 1) / steps, 1.0)
            draw.line(
                (a[0] + (b[0] - a[0]) * t0, a[1] + (b[1] - a[1]) * t0,
                 a[0] + (b[0] - a[0]) * t1, a[1] + (b[1] - a[1]) * t1),
                fill=colour, width=width,
            )  # fmt: skip


class _Thumbnails:
    """Images of the top tasks with their boxes drawn; gives up after repeated failures."""

    def __init__(self, result: ProjectAudit[BoxReview], fetcher: MediaFetcher | None) -> None:
        self.result = result
        self.fetcher = fetcher
        self.failures = 0

    def cell(self, row: int, data: dict[str, Any]) -> str:
        ref = data.get(self.result.schema.data_key)
        if not isinstance(ref, str):
            return '<div class="ref">no image reference</div>'
        if self.fetcher is not None and self.failures < _GIVE_UP:
            try:
                png = self._draw(row, self.fetcher.open_image(ref))
            except MediaError:
                self.failures += 1
            else:
                self.failures = 0
                source = f"data:image/jpeg;base64,{png}"
                return f'<img class="thumb" alt="task image with boxes" src="{source}">'
        shown = ref if not ref.startswith("data:") else ref[:40] + "…"
        return f'<div class="ref">{_e(shown)}</div>'

    def _draw(self, row: int, image: Any) -> str:
        from PIL import ImageDraw

        image = image.convert("RGB")
        scale = _THUMB / image.width
        image = image.resize((_THUMB, max(1, round(image.height * scale))))
        to_pixels = np.array([image.width, image.height, image.width, image.height]) / 100
        draw = ImageDraw.Draw(image)
        review = self.result.audit
        ann = review.annotations
        for box in ann.boxes[ann.image == row]:
            draw.rectangle(tuple((box * to_pixels).tolist()), outline=(255, 255, 255), width=1)
        s = review.suggested
        for j in np.flatnonzero(s.task == row):
            colour = _COLOURS.get(s.kind[j], (255, 255, 255))
            draw.rectangle(tuple((s.boxes[j] * to_pixels).tolist()), outline=colour, width=2)
        issues = review.issues
        wrong = issues[(issues["task"] == row) & (issues["box"] >= 0)]
        for _, issue in wrong.iterrows():
            corners = np.array([issue["x1"], issue["y1"], issue["x2"], issue["y2"]], dtype=float)
            _dashed(draw, (corners * to_pixels).tolist(), _WRONG, 2)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        return base64.b64encode(buffer.getvalue()).decode("ascii")


def _overview(result: ProjectAudit[BoxReview]) -> str:
    from ls_cleanlab.pipeline.box_queues import BOX_QUEUES

    review = result.audit
    report = result.table.report
    issues = review.issues
    cards = {
        "tasks read": len(result.table.task_ids),
        "tasks audited": len(result.task_ids),
        "labelled": int(result.labelled.sum()),
        "boxes read": getattr(report, "n_boxes", 0),
        "boxes left out": getattr(report, "n_bad", 0),
        "objects": int(review.boxes.consensus.keep.sum()),
        "suggested boxes": len(review.suggested.task),
        "findings": len(issues),
        "skipped tasks": len(result.skipped),
        "annotators": len(review.annotators),
    }
    out = ['<div class="cards">']
    out += [f'<div class="card"><b>{v}</b>{_e(k)}</div>' for k, v in cards.items()]
    out.append("</div>")
    by_kind = {str(k): int(v) for k, v in issues["kind"].value_counts().items() if v}
    queues = {q.title: len(result.queues.get(q.key, ())) for q in BOX_QUEUES}
    if by_kind or any(queues.values()):
        png = figures.overview_bars(by_kind, queues)
        out.append(
            f'<img class="chart" id="fig-overview" alt="findings by kind and tab sizes" '
            f'src="data:image/png;base64,{png}">'
        )
    return "\n".join(out)


def _annotators(result: ProjectAudit[BoxReview]) -> str:
    frame = result.audit.annotators
    if len(frame) == 0:
        return '<p class="note">No annotators.</p>'
    columns = (
        ("quality", 3), ("recall", 3), ("precision", 3), ("localization", 3), ("box_noise", 3),
        ("satisficing", 2), ("satisficing_p", 4), ("n_tasks", 0), ("n_boxes", 0),
    )  # fmt: skip
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c, _ in columns)
    rows = [f"<tr><th>annotator</th>{head}<th>flags</th></tr>"]
    for _, row in frame.sort_values("quality", kind="stable").iterrows():
        cells = "".join(f'<td class="num">{_num(row[c], d)}</td>' for c, d in columns)
        flags = f'<span class="flag">{_e(row["flags"])}</span>' if row["flags"] else ""
        rows.append(
            f'<tr class="annotator-row"><td>{_e(result.annotator_name(row["annotator"]))}</td>'
            f"{cells}<td>{flags}</td></tr>"
        )
    note = (
        '<p class="note">Against the consensus objects: quality is the F1 of recall (objects '
        "boxed) and precision (boxes on objects); localization the mean IoU with the consensus "
        "box; box noise the relative edge noise; satisficing the share of recall lost on crowded "
        "images, with its Cochran-Armitage p-value. A satisficer (flagged) stops after the first "
        "objects.</p>"
    )
    return f'<table id="annotators">{"".join(rows)}</table>{note}{_gold(result)}'


def _gold(result: ProjectAudit[BoxReview]) -> str:
    """Each annotator's boxes on the images a reviewer (or ground truth) settled."""
    table = result.gold_accuracy
    if table is None or result.gold is None:
        return ""
    rows = ["<tr><th>annotator</th><th>gold images</th><th>gold boxes</th><th>found</th>"
            "<th>recall</th><th>its boxes</th><th>precision</th></tr>"]  # fmt: skip
    for row in table[table["n_gold"] > 0].to_dict("records"):  # iterrows makes ids floats
        rows.append(
            f'<tr class="gold-row"><td>{_e(result.annotator_name(row["annotator"]))}</td>'
            + "".join(f'<td class="num">{int(row[c])}</td>'
                      for c in ("n_gold", "gold_boxes", "gold_found"))
            + f'<td class="num">{_num(row["gold_recall"], 3)}</td>'
            f'<td class="num">{int(row["gold_drawn"])}</td>'
            f'<td class="num">{_num(row["gold_precision"], 3)}</td></tr>'
        )  # fmt: skip
    note = (
        f'<p class="note">{int(result.gold.sum())} images have gold boxes (a reviewer\'s or a '
        "ground-truth annotation): out of every tab, their suggested boxes the gold ones. An "
        "annotator's box finds a gold box of the same class at IoU 0.5 or more, one to one: "
        "recall is the share of gold boxes found, precision the share of its boxes that found "
        "one.</p>"
    )
    return f'<h3>Boxes on reviewed images</h3>{note}<table id="gold">{"".join(rows)}</table>'


def _classes(review: BoxReview) -> str:
    frame = review.classes
    columns = [c for c in frame.columns if c != "class"]
    head = "".join(f"<th>{_e(c.replace('n_', '').replace('_', ' '))}</th>" for c in columns)
    rows = [f"<tr><th>class</th>{head}</tr>"]
    for _, row in frame.iterrows():
        cells = "".join(f'<td class="num">{int(row[c])}</td>' for c in columns)
        rows.append(f'<tr class="class-row"><td>{_e(row["class"])}</td>{cells}</tr>')
    return f'<table id="classes">{"".join(rows)}</table>'


def _tasks(
    result: ProjectAudit[BoxReview], studio_url: str | None, fetcher: MediaFetcher | None, top: int
) -> str:
    from ls_cleanlab.pipeline.box_queues import BOX_QUEUES

    review = result.audit
    issues = review.issues
    if len(issues) == 0:
        return '<p class="note">No findings.</p>'
    with_issues = np.unique(issues["task"].to_numpy(dtype=np.int64))
    order = with_issues[np.argsort(-review.priority[with_issues], kind="stable")][:top]
    tabs = {q.key: set(result.queues.get(q.key, np.zeros(0)).tolist()) for q in BOX_QUEUES}
    position = {int(t): i for i, t in enumerate(result.table.task_ids)}
    thumbs = _Thumbnails(result, fetcher)
    legend = "".join(
        f'<span><i class="swatch" style="border-color:rgb{colour}"></i>{_e(text)}</span>'
        for colour, text in (
            ((255, 255, 255), "drawn by an annotator"), (_COLOURS["agreed"], "suggested: agreed"),
            (_COLOURS["missed"], "suggested: missed by some"),
            (_COLOURS["found"], "suggested: found by the detector"), (_WRONG, "doubted box"),
        )
    )  # fmt: skip
    rows = [
        "<tr><th>task</th><th>image</th><th>priority</th><th>tabs</th><th>findings and "
        "reasons</th></tr>"
    ]
    for row in order.tolist():
        task_id = int(result.task_ids[row])
        link = task_link(studio_url, result.project, task_id)
        label = f'<a href="{_e(link)}">{task_id}</a>' if link else str(task_id)
        found = issues[issues["task"] == row].sort_values("score", ascending=False, kind="stable")
        shown = found.iloc[:_FINDINGS]
        reasons = "<br>".join(
            f'<span class="kind {_e(kind)}">{_e(kind.replace("_", " "))}</span> ({score:.2f}): '
            f"{_e(why)}"
            for kind, score, why in zip(shown["kind"], shown["score"], shown["reason"], strict=True)
        )
        if len(found) > len(shown):
            counts = found["kind"].iloc[len(shown) :].value_counts()
            more = ", ".join(f"{n} {str(k).replace('_', ' ')}" for k, n in counts.items())
            reasons += (
                f'<br><span class="more">and {len(found) - len(shown)} more ({_e(more)})</span>'
            )
        in_tabs = ", ".join(q.title for q in BOX_QUEUES if task_id in tabs[q.key])
        cells = [
            f"<td>{label}</td>",
            f"<td>{thumbs.cell(row, result.table.data[position[task_id]])}</td>",
            f'<td class="num">{review.priority[row]:.3f}</td>',
            f"<td>{_e(in_tabs)}</td>",
            f"<td>{reasons}</td>",
        ]
        rows.append(f'<tr class="issue" data-task="{task_id}">{"".join(cells)}</tr>')
    note = f'<p class="note">The {len(order)} tasks of highest priority of {len(with_issues)}.</p>'
    return f'<p class="legend">{legend}</p>{note}<table id="issues">{"".join(rows)}</table>'


def render_box_report(
    result: ProjectAudit[BoxReview],
    *,
    studio_url: str | None = None,
    fetcher: MediaFetcher | None = None,
    top: int = 100,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The HTML report of a box audit (parameters as :func:`~ls_cleanlab.report.render_report`)."""
    review = result.audit
    where = f"project {result.project}" if result.project is not None else "export file"
    title = title or f"ls-cleanlab audit: {where} (bounding boxes)"
    meta = (
        f"{_e(where)} · detector boxes from {_e(result.source)} · model version "
        f"{_e(result.model_version)} · {len(review.class_names)} classes · audit mode "
        f"{_e(review.boxes.mode)}"
    )
    sections = [
        ("overview", "Overview", _overview(result)),
        ("annotators-section", "Annotators", _annotators(result)),
        ("classes", "Classes", _classes(review)),
        ("issues-section", "Top tasks", _tasks(result, studio_url, fetcher, top)),
        ("left-out", "Left out", left_out_section(result, studio_url)),
    ]
    return html_page(title, meta, notes, sections, _CSS)

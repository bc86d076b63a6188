"""The report of a bounding-box audit: boxes drawn on the images, the annotator table with the
satisficer flagged, everything escaped."""

from __future__ import annotations

from typing import Any

import numpy as np

from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.report import render_report
from ls_cleanlab.studio import parse_label_config
from ls_cleanlab.testing.aerial_boxes import label_config, make_aerial_scenes, task_json
from ls_cleanlab.testing.scenes import annotate_scenes


def _tasks(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` aerial scenes boxed by three simulated annotators, as task JSON."""
    rng = np.random.default_rng(seed)
    aerial = make_aerial_scenes(n, rng=rng)
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=n, n_classes=4,
        rng=rng, image_size=aerial.size,
    )  # fmt: skip
    return task_json(aerial, scenes, {"satisficer": 11, "sloppy": 12, "careful": 13})


def test_the_box_report_draws_the_boxes_and_flags_the_satisficer() -> None:
    tasks = _tasks(40, seed=6)
    tasks[0]["data"]["image"] = "<script>alert(1)</script>"
    schema = parse_label_config(label_config())
    result = audit_tasks(tasks, schema, options=AuditOptions())  # the annotators alone
    with MediaFetcher() as fetcher:
        page = render_report(result, fetcher=fetcher, studio_url="http://ls:8080", top=10)
    assert "bounding boxes" in page and "Likely missing boxes" in page
    assert page.count('class="thumb"') >= 9  # drawn images (one reference is broken)
    assert '<span class="flag">satisficing</span>' in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "http://ls:8080/projects/" not in page  # no project id offline: no links
    assert page.count('class="annotator-row"') == 3 and page.count('class="class-row"') == 4


def test_a_task_with_hundreds_of_findings_lists_the_worst_and_counts_the_rest() -> None:
    """One annotator's 60 stray boxes on an image made 60 findings in one table cell; the report
    lists the worst few and counts the others by kind."""
    tasks = _tasks(20, seed=7)
    stray = tasks[0]["annotations"][0]["result"][0]
    tasks[0]["annotations"][0]["result"] += [
        {**stray, "id": f"s{j}", "value": {**stray["value"], "x": 1.5 * j, "y": 90.0,
                                           "width": 1.0, "height": 1.0}}
        for j in range(60)
    ]  # fmt: skip
    result = audit_tasks(tasks, parse_label_config(label_config()), options=AuditOptions())
    found = result.audit.issues[result.audit.issues["task"] == 0]
    assert len(found) >= 60
    page = render_report(result, top=20)
    cell = page.split('data-task="1"')[1].split("</tr>")[0]
    assert cell.count('<span class="kind ') == 12
    assert f"and {len(found) - 12} more (" in cell

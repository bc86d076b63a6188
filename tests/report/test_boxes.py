"""The report of a bounding-box audit: boxes drawn on the images, the annotator table with the
satisficer flagged, everything escaped."""

from __future__ import annotations

import numpy as np

from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.report import render_report
from ls_cleanlab.studio import parse_label_config
from ls_cleanlab.testing.aerial_boxes import label_config, make_aerial_scenes, task_json
from ls_cleanlab.testing.scenes import annotate_scenes


def test_the_box_report_draws_the_boxes_and_flags_the_satisficer() -> None:
    rng = np.random.default_rng(6)
    aerial = make_aerial_scenes(40, rng=rng)
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=40, n_classes=4,
        rng=rng, image_size=aerial.size,
    )  # fmt: skip
    tasks = task_json(aerial, scenes, {"satisficer": 11, "sloppy": 12, "careful": 13})
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

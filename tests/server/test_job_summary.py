"""A job's summary (the server's job status JSON) carries, beside each error tab's size, how
many tasks the audit expects to have that tab's problem in all."""

from __future__ import annotations

import numpy as np

from ls_cleanlab.pipeline import QUEUES, AuditOptions, audit_tasks, queue_expected, queue_precision
from ls_cleanlab.server.jobs import _flagged, _summary
from ls_cleanlab.studio import parse_label_config
from ls_cleanlab.testing.synthetic_images import CLASSES, annotation
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as CONFIG


def test_job_summary_shows_expected_issues_per_error_tab() -> None:
    rng = np.random.default_rng(3)
    truth = rng.random((80, len(CLASSES))) < 0.35
    tasks = []
    for i, labels in enumerate(truth):
        given = labels & (rng.random(len(CLASSES)) < 0.75)  # one annotator who misses labels
        probs = np.clip(labels * 0.8 + 0.1 + rng.normal(0, 0.05, len(CLASSES)), 0.01, 0.99)
        results = [
            {"from_name": "objects", "to_name": "image", "type": "choices",
             "value": {"choices": [c]}, "score": float(p)}
            for c, p in zip(CLASSES, probs, strict=True)
        ]  # fmt: skip
        tasks.append({
            "id": 500 + i, "data": {"image": f"/data/local-files/?d={i}.png"},
            "annotations": [annotation(1, given)],
            "predictions": [{"model_version": "m", "result": results}],
        })  # fmt: skip
    result = audit_tasks(
        tasks, parse_label_config(CONFIG), options=AuditOptions(from_model_version="m")
    )
    summary = _summary(result)
    assert summary["expected"] == queue_expected(result.audit)
    assert set(summary["expected"]) == {"errors", "missing"}
    assert summary["expected"]["errors"] == round(result.audit.expected_issues["errors"], 1)
    assert summary["expected"]["missing"] > 0  # a quarter of the labels are missing
    # ... and the share of each error tab's tasks expected to have its problem
    precision = summary["expected_precision"]
    assert precision == queue_precision(result.audit) and set(precision) == {"errors", "missing"}
    errors = np.isin(np.asarray(result.task_ids), result.queues["errors"])
    assert precision["errors"] == round(float(result.audit.task_wrong[errors].mean()), 2)
    assert set(summary["queues"]) == {q.key for q in QUEUES}
    # what /metrics reads: the same expected counts, and no gold in this project
    flagged = _flagged(result)
    assert flagged["expected"] == summary["expected"]
    assert flagged["gold_tasks"] == 0 and flagged["gold"] == {}

"""From a real Label Studio project to an audit and back: fetch, read, audit, push, view."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab import StudioClient, audit_labels, read_tasks
from ls_cleanlab.studio import predictions_json
from ls_cleanlab.testing.admin import IMAGE_MULTI, Admin

pytestmark = pytest.mark.studio


def test_audit_of_a_real_project_reaches_the_queue(admin: Admin, client: StudioClient) -> None:
    rng = np.random.default_rng(0)
    n, classes = 24, ["Cat", "dog", "Bird"]
    truth = rng.random((n, 3)) < 0.5
    truth[:, 0] |= ~truth.any(axis=1)
    project = admin.project("audit pipeline", IMAGE_MULTI)
    ids = admin.import_tasks(
        project, [{"image": f"https://example.com/a{i}.png"} for i in range(n)]
    )
    users = [admin.user(f"auditor{k}@example.com") for k in range(3)]
    satisficer, careful, third = users
    for i, task in enumerate(ids):
        full = [c for c, on in zip(classes, truth[i], strict=True) if on]
        admin.annotate(task, full[:1], completed_by=satisficer, lead_time=2.0)
        admin.annotate(task, full, completed_by=careful, lead_time=9.0)
        if i % 2 == 0:
            admin.annotate(task, full, completed_by=third, lead_time=7.0)

    schema = client.label_schema(project)
    table = read_tasks(client.fetch_tasks(project).tasks, schema)
    assert sorted(table.task_ids.tolist()) == sorted(ids)
    order = {task: row for row, task in enumerate(ids)}
    rows = [order[int(t)] for t in table.task_ids]
    # a model that agrees with the truth, in the order the tasks came back
    probs = np.where(truth[rows], 0.9, 0.1)
    res = audit_labels(probs, annotations=table.annotations, class_names=list(schema.classes))

    quality = res.annotators.set_index("annotator")
    assert quality.loc[satisficer, "subset_rate"] > quality.loc[careful, "subset_rate"]
    np.testing.assert_array_equal(res.consensus.astype(bool), truth[rows])

    predictions = predictions_json(
        schema, table.task_ids, res.suggested, res.priority, model_version="ls-cleanlab-audit"
    )
    report = client.replace_predictions(
        project, predictions, model_version="ls-cleanlab-audit", task_ids=table.task_ids.tolist()
    )
    assert (report.sent, report.created, report.missing) == (n, n, 0)
    stored = {
        p["task"]: (p["score"], sorted(p["result"][0]["value"]["choices"]))
        for p in admin.predictions(project)
    }
    for task, score, row in zip(table.task_ids, res.priority, res.suggested, strict=True):
        names = sorted(schema.classes[k] for k in np.flatnonzero(row))
        assert stored[int(task)] == (pytest.approx(score), names)
    view = client.ensure_view(project, "Likely label errors", ordering=["-tasks:predictions_score"])
    assert view == client.ensure_view(project, "Likely label errors")
    # annotations are untouched by the push
    assert sum(len(t["annotations"]) for t in client.fetch_tasks(project).tasks) == n * 2 + n // 2

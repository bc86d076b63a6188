"""The whole pipeline on a real Label Studio: ``run_project_audit`` fetches, learns from the
images, audits, pushes one prediction per task and the four review tabs; a second run fetches
incrementally; a dry run writes nothing; annotations are never touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab import StudioClient
from ls_cleanlab.audit import RulesError
from ls_cleanlab.model import ModelStore
from ls_cleanlab.pipeline import (
    QUEUES,
    AuditOptions,
    Workspace,
    refresh_project,
    run_project_audit,
    save_audit_state,
)
from ls_cleanlab.testing.admin import Admin
from ls_cleanlab.testing.label_studio import Studio
from ls_cleanlab.testing.synthetic_images import CLASSES, label_config, make_images

pytestmark = pytest.mark.studio

CONFIG = label_config("tags")  # the name Admin.annotate writes


@pytest.fixture(scope="module")
def labelled_project(studio: Studio, admin: Admin) -> dict[str, Any]:
    """50 image tasks as local files: 40 labelled by a careful and a satisficing annotator."""
    images, truth = make_images(50, seed=8)
    folder = studio.local_files_root / "pipeline"
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        image.save(folder / f"{i}.png")
    project = admin.project("pipeline end to end", CONFIG)
    ids = admin.import_tasks(
        project, [{"image": f"/data/local-files/?d=pipeline/{i}.png"} for i in range(50)]
    )
    careful = admin.user("careful.pipeline@example.com")
    hasty = admin.user("hasty.pipeline@example.com")
    satisficed = set()
    for i, task in enumerate(ids[:40]):
        labels = [CLASSES[k] for k in np.flatnonzero(truth[i])]
        admin.annotate(task, labels, completed_by=careful, lead_time=8.0)
        admin.annotate(task, labels[:1], completed_by=hasty, lead_time=2.0)
        if len(labels) > 1:
            satisficed.add(task)
    return {"project": project, "ids": ids, "satisficed": satisficed, "careful": careful}


def test_run_project_audit_pushes_the_queues(
    studio: Studio,
    admin: Admin,
    client: StudioClient,
    labelled_project: dict[str, Any],
    tmp_path: Path,
) -> None:
    project, ids = labelled_project["project"], labelled_project["ids"]
    options = AuditOptions(local_files_root=str(studio.local_files_root), n_folds=4)
    stages: list[str] = []
    result = run_project_audit(
        client, project, options=options, data_dir=tmp_path,
        progress=lambda stage, done, total: stages.append(stage),
    )  # fmt: skip
    assert list(dict.fromkeys(stages)) == ["fetch", "features", "model", "audit", "save", "push"]
    assert result.push is not None and (result.push.sent, result.push.created) == (50, 50)
    assert sorted(result.task_ids.tolist()) == sorted(ids)
    assert set(result.queues["disagree"].tolist()) <= labelled_project["satisficed"]
    assert len(result.queues["disagree"]) > 0
    assert len(result.queues["uncertain"]) == 10

    # every task carries our prediction; each tab lists its queue, worst first
    stored = {p["task"]: p for p in admin.predictions(project)}
    # a run of its own: version ls-cleanlab-<run id>, the project's model version
    assert result.run is not None and result.model_version == f"ls-cleanlab-{result.run}"
    assert set(stored) == set(ids)
    assert {p["model_version"] for p in stored.values()} == {result.model_version}
    assert admin.call("GET", f"/api/projects/{project}/")["model_version"] == result.model_version
    assert result.stale_versions == ()
    assert set(result.views) == {q.title for q in QUEUES}
    for queue in QUEUES:
        shown = admin.view_tasks(project, result.views[queue.title])
        # the tab holds exactly the queue (ties in score may come in either order)
        assert sorted(t["id"] for t in shown) == sorted(result.queues[queue.key].tolist())
        scores = [stored[t["id"]]["score"] for t in shown]
        assert scores == sorted(scores, reverse=True)
    # each tab shows the image, id, priority, suggested labels with reasons, annotators; Label
    # Studio reads the hidden columns back and answers the tab's tasks with what it shows
    columns = {f"tasks:{'data.' if c.get('parent') == 'data' else ''}{c['id']}"
               for c in client.columns(project) if "children" not in c}  # fmt: skip
    shown = {"tasks:data.image", "tasks:id", "tasks:predictions_score", "tasks:annotators",
             "tasks:predictions_results", "tasks:total_annotations"}  # fmt: skip
    for view in client.views(project):
        hidden = view["data"]["hiddenColumns"]
        assert set(hidden["explore"]) | set(hidden["labeling"]) <= columns
        assert columns - set(hidden["explore"]) == shown
        assert columns - set(hidden["labeling"]) == {
            "tasks:id", "tasks:predictions_results"
        }  # fmt: skip
        assert view["data"]["columnsWidth"] == {"tasks:predictions_results": 360}
    first = next(q for q in QUEUES if q.key != "uncertain" and len(result.queues[q.key]))
    worst = admin.view_tasks(project, result.views[first.title])[0]
    cell = str(worst["predictions_results"])  # Label Studio drops the quotes for the cell
    assert cell.startswith("[{value: {choices: ["), cell[:200]
    assert cell.index("meta: {reasons: [") < cell.index("queues: [lscl:") < cell.index("from_name")
    # the model was saved for this project and version; the snapshot enables incremental fetches
    assert ModelStore(tmp_path / "models").versions(project) == ["ls-cleanlab"]
    assert (tmp_path / "projects" / str(project) / "tasks.json.gz").is_file()

    # a new annotation, then a dry run: fetched incrementally, nothing written
    before = admin.predictions(project)
    admin.annotate(ids[45], [CLASSES[0]], completed_by=labelled_project["careful"])
    again = run_project_audit(
        client, project, options=AuditOptions(
            local_files_root=str(studio.local_files_root), n_folds=4, dry_run=True
        ), data_dir=tmp_path,
    )  # fmt: skip
    assert again.push is None and again.views == {}
    assert again.labelled.sum() == 41 and len(again.queues["uncertain"]) == 9
    after = admin.predictions(project)
    assert sorted(p["id"] for p in after) == sorted(p["id"] for p in before)
    # annotations untouched by either run
    total = sum(len(t["annotations"]) for t in client.fetch_tasks(project).tasks)
    assert total == 81

    # reviewed tasks leave the tabs at the next incremental refresh (the webhook's path): one
    # annotated by a reviewer (named by email), one annotation marked as ground truth
    save_audit_state(Workspace(tmp_path), result)
    flagged = [t for key in ("errors", "missing", "disagree") for t in result.queues[key]]
    reviewed, marked = list(dict.fromkeys(int(t) for t in flagged))[:2]
    reviewer = admin.user("reviewer.pipeline@example.com", "Rita", "Review")
    admin.annotate(reviewed, [CLASSES[0]], completed_by=reviewer)
    admin.annotate(marked, [CLASSES[1]], ground_truth=True)
    options = AuditOptions(local_files_root=str(studio.local_files_root), n_folds=4,
                           reviewers=("Reviewer.Pipeline@example.com",))  # fmt: skip
    done = refresh_project(client, project, workspace=Workspace(tmp_path), options=options)
    assert done.audit is not None and done.audit.gold is not None
    gold = set(done.audit.task_ids[done.audit.gold].tolist())
    assert gold == {reviewed, marked}
    for view in result.views.values():
        shown = [t["id"] for t in admin.view_tasks(project, view)]
        assert reviewed not in shown and marked not in shown
    stored = {p["task"]: p for p in admin.predictions(project)}
    assert stored[reviewed]["result"][0]["value"]["choices"] == [CLASSES[0]]
    assert stored[marked]["score"] == 0.0
    accuracy = done.audit.gold_accuracy.set_index("annotator")
    assert accuracy.loc[labelled_project["careful"], "n_gold"] == 2

    # more changes than a refresh replaces one by one (here: any) publish a new run; the
    # project's version and every tab follow it at once, the earlier run is left for the cleanup
    admin.annotate(ids[46], [CLASSES[2]], completed_by=labelled_project["careful"])
    burst = refresh_project(client, project, workspace=Workspace(tmp_path), options=options,
                            partial_limit=0)  # fmt: skip
    assert burst.audit is not None and burst.audit.run not in (None, result.run)
    assert burst.stale_versions == (result.model_version,)
    version, predicted, shown = admin.current_run(project, result.views)
    assert version == burst.audit.model_version and ids[46] in predicted
    assert predicted == sorted(burst.audit.task_ids.tolist())
    assert shown == {q.title: sorted(burst.audit.queues[q.key].tolist()) for q in QUEUES}


def test_bad_rules_are_refused_before_anything_is_fetched(
    client: StudioClient, labelled_project: dict[str, Any], tmp_path: Path
) -> None:
    options = AuditOptions(rules={"implies": {"no such class": [CLASSES[0]]}})
    with pytest.raises(RulesError, match="unknown class 'no such class'"):
        run_project_audit(client, labelled_project["project"], options=options, data_dir=tmp_path)
    assert not (tmp_path / "projects").exists()  # no task was fetched, no snapshot written

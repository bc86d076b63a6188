"""A bounding-box project on a real Label Studio: the audit trains a detector on the project's
images, pushes one box prediction per task and fills the three box tabs; annotations and other
model versions are untouched; bad boxes are counted; another version's boxes can be the
evidence; a new annotation is picked up by a refresh, and a reviewer's takes its image out of
every tab; new tasks get the detector's boxes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab import MediaFetcher, StudioClient
from ls_cleanlab.pipeline import AuditOptions, Workspace, run_project_audit
from ls_cleanlab.pipeline.box_detector import predict_boxes
from ls_cleanlab.pipeline.box_queues import BOX_QUEUES
from ls_cleanlab.pipeline.refresh import refresh_project, save_audit_state
from ls_cleanlab.studio import check_box_prediction
from ls_cleanlab.testing.admin import Admin
from ls_cleanlab.testing.aerial_boxes import (
    annotation_results,
    label_config,
    make_aerial_scenes,
    rectangle_results,
)
from ls_cleanlab.testing.label_studio import Studio
from ls_cleanlab.testing.scenes import annotate_scenes

pytestmark = pytest.mark.studio

N, LABELLED = 40, 34
HABITS = ("satisficer", "sloppy", "careful")


def _annotations(client: StudioClient, project: int) -> dict[int, Any]:
    return {
        a["id"]: (a["result"], a["updated_at"], a["completed_by"])
        for t in client.fetch_tasks(project).tasks
        for a in t["annotations"]
    }


@pytest.fixture(scope="module")
def box_project(studio: Studio, admin: Admin) -> dict[str, Any]:
    """40 aerial images as local files, 34 boxed by three annotators with habits; a YOLO-like
    model version's boxes on the first 20; one annotation with bad boxes."""
    rng = np.random.default_rng(5)
    aerial = make_aerial_scenes(N, rng=rng)
    seen = np.zeros((N, 3), dtype=bool)
    seen[:LABELLED] = True
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=N, n_classes=4,
        rng=rng, habits=HABITS, seen=seen, image_size=aerial.size,
    )  # fmt: skip
    folder = studio.local_files_root / "boxes"
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(aerial.images):
        image.save(folder / f"{i}.png")
    project = admin.project("boxes end to end", label_config())
    ids = admin.import_tasks(
        project, [{"image": f"/data/local-files/?d=boxes/{i}.png"} for i in range(N)]
    )
    users = {name: admin.user(f"{name}.boxes@example.com") for name in HABITS}
    for i in range(LABELLED):
        for name in HABITS:
            body = {"result": annotation_results(scenes, i, name, aerial.size),
                    "completed_by": users[name], "lead_time": 5.0}  # fmt: skip
            admin.call("POST", f"/api/tasks/{ids[i]}/annotations/", json=body)
    bad = [
        {**rectangle_results(aerial.truth_boxes[:1], [0], size=aerial.size)[0], "id": "rot"},
        {**rectangle_results(aerial.truth_boxes[:1], [0], size=aerial.size)[0], "id": "who"},
    ]
    bad[0]["value"] = {**bad[0]["value"], "rotation": 45}
    bad[1]["value"] = {**bad[1]["value"], "rectanglelabels": ["submarine"]}
    admin.call("POST", f"/api/tasks/{ids[LABELLED]}/annotations/",
               json={"result": bad, "completed_by": users["careful"]})  # fmt: skip
    # another model's boxes (the truth, confident) on the first 20 tasks
    yolo = []
    for i in range(20):
        mine = aerial.truth_image == i
        result = rectangle_results(aerial.truth_boxes[mine], aerial.truth_labels[mine],
                                   size=aerial.size)  # fmt: skip
        for r in result:
            r["score"] = 0.9
        yolo.append({"task": ids[i], "result": result, "score": 0.9, "model_version": "yolo"})
    created = admin.call("POST", f"/api/projects/{project}/import/predictions", json=yolo)
    assert created["created"] == 20
    return {"project": project, "ids": ids, "users": users, "aerial": aerial}


def test_a_box_audit_fills_the_tabs_and_leaves_annotations_alone(
    studio: Studio,
    admin: Admin,
    client: StudioClient,
    box_project: dict[str, Any],
    tmp_path: Path,
) -> None:
    project, ids = box_project["project"], box_project["ids"]
    before = _annotations(client, project)
    options = AuditOptions(local_files_root=str(studio.local_files_root), n_folds=3)
    result = run_project_audit(client, project, options=options, data_dir=tmp_path)
    assert result.schema.kind == "boxes" and result.source.startswith("detector:")
    assert result.push is not None and (result.push.sent, result.push.created) == (N, N)
    report = result.table.report
    assert report.bad_boxes.get("rotated (not a multiple of 90 degrees)") == 1
    assert dict(report.unknown_labels) == {"submarine": 1}

    # a run of its own: version ls-cleanlab-<run id>, the project's model version
    assert result.run is not None and result.model_version == f"ls-cleanlab-{result.run}"
    assert admin.call("GET", f"/api/projects/{project}/")["model_version"] == result.model_version
    # one prediction of ours per task, valid boxes, markers of the run; the other version stays
    stored = admin.predictions(project)
    ours = {p["task"]: p for p in stored if p["model_version"] == result.model_version}
    assert set(ours) == set(ids)
    markers = {m for p in ours.values() for m in (p["result"] or [{}])[0].get("meta", {}).get(
        "queues", [])}  # fmt: skip
    assert markers and all(m.endswith(f"#{result.run}") for m in markers)
    assert sum(p["model_version"] == "yolo" for p in stored) == 20
    schema = result.schema
    for prediction in ours.values():
        assert check_box_prediction(schema, {**prediction, "task": int(prediction["task"])}) == []
    assert all(ours[t]["result"] for t in ids[LABELLED + 1 :])  # pre-annotations of new images

    # the three tabs, each exactly its queue, filled
    assert set(result.views) == {q.title for q in BOX_QUEUES}
    for queue in BOX_QUEUES:
        shown = admin.view_tasks(project, result.views[queue.title])
        assert sorted(t["id"] for t in shown) == sorted(result.queues[queue.key].tolist())
        assert shown, queue.title
    satisficer = box_project["users"]["satisficer"]
    table = result.audit.annotators.set_index("annotator")
    assert bool(table.loc[satisficer, "satisficer"])
    assert table.loc[satisficer, "recall"] < 0.6 < table["recall"].max()
    # a finding names its annotator as Label Studio does, in the issues and the pushed reasons
    name = result.annotator_name(satisficer)
    assert name.startswith("satisficer.boxes <")
    missed = result.audit.issues[result.audit.issues["annotator"] == satisficer]
    assert len(missed) and all(f"by {name}: " in reason for reason in missed["reason"])
    said = [r for p in ours.values() for r in (p["result"] or [{}])[0].get("meta", {}).get(
        "reasons", [])]  # fmt: skip
    assert any(f"by {name}: " in r for r in said) and not any("by annotator " in r for r in said)

    # annotations untouched, the detector saved with the version
    assert _annotations(client, project) == before
    assert Workspace(tmp_path).box_detector(project, "ls-cleanlab").is_file()

    # /predict for new tasks: the saved detector's boxes
    task = client.fetch_tasks(project).tasks[-1]
    with MediaFetcher(local_files_root=str(studio.local_files_root)) as fetcher:
        made = predict_boxes(Workspace(tmp_path), project, [task], schema, "ls-cleanlab",
                             fetcher=fetcher)  # fmt: skip
    assert made[0]["model_version"] == "ls-cleanlab" and made[0]["result"]

    # a refresh after a new annotation pushes only what changed
    save_audit_state(Workspace(tmp_path), result)
    aerial = box_project["aerial"]
    mine = aerial.truth_image == N - 1
    result_json = rectangle_results(aerial.truth_boxes[mine], aerial.truth_labels[mine],
                                    size=aerial.size)  # fmt: skip
    admin.call("POST", f"/api/tasks/{ids[-1]}/annotations/",
               json={"result": result_json, "completed_by": satisficer})  # fmt: skip
    done = refresh_project(client, project, workspace=Workspace(tmp_path), options=options)
    assert done.audit is not None and done.audit.schema.kind == "boxes"
    assert 1 <= done.pushed < N
    # pushed into the same run: still one prediction of ours per task, the tabs follow
    assert done.audit.run == result.run and done.stale_versions == ()
    after = [p for p in admin.predictions(project) if p["model_version"] == result.model_version]
    assert sorted(p["task"] for p in after) == sorted(ids)
    for queue in BOX_QUEUES:
        shown = admin.view_tasks(project, result.views[queue.title])
        assert sorted(t["id"] for t in shown) == sorted(done.audit.queues[queue.key].tolist())
    assert bool(done.audit.labelled[list(done.audit.task_ids).index(ids[-1])])
    assert len(_annotations(client, project)) == len(before) + 1

    # a reviewer's boxes are the image's truth: the next refresh takes it out of every tab
    lead = admin.user("lead.boxes@example.com")
    reviewed = int(done.audit.queues["missing"][0])
    row = ids.index(reviewed)
    mine = aerial.truth_image == row
    truth = rectangle_results(aerial.truth_boxes[mine], aerial.truth_labels[mine],
                              size=aerial.size)  # fmt: skip
    admin.call("POST", f"/api/tasks/{reviewed}/annotations/",
               json={"result": truth, "completed_by": lead})  # fmt: skip
    gold = replace(options, reviewers=("lead.boxes@example.com",))
    again = refresh_project(client, project, workspace=Workspace(tmp_path), options=gold)
    assert again.audit is not None and again.audit.gold is not None
    for queue in BOX_QUEUES:
        shown = [t["id"] for t in admin.view_tasks(project, result.views[queue.title])]
        assert reviewed not in shown and reviewed not in again.audit.queues[queue.key].tolist()
    counted = again.audit.gold_accuracy.set_index("annotator")
    seen = counted[counted["n_gold"] > 0]
    assert lead not in counted.index and len(seen) and (seen["n_gold"] == 1).all()
    assert (seen["gold_boxes"] == len(truth)).all()

    # above the refresh's partial limit (here: any change) it publishes a new run instead; the
    # project's version and the tabs follow it, the earlier run is left for the cleanup
    other = next(t for t in ids if t != reviewed)
    admin.call("POST", f"/api/tasks/{other}/annotations/",
               json={"result": truth, "completed_by": satisficer})  # fmt: skip
    burst = refresh_project(client, project, workspace=Workspace(tmp_path), options=gold,
                            partial_limit=0)  # fmt: skip
    assert burst.audit is not None and burst.audit.run not in (None, result.run)
    assert burst.stale_versions == (result.model_version,)
    version, predicted, shown = admin.current_run(project, result.views)
    assert version == burst.audit.model_version and predicted == sorted(ids)
    assert shown == {q.title: sorted(burst.audit.queues[q.key].tolist()) for q in BOX_QUEUES}

    # a new task whose image does not load is left out of a refresh and counted, by its reason
    # (a refresh counted nothing left out, not even the images the full audit could not load)
    [lost] = admin.import_tasks(project, [{"image": "/data/local-files/?d=boxes/gone.png"}])
    later = refresh_project(client, project, workspace=Workspace(tmp_path), options=gold)
    assert later.audit is not None and lost not in later.audit.task_ids.tolist()
    assert later.audit.skip_reasons == {lost: "media_not_found"}
    assert "gone.png" in later.audit.skipped[lost]
    admin.call("DELETE", f"/api/tasks/{lost}/")  # the project stays the module's


def test_another_model_versions_boxes_as_evidence(
    studio: Studio, client: StudioClient, box_project: dict[str, Any], tmp_path: Path
) -> None:
    options = AuditOptions(
        from_model_version="yolo", dry_run=True, local_files_root=str(studio.local_files_root)
    )
    result = run_project_audit(client, box_project["project"], options=options, data_dir=tmp_path)
    assert result.source == "predictions:yolo" and result.push is None
    assert len(result.task_ids) == 20 and len(result.skipped) == N - 20
    assert result.trained is None
    assert "no prediction of model version 'yolo'" in json.dumps(result.skipped)

"""The bounding-box task kind offline: task JSON in, tabs, suggested boxes and tables out; the
detector's boxes from the in-project detector, another model version or a COCO-style file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from label_studio_sdk.label_interface import LabelInterface

from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline import KINDS, AuditOptions, FoldCheckpoints, audit_tasks, task_kind
from ls_cleanlab.pipeline.box_queues import BOX_QUEUES
from ls_cleanlab.pipeline.box_refresh import box_signature
from ls_cleanlab.studio import check_box_prediction, parse_label_config
from ls_cleanlab.testing.aerial_boxes import (
    CLASSES,
    label_config,
    make_aerial_scenes,
    rectangle_results,
    task_json,
)
from ls_cleanlab.testing.scenes import annotate_scenes

N, LABELLED = 40, 34
USERS = {"satisficer": 11, "sloppy": 12, "careful": 13}


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    rng = np.random.default_rng(4)
    aerial = make_aerial_scenes(N, rng=rng)
    seen = np.zeros((N, 3), dtype=bool)
    seen[:LABELLED] = True
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=N, n_classes=4,
        rng=rng, seen=seen, image_size=aerial.size,
    )  # fmt: skip
    tasks = task_json(aerial, scenes, USERS)
    return {"aerial": aerial, "tasks": tasks, "schema": parse_label_config(label_config())}


@pytest.fixture(scope="module")
def audited(project: dict[str, Any]) -> Any:
    tasks = project["tasks"]
    before = copy.deepcopy(tasks)
    result = audit_tasks(tasks, project["schema"], options=AuditOptions(n_folds=3),
                         fetcher=MediaFetcher())  # fmt: skip
    assert tasks == before  # the task JSON is read, never changed
    return result


def test_box_configs_are_audited_by_the_boxes_kind(project: dict[str, Any]) -> None:
    assert task_kind(project["schema"]) is KINDS["boxes"]
    assert [q.title for q in KINDS["boxes"].queues] == [
        "Likely missing boxes", "Likely wrong boxes", "Annotators disagree"
    ]  # fmt: skip


def test_the_in_project_detector_fills_the_tabs(audited: Any) -> None:
    assert audited.source.startswith("detector:") and audited.trained is not None
    assert len(audited.task_ids) == N and int(audited.labelled.sum()) == LABELLED
    for queue in BOX_QUEUES:
        assert len(audited.queues[queue.key]) > 0, queue.title
        assert set(audited.queues[queue.key].tolist()) <= set(
            audited.task_ids[audited.labelled].tolist()
        )
    table = audited.audit.annotators.set_index("annotator")
    assert table["satisficer"].tolist() == [True, False, False]  # ids 11, 12, 13
    assert table.loc[11, "recall"] < 0.6 and table.loc[13, "recall"] > 0.9
    assert table.loc[12, "localization"] < table.loc[13, "localization"]
    assert ((audited.audit.priority >= 0) & (audited.audit.priority <= 1)).all()


def test_every_prediction_is_valid_and_carries_its_tabs(audited: Any) -> None:
    schema = audited.schema
    interface = LabelInterface(label_config())
    markers = {q.key: q.marker for q in BOX_QUEUES}
    member = {int(t): {k for k, ids in audited.queues.items() if t in set(ids.tolist())}
              for t in audited.task_ids}  # fmt: skip
    for row, prediction in enumerate(audited.predictions):
        assert check_box_prediction(schema, prediction) == []
        assert interface.validate_prediction(prediction, True) == []
        task = prediction["task"]
        carried = prediction["result"][0].get("meta", {}).get("queues", []) if prediction[
            "result"] else []  # fmt: skip
        assert set(carried) == {markers[k] for k in member[task]}
        if audited.labelled[row]:
            assert prediction["score"] == pytest.approx(audited.audit.priority[row], abs=1e-9)
    unlabelled = [p for p, ok in zip(audited.predictions, audited.labelled, strict=True) if not ok]
    assert sum(bool(p["result"]) for p in unlabelled) >= len(unlabelled) - 1  # pre-annotations


def test_issues_name_classes_annotators_and_boxes(audited: Any) -> None:
    issues = audited.audit.issues
    assert set(issues["kind"]) <= {"missing", "swapped", "badly_placed", "spurious",
                                   "disagreement"}  # fmt: skip
    assert set(issues["class"]) <= set(CLASSES)
    missing = issues[issues["kind"] == "missing"]
    assert (missing["annotator"] == 11).mean() > 0.5  # mostly the satisficer's
    assert ((issues["score"] >= 0) & (issues["score"] <= 1)).all()
    assert not issues["reason"].str.contains(r"class \d").any()  # classes by name
    drawn = issues[issues["kind"].isin(["swapped", "badly_placed", "spurious"])]
    assert (drawn["box"] >= 0).all() and (missing["box"] == -1).all()


def test_without_media_the_annotators_alone_are_audited(project: dict[str, Any]) -> None:
    result = audit_tasks(project["tasks"], project["schema"], options=AuditOptions())
    assert result.source == "annotators" and result.trained is None
    assert len(result.task_ids) == N and len(result.queues["missing"]) > 0
    assert result.audit.detections is None


def _with_version(tasks: list[dict], aerial: Any, upto: int) -> list[dict]:
    out = copy.deepcopy(tasks)
    for i in range(upto):
        mine = aerial.truth_image == i
        result = rectangle_results(aerial.truth_boxes[mine], aerial.truth_labels[mine],
                                   size=aerial.size)  # fmt: skip
        out[i]["predictions"] = [{"model_version": "yolo", "score": 0.8, "result": result}]
    return out


def test_another_model_versions_boxes_are_the_evidence(project: dict[str, Any]) -> None:
    tasks = _with_version(project["tasks"], project["aerial"], 20)
    result = audit_tasks(tasks, project["schema"],
                         options=AuditOptions(from_model_version="yolo"))  # fmt: skip
    assert result.source == "predictions:yolo" and len(result.task_ids) == 20
    assert set(result.skipped) == {t["id"] for t in tasks[20:]}
    detections = result.audit.detections
    assert detections is not None and all(a.shape[1] == 5 for per in detections for a in per)
    assert max(float(a[:, 4].max(initial=0)) for per in detections for a in per) == 0.8
    with pytest.raises(InvalidOptionError, match="no task has a prediction of model version"):
        audit_tasks(tasks, project["schema"], options=AuditOptions(from_model_version="none"))


def _coco(project: dict[str, Any], path: Path, **change: Any) -> Path:
    aerial = project["aerial"]
    annotations = [
        {"image_id": project["tasks"][int(i)]["id"], "category_id": int(k) + 1, "score": 0.9,
         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]}
        for i, b, k in zip(aerial.truth_image, aerial.truth_boxes, aerial.truth_labels,
                           strict=True)
    ]  # fmt: skip
    body = {
        "images": [{"id": t["id"], "width": 320, "height": 240} for t in project["tasks"]],
        "categories": [{"id": k + 1, "name": name} for k, name in enumerate(CLASSES)],
        "annotations": annotations,
        **change,
    }
    path.write_text(json.dumps(body))
    return path


def test_a_coco_predictions_file_is_the_evidence(project: dict[str, Any], tmp_path: Path) -> None:
    path = _coco(project, tmp_path / "detections.json")
    result = audit_tasks(project["tasks"], project["schema"],
                         options=AuditOptions(predictions_file=path))  # fmt: skip
    assert result.source == "file:detections.json" and len(result.task_ids) == N
    # with the truth as the detector, every satisficer's miss is found
    missing = result.audit.issues[result.audit.issues["kind"] == "missing"]
    assert len(missing) > 0 and (missing["score"] > 0.9).mean() > 0.8


@pytest.mark.parametrize("key", ["file_name", "image_id"])
def test_a_list_of_detections_names_its_images_by_file(
    project: dict[str, Any], tmp_path: Path, key: str
) -> None:
    """README: a list of detections (no COCO 'images') matches tasks by file name. Before, only
    an 'images' entry's file name was read, so such a list matched nothing, and its error
    counted its images as one ("unmatched images: 1")."""
    tasks = copy.deepcopy(project["tasks"])
    for i, task in enumerate(tasks):
        task["data"]["image"] = f"/data/upload/7/0a1b2c3d-scene_{i}.png"
    aerial = project["aerial"]
    detections = [
        {key: f"scene_{int(i)}.png", "category_name": CLASSES[int(k)], "score": 0.9,
         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]}
        for i, b, k in zip(aerial.truth_image, aerial.truth_boxes, aerial.truth_labels,
                           strict=True)
    ]  # fmt: skip
    path = tmp_path / "detections.json"
    path.write_text(json.dumps(detections))
    result = audit_tasks(tasks, project["schema"], options=AuditOptions(predictions_file=path))
    assert result.source == "file:detections.json"
    found = result.audit.detections
    sized = int((aerial.truth_image < LABELLED).sum())  # an unlabelled task's size is unknown
    assert found is not None and sum(len(a) for per in found for a in per) == sized
    path.write_text(json.dumps([{**d, key: f"other_{d[key]}"} for d in detections]))
    with pytest.raises(InvalidOptionError, match=f"images that match no task: {N}, e.g."):
        audit_tasks(tasks, project["schema"], options=AuditOptions(predictions_file=path))


@pytest.mark.parametrize(
    "change, match",
    [
        (
            {"categories": [{"id": k, "name": f"boat{k}"} for k in range(1, 5)]},
            "no detection of a known class",
        ),
        ({"annotations": [{"image_id": 1, "bbox": [1, 2], "category_id": 1}]}, "needs 'bbox'"),
        ({"categories": []}, "names no class"),
        (
            {
                "annotations": [
                    {"image_id": 999999, "category_id": 1, "score": 0.9, "bbox": [1, 2, 3, 4]}
                ]
            },
            r"images that match no task: 1, e\.g\. \['999999'\]",
        ),
    ],
    ids=["unknown-category", "bad-bbox", "no-categories", "unmatched-images"],
)
def test_bad_coco_files_are_refused(
    project: dict[str, Any], tmp_path: Path, change: dict, match: str
) -> None:
    path = _coco(project, tmp_path / "detections.json", **change)
    with pytest.raises(InvalidOptionError, match=match):
        audit_tasks(project["tasks"], project["schema"],
                    options=AuditOptions(predictions_file=path))  # fmt: skip


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_coco_file_with_a_byte_order_mark_is_read(
    project: dict[str, Any], tmp_path: Path, encoding: str
) -> None:
    path = _coco(project, tmp_path / "detections.json", categories=[])
    path.write_text(path.read_text(), encoding=encoding)
    with pytest.raises(InvalidOptionError, match="names no class"):  # read, then judged
        audit_tasks(project["tasks"], project["schema"],
                    options=AuditOptions(predictions_file=path))  # fmt: skip


@pytest.mark.parametrize(
    "options, match",
    [
        (AuditOptions(pred_probs=np.zeros((N, 4))), "pred_probs gives class probabilities"),
        (AuditOptions(from_model_version="a", predictions_file="b.json"), "not both"),
        (AuditOptions(rules={"implies": {"car": ["tree"]}}), "apply to classification"),
        (AuditOptions(predictions_file="/no/such/file.json"), "does not exist"),
    ],
    ids=["pred-probs", "two-sources", "rules", "missing-file"],
)
def test_options_that_do_not_fit_boxes_are_refused(
    project: dict[str, Any], options: AuditOptions, match: str
) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        audit_tasks(project["tasks"], project["schema"], options=options)


def test_a_task_whose_only_box_is_spurious_still_carries_its_tab() -> None:
    schema = parse_label_config(label_config())
    agreed = rectangle_results(np.array([[10, 10, 40, 40]]), [1], size=(320, 240))
    tasks = [
        {"id": i + 1, "data": {"image": f"/data/upload/1/{i}.png"}, "annotations": [
            {"id": 10 * i + a, "completed_by": a, "result": agreed} for a in (1, 2, 3)]}
        for i in range(30)
    ]  # fmt: skip
    lone = rectangle_results(np.array([[200, 100, 260, 160]]), [2], size=(320, 240))
    tasks.append({"id": 99, "data": {"image": "/data/upload/1/x.png"}, "annotations": [
        {"id": 991, "completed_by": 1, "result": lone},
        {"id": 992, "completed_by": 2, "result": []},
        {"id": 993, "completed_by": 3, "result": []}]})  # fmt: skip
    result = audit_tasks(tasks, schema, options=AuditOptions())
    assert 99 in result.queues["wrong"].tolist()
    prediction = result.predictions[-1]
    assert prediction["task"] == 99 and len(prediction["result"]) == 1
    meta = prediction["result"][0]["meta"]
    assert meta["suggestion"] == "remove" and "lscl:box-wrong" in meta["queues"]
    assert prediction["result"][0]["score"] < 0.5
    assert check_box_prediction(schema, prediction) == []


def test_no_tasks_is_an_error(project: dict[str, Any]) -> None:
    with pytest.raises(InvalidTasksError, match="no tasks"):
        audit_tasks([], project["schema"])


def test_signatures_change_with_boxes_scores_and_tabs(audited: Any) -> None:
    first = audited.predictions[0]
    same = copy.deepcopy(first)
    assert box_signature(same) == box_signature(first)
    same["score"] = round(first["score"] - 0.1, 4) if first["score"] >= 0.1 else 0.5
    assert box_signature(same) != box_signature(first)


class Stop(Exception):
    """The audit interrupted on purpose."""


def test_an_interrupted_box_audit_resumes_from_its_detector_folds(
    project: dict[str, Any], audited: Any, tmp_path: Path
) -> None:
    def interrupt(stage: str, done: int, total: int) -> None:
        if stage == "model" and done == 2:
            raise Stop

    def audit(folds: FoldCheckpoints, progress: Any = None) -> Any:
        try:
            return audit_tasks(
                project["tasks"], project["schema"], options=AuditOptions(n_folds=3),
                fetcher=MediaFetcher(), executor=folds, progress=progress,
            )  # fmt: skip
        finally:
            folds.shutdown()

    stopped = FoldCheckpoints(tmp_path)
    with pytest.raises(Stop):
        audit(stopped, interrupt)
    assert (stopped.computed, stopped.reused, stopped.stored()) == (2, 0, 2)
    again = FoldCheckpoints(tmp_path)
    resumed = audit(again)
    assert (again.computed, again.reused, again.stored()) == (1, 2, 3)
    assert resumed.source == audited.source
    np.testing.assert_array_equal(resumed.audit.priority, audited.audit.priority)
    for queue in BOX_QUEUES:
        assert resumed.queues[queue.key].tolist() == audited.queues[queue.key].tolist()

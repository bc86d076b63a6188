"""The offline pipeline (``audit_tasks``): task JSON with images and annotations in, review queues
and predictions out; failures in one task's media are skipped, bad options are refused."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.audit import RulesError
from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError, NotEnoughLabelsError
from ls_cleanlab.features import image_features
from ls_cleanlab.features.pretrained.common import default_image_embedder
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline import QUEUES, AuditOptions, audit_tasks, queue_view
from ls_cleanlab.studio import check_prediction, parse_label_config
from ls_cleanlab.testing.synthetic_images import CLASSES, annotation, make_images
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as CONFIG


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """150 image tasks: 120 labelled by three annotators (annotator 3 keeps only one label of
    tasks with several: search satisficing), 30 unlabelled, one broken image."""
    root = tmp_path_factory.mktemp("media")
    images, truth = make_images(150, seed=21)
    rng = np.random.default_rng(4)
    tasks = []
    satisficed = set()
    for i, image in enumerate(images):
        image.save(root / f"{i}.png")
        task: dict[str, Any] = {"id": 1000 + i, "data": {"image": f"/data/local-files/?d={i}.png"}}
        task["annotations"] = []
        if i < 120:
            for user in (1, 2, 3):
                given = truth[i].copy()
                if user == 3 and given.sum() >= 2:
                    keep = rng.choice(np.flatnonzero(given))
                    given[:] = 0
                    given[keep] = 1
                    satisficed.add(1000 + i)
                task["annotations"].append(annotation(user, given))
        tasks.append(task)
    (root / "149.png").write_bytes(b"broken")
    return {"root": root, "tasks": tasks, "truth": truth, "satisficed": satisficed}


def test_audit_tasks_builds_queues_and_predictions(project: dict[str, Any]) -> None:
    schema = parse_label_config(CONFIG)
    stages: list[str] = []
    result = audit_tasks(
        project["tasks"],
        schema,
        fetcher=MediaFetcher(local_files_root=project["root"]),
        progress=lambda stage, done, total: stages.append(stage),
    )
    assert result.skipped.keys() == {1149} and "not an image" in result.skipped[1149]
    assert len(result.task_ids) == 149 and 1149 not in result.task_ids
    assert result.labelled.sum() == 120
    assert [s for s in dict.fromkeys(stages)] == ["features", "model", "audit"]
    assert result.source.startswith(f"model:{default_image_embedder()}:")  # the pretrained one

    # one valid prediction per audited task, carrying its queues
    assert len(result.predictions) == 149
    assert all(check_prediction(schema, p) == [] for p in result.predictions)
    by_task = {p["task"]: p for p in result.predictions}
    for queue in QUEUES:
        for task_id in result.queues[queue.key]:
            assert queue.marker in by_task[int(task_id)]["result"][0]["meta"]["queues"]
    # per-choice scores: every class's estimated probability of presence
    meta = by_task[int(result.task_ids[0])]["result"][0]["meta"]
    assert list(meta["scores"]) == list(CLASSES)
    np.testing.assert_allclose(list(meta["scores"].values()), result.audit.present[0], atol=1e-4)

    # the annotators disagree only where annotator 3 satisficed: those tasks top the queue
    disagree = set(result.queues["disagree"].tolist())
    assert disagree and disagree <= project["satisficed"]
    # unlabelled tasks are in the uncertain queue, most uncertain first, with pre-annotations
    uncertain = result.queues["uncertain"]
    assert sorted(uncertain.tolist()) == list(range(1120, 1149))
    scores = [by_task[int(t)]["score"] for t in uncertain]
    assert scores == sorted(scores, reverse=True)
    # the trained model predicts the unlabelled tasks well
    truth = project["truth"][120:149]
    chosen = np.array(
        [[c in by_task[1000 + i]["result"][0]["value"]["choices"] for c in CLASSES]
         for i in range(120, 149)]
    )  # fmt: skip
    assert (chosen == truth.astype(bool)).mean() > 0.9
    # the trained model keeps its encoder: new tasks encoded with it get the same predictions
    assert result.trained is not None
    fresh = image_features(
        [t["data"]["image"] for t in project["tasks"][120:149]],
        MediaFetcher(local_files_root=project["root"]),
        encoder=result.trained.encoder,
    )
    np.testing.assert_allclose(
        result.trained.predict(fresh.features).probs, result.pred_probs[120:149], atol=1e-6
    )
    # the annotator who satisficed is the one flagged
    table = result.audit.annotators.set_index("annotator")
    assert table.loc[3, "satisficing"] and not table.loc[1, "satisficing"]


def test_queue_views_filter_on_the_marker() -> None:
    for queue in QUEUES:
        view = queue_view(queue)
        assert view["filters"]["items"][0]["value"] == queue.marker
        assert view["ordering"] == ["-tasks:predictions_score"]
    assert len({q.marker for q in QUEUES}) == len(QUEUES)
    assert queue_view(QUEUES[0])["hidden_columns"] is None  # without the project's columns


def test_queue_views_hide_all_but_the_useful_columns() -> None:
    """Only columns Label Studio listed are named (an unknown key would break the tab); task
    data other than the labelled object's is hidden too."""
    columns = [
        {"id": "image", "parent": "data", "target": "tasks"},
        {"id": "source", "parent": "data", "target": "tasks"},
        {"id": "data", "target": "tasks", "children": ["image", "source"]},
        *({"id": c, "target": "tasks"} for c in ("id", "inner_id", "predictions_score",
          "predictions_results", "predictions_model_versions", "annotators", "updated_by",
          "total_annotations")),
    ]  # fmt: skip
    view = queue_view(QUEUES[0], columns, parse_label_config(CONFIG))
    assert view["hidden_columns"] == {
        "explore": ["tasks:data.source", "tasks:inner_id", "tasks:predictions_model_versions",
                    "tasks:updated_by"],
        "labeling": ["tasks:data.image", "tasks:data.source", "tasks:inner_id",
                     "tasks:predictions_score",
                     "tasks:predictions_model_versions", "tasks:annotators", "tasks:updated_by",
                     "tasks:total_annotations"],
    }  # fmt: skip


def test_probabilities_from_existing_predictions(project: dict[str, Any]) -> None:
    schema = parse_label_config(CONFIG)
    tasks = []
    for task, truth in zip(project["tasks"][:120], project["truth"][:120], strict=True):
        chosen = [CLASSES[k] for k in np.flatnonzero(truth)]
        results = [
            {"from_name": "objects", "to_name": "image", "type": "choices",
             "value": {"choices": [c]}, "score": 0.9} for c in chosen
        ]  # fmt: skip
        only_third = [a for a in task["annotations"] if a["completed_by"] == 3]
        prediction = {"model_version": "theirs", "result": results}
        tasks.append({**task, "annotations": only_third, "predictions": [prediction]})
    result = audit_tasks(tasks, schema, options=AuditOptions(from_model_version="theirs"))
    assert result.source == "predictions:theirs" and result.trained is None
    # a good model and only the satisficing annotator: every task where they dropped a label is
    # in the missing-labels queue, and nothing else is
    assert set(result.queues["missing"].tolist()) == project["satisficed"]


def test_probabilities_from_an_array(project: dict[str, Any]) -> None:
    schema = parse_label_config(CONFIG)
    tasks = project["tasks"][:120]
    probs = np.clip(project["truth"][:120] * 0.9 + 0.05, 0, 1)
    result = audit_tasks(tasks, schema, options=AuditOptions(pred_probs=probs))
    assert result.source == "pred_probs" and len(result.task_ids) == 120
    with pytest.raises(InvalidOptionError, match=r"shape \(120, 5\)"):
        audit_tasks(tasks, schema, options=AuditOptions(pred_probs=probs[:, :3]))


def test_too_few_labelled_tasks_or_none_at_all(project: dict[str, Any], tmp_path: Path) -> None:
    schema = parse_label_config(CONFIG)
    fetcher = MediaFetcher(local_files_root=project["root"])
    with pytest.raises(NotEnoughLabelsError, match="only 5 of the 25 tasks are labelled"):
        audit_tasks(project["tasks"][115:140], schema, fetcher=fetcher)
    with pytest.raises(InvalidTasksError, match="no tasks to audit"):
        audit_tasks([], schema, fetcher=fetcher)
    with pytest.raises(InvalidOptionError, match="need a MediaFetcher"):
        audit_tasks(project["tasks"], schema)


def test_too_few_labelled_tasks_says_what_was_left_out(project: dict[str, Any]) -> None:
    # the config changed after annotating: every label is one it no longer knows
    tasks = copy.deepcopy(project["tasks"][:20])
    for task in tasks:
        for given in task["annotations"]:
            for result in given["result"]:
                result["value"]["choices"] = ["unicorn"]
    tasks[0]["annotations"][0]["was_cancelled"] = True
    n = sum(len(t["annotations"]) for t in tasks) - 1
    fetcher = MediaFetcher(local_files_root=project["root"])
    left = (
        f"Left out: {n} annotations (hold choices the label config does not know, 'unicorn' "
        f"x{n}); 1 annotations (skipped by the annotator (was_cancelled))."
    )
    with pytest.raises(NotEnoughLabelsError, match=re.escape(left)) as refused:
        audit_tasks(tasks, parse_label_config(CONFIG), fetcher=fetcher)
    # the annotations left out are the cause: used, they would be enough
    assert refused.value.causes == ("unknown_choice", "cancelled_annotation")
    assert "Label more tasks" not in str(refused.value)
    few = copy.deepcopy(project["tasks"][:6])
    for given in few[0]["annotations"]:
        given["result"][0]["value"]["choices"] = ["unicorn"]
    with pytest.raises(NotEnoughLabelsError, match="only 5 of the 6 tasks") as refused:
        audit_tasks(few, parse_label_config(CONFIG), fetcher=fetcher)
    assert refused.value.causes == ("labels", "unknown_choice")  # 5 + 3 left out < 10


def test_bad_rules_and_options_are_refused_before_any_work(project: dict[str, Any]) -> None:
    schema = parse_label_config(CONFIG)
    bad = AuditOptions(rules={"excludes": [[CLASSES[0], "unicorn"]]})
    # no fetcher: feature extraction would fail; the rules are checked first
    with pytest.raises(RulesError, match="unknown class 'unicorn'"):
        audit_tasks(project["tasks"], schema, options=bad)
    with pytest.raises(InvalidOptionError, match=r"threshold must be a number in \(0, 1\)"):
        AuditOptions(threshold=1.5)
    with pytest.raises(InvalidOptionError, match="n_folds must be an integer >= 2"):
        AuditOptions(n_folds=1)
    with pytest.raises(InvalidOptionError, match="model_version must be 1-100 letters"):
        AuditOptions(model_version="my model")
    with pytest.raises(InvalidOptionError, match=r"unknown image embedder 'clip'; choose one of"):
        AuditOptions(embedder="clip")

"""Nothing is dropped without a count: one probe per reason an audit leaves input out, each
seen in ``--json`` (``skipped_reasons``, ``unknown_choices``, a box export's ``unknown_labels``),
the summary for people and the report. Four offline audits hold every reason (one bad task,
annotation or box each); a pushed prediction Label Studio did not create is a push report's,
checked on a result. Job summaries carry the same counts
(tests/reliability/test_backend_studio.py)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.cli import output
from ls_cleanlab.pipeline import REASONS, AuditOptions, audit_tasks, skip_report
from ls_cleanlab.pipeline.box_detector import MIN_IMAGES
from ls_cleanlab.studio import PushReport, parse_label_config
from ls_cleanlab.testing.admin import SINGLE
from ls_cleanlab.testing.aerial_boxes import label_config, make_aerial_scenes, task_json
from ls_cleanlab.testing.scenes import annotate_scenes
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG, annotation, make_images
from tests.reliability.helpers import png_1bit, run_cli, serving

GOOD = 24  # labelled tasks with good media: enough for a two-fold model


def choices(user: int | None, chosen: list[str], **extra: Any) -> dict[str, Any]:
    result = [{"from_name": "objects", "to_name": "image", "type": "choices",
               "value": {"choices": chosen}}]  # fmt: skip
    return {"completed_by": user, "result": result, **extra}


def audited(tmp: Path, tasks: list[dict[str, Any]], *options: Any) -> dict[str, Any]:
    """The --json summary, the text summary and the report of an offline audit of ``tasks``."""
    export = tmp / "export.json"
    export.write_text(json.dumps(tasks))
    code, stdout, stderr = run_cli("audit", export, "--out", tmp / "out", "--json", *options)
    assert code == 0, stderr
    summary = json.loads(stdout)
    text = io.StringIO()
    output.print_audit(summary, text)
    report = (tmp / "out" / "report.html").read_text()
    return {"json": summary, "text": text.getvalue(), "report": report}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Image tasks: good ones, one task per media failure, and odd annotations."""
    tmp = tmp_path_factory.mktemp("skips-images")
    media = tmp / "media"
    media.mkdir()
    made, truth = make_images(GOOD, seed=5, side=48)
    tasks: list[dict[str, Any]] = []
    for i, image in enumerate(made):
        image.save(media / f"{i}.png")
        tasks.append({"id": 1000 + i, "data": {"image": f"/data/local-files/?d={i}.png"},
                      "annotations": [annotation(1, truth[i])]})  # fmt: skip
    (media / "broken.png").write_bytes(b"not an image at all")
    (media / "bomb.png").write_bytes(png_1bit(20_000, 20_000))
    with serving(lambda path, headers: (401, b'{"detail": "no"}', {})) as (studio, _):
        closed = "http://127.0.0.1:1/x.png"  # nothing listens on port 1
        bad = {
            2000: "/data/local-files/?d=broken.png",
            2001: "/data/local-files/?d=missing.png",
            2002: "http://169.254.169.254/latest/meta-data.png",
            2003: "not a reference at all",
            2004: "/data/local-files/?d=bomb.png",
            2005: closed,
            2006: "/data/upload/9/private.png",
            2007: "",
        }
        tasks += [{"id": i, "data": {"image": ref}, "annotations": []} for i, ref in bad.items()]
        tasks[0]["annotations"].append(choices(2, ["zebra"]))
        tasks[1]["annotations"].append(choices(2, ["sun", "zebra"]))
        tasks[2]["annotations"].append(choices(3, ["sun"], was_cancelled=True))
        tasks[3]["annotations"].insert(0, choices(1, ["box"], updated_at="2020-01-01T00:00:00Z"))
        tasks[3]["annotations"][1]["updated_at"] = "2021-01-01T00:00:00Z"
        tasks[4]["drafts"] = [{"result": [], "user": 4}]
        tasks[5]["annotations"].append(choices(None, ["sun"]))  # its user was deleted
        config = tmp / "config.xml"
        config.write_text(LABEL_CONFIG)
        return audited(
            tmp, tasks, "--label-config", config, "--local-files-root", media, "--url", studio,
            "--api-key", "k", "--allowed-host", "127.0.0.1", "--folds", 2,
        )  # fmt: skip


@pytest.fixture(scope="module")
def predictions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Tasks whose probabilities come from another model's predictions; two lack a usable one."""
    tmp = tmp_path_factory.mktemp("skips-predictions")
    tasks = []
    for i in range(12):
        result = [{"from_name": "objects", "to_name": "image", "type": "choices",
                   "value": {"choices": ["sun"]}}]  # fmt: skip
        tasks.append({"id": 100 + i, "data": {"image": f"/x/{i}.png"},
                      "annotations": [choices(1, ["sun"] if i % 2 else ["box"])],
                      "predictions": [{"model_version": "theirs", "result": result}]})  # fmt: skip
    tasks.append({"id": 3000, "data": {"image": "/x/a.png"}, "annotations": [],
                  "predictions": []})  # fmt: skip
    other_tag = [{"from_name": "other", "to_name": "image", "type": "choices",
                  "value": {"choices": ["sun"]}}]  # fmt: skip
    tasks.append({"id": 3001, "data": {"image": "/x/b.png"}, "annotations": [],
                  "predictions": [{"model_version": "theirs", "result": other_tag}]})  # fmt: skip
    config = tmp / "config.xml"
    config.write_text(LABEL_CONFIG)
    return audited(tmp, tasks, "--label-config", config, "--from-model-version", "theirs")


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Single-label texts with embeddings in a data field; one has none, one annotation holds
    two choices."""
    tmp = tmp_path_factory.mktemp("skips-single")
    rng = np.random.default_rng(2)
    labels = ["positive", "negative", "neutral"]
    tasks = []
    for i in range(18):
        given = labels[i % 3]
        vector = (rng.normal(size=4) + 3 * np.eye(4)[i % 3]).round(3).tolist()
        result = [{"from_name": "sentiment", "to_name": "review", "type": "choices",
                   "value": {"choices": [given]}}]  # fmt: skip
        tasks.append({"id": 500 + i, "data": {"review": f"text {i}", "emb": vector},
                      "annotations": [{"completed_by": 1, "result": result}]})  # fmt: skip
    tasks.append({"id": 4000, "data": {"review": "no vector"}, "annotations": []})
    two = [{"from_name": "sentiment", "to_name": "review", "type": "choices",
            "value": {"choices": ["positive", "negative"]}}]  # fmt: skip
    tasks[0]["annotations"].append({"completed_by": 2, "result": two})
    config = tmp / "config.xml"
    config.write_text(SINGLE)
    return audited(tmp, tasks, "--label-config", config, "--embedding-field", "emb",
                   "--folds", 2)  # fmt: skip


def rectangle(value: dict[str, Any], **item: Any) -> dict[str, Any]:
    base = {"x": 10.0, "y": 10.0, "width": 20.0, "height": 20.0, "rotation": 0,
            "rectanglelabels": ["car"]}  # fmt: skip
    return {"from_name": "label", "to_name": "image", "type": "rectanglelabels",
            "original_width": 320, "original_height": 240, "value": {**base, **value},
            **item}  # fmt: skip


@pytest.fixture(scope="module")
def boxes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A box export audited from its annotators alone; one bad box of each kind, each beside a
    good one."""
    tmp = tmp_path_factory.mktemp("skips-boxes")
    bad = [
        rectangle({"x": "left"}),
        rectangle({"rectanglelabels": []}),
        rectangle({"rectanglelabels": ["car", "tree"]}),
        rectangle({"rectanglelabels": ["submarine"]}),
        rectangle({"width": 0.0}),
        rectangle({"x": 120.0}),
        rectangle({"rotation": 30}),
        {**rectangle({"rotation": 90}), "original_width": None},
    ]
    tasks = []
    for i in range(10):
        results = [rectangle({"x": 5.0 + i, "y": 50.0})] + ([bad[i]] if i < len(bad) else [])
        tasks.append({"id": 700 + i, "data": {"image": f"/x/{i}.png"},
                      "annotations": [{"completed_by": 1, "result": results},
                                      {"completed_by": 2, "result": results[:1]}]})  # fmt: skip
    config = tmp / "config.xml"
    config.write_text(label_config())
    return audited(tmp, tasks, "--label-config", config)


#: reason -> (fixture, count, task ids, a piece of the example)
EXPECTED: dict[str, tuple[str, int, list[int], str]] = {
    "media_bad_image": ("images", 1, [2000], "not an image"),
    "media_not_found": ("images", 1, [2001], "no file"),
    "media_refused": ("images", 1, [2002], "not allowed"),
    "media_bad_reference": ("images", 1, [2003], "not a URL"),
    "media_too_large": ("images", 1, [2004], "decompression bomb"),
    "media_unreachable": ("images", 1, [2005], "connect"),
    "media_auth": ("images", 1, [2006], "HTTP 401"),
    "no_media": ("images", 1, [2007], "no image reference"),
    "unknown_choice": ("images", 2, [], "'zebra' x2"),
    "cancelled_annotation": ("images", 1, [], ""),
    "superseded_annotation": ("images", 1, [], ""),
    "draft": ("images", 1, [], ""),
    "deleted_annotator": ("images", 1, [], ""),
    "no_prediction": ("predictions", 1, [3000], "no prediction of model_version 'theirs'"),
    "bad_prediction": ("predictions", 1, [3001], "no result for 'objects'"),
    "no_embedding": ("single", 1, [4000], "data['emb'] is missing"),
    "no_choice": ("single", 1, [], ""),
    "box_malformed": ("boxes", 1, [], ""),
    "box_no_class": ("boxes", 1, [], ""),
    "box_several_classes": ("boxes", 1, [], ""),
    "box_unknown_class": ("boxes", 1, [], "'submarine' x1"),
    "box_zero_area": ("boxes", 1, [], ""),
    "box_outside": ("boxes", 1, [], ""),
    "box_rotated": ("boxes", 1, [], ""),
    "box_rotated_no_size": ("boxes", 1, [], ""),
}


@pytest.mark.parametrize("reason", list(EXPECTED))
def test_each_reason_is_counted_and_shown(reason: str, request: pytest.FixtureRequest) -> None:
    source, count, tasks, example = EXPECTED[reason]
    found = request.getfixturevalue(source)
    entries = {e["reason"]: e for e in found["json"]["skipped_reasons"]}
    entry = entries[reason]
    items, meaning = REASONS[reason]
    assert (entry["count"], entry["items"], entry["meaning"]) == (count, items, meaning)
    assert entry["tasks"] == tasks and example in entry["example"]
    assert f"{count} {items:<11} {reason} ({meaning})" in found["text"]
    assert f"<td>{reason}</td>" in found["report"]


def test_every_reason_has_a_probe() -> None:
    assert set(EXPECTED) | {"prediction_dropped", "other"} == set(REASONS)


def test_unknown_choices_with_their_values(images: dict[str, Any]) -> None:
    summary = images["json"]
    assert summary["unknown_choices"] == {"zebra": 2}
    # tasks left out are exactly the bad ones, and every annotation is accounted for
    assert summary["tasks"]["skipped"] == 8 and summary["tasks"]["read"] == GOOD + 8
    assert summary["annotations"]["left_out"] == 2 + 1 + 1 + 1  # unknown, cancelled, old, deleted


def test_unknown_box_labels_with_their_values(boxes: dict[str, Any]) -> None:
    summary = boxes["json"]
    assert summary["kind"] == "boxes" and summary["unknown_labels"] == {"submarine": 1}
    assert summary["boxes"]["left_out"] == 8 and summary["boxes"]["read"] == 20
    assert summary["tasks"]["skipped"] == 0


def test_nothing_left_out_says_so(tmp_path: Path) -> None:
    _, truth = make_images(12, seed=1, side=32)
    tasks = [{"id": i, "data": {"image": "/x.png"}, "annotations": [annotation(1, truth[i])]}
             for i in range(12)]  # fmt: skip
    probs = np.clip(truth * 0.8 + 0.1, 0, 1)
    np.save(tmp_path / "p.npy", probs)
    found = audited(tmp_path, tasks, "--pred-probs", tmp_path / "p.npy")
    assert found["json"]["skipped_reasons"] == [] and found["json"]["unknown_choices"] == {}
    assert "Nothing was left out" in found["report"] and "Left out" not in found["text"]


def test_predictions_label_studio_did_not_create_and_unknown_messages() -> None:
    schema = parse_label_config(SINGLE)
    tasks = []
    for i in range(6):
        result = [{"from_name": "sentiment", "to_name": "review", "type": "choices",
                   "value": {"choices": ["positive" if i % 2 else "negative"]}}]  # fmt: skip
        tasks.append({"id": i, "data": {"review": "x"},
                      "annotations": [{"completed_by": 1, "result": result}]})  # fmt: skip
    probs = np.full((6, 3), 1 / 3)
    result = audit_tasks(tasks, schema, options=AuditOptions(pred_probs=probs))
    pushed = dataclasses.replace(result, push=PushReport("v", sent=6, created=4, deleted=0))
    (dropped,) = skip_report(pushed).skips
    assert (dropped.reason, dropped.items, dropped.count) == (
        "prediction_dropped",
        "predictions",
        2,
    )
    odd = dataclasses.replace(result, skipped={3: "something nobody planned for"})
    (other,) = skip_report(odd).skips
    assert (other.reason, other.tasks, other.example) == (
        "other",
        (3,),
        "something nobody planned for",
    )


def test_a_box_audit_names_why_an_image_was_left_out(tmp_path: Path) -> None:
    """With the in-project detector, a box task whose image does not load is left out by the
    media's reason, as a classification task is (it was "other", its message prefixed)."""
    rng = np.random.default_rng(3)
    aerial = make_aerial_scenes(MIN_IMAGES + 2, rng=rng, objects=(1, 3))
    n = len(aerial.images)
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=n, n_classes=4,
        rng=rng, habits=("careful", "sloppy"), seen=np.ones((n, 2), bool), image_size=aerial.size,
    )  # fmt: skip
    media = tmp_path / "media"
    media.mkdir()
    for i, image in enumerate(aerial.images):
        image.save(media / f"{i}.png")
    (media / "broken.png").write_bytes(b"not an image at all")
    tasks = task_json(aerial, scenes, {"careful": 1, "sloppy": 2})
    for task in tasks:
        task["data"]["image"] = f"/data/local-files/?d={task['id'] - 1}.png"
    tasks[0]["data"]["image"] = "/data/local-files/?d=missing.png"
    tasks[1]["data"]["image"] = "/data/local-files/?d=broken.png"
    config = tmp_path / "config.xml"
    config.write_text(label_config())
    found = audited(tmp_path, tasks, "--label-config", config, "--local-files-root", media)
    assert found["json"]["source"].startswith("detector:")
    entries = {e["reason"]: e["tasks"] for e in found["json"]["skipped_reasons"]}
    assert entries == {"media_not_found": [1], "media_bad_image": [2]}

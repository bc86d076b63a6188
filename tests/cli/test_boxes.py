"""``ls-cleanlab audit`` and ``ls-cleanlab annotators`` on a bounding-box export."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.cli import main
from ls_cleanlab.testing.aerial_boxes import CLASSES, label_config, rectangle_results
from ls_cleanlab.testing.scenes import simulate_scenes

USERS = {"satisficer": 11, "sloppy": 12, "careful": 13}
SIZE = (640, 480)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """60 simulated scenes whose images are not reachable (no detector), and a COCO file of a
    detector that found every object."""
    scenes = simulate_scenes(60, rng=np.random.default_rng(0))
    ann = scenes.annotations
    tasks = []
    for i in range(60):
        annotations = []
        for a, name in enumerate(ann.annotator_ids):
            rows = (ann.image == i) & (ann.annotator == name)
            result = rectangle_results(ann.boxes[rows], ann.labels[rows], size=SIZE)
            annotations.append({"id": 10 * i + a, "completed_by": USERS[str(name)],
                                "result": result})  # fmt: skip
        tasks.append({"id": i + 1, "data": {"image": f"/data/upload/1/{i}.png"},
                      "annotations": annotations})  # fmt: skip
    folder = tmp_path_factory.mktemp("boxes-export")
    (folder / "export.json").write_text(json.dumps(tasks))
    (folder / "config.xml").write_text(label_config())
    detections = [
        {"image_id": int(i) + 1, "category_name": CLASSES[int(k)], "score": 0.95,
         "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]}
        for i, b, k in zip(scenes.truth_image, scenes.truth_boxes, scenes.truth_labels,
                           strict=True)
    ]  # fmt: skip
    images = [{"id": i + 1, "width": SIZE[0], "height": SIZE[1]} for i in range(60)]
    (folder / "coco.json").write_text(json.dumps({"images": images, "annotations": detections}))
    return {"dir": folder}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_audit_of_a_box_export_with_a_coco_file(export: dict[str, Path]) -> None:
    folder = export["dir"]
    code, out, err = run(
        "audit", str(folder / "export.json"), "--label-config", str(folder / "config.xml"),
        "--predictions", str(folder / "coco.json"), "--out", str(folder / "out"), "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["kind"] == "boxes" and summary["source"] == "file:coco.json"
    assert summary["tasks"]["audited"] == 60 and not summary["schema"]["inferred"]
    assert set(summary["queues"]) == {"missing", "wrong", "disagree"}
    assert summary["queues"]["missing"] > 0
    assert summary["satisficers"] == [11]
    rows = {r["annotator"]: r for r in summary["annotators"]}
    assert rows[11]["recall"] < 0.6 and rows[13]["recall"] > 0.9
    for name in ("report.html", "issues.csv", "annotators.csv", "classes.csv"):
        assert (folder / "out" / name).is_file()
    assert "Likely missing boxes" in (folder / "out" / "report.html").read_text()


def test_audit_text_summary_without_a_detector(export: dict[str, Path]) -> None:
    folder = export["dir"]
    code, out, err = run("audit", str(folder / "export.json"), "--out", str(folder / "text"))
    assert code == 0, err
    assert "(bounding boxes)" in out and "detector boxes from annotators" in out
    assert "inferred" in out  # no label config given: the schema comes from the boxes
    assert "Flagged for search satisficing (stops after the first objects): 11." in out
    assert "Likely missing boxes" in out


def test_annotators_of_a_box_export(export: dict[str, Path]) -> None:
    code, out, err = run("annotators", str(export["dir"] / "export.json"), "--json")
    assert code == 0, err
    summary: dict[str, Any] = json.loads(out)
    assert summary["kind"] == "boxes" and summary["satisficers"] == [11]
    assert summary["skipped_reasons"] == []
    code, out, _ = run("annotators", str(export["dir"] / "export.json"))
    assert code == 0 and "Flagged for search satisficing: 11." in out


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--pred-probs", "x.npy", "--predictions", "y.json"], "not both"),
        (["--predictions", "/no/such.json"], "does not exist"),
    ],
    ids=["two-sources", "missing-file"],
)
def test_bad_box_options_exit_2(export: dict[str, Path], extra: list[str], match: str) -> None:
    code, _, err = run("audit", str(export["dir"] / "export.json"), "--out",
                       str(export["dir"] / "bad"), *extra)  # fmt: skip
    assert code == 2 and match in err


def test_box_annotators_count_what_they_left_out(export: dict[str, Path], tmp_path: Path) -> None:
    tasks = json.loads((export["dir"] / "export.json").read_text())
    first = tasks[0]["annotations"][0]
    tasks[0]["annotations"].append({**first, "id": 999999, "completed_by": None})
    (tmp_path / "left-out.json").write_text(json.dumps(tasks))
    code, out, err = run("annotators", str(tmp_path / "left-out.json"), "--json")
    assert code == 0, err
    assert [(s["reason"], s["count"]) for s in json.loads(out)["skipped_reasons"]] == [
        ("deleted_annotator", 1)
    ]


def test_box_annotators_appear_by_name(export: dict[str, Path], tmp_path: Path) -> None:
    import dataclasses

    import pandas as pd

    from ls_cleanlab.cli import box_output
    from ls_cleanlab.pipeline import AuditOptions, audit_tasks
    from ls_cleanlab.report import render_report
    from ls_cleanlab.studio import parse_label_config

    tasks = json.loads((export["dir"] / "export.json").read_text())
    schema = parse_label_config((export["dir"] / "config.xml").read_text())
    result = audit_tasks(tasks, schema, options=AuditOptions(dry_run=True))
    sam = "Sam Satisficer <sam@example.com>"
    named = dataclasses.replace(result, annotator_names={11: sam})
    summary = box_output.box_audit_summary(named, files={}, schema_inferred=False, dry_run=True)
    assert summary["satisficers"] == [11]  # ids in JSON, names beside them
    assert {r["annotator"]: r["name"] for r in summary["annotators"]} == {11: sam, 12: "12",
                                                                          13: "13"}  # fmt: skip
    out = io.StringIO()
    box_output.print_box_audit(summary, out)
    assert f"Flagged for search satisficing (stops after the first objects): {sam}." in (
        out.getvalue()
    )
    assert f"  {sam} " in out.getvalue()  # the table's row
    files = box_output.write_box_tables(named, tmp_path, None)
    table = pd.read_csv(files["annotators.csv"])
    assert list(table.columns[:2]) == ["annotator", "name"]
    assert table.set_index("annotator").loc[11, "name"] == sam
    assert "Sam Satisficer &lt;sam@example.com&gt;</td>" in render_report(named, top=1)


def test_a_reviewers_boxes_are_gold_in_a_box_project(export: dict[str, Path]) -> None:
    """``--reviewer 13``: the careful annotator's boxes are every image's truth, the images
    leave the tabs, and the others are counted against them in the summary, the annotator CSV
    and the report."""
    import pandas as pd

    from ls_cleanlab.cli import box_output

    folder = export["dir"]
    out_dir = folder / "reviewed"
    code, out, err = run("audit", str(folder / "export.json"), "--reviewer", "13", "--dry-run",
                         "--out", str(out_dir), "--json")  # fmt: skip
    assert code == 0, err
    assert "reviewers" not in err  # no warning that they are ignored
    summary = json.loads(out)
    assert summary["gold"]["tasks"] == 60 and summary["issues"]["total"] == 0
    assert set(summary["queues"].values()) == {0}
    gold = {a["annotator"]: a for a in summary["gold"]["annotators"]}
    assert set(gold) == {11, 12}  # the reviewer is the gold, not an annotator
    assert gold[11]["n_gold"] == gold[12]["n_gold"] == 60
    assert gold[11]["gold_boxes"] == gold[12]["gold_boxes"] > 0
    assert gold[11]["recall"] == pytest.approx(gold[11]["found"] / gold[11]["gold_boxes"])
    assert gold[11]["recall"] < 0.7 < gold[12]["recall"]  # the satisficer misses boxes
    table = pd.read_csv(out_dir / "annotators.csv").set_index("annotator")
    assert set(table.index) == {11, 12}
    assert table.loc[11, "gold_found"] == gold[11]["found"]
    assert {"gold_recall", "gold_precision", "gold_boxes", "gold_drawn"} <= set(table.columns)
    text = io.StringIO()
    box_output.print_box_audit(summary, text)
    assert "Reviewed (gold) images: 60, out of every tab." in text.getvalue()
    assert f"found {gold[11]['found']} of {gold[11]['gold_boxes']} gold boxes" in text.getvalue()
    page = (out_dir / "report.html").read_text()
    assert 'id="gold"' in page and page.count('class="gold-row"') == 2


def test_the_tags_an_audit_leaves_alone_are_named(export: dict[str, Path]) -> None:
    """A config with boxes and a per-image Choices: the audit of one tag names the others (it
    said nothing of them, so a box project audited its Choices without a word)."""
    folder = export["dir"]
    config = label_config().replace(
        "</View>",
        '<RectangleLabels name="people" toName="image"><Label value="person"/></RectangleLabels>'
        '<Choices name="scene" toName="image"><Choice value="urban"/></Choices></View>',
    )
    (folder / "several.xml").write_text(config)
    base = ["audit", str(folder / "export.json"), "--label-config", str(folder / "several.xml"),
            "--choices", "label", "--out", str(folder / "several")]  # fmt: skip
    code, out, err = run(*base, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["kind"] == "boxes" and summary["tasks"]["audited"] == 60
    assert summary["schema"]["not_audited"] == ["RectangleLabels 'people'", "Choices 'scene'"]
    code, out, err = run(*base)
    assert code == 0, err
    assert (
        "The label config has other tags this audit left alone: RectangleLabels 'people', "
        "Choices 'scene'; audit one of them with --choices NAME." in out
    )

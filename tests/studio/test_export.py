"""Reading Label Studio JSON exports and inferring their labeling schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError, LabelConfigError
from ls_cleanlab.studio import infer_schema, load_export, prediction_versions


def result(choices: list[str], from_name: str = "sentiment", to_name: str = "review") -> Any:
    return {"from_name": from_name, "to_name": to_name, "type": "choices",
            "value": {"choices": choices}}  # fmt: skip


def task(i: int, data: dict[str, Any], *results: Any, predictions: Any = None) -> dict[str, Any]:
    out = {"id": i, "data": data, "annotations": [{"completed_by": 1, "result": list(results)}]}
    if predictions is not None:
        out["predictions"] = predictions
    return out


def test_single_label_text() -> None:
    tasks = [
        task(1, {"review": "great"}, result(["positive"])),
        task(2, {"review": "awful"}, result(["negative"])),
        task(
            3, {"review": "fine"}, predictions=[{"model_version": "m", "result": [result(["ok"])]}]
        ),
    ]
    schema = infer_schema(tasks)
    assert (schema.from_name, schema.to_name, schema.data_key) == ("sentiment", "review", "review")
    assert schema.classes == ("negative", "ok", "positive") and not schema.multi_label
    assert schema.object_tag == "Text"
    assert prediction_versions(tasks) == {"m": 1}
    assert prediction_versions(tasks, "sentiment") == {"m": 1}
    assert prediction_versions(tasks, "another_tag") == {}


def test_multi_label_images_and_the_only_data_field() -> None:
    tasks = [
        task(1, {"img": "/data/upload/1/a.png"}, result(["cat", "dog"], "tags", "image")),
        task(2, {"img": "https://x.example/b.JPG?x=1"}, result(["bird"], "tags", "image")),
    ]
    schema = infer_schema(tasks)
    assert schema.multi_label and schema.object_tag == "Image" and schema.data_key == "img"
    assert schema.classes == ("bird", "cat", "dog")


@pytest.mark.parametrize(
    ("tasks", "choices", "message"),
    [
        ([task(1, {"review": "x"})], None, "no choices results"),
        ([task(1, {"review": "x"}, result(["a"]), result(["b"], "other", "review"))], None,
         "several tags"),
        ([task(1, {"review": "x"}, result(["a"]))], "nope", "for the Choices tag 'nope'"),
        ([task(1, {"a": "x", "b": "y"}, result(["a"], "s", "t"))], None, "which task data field"),
        ([task(1, {"review": "x"}, result(["a"])), task(2, {"review": "y"}, result(["a"]))], None,
         "every choice of 'sentiment' in the tasks is 'a', so a schema inferred from them has a "
         "single class"),
    ],
    ids=["no-choices", "several-tags", "unknown-tag", "unknown-field", "one-class"],
)  # fmt: skip
def test_what_cannot_be_inferred(tasks: Any, choices: str | None, message: str) -> None:
    with pytest.raises(LabelConfigError, match=message):
        infer_schema(tasks, choices)


def test_an_empty_export_is_named_as_such() -> None:
    with pytest.raises(InvalidTasksError, match=r"holds no tasks \(an empty list\)"):
        infer_schema([], None)


def test_several_tags_with_a_name() -> None:
    tasks = [task(1, {"review": "x"}, result(["a"]), result(["b", "c"], "other", "review"))]
    schema = infer_schema(tasks, "other")
    assert schema.from_name == "other" and schema.classes == ("b", "c") and schema.multi_label


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_an_export_saved_with_a_byte_order_mark_reads_the_same(
    tmp_path: Path, encoding: str
) -> None:
    # a Windows editor adds a UTF-8 BOM; PowerShell 5's `>` writes UTF-16 with one
    tasks = [task(1, {"review": "Gefühl 猫 \U0001f600"}), task(2, {"review": "x" * 70_000})]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding=encoding)
    assert load_export(path) == tasks


def test_load_export(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task(1, {"review": "x"})]))
    assert load_export(path)[0]["id"] == 1
    with pytest.raises(InvalidOptionError, match="does not exist"):
        load_export(tmp_path / "missing.json")
    path.write_text("[1, 2]")
    with pytest.raises(InvalidTasksError, match="item 0 is a int"):
        load_export(path)
    path.write_text("{")
    with pytest.raises(InvalidTasksError, match="not valid JSON"):
        load_export(path)

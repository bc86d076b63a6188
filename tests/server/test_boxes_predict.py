"""``/predict`` of a box project (``RectangleLabels``): empty before the project's first audit,
then the saved detector's boxes as ``rectanglelabels`` results with a score each, reloaded when
an audit replaces the detector. (Training through ``/webhook`` on a real Label Studio:
tests/examples/test_demo_boxes_studio.py.)"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ls_cleanlab.features.windows import channel_image
from ls_cleanlab.model.detector import BoxDetector
from ls_cleanlab.model.detector_fit import fit_detector
from ls_cleanlab.pipeline import Workspace
from ls_cleanlab.studio import check_box_prediction, parse_label_config
from ls_cleanlab.testing.aerial_boxes import (
    CLASSES,
    label_config,
    make_aerial_scenes,
    png_data_uri,
)


@pytest.fixture(scope="module")
def scenes() -> Any:
    return make_aerial_scenes(16, rng=np.random.default_rng(4))


@pytest.fixture(scope="module")
def detector(scenes: Any) -> BoxDetector:
    pixels = [np.asarray(image) for image in scenes.images]
    starts = np.searchsorted(scenes.truth_image, np.arange(len(pixels) + 1))
    boxes = [scenes.truth_boxes[starts[i] : starts[i + 1]] for i in range(len(pixels))]
    labels = [scenes.truth_labels[starts[i] : starts[i + 1]] for i in range(len(pixels))]
    sizes = np.array([[p.shape[1], p.shape[0]] for p in pixels])
    return fit_detector(lambda i: channel_image(pixels[i]), list(range(12)), boxes, labels,
                        boxes, sizes, class_names=CLASSES)  # fmt: skip


def body(scenes: Any) -> dict[str, Any]:
    tasks = [{"id": 100 + i, "data": {"image": png_data_uri(scenes.images[i])}}
             for i in (12, 13, 14)]  # fmt: skip
    tasks.append({"id": 200, "data": {"image": "data:image/png;base64,bm90IGFuIGltYWdl"}})
    return {"tasks": tasks, "project": "1.1795827265", "label_config": label_config()}


def test_box_predict_before_and_after_the_first_audit(
    api: TestClient, scenes: Any, detector: BoxDetector
) -> None:
    request = body(scenes)
    before = api.post("/predict", json=request).json()["results"]
    assert [r["result"] for r in before] == [[], [], [], []]

    backend = api.app.state.backend  # type: ignore[attr-defined]
    path = Workspace(backend.settings.data_dir).box_detector(1, "ls-cleanlab")
    path.parent.mkdir(parents=True, exist_ok=True)
    detector.save(path)
    answer = api.post("/predict", json=request)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 4 and results[-1]["result"] == []  # a broken image: no boxes
    schema = parse_label_config(label_config())
    for task, made in zip(request["tasks"][:3], results[:3], strict=True):
        assert made["result"] and made["model_version"] == "ls-cleanlab"
        assert check_box_prediction(schema, {**made, "task": task["id"]}) == []
        for result in made["result"]:
            assert result["type"] == "rectanglelabels" and 0 <= result["score"] <= 1
            assert result["value"]["rectanglelabels"][0] in CLASSES

    # an audit with other classes replaces the file: reloaded, and refused as stale
    dataclasses.replace(detector, class_names=("ship",)).save(path)
    os.utime(path, (1e9, 1e9))
    stale = api.post("/predict", json=request)
    assert stale.status_code == 422 and "retrain" in stale.json()["detail"]

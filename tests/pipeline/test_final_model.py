"""The pipeline's final model (pre-annotations, /predict) is the noise-robust one, fitted on the
audited labels without the doubted cells; ``noise_robust=False`` keeps the plain model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.studio import parse_label_config

CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="topic" toName="text" choice="multiple">
<Choice value="a"/><Choice value="b"/><Choice value="c"/><Choice value="d"/></Choices></View>"""
NAMES = ("a", "b", "c", "d")


def _tasks() -> tuple[list[dict[str, Any]], np.ndarray]:
    """500 tasks whose data field 'emb' encodes the truth; 400 labelled by one annotator who names
    a wrong class on 30% of them, 100 new."""
    rng = np.random.default_rng(0)
    truth = (rng.random((500, 4)) < 0.35).astype(np.int8)
    vectors = 2.5 * truth @ rng.normal(size=(4, 12)) + rng.normal(size=(500, 12))
    tasks = []
    for i in range(500):
        task: dict[str, Any] = {"id": i + 1, "data": {"text": f"t{i}", "emb": vectors[i].tolist()}}
        if i < 400:
            given = truth[i].copy()
            on, off = np.flatnonzero(given), np.flatnonzero(given == 0)
            if rng.random() < 0.3 and len(on) and len(off):
                given[rng.choice(on)], given[rng.choice(off)] = 0, 1
            chosen = [NAMES[k] for k in np.flatnonzero(given)]
            result = {"from_name": "topic", "to_name": "text", "type": "choices",
                      "value": {"choices": chosen}}  # fmt: skip
            task["annotations"] = [{"completed_by": 1, "result": [result]}]
        tasks.append(task)
    return tasks, truth


def test_pre_annotations_come_from_the_noise_robust_model() -> None:
    tasks, truth = _tasks()
    schema = parse_label_config(CONFIG)
    robust = audit_tasks(tasks, schema, options=AuditOptions(embedding_field="emb"))
    plain = audit_tasks(
        tasks, schema, options=AuditOptions(embedding_field="emb", noise_robust=False)
    )
    assert robust.trained is not None and plain.trained is not None
    assert robust.trained.n_train < plain.trained.n_train or not np.array_equal(
        robust.trained.thresholds, plain.trained.thresholds
    )
    assert "final model" in robust.seconds

    def chosen(result: Any) -> np.ndarray:
        by_task = {p["task"]: p["result"][0]["value"]["choices"] for p in result.predictions}
        return np.array([[c in by_task[401 + i] for c in NAMES] for i in range(100)])

    exact = {
        name: (chosen(result) == truth[400:].astype(bool)).all(axis=1).mean()
        for name, result in (("robust", robust), ("plain", plain))
    }
    assert exact["robust"] >= exact["plain"]


def test_the_option_is_checked() -> None:
    with pytest.raises(InvalidOptionError, match="noise_robust"):
        AuditOptions(noise_robust="yes")  # type: ignore[arg-type]

"""`make demo DEMO=boxes` at a small size (48 scenes), on the session's real Label Studio with
the backend as a process: "Start training" runs the backend's audit job, its "Likely missing
boxes" tab holds real misses, the satisficer is flagged, the three tabs are filled, no annotation
changed, and the backend's ``/predict`` answers box pre-annotations."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ls_cleanlab.testing.label_studio import Studio

pytestmark = pytest.mark.studio

ROOT = Path(__file__).resolve().parents[2]
TASKS = 48


def demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_boxes", ROOT / "examples" / "demo_boxes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("demo_boxes", module)
    spec.loader.exec_module(module)
    return module


def test_the_box_demo_through_the_backend(studio: Studio, tmp_path: Path) -> None:
    demo = demo_module()
    scores = demo.run_demo(studio, tmp_path / "demo", n_tasks=TASKS, seed=0)

    # the backend's job audited the project with its own detector
    job = scores["job"]
    assert job["state"] == "done" and job["summary"]["source"].startswith("detector:"), job
    assert set(job["summary"]["queues"]) == {"missing", "wrong", "disagree"}
    assert scores["refresh_pushed"] == 0  # read back from its workspace: the same audit

    # the top 20 of "Likely missing boxes" are real misses; the satisficer is flagged
    assert scores["top"]["missing"] == 20, scores
    assert scores["precision"]["missing"] >= 0.8, scores
    assert scores["satisficing_flagged"] == ["satisficer"], scores

    # the tabs are in Label Studio, filled, exactly the audit's queues; annotations untouched
    titles = {"Likely missing boxes": "missing", "Likely wrong boxes": "wrong",
              "Annotators disagree": "disagree"}  # fmt: skip
    for title, key in titles.items():
        assert scores["tab_tasks"][title] == scores["queues"][key] > 0, scores["tab_tasks"]
    assert scores["annotations_untouched"]

    # /predict: the saved detector's boxes on the unlabelled scenes, mostly right
    predicted = scores["backend_predict"]
    assert predicted["tasks"] == round(0.15 * TASKS) and predicted["boxes"] > 0, predicted
    assert predicted["precision"] >= 0.5, predicted
    assert Path(scores["report"]).is_file()

"""`make demo DEMO=boxes` in `--exit` mode at a smaller size: it runs from start to end on a real
Label Studio, its "Likely missing boxes" tab holds real misses and the satisficer is flagged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ls_cleanlab.testing.label_studio import executable

pytestmark = pytest.mark.studio

ROOT = Path(__file__).resolve().parents[2]


def test_the_box_demo_finds_the_missing_boxes_and_the_satisficer(tmp_path: Path) -> None:
    if not executable().exists():
        pytest.skip("no Label Studio; run `make studio`")
    command = [
        sys.executable, str(ROOT / "examples" / "demo_boxes.py"), "--tasks", "120", "--exit",
        "--json", "--port", "0", "--backend-port", "0", "--data", str(tmp_path / "demo"),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=2400, check=False, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    scores = json.loads(done.stdout)
    assert scores["source"].startswith("detector:")
    assert scores["top"]["missing"] >= 20, scores
    assert scores["precision"]["missing"] >= 0.8, scores
    assert scores["satisficing_flagged"] == ["satisficer"], scores
    assert scores["queues"]["wrong"] > 0 and scores["queues"]["disagree"] > 0, scores
    assert scores["pushed"] == scores["tasks"]
    report = Path(scores["report"])
    assert report.is_file() and "Top tasks" in report.read_text()

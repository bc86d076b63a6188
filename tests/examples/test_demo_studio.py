"""`make demo` in `--exit` mode at a smaller size: it runs from start to end on a real Label
Studio, the annotators' slips are in "Annotators disagree" and "Likely label errors" is no
larger than the number of tasks whose consensus is wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ls_cleanlab.testing.label_studio import executable

pytestmark = pytest.mark.studio

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_finds_the_injected_errors(tmp_path: Path) -> None:
    if not executable().exists():
        pytest.skip("no Label Studio; run `make studio`")
    command = [
        sys.executable, str(ROOT / "examples" / "demo.py"), "--tasks", "150", "--exit", "--json",
        "--port", "0", "--backend-port", "0", "--data", str(tmp_path / "demo"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    scores = json.loads(done.stdout)
    # slips the consensus corrects are annotator feedback ("Annotators disagree"), not errors
    assert scores["disagree_top"] >= 20 and scores["disagree_top20_precision"] >= 0.8, scores
    # "Likely label errors" holds no more tasks than have a wrong consensus (give or take a
    # few), mostly real; the audit's expected count is about the real one
    assert scores["top"] <= scores["tasks_with_consensus_errors"] + 5, scores
    if scores["top"] >= 5:
        assert scores["top_with_consensus_error"] >= 0.5 * scores["top"], scores
    assert abs(scores["expected_consensus_errors"] - scores["tasks_with_consensus_errors"]) <= max(
        5, 0.5 * scores["tasks_with_consensus_errors"]
    ), scores
    assert scores["satisficing_flagged"] == [scores["satisficer"]], scores
    assert scores["queues"]["uncertain"] > 0  # unlabelled tasks got pre-annotations
    report = Path(scores["report"])
    assert report.is_file() and "Top issues" in report.read_text()

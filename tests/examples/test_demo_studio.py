"""`make demo` in `--exit` mode at a smaller size: it runs from start to end on a real Label
Studio and its queue holds the injected errors."""

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
    assert scores["top"] >= 20
    assert scores["top20_precision"] >= 0.8, scores
    assert scores["satisficing_flagged"] == [scores["satisficer"]], scores
    assert scores["queues"]["uncertain"] > 0  # unlabelled tasks got pre-annotations
    report = Path(scores["report"])
    assert report.is_file() and "Top issues" in report.read_text()

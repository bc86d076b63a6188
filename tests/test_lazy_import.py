"""``ls_cleanlab`` resolves its names lazily (PEP 562): the math runs without a network, image,
model or web library ever being imported, and every public name still resolves.

What is imported is checked in a fresh interpreter: this one has loaded everything already."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import ls_cleanlab

#: Libraries that only network, media, model, report and server code may load.
HEAVY = (
    "requests",
    "PIL",
    "sklearn",
    "fastapi",
    "matplotlib",
    "label_studio_sdk",
    "uvicorn",
)


def loaded_after(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; which of HEAVY and of our modules it loaded."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        ours = sorted(m for m in sys.modules if m.startswith("ls_cleanlab"))
        print(json.dumps({{"heavy": heavy, "ours": ours}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_package_loads_only_its_init() -> None:
    got = loaded_after("import ls_cleanlab")
    assert got["ours"] == ["ls_cleanlab"]
    assert got["heavy"] == []


def test_the_scoring_api_runs_without_heavy_libraries() -> None:
    got = loaded_after(
        """
        import numpy as np
        import ls_cleanlab
        from ls_cleanlab import Annotations, audit_labels, find_label_issues, label_quality_scores

        labels = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 1], [1, 1, 0]])
        probs = np.clip(labels * 0.8 + 0.1, 0, 1)
        probs[0] = [0.1, 0.9, 0.2]  # a likely error
        assert find_label_issues(labels, probs, multi_label=True).shape == (6,)
        assert label_quality_scores(labels, probs, multi_label=True).shape == (6,)
        audit = audit_labels(probs, labels=labels, class_names=["a", "b", "c"])
        assert audit.priority.shape == (6,)
        ann = Annotations(
            task=np.repeat(np.arange(6), 2),
            annotator=np.tile(["x", "y"], 6),
            labels=np.repeat(labels, 2, axis=0),
        )
        assert audit_labels(probs, annotations=ann).annotators is not None
        """
    )
    assert got["heavy"] == [], f"imported {got['heavy']}; modules loaded: {got['ours']}"


def test_the_testing_package_imports_its_heavy_libraries_when_used() -> None:
    got = loaded_after("from ls_cleanlab.testing import Admin, make_images, running_label_studio")
    assert got["heavy"] == []


@pytest.mark.parametrize("name", ls_cleanlab.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(ls_cleanlab, name) is not None
    assert name in dir(ls_cleanlab)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'find_label_errors'"):
        ls_cleanlab.find_label_errors  # noqa: B018

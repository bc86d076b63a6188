"""audit_labels on unusual but legitimate inputs a new project brings (found by probing)."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab import Annotations
from ls_cleanlab.audit import audit_labels


@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
def test_no_annotations_at_all_leaves_every_task_unlabelled(multi_label: bool) -> None:
    rng = np.random.default_rng(0)
    probs = rng.random((10, 3)) if multi_label else rng.dirichlet(np.ones(3), 10)
    none = Annotations(
        task=np.zeros(0, dtype=int), annotator=np.zeros(0, dtype=object), labels=np.zeros((0, 3))
    )
    res = audit_labels(probs, annotations=none, multi_label=multi_label)
    assert res.issues.empty and res.annotators.empty
    assert (res.priority == 0).all()
    expected = probs >= 0.5 if multi_label else np.eye(3)[probs.argmax(axis=1)]
    np.testing.assert_array_equal(res.suggested, expected)

"""Fixtures shared by the annotator tests; helpers that build tables are in ``crowds.py``."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.annotations import Annotations
from tests.annotators.crowds import long_table


@pytest.fixture
def small_crowd() -> tuple[Annotations, np.ndarray]:
    """Two tasks, annotators ``a`` and ``b``, two classes (they disagree on task 0), and a
    model's probabilities ``(2, 2)``: a valid input that the bad-input tests change one part of."""
    ann = long_table([[("a", [0]), ("b", [1])], [("a", [1]), ("b", [1])]], 2)
    return ann, np.array([[0.6, 0.4], [0.2, 0.8]])

"""BoxAnnotations: validation at the edge, and building it from cleanlab-style labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ls_cleanlab.detection import BoxAnnotations
from ls_cleanlab.errors import InvalidAnnotationsError


def table(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "image": np.array([0, 0, 1]),
        "annotator": np.array(["ann", "bob", "ann"]),
        "boxes": np.array([[0.0, 0, 4, 4], [0, 0, 4, 5], [1, 1, 2, 2]]),
        "labels": np.array([0, 0, 1]),
    }
    return {**base, **changes}


BAD = {
    "boxes shape": (table(boxes=np.zeros((3, 5))), "shape \\(B, 4\\)"),
    "boxes text": (table(boxes=np.full((3, 4), "a")), "must be numbers"),
    "NaN box": (table(boxes=np.array([[0.0, 0, 4, 4], [0, np.nan, 4, 5], [1, 1, 2, 2]])), "rows 1"),
    "inverted box": (
        table(boxes=np.array([[0.0, 0, 4, 4], [0, 0, 4, 5], [3, 1, 2, 2]])),
        "rows 2 .*width, height",
    ),
    "fractional label": (table(labels=np.array([0, 0.5, 1])), "labels must hold integer"),
    "negative image": (table(image=np.array([0, -1, 1])), "image is negative in rows 1"),
    "short annotator": (table(annotator=np.array(["ann"])), "one id per box"),
    "too few images": (table(n_images=1), "image holds index 1, but n_images is 1"),
    "seen half given": (table(seen_image=np.array([0])), "give both"),
    "unseen box": (
        table(seen_image=np.array([0, 0]), seen_annotator=np.array(["ann", "bob"])),
        "rows 2 are boxes by an annotator on an image",
    ),
}


@pytest.mark.parametrize(("kwargs", "match"), list(BAD.values()), ids=list(BAD))
def test_bad_tables_raise(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidAnnotationsError, match=match):
        BoxAnnotations(**kwargs)


def test_defaults_and_codes() -> None:
    ann = BoxAnnotations(**table())
    assert ann.n_images == 2
    assert list(ann.annotator_ids) == ["ann", "bob"]
    np.testing.assert_array_equal(ann.annotator_index, [0, 1, 0])
    assert ann.seen.all() and ann.seen.shape == (2, 2)
    assert not ann.boxes.flags.writeable


def test_from_labels_records_empty_and_missing_annotations() -> None:
    empty = {"bboxes": np.zeros((0, 4)), "labels": np.zeros(0, dtype=int)}
    one = {"bboxes": np.array([[0.0, 0, 2, 2]]), "labels": np.array([1])}
    ann = BoxAnnotations.from_labels({7: [one, empty, None], 3: [one, None, one]})
    assert ann.n_images == 3
    np.testing.assert_array_equal(ann.annotator_ids, [3, 7])
    np.testing.assert_array_equal(ann.seen, [[True, True], [False, True], [True, False]])
    assert len(ann.boxes) == 3


def test_from_labels_needs_equal_lengths() -> None:
    one = {"bboxes": np.array([[0.0, 0, 2, 2]]), "labels": np.array([1])}
    with pytest.raises(InvalidAnnotationsError, match="one entry per image"):
        BoxAnnotations.from_labels({"a": [one], "b": [one, one]})

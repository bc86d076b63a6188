"""The in-project detector: window features, dense proposals, detection quality on drawn scenes,
out-of-sample detections, saving and loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.features.windows import (
    CELLS,
    N_CHANNELS,
    cell_grid,
    channel_image,
    n_window_features,
    window_features,
)
from ls_cleanlab.model.detector import BoxDetector, iou_matrix, non_max_suppression
from ls_cleanlab.model.detector_fit import fit_detector, out_of_sample_detections
from ls_cleanlab.model.persist import ModelFileError
from ls_cleanlab.testing.aerial_boxes import CLASSES, make_aerial_scenes


def test_window_features_are_channel_means_of_cells() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    image = channel_image(pixels)
    box = np.array([[8.0, 4.0, 24.0, 20.0]])
    features = window_features(image, box)
    assert features.shape == (1, n_window_features())
    # the first cell is the 4x4 pixel block at (8, 4), channel by channel
    s = image.integral
    first = (s[8, 12] - s[4, 12] - s[8, 8] + s[4, 8]) / 16
    np.testing.assert_allclose(features[0, :N_CHANNELS], first, rtol=1e-5, atol=1e-6)


def test_the_dense_grid_gives_the_same_cells_as_window_features() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    image = channel_image(pixels)
    grid, xs, ys = cell_grid(image, (3, 2), (1, 1))
    i, j = 2, 5
    window = np.array([[xs[j], ys[i], xs[j + CELLS], ys[i + CELLS]]], dtype=float)
    cells = window_features(image, window)[0, : CELLS * CELLS * N_CHANNELS]
    np.testing.assert_allclose(
        grid[i : i + CELLS, j : j + CELLS].reshape(-1), cells, rtol=1e-5, atol=1e-6
    )


def test_non_max_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=float)
    kept = non_max_suppression(boxes, np.array([0.5, 0.9, 0.7]), 0.5)
    assert kept.tolist() == [1, 2]


@pytest.fixture(scope="module")
def scenes() -> tuple:
    aerial = make_aerial_scenes(36, rng=np.random.default_rng(2))
    pixels = [np.asarray(im) for im in aerial.images]
    starts = np.searchsorted(aerial.truth_image, np.arange(37))
    boxes = [aerial.truth_boxes[starts[i] : starts[i + 1]] for i in range(36)]
    labels = [aerial.truth_labels[starts[i] : starts[i + 1]] for i in range(36)]
    sizes = np.array([[p.shape[1], p.shape[0]] for p in pixels])
    return pixels, boxes, labels, sizes


def _recall(found: list, boxes: list, labels: list, at: float = 0.5) -> float:
    hit = total = 0
    for d, b, lab in zip(found, boxes, labels, strict=True):
        total += len(b)
        keep = d.scores >= at
        if keep.any() and len(b):
            overlap = iou_matrix(d.boxes[keep], b)
            same = d.labels[keep][:, None] == lab[None, :]
            hit += int(((overlap >= 0.5) & same).any(axis=0).sum())
    return hit / total


def test_out_of_sample_detections_find_the_drawn_objects(scenes: tuple) -> None:
    pixels, boxes, labels, sizes = scenes
    labelled = np.arange(36) < 30
    found, final = out_of_sample_detections(
        lambda i: channel_image(pixels[i]), 36, boxes, labels, boxes, sizes, labelled,
        class_names=CLASSES, n_folds=3, seed=0,
    )  # fmt: skip
    assert all(d is not None for d in found)
    assert _recall(found[:30], boxes[:30], labels[:30]) >= 0.7
    assert _recall(found[30:], boxes[30:], labels[30:]) >= 0.7  # the final detector's
    assert isinstance(final, BoxDetector) and final.class_names == CLASSES
    for d in found:
        assert ((d.scores >= 0) & (d.scores <= 1)).all()
        assert (d.boxes[:, 2] > d.boxes[:, 0]).all() and (d.boxes[:, 3] > d.boxes[:, 1]).all()


def test_an_image_is_never_scored_by_a_detector_that_saw_its_boxes(scenes: tuple) -> None:
    pixels, boxes, labels, sizes = scenes
    pixels, boxes, labels, sizes = pixels[:18], boxes[:18], labels[:18], sizes[:18]
    labelled = np.ones(18, dtype=bool)

    def run(changed: list) -> list:
        return out_of_sample_detections(
            lambda i: channel_image(pixels[i]), 18, changed, labels, changed, sizes, labelled,
            class_names=CLASSES, n_folds=3, seed=0,
        )[0]  # fmt: skip

    plain = run(boxes)
    moved = run([b + 3.0 if i == 0 else b for i, b in enumerate(boxes)])
    np.testing.assert_array_equal(plain[0].boxes, moved[0].boxes)  # image 0's own boxes unused
    assert any(
        len(a.boxes) != len(b.boxes) or not np.array_equal(a.boxes, b.boxes)
        for a, b in zip(plain[1:], moved[1:], strict=True)
    )  # ...but they trained the detectors of the other folds


def test_a_detector_is_saved_and_loaded(scenes: tuple, tmp_path: Path) -> None:
    pixels, boxes, labels, sizes = scenes
    detector = fit_detector(
        lambda i: channel_image(pixels[i]), list(range(12)), boxes, labels, boxes, sizes,
        class_names=CLASSES,
    )  # fmt: skip
    path = tmp_path / "v1.detector"
    detector.save(path)
    again = BoxDetector.load(path)
    first, second = (
        detector.detect(channel_image(pixels[20])),
        again.detect(channel_image(pixels[20])),
    )
    np.testing.assert_array_equal(first.boxes, second.boxes)
    np.testing.assert_array_equal(first.scores, second.scores)
    (tmp_path / "junk.detector").write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        BoxDetector.load(tmp_path / "junk.detector")


def test_a_detector_needs_boxes_on_two_images(scenes: tuple) -> None:
    pixels, boxes, labels, sizes = scenes
    with pytest.raises(InvalidOptionError, match="at least 2 images"):
        fit_detector(lambda i: channel_image(pixels[i]), [0], boxes, labels, boxes, sizes,
                     class_names=CLASSES)  # fmt: skip

"""Gold boxes in the consensus: the candidates of gold images are held at what the gold says,
which measures the annotators where the truth is known and reweights them everywhere else."""

from __future__ import annotations

import numpy as np
import pytest

from ls_cleanlab.detection import KnownBoxes, audit_boxes
from ls_cleanlab.detection.consensus import object_posterior
from ls_cleanlab.detection.gold import known_candidates
from ls_cleanlab.errors import InvalidAnnotationsError
from ls_cleanlab.testing.scenes import simulate_scenes


def votes(seed: int, n_images: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of two annotators: a satisficer (recall 0.5, never a spurious box) and a
    sloppy one (recall 0.95, one spurious box per image). Returns who drew each candidate,
    its image and whether it is real."""
    rng = np.random.default_rng(seed)
    drew, image, real = [], [], []
    for i in range(n_images):
        for _ in range(rng.poisson(3)):
            a, b = rng.random() < 0.5, rng.random() < 0.95
            if a or b:
                drew.append((a, b)), image.append(i), real.append(True)
        for _ in range(rng.poisson(1.0)):
            drew.append((False, True)), image.append(i), real.append(False)
    return np.array(drew), np.array(image), np.array(real)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gold_images_teach_the_em_about_the_other_images(seed: int) -> None:
    # With two annotators, a box only the sloppy one drew is either an object the satisficer
    # missed or one of the sloppy one's spurious boxes: the votes alone cannot tell the rates
    # apart. Gold on a tenth of the images measures them.
    drew, image, real = votes(seed)
    saw, n = np.ones_like(drew), int(image.max()) + 1
    none = np.full(len(image), np.nan)
    seen = np.full(2, float(n))
    plain, plain_model, _ = object_posterior(drew, saw, none, seen, n)
    gold = image < n // 10
    known = np.where(gold, real.astype(float), np.nan)
    told, told_model, _ = object_posterior(drew, saw, none, seen, n, known=known)
    assert (told[gold] == real[gold]).all()  # held at the gold
    rest = ~gold
    brier = [float(np.mean((q[rest] - real[rest]) ** 2)) for q in (plain, told)]
    assert brier[1] < brier[0] - 0.02
    assert abs(told_model.recall[0] - 0.5) < abs(plain_model.recall[0] - 0.5) + 0.02
    assert abs(told_model.recall[0] - 0.5) < 0.08


def test_candidates_pair_with_gold_boxes_one_to_one() -> None:
    known = KnownBoxes(
        images=np.array([True, False, True]),
        image=np.array([0, 0]),
        boxes=np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=float),
        labels=np.array([2, 1]),
    )
    image = np.array([0, 0, 0, 1, 2])
    boxes = np.array([[0, 0, 10, 11], [1, 0, 10, 10], [20, 21, 30, 30], [0, 0, 10, 10],
                      [0, 0, 10, 10]], dtype=float)  # fmt: skip
    real, label = known_candidates(known, image, boxes, 0.5)
    # the first gold box pairs with its closer candidate only; image 1 has no gold; image 2
    # is gold and empty, so its candidate is spurious
    assert real[[0, 1, 2, 4]].tolist() == [1.0, 0.0, 1.0, 0.0] and np.isnan(real[3])
    assert label.tolist() == [2, -1, 1, -1, -1]


def test_an_audit_holds_gold_images_and_checks_the_gold() -> None:
    scenes = simulate_scenes(60, rng=np.random.default_rng(4))
    ann = scenes.annotations
    images = np.arange(60) < 10
    on = images[scenes.truth_image]
    known = KnownBoxes(images, scenes.truth_image[on], scenes.truth_boxes[on],
                       scenes.truth_labels[on])  # fmt: skip
    audit = audit_boxes(ann, known=known)
    c = audit.consensus
    settled = images[c.image]
    assert set(np.unique(c.probability[settled]).tolist()) <= {0.0, 1.0}
    assert c.keep[settled].sum() <= on.sum()
    plain = audit_boxes(ann)
    assert not np.array_equal(plain.consensus.probability, c.probability)
    with pytest.raises(InvalidAnnotationsError, match="boolean array of the 60 images"):
        audit_boxes(ann, known=KnownBoxes(images[:5], known.image, known.boxes, known.labels))
    with pytest.raises(InvalidAnnotationsError, match="on an image marked"):
        audit_boxes(ann, known=KnownBoxes(np.arange(60) < 1, known.image, known.boxes,
                                          known.labels))  # fmt: skip

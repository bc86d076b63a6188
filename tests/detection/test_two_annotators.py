"""Two annotators per image: a box one of them drew alone is an object the other missed or a
spurious box, and the votes cannot tell which. The consensus keeps such boxes unless evidence
that can tell (three annotators, gold, a reliable detector) says otherwise, so it is never
much worse than keeping every drawn box, and still drops spurious boxes a detector shows. Three
satisficers are identified, but only if the objects none of them drew are accounted for."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ls_cleanlab.detection import BoxAudit, audit_boxes
from ls_cleanlab.detection.consensus import detector_bins, detector_is_reliable
from ls_cleanlab.testing.scenes import Scenes, simulate_detector, simulate_scenes


def keep_accuracy(scenes: Scenes, audit: BoxAudit) -> tuple[float, float]:
    """Accuracy of the keep decision over the drawn candidates, and of keeping them all."""
    c = audit.consensus
    n = len(c.image)
    real = np.bincount(audit.candidate, weights=scenes.source >= 0, minlength=n) > 0
    drawn = c.votes >= 1
    return float(np.mean(c.keep[drawn] == real[drawn])), float(np.mean(real[drawn]))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("detector", ["none", "simulated", "blind"])
def test_two_satisficers_keep_what_either_drew(seed: int, detector: str) -> None:
    # each stops after one or two of up to six objects: most objects are drawn by one of them
    # alone, which a model fitted on the votes alone took for spurious boxes; a blind detector
    # (boxes on nothing only) is no evidence against them
    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(150, rng=rng, habits=("satisficer", "satisficer"), objects=(1, 6))
    preds = None
    if detector != "none":
        blind = {"recall": 0.0, "false_positives": 3.0} if detector == "blind" else {}
        preds = simulate_detector(scenes, rng=rng, **blind)  # type: ignore[arg-type]
    audit = audit_boxes(scenes.annotations, preds)
    ours, union = keep_accuracy(scenes, audit)
    assert union > 0.95  # few boxes on nothing
    assert ours >= union - 0.01
    alone = audit.consensus.votes[audit.candidate] == 1
    assert np.median(audit.wrong.spurious[alone]) < 0.2


def test_a_reliable_detector_still_shows_spurious_boxes() -> None:
    # a careful annotator and a sloppy one (0.15 boxes on nothing per image): the sloppy one's
    # lone boxes without a detection are mostly spurious, those with one are real
    rng = np.random.default_rng(3)
    scenes = simulate_scenes(300, rng=rng, habits=("careful", "sloppy"), objects=(1, 6))
    audit = audit_boxes(scenes.annotations, simulate_detector(scenes, rng=rng))
    ours, union = keep_accuracy(scenes, audit)
    assert ours > union + 0.01
    spurious = scenes.source < 0
    flagged = audit.wrong.spurious >= 0.5
    assert flagged[spurious].mean() > 0.5 and flagged[~spurious].mean() < 0.02


def test_a_detector_is_trusted_when_it_finds_the_agreed_objects() -> None:
    rng = np.random.default_rng(5)
    scenes = simulate_scenes(100, rng=rng, habits=("careful", "careful"), objects=(1, 6))
    for recall, trusted in ((0.85, True), (0.2, False)):
        preds = simulate_detector(scenes, rng=np.random.default_rng(6), recall=recall)
        c = audit_boxes(scenes.annotations, preds).consensus
        bins = detector_bins(c.detector_confidence)
        assert detector_is_reliable(bins, c.votes, None) is trusted
        # gold settles it too: real candidates the detector missed count against it
        known = np.where(c.votes >= 2, 1.0, np.nan)
        assert detector_is_reliable(bins, np.zeros_like(c.votes), known) is trusted
    assert not detector_is_reliable(bins[:5], c.votes[:5], None)  # too few to tell


@pytest.mark.parametrize("seed", [0, 1])
def test_three_satisficers_recall_counts_the_objects_nobody_drew(seed: int) -> None:
    # each draws one or two objects: about a fifth of the objects nobody draws, so recall
    # measured on the drawn objects alone is too high and the lone boxes look spurious
    rng = np.random.default_rng(seed)
    habits = ("satisficer", "satisficer", "satisficer")
    scenes = simulate_scenes(200, rng=rng, habits=habits, objects=(1, 6))
    audit = audit_boxes(scenes.annotations)
    ours, union = keep_accuracy(scenes, audit)
    assert ours >= union - 0.01
    ann = scenes.annotations
    drawn = [
        len(np.unique(scenes.source[(ann.annotator_index == a) & (scenes.source >= 0)]))
        for a in range(3)
    ]
    truth = np.array(drawn) / len(scenes.truth_image)
    assert np.abs(audit.model.recall - truth).max() < 0.06  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_annotators_burst_of_boxes_on_one_image_stays_spurious(seed: int) -> None:
    # three annotators on 40 images; the sloppy one adds 200 small boxes on nothing to one image.
    # Counted per object, that image outweighed the other 39 and made everybody else's recall
    # look low there, so the burst became real objects and the careful annotator a satisficer
    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(40, rng=rng, habits=("satisficer", "sloppy", "careful"))
    clean = audit_boxes(scenes.annotations)
    ann = scenes.annotations
    corner = rng.uniform(0, 600, (200, 2))
    burst = dataclasses.replace(
        ann,
        image=np.concatenate([ann.image, np.zeros(200, dtype=ann.image.dtype)]),
        annotator=np.concatenate(
            [ann.annotator, np.full(200, "sloppy", dtype=ann.annotator.dtype)]
        ),
        boxes=np.vstack([ann.boxes, np.hstack([corner, corner + 30])]),
        labels=np.concatenate([ann.labels, rng.integers(0, scenes.n_classes, 200)]),
    )
    audit = audit_boxes(burst)
    added = audit.candidate[len(ann.image) :]
    assert audit.consensus.keep[added].mean() < 0.05
    table = audit.annotators
    assert table.satisficer.tolist() == clean.annotators.satisficer.tolist()
    careful = table.annotator.tolist().index("careful")
    assert table.recall[careful] > 0.9

"""audit_boxes on simulated scenes: the satisficer is flagged, missing boxes rank high, scores
behave (in [0, 1], invariant to the order of annotators and images), and with one annotator and
a detector the audit is cleanlab's ObjectLab."""

from __future__ import annotations

from typing import Any

import cleanlab.object_detection.rank as cl_rank
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ls_cleanlab.detection import BoxAnnotations, BoxAudit, audit_boxes
from ls_cleanlab.detection._geometry import iou
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError
from ls_cleanlab.testing.scenes import Scenes, simulate_detector, simulate_scenes


@pytest.fixture(scope="module", params=[7, 11], ids=["seed 7", "seed 11"])
def scenes(request: pytest.FixtureRequest) -> Scenes:
    return simulate_scenes(200, rng=np.random.default_rng(request.param))


@pytest.fixture(scope="module")
def detector(scenes: Scenes) -> list[list[np.ndarray]]:
    return simulate_detector(scenes, rng=np.random.default_rng(8))


def truly_missing(scenes: Scenes, audit: BoxAudit) -> np.ndarray:
    """Whether each missing row is a true object its annotator did not draw (IoU >= 0.5)."""
    ann = scenes.annotations
    drawn = set(zip(ann.annotator_index.tolist(), scenes.source.tolist(), strict=True))
    rows = audit.missing
    out = np.zeros(len(rows.score), dtype=bool)
    for r in range(len(rows.score)):
        objects = np.flatnonzero(scenes.truth_image == rows.image[r])
        if not len(objects):
            continue
        overlap = iou(
            np.repeat(rows.boxes[r : r + 1], len(objects), 0), scenes.truth_boxes[objects]
        )
        best = int(objects[overlap.argmax()])
        out[r] = overlap.max() >= 0.5 and (int(rows.annotator[r]), best) not in drawn
    return out


def top_precision(scenes: Scenes, audit: BoxAudit, k: int) -> float:
    order = np.argsort(-audit.missing.score, kind="stable")[:k]
    return float(truly_missing(scenes, audit)[order].mean())


@pytest.mark.parametrize("with_detector", [False, True], ids=["annotators only", "and detector"])
def test_satisficer_is_flagged(scenes: Scenes, detector: Any, with_detector: bool) -> None:
    audit = audit_boxes(scenes.annotations, detector if with_detector else None)
    quality = audit.annotators
    flagged = dict(zip(quality.annotator.tolist(), quality.satisficer.tolist(), strict=True))
    assert flagged == {"careful": False, "satisficer": True, "sloppy": False}
    by_name = {name: i for i, name in enumerate(quality.annotator.tolist())}
    assert quality.recall[by_name["satisficer"]] < 0.4 < 0.85 < quality.recall[by_name["careful"]]
    assert quality.box_noise[by_name["sloppy"]] > 2 * quality.box_noise[by_name["careful"]]
    assert quality.localization[by_name["sloppy"]] < quality.localization[by_name["careful"]]


def test_missing_boxes_rank_high_without_a_detector(scenes: Scenes) -> None:
    audit = audit_boxes(scenes.annotations)
    assert top_precision(scenes, audit, 50) >= 0.95
    assert top_precision(scenes, audit, 200) >= 0.95


def test_missing_boxes_rank_higher_with_a_detector(scenes: Scenes, detector: Any) -> None:
    audit = audit_boxes(scenes.annotations, detector)
    assert top_precision(scenes, audit, 200) >= 0.97


def test_swapped_and_badly_placed_boxes_are_explained() -> None:
    box = [10.0, 10, 50, 50]
    ann = BoxAnnotations(
        image=np.zeros(6, dtype=int),
        annotator=np.array(["a", "b", "c", "a", "b", "c"]),
        boxes=np.array(
            [box, box, box, [100, 100, 140, 140], [100, 100, 140, 140], [112, 112, 152, 152]]
        ),
        labels=np.array([0, 0, 1, 2, 2, 2]),
    )
    wrong = audit_boxes(ann).wrong
    assert wrong.kind[2] == "swapped" and wrong.suggested_label[2] == 0
    assert "class 1, but class 0" in wrong.reason[2]
    assert wrong.kind[5] == "badly_placed" and wrong.badly_placed[5] > 0.4
    assert wrong.score[2] > max(wrong.score[0], wrong.score[1])


def test_identical_annotators_agree_perfectly(scenes: Scenes) -> None:
    ann = scenes.annotations
    careful = ann.annotator == "careful"
    copies = BoxAnnotations(
        image=np.tile(ann.image[careful], 3),
        annotator=np.repeat(["x", "y", "z"], careful.sum()),
        boxes=np.tile(ann.boxes[careful], (3, 1)),
        labels=np.tile(ann.labels[careful], 3),
        n_images=ann.n_images,
    )
    audit = audit_boxes(copies)
    quality = audit.annotators
    np.testing.assert_array_equal(quality.recall, 1.0)
    np.testing.assert_array_equal(quality.precision, 1.0)
    np.testing.assert_allclose(quality.localization, 1.0)
    assert not quality.satisficer.any()
    assert len(audit.missing.score) == 0
    assert audit.wrong.score.max() < 0.05


def test_one_annotator_and_a_detector_is_cleanlab(scenes: Scenes, detector: Any) -> None:
    labels = scenes.labels_of("sloppy")
    sole = BoxAnnotations.from_labels({"sloppy": labels})
    audit = audit_boxes(sole, detector)
    assert audit.mode == "cleanlab"
    overlooked = np.concatenate(
        cl_rank.compute_overlooked_box_scores(labels=labels, predictions=detector)
    )
    np.testing.assert_array_equal(
        np.sort(audit.missing.score), np.sort(1 - overlooked[~np.isnan(overlooked)])
    )
    swap = np.concatenate(cl_rank.compute_swap_box_scores(labels=labels, predictions=detector))
    badloc = np.concatenate(cl_rank.compute_badloc_box_scores(labels=labels, predictions=detector))
    np.testing.assert_array_equal(audit.wrong.swapped, 1 - swap)
    np.testing.assert_array_equal(audit.wrong.badly_placed, 1 - badloc)


def in_unit_interval(*arrays: np.ndarray) -> bool:
    return all(bool(((a >= 0) & (a <= 1)).all()) for a in arrays)


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), detector=st.booleans(), n_images=st.integers(1, 12))
def test_scores_are_probabilities(seed: int, detector: bool, n_images: int) -> None:
    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(n_images, rng=rng, objects=(0, 6))
    audit = audit_boxes(
        scenes.annotations, simulate_detector(scenes, rng=rng) if detector else None
    )
    assert in_unit_interval(
        audit.missing.score,
        audit.wrong.score,
        audit.wrong.swapped,
        audit.wrong.badly_placed,
        audit.wrong.spurious,
        audit.consensus.probability,
        audit.consensus.label_probability,
        audit.image_scores,
    )
    assert len(audit.wrong.score) == len(scenes.annotations.image)


def relabel(
    ann: BoxAnnotations, names: dict[str, str], rows: np.ndarray, images: np.ndarray
) -> BoxAnnotations:
    """The same annotations with annotators renamed, rows shuffled and images renumbered."""
    return BoxAnnotations(
        image=images[ann.image[rows]],
        annotator=np.array([names[a] for a in ann.annotator[rows]]),
        boxes=ann.boxes[rows],
        labels=ann.labels[rows],
        n_images=ann.n_images,
    )


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1))
def test_invariant_to_annotator_and_image_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(15, rng=rng)
    ann = scenes.annotations
    names = {"careful": "zed", "satisficer": "amy", "sloppy": "max"}
    rows = rng.permutation(len(ann.image))
    images = rng.permutation(int(ann.n_images or 0))
    before, after = audit_boxes(ann), audit_boxes(relabel(ann, names, rows, images))
    for old, new in names.items():
        i = list(before.annotators.annotator).index(old)
        j = list(after.annotators.annotator).index(new)
        for field in ("recall", "precision", "localization", "box_noise", "satisficing"):
            np.testing.assert_allclose(
                getattr(after.annotators, field)[j], getattr(before.annotators, field)[i], atol=1e-9
            )
    np.testing.assert_allclose(after.wrong.score, before.wrong.score[rows], atol=1e-9)
    np.testing.assert_allclose(after.image_scores[images], before.image_scores, atol=1e-9)
    np.testing.assert_allclose(
        np.sort(after.missing.score), np.sort(before.missing.score), atol=1e-9
    )


BAD_OPTIONS = {
    "min_iou zero": ({"min_iou": 0}, "loose_iou <= min_iou"),
    "loose above strict": ({"min_iou": 0.5, "loose_iou": 0.6}, "loose_iou <= min_iou"),
    "alpha above 1": ({"satisficer_alpha": 2}, "satisficer_alpha must be a number in"),
    "confidence text": ({"min_confidence": "high"}, "min_confidence must be a number"),
}


@pytest.mark.parametrize(("options", "match"), list(BAD_OPTIONS.values()), ids=list(BAD_OPTIONS))
def test_bad_options(scenes: Scenes, options: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        audit_boxes(scenes.annotations, **options)


def test_bad_inputs(scenes: Scenes, detector: Any) -> None:
    with pytest.raises(InvalidAnnotationsError, match="must be a BoxAnnotations"):
        audit_boxes(scenes.labels_of("careful"))  # type: ignore[arg-type]
    few_classes = [[per_image[0]] for per_image in detector]
    with pytest.raises(InvalidAnnotationsError, match="but the predictions have 1 classes"):
        audit_boxes(scenes.annotations, few_classes)


def test_images_with_different_annotators(scenes: Scenes, detector: Any) -> None:
    """Some images seen by one annotator, others by three: still one consensus audit."""
    ann = scenes.annotations
    solo = (ann.image % 2 == 0) & (ann.annotator != "careful")
    keep = ~solo
    n = int(ann.n_images or 0)
    pairs = [(i, a) for i in range(n) for a in ann.annotator_ids if i % 2 or a == "careful"]
    mixed = BoxAnnotations(
        image=ann.image[keep],
        annotator=ann.annotator[keep],
        boxes=ann.boxes[keep],
        labels=ann.labels[keep],
        n_images=n,
        seen_image=np.array([i for i, _ in pairs]),
        seen_annotator=np.array([a for _, a in pairs]),
    )
    audit = audit_boxes(mixed, detector)
    assert audit.mode == "consensus"
    np.testing.assert_array_equal(mixed.seen.sum(1), np.where(np.arange(n) % 2, 3, 1))
    assert in_unit_interval(audit.missing.score, audit.wrong.score, audit.image_scores)
    # nobody is blamed for images they did not see
    assert all(
        mixed.seen[i, a] for i, a in zip(audit.missing.image, audit.missing.annotator, strict=True)
    )


@pytest.mark.parametrize("with_detector", [False, True], ids=["no detector", "detector"])
def test_no_boxes_at_all(with_detector: bool) -> None:
    nothing = BoxAnnotations(
        image=np.zeros(0, dtype=int),
        annotator=np.array([], dtype=str),
        boxes=np.zeros((0, 4)),
        labels=np.zeros(0, dtype=int),
        n_images=3,
    )
    detector = [[np.array([[0.0, 0, 10, 10, 0.99]])]] * 3 if with_detector else None
    audit = audit_boxes(nothing, detector)
    assert len(audit.missing.score) == 0 and len(audit.wrong.score) == 0
    np.testing.assert_array_equal(audit.image_scores, 0.0)
    assert len(audit.consensus.image) == (3 if with_detector else 0)

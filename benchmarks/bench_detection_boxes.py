"""Object detection label quality: speed against cleanlab 2.9.0, and finding overlooked boxes.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_detection_boxes.py [--images 10000]
[--scenes 1000] [--seed 0]`` (the script sets the variable itself when unset).

(a) Speed. ``--images`` simulated images (``ls_cleanlab.testing.scenes``: 1-10 objects of
4 classes per 640x480 image, one sloppy annotator's boxes as the labels, a simulated detector's
predictions). cleanlab's and our ``get_label_quality_scores`` and ``find_label_issues`` (mask and
ranked) run on the same inputs in the same process, the outputs are checked equal, the times
and their ratio printed. cleanlab's ``find_label_issues`` runs as shipped: it starts a process
pool per IoU threshold.

(b) Finding overlooked boxes. ``--scenes`` simulated scenes, each annotated by three annotators
with habits (a satisficer who stops after the first 1-2 objects, a sloppy one with jittered
boxes, class errors and spurious boxes, a careful one) and a simulated detector: noisy boxes of
85 % of the true objects, the other 15 % missed, wrong class 5 % of the time, plus 0.5 false
positives per image of which a fifth are confident (module docstring of ``simulate``; the
detector is simulated from the truth, it does not look at pixels).

A positive is a (annotator, true object) pair the annotator did not draw. Each method ranks
candidate (annotator, box, score) rows; going down the ranking, a row is a hit when it overlaps
(IoU >= 0.5) a true object of its image that its annotator did not draw and that no earlier row
for that annotator found. AUPRC is the average precision at the hits over all positives (an
overlooked box never ranked counts as a miss). Methods:

* cleanlab: each annotator alone with the detector, ``compute_overlooked_box_scores``; rows are
  the detector boxes it scores (others get NaN), ranked by ``1 - score``;
* ours, 1 annotator: ``audit_boxes`` on each annotator alone with the detector (equal to
  cleanlab by construction, checked);
* ours, 3 annotators (+ detector, and without one): ``audit_boxes`` on all three at once.

(c) The same with a detector that looks at pixels instead of the simulated one, on the first
``--detector-scenes`` scenes (200 by default; 0 skips it): each scene's true objects are drawn as
airplanes, cars, buildings and trees (``ls_cleanlab.testing.aerial_boxes.draw_scene``, 640x480),
and the in-project detector (``ls_cleanlab.model.detector``, the one ``ls-cleanlab audit`` trains
on a box project) is trained on the three annotators' consensus boxes and cross-validated by
image (3 folds), so no scene is scored by a detector that saw its boxes. cleanlab and ours get
the same detector's boxes; the simulated detector's rows on the same scenes are repeated for
comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from ls_cleanlab.detection import (
    BoxAnnotations,
    audit_boxes,
    find_label_issues,
    get_label_quality_scores,
)
from ls_cleanlab.detection._geometry import iou
from ls_cleanlab.testing.scenes import IMAGE_SIZE, Scenes, simulate_detector, simulate_scenes


def _timed(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # cleanlab prints
        out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def speed(n_images: int, seed: int) -> None:
    import cleanlab.object_detection.filter as cl_filter
    import cleanlab.object_detection.rank as cl_rank

    rng = np.random.default_rng(seed)
    scenes = simulate_scenes(n_images, rng=rng, habits=("sloppy",))
    labels, predictions = scenes.labels_of("sloppy"), simulate_detector(scenes, rng=rng)
    print(f"(a) speed on {n_images:,} images, {len(scenes.annotations.image):,} given boxes")
    print(f"{'function':<40}{'cleanlab s':>12}{'ours s':>10}{'ratio':>8}  equal")
    rows = [
        (
            "get_label_quality_scores",
            cl_rank.get_label_quality_scores,
            get_label_quality_scores,
            {},
        ),
        ("find_label_issues (mask)", cl_filter.find_label_issues, find_label_issues, {}),
        (
            "find_label_issues (ranked)",
            cl_filter.find_label_issues,
            find_label_issues,
            {"return_indices_ranked_by_score": True},
        ),
    ]
    warm = simulate_scenes(3, rng=np.random.default_rng(seed), habits=("sloppy",))
    warm_inputs = (warm.labels_of("sloppy"), simulate_detector(warm, rng=rng))
    for _, theirs, ours, _ in rows[:2]:  # first calls pay for imports and caches
        _timed(theirs, *warm_inputs)
        _timed(ours, *warm_inputs)
    total_theirs = total_ours = 0.0
    for name, theirs, ours, kwargs in rows:
        want, t_theirs = _timed(theirs, labels, predictions, **kwargs)
        got, t_ours = _timed(ours, labels, predictions, **kwargs)
        total_theirs, total_ours = total_theirs + t_theirs, total_ours + t_ours
        equal = want.dtype == got.dtype and np.array_equal(want, got)
        print(f"{name:<40}{t_theirs:>12.2f}{t_ours:>10.3f}{t_theirs / t_ours:>8.0f}  {equal}")
    ratio = total_theirs / total_ours
    print(f"{'all three':<40}{total_theirs:>12.2f}{total_ours:>10.3f}{ratio:>8.0f}")


def _positives(scenes: Scenes) -> set[tuple[int, int]]:
    ann = scenes.annotations
    drawn = set(zip(ann.annotator_index.tolist(), scenes.source.tolist(), strict=True))
    return {
        (a, o)
        for a in range(ann.n_annotators)
        for o in range(len(scenes.truth_image))
        if (a, o) not in drawn
    }


def auprc(
    scenes: Scenes,
    annotator: np.ndarray,
    image: np.ndarray,
    boxes: np.ndarray,
    score: np.ndarray,
    positives: set[tuple[int, int]],
) -> float:
    """Average precision of candidate rows at finding the positive (annotator, object) pairs."""
    if not positives:
        return float("nan")
    starts = np.searchsorted(scenes.truth_image, np.arange(scenes.n_images + 1))
    found: set[tuple[int, int]] = set()
    hits = 0
    total = 0.0
    for rank, r in enumerate(np.argsort(-score, kind="stable"), start=1):
        objects = np.arange(starts[image[r]], starts[image[r] + 1])
        objects = [o for o in objects if (int(annotator[r]), int(o)) in positives]
        objects = [o for o in objects if (int(annotator[r]), int(o)) not in found]
        if not objects:
            continue
        overlap = iou(np.repeat(boxes[r : r + 1], len(objects), 0), scenes.truth_boxes[objects])
        if overlap.max() < 0.5:
            continue
        found.add((int(annotator[r]), int(objects[int(overlap.argmax())])))
        hits += 1
        total += hits / rank
    return total / len(positives)


def _cleanlab_rows(scenes: Scenes, predictions: list, who: int) -> tuple:  # type: ignore[type-arg]
    import cleanlab.object_detection.rank as cl_rank

    name = str(scenes.annotations.annotator_ids[who])
    scores = cl_rank.compute_overlooked_box_scores(
        labels=scenes.labels_of(name), predictions=predictions
    )
    image, boxes, score = [], [], []
    for i, (per_image, pred) in enumerate(zip(scores, predictions, strict=True)):
        rows = np.vstack(pred)
        keep = ~np.isnan(per_image)
        image.append(np.full(int(keep.sum()), i))
        boxes.append(rows[keep, :4])
        score.append(1 - per_image[keep])
    image_a = np.concatenate(image)
    return np.full(len(image_a), who), image_a, np.vstack(boxes), np.concatenate(score)


def _ours_alone(scenes: Scenes, predictions: list, who: int) -> tuple:  # type: ignore[type-arg]
    name = str(scenes.annotations.annotator_ids[who])
    missing = audit_boxes(
        BoxAnnotations.from_labels({name: scenes.labels_of(name)}), predictions
    ).missing
    return np.full(len(missing.image), who), missing.image, missing.boxes, missing.score


def _stack(parts: list[tuple]) -> tuple:  # type: ignore[type-arg]
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def overlooked(n_scenes: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 1)
    scenes = simulate_scenes(n_scenes, rng=rng)
    predictions = simulate_detector(scenes, rng=rng)
    positives = _positives(scenes)
    ids = [str(a) for a in scenes.annotations.annotator_ids]
    methods: dict[str, tuple] = {}  # type: ignore[type-arg]
    methods["cleanlab (1 annotator + detector)"] = _stack(
        [_cleanlab_rows(scenes, predictions, a) for a in range(len(ids))]
    )
    methods["ours, 1 annotator + detector"] = _stack(
        [_ours_alone(scenes, predictions, a) for a in range(len(ids))]
    )
    for label, preds in (
        ("ours, 3 annotators + detector", predictions),
        ("ours, 3 annotators", None),
    ):
        start = time.perf_counter()
        audit = audit_boxes(scenes.annotations, preds)
        seconds = time.perf_counter() - start
        m = audit.missing
        methods[label] = (m.annotator, m.image, m.boxes, m.score)
        flagged = [ids[a] for a in np.flatnonzero(audit.annotators.satisficer)]
        print(f"{label}: audit {seconds:.2f} s; satisficer flagged: {flagged}")
    same = all(
        np.array_equal(np.sort(x), np.sort(y))
        for x, y in zip(
            methods["cleanlab (1 annotator + detector)"],
            methods["ours, 1 annotator + detector"],
            strict=True,
        )
    )
    print(f"ours with one annotator equals cleanlab: {same}")
    print(
        f"\n(b) AUPRC of finding overlooked boxes, {n_scenes:,} scenes, "
        f"{len(scenes.truth_image):,} objects, {len(positives):,} overlooked (annotator, object)"
    )
    _table(scenes, methods, positives, ids)


def _table(
    scenes: Scenes,
    methods: dict[str, tuple],  # type: ignore[type-arg]
    positives: set[tuple[int, int]],
    ids: list[str],
) -> None:
    print(f"{'method':<48}{'all':>8}" + "".join(f"{name:>12}" for name in ids))
    base = None
    for label, (who, image, boxes, score) in methods.items():
        values = [auprc(scenes, who, image, boxes, score, positives)]
        for a in range(len(ids)):
            mine = who == a
            values.append(
                auprc(
                    scenes, who[mine], image[mine], boxes[mine], score[mine],
                    {p for p in positives if p[0] == a},
                )
            )  # fmt: skip
        base = values[0] if base is None else base
        cells = "".join(f"{v:>12.3f}" for v in values[1:])
        print(f"{label:<48}{values[0]:>8.3f}{cells}   x{values[0] / base:.2f}")


def in_project_detector(scenes: Scenes, seed: int) -> list[list[np.ndarray]]:
    """Out-of-sample boxes of the in-project detector on the scenes, drawn as pixels."""
    from ls_cleanlab.features.windows import channel_image
    from ls_cleanlab.model.detector_fit import out_of_sample_detections
    from ls_cleanlab.testing.aerial_boxes import CLASSES, draw_scene

    n, k = scenes.n_images, scenes.n_classes
    rng = np.random.default_rng(seed + 2)
    starts = np.searchsorted(scenes.truth_image, np.arange(n + 1))
    size = (int(IMAGE_SIZE[0]), int(IMAGE_SIZE[1]))
    pixels = [
        np.asarray(draw_scene(scenes.truth_boxes[starts[i] : starts[i + 1]],
                              scenes.truth_labels[starts[i] : starts[i + 1]], size=size, rng=rng))
        for i in range(n)
    ]  # fmt: skip
    ann = scenes.annotations
    consensus = audit_boxes(ann).consensus  # what the detector learns from: no truth
    boxes = [consensus.boxes[(consensus.image == i) & consensus.keep] for i in range(n)]
    labels = [consensus.labels[(consensus.image == i) & consensus.keep] for i in range(n)]
    known = [np.vstack([ann.boxes[ann.image == i], consensus.boxes[consensus.image == i]])
             for i in range(n)]  # fmt: skip
    sizes = np.tile(np.array(size, dtype=np.float64), (n, 1))
    found, _ = out_of_sample_detections(
        lambda i: channel_image(pixels[i]), n, boxes, labels, known, sizes, np.ones(n, bool),
        class_names=CLASSES[:k], n_folds=3, seed=seed, fit_final=False,
    )  # fmt: skip
    out = []
    for d in found:
        assert d is not None
        rows = np.hstack([d.boxes, d.scores[:, None]])
        out.append([rows[d.labels == c] for c in range(k)])
    return out


def with_detector(n_scenes: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 1)
    scenes = simulate_scenes(n_scenes, rng=rng)
    simulated = simulate_detector(scenes, rng=rng)
    start = time.perf_counter()
    pixels = in_project_detector(scenes, seed)
    seconds = time.perf_counter() - start
    positives = _positives(scenes)
    ids = [str(a) for a in scenes.annotations.annotator_ids]
    print(
        f"(c) AUPRC of finding overlooked boxes, {n_scenes:,} scenes drawn as images, "
        f"{len(positives):,} overlooked (annotator, object); in-project detector trained and "
        f"cross-validated in {seconds:.0f} s"
    )
    methods: dict[str, tuple] = {}  # type: ignore[type-arg]
    for label, preds in (("simulated detector", simulated), ("in-project detector", pixels)):
        methods[f"cleanlab (1 annotator + {label})"] = _stack(
            [_cleanlab_rows(scenes, preds, a) for a in range(len(ids))]
        )
        audit = audit_boxes(scenes.annotations, preds)
        m = audit.missing
        methods[f"ours, 3 annotators + {label}"] = (m.annotator, m.image, m.boxes, m.score)
        flagged = [ids[a] for a in np.flatnonzero(audit.annotators.satisficer)]
        print(f"  ours with the {label}: satisficer flagged: {flagged}")
    m = audit_boxes(scenes.annotations).missing
    methods["ours, 3 annotators (no detector)"] = (m.annotator, m.image, m.boxes, m.score)
    _table(scenes, methods, positives, ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--scenes", type=int, default=1_000)
    parser.add_argument("--detector-scenes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    speed(args.images, args.seed)
    print()
    overlooked(args.scenes, args.seed)
    if args.detector_scenes:
        print()
        with_detector(args.detector_scenes, args.seed)


if __name__ == "__main__":
    main()
